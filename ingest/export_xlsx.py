"""`export submissions --format xlsx`: one workbook staff open in Excel.

Four sheets: 申請 (submissions), 指摘 (findings), メール (messages), 返信 (replies). Japanese
headers, the header row frozen and bold, an auto filter over each table, column widths from the
content, and times as real Excel dates in JST (Excel has no time zones, so they are written
naive). The workbook is written in openpyxl's write-only mode (rows streamed, not held as cell
objects) and renamed into place only when complete.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet._write_only import WriteOnlyWorksheet
from openpyxl.worksheet.properties import PageSetupProperties

from ingest.export import EXCEL_TIME, check_output, write_atomically
from ingest.screen import jst, reason, replies_text, visible
from rules.calendar import JST
from rules.findings import CATALOG
from rules.program import Program
from state import queries
from state.labels import label
from state.ledger import Ledger

DATE_FORMAT = "yyyy/mm/dd hh:mm"
EXCEL_MAX_TEXT = 32_767  # characters in one cell
MAX_WIDTH = 60
HEADER_FONT = Font(bold=True)
HEADER_FILL = PatternFill("solid", fgColor="DDEBF7")


@dataclass(frozen=True)
class Column:
    title: str
    key: str
    kind: str = "text"  # text | number | date
    convert: Callable[[Any], Any] | None = None


def _label(vocabulary: str) -> Callable[[Any], Any]:
    return lambda code: label(vocabulary, code) if code is not None else None


SUBMISSION_COLUMNS = (
    Column("申請ID", "id", "number"), Column("コンソーシアム名", "consortium"),
    Column("版", "version", "number"), Column("種別", "kind", convert=_label("submission_kind")),
    Column("状態", "display_state", convert=_label("display_state")),
    Column("結果", "outcome", convert=_label("outcome")), Column("幹事社メールアドレス", "lead_email"),
    Column("最初の受信日時", "first_received_at", "date"), Column("メール数", "mails", "number"),
    Column("添付ファイル数", "files", "number"), Column("不備の数", "deficiencies", "number"),
    Column("指摘コード", "finding_codes"),
    Column("返信(種類:状態)", "replies", convert=lambda v: replies_text(v) or None),
    Column("未送信の返信の期限", "reply_due_at", "date"),
    Column("返信ごとの期限", "reply_dues"),
    Column("置き換えた新しい版", "superseded_by", "number"),
    Column("作成日時", "created_at", "date"), Column("更新日時", "updated_at", "date"),
)
FINDING_COLUMNS = (
    Column("指摘ID", "id", "number"), Column("申請ID", "submission_id", "number"),
    Column("コンソーシアム名", "consortium"), Column("メールID", "message", "number"),
    Column("コード", "code"), Column("区分", "severity", convert=_label("severity")),
    Column("意味", "code", convert=lambda v: CATALOG[v].meaning if v in CATALOG else ""),
    Column("構成員", "member"), Column("書類", "document"),
    Column("内容", "detail", convert=lambda v: reason(v) or None),
)
MESSAGE_COLUMNS = (
    Column("メールID", "id", "number"), Column("申請ID", "submission_id", "number"),
    Column("受信日時", "received_at", "date"),
    Column("受信時刻の根拠", "received_at_source", convert=_label("received_at_source")),
    Column("差出人アドレス", "from_addr"), Column("差出人名", "from_name"),
    Column("件名", "subject"), Column("状態", "state", convert=_label("message_state")),
    Column("注記", "problem", convert=lambda v: reason(v) or None),
    Column("Message-ID", "message_id_header"), Column("取得元", "source_ref"),
    Column("サイズ(バイト)", "size", "number"), Column("取得日時", "fetched_at", "date"),
)
REPLY_COLUMNS = (
    Column("返信ID", "id", "number"), Column("申請ID", "submission_id", "number"),
    Column("コンソーシアム名", "consortium"), Column("種類", "kind", convert=_label("reply_kind")),
    Column("状態", "status", convert=_label("reply_status")),
    Column("宛先", "to_addr"), Column("件名", "subject"), Column("返信期限", "due_at", "date"),
    Column("送信日時", "sent_at", "date"), Column("試行回数", "attempts", "number"),
    Column("SMTP応答", "smtp_response"), Column("作成日時", "created_at", "date"),
)

SHEETS: tuple[tuple[str, Sequence[Column], str], ...] = (
    ("申請", SUBMISSION_COLUMNS,
     "SELECT o.*, (SELECT group_concat(r.kind || ' ' || r.due_at, ' ') FROM replies r "
     "WHERE r.submission_id = o.id) AS reply_dues FROM submissions_overview o ORDER BY o.id"),
    ("指摘", FINDING_COLUMNS,
     "SELECT f.*, s.consortium FROM findings f LEFT JOIN submissions s "
     "ON s.id = f.submission_id ORDER BY f.id"),
    ("メール", MESSAGE_COLUMNS,
     "SELECT id, submission_id, received_at, received_at_source, from_addr, from_name, subject, "
     "state, problem, message_id_header, source_ref, size, fetched_at FROM messages ORDER BY id"),
    ("返信", REPLY_COLUMNS,
     "SELECT r.*, s.consortium FROM replies r LEFT JOIN submissions s "
     "ON s.id = r.submission_id ORDER BY r.id"),
)


def write_xlsx(ledger: Ledger, path: Path, program: Program | None = None) -> int:
    """Write the workbook to `path` and return the number of submissions in it. Documents
    are named by the titles of `program` (the configured one), not by their keys."""
    check_output(path)
    title_of = (program or Program()).document_title
    workbook = Workbook(write_only=True)
    counts = {}
    for title, columns, sql in SHEETS:
        found = ledger.db.query(sql)
        if title == "申請":
            found = (dict(row, reply_dues=_dues(row["reply_dues"]))
                     for row in queries.with_display(found))
        elif title == "指摘":
            found = (dict(row, document=title_of(row["document"]) if row["document"] else None)
                     for row in found)
        rows = [[_value(c, row[c.key]) for c in columns] for row in found]
        _write_sheet(workbook.create_sheet(title), columns, rows)
        counts[title] = len(rows)
    _save(workbook, path)
    return counts["申請"]


def _write_sheet(sheet: WriteOnlyWorksheet, columns: Sequence[Column],
                 rows: list[list[Any]]) -> None:
    # Write-only sheets take widths, panes and the filter before the first row.
    for index, column in enumerate(columns, start=1):
        sheet.column_dimensions[get_column_letter(index)].width = _width(column, rows, index - 1)
    sheet.freeze_panes = "A2"
    # Printed as staff hand it round: landscape, all columns on the width of one page, the
    # header row repeated on every page.
    sheet.page_setup.orientation = "landscape"
    sheet.page_setup.paperSize = "9"  # A4
    sheet.page_setup.fitToWidth = 1
    sheet.page_setup.fitToHeight = 0
    sheet.sheet_properties.pageSetUpPr = PageSetupProperties(fitToPage=True)
    sheet.print_title_rows = "1:1"
    last = get_column_letter(len(columns))
    sheet.auto_filter.ref = f"A1:{last}{len(rows) + 1}"
    sheet.append([_header(sheet, c.title) for c in columns])
    for row in rows:
        sheet.append([_cell(sheet, value, column) for value, column in
                      zip(row, columns, strict=True)])


def _header(sheet: WriteOnlyWorksheet, title: str) -> WriteOnlyCell:
    cell = WriteOnlyCell(sheet, value=title)
    cell.font = HEADER_FONT
    cell.fill = HEADER_FILL
    cell.alignment = Alignment(vertical="center")
    return cell


def _cell(sheet: WriteOnlyWorksheet, value: Any, column: Column) -> Any:
    if value is None:
        return None
    if column.kind == "date" and isinstance(value, datetime):
        cell = WriteOnlyCell(sheet, value=value)
        cell.number_format = DATE_FORMAT
        return cell
    if isinstance(value, str) and value.startswith("="):
        # A subject such as "=HYPERLINK(...)" is text from a stranger, never a formula.
        cell = WriteOnlyCell(sheet, value=value)
        cell.data_type = "s"
        return cell
    return value


def _value(column: Column, raw: Any) -> Any:
    if column.convert is not None:
        raw = column.convert(raw)
    if raw is None:
        return None
    if column.kind == "date":
        return excel_time(raw)
    if column.kind == "number":
        return raw if isinstance(raw, int | float) else _text(raw)
    return _text(raw)


def _dues(text: str | None) -> str | None:
    """"receipt 2022-08-12T08:30:00+00:00 …" as 受付確認 2022/08/12 17:30; …"""
    if not text:
        return None
    parts = text.split()
    out = []
    for kind, due in zip(parts[::2], parts[1::2], strict=False):
        out.append(f"{label('reply_kind', kind)} {jst(due, EXCEL_TIME)}")
    return "; ".join(out)


def excel_time(value: Any) -> datetime | str | None:
    """A ledger time (ISO, UTC) as a naive JST datetime for Excel; unreadable text stays text."""
    if value in (None, ""):
        return None
    try:
        moment = datetime.fromisoformat(str(value))
    except ValueError:
        return _text(value)
    if moment.tzinfo is None:  # the ledger writes UTC; a bare time is taken as written
        return moment
    return moment.astimezone(JST).replace(tzinfo=None)


def _text(value: Any) -> str:
    # Control characters are not allowed in xlsx XML (and would be invisible in a cell): they
    # are written visibly (\x1b), like on the terminal. A cell holds at most 32,767 characters.
    return ILLEGAL_CHARACTERS_RE.sub(lambda m: visible(m.group(0)), str(value))[:EXCEL_MAX_TEXT]


def _width(column: Column, rows: Iterable[list[Any]], index: int) -> float:
    if column.kind == "date":
        return 17.0
    widest = _display_width(column.title)
    for row in rows:
        value = row[index]
        if value is not None:
            widest = max(widest, _display_width(str(value)[:MAX_WIDTH * 2]))
            if widest >= MAX_WIDTH:
                break
    return float(min(widest, MAX_WIDTH) + 2)


def _display_width(text: str) -> int:
    # Excel's width unit is about one half-width character; full-width characters take two.
    return sum(1 if ord(ch) < 0x1100 or 0xFF61 <= ord(ch) <= 0xFFDC else 2 for ch in text)


def _save(workbook: Workbook, path: Path) -> None:
    # Built in memory, then written beside the target and renamed: a path that cannot be
    # written fails in one place, never inside openpyxl's streaming writer.
    buffer = io.BytesIO()
    workbook.save(buffer)
    write_atomically(path, buffer.getvalue())
