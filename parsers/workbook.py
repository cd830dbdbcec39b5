"""A spreadsheet (xlsx, xlsm, xlsb, xls, ods) as grids of cached values, loaded once.

python-calamine reads every format alike, gives the values Excel saved (never the formulas) and
the merged ranges, and styles nothing — which makes it several times faster than openpyxl for
reading. One `Book` serves both recognising the document and reading its fields.
"""

from __future__ import annotations

import functools
import io
import re
import unicodedata
import warnings
import zipfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from parsers.formulacells import formula_cells, has_formula, sheet_parts

__all__ = ["SPREADSHEET_KINDS", "Book", "Sheet", "label_key", "load_book"]

SPREADSHEET_KINDS = frozenset({"xlsx", "xlsm", "xlsb", "xls", "ods"})

# A bound on what is kept, so a sheet claiming a million rows stays fast.
MAX_ROWS = 1000
MAX_COLS = 60

# Decorations around a printed label: 【】, 「１．」, 「(1)」, 「1-1」, 「(ア)」, 「①」, 「■」, 「〔必須〕」
# before; 「※必須」, 「*」, 「(円)」, 「注1」, 「◆」, 「:」 after. Removed before labels are compared.
_LEADING = re.compile(
    r"^(?:[※*■□●○◆◇★☆◎・▼▽▶►\-]+|\d{1,2}(?:-\d{1,2})+[.)、]?|\d{1,2}[.)、]|\(\d{1,2}\)|"
    r"[a-z][.)]|\([a-z]\)|[ァ-ヶ][.)、]|\([ァ-ヶ]\)|〔[^〔〕]*〕|<[^<>]*>|"
    r"[①-⑳]|[ⅰ-ⅿⅠ-Ⅿ][.)]?|[(]?[一二三四五六七八九十][)、.])")
_TRAILING = re.compile(
    r"(\([^()]*\)|\[[^\[\]]*\]|【[^【】]*】|<[^<>]*>|\*+|※.*|必須|任意|注\d{1,2}|[◆◇■□●★☆]+|:)$")
# A number (「1」, 「１」, 「1-1」) or a katakana (「ア」) set off by a space before the label
_SPACED_NUMBER = re.compile(r"^\s*(?:[0-9０-９]{1,2}(?:[-－‐][0-9０-９]{1,2})*|[ァ-ヶｱ-ﾝ])[ \t\u3000]+(?=\S)")


def label_key(text: str) -> str:
    """A label as compared: NFKC, no spaces, casefolded, without decorations and notes.

    【コンソーシアム名】, １．コンソーシアム名, (1)コンソーシアム名, ①コンソーシアム名 ※必須 and
    コンソーシアム名： are all コンソーシアム名; 資本金(円) is 資本金.
    """
    # Every cell is compared with every label of a table head: short texts are cached.
    return _label_key(text) if len(text) <= _CACHED_LENGTH else _label_key.__wrapped__(text)


_CACHED_LENGTH = 200


@functools.lru_cache(maxsize=8192)
def _label_key(text: str) -> str:
    text = re.sub(r"^[\s①-⑳㉑-㉟㊱-㊿❶-❿➀-➉⑴-⒇⒈-⒛]+", "", text)  # NFKC would make ① a bare 1
    text = _SPACED_NUMBER.sub("", text)
    key = "".join(unicodedata.normalize("NFKC", text).split()).casefold()
    whole = re.fullmatch(r"[【\[<(「『〔]([^【】\[\]<>()「」『』〔〕]+)[】\]>)」』〕]", key)
    if whole:
        key = whole.group(1)
    while True:
        trimmed = _LEADING.sub("", key, count=1).lstrip(":")
        if trimmed == key or not trimmed:
            break
        key = trimmed
    while True:
        trimmed = _TRAILING.sub("", key).rstrip(":")
        if trimmed == key or not trimmed:
            break
        key = trimmed
    whole = re.fullmatch(r"[【\[<(「『〔]([^【】\[\]<>()「」『』〔〕]+)[】\]>)」』〕]", key)
    return whole.group(1) if whole else key


class Sheet:
    """One worksheet: its non-empty values by (row, column), 1-based, with merged ranges."""

    def __init__(self, title: str, rows: Iterable[list[Any]],
                 merged: Iterable[tuple[tuple[int, int], tuple[int, int]]] = (),
                 formulas: Iterable[tuple[int, int]] = (), hidden: bool = False) -> None:
        self.title = title
        # A hidden sheet is not what the applicant sees or prints (an old draft, a work copy):
        # a form is read from it only when no visible sheet holds that form.
        self.hidden = hidden
        self.values: dict[tuple[int, int], Any] = {}
        self.max_row = self.max_col = 0
        for r, row in enumerate(rows, 1):
            if r > MAX_ROWS:
                break
            for c, value in enumerate(row[:MAX_COLS], 1):
                value = _plain(value)
                if value is not None:
                    self.values[(r, c)] = value
                    self.max_row = max(self.max_row, r)
                    self.max_col = max(self.max_col, c)
        self.merged: dict[tuple[int, int], tuple[int, int, int, int]] = {}
        for (r0, c0), (r1, c1) in merged:
            if r0 >= MAX_ROWS or c0 >= MAX_COLS:
                continue
            bounds = (r0 + 1, c0 + 1, min(r1, MAX_ROWS - 1) + 1, min(c1, MAX_COLS - 1) + 1)
            if (bounds[2] - bounds[0] + 1) * (bounds[3] - bounds[1] + 1) > 5000:
                continue  # a whole-sheet merge says nothing about where values sit
            for r in range(bounds[0], bounds[2] + 1):
                for c in range(bounds[1], bounds[3] + 1):
                    self.merged[(r, c)] = bounds
        # Cells holding a formula whose saved result is blank: never calculated (a file written
        # by a tool that does not calculate) or empty. Only these are kept: a blank field asks.
        self.uncalculated = frozenset(cell for cell in formulas if cell not in self.values)
        self.keys: dict[tuple[int, int], str] = {}  # label_key of every text cell
        self.labels: dict[str, list[tuple[int, int]]] = {}
        for (r, c), value in sorted(self.values.items()):
            if isinstance(value, str):
                key = label_key(value)
                self.keys[(r, c)] = key
                self.labels.setdefault(key, []).append((r, c))

    def get(self, r: int, c: int) -> Any:
        top = self.merged.get((r, c))
        if top:
            r, c = top[0], top[1]
        return self.values.get((r, c))

    def block_end(self, r: int, c: int) -> tuple[int, int]:
        """Last row and column of the (merged) block that holds r, c."""
        bounds = self.merged.get((r, c))
        return (bounds[2], bounds[3]) if bounds else (r, c)

    def find(self, labels: Iterable[str]) -> list[tuple[int, int]]:
        hits: list[tuple[int, int]] = []
        for label in labels:
            hits.extend(self.labels.get(label_key(label), []))
        return sorted(set(hits))

    def texts(self, max_row: int | None = None) -> list[tuple[int, int, str]]:
        """Every text cell (row, column, text) in reading order, optionally only the top rows."""
        return [(r, c, v) for (r, c), v in sorted(self.values.items())
                if isinstance(v, str) and (max_row is None or r <= max_row)]

    def ref(self, r: int, c: int) -> str:
        return f"{self.title}!{_column_letter(c)}{r}"


@dataclass
class Book:
    """A loaded workbook: its sheets in order (hidden ones too, marked so).
    Values only, never the file's bytes: a Book crosses from the sandbox to the parent."""

    sheets: list[Sheet]

    @property
    def sheet_names(self) -> list[str]:
        return [s.title for s in self.sheets]

    @classmethod
    def joined(cls, books: Sequence[Book]) -> Book:
        """Several files of one document as one book (a single file is returned as it is)."""
        # a second copy of the same workbook (same sheets) adds nothing: the first one counts
        parts: list[Book] = []
        for book in books:
            if not any(set(book.sheet_names) <= set(p.sheet_names) for p in parts):
                parts.append(book)
        if len(parts) == 1:
            return parts[0]
        return cls([s for b in parts for s in b.sheets])


def load_book(data: bytes) -> Book:
    """Read every sheet of an xlsx/xlsm/xlsb/xls/ods file. Raises for what is not one."""
    from python_calamine import CalamineWorkbook, SheetVisibleEnum

    sprawling, formulas = _scan_ooxml(data)
    if sprawling:
        return _load_window(data, formulas)
    if _sprawling_biff(data):
        raise ValueError("シートの使用範囲が大きすぎます(不要なセルを削除して保存し直してください)")
    book = CalamineWorkbook.from_filelike(io.BytesIO(data))
    try:
        sheets = []
        visible = [m.visible == SheetVisibleEnum.Visible for m in book.sheets_metadata]
        for index, name in enumerate(book.sheet_names):
            sheet = book.get_sheet_by_index(index)
            merged = getattr(sheet, "merged_cell_ranges", None) or ()
            rows = sheet.to_python(skip_empty_area=False, nrows=MAX_ROWS)
            hidden = index < len(visible) and not visible[index]
            sheets.append(Sheet(name, rows, merged, formulas.get(name, ()), hidden))
        return Book(sheets)
    finally:
        book.close()


# calamine holds a sheet as one dense grid from its first to its last cell: a value typed at
# XFD1048576 (by accident or by design) would ask for billions of cells. Such a workbook is read
# with openpyxl's streaming reader instead, only the window this program looks at.
_MAX_GRID_CELLS = 5_000_000
_SHEET_XML_LIMIT = 64 * 1024 * 1024
_CELL_REF = re.compile(rb'<c r="([A-Z]{1,3})([0-9]{1,7})"[^>]*?(/?)>')


def _scan_ooxml(data: bytes) -> tuple[bool, dict[str, set[tuple[int, int]]]]:
    """One pass over the worksheets' XML: whether a sheet's filled cells span more than
    _MAX_GRID_CELLS (or cannot be told), and the cells holding formulas, by sheet title."""
    if not data.startswith(b"PK"):
        return False, {}
    by_part: dict[str, set[tuple[int, int]]] = {}
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as zf:
            sprawling = _sprawling_parts(zf, by_part)
            titles = sheet_parts(zf) if by_part else {}
    except (zipfile.BadZipFile, OSError, ValueError, EOFError):
        return False, {}  # not a package calamine can read either: let it say so
    return sprawling, {titles[part]: cells for part, cells in by_part.items() if part in titles}


def _sprawling_parts(zf: zipfile.ZipFile, formulas: dict[str, set[tuple[int, int]]]) -> bool:
    """Whether a worksheet spans too much; fills `formulas` (part name → cells) on the way."""
    sprawling = False
    for info in zf.infolist():
        name = info.filename
        if not (name.startswith("xl/worksheets/") and name.endswith(".xml")):
            continue
        with zf.open(info) as fh:
            xml = fh.read(_SHEET_XML_LIMIT + 1)
        if len(xml) > _SHEET_XML_LIMIT:
            sprawling = True
            continue
        if has_formula(xml):
            formulas[name] = formula_cells(xml, MAX_ROWS, MAX_COLS)
        if not sprawling:
            sprawling = _spans_too_much(xml)
    return sprawling


def _spans_too_much(xml: bytes) -> bool:
    rows: list[int] = []
    cols: list[int] = []
    for match in _CELL_REF.finditer(xml):
        if match.group(3):
            continue  # <c r="…" s="1"/>: formatting only, no value
        cols.append(_column_index(match.group(1).decode()))
        rows.append(int(match.group(2)))
    return bool(rows) and (max(rows) - min(rows) + 1) * (max(cols) - min(cols) + 1) > \
        _MAX_GRID_CELLS


def _sprawling_biff(data: bytes) -> bool:
    """An .xls sheet whose DIMENSIONS record spans more than _MAX_GRID_CELLS."""
    if not data.startswith(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"):
        return False
    try:
        import olefile

        with olefile.OleFileIO(io.BytesIO(data)) as ole:
            name = next((n for n in ("Workbook", "Book") if ole.exists(n)), None)
            if name is None:
                return False
            stream = ole.openstream(name).read()
    except Exception:  # noqa: BLE001 - not a BIFF file calamine can read either
        return False
    pos = 0
    while pos + 4 <= len(stream):
        kind, size = int.from_bytes(stream[pos:pos + 2], "little"), \
            int.from_bytes(stream[pos + 2:pos + 4], "little")
        if kind == 0x0200 and size >= 12:  # DIMENSIONS: first/last+1 row (u32), column (u16)
            body = stream[pos + 4:pos + 16]
            rows = int.from_bytes(body[4:8], "little") - int.from_bytes(body[0:4], "little")
            cols = int.from_bytes(body[10:12], "little") - int.from_bytes(body[8:10], "little")
            if rows * cols > _MAX_GRID_CELLS:
                return True
        pos += 4 + size
    return False


def _load_window(data: bytes, formulas: dict[str, set[tuple[int, int]]]) -> Book:
    import openpyxl

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        wb = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    try:
        sheets = []
        for ws in wb.worksheets:
            rows = (list(row) for row in
                    ws.iter_rows(max_row=MAX_ROWS, max_col=MAX_COLS, values_only=True))
            sheets.append(Sheet(ws.title, rows, formulas=formulas.get(ws.title, ()),
                                hidden=ws.sheet_state != "visible"))
        return Book(sheets)
    finally:
        wb.close()


def _column_index(letters: str) -> int:
    index = 0
    for ch in letters:
        index = index * 26 + ord(ch) - 64
    return index


# Zero-width characters pasted with text from web pages and PDFs: invisible, never meant.
_INVISIBLE = dict.fromkeys(map(ord, "\u200b\u200c\u200d\u2060\ufeff"))


def _plain(value: Any) -> Any:
    """calamine's '' is empty, integral floats are ints, times of day stay as they are."""
    if value is None or value == "":
        return None
    if isinstance(value, str):
        value = value.translate(_INVISIBLE)
        return value if value.strip() else None
    if isinstance(value, float) and value.is_integer() and abs(value) < 2**53:
        return int(value)
    if isinstance(value, datetime | date | time | timedelta | bool | int | float):
        return value
    return str(value)


def _column_letter(c: int) -> str:
    letters = ""
    while c:
        c, rest = divmod(c - 1, 26)
        letters = chr(65 + rest) + letters
    return letters
