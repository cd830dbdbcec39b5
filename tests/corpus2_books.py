"""Spreadsheet cells with applicants' decorations, written as .xlsx (openpyxl), .xls (xlwt) and
.ods (odfpy), byte-for-byte the same on every run (fixed timestamps inside the packages)."""

from __future__ import annotations

import datetime as dt
import io
import re
import zipfile
from dataclasses import dataclass, field
from typing import Any

_STAMP = (2022, 8, 25, 10, 0, 0)
_ISO = re.compile(rb"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?Z?")


_ROOT = re.compile(rb"<[A-Za-z][^>]*>")
_XMLNS = re.compile(rb'\s+xmlns(?::[\w.-]+)?="[^"]*"')


def _sorted_namespaces(data: bytes, every: frozenset[bytes] = frozenset()) -> bytes:
    """odfpy declares a varying set of namespaces in a varying order: declare all, sorted."""
    if not data.startswith(b"<?xml"):
        return data
    root = _ROOT.search(data)
    if not root:
        return data
    tag = root.group(0)
    decls = sorted({b" " + d.strip() for d in _XMLNS.findall(tag)} | every)
    bare = _XMLNS.sub(b"", tag)
    end = -2 if bare.endswith(b"/>") else -1
    fixed = bare[:end] + b"".join(decls) + bare[end:]
    return data[: root.start()] + fixed + data[root.end() :]


def _fixed(package: bytes, every: frozenset[bytes] = frozenset()) -> bytes:
    """The same zip package with every entry's time and every ISO timestamp inside fixed."""
    src = zipfile.ZipFile(io.BytesIO(package))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as dst:
        for info in src.infolist():
            data = _sorted_namespaces(_ISO.sub(b"2022-08-25T10:00:00Z", src.read(info)), every)
            fixed = zipfile.ZipInfo(info.filename, _STAMP)
            fixed.compress_type = info.compress_type
            dst.writestr(fixed, data)
    return out.getvalue()


# --------------------------------------------------------------------------- cells and sheets


@dataclass
class C:
    """One cell with the decorations applicants' files carry."""

    v: Any
    comment: str | None = None
    link: str | None = None
    rich: list[tuple[str, bool]] | None = None  # runs of (text, bold)
    fmt: str | None = None
    wrap: bool = False
    quote: bool = False
    formula: str | None = None  # saved with v as its cached value, as Excel saves it


@dataclass
class Sheet:
    title: str
    cells: dict[tuple[int, int], Any] = field(default_factory=dict)
    merges: list[tuple[int, int, int, int]] = field(default_factory=list)
    freeze: str | None = None
    print_area: str | None = None
    validations: list[tuple[str, str]] = field(default_factory=list)
    cond: list[str] = field(default_factory=list)
    hidden_cols: list[int] = field(default_factory=list)
    hidden: bool = False

    def put(self, r: int, c: int, v: Any) -> None:
        if v is not None and v != "":
            self.cells[(r, c)] = v

    def row(self, r: int, c0: int, values: list[Any]) -> None:
        for i, v in enumerate(values):
            self.put(r, c0 + i, v)


def _plain(v: Any) -> Any:
    return v.v if isinstance(v, C) else v


def _col(c: int) -> str:
    s = ""
    while c:
        c, rem = divmod(c - 1, 26)
        s = chr(65 + rem) + s
    return s


def to_xlsx(sheets: list[Sheet], shared: bool = True, mac1904: bool = False) -> bytes:
    import openpyxl
    from openpyxl.cell.rich_text import CellRichText, TextBlock
    from openpyxl.cell.text import InlineFont
    from openpyxl.comments import Comment
    from openpyxl.formatting.rule import CellIsRule
    from openpyxl.styles import Alignment, PatternFill
    from openpyxl.worksheet.datavalidation import DataValidation

    wb = openpyxl.Workbook()
    wb.remove(wb.active)
    if mac1904:  # old Mac Excel's date system: serials count from 1904-01-01
        from openpyxl.utils.datetime import CALENDAR_MAC_1904

        wb.epoch = CALENDAR_MAC_1904
    cached: dict[tuple[str, str], Any] = {}
    for sh in sheets:
        ws = wb.create_sheet(sh.title)
        if sh.hidden:
            ws.sheet_state = "hidden"
        for (r, c), v in sorted(sh.cells.items()):
            cell = ws.cell(row=r, column=c)
            if isinstance(v, C):
                if v.rich:
                    cell.value = CellRichText(*[TextBlock(InlineFont(b=bold), text) for text, bold in v.rich])
                elif v.formula:
                    cell.value = "=" + v.formula
                    cached[(ws.title, cell.coordinate)] = v.v
                else:
                    cell.value = v.v
                if v.comment:
                    cell.comment = Comment(v.comment, "事務局")
                if v.link:
                    cell.hyperlink = v.link
                    cell.style = "Hyperlink"
                if v.fmt:
                    cell.number_format = v.fmt
                if v.wrap:
                    cell.alignment = Alignment(wrap_text=True, vertical="top")
                if v.quote:
                    cell.quotePrefix = True
            else:
                cell.value = v
                if isinstance(v, (dt.date, dt.datetime)):
                    cell.number_format = "yyyy/m/d"
        for r1, c1, r2, c2 in sh.merges:
            ws.merge_cells(start_row=r1, start_column=c1, end_row=r2, end_column=c2)
        if sh.freeze:
            ws.freeze_panes = sh.freeze
        if sh.print_area:
            ws.print_area = sh.print_area
        for sqref, formula in sh.validations:
            dv = DataValidation(type="list", formula1=formula, allow_blank=True)
            dv.add(sqref)
            ws.add_data_validation(dv)
        for sqref in sh.cond:
            ws.conditional_formatting.add(
                sqref,
                CellIsRule(
                    operator="equal",
                    formula=['""'],
                    fill=PatternFill("solid", start_color="FFFF99", end_color="FFFF99"),
                ),
            )
        for c in sh.hidden_cols:
            ws.column_dimensions[_col(c)].hidden = True
    buf = io.BytesIO()
    wb.save(buf)
    package = _with_cached(buf.getvalue(), [ws.title for ws in wb], cached)
    return _fixed(_shared_strings(package) if shared else package)


def _with_cached(package: bytes, titles: list[str], cached: dict[tuple[str, str], Any]) -> bytes:
    """openpyxl saves formulas without results; put in the value Excel would have cached."""
    if not cached:
        return package
    src = zipfile.ZipFile(io.BytesIO(package))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            data = src.read(info)
            m = re.fullmatch(r"xl/worksheets/sheet(\d+)\.xml", info.filename)
            if m:
                title = titles[int(m.group(1)) - 1]
                for (t, coord), value in cached.items():
                    if t == title:
                        data = _cache(data, coord, value)
            dst.writestr(info, data)
    return out.getvalue()


def _cache(data: bytes, coord: str, value: Any) -> bytes:
    """Fill the <v> of one formula cell: a number, a string (t="str") or an error (t="e")."""
    pattern = re.compile(rf'<c r="{coord}"([^>]*)><f>([^<]*)</f><v\s*/>'.encode())
    m = pattern.search(data)
    assert m, coord
    attrs = re.sub(rb'\s+t="[^"]*"', b"", m.group(1))
    if isinstance(value, str):
        kind = "e" if value.startswith("#") else "str"
        text = value.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
        attrs += f' t="{kind}"'.encode()
    else:
        text = str(value)
    cell = f'<c r="{coord}"'.encode() + attrs + b"><f>" + m.group(2) + b"</f><v>" + text.encode() + b"</v>"
    return data[: m.start()] + cell + data[m.end() :]


_INLINE = re.compile(rb'<c r="([A-Z]+\d+)"([^>]*?) t="inlineStr"([^>]*)><is>(.*?)</is></c>', re.S)


def _shared_strings(package: bytes) -> bytes:
    """openpyxl writes strings inline; Excel keeps them in xl/sharedStrings.xml. Do as Excel does."""
    src = zipfile.ZipFile(io.BytesIO(package))
    table: list[bytes] = []
    index: dict[bytes, int] = {}
    count = 0

    def shared(m: re.Match[bytes]) -> bytes:
        nonlocal count
        count += 1
        body = m.group(4)
        if body not in index:
            index[body] = len(table)
            table.append(body)
        return b'<c r="' + m.group(1) + b'"' + m.group(2) + b' t="s"' + m.group(3) + b"><v>%d</v></c>" % index[body]

    parts = {info.filename: src.read(info) for info in src.infolist()}
    for name in parts:
        if name.startswith("xl/worksheets/sheet"):
            parts[name] = _INLINE.sub(shared, parts[name])
    if not table:
        return package
    parts["xl/sharedStrings.xml"] = (
        b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
        b'<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" count="%d" uniqueCount="%d">'
        % (count, len(table))
        + b"".join(b"<si>" + body + b"</si>" for body in table)
        + b"</sst>"
    )
    parts["[Content_Types].xml"] = parts["[Content_Types].xml"].replace(
        b"</Types>",
        b'<Override PartName="/xl/sharedStrings.xml" ContentType="application/vnd.openxmlformats-officedocument.'
        b'spreadsheetml.sharedStrings+xml"/></Types>',
    )
    parts["xl/_rels/workbook.xml.rels"] = parts["xl/_rels/workbook.xml.rels"].replace(
        b"</Relationships>",
        b'<Relationship Id="rIdSharedStrings" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
        b'relationships/sharedStrings" Target="sharedStrings.xml"/></Relationships>',
    )
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for name, data in parts.items():
            dst.writestr(name, data)
    return out.getvalue()


def xlsx_as_generated(sheets: list[Sheet]) -> bytes:
    """The workbook as web systems write it: strings inline (no shared-string table) and a stale
    <dimension ref="A1"/> on every sheet."""
    src = zipfile.ZipFile(io.BytesIO(to_xlsx(sheets, shared=False)))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            data = src.read(info)
            if info.filename.startswith("xl/worksheets/sheet"):
                data = re.sub(rb'<dimension ref="[^"]*"\s*/>', b'<dimension ref="A1"/>', data)
            dst.writestr(info, data)
    return _fixed(out.getvalue())


def to_xls(sheets: list[Sheet]) -> bytes:
    import xlwt

    wb = xlwt.Workbook(encoding="utf-8")
    date_style = xlwt.easyxf(num_format_str="yyyy/m/d")
    for sh in sheets:
        ws = wb.add_sheet(sh.title)
        merged: set[tuple[int, int]] = set()
        for r1, c1, r2, c2 in sh.merges:
            ws.write_merge(r1 - 1, r2 - 1, c1 - 1, c2 - 1, _plain(sh.cells.get((r1, c1))))
            merged |= {(r, c) for r in range(r1, r2 + 1) for c in range(c1, c2 + 1)}
        for (r, c), v in sorted(sh.cells.items()):
            if (r, c) in merged:
                continue
            v = _plain(v)
            if isinstance(v, (dt.date, dt.datetime)):
                ws.write(r - 1, c - 1, v, date_style)
            else:
                ws.write(r - 1, c - 1, v)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def to_ods(sheets: list[Sheet]) -> bytes:
    from odf.opendocument import OpenDocumentSpreadsheet
    from odf.table import CoveredTableCell, Table, TableCell, TableRow
    from odf.text import P

    doc = OpenDocumentSpreadsheet()
    for sh in sheets:
        table = Table(name=sh.title)
        spans = {(r1, c1): (r2 - r1 + 1, c2 - c1 + 1) for r1, c1, r2, c2 in sh.merges}
        covered = {
            (r, c)
            for r1, c1, r2, c2 in sh.merges
            for r in range(r1, r2 + 1)
            for c in range(c1, c2 + 1)
            if (r, c) != (r1, c1)
        }
        max_r = max(r for r, _ in sh.cells)
        max_c = max(c for _, c in sh.cells)
        for r in range(1, max_r + 1):
            tr = TableRow()
            for c in range(1, max_c + 1):
                if (r, c) in covered:
                    tr.addElement(CoveredTableCell())
                    continue
                v = _plain(sh.cells.get((r, c)))
                if v is None:
                    tr.addElement(TableCell())
                    continue
                if isinstance(v, bool) or not isinstance(v, (int, float, dt.date)):
                    cell = TableCell(valuetype="string")
                    text = str(v)
                elif isinstance(v, (dt.date, dt.datetime)):
                    cell = TableCell(valuetype="date", datevalue=v.strftime("%Y-%m-%d"))
                    text = f"{v.year}/{v.month}/{v.day}"
                else:
                    cell = TableCell(valuetype="float", value=str(v))
                    text = str(v)
                if (r, c) in spans:
                    rows, cols = spans[(r, c)]
                    cell.setAttribute("numberrowsspanned", str(rows))
                    cell.setAttribute("numbercolumnsspanned", str(cols))
                cell.addElement(P(text=text))
                tr.addElement(cell)
            table.addElement(tr)
        doc.spreadsheet.addElement(table)
    buf = io.BytesIO()
    doc.write(buf)
    from odf.namespaces import nsdict

    every = frozenset(f' xmlns:{prefix}="{uri}"'.encode() for uri, prefix in nsdict.items())
    return _fixed(buf.getvalue(), every)
