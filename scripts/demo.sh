#!/usr/bin/env bash
# Install renkei-intake into ./.venv and replay the bundled sample mailbox with no server and no
# configuration: the ledger goes to ./var/ledger.db and every reply to ./var/outbox/*.eml.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/venv.sh
ensure_venv
.venv/bin/python -m pip install -q .
.venv/bin/renkei-intake replay examples/mailbox
.venv/bin/renkei-intake status
echo "== replies (deficiency notices wait for staff approval: renkei-intake outbox approve ID):"
.venv/bin/renkei-intake outbox list
echo "== submissions (renkei-intake export submissions --format jsonl):"
.venv/bin/renkei-intake export submissions --format jsonl
