"""Excel export and ledger backup, on a ledger replayed through the real pipeline."""

from __future__ import annotations

import sqlite3
import threading
from datetime import datetime
from pathlib import Path

import pytest
from openpyxl import load_workbook

from ingest import ledger_cmd
from ingest.export import ExportError
from ingest.export_xlsx import write_xlsx
from tests.test_staff_queries import open_ledger, replayed, run_cli, submission_of

__all__ = ["replayed"]  # the module-scoped fixture, shared with test_staff_queries


def test_workbook_has_four_japanese_sheets_with_every_row(replayed, tmp_path):
    ledger = open_ledger(replayed)
    out = tmp_path / "台帳.xlsx"
    assert write_xlsx(ledger, out) == ledger.db["submissions"].count
    book = load_workbook(out)
    assert book.sheetnames == ["申請", "指摘", "メール", "返信"]
    for sheet, table in (("申請", "submissions"), ("指摘", "findings"), ("メール", "messages"),
                         ("返信", "replies")):
        ws = book[sheet]
        assert ws.max_row - 1 == ledger.db[table].count, sheet
        assert ws.freeze_panes == "A2"
        assert ws.auto_filter.ref == f"A1:{ws.cell(1, ws.max_column).column_letter}{ws.max_row}"
        assert ws["A1"].font.bold
        headers = [c.value for c in ws[1]]
        assert all(h and not h.isascii() or h == "Message-ID" or h.startswith("SMTP")
                   for h in headers), headers


def test_times_are_excel_dates_in_jst(replayed, tmp_path):
    ledger = open_ledger(replayed)
    out = tmp_path / "out.xlsx"
    write_xlsx(ledger, out)
    book = load_workbook(out)
    mails = book["メール"]
    headers = [c.value for c in mails[1]]
    received = headers.index("受信日時")
    subject = headers.index("件名")
    row = next(r for r in mails.iter_rows(min_row=2) if "ひかりIT" in (r[subject].value or ""))
    cell = row[received]
    assert cell.is_date
    assert cell.value == datetime(2022, 8, 12, 16, 30)  # the Received time, 16:30 JST, naive
    assert cell.number_format == "yyyy/mm/dd hh:mm"
    sub_sheet = book["申請"]
    sub_headers = [c.value for c in sub_sheet[1]]
    first = sub_headers.index("最初の受信日時")
    assert all(r[first].value is None or isinstance(r[first].value, datetime)
               for r in sub_sheet.iter_rows(min_row=2))
    # Columns are sized to their content: the subject column is wider than the ID column.
    width = mails.column_dimensions
    assert width[mails.cell(1, subject + 1).column_letter].width > width["A"].width


def test_text_from_strangers_stays_text(replayed, tmp_path):
    ledger = open_ledger(replayed)
    mid = ledger.db.execute("SELECT min(id) FROM messages").fetchone()[0]
    original = ledger.db["messages"].get(mid)["subject"]
    hostile = '=HYPERLINK("http://evil.example/","開く")\x07\x1b'
    ledger.db["messages"].update(mid, {"subject": hostile})
    try:
        out = tmp_path / "hostile.xlsx"
        write_xlsx(ledger, out)
    finally:
        ledger.db["messages"].update(mid, {"subject": original})
    ws = load_workbook(out)["メール"]
    headers = [c.value for c in ws[1]]
    row = next(r for r in ws.iter_rows(min_row=2) if r[0].value == mid)
    cell = row[headers.index("件名")]
    assert cell.data_type == "s"
    # control characters shown, not hidden: staff see that the subject carried them
    assert cell.value == '=HYPERLINK("http://evil.example/","開く")\\x07\\x1b'


def test_export_of_an_empty_ledger(tmp_path):
    from state.blobs import BlobStore
    from state.ledger import Ledger

    ledger = Ledger(tmp_path / "empty.db", BlobStore(tmp_path / "blobs"))
    with pytest.raises(ExportError, match="出力先のフォルダ .* がありません"):
        write_xlsx(ledger, tmp_path / "sub" / "empty.xlsx")  # export makes no folder
    assert not (tmp_path / "sub").exists()
    out = tmp_path / "empty.xlsx"
    assert write_xlsx(ledger, out) == 0
    book = load_workbook(out)
    assert [book[s].max_row for s in book.sheetnames] == [1, 1, 1, 1]
    assert not list(out.parent.glob(".*.tmp"))  # written beside, then renamed into place


# --- backup ---------------------------------------------------------------------------------


def _counts(path: Path) -> dict[str, int]:
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        return {t: conn.execute(f"SELECT count(*) FROM {t}").fetchone()[0]
                for t in ("messages", "submissions", "findings", "events")}
    finally:
        conn.close()


def test_backup_is_a_verified_self_contained_copy(replayed, tmp_path):
    ledger = open_ledger(replayed)
    written = ledger_cmd.backup(ledger, tmp_path)
    assert written.parent == tmp_path and written.name.startswith("ledger-")
    assert _counts(written) == _counts(ledger.path)
    conn = sqlite3.connect(written)
    try:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "delete"
        # The copy has the staff views and search too: it is a working ledger.
        assert conn.execute("SELECT count(*) FROM submissions_overview").fetchone()[0] > 0
    finally:
        conn.close()
    assert not list(tmp_path.glob("*.partial"))


def test_backup_while_another_connection_is_writing(replayed, tmp_path):
    ledger = open_ledger(replayed)
    before = _counts(ledger.path)
    writer = sqlite3.connect(ledger.path, isolation_level=None, check_same_thread=False)
    writer.execute("BEGIN IMMEDIATE")
    writer.execute("INSERT INTO events (at, entity, event, actor) VALUES ('x', 'system', "
                   "'half-written', 'test')")
    done = threading.Event()
    result: dict[str, Path] = {}

    def run() -> None:
        result["path"] = ledger_cmd.backup(ledger, tmp_path / "during.db")
        done.set()

    thread = threading.Thread(target=run)
    thread.start()
    assert done.wait(30), "backup blocked behind an open write transaction"
    writer.execute("ROLLBACK")
    writer.close()
    thread.join()
    assert _counts(result["path"]) == before  # the snapshot, without the uncommitted row


def test_backup_refuses_to_overwrite_the_ledger_and_reports_missing_folders(replayed, tmp_path):
    ledger = open_ledger(replayed)
    with pytest.raises(ledger_cmd.BackupError, match="台帳そのもの"):
        ledger_cmd.backup(ledger, ledger.path)
    code, _, err = run_cli(["--config", str(replayed), "ledger", "backup",
                            str(tmp_path / "no" / "such" / "dir" / "x.db")])
    assert code == 2 and "ありません" in err


def test_a_copy_that_does_not_verify_is_not_kept(tmp_path):
    # A page of a real ledger overwritten (a bad disk, a copy cut short) and a bare header.
    damaged = tmp_path / "damaged.db"
    conn = sqlite3.connect(damaged)
    conn.execute("CREATE TABLE messages (id INTEGER PRIMARY KEY, subject TEXT)")
    conn.execute("CREATE TABLE submissions (id INTEGER PRIMARY KEY)")
    conn.execute("CREATE INDEX messages_subject ON messages(subject)")
    conn.executemany("INSERT INTO messages (subject) VALUES (?)",
                     [(f"件名{i:05d}" * 5,) for i in range(3000)])
    conn.commit()
    conn.close()
    data = bytearray(damaged.read_bytes())
    page = 4096
    data[page * 5 + 100: page * 5 + 1600] = b"\xff" * 1500
    damaged.write_bytes(bytes(data))
    header_only = tmp_path / "bad.db"
    header_only.write_bytes(b"SQLite format 3\x00" + b"\x00" * 200)
    for bad in (damaged, header_only):
        with pytest.raises(ledger_cmd.BackupError, match="検証に失敗"):
            ledger_cmd._verify(bad)
        assert not bad.exists()


def test_backup_verb_keeps_the_newest_copies(replayed, tmp_path):
    folder = tmp_path / "backups"
    folder.mkdir()
    old = ["ledger-20220801-000000.db", "ledger-20220802-000000.db", "ledger-20220803-000000.db"]
    for name in old:
        (folder / name).write_bytes(b"old")
    bystanders = ["ledger-notes.db", "README.txt", "ledger-20220801-000000.db.partial"]
    for name in bystanders:
        (folder / name).write_text("keep me")
    code, out, err = run_cli(["--config", str(replayed), "ledger", "backup", str(folder),
                              "--keep", "2"])
    assert code == 0, err
    new = Path(out.strip())
    assert new.parent == folder and new.exists()
    left = sorted(p.name for p in folder.iterdir())
    assert left == sorted([new.name, "ledger-20220803-000000.db", *bystanders])


def test_prune_orders_by_the_time_in_the_name(tmp_path):
    names = ["ledger-20230101-000000.db", "ledger-20221231-235959.db",
             "ledger-20220101-120000.db"]
    for name in names:
        (tmp_path / name).write_bytes(b"x")
    removed = ledger_cmd.prune_backups(tmp_path, 1)
    assert sorted(p.name for p in removed) == sorted(names[1:])
    assert [p.name for p in tmp_path.iterdir()] == [names[0]]
    with pytest.raises(ValueError):
        ledger_cmd.prune_backups(tmp_path, 0)


def test_backup_of_a_submission_detail_matches(replayed, tmp_path):
    """A backup opened as a ledger answers staff questions exactly like the original."""
    from state import queries
    from state.blobs import BlobStore
    from state.ledger import Ledger

    ledger = open_ledger(replayed)
    copy_path = ledger_cmd.backup(ledger, tmp_path / "copy.db")
    copy = Ledger(copy_path, BlobStore(replayed.parent / "blobs"))
    sid = submission_of(ledger, "<tanaka-1@hikari.example.jp>")
    assert queries.submission_detail(copy, sid) == queries.submission_detail(ledger, sid)


def test_one_jst_formatter_serves_screens_and_spreadsheets():
    from ingest import export, screen
    from replies import address

    utc = "2022-08-20T16:15:00+00:00"  # the next day in Japan
    assert screen.jst(utc) == "2022-08-21 01:15"
    assert screen.jst(utc, export.EXCEL_TIME) == "2022/08/21 01:15"
    assert screen.jst("昨日\x1b[2J") == "昨日\\x1b[2J"  # unreadable: shown as it is, made visible
    assert screen.jst(None, export.EXCEL_TIME) == ""
    # one formatter and one recipient rule: the old twins are gone
    assert not hasattr(export, "excel_jst") and not hasattr(address, "reply_recipient")
