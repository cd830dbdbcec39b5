"""One real mail travels IMAP → ledger → reply; replays add nothing the second time."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import datetime
from email import message_from_bytes
from email.header import decode_header, make_header
from pathlib import Path

import pytest

from ingest.cli import main
from tests.conftest import REPO
from tests.mails import CORE, JST, LEAD, VALID_CONSORTIUM, complete_mail, mail

EXAMPLES = REPO / "examples" / "mailbox"


def write_config(tmp: Path, *, imap=None, smtp=None) -> Path:
    lines = [
        "[paths]", 'ledger = "ledger.db"', 'blobs = "blobs"', 'outbox = "outbox"',
        "[replies]", "business_hours_only = false", "approve_deficiencies = false",
    ]
    if imap:
        lines += ["[imap]", f'host = "{imap.host}"', f"port = {imap.port}", 'tls = "none"',
                  f'user = "{imap.user}"', 'password_env = "TEST_IMAP_PASSWORD"']
        os.environ["TEST_IMAP_PASSWORD"] = imap.password
    if smtp:
        lines += ["[smtp]", f'host = "{smtp.host}"', f"port = {smtp.port}", 'tls = "none"',
                  'user = ""']
    path = tmp / "config.toml"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def export(config: Path, capsys: pytest.CaptureFixture[str]) -> list[dict]:
    capsys.readouterr()
    assert main(["--config", str(config), "export", "submissions", "--format", "jsonl"]) == 0
    return [json.loads(line) for line in capsys.readouterr().out.splitlines()]


def subject_of(raw: bytes) -> str:
    return str(make_header(decode_header(message_from_bytes(raw)["Subject"])))


def test_poll_fetches_records_and_sends_once(dovecot, smtp_server, tmp_path, capsys):
    good = complete_mail("<good-1@minato-seiki.example.jp>")
    bad = mail(f"<不備コンソーシアム>{CORE}", "よろしくお願いします。\n",
               "sato@fubi.example.jp", "<bad-1@fubi.example.jp>", attachments={"a.pdf": b"%PDF-1.4"})
    dovecot.deliver(good, internaldate=datetime(2022, 8, 10, 10, 0, tzinfo=JST))
    dovecot.deliver(bad, internaldate=datetime(2022, 8, 10, 11, 0, tzinfo=JST))
    config = write_config(tmp_path, imap=dovecot, smtp=smtp_server)

    assert main(["--config", str(config), "poll", "--once"]) == 0
    rows = {r["consortium"]: r for r in export(config, capsys)}
    assert rows[VALID_CONSORTIUM]["findings"] == []
    assert rows[VALID_CONSORTIUM]["replies"][0]["kind"] == "receipt"
    assert rows[VALID_CONSORTIUM]["replies"][0]["status"] == "sent"
    assert "SENDER_DETAILS_MISSING" in rows["不備コンソーシアム"]["findings"]
    assert rows["不備コンソーシアム"]["replies"][0]["kind"] == "deficiency"

    received = smtp_server.wait_for(2)
    by_to = {m.rcpt_tos[0]: m for m in received}
    receipt = by_to[LEAD]
    assert subject_of(receipt.data).startswith(f"【受付確認】<{VALID_CONSORTIUM}>")
    assert receipt.message["In-Reply-To"] == "<good-1@minato-seiki.example.jp>"
    assert receipt.message["Auto-Submitted"] == "auto-replied"
    assert subject_of(by_to["sato@fubi.example.jp"].data).startswith("【不備連絡】")

    # A second poll adds nothing and sends nothing.
    assert main(["--config", str(config), "poll", "--once"]) == 0
    assert len(export(config, capsys)) == 2
    assert len(smtp_server.messages) == 2


def test_poll_never_changes_the_mailbox(dovecot, tmp_path):
    dovecot.deliver(complete_mail("<a@example.jp>"))
    config = write_config(tmp_path, imap=dovecot)
    assert main(["--config", str(config), "poll", "--once"]) == 0
    client = dovecot.client()
    try:
        client.select_folder("INBOX", readonly=True)
        flags = client.get_flags(client.search(["ALL"]))
    finally:
        client.logout()
    assert all(b"\\Seen" not in f for f in flags.values())


def test_replaying_the_bundled_mailbox_twice_gives_the_same_ledger(tmp_path, capsys):
    config = write_config(tmp_path)
    assert main(["--config", str(config), "replay", str(EXAMPLES)]) == 0
    first = export(config, capsys)
    assert main(["--config", str(config), "replay", str(EXAMPLES)]) == 0
    assert export(config, capsys) == first
    kinds = {r["kind"] for s in first for r in s["replies"]}
    assert {"receipt", "deficiency"} <= kinds
    assert any("NOT_A_SUBMISSION" in s["findings"] for s in first)
    assert all(r["replies"] == [] for r in first if "NOT_A_SUBMISSION" in r["findings"])
    for key in ("id", "consortium", "lead_email", "status", "findings", "replies", "messages"):
        assert all(key in row for row in first)
    files = sorted((tmp_path / "outbox").glob("*.eml"))
    assert len(files) == sum(len(s["replies"]) for s in first)


def test_dry_run_renders_replies_but_queues_nothing(tmp_path, capsys):
    config = write_config(tmp_path)
    assert main(["--config", str(config), "replay", str(EXAMPLES), "--dry-run"]) == 0
    rows = export(config, capsys)
    assert rows and all(r["replies"] == [] for r in rows)
    rendered = list((tmp_path / "outbox" / "dry-run").glob("*.eml"))
    assert rendered
    assert not list((tmp_path / "outbox").glob("*.eml"))


def test_unparseable_mail_is_recorded_and_the_run_goes_on(tmp_path, capsys):
    folder = tmp_path / "mails"
    folder.mkdir()
    (folder / "a.eml").write_bytes(complete_mail("<a@x>"))
    (folder / "b.eml").write_bytes(b"From: x@example.jp\r\nContent-Type: multipart/mixed\r\n"
                                   b"\r\n\x00\xff garbage \r\n\r\n\x00")
    (folder / "c.bin").write_bytes(b"\x00\xff garbage \r\n\r\n\x00")  # not a mail at all
    config = write_config(tmp_path)
    assert main(["--config", str(config), "replay", str(folder)]) == 0
    captured = capsys.readouterr()
    assert "2 通を読み込み" in captured.out
    assert "取り込まなかったファイル 1 件(バイナリデータ 1)" in captured.out
    assert "c.bin(バイナリデータ)" in captured.err


def test_no_config_uses_embedded_defaults(tmp_path):
    result = subprocess.run(
        [sys.executable, "-m", "ingest.cli", "replay", str(EXAMPLES)],
        cwd=tmp_path, capture_output=True, text=True, timeout=120,
        env={**os.environ, "PYTHONPATH": str(REPO)},
    )
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "var" / "ledger.db").is_file()
    assert list((tmp_path / "var" / "outbox").glob("*.eml"))
    assert "replay:" in result.stdout


def test_inline_password_in_config_is_refused(tmp_path, capsys):
    config = tmp_path / "config.toml"
    config.write_text('[imap]\nhost = "h"\npassword = "secret123"\n', encoding="utf-8")
    assert main(["--config", str(config), "status"]) == 2
    err = capsys.readouterr().err
    assert "password_env" in err and "secret123" not in err


def test_a_submission_the_checks_fail_on_is_set_aside_and_the_rest_answered(
    tmp_path, capsys, monkeypatch
):
    import ingest.pipeline

    real = ingest.pipeline.evaluate

    def failing_for_one(ledger, settings, submission, now, *args):
        if ledger.db["submissions"].get(submission)["lead_email"] == "broken@example.jp":
            raise RuntimeError("form reader fell over")
        return real(ledger, settings, submission, now, *args)

    monkeypatch.setattr(ingest.pipeline, "evaluate", failing_for_one)
    folder = tmp_path / "mails"
    folder.mkdir()
    (folder / "a.eml").write_bytes(complete_mail("<a@x>"))
    (folder / "b.eml").write_bytes(mail(f"<別>{CORE}", "本文", "broken@example.jp", "<b@x>",
                                        attachments={"a.pdf": b"%PDF-1.4"}))
    config = write_config(tmp_path)
    assert main(["--config", str(config), "replay", str(folder)]) == 0
    rows = {r["lead_email"]: r for r in export(config, capsys)}
    assert rows[LEAD]["replies"][0]["kind"] == "receipt"
    assert rows["broken@example.jp"]["status"] == "needs_review"
    assert rows["broken@example.jp"]["outcome"] == "error"
    assert main(["--config", str(config), "replay", str(folder)]) == 0  # not retried in a loop


def test_a_bounce_of_our_reply_in_a_replayed_folder_is_linked_to_it(tmp_path, capsys):
    folder = tmp_path / "mails"
    folder.mkdir()
    (folder / "1.eml").write_bytes(complete_mail(
        "<bounced@x>", received="Wed, 10 Aug 2022 10:00:00 +0900"))
    bounce = (
        b"Received: from mx by mx.example.go.jp; Thu, 11 Aug 2022 09:00:00 +0900\r\n"
        b"Return-Path: <>\r\nFrom: MAILER-DAEMON@mx.example.jp\r\n"
        b"To: it-renkei@example.go.jp\r\nSubject: failure notice\r\n"
        b"Message-ID: <dsn-1@mx.example.jp>\r\nDate: Thu, 11 Aug 2022 09:00:00 +0900\r\n\r\n"
        b"Hi. This is the qmail-send program. I'm afraid I wasn't able to deliver your message.\r\n"
        b"--- Below this line is a copy of the message.\r\n\r\n"
        b"Message-ID: <renkei-intake.1.receipt@example.go.jp>\r\nSubject: receipt\r\n")
    (folder / "2.eml").write_bytes(bounce)
    config = write_config(tmp_path)
    assert main(["--config", str(config), "replay", str(folder)]) == 0
    rows = export(config, capsys)
    assert [r["status"] for r in rows[0]["replies"]] == ["bounced"]
    assert rows[1]["findings"] == ["NOT_A_SUBMISSION"] and rows[1]["replies"] == []
    assert main(["--config", str(config), "replay", str(folder)]) == 0  # linked once, no error
    assert [r["status"] for r in export(config, capsys)[0]["replies"]] == ["bounced"]


def test_an_empty_mailbox_is_a_good_poll(dovecot, tmp_path, capsys):
    """A folder with no mail yet (the first days of the season) is a successful poll: the
    heartbeat is written, `status` does not warn, and the staff lists say there is nothing."""
    config = write_config(tmp_path, imap=dovecot)
    assert main(["--config", str(config), "poll", "--once"]) == 0
    assert "0 通を読み込み" in capsys.readouterr().out
    assert main(["--config", str(config), "status", "--json"]) == 0
    status = json.loads(capsys.readouterr().out)
    assert status["warnings"] == [] and status["submissions"] == {}
    assert list(status["heartbeats"]) == [f"poll:{dovecot.user}@{dovecot.host}/INBOX"]
    assert main(["--config", str(config), "ledger", "submissions"]) == 0
    assert "条件に合う申請はありません" in capsys.readouterr().out
