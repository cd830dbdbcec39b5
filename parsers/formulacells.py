"""Which cells of an OOXML workbook hold a formula, read from the sheets' XML.

calamine gives the values Excel saved, never the formulas: a formula saved without its result
(by openpyxl, a script, or any tool that does not calculate) reads as an empty cell. Knowing
which blank cells are formulas lets a blank required field say "open it in Excel and save it
again" instead of "fill it in". Read where the workbook is read (in the sandbox), once.

The tags are found by pattern, not by an XML parser: a parser keeps every open element, so a
hostile sheet nested a million deep would cost hundreds of megabytes for what is only a hint.
"""

from __future__ import annotations

import html
import posixpath
import re
import zipfile

__all__ = ["formula_cells", "has_formula", "sheet_parts"]

_P = rb"(?:[\w.-]+:)?"  # any namespace prefix
_FORMULA = re.compile(rb"<" + _P + rb"f[\s/>]")
_SHEET_DATA = re.compile(rb"<" + _P + rb"sheetData[\s/>]")
_SHEET_DATA_END = re.compile(rb"</" + _P + rb"sheetData\s*>")
_TAG = re.compile(rb"<" + _P + rb"(row|c|f)(?=[\s/>])([^>]*)>")
_R = re.compile(rb"""\sr\s*=\s*["']\$?([A-Za-z]{0,3})\$?([0-9]{1,7})["']""")
_SHEET = re.compile(rb"<" + _P + rb"sheet\s([^>]*)>")
_RELATIONSHIP = re.compile(rb"<" + _P + rb"Relationship\s([^>]*)>")


def has_formula(xml: bytes) -> bool:
    """A cheap look: whether a sheet's XML may hold a formula at all (most forms hold none)."""
    return _FORMULA.search(xml) is not None


def formula_cells(xml: bytes, max_row: int, max_col: int) -> set[tuple[int, int]]:
    """The cells (row, column), 1-based, up to `max_row` × `max_col`, holding an <f> element
    inside the sheet's data. Rows and cells without an `r` attribute follow the one before, as
    the format allows."""
    start = _SHEET_DATA.search(xml)
    if start is None:
        return set()
    end = _SHEET_DATA_END.search(xml, start.end())
    cells: set[tuple[int, int]] = set()
    row = col = 0
    for tag in _TAG.finditer(xml, start.end(), end.start() if end else len(xml)):
        name = tag.group(1)
        if name == b"f":
            if col <= max_col:
                cells.add((row, col))
            continue
        ref = _R.search(tag.group(2))
        if name == b"row":
            row, col = int(ref.group(2)) if ref else row + 1, 0
            if row > max_row:
                break  # rows come in order: the rest is outside the window
        elif ref and ref.group(1):
            col, row = _column_index(ref.group(1).decode()), int(ref.group(2))
        else:
            col += 1
    return {(r, c) for r, c in cells if 0 < r <= max_row}


def sheet_parts(archive: zipfile.ZipFile) -> dict[str, str]:
    """Worksheet part name (xl/worksheets/sheet1.xml) → the sheet's title, from the workbook's
    sheet list and its relationships."""
    try:
        book = archive.read("xl/workbook.xml")
        rels = archive.read("xl/_rels/workbook.xml.rels")
    except KeyError:
        return {}
    targets = {}
    for rel in _RELATIONSHIP.finditer(rels):
        attrs = _attributes(rel.group(1))
        targets[attrs.get("Id")] = attrs.get("Target", "")
    parts: dict[str, str] = {}
    for sheet in _SHEET.finditer(book):
        attrs = _attributes(sheet.group(1))
        target = targets.get(attrs.get(":id"))
        if target and "name" in attrs:
            part = target.lstrip("/") if target.startswith("/") else \
                posixpath.normpath(posixpath.join("xl", target))
            parts[part] = attrs["name"]
    return parts


_ATTRIBUTE = re.compile(rb"""([\w.:-]+)\s*=\s*(?:"([^"]*)"|'([^']*)')""")


def _attributes(text: bytes) -> dict[str, str]:
    """A tag's attributes, unescaped; a prefixed `r:id` is kept as ":id" whatever its prefix."""
    found: dict[str, str] = {}
    for match in _ATTRIBUTE.finditer(text):
        name = match.group(1).decode("ascii", "replace")
        if ":" in name:
            name = ":" + name.rpartition(":")[2]
        value = match.group(2) if match.group(2) is not None else match.group(3)
        found[name] = html.unescape(value.decode("utf-8", "replace"))
    return found


def _column_index(letters: str) -> int:
    index = 0
    for ch in letters.upper():
        index = index * 26 + ord(ch) - 64
    return index
