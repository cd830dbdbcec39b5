"""A blank required field that holds a formula saved without its result (a workbook written by
openpyxl, a script, any tool that does not calculate) is told apart from one left empty, and
that is known from the sandboxed reading: the main process never opens the workbook again.

The workbooks are the sample application form as the form generator writes it, then changed
the way the outside world would: re-saved by openpyxl with a formula in the amount, or with the
cell's XML rewritten to a bare <f> (what a script that writes XML does)."""

from __future__ import annotations

import io
import pickle
import re
import sqlite3
import tracemalloc
import zipfile
from pathlib import Path

import openpyxl

from ingest.check_cmd import check_facts
from ingest.cli import main
from ingest.reading import MailRead, read_mail
from parsers.forms import load_form_map
from parsers.formulacells import formula_cells, has_formula
from parsers.limits import Limits
from rules.program import Program
from tests.mails import BODY_OK, CORE, LEAD, VALID_CONSORTIUM, documents, mail
from tests.test_walking_skeleton import write_config

FORM_MAP = load_form_map()
UNCALCULATED = "数式の計算結果が保存されていません"
AMOUNT = "補助金交付申請額"


def _files() -> tuple[dict[str, bytes], str]:
    files = documents(VALID_CONSORTIUM)
    return files, next(n for n in files if "交付申請書" in n)


def _amount_cell(data: bytes) -> tuple[str, str]:
    """(sheet, cell) of the application's requested amount: right of its label."""
    book = openpyxl.load_workbook(io.BytesIO(data))
    for ws in book.worksheets:
        for row in ws.iter_rows():
            for cell in row:
                if cell.value == AMOUNT:
                    value = next(ws.cell(cell.row, c) for c in range(cell.column + 1, 20)
                                 if ws.cell(cell.row, c).value is not None)
                    return ws.title, value.coordinate
    raise AssertionError("no amount label in the sample form")


def _saved_by_openpyxl(data: bytes, value: str | None) -> bytes:
    """The workbook opened and saved again by openpyxl, the amount cell set to `value`."""
    sheet, ref = _amount_cell(data)
    book = openpyxl.load_workbook(io.BytesIO(data))
    book[sheet][ref] = value
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _written_by_script(data: bytes, nesting: int = 0) -> bytes:
    """The amount cell rewritten as a bare formula (<f> and no <v>); with `nesting`, the sheet
    also holds that many nested unknown elements before its data (small zipped, large parsed)."""
    _, ref = _amount_cell(data)
    src = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            body = src.read(info.filename)
            if info.filename == "xl/worksheets/sheet1.xml":
                body, n = re.subn(rf'<c r="{ref}"([^>]*?)(?:/>|>.*?</c>)'.encode(),
                                  rf'<c r="{ref}"\1><f>C8*2/3</f></c>'.encode(), body)
                assert n == 1
                body = body.replace(b"<sheetData>",
                                    b"<x>" * nesting + b"</x>" * nesting + b"<sheetData>", 1)
            dst.writestr(info.filename, body)
    return out.getvalue()


def _amount_details(files: dict[str, bytes]) -> list[str]:
    """Read in the sandbox, kept pickled as a pass keeps it, judged in this process."""
    reads = read_mail(list(files.items()), limits=Limits(), passwords=(), form_map=FORM_MAP,
                      blobs=None)
    kept = pickle.loads(pickle.dumps(MailRead(reads, [], None, ())))  # noqa: S301 - ours
    facts = [(f.path, f.facts) for read in kept.reads for f in read.files]
    result = check_facts(facts, Program(), FORM_MAP)
    return [f.detail for f in result.findings if AMOUNT in f.detail]


def test_a_formula_saved_by_openpyxl_without_its_result_is_explained() -> None:
    files, name = _files()
    files[name] = _saved_by_openpyxl(files[name], "=C8*2/3")
    [detail] = _amount_details(files)
    assert UNCALCULATED in detail


def test_a_formula_written_by_a_script_without_its_result_is_explained() -> None:
    files, name = _files()
    files[name] = _written_by_script(files[name])
    [detail] = _amount_details(files)
    assert UNCALCULATED in detail


def test_a_field_left_empty_is_asked_to_be_filled_in() -> None:
    files, name = _files()
    files[name] = _saved_by_openpyxl(files[name], None)
    [detail] = _amount_details(files)
    assert "記入してください" in detail and UNCALCULATED not in detail


def _replay(tmp_path: Path, files: dict[str, bytes]) -> list[tuple[str, str]]:
    folder = tmp_path / "mails"
    folder.mkdir()
    (folder / "1.eml").write_bytes(mail(f"<{VALID_CONSORTIUM}>{CORE}", BODY_OK, LEAD,
                                        "<formula@minato-seiki.example.jp>", attachments=files))
    assert main(["--config", str(write_config(tmp_path)), "replay", str(folder)]) == 0
    with sqlite3.connect(tmp_path / "ledger.db") as db:
        return db.execute("SELECT code, detail FROM findings ORDER BY id").fetchall()


def test_a_hostile_sheet_with_a_blank_formula_is_judged_without_the_main_process_parsing_it(
        tmp_path: Path) -> None:
    """Two million nested elements before the sheet's data: within the workbook bounds (14 MB
    of XML, 30 KB zipped), read by calamine and by the pattern scan in the sandbox in flat
    memory, while a tree-building XML parser (openpyxl's) needs hundreds of megabytes for it.
    The main process's own allocations over the whole replay stay far below that."""
    files, name = _files()
    files[name] = _written_by_script(files[name], nesting=2_000_000)
    tracemalloc.start()
    try:
        findings = _replay(tmp_path, files)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    amount = [(code, detail) for code, detail in findings if AMOUNT in detail]
    assert [code for code, _ in amount] == ["FORM_FIELD_MISSING"]
    assert UNCALCULATED in amount[0][1]
    assert not any(code == "ATTACHMENT_UNREADABLE" for code, _ in findings)
    assert peak < 120 * 1024 * 1024, f"main process allocated {peak / 2**20:.0f} MB"


def test_formula_cells_as_other_producers_write_them() -> None:
    """The Open XML SDK's x: prefixes, shared formulas, cells without r, and an x14 validation
    rule's <xm:f> after the data (no cell's formula)."""
    xml = (b'<x:worksheet xmlns:x="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
           b'xmlns:xm="http://schemas.microsoft.com/office/excel/2006/main"><x:sheetData>'
           b'<x:row r="2"><x:c r="B2"><x:f t="shared" ref="B2:B3" si="0">A2*2</x:f><x:v/></x:c>'
           b'<x:c><x:f>1+1</x:f></x:c></x:row>'
           b'<x:row r="3"><x:c r="B3"><x:f t="shared" si="0"/></x:c><x:c r="D3" t="s">'
           b'<x:v>0</x:v></x:c></x:row></x:sheetData><x:extLst><x:ext><x14:dataValidations>'
           b'<x14:dataValidation><x14:formula1><xm:f>Sheet2!$A$1:$A$5</xm:f></x14:formula1>'
           b'</x14:dataValidation></x14:dataValidations></x:ext></x:extLst></x:worksheet>')
    assert has_formula(xml)
    assert formula_cells(xml, 1000, 60) == {(2, 2), (2, 3), (3, 2)}
    assert formula_cells(xml, 2, 60) == {(2, 2), (2, 3)}
    assert formula_cells(xml, 1000, 2) == {(2, 2), (3, 2)}
