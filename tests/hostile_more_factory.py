"""More hostile mails and attachments, of kinds tests/redteam_factory.py does not make.

Attachments are written the way the outside world writes them: openpyxl's workbooks with their
XML patched by hand, zips and PDFs written byte for byte, MIME written as raw bytes so the
standard library never repairs what a test put in. Every mail comes from the hostile sender
for a consortium of its own (tests/hostile_factory.py), so it never joins the canary's
submission.
"""

from __future__ import annotations

import base64
import io
import re
import struct
import zipfile
import zlib

from tests import hostile_factory as hf
from tests import redteam_factory as rf
from tests.archive_factory import Entry, build_zip, lzh_header, nested_zip
from tests.mails import documents

MB = hf.MB
FORM = "4_交付申請書.xlsx"


def _forms() -> dict[str, bytes]:
    """The hostile consortium's valid set, the application form under a plain name."""
    files = documents(hf.CONSORTIUM)
    [form] = [n for n in files if n.startswith("4_")]
    files[FORM] = files.pop(form)
    return files


def _with_form(msgid: str, form: bytes) -> bytes:
    return hf.hostile(msgid, {**_forms(), FORM: form})


def _repack(xlsx: bytes, change: dict[str, bytes | None]) -> bytes:
    """The workbook with the named parts replaced (None: removed) or added."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(xlsx)) as src, \
            zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            if info.filename in change:
                continue
            dst.writestr(info.filename, src.read(info.filename))
        for name, data in change.items():
            if data is not None:
                dst.writestr(name, data)
    return out.getvalue()


def _part(xlsx: bytes, name: str) -> bytes:
    with zipfile.ZipFile(io.BytesIO(xlsx)) as z:
        return z.read(name)


def _form() -> bytes:
    return _forms()[FORM]


# --------------------------------------------------------------------------- workbooks


def xlsx_cell_at_xfd1048576() -> bytes:
    """The real form plus one value in the last cell Excel has (XFD1048576), the dimension
    claiming the whole sheet: a reader that makes the range dense makes 17 billion cells."""
    form = _form()
    sheet = _part(form, "xl/worksheets/sheet1.xml")
    sheet = re.sub(rb'<dimension ref="[^"]*"/>', b'<dimension ref="A1:XFD1048576"/>', sheet)
    sheet = sheet.replace(b"</sheetData>", b'<row r="1048576"><c r="XFD1048576" t="inlineStr">'
                          b"<is><t>x</t></is></c></row></sheetData>")
    return _repack(form, {"xl/worksheets/sheet1.xml": sheet})


def xlsx_validation_list(entries: int = 1_000_000) -> bytes:
    """A data-validation list of `entries` choices on one cell (~8 MB inflated)."""
    form = _form()
    sheet = _part(form, "xl/worksheets/sheet1.xml")
    items = ",".join(f"c{i}" for i in range(entries))
    rule = (f'<dataValidations count="1"><dataValidation type="list" sqref="B2">'
            f'<formula1>"{items}"</formula1></dataValidation></dataValidations>').encode()
    anchor = b"<pageMargins" if b"<pageMargins" in sheet else b"</worksheet>"
    sheet = sheet.replace(anchor, rule + anchor, 1)
    return _repack(form, {"xl/worksheets/sheet1.xml": sheet})


def xlsx_many_styles(count: int = 1_000_000) -> bytes:
    """styles.xml of `count` cell formats (~40 MB inflated, ~200 KB on disk)."""
    form = _form()
    xfs = b'<xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/>' * count
    styles = (b'<?xml version="1.0" encoding="UTF-8"?><styleSheet xmlns="http://schemas.'
              b'openxmlformats.org/spreadsheetml/2006/main"><fonts count="1"><font><sz val="11"/>'
              b'</font></fonts><fills count="1"><fill><patternFill patternType="none"/></fill>'
              b'</fills><borders count="1"><border/></borders><cellStyleXfs count="1"><xf/>'
              b'</cellStyleXfs><cellXfs count="%d">' % count + xfs + b"</cellXfs></styleSheet>")
    return _repack(form, {"xl/styles.xml": styles})


def xlsx_rels_in_circles() -> bytes:
    """The workbook's relationships point at themselves, at the package root and out of the
    package; [Content_Types].xml is gone."""
    form = _form()
    rels = (b'<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.'
            b'openxmlformats.org/package/2006/relationships">'
            b'<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/'
            b'2006/relationships/worksheet" Target="_rels/workbook.xml.rels"/>'
            b'<Relationship Id="rId2" Type="http://schemas.openxmlformats.org/officeDocument/'
            b'2006/relationships/worksheet" Target="../../../../etc/passwd"/>'
            b'<Relationship Id="rId3" Type="http://schemas.openxmlformats.org/officeDocument/'
            b'2006/relationships/worksheet" Target="/xl/workbook.xml"/>'
            b"</Relationships>")
    return _repack(form, {"xl/_rels/workbook.xml.rels": rels, "[Content_Types].xml": None})


def xlsx_sheet_part_absent() -> bytes:
    """The workbook lists its sheets but the sheet parts are not in the package."""
    form = _form()
    with zipfile.ZipFile(io.BytesIO(form)) as z:
        sheets = [n for n in z.namelist() if n.startswith("xl/worksheets/")]
    return _repack(form, dict.fromkeys(sheets))


# --------------------------------------------------------------------------- archives


def zip_empty_members(count: int = 5000) -> bytes:
    """`count` empty members (a 'zip everything' of a folder of empty files)."""
    return build_zip(Entry(f"空/{i:05d}.txt".encode(), b"", utf8_flag=True) for i in range(count))


def zip_directory_disagrees() -> bytes:
    """The central directory names and sizes one thing, the local headers another: the valid
    forms, each local header's name changed and its compressed size doubled."""
    src = hf.VALID_ZIP.read_bytes()
    data = bytearray(src)
    pos = 0
    while (pos := data.find(b"PK\x03\x04", pos)) != -1:
        csize, _, nlen = struct.unpack_from("<IIH", data, pos + 18)
        struct.pack_into("<I", data, pos + 18, csize * 2 + 7)
        data[pos + 30] ^= 0x20  # first byte of the name differs
        pos += 30 + nlen
    return bytes(data)


def zip_three_deep() -> bytes:
    """The valid forms in a zip in a zip in a zip (a folder zipped, then again, then again)."""
    inner = hf.VALID_ZIP.read_bytes()
    for level in (2, 1):
        inner = build_zip([Entry(f"第{level}層.zip".encode(), inner, utf8_flag=True)])
    return inner


def zip_eight_deep() -> bytes:
    return nested_zip(8, b"leaf.pdf", b"%PDF-1.4\n%%EOF\n")


def zip_odd_names() -> bytes:
    """Members named '', '/', '.', '..', '...', 'CON', 'NUL.pdf', with controls and an RTL
    override; two members of the same name and different contents."""
    names = [b"", b"/", b".", b"..", b"...", b"CON", b"NUL.pdf", b"COM1.xlsx", b"a\x01\x1b[2Jb.pdf",
             "申請\u202efdp.exe".encode(), b"x" * 1000 + b".pdf", b"same.pdf", b"same.pdf"]
    return build_zip(Entry(n, b"%PDF-1.4\n" + bytes([i]), utf8_flag=True)
                     for i, n in enumerate(names))


def lzh() -> bytes:
    """An LHA archive as Japanese offices still send (level-0 header, stored member)."""
    return lzh_header("申請書.pdf".encode("cp932"))


def seven_zip() -> bytes:
    """A 7z signature header (version 0.4) and a little of what follows."""
    return b"7z\xbc\xaf\x27\x1c\x00\x04" + struct.pack("<IQQI", 0, 32, 0, 0) + b"\x00" * 64


def rar5() -> bytes:
    return b"Rar!\x1a\x07\x01\x00" + b"\x33\x92\xb5\xe5\x0a\x01\x05\x06\x00\x05\x01\x01\x80\x80\x00"


# --------------------------------------------------------------------------- PDFs


def pdf_xref_prev_loop() -> bytes:
    """An incremental update whose trailer's /Prev points back at itself."""
    base = rf._pdf([b"<< /Type /Catalog /Pages 2 0 R >>",
                    b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
                    b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] >>"])
    xref = len(base)
    return base + (b"xref\n0 1\n0000000000 65535 f \ntrailer\n<< /Size 4 /Root 1 0 R /Prev %d >>\n"
                   b"startxref\n%d\n%%%%EOF\n" % (xref, xref))


def pdf_object_stream_claims() -> bytes:
    """An object stream declaring 100 million objects and a cross-reference stream whose
    /W and /Index ask for 10 million entries."""
    body = zlib.compress(b"1 0 " * 10)
    objstm = (b"<< /Type /ObjStm /N 100000000 /First 8 /Length %d /Filter /FlateDecode >>\n"
              b"stream\n" % len(body) + body + b"\nendstream")
    xrefdata = zlib.compress(b"\x01\x00\x00\x00\x00" * 4)
    return rf._pdf([
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R >>",
        objstm,
        b"<< /Type /XRef /Size 10000000 /W [1 4 4] /Index [0 10000000] /Length %d "
        b"/Filter /FlateDecode >>\nstream\n" % len(xrefdata) + xrefdata + b"\nendstream",
    ])


def pdf_deep_arrays(depth: int = 100_000) -> bytes:
    """A page whose /MediaBox is an array nested `depth` levels deep."""
    return rf._pdf([b"<< /Type /Catalog /Pages 2 0 R >>",
                    b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
                    b"<< /Type /Page /Parent 2 0 R /MediaBox " + b"[" * depth + b"]" * depth
                    + b" >>"])


# --------------------------------------------------------------------------- MIME by hand


def boundary_inside_base64() -> bytes:
    """A careless mailer: the boundary line appears in the middle of the zip's base64."""
    lines = base64.encodebytes(hf.VALID_ZIP.read_bytes()).replace(b"\n", b"\r\n").split(b"\r\n")
    half = len(lines) // 2
    data = b"\r\n".join(lines[:half] + [b"--sep"] + lines[half:])
    part = (b'Content-Type: application/zip; name="shinsei.zip"\r\nContent-Disposition: '
            b'attachment; filename="shinsei.zip"\r\nContent-Transfer-Encoding: base64\r\n\r\n'
            + data)
    return rf._multipart("b64boundary", [part])


def rfc2231_out_of_order() -> bytes:
    """filename*2*, *0*, *1* in that order, and a gap (*5*) after them."""
    pieces = [rf._pct(p).decode() for p in ("申請", "書類", ".zip")]
    disposition = ("attachment;\r\n filename*2*=" + pieces[2] + ";\r\n filename*0*=utf-8''"
                   + pieces[0] + ";\r\n filename*1*=" + pieces[1] + ";\r\n filename*5*=zz")
    part = (b"Content-Type: application/zip\r\nContent-Transfer-Encoding: base64\r\n"
            b"Content-Disposition: " + disposition.encode() + b"\r\n\r\n"
            + base64.encodebytes(hf.VALID_ZIP.read_bytes()).replace(b"\n", b"\r\n"))
    return rf._multipart("rfc2231order", [part])


def one_huge_encoded_word(size: int = MB) -> bytes:
    """A Subject that is one encoded word of `size` bytes of base64, unfolded."""
    text = ("<耐性試験コンソーシアム>" + "申" * (size // 4)).encode()
    word = b"=?utf-8?b?" + base64.b64encode(text)[:size] + b"?="
    return hf.raw_mail("ew1mb", rf.CRLF_BODY, subject=word)


def hostile_charsets() -> bytes:
    """Charset names a mail should never carry: utf-7 on the text, unknown and path-like names
    on the subject's encoded words and the attachment's name."""
    text = hf.BODY.encode("utf-7").replace(b"\n", b"\r\n")
    parts = [
        b'Content-Type: text/plain; charset="../../etc/passwd"\r\n\r\n' + rf.CRLF_BODY,
        b"Content-Type: application/zip; name=\"=?x-unknown?B?" + base64.b64encode(b"a.zip")
        + b"?=\"\r\nContent-Disposition: attachment; filename*=../../etc''%E7%94%B3.zip\r\n"
          b"Content-Transfer-Encoding: base64\r\n\r\n"
        + base64.encodebytes(hf.VALID_ZIP.read_bytes()).replace(b"\n", b"\r\n"),
    ]
    body = [b"--sep\r\nContent-Type: text/plain; charset=utf-7\r\n\r\n" + text + b"\r\n"]
    body += [b"--sep\r\n" + p + b"\r\n" for p in parts] + [b"--sep--\r\n"]
    subject = (b"=?utf-7?Q?+MKI-?= =?../../etc?B?" + base64.b64encode(b"x") + b"?= "
               + hf.SUBJECT.encode())
    return hf.raw_mail("charsets", b"".join(body), subject=subject, cte=b"7bit",
                       content_type=b'multipart/mixed; boundary="sep"')


def many_recipients(count: int = 100_000) -> bytes:
    """A To: folded over `count` lines, one address each (~3 MB of header)."""
    to = b",\r\n ".join(b"u%d@example.jp" % i for i in range(count))
    return hf.raw_mail("manyto", rf.CRLF_BODY, headers=[b"Cc: " + to])


def only_nul(size: int = MB) -> bytes:
    return b"\x00" * size


def odd_attachment_names() -> bytes:
    """Attachments named with controls, an RTL override, 1,000 characters, CON/NUL, only dots."""
    names = ["CON", "NUL.pdf", "...", ".", "a\x07\x1b[2Jb.pdf", "申請\u202efdp.exe",
             "長" * 1000 + ".pdf", "\u3000.pdf", "aux.xlsx"]
    return rf._multipart("oddnames", [rf._attachment(n, b"%PDF-1.4\n%%EOF\n") for n in names])


def mbox_from_line_mid_base64(canary: bytes) -> bytes:
    """An mbox whose first mail has a `From ` line in the middle of its base64 attachment (an
    mbox writer that did not escape it), then the canary."""
    mail = hf.hostile("frommid", {"shinsei.zip": hf.VALID_ZIP.read_bytes()}).replace(b"\r\n", b"\n")
    lines = mail.split(b"\n")
    middle = len(lines) // 2  # inside the zip's base64, by far the largest part
    assert len(lines[middle]) == 76, lines[middle]
    mail = b"\n".join(lines[:middle] + [b"From someone@example.jp Wed Aug 10 10:00:00 2022"]
                      + lines[middle:])
    stamp = b"From MAILER-DAEMON Wed Aug 10 10:00:00 2022\n"
    return stamp + mail + b"\n" + stamp + canary.replace(b"\r\n", b"\n") + b"\n"


MAILS = {
    "xlsx-cell-at-xfd1048576": lambda: _with_form("xfd", xlsx_cell_at_xfd1048576()),
    "xlsx-validation-1m-list": lambda: _with_form("dv", xlsx_validation_list()),
    "xlsx-1m-styles": lambda: _with_form("styles", xlsx_many_styles()),
    "xlsx-rels-in-circles": lambda: _with_form("rels", xlsx_rels_in_circles()),
    "xlsx-sheet-parts-absent": lambda: _with_form("nosheet", xlsx_sheet_part_absent()),
    "zip-5000-empty-members": lambda: hf.hostile("empties", {"空.zip": zip_empty_members()}),
    "zip-directory-disagrees": lambda: hf.hostile("cdlie", {"申請書類.zip": zip_directory_disagrees()}),
    "zip-three-deep": lambda: hf.hostile("deep3", {"申請書類.zip": zip_three_deep()}),
    "zip-eight-deep": lambda: hf.hostile("deep8", {"申請書類.zip": zip_eight_deep()}),
    "zip-odd-member-names": lambda: hf.hostile("oddzip", {"申請書類.zip": zip_odd_names()}),
    "lzh-attachment": lambda: hf.hostile("lzh", {"申請書類.lzh": lzh()}),
    "7z-attachment": lambda: hf.hostile("7z", {"申請書類.7z": seven_zip()}),
    "rar5-attachment": lambda: hf.hostile("rar", {"申請書類.rar": rar5()}),
    "pdf-xref-prev-loop": lambda: hf.hostile("pdfprev", {"計画書.pdf": pdf_xref_prev_loop()}),
    "pdf-object-stream-claims": lambda: hf.hostile("objstm", {"計画書.pdf": pdf_object_stream_claims()}),
    "pdf-100000-deep-arrays": lambda: hf.hostile("pdfdeep", {"計画書.pdf": pdf_deep_arrays()}),
    "boundary-inside-base64": boundary_inside_base64,
    "rfc2231-out-of-order": rfc2231_out_of_order,
    "encoded-word-1mb": one_huge_encoded_word,
    "hostile-charset-names": hostile_charsets,
    "cc-100000-addresses": many_recipients,
    "odd-attachment-names": odd_attachment_names,
}


def ods_repeated(rows: int = 1_048_576, columns: int = 16_384) -> bytes:
    """An OpenDocument sheet (odfpy) of one written cell, repeated `columns` times across and
    the row `rows` times down: a few hundred bytes that declare 17 billion cells."""
    from odf.opendocument import OpenDocumentSpreadsheet
    from odf.table import Table, TableCell, TableRow
    from odf.text import P

    doc = OpenDocumentSpreadsheet()
    table = Table(name="交付申請書")
    row = TableRow(numberrowsrepeated=rows)
    cell = TableCell(valuetype="string", numbercolumnsrepeated=columns)
    cell.addElement(P(text="コンソーシアム名"))
    row.addElement(cell)
    table.addElement(row)
    doc.spreadsheet.addElement(table)
    out = io.BytesIO()
    doc.write(out)
    return out.getvalue()


def xls_last_cell() -> bytes:
    """A BIFF8 .xls (xlwt) with one value in A1 and one in the last cell the format has."""
    import xlwt

    book = xlwt.Workbook()
    sheet = book.add_sheet("交付申請書")
    sheet.write(0, 0, "コンソーシアム名")
    sheet.write(65535, 255, "x")
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def xlsx_many_sheets(count: int = 3000) -> bytes:
    """openpyxl's workbook of `count` sheets of one cell each."""
    from openpyxl import Workbook

    book = Workbook()
    for i in range(count):
        sheet = book.active if i == 0 else book.create_sheet()
        sheet.title = f"S{i}"
        sheet["A1"] = "交付申請書"
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


MAILS |= {
    "ods-17-billion-repeated-cells": lambda: hf.hostile("odsrep", {"4_交付申請書.ods": ods_repeated()}),
    "xls-last-cell": lambda: hf.hostile("xlslast", {"4_交付申請書.xls": xls_last_cell()}),
    "xlsx-3000-sheets": lambda: hf.hostile("sheets", {FORM: xlsx_many_sheets()}),
}


def xlsx_merged_cells(count: int = 500_000) -> bytes:
    """The real form plus `count` merged ranges of two cells each (~15 MB inflated)."""
    form = _form()
    sheet = _part(form, "xl/worksheets/sheet1.xml")
    merges = b"".join(b'<mergeCell ref="A%d:B%d"/>' % (r, r) for r in range(1000, 1000 + count))
    sheet = re.sub(rb"<mergeCells[^>]*>.*?</mergeCells>|<mergeCells[^>]*/>", b"", sheet,
                   flags=re.S)
    anchor = b"<pageMargins" if b"<pageMargins" in sheet else b"</worksheet>"
    sheet = sheet.replace(anchor, b'<mergeCells count="%d">' % count + merges + b"</mergeCells>"
                          + anchor, 1)
    return _repack(form, {"xl/worksheets/sheet1.xml": sheet})


def xlsx_defined_names(count: int = 300_000) -> bytes:
    """The real form whose workbook.xml defines `count` names (~20 MB inflated)."""
    form = _form()
    book = _part(form, "xl/workbook.xml")
    names = b"".join(b'<definedName name="n%d">Sheet1!$A$1</definedName>' % i
                     for i in range(count))
    book = re.sub(rb"<definedNames>.*?</definedNames>", b"", book, flags=re.S)
    book = book.replace(b"</sheets>", b"</sheets><definedNames>" + names + b"</definedNames>", 1)
    return _repack(form, {"xl/workbook.xml": book})


def xlsx_rich_runs(runs: int = 1_000_000) -> bytes:
    """One cell of `runs` rich-text runs (~20 MB inflated)."""
    form = _form()
    sheet = _part(form, "xl/worksheets/sheet1.xml")
    sheet = sheet.replace(b"</sheetData>", b'<row r="900"><c r="A900" t="inlineStr"><is>'
                          + b"<r><t>a</t></r>" * runs + b"</is></c></row></sheetData>")
    return _repack(form, {"xl/worksheets/sheet1.xml": sheet})


def xlsx_deep_elements(depth: int = 200_000) -> bytes:
    """A cell whose inline string is nested `depth` elements deep."""
    form = _form()
    sheet = _part(form, "xl/worksheets/sheet1.xml")
    deep = b"<x>" * depth + b"</x>" * depth
    sheet = sheet.replace(b"</sheetData>", b'<row r="900"><c r="A900" t="inlineStr"><is><t>a</t>'
                          + deep + b"</is></c></row></sheetData>")
    return _repack(form, {"xl/worksheets/sheet1.xml": sheet})


def docx_deep_elements(depth: int = 200_000) -> bytes:
    """A Word document (written by hand, minimal parts) whose body nests `depth` elements."""
    ns = b'xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"'
    doc = (b'<?xml version="1.0" encoding="UTF-8"?><w:document ' + ns + b"><w:body><w:p><w:r>"
           b"<w:t>\xe8\xa8\x88\xe7\x94\xbb\xe6\x9b\xb8</w:t></w:r></w:p>" + b"<w:p>" * depth
           + b"</w:p>" * depth + b"</w:body></w:document>")
    types = (b'<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.'
             b'org/package/2006/content-types"><Override PartName="/word/document.xml" '
             b'ContentType="application/vnd.openxmlformats-officedocument.wordprocessingml.'
             b'document.main+xml"/></Types>')
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("[Content_Types].xml", types)
        z.writestr("word/document.xml", doc)
    return out.getvalue()


MAILS |= {
    "xlsx-500000-merged-ranges": lambda: _with_form("merges", xlsx_merged_cells()),
    "xlsx-300000-defined-names": lambda: _with_form("names", xlsx_defined_names()),
    "xlsx-1m-rich-text-runs": lambda: _with_form("runs", xlsx_rich_runs()),
    "xlsx-200000-deep-elements": lambda: _with_form("deepx", xlsx_deep_elements()),
    "docx-200000-deep-elements": lambda: hf.hostile("deepw", {"計画書.docx": docx_deep_elements()}),
}


def blank_lines_in_base64(count: int = 7_000_000) -> bytes:
    """The submission zip in base64, after `count` lines of one space (13 MB): base64 decoders
    skip them, but the MIME parser holds each line as an object of its own."""
    data = base64.encodebytes(hf.VALID_ZIP.read_bytes()).replace(b"\n", b"\r\n")
    part = (b'Content-Type: application/zip; name="shinsei.zip"\r\nContent-Disposition: '
            b'attachment; filename="shinsei.zip"\r\nContent-Transfer-Encoding: base64\r\n\r\n'
            + b" \r\n" * count + data)
    return rf._multipart("blanklines", [part])


MAILS |= {"base64-after-7m-blank-lines": blank_lines_in_base64}


def auto_reply_of_blank_lines(count: int = 7_000_000) -> bytes:
    """The same, marked as an auto-reply: the bounce reader parses such mails once more."""
    return b"Auto-Submitted: auto-replied\r\n" + blank_lines_in_base64(count).replace(
        b"<blanklines@", b"<autoblank@", 1)


MAILS |= {"auto-reply-after-7m-blank-lines": auto_reply_of_blank_lines}


def multipart_without_boundary() -> bytes:
    """multipart/mixed with no boundary parameter: the parts cannot be told apart."""
    body = b"--sep\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n" + rf.CRLF_BODY + b"\r\n--sep--\r\n"
    return hf.raw_mail("nobound", body, content_type=b"multipart/mixed", cte=b"7bit")


MAILS |= {"multipart-without-boundary": multipart_without_boundary}
