"""Faults between renkei-intake and its servers, and on its own disk: a TCP proxy drops, stalls
and slows IMAP and SMTP (tests/faultproxy.py), the SMTP server answers 421/451/550, another
process locks the ledger, the blob store's file system fills up. Each time the outcome is one
clear error line (exit status 2) or a retry, and nothing is lost or recorded twice."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from tests.crash_helpers import (
    run_cli,
    write_crash_config,
)
from tests.faultproxy import Fault, FaultProxy
from tests.mails import CORE, mail


def small_mails(tag: str, n: int) -> list[tuple[str, bytes]]:
    """Deficient submissions (cheap to check), each from its own sender, ~3 KB each."""
    out = []
    for i in range(n):
        msgid = f"<m{i}.{tag}@faults.example.jp>"
        raw = mail(f"<故障{i:03d}コンソーシアム>{CORE}", "よろしくお願いします。\n" * 40,
                   f"f{i}@faults.example.jp", msgid, attachments={"a.pdf": b"%PDF-1.4\n" * 100})
        out.append((msgid, raw))
    return out


def ledger_ids(tmp_path: Path) -> list[str]:
    with sqlite3.connect(tmp_path / "ledger.db") as db:
        return [r[0] for r in db.execute("SELECT message_id_header FROM messages")]


def one_line_error(stderr: str) -> str:
    lines = [line for line in stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and "Traceback" not in stderr, stderr
    assert lines[0].startswith("renkei-intake: "), stderr
    return lines[0]


def test_imap_dropped_mid_fetch_loses_and_doubles_nothing(dovecot, tmp_path):
    mails = small_mails("drop", 60)
    for _, raw in mails:
        dovecot.deliver(raw)
    with FaultProxy(dovecot.host, dovecot.port) as proxy:
        config = write_crash_config(tmp_path, imap=dovecot, imap_port=proxy.port)
        proxy.plan(Fault(drop_after=120_000))
        first = run_cli(config, "poll", "--once")
        assert proxy.reached.is_set()
        assert first.code == 2
        error = one_line_error(first.stderr)
        assert "IMAP" in error
        kept = ledger_ids(tmp_path)
        assert 0 < len(kept) < 60
        second = run_cli(config, "poll", "--once")
        assert second.code == 0, second.stderr
    ids = ledger_ids(tmp_path)
    assert sorted(ids) == sorted(m for m, _ in mails)
