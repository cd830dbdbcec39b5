"""Which cells of an OOXML workbook hold a formula, read from the sheets' XML.

calamine gives the values Excel saved, never the formulas: a formula saved without its result
(by openpyxl, a script, or any tool that does not calculate) reads as an empty cell. Knowing
which blank cells are formulas lets a blank required field say "open it in Excel and save it
again" instead of "fill it in". Read where the workbook is read (in the sandbox), once.
"""

from __future__ import annotations

import contextlib
import io
import posixpath
import re
import zipfile
from xml.etree import ElementTree

__all__ = ["formula_cells", "has_formula", "sheet_parts"]

_FORMULA = re.compile(rb"<(?:\w+:)?f[\s/>]")
_REF = re.compile(r"\$?([A-Za-z]{1,3})\$?([0-9]{1,7})")
_REL = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}id"


def has_formula(xml: bytes) -> bool:
    """A cheap look: whether a sheet's XML may hold a formula at all (most forms hold none)."""
    return _FORMULA.search(xml) is not None


def formula_cells(xml: bytes, max_row: int, max_col: int) -> set[tuple[int, int]]:
    """The cells (row, column), 1-based, up to `max_row` × `max_col`, holding an <f> element.

    Rows and cells without an `r` attribute follow the one before, as the format allows. XML
    that does not parse gives the cells found before the fault (calamine may still read it:
    the formulas are only a hint)."""
    cells: set[tuple[int, int]] = set()
    with contextlib.suppress(ElementTree.ParseError, ValueError):
        _scan(xml, max_row, max_col, cells)
    return cells


def _scan(xml: bytes, max_row: int, max_col: int, cells: set[tuple[int, int]]) -> None:
    row = col = 0
    in_cell = False
    for event, element in ElementTree.iterparse(io.BytesIO(xml), events=("start", "end")):
        tag = element.tag.rpartition("}")[2]
        if event == "end":
            if tag == "c":
                in_cell = False
            elif tag == "row":
                element.clear()  # keep memory flat over a long sheet
            continue
        if tag == "row":
            row = int(element.get("r") or row + 1)
            col = 0
            if row > max_row:
                break  # rows come in order: the rest is outside the window
        elif tag == "c":
            in_cell = True
            match = _REF.fullmatch(element.get("r") or "")
            col = _column_index(match.group(1)) if match else col + 1
            if match:
                row = int(match.group(2))
        elif tag == "f" and in_cell and row <= max_row and col <= max_col:
            cells.add((row, col))


def sheet_parts(archive: zipfile.ZipFile) -> dict[str, str]:
    """Worksheet part name (xl/worksheets/sheet1.xml) → the sheet's title, from the workbook's
    sheet list and its relationships."""
    try:
        book = ElementTree.fromstring(archive.read("xl/workbook.xml"))
        rels = ElementTree.fromstring(archive.read("xl/_rels/workbook.xml.rels"))
    except (KeyError, ElementTree.ParseError):
        return {}
    targets = {rel.get("Id"): rel.get("Target") or "" for rel in rels}
    parts: dict[str, str] = {}
    for sheet in book.iter():
        if sheet.tag.rpartition("}")[2] != "sheet":
            continue
        target = targets.get(sheet.get(_REL))
        if target and sheet.get("name") is not None:
            part = target.lstrip("/") if target.startswith("/") else \
                posixpath.normpath(posixpath.join("xl", target))
            parts[part] = sheet.get("name") or ""
    return parts


def _column_index(letters: str) -> int:
    index = 0
    for ch in letters.upper():
        index = index * 26 + ord(ch) - 64
    return index
