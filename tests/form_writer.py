"""Spreadsheet, PDF and archive bytes for the reading corpus, written from a plain cell grid.

A form is first laid out as `Sheet`s (cell values by 1-based row/column, merged ranges, hidden
flag, formulas with the value Excel saved for them) and then emitted as .xlsx (openpyxl, with the
formula's cached value patched in as Excel leaves it), .xls (xlwt) or .ods (odfpy), so the same
layout can be sent in each format an applicant might use.
"""

from __future__ import annotations

import datetime as dt
import io
import re
import zipfile
from dataclasses import dataclass, field

Cell = tuple[int, int]


@dataclass
class Sheet:
    title: str
    cells: dict[Cell, object] = field(default_factory=dict)
    merges: list[tuple[int, int, int, int]] = field(default_factory=list)  # r1, c1, r2, c2
    hidden: bool = False
    protected: bool = False  # sheet protection (locked label cells), not encryption
    formulas: dict[Cell, str] = field(default_factory=dict)  # cell -> formula (value is cached)

    def put(self, row: int, col: int, value: object) -> None:
        if value is not None and value != "":
            self.cells[(row, col)] = value

    def merge(self, r1: int, c1: int, r2: int, c2: int) -> None:
        if (r1, c1) != (r2, c2):
            self.merges.append((r1, c1, r2, c2))


def _col(n: int) -> str:
    out = ""
    while n:
        n, rem = divmod(n - 1, 26)
        out = chr(65 + rem) + out
    return out


# --- .xlsx -------------------------------------------------------------------------------------

def to_xlsx(sheets: list[Sheet]) -> bytes:
    import openpyxl

    wb = openpyxl.Workbook()
    wb.remove(wb.active)
    for sheet in sheets:
        ws = wb.create_sheet(sheet.title)
        for (r, c), value in sorted(sheet.cells.items()):
            cell = ws.cell(row=r, column=c, value=value)
            if isinstance(value, (dt.date, dt.datetime)):
                cell.number_format = "yyyy/m/d"
            if isinstance(value, str) and "\n" in value:
                cell.alignment = openpyxl.styles.Alignment(wrap_text=True)
        for r1, c1, r2, c2 in sheet.merges:
            ws.merge_cells(start_row=r1, start_column=c1, end_row=r2, end_column=c2)
        if sheet.hidden:
            ws.sheet_state = "hidden"
        if sheet.protected:
            ws.protection.sheet = True
            ws.protection.password = "renkei"
    if all(s.hidden for s in sheets[:1]) and len(sheets) > 1:
        wb.active = next(i for i, s in enumerate(sheets) if not s.hidden)
    buf = io.BytesIO()
    wb.save(buf)
    data = buf.getvalue()
    if any(s.formulas for s in sheets):
        data = _patch_formulas(data, sheets)
    return data


def _patch_formulas(data: bytes, sheets: list[Sheet]) -> bytes:
    """Give each formula cell its <f> beside the cached <v>, as a workbook saved by Excel has."""
    src = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            body = src.read(info.filename)
            m = re.fullmatch(r"xl/worksheets/sheet(\d+)\.xml", info.filename)
            if m:
                sheet = sheets[int(m.group(1)) - 1]
                text = body.decode("utf-8")
                for (r, c), formula in sheet.formulas.items():
                    ref = f"{_col(c)}{r}"
                    text = re.sub(rf'(<c r="{ref}"[^>]*>)(<v>)', rf"\1<f>{formula}</f>\2", text)
                body = text.encode("utf-8")
            dst.writestr(info, body)
    return out.getvalue()


def as_xlsm(data: bytes) -> bytes:
    """The workbook with the macro-enabled main part type an .xlsm template carries."""
    src = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            body = src.read(info.filename)
            if info.filename == "[Content_Types].xml":
                body = body.replace(
                    b"application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml",
                    b"application/vnd.ms-excel.sheet.macroEnabled.main+xml")
            dst.writestr(info, body)
    return out.getvalue()


def encrypt_office(data: bytes, password: str) -> bytes:
    """The workbook as Excel's "パスワードを付けて保存" leaves it (agile encryption)."""
    from msoffcrypto.format.ooxml import OOXMLFile

    out = io.BytesIO()
    OOXMLFile(io.BytesIO(data)).encrypt(password, out)
    return out.getvalue()


# --- .xls --------------------------------------------------------------------------------------

def to_xls(sheets: list[Sheet]) -> bytes:
    import xlwt

    wb = xlwt.Workbook(encoding="utf-8")
    date_style = xlwt.easyxf(num_format_str="yyyy/m/d")
    for sheet in sheets:
        ws = wb.add_sheet(sheet.title, cell_overwrite_ok=True)
        if sheet.hidden:
            ws.visibility = 1
        merged_tops = {}
        for r1, c1, r2, c2 in sheet.merges:
            merged_tops[(r1, c1)] = (r2, c2)
        for (r, c), value in sorted(sheet.cells.items()):
            if isinstance(value, dt.datetime):
                value = value.date()
            style = date_style if isinstance(value, dt.date) else xlwt.Style.default_style
            if (r, c) in merged_tops:
                r2, c2 = merged_tops.pop((r, c))
                ws.write_merge(r - 1, r2 - 1, c - 1, c2 - 1, value, style)
            else:
                ws.write(r - 1, c - 1, value, style)
        for (r1, c1), (r2, c2) in merged_tops.items():
            ws.merge(r1 - 1, r2 - 1, c1 - 1, c2 - 1)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


# --- .ods --------------------------------------------------------------------------------------

def to_ods(sheets: list[Sheet]) -> bytes:
    from odf.opendocument import OpenDocumentSpreadsheet
    from odf.style import Style, TableProperties
    from odf.table import CoveredTableCell, Table, TableCell, TableRow
    from odf.text import P

    doc = OpenDocumentSpreadsheet()
    hidden_style = Style(name="HiddenTable", family="table")
    hidden_style.addElement(TableProperties(display=False))
    doc.automaticstyles.addElement(hidden_style)
    for sheet in sheets:
        table = Table(name=sheet.title, stylename=hidden_style if sheet.hidden else None)
        spans = {(r1, c1): (r2 - r1 + 1, c2 - c1 + 1) for r1, c1, r2, c2 in sheet.merges}
        covered = {(r, c) for r1, c1, r2, c2 in sheet.merges
                   for r in range(r1, r2 + 1) for c in range(c1, c2 + 1)} - set(spans)
        max_r = max([r for r, _ in sheet.cells] + [m[2] for m in sheet.merges] + [1])
        max_c = max([c for _, c in sheet.cells] + [m[3] for m in sheet.merges] + [1])
        for r in range(1, max_r + 1):
            row = TableRow()
            for c in range(1, max_c + 1):
                if (r, c) in covered:
                    row.addElement(CoveredTableCell())
                    continue
                attrs: dict[str, object] = {}
                if (r, c) in spans:
                    attrs["numberrowsspanned"], attrs["numbercolumnsspanned"] = spans[(r, c)]
                value = sheet.cells.get((r, c))
                if value is None:
                    row.addElement(TableCell(**attrs))
                    continue
                if isinstance(value, bool):
                    value = str(value)
                if isinstance(value, (dt.date, dt.datetime)):
                    iso = value.date().isoformat() if isinstance(value, dt.datetime) else value.isoformat()
                    cell = TableCell(valuetype="date", datevalue=iso, **attrs)
                    cell.addElement(P(text=iso.replace("-", "/")))
                elif isinstance(value, (int, float)):
                    cell = TableCell(valuetype="float", value=value, **attrs)
                    cell.addElement(P(text=str(value)))
                else:
                    cell = TableCell(valuetype="string", **attrs)
                    for line in str(value).split("\n"):
                        cell.addElement(P(text=line))
                row.addElement(cell)
            table.addElement(row)
        doc.spreadsheet.addElement(table)
    buf = io.BytesIO()
    doc.write(buf)
    return buf.getvalue()


# --- PDF and archives --------------------------------------------------------------------------

def tiny_pdf(text: str) -> bytes:
    """A one-page PDF whose only text is `text` (ASCII), as a scanned-and-stamped page would be."""
    stream = f"BT /F1 12 Tf 72 720 Td ({text}) Tj ET".encode("ascii")
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R"
        b" /Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for i, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % i + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    for off in offsets:
        out += b"%010d 00000 n \n" % off
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    return bytes(out)


def to_zip(files: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in files.items():
            info = zipfile.ZipInfo(name, date_time=(2022, 8, 25, 10, 30, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            zf.writestr(info, data)
    return buf.getvalue()


def fake_archive(kind: str, payload: bytes) -> bytes:
    """Bytes with the signature of an archive format the program does not unpack."""
    heads = {
        "lzh": b"\x25\x00-lh5-" + len(payload).to_bytes(4, "little") * 2 + b"\x00\x00\x00\x00\x20\x01",
        "7z": b"7z\xbc\xaf\x27\x1c\x00\x04" + b"\x00" * 24,
        "rar": b"Rar!\x1a\x07\x01\x00" + b"\x00" * 8,
    }
    return heads[kind] + payload
