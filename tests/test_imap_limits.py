"""A mail over the size limit is recorded from its headers and quarantined, body left unread."""

from __future__ import annotations

import sqlite3

from ingest.cli import main
from tests.mails import CORE, complete_mail, mail
from tests.test_walking_skeleton import export, write_config


def test_oversize_mail_is_quarantined_from_headers(dovecot, tmp_path, capsys):
    big = mail(f"<大容量>{CORE}", "本文", "big@example.jp", "<big@example.jp>",
               attachments={"scan.pdf": b"%PDF-1.4\n" + b"0" * 400_000})
    dovecot.deliver(big)
    dovecot.deliver(complete_mail("<small@example.jp>"))
    config = write_config(tmp_path, imap=dovecot)
    config.write_text(config.read_text().replace(
        'password_env = "TEST_IMAP_PASSWORD"',
        'password_env = "TEST_IMAP_PASSWORD"\nmax_message_bytes = 300000'))
    assert main(["--config", str(config), "poll", "--once"]) == 0
    assert "隔離 1" in capsys.readouterr().out
    with sqlite3.connect(tmp_path / "ledger.db") as db:
        state, problem, size = db.execute(
            "SELECT state, problem, size FROM messages WHERE message_id_header = '<big@example.jp>'"
        ).fetchone()
    assert state == "quarantined" and "サイズ上限超過" in problem
    assert size < 10_000  # only the headers were downloaded
    assert len(export(config, capsys)) == 1  # the small one became a submission
    assert main(["--config", str(config), "poll", "--once"]) == 0
    assert "新規 0" in capsys.readouterr().out  # never fetched or retried again
