"""How big a workbook really is, judged before any reader loads it.

A workbook is a zip of XML: a 50 KB .xlsx can hold a 500 MB shared string, ten million shared
strings or a million rows, and every workbook reader builds objects for all of it. This reads
the XML parts once, chunk by chunk, never holding more than one chunk: it counts the inflated
bytes, the cells and rows of the sheets and the entries of the shared-string table, and stops at
the first bound passed. A real application form is far below every bound.
"""

from __future__ import annotations

import io
import re
import zipfile

from parsers.limits import Limits

DEFAULT_LIMITS = Limits()
SPREADSHEET_KINDS = frozenset({"xlsx", "xlsm", "ods"})

_CHUNK = 256 * 1024
_TAG_TAIL = 64  # kept between chunks, so a tag cut in two is still counted once
# Cells and rows of OOXML sheets (c, row) and of OpenDocument tables, with any namespace prefix.
_CELLS = re.compile(rb"<(?:\w+:)?(?:c|row|table-cell|table-row)[\s/>]")
_STRINGS = re.compile(rb"<(?:\w+:)?si[\s/>]")


def workbook_problem(data: bytes, limits: Limits = DEFAULT_LIMITS) -> str | None:
    """Why this workbook must not be loaded (plain Japanese), or None when it is within bounds.

    Bytes that are not a readable zip are left to the reader, which reports them as it does.
    """
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except (zipfile.BadZipFile, ValueError, OSError):
        return None
    inflated = cells = strings = 0
    with archive:
        for info in archive.infolist():
            if not info.filename.endswith((".xml", ".rels")):
                continue
            if info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
                return "ブック内部のデータが対応していない方式で圧縮されています"
            counter = _STRINGS if info.filename.endswith("sharedStrings.xml") else _CELLS
            tail = b""
            try:
                with archive.open(info) as part:
                    while chunk := part.read(_CHUNK):
                        inflated += len(chunk)
                        if inflated > limits.max_workbook_xml_bytes:
                            mb = limits.max_workbook_xml_bytes // (1024 * 1024)
                            return f"ブックの内容を展開すると上限（{mb}MB）を超えます"
                        window = tail + chunk
                        # Tags wholly inside the carried tail were counted with the last chunk.
                        found = sum(1 for m in counter.finditer(window) if m.end() > len(tail))
                        tail = window[-_TAG_TAIL:]
                        if counter is _STRINGS:
                            strings += found
                        else:
                            cells += found
                        if cells > limits.max_workbook_cells:
                            return f"セル・行の数が上限（{limits.max_workbook_cells:,}）を超えています"
                        if strings > limits.max_workbook_strings:
                            return f"文字列の数が上限（{limits.max_workbook_strings:,}）を超えています"
            except (zipfile.BadZipFile, OSError, EOFError, RuntimeError, ValueError):
                return None  # damaged: the reader says so in its own words
    return None
