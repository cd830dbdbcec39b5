"""What a replayed folder holds besides mail: files that are not mail (a README, a workbook,
random bytes) are counted with a reason and never stored; a Maildir file that begins with an
mbox-style "From " line is still one mail."""

from __future__ import annotations

import os
import sqlite3

from ingest.cli import main
from tests.conftest import REPO
from tests.mails import BODY_OK, CORE, LEAD, complete_mail, mail
from tests.test_walking_skeleton import write_config

SAMPLE = REPO / "examples" / "mailbox"


def stored(tmp_path) -> list[str]:
    with sqlite3.connect(tmp_path / "ledger.db") as db:
        return [r[0] for r in db.execute("SELECT message_id_header FROM messages ORDER BY id")]


def test_files_that_are_not_mail_are_skipped_with_a_reason(tmp_path, capsys):
    folder = tmp_path / "maildir"
    for sub in ("cur", "new", "tmp"):
        (folder / sub).mkdir(parents=True)
    (folder / "cur" / "1660000000.M1P1.host:2,S").write_bytes(complete_mail("<real@x.example.jp>"))
    (folder / "cur" / "README.md").write_text("# 取り込み用メールボックス\n\n説明です。\n",
                                              encoding="utf-8")
    (folder / "cur" / "集計.xlsx").write_bytes(
        (REPO / "examples" / "forms" / "valid-submission.zip").read_bytes())
    (folder / "new" / "noise.bin").write_bytes(os.urandom(4096))
    (folder / "new" / "empty").write_bytes(b"")
    config = write_config(tmp_path)
    assert main(["--config", str(config), "replay", str(folder)]) == 0
    captured = capsys.readouterr()
    assert stored(tmp_path) == ["<real@x.example.jp>"]
    assert "1 通を読み込み" in captured.out
    assert "メールでないため取り込まなかったファイル 4 件" in captured.out, captured.out
    assert "zip・Office 文書のファイル 1" in captured.out and "空のファイル 1" in captured.out
    for name in ("README.md", "集計.xlsx", "noise.bin", "empty"):
        assert name in captured.err  # each named for the operator


def test_a_maildir_file_beginning_with_from_is_one_mail(tmp_path, capsys):
    body = BODY_OK + "\nFrom the secretariat's page we downloaded the forms.\n"
    raw = mail(f"<一通コンソーシアム>{CORE}", body, LEAD, "<from-line@x.example.jp>",
               attachments={"a.pdf": b"%PDF-1.4\n"})
    assert b"\nFrom the secretariat" in raw
    folder = tmp_path / "maildir"
    for sub in ("cur", "new", "tmp"):
        (folder / sub).mkdir(parents=True)
    file = folder / "cur" / "1660000000.M1P1.host:2,S"
    file.write_bytes(b"From " + LEAD.encode() + b" Wed Aug 10 10:00:00 2022\n" + raw)
    config = write_config(tmp_path)
    assert main(["--config", str(config), "replay", str(file)]) == 0  # the file alone
    assert main(["--config", str(config), "replay", str(folder)]) == 0  # and its Maildir
    out = capsys.readouterr().out
    assert "1 通を読み込み: 新規 1" in out and "1 通を読み込み: 新規 0, 既知 1" in out, out
    assert stored(tmp_path) == ["<from-line@x.example.jp>"]
    with sqlite3.connect(tmp_path / "ledger.db") as db:
        subject = db.execute("SELECT subject FROM messages").fetchone()[0]
    assert subject.startswith("<一通コンソーシアム>")


def test_an_mbox_is_still_split_into_its_mails(tmp_path, capsys):
    box = tmp_path / "box.mbox"
    box.write_bytes(b"".join(
        b"From sender@example.jp Wed Aug 10 10:00:00 2022\n" + complete_mail(f"<m{n}@x.example.jp>")
        + b"\n" for n in range(2)))
    config = write_config(tmp_path)
    assert main(["--config", str(config), "replay", str(box)]) == 0
    assert stored(tmp_path) == ["<m0@x.example.jp>", "<m1@x.example.jp>"]
    capsys.readouterr()


def test_a_maildir_file_without_a_delivery_time_is_dated_by_its_date_header(tmp_path, capsys):
    """A file's mtime is when it was copied, not when the mail came: Date: goes first."""
    folder = tmp_path / "maildir"
    for sub in ("cur", "new", "tmp"):
        (folder / sub).mkdir(parents=True)
    (folder / "cur" / "copied-by-hand.eml").write_bytes(complete_mail("<dated@x.example.jp>"))
    config = write_config(tmp_path)
    assert main(["--config", str(config), "replay", str(folder)]) == 0
    capsys.readouterr()
    with sqlite3.connect(tmp_path / "ledger.db") as db:
        row = db.execute("SELECT received_at, received_at_source FROM messages").fetchone()
    assert row == ("2022-08-10T01:00:00+00:00", "date")
