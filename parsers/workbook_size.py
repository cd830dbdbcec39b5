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
from xml.parsers.expat import ExpatError, ParserCreate

from parsers.limits import Limits

DEFAULT_LIMITS = Limits()
SPREADSHEET_KINDS = frozenset({"xlsx", "xlsm", "ods"})

_CHUNK = 256 * 1024
_TAG_TAIL = 64  # kept between chunks, so a tag cut in two is still counted once
# Cells and rows of OOXML sheets (c, row) and of OpenDocument tables, with any namespace prefix;
# merged ranges too, which the reader hands over one object each (a real form has a few hundred).
_CELLS = re.compile(rb"<(?:\w+:)?(?:c|row|mergeCell|table-cell|table-row)[\s/>]")
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
            repeats = _RepeatedCells() if info.filename == "content.xml" else None
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
                        if repeats is not None:
                            try:
                                cells += repeats.feed(chunk)
                            except ExpatError:
                                repeats = None  # not XML: the reader says so in its own words
                        if cells > limits.max_workbook_cells:
                            return f"セル・行の数が上限（{limits.max_workbook_cells:,}）を超えています"
                        if strings > limits.max_workbook_strings:
                            return f"文字列の数が上限（{limits.max_workbook_strings:,}）を超えています"
            except _Declared:
                return "ブックの内容に文書型宣言（DTD）が含まれています"
            except (zipfile.BadZipFile, OSError, EOFError, RuntimeError, ValueError):
                return None  # damaged: the reader says so in its own words
    return None


_TABLE = "urn:oasis:names:tc:opendocument:xmlns:table:1.0"
_OFFICE = "urn:oasis:names:tc:opendocument:xmlns:office:1.0"


class _Declared(Exception):
    """The table XML declares a DTD."""


class _RepeatedCells:
    """The cells an OpenDocument table declares beyond the tags written: a cell with content
    repeated across (`number-columns-repeated`) in a row repeated down (`number-rows-repeated`)
    stands for columns x rows cells, and every reader writes each of them out. Empty repeated
    cells (LibreOffice pads every sheet with them) hold nothing and count for nothing.

    Fed the XML chunk by chunk (expat, no tree kept, entities never expanded)."""

    def __init__(self) -> None:
        self.extra = 0
        self._row = 1  # repeat of the row being read
        self._cell = 0  # repeat of the open cell, until its content is seen
        self._depth = 0  # elements open inside that cell
        parser = ParserCreate(namespace_separator=" ")
        parser.StartElementHandler = self._start
        parser.EndElementHandler = self._end
        parser.StartDoctypeDeclHandler = self._doctype
        self._parser = parser

    def feed(self, chunk: bytes) -> int:
        before = self.extra
        self._parser.Parse(chunk, False)
        return self.extra - before

    def _start(self, name: str, attrs: dict[str, str]) -> None:
        if self._cell and self._depth == 0:
            self._count()  # the cell has content: a paragraph, an annotation, ...
        if self._depth:
            self._depth += 1
            return
        if name == f"{_TABLE} table-row":
            self._row = _repeat(attrs.get(f"{_TABLE} number-rows-repeated"))
        elif name in (f"{_TABLE} table-cell", f"{_TABLE} covered-table-cell"):
            self._cell = _repeat(attrs.get(f"{_TABLE} number-columns-repeated"))
            self._depth = 1
            if f"{_OFFICE} value-type" in attrs:
                self._count()

    @staticmethod
    def _doctype(*_: object) -> None:
        # Office writers never declare a DTD; one could define entities that hide tags from
        # the count (and expat would expand them).
        raise _Declared

    def _end(self, name: str) -> None:
        if self._depth:
            self._depth -= 1
            if self._depth == 0:
                self._cell = 0

    def _count(self) -> None:
        # The one tag written was counted already by the tag scan.
        self.extra += self._cell * self._row - 1
        self._cell = 0


def _repeat(value: str | None) -> int:
    try:
        return max(1, min(int(value or 1), 1 << 24))
    except ValueError:
        return 1
