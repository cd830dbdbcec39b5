#!/usr/bin/env bash
# Install everything the tests need (Dovecot and Chromium via apt-get when missing, a venv with
# the project and its test extras) and run the whole suite: ruff, then pytest against real
# servers (Dovecot, aiosmtpd) and a real headless browser.
set -euo pipefail
cd "$(dirname "$0")/.."

need=()
command -v dovecot >/dev/null 2>&1 || [ -x /usr/sbin/dovecot ] || need+=(dovecot-imapd)
command -v chromium >/dev/null 2>&1 || need+=(chromium)
command -v openssl >/dev/null 2>&1 || need+=(openssl)
command -v zip >/dev/null 2>&1 || need+=(zip)  # Info-ZIP writes the zip-name test archives
# A Japanese font, so the console screenshots the suite writes are readable (not tofu).
[ -e /usr/share/fonts/opentype/ipafont-gothic/ipag.ttf ] || need+=(fonts-ipafont-gothic)
if [ ${#need[@]} -gt 0 ]; then
    echo "== installing ${need[*]} with apt-get"
    sudo_cmd=""
    [ "$(id -u)" -ne 0 ] && sudo_cmd="sudo"
    $sudo_cmd apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq "${need[@]}" >/dev/null
    # The packaged Dovecot service is not needed: the tests start their own instances.
    $sudo_cmd systemctl disable --now dovecot >/dev/null 2>&1 || true
fi

. scripts/venv.sh
ensure_venv
echo "== installing renkei-intake with its test dependencies"
.venv/bin/python -m pip install -q -e '.[test]'

echo "== ruff"
.venv/bin/ruff check .
echo "== pytest"
exec .venv/bin/python -m pytest -q "$@"
