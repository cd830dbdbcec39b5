"""Writers for the third reading corpus (tests/form_corpus3.py): a workbook described as rows of
cells, saved the ways applicants' programs save it — openpyxl, hand-made SpreadsheetML (namespace
prefixes, inline strings, no styles part, as non-Excel producers write), BIFF8 .xls (xlwt), .ods
(odfpy) — and an Apple Numbers package, which is a zip but not an Office file."""

from __future__ import annotations

import datetime as dt
import io
import zipfile
from dataclasses import dataclass, field
from typing import Any
from xml.sax.saxutils import escape

from openpyxl import Workbook
from openpyxl.utils import get_column_letter, range_boundaries

Cell = Any


Rows = list[list[Cell]]


@dataclass
class Sheet:
    title: str
    rows: Rows
    hidden: bool = False
    hidden_rows: set[int] = field(default_factory=set)
    merges: list[str] = field(default_factory=list)


def write_openpyxl(sheets: list[Sheet]) -> bytes:
    wb = Workbook()
    wb.remove(wb.active)
    for s in sheets:
        ws = wb.create_sheet(s.title)
        for r, row in enumerate(s.rows, start=1):
            for c, v in enumerate(row, start=1):
                if v not in ("", None):
                    ws.cell(r, c, v)
        for r in s.hidden_rows:
            ws.row_dimensions[r].hidden = True
        for m in s.merges:
            ws.merge_cells(m)
        if s.hidden:
            ws.sheet_state = "hidden"
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


_NS = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"


_REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"


_HIDDEN = ' state="hidden"'


@dataclass(frozen=True)
class Rich:
    """A string of several formatted runs, with the IME's reading (furigana) kept as Excel does."""
    runs: tuple[str, ...]
    reading: str = ""

    def __str__(self) -> str:
        return "".join(self.runs)


@dataclass(frozen=True)
class Xml:
    """A cell written as raw SpreadsheetML: its attributes and its children."""
    attrs: str
    inner: str

    def __str__(self) -> str:
        return self.inner


def _xml_cell(ref: str, v: Cell) -> str:
    if isinstance(v, Xml):
        return f'<x:c r="{ref}" {v.attrs}>{v.inner}</x:c>'
    if isinstance(v, Rich):
        runs = "".join(f'<x:r><x:rPr><x:b/></x:rPr><x:t xml:space="preserve">{escape(t)}</x:t></x:r>' for t in v.runs)
        ph = (f'<x:rPh sb="0" eb="{len(str(v))}"><x:t>{escape(v.reading)}</x:t></x:rPh>'
              '<x:phoneticPr fontId="1"/>') if v.reading else ""
        return f'<x:c r="{ref}" t="inlineStr"><x:is>{runs}{ph}</x:is></x:c>'
    if isinstance(v, bool):
        return f'<x:c r="{ref}" t="b"><x:v>{int(v)}</x:v></x:c>'
    if isinstance(v, (int, float)):
        return f'<x:c r="{ref}"><x:v>{v}</x:v></x:c>'
    if isinstance(v, dt.date):
        day = v.date() if isinstance(v, dt.datetime) else v
        serial = (day - dt.date(1899, 12, 30)).days
        return f'<x:c r="{ref}"><x:v>{serial}</x:v></x:c>'  # no date style: a bare serial
    return f'<x:c r="{ref}" t="inlineStr"><x:is><x:t xml:space="preserve">{escape(str(v))}</x:t></x:is></x:c>'


def write_raw(sheets: list[Sheet]) -> bytes:
    """A package written by hand: `x:` prefixed SpreadsheetML, inline strings, no styles, no dimension."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        over = "".join(
            f'<Override PartName="/xl/worksheets/sheet{i}.xml" ContentType="application/'
            f'vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
            for i in range(1, len(sheets) + 1)
        )
        z.writestr("[Content_Types].xml", (
            '<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/'
            'package/2006/content-types"><Default Extension="rels" ContentType="application/'
            'vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" '
            'ContentType="application/xml"/><Override PartName="/xl/workbook.xml" ContentType='
            '"application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
            f"{over}</Types>"))
        z.writestr("_rels/.rels", (
            '<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.'
            'org/package/2006/relationships"><Relationship Id="r1" Type="http://schemas.openxmlformats.'
            'org/officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/></Relationships>'))
        entries = "".join(
            f'<x:sheet name="{escape(s.title)}" sheetId="{i}" r:id="s{i}"'
            f"{_HIDDEN if s.hidden else ''}/>"
            for i, s in enumerate(sheets, start=1)
        )
        z.writestr("xl/workbook.xml", (
            f'<?xml version="1.0" encoding="UTF-8"?><x:workbook xmlns:x="{_NS}" xmlns:r="{_REL}">'
            f"<x:sheets>{entries}</x:sheets></x:workbook>"))
        rels = "".join(
            f'<Relationship Id="s{i}" Type="{_REL}/worksheet" Target="worksheets/sheet{i}.xml"/>'
            for i in range(1, len(sheets) + 1)
        )
        z.writestr("xl/_rels/workbook.xml.rels", (
            '<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.'
            f'org/package/2006/relationships">{rels}</Relationships>'))
        for i, s in enumerate(sheets, start=1):
            body = []
            for r, row in enumerate(s.rows, start=1):
                cells = "".join(
                    _xml_cell(f"{get_column_letter(c)}{r}", v)
                    for c, v in enumerate(row, start=1) if v not in ("", None)
                )
                hid = ' hidden="1"' if r in s.hidden_rows else ""
                if cells or hid:
                    body.append(f'<x:row r="{r}"{hid}>{cells}</x:row>')
            merges = ""
            if s.merges:
                merges = f'<x:mergeCells count="{len(s.merges)}">' + "".join(
                    f'<x:mergeCell ref="{m}"/>' for m in s.merges) + "</x:mergeCells>"
            z.writestr(f"xl/worksheets/sheet{i}.xml", (
                f'<?xml version="1.0" encoding="UTF-8"?><x:worksheet xmlns:x="{_NS}" xmlns:r="{_REL}">'
                f'<x:sheetData>{"".join(body)}</x:sheetData>{merges}</x:worksheet>'))
    return buf.getvalue()


def write_xls(sheets: list[Sheet]) -> bytes:
    """BIFF8 as older Japanese offices still save it (xlwt): dates with a date format, hidden sheets."""
    import xlwt

    book = xlwt.Workbook(encoding="utf-8")
    day = xlwt.easyxf(num_format_str="ge.m.d")  # 和暦 display, as a Japanese office template has
    for s in sheets:
        ws = book.add_sheet(s.title[:31])
        for r, row in enumerate(s.rows):
            for c, v in enumerate(row):
                if v in ("", None):
                    continue
                if isinstance(v, dt.date):
                    ws.write(r, c, v, day)
                else:
                    ws.write(r, c, v if isinstance(v, (int, float, bool)) else str(v))
        for m in s.merges:
            (c0, r0, c1, r1) = range_boundaries(m)
            ws.merge(r0 - 1, r1 - 1, c0 - 1, c1 - 1)
        if s.hidden:
            ws.visibility = 1
    buf = io.BytesIO()
    book.save(buf)
    return buf.getvalue()


def write_ods(sheets: list[Sheet]) -> bytes:
    """OpenDocument as LibreOffice saves it (odfpy): typed cells, hidden sheets by a table style."""
    from odf.opendocument import OpenDocumentSpreadsheet
    from odf.style import Style, TableProperties
    from odf.table import Table, TableCell, TableRow
    from odf.text import P

    doc = OpenDocumentSpreadsheet()
    hidden = Style(name="hiddenTable", family="table")
    hidden.addElement(TableProperties(display="false"))
    doc.automaticstyles.addElement(hidden)
    for s in sheets:
        table = Table(name=s.title, **({"stylename": hidden} if s.hidden else {}))
        for row in s.rows:
            tr = TableRow()
            for v in row:
                if v in ("", None):
                    tr.addElement(TableCell())
                elif isinstance(v, bool):
                    cell = TableCell(valuetype="boolean", booleanvalue=str(v).lower())
                    cell.addElement(P(text=str(v).upper()))
                    tr.addElement(cell)
                elif isinstance(v, (int, float)):
                    cell = TableCell(valuetype="float", value=v)
                    cell.addElement(P(text=f"{v:,}"))
                    tr.addElement(cell)
                elif isinstance(v, dt.date):
                    cell = TableCell(valuetype="date", datevalue=v.isoformat())
                    cell.addElement(P(text=v.strftime("%Y/%m/%d")))
                    tr.addElement(cell)
                else:
                    cell = TableCell(valuetype="string")
                    for line in str(v).split("\n"):
                        cell.addElement(P(text=line))
                    tr.addElement(cell)
            table.addElement(tr)
        doc.spreadsheet.addElement(table)
    buf = io.BytesIO()
    doc.save(buf)
    return buf.getvalue()


def numbers_package() -> bytes:
    """An Apple Numbers document as saved on a Mac: a zip of .iwa streams, not an Office file."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("Index/Document.iwa", b"\x00\x9b\x01\x00" + bytes(range(64)))
        z.writestr("Index/Tables/DataList.iwa", b"\x00\x10\x00\x00" + bytes(16))
        z.writestr("Metadata/Properties.plist", b"bplist00\xd1\x01\x02")
        z.writestr("preview.jpg", b"\xff\xd8\xff\xe0" + bytes(32))
    return buf.getvalue()

