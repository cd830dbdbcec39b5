"""More hostile inputs (tests/hostile_more_factory.py), of kinds the other hostile suites do not
make: workbooks whose XML declares more than it writes (ODS repeats, the last cell of a sheet,
a million styles, relationships in circles), archives of odd shape (LZH/7z/RAR, directories that
disagree with their local headers, three and eight levels deep, odd member names), PDFs whose
structure loops or lies, and MIME written by careless or hostile mailers.

Each mail is replayed by the real CLI in a folder of its own, followed by a complete submission
(the canary), exactly as tests/test_redteam.py does: the mail lands in the ledger judged or
quarantined with a clear reason, nothing crashes, the canary is still receipted, and memory
stays under the per-mail bound. Time bounds are far above what a mail takes (machine speed
must not decide a result); the bounds that matter are declared-work bounds, tested directly.
"""

from __future__ import annotations

import io
import mailbox
import re
import subprocess
import sys
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from ingest.check_cmd import run_check
from parsers.filetypes import sniff
from parsers.forms import load_form_map
from parsers.workbook_size import workbook_problem
from rules.program import Program
from tests import hostile_more_factory as mf
from tests.conftest import REPO
from tests.mails import complete_mail
from tests.test_redteam import (
    CANARY,
    GENEROUS_SECONDS,
    PER_MAIL_MB,
    Replay,
    check_ledger,
    hostile_findings,
    replay,
)
from tests.test_walking_skeleton import write_config

PROGRAM = Program()
FORM_MAP = load_form_map()


def _codes(*expected: str) -> Callable[[Replay], None]:
    """The mail's forms were read: exactly these codes and no unreadable file."""
    def check(run: Replay) -> None:
        assert {f["code"] for f in hostile_findings(run)} == set(expected), hostile_findings(run)
    return check


def _finding(code: str, *words: str) -> Callable[[Replay], None]:
    def check(run: Replay) -> None:
        found = [f["detail"] for f in hostile_findings(run) if f["code"] == code]
        assert any(all(w in d for w in words) for d in found), hostile_findings(run)
    return check


def _problem(words: str) -> Callable[[Replay], None]:
    def check(run: Replay) -> None:
        problems = [m["problem"] or "" for m in run.query(
            "SELECT problem FROM messages WHERE message_id_header IS NOT ?", (CANARY,))]
        assert any(words in p for p in problems), problems
    return check


def _attachments(count: int) -> Callable[[Replay], None]:
    """Every attachment is recorded under a name staff can see (odd names kept, none lost)."""
    def check(run: Replay) -> None:
        names = [a["name"] for a in run.query(
            "SELECT a.name FROM attachments a JOIN messages m ON m.id = a.message "
            "WHERE m.message_id_header IS NOT ?", (CANARY,))]
        assert len(names) >= count and all(n.strip() for n in names), names
    return check


def _no_code(code: str) -> Callable[[Replay], None]:
    def check(run: Replay) -> None:
        assert code not in {f["code"] for f in hostile_findings(run)}, hostile_findings(run)
    return check


def _no_attachments(run: Replay) -> None:
    assert not run.query("SELECT a.name FROM attachments a JOIN messages m ON m.id = a.message "
                         "WHERE m.message_id_header IS NOT ?", (CANARY,))


def _done(run: Replay) -> None:
    """Only the common checks: judged, the canary answered."""


EXPECT: dict[str, Callable[[Replay], None]] = {
    "xlsx-cell-at-xfd1048576": _codes("SENDER_NOT_LEAD"),
    "xlsx-validation-1m-list": _codes("SENDER_NOT_LEAD"),
    "xlsx-1m-styles": _finding("ATTACHMENT_UNREADABLE", mf.FORM, "上限"),
    "xlsx-rels-in-circles": _finding("ATTACHMENT_UNREADABLE", mf.FORM, "表計算ファイルとして開けません"),
    "xlsx-sheet-parts-absent": _finding("ATTACHMENT_UNREADABLE", mf.FORM),
    "zip-5000-empty-members": _finding("ATTACHMENT_UNREADABLE", "空.zip", "ファイル数"),
    "zip-directory-disagrees": _finding("ATTACHMENT_UNREADABLE", "申請書類.zip", "壊れている"),
    "zip-three-deep": _codes("CONSORTIUM_NAME_MISMATCH", "SENDER_NOT_LEAD"),
    "zip-eight-deep": _finding("ATTACHMENT_UNREADABLE", "入れ子"),
    "zip-odd-member-names": _attachments(12),
    "lzh-attachment": _finding("ATTACHMENT_UNREADABLE", "申請書類.lzh", "LZH形式"),
    "7z-attachment": _finding("ATTACHMENT_UNREADABLE", "申請書類.7z", "7z形式"),
    "rar5-attachment": _finding("ATTACHMENT_UNREADABLE", "申請書類.rar", "RAR形式"),
    "pdf-xref-prev-loop": _finding("DOCUMENT_MISSING"),
    "pdf-object-stream-claims": _finding("DOCUMENT_MISSING"),
    "pdf-100000-deep-arrays": _finding("DOCUMENT_MISSING"),
    "boundary-inside-base64": _finding("ATTACHMENT_UNREADABLE", "shinsei.zip"),
    "rfc2231-out-of-order": _codes("CONSORTIUM_NAME_MISMATCH", "SENDER_NOT_LEAD"),
    "encoded-word-1mb": _problem("ヘッダーが大きすぎる"),
    "hostile-charset-names": _problem("../../etc"),
    "cc-100000-addresses": _problem("ヘッダーが大きすぎる"),
    "odd-attachment-names": _attachments(9),
    "ods-17-billion-repeated-cells": _finding("ATTACHMENT_UNREADABLE", "4_交付申請書.ods", "セル"),
    "xls-last-cell": _finding("ATTACHMENT_UNREADABLE", "4_交付申請書.xls", "使用範囲"),
    "xlsx-3000-sheets": _done,
    "xlsx-500000-merged-ranges": _finding("ATTACHMENT_UNREADABLE", mf.FORM, "上限"),
    "xlsx-300000-defined-names": _codes("SENDER_NOT_LEAD"),
    "xlsx-1m-rich-text-runs": _codes("SENDER_NOT_LEAD"),
    "xlsx-200000-deep-elements": _codes("SENDER_NOT_LEAD"),
    "docx-200000-deep-elements": _finding("DOCUMENT_MISSING"),
    "base64-after-7m-blank-lines": _problem("行数が"),
    "auto-reply-after-7m-blank-lines": _problem("行数が"),
    # What staff read of a malformed structure is Japanese, the library's name kept after it.
    "multipart-without-boundary": lambda run: (
        _problem("マルチパートに区切り(boundary)の指定がありません")(run),
        _no_attachments(run),
        _finding("DOCUMENT_MISSING")(run),
        # Its text is read as text: the sender block in it is found.
        _no_code("SENDER_DETAILS_MISSING")(run)),
}


@pytest.fixture(scope="module")
def replays(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Replay]:
    """Each case in a folder of its own, the hostile mail then the canary, two at a time."""
    assert set(EXPECT) == set(mf.MAILS)
    base = tmp_path_factory.mktemp("hostile-more")
    canary = complete_mail(CANARY)

    def one(name: str) -> Replay:
        folder = base / name / "mails"
        folder.mkdir(parents=True)
        (folder / "1-hostile.eml").write_bytes(mf.MAILS[name]())
        (folder / "2-canary.eml").write_bytes(canary)
        return replay(base / name, folder, 2)

    with ThreadPoolExecutor(2) as pool:
        results = dict(zip(mf.MAILS, pool.map(one, mf.MAILS), strict=True))
    for name, r in results.items():  # the figures, for whoever reads the log
        print(f"{name}: {r.seconds:.1f} s, peak {r.peak_mb:.0f} MB")
    return results


@pytest.mark.parametrize("name", list(mf.MAILS))
def test_each_new_hostile_mail_is_judged_within_bounds_and_the_next_is_answered(
        name: str, replays: dict[str, Replay]) -> None:
    run = replays[name]
    check_ledger(run)
    EXPECT[name](run)
    assert run.peak_mb < PER_MAIL_MB, run.peak_mb
    assert run.seconds < GENEROUS_SECONDS, run.seconds


# --------------------------------------------------------------------------- declared work


def test_ods_repeats_count_toward_the_cell_bound_before_any_reader_expands_them() -> None:
    """A few hundred bytes of OpenDocument declare 17 billion cells (one cell repeated across
    and down); the reader would write each out and die of it. Counted, they are refused."""
    for rows, columns in ((1_048_576, 16_384), (1000, 1000), (1_048_576, 1)):
        problem = workbook_problem(mf.ods_repeated(rows, columns))
        assert problem is not None and "セル" in problem, (rows, columns, problem)


def test_empty_repeated_cells_as_office_pads_a_sheet_count_for_nothing() -> None:
    """LibreOffice ends every sheet with empty cells repeated to the last column and an empty
    row repeated to the last row: that is no work, and a real form stays readable."""
    from odf.opendocument import OpenDocumentSpreadsheet
    from odf.table import Table, TableCell, TableRow
    from odf.text import P

    doc = OpenDocumentSpreadsheet()
    table = Table(name="交付申請書")
    for r in range(50):
        row = TableRow()
        cell = TableCell(valuetype="string")
        cell.addElement(P(text=f"項目{r}"))
        row.addElement(cell)
        row.addElement(TableCell(numbercolumnsrepeated=16_383))
        table.addElement(row)
    padding = TableRow(numberrowsrepeated=1_048_526)
    padding.addElement(TableCell(numbercolumnsrepeated=16_384))
    table.addElement(padding)
    doc.spreadsheet.addElement(table)
    out = io.BytesIO()
    doc.write(out)
    assert workbook_problem(out.getvalue()) is None
    assert workbook_problem(mf.ods_repeated(100, 100)) is None


def test_an_ods_table_declaring_a_dtd_is_refused() -> None:
    """No office writer declares a DTD in content.xml; its entities could hide cells from the
    count."""
    import zipfile

    data = mf.ods_repeated(1, 1)
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as src, zipfile.ZipFile(out, "w") as dst:
        for info in src.infolist():
            part = src.read(info.filename)
            if info.filename == "content.xml":
                part = part.replace(b"?>", b'?><!DOCTYPE x [<!ENTITY c "x">]>', 1)
            dst.writestr(info, part)
    problem = workbook_problem(out.getvalue())
    assert problem is not None and "DTD" in problem


def test_merged_ranges_count_toward_the_cell_bound() -> None:
    """500,000 merged ranges in 2 MB: the reader hands each over as an object (900,000 ran the
    reading worker out of memory, and it hung until the wall-time backstop). A real form's few
    hundred merges are nothing."""
    problem = workbook_problem(mf.xlsx_merged_cells())
    assert problem is not None and "セル" in problem, problem
    assert workbook_problem(mf.xlsx_merged_cells(1000)) is None


def test_the_mime_parser_reads_a_bounded_number_of_lines() -> None:
    """The parser's memory goes with the lines of a mail, not its bytes: 3,000,000 lines of one
    space (6 MB) took 200 MB. Past `max_mail_lines` the rest is not read, and the mail says so.
    Measured as allocations (tracemalloc), not time."""
    import tracemalloc

    from parsers.limits import Limits
    from parsers.mime import parse_message

    raw = mf.blank_lines_in_base64(3_000_000)
    limits = Limits()
    tracemalloc.start()
    try:
        record = parse_message(raw, max_parts=limits.max_parts, max_lines=limits.max_mail_lines)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert any("行数が 1,000,000 行を超える" in p for p in record.problems), record.problems
    assert peak < 120 * 1024 * 1024, peak / 1024 / 1024
    # A mail within the bound is read whole, its attachment intact.
    whole = parse_message(mf.blank_lines_in_base64(1000))
    assert [a.data for a in whole.attachments] == [mf.hf.VALID_ZIP.read_bytes()]
    assert not any("行数" in p for p in whole.problems)


def test_the_bounce_reader_parses_a_bounded_number_of_lines_too() -> None:
    """An auto-reply is parsed once more to find the reply it bounces: 7,000,000 blank lines
    took that parse to 700 MB."""
    import tracemalloc

    from replies.bounces import bounced_reply

    raw = mf.auto_reply_of_blank_lines(3_000_000)
    tracemalloc.start()
    try:
        assert bounced_reply(raw) is None
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 120 * 1024 * 1024, peak / 1024 / 1024


# --------------------------------------------------------------------------- broken Office files


def test_a_workbook_that_lost_its_content_types_is_a_broken_workbook_not_a_zip(
        tmp_path: Path) -> None:
    """Unpacked as a zip, its XML parts were 'documents of unknown kind' and the form silently
    'not attached'; it is the applicant's workbook, broken, and the finding says so."""
    data = mf.xlsx_rels_in_circles()
    assert sniff(data, "4_交付申請書.xlsx") == "xlsx"
    assert sniff(data, "添付") == "xlsx"  # the content decides, not the name
    path = tmp_path / "4_交付申請書.xlsx"
    path.write_bytes(data)
    out = io.StringIO()
    assert run_check([path], PROGRAM, FORM_MAP, out) in (1, 2)  # never 不備なし
    text = out.getvalue()
    assert "ATTACHMENT_UNREADABLE" in text and "4_交付申請書.xlsx: 表計算ファイルとして開けません" in text
    assert "xl/workbook.xml" not in text, text


def test_a_zip_of_ordinary_files_stays_a_zip() -> None:
    assert sniff(mf.zip_odd_names(), "書類.zip") == "zip"
    assert sniff(mf.zip_three_deep(), "書類.zip") == "zip"


# --------------------------------------------------------------------------- what staff see


def test_check_shows_control_and_bidi_characters_of_member_names_escaped(tmp_path: Path) -> None:
    """A member named 申請<RLO>fdp.exe reads as 申請exe.pdf on a terminal, and an escape
    sequence in a name would reach it: `check` shows both as escapes, like every staff view."""
    path = tmp_path / "odd.zip"
    path.write_bytes(mf.zip_odd_names())
    out = io.StringIO()
    run_check([path], PROGRAM, FORM_MAP, out)
    text = out.getvalue()
    assert "申請\\u202efdp.exe" in text, text
    assert "\u202e" not in text and "\x1b" not in text and "\x01" not in text


# --------------------------------------------------------------------------- sources


def _run_cli(root: Path, *args: str) -> subprocess.CompletedProcess[str]:
    config = write_config(root)
    return subprocess.run([sys.executable, "-m", "ingest.cli", "--config", str(config), *args],
                          cwd=root, capture_output=True, text=True, timeout=600,
                          env={"PYTHONPATH": str(REPO), "PATH": "/usr/bin:/bin"})


def test_an_mbox_with_a_from_line_inside_base64_loses_nothing_silently(tmp_path: Path) -> None:
    """An mbox writer that did not escape a `From ` line cuts the mail there: the head is
    judged (its cut zip named as broken), the tail is skipped with its reason, the canary after
    it is answered."""
    box = tmp_path / "m.mbox"
    box.write_bytes(mf.mbox_from_line_mid_base64(complete_mail(CANARY)))
    assert len(mailbox.mbox(box)) == 3
    done = _run_cli(tmp_path, "replay", str(box))
    assert done.returncode in (0, 1) and "Traceback" not in done.stderr, done.stderr
    assert "m.mbox#2(メールのヘッダーがありません)" in done.stderr, done.stderr
    run = Replay(tmp_path, 2, done.returncode, 0.0, 0.0, done.stdout, done.stderr)
    check_ledger(run)
    _finding("ATTACHMENT_UNREADABLE", "shinsei.zip", "壊れている")(run)


def test_an_empty_and_an_all_nul_maildir_file_are_counted_not_stored(tmp_path: Path) -> None:
    box = tmp_path / "Maildir"
    for sub in ("cur", "new", "tmp"):
        (box / sub).mkdir(parents=True)
    (box / "new" / "1660000000.1.host:2,").write_bytes(b"")
    (box / "new" / "1660000001.2.host:2,").write_bytes(mf.only_nul())
    (box / "new" / "1660000002.3.host:2,").write_bytes(complete_mail(CANARY))
    done = _run_cli(tmp_path, "replay", str(box))
    assert done.returncode in (0, 1) and "Traceback" not in done.stderr, done.stderr
    assert re.search(r"取り込まなかったファイル 2 件\(バイナリデータ 1, 空のファイル 1\)",
                     done.stdout), done.stdout
    check_ledger(Replay(tmp_path, 1, done.returncode, 0.0, 0.0, done.stdout, done.stderr))


def test_check_of_a_mail_of_only_nul_bytes_is_judged_not_a_crash(tmp_path: Path) -> None:
    path = tmp_path / "nul.eml"
    path.write_bytes(mf.only_nul())
    out = io.StringIO()
    assert run_check([path], PROGRAM, FORM_MAP, out) == 1
    assert "件名がありません" in out.getvalue()


_RUST_OOM = """
import sys
from ingest.sandbox import Sandbox
from parsers.workbook import load_book
from tests import hostile_more_factory as mf
box = Sandbox(64 * 1024 * 1024)
# The wall limit is far above the half second this takes: only a hang reaches it.
outcome = box.run(load_book, mf.xlsx_merged_cells(900_000), cpu_seconds=60, wall_seconds=120)
box.close()
print("BREACH", outcome.breach)
"""


def test_a_rust_reader_out_of_memory_ends_the_worker_at_once_with_backtraces_on() -> None:
    """calamine refused memory under the worker's cap: with RUST_BACKTRACE=1 in the daemon's
    environment the worker tried to print a backtrace it had no memory for and hung until the
    wall-time backstop (60 s with the shipped limits) instead of ending as a crash. Run in a
    fresh process, so that the heap a long test session leaves mapped does not feed the cap."""
    done = subprocess.run([sys.executable, "-c", _RUST_OOM], cwd=REPO, capture_output=True,
                          text=True, timeout=600, env={"PYTHONPATH": str(REPO),
                                                       "PATH": "/usr/bin:/bin",
                                                       "RUST_BACKTRACE": "1"})
    assert re.search(r"^BREACH (crash|memory)$", done.stdout, re.MULTILINE), (done.stdout,
                                                                             done.stderr[-2000:])
