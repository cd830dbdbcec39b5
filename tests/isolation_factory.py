"""Attachments built to hold a reader for long or grow it large, made the way an attacker would:
by writing the bytes of the format directly (zip records, workbook XML, TNEF attributes), not
with the libraries the product reads them with. Each builder returns the raw mail.
"""

from __future__ import annotations

import random
import struct
import zlib
from collections.abc import Iterator
from functools import cache

from tests import hostile_factory as hf
from tests.archive_factory import Entry, build_zip

# --------------------------------------------------------------------------- workbooks

_CONTENT_TYPES = (
    b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
    b'<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
    b'<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
    b'<Default Extension="xml" ContentType="application/xml"/>'
    b'<Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-'
    b'officedocument.spreadsheetml.sheet.main+xml"/>'
    b'<Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-'
    b'officedocument.spreadsheetml.worksheet+xml"/>'
    b'<Override PartName="/xl/sharedStrings.xml" ContentType="application/vnd.openxmlformats-'
    b'officedocument.spreadsheetml.sharedStrings+xml"/>'
    b"</Types>"
)
_ROOT_RELS = (
    b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
    b'<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    b'<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
    b'relationships/officeDocument" Target="xl/workbook.xml"/></Relationships>'
)
_WORKBOOK = (
    b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
    b'<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
    b'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">'
    b'<sheets><sheet name="\xe4\xba\xa4\xe4\xbb\x98\xe7\x94\xb3\xe8\xab\x8b\xe6\x9b\xb8" '
    b'sheetId="1" r:id="rId1"/></sheets></workbook>'  # sheet 交付申請書
)
_WORKBOOK_RELS = (
    b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
    b'<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    b'<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
    b'relationships/worksheet" Target="worksheets/sheet1.xml"/>'
    b'<Relationship Id="rId2" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
    b'relationships/sharedStrings" Target="sharedStrings.xml"/></Relationships>'
)
_SHEET_HEAD = (b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
               b'<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
               b"<sheetData>")
_SHEET_TAIL = b"</sheetData></worksheet>"
_SST_HEAD = (b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
             b'<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">')
_ONE_CELL = b'<row r="1"><c r="A1" t="s"><v>0</v></c></row>'


def _deflated(pieces: Iterator[bytes]) -> tuple[bytes, int, int]:
    """(raw deflate stream, crc32, size) of the pieces joined, never holding them joined."""
    packer = zlib.compressobj(9, zlib.DEFLATED, -15)
    out: list[bytes] = []
    crc = size = 0
    for piece in pieces:
        crc = zlib.crc32(piece, crc)
        size += len(piece)
        out.append(packer.compress(piece))
    out.append(packer.flush())
    return b"".join(out), crc, size


def _xlsx(sheet: tuple[bytes, int, int], strings: tuple[bytes, int, int]) -> bytes:
    return build_zip([
        Entry(b"[Content_Types].xml", _CONTENT_TYPES),
        Entry(b"_rels/.rels", _ROOT_RELS),
        Entry(b"xl/workbook.xml", _WORKBOOK),
        Entry(b"xl/_rels/workbook.xml.rels", _WORKBOOK_RELS),
        Entry(b"xl/worksheets/sheet1.xml", precompressed=sheet),
        Entry(b"xl/sharedStrings.xml", precompressed=strings),
    ])


def _one_cell_sheet() -> tuple[bytes, int, int]:
    return _deflated(iter([_SHEET_HEAD, _ONE_CELL, _SHEET_TAIL]))


@cache
def xlsx_huge_shared_string(size: int = 500 * hf.MB) -> bytes:
    """One cell whose shared string is `size` bytes of text once inflated (~500 KB on disk)."""
    chunk = b"A" * hf.MB

    def pieces() -> Iterator[bytes]:
        yield _SST_HEAD + b'<si><t>'
        for _ in range(size // len(chunk)):
            yield chunk
        yield b"</t></si></sst>"
    return _xlsx(_one_cell_sheet(), _deflated(pieces()))


@cache
def xlsx_many_shared_strings(count: int = 10_000_000) -> bytes:
    """`count` shared strings (`<si>` entries), one cell using the first."""
    block = b"<si><t>s</t></si>" * 100_000

    def pieces() -> Iterator[bytes]:
        yield _SST_HEAD
        for _ in range(count // 100_000):
            yield block
        yield b"</sst>"
    return _xlsx(_one_cell_sheet(), _deflated(pieces()))


@cache
def xlsx_many_rows(rows: int = 1_000_000) -> bytes:
    """`rows` rows of one numeric cell each (row and cell references may be left out)."""
    block = b"<row><c><v>1</v></c></row>" * 100_000

    def pieces() -> Iterator[bytes]:
        yield _SHEET_HEAD
        for _ in range(rows // 100_000):
            yield block
        yield _SHEET_TAIL
    strings = _deflated(iter([_SST_HEAD, b"<si><t>x</t></si></sst>"]))
    return _xlsx(_deflated(pieces()), strings)


# --------------------------------------------------------------------------- TNEF


def tnef_endless_properties() -> bytes:
    """36 bytes: a TNEF stream whose one MAPI-properties attribute declares 2^32-1 properties
    and holds one and a half. A reader that skips the missing ones instead of stopping loops
    four billion times."""
    props = b"\x02\x00\x01\x00\xaa\xbb\x00\x00" + b"\x02\x00\x01\x00\xaa\xbb\x00"  # PT_I2 x 1.5
    data = struct.pack("<I", 0xFFFFFFFF) + props
    attribute = (struct.pack("<BII", 1, 0x00069003, len(data)) + data
                 + struct.pack("<H", sum(data) & 0xFFFF))
    return struct.pack("<IH", 0x223E9F78, 0x0001) + attribute


# --------------------------------------------------------------------------- zips


@cache
def zip_under_the_floor(members: int = 199, size: int = 1_000_000) -> bytes:
    """`members` distinct members of `size` bytes each (just under the 1 MiB ratio floor, so no
    single member is judged by its ratio): ~218 KB holding ~199 MB."""
    entries = []
    for i in range(members):
        head = random.Random(i).randbytes(64)  # distinct: no two members are the same blob
        entries.append(Entry(f"資料{i:03d}.csv".encode(), head + bytes(size - len(head)),
                             utf8_flag=True))
    return build_zip(entries)


# --------------------------------------------------------------------------- MIME


def many_parts(count: int, msgid: str) -> bytes:
    """A mail of `count` tiny attachment parts (a 1-byte file each), after the sender block."""
    body = [b"--sep\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n",
            hf.BODY.replace("\n", "\r\n").encode(), b"\r\n"]
    for i in range(count):
        body.append(b"--sep\r\nContent-Type: application/octet-stream\r\n"
                    b'Content-Disposition: attachment; filename="p%05d.bin"\r\n\r\nx\r\n' % i)
    body.append(b"--sep--\r\n")
    return hf.raw_mail(msgid, b"".join(body), content_type=b'multipart/mixed; boundary="sep"',
                       cte=b"7bit")
