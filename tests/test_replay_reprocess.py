"""Operators: replay an IMAP folder without sending; reprocess after a rule change."""

from __future__ import annotations

from datetime import datetime

from ingest.cli import main
from tests.mails import CORE, JST, VALID_CONSORTIUM, complete_mail, mail
from tests.test_walking_skeleton import export, write_config


def test_replay_imap_url_records_without_sending_or_changing_the_mailbox(
    dovecot, smtp_server, tmp_path, capsys
):
    dovecot.deliver(complete_mail("<r1@example.jp>"),
                    internaldate=datetime(2022, 8, 10, 9, 0, tzinfo=JST))
    dovecot.deliver(mail(f"<乙>{CORE}", "本文", "b@example.jp", "<r2@example.jp>",
                         attachments={"a.pdf": b"%PDF-1.4"}),
                    internaldate=datetime(2022, 9, 10, 0, 30, tzinfo=JST))
    config = write_config(tmp_path, imap=dovecot, smtp=smtp_server)
    url = f"imap://{dovecot.user}@{dovecot.host}:{dovecot.port}/INBOX"
    assert main(["--config", str(config), "replay", url]) == 0
    rows = {r["consortium"]: r for r in export(config, capsys)}
    assert rows[VALID_CONSORTIUM]["findings"] == []
    assert rows[VALID_CONSORTIUM]["replies"][0]["status"] == "queued"
    # INTERNALDATE 2022-09-10 00:30 JST is after the deadline, whatever Date: says.
    assert "OUTSIDE_PERIOD" in rows["乙"]["findings"]
    assert smtp_server.messages == []
    assert main(["--config", str(config), "replay", url]) == 0
    assert len(export(config, capsys)) == 2


def test_replay_url_with_a_password_is_refused(tmp_path, capsys):
    config = write_config(tmp_path)
    assert main(["--config", str(config), "replay", "imap://u:secret@host/INBOX"]) == 2
    assert "secret" not in capsys.readouterr().err


def test_reprocess_after_a_period_change_queues_only_the_changed_answer(tmp_path, capsys):
    folder = tmp_path / "mails"
    folder.mkdir()
    for n, day in enumerate((10, 20)):
        # Two consortia whose forms are the valid sample (the name mismatch is the same for both).
        raw = complete_mail(f"<p{n}@example.jp>", received=f"{day} Aug 2022 10:00:00 +0900")
        (folder / f"{n}.eml").write_bytes(raw)
    config = write_config(tmp_path)
    assert main(["--config", str(config), "replay", str(folder)]) == 0
    assert main(["--config", str(config), "reprocess", "--all"]) == 0
    assert "結果が変わったもの 0 件" in capsys.readouterr().out

    text = config.read_text(encoding="utf-8")
    config.write_text(text + '[program]\nperiod_end = "2022-08-15T23:59:59+09:00"\n',
                      encoding="utf-8")
    assert main(["--config", str(config), "reprocess", "--all"]) == 0
    out = capsys.readouterr().out
    assert "申請 2: DUPLICATE_SUBMISSION → DUPLICATE_SUBMISSION OUTSIDE_PERIOD" in out
    first, second = export(config, capsys)
    assert [r["kind"] for r in first["replies"]] == ["receipt"]
    assert [r["kind"] for r in second["replies"]] == ["receipt", "out_of_period"]
