"""Which sheet of a workbook holds a form, and from which row: by the sheet's name, else by
the form's title cell (sheets named 様式1/様式2, or several forms stacked on one sheet); a
template's 記入例 sheet or a hidden sheet only when nothing else names the form."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Sequence

from parsers.cellvalues import unit_scale
from parsers.workbook import Book, Sheet, label_key

__all__ = ["norm", "scopes", "sheet_unit"]

_EXAMPLE = ("記入例", "記載例", "見本", "サンプル", "sample")


def scopes(book: Book, names: Sequence[str],
           labels: Iterable[str] = ()) -> list[tuple[Sheet, int]]:
    """(sheet, first row) to search: sheets named so; else sheets whose title cell says so
    (様式1/様式2 …), from that cell on; else the sheets holding most of the form's `labels`
    (the labels of the fields it shares its sheet with) first; else every sheet."""
    # A template's 記入例 (filled-in example) sheet, and a hidden sheet (an old draft, a work
    # copy), are read only when nothing else is there.
    example = [s for s in book.sheets if s.hidden or any(w in norm(s.title) for w in _EXAMPLE)]
    filled = [s for s in book.sheets if all(s is not e for e in example)]
    if not names:
        return [(s, 1) for s in filled + example]
    wanted = [norm(n) for n in names]
    for sheets in (filled, example):
        named = [(s, _title_row(s, wanted) or 1) for s in sheets
                 if any(w in norm(s.title) for w in wanted)]
        if named:
            return named
        titled = [(row, i, s) for i, s in enumerate(sheets)
                  if (row := _title_row(s, wanted)) is not None]
        if titled:
            titled.sort(key=lambda t: (t[0] > 10, t[0], t[1]))
            return [(s, row) for row, _i, s in titled]
    keys = {label_key(x) for x in labels}
    ranked = sorted(enumerate(filled + example),
                    key=lambda t: (-sum(1 for k in keys if k in t[1].labels), t[0]))
    return [(s, 1) for _i, s in ranked]


def _title_row(sheet: Sheet, wanted: Sequence[str]) -> int | None:
    """Row of the first title cell naming the form: short and ending with the form's name
    (「令和4年度 … 補助金交付申請書」, 「【様式2】事業計画書」), not a sentence mentioning it."""
    for (r, _c), key in sheet.keys.items():  # in reading order
        if len(key) <= 40 and key.endswith(tuple(wanted)):
            return r
    return None


def norm(text: str) -> str:
    return "".join(unicodedata.normalize("NFKC", text).split()).casefold()


_UNIT_NOTE = re.compile(r"単位[:：]?(百万円|千円|万円|円)")


def sheet_unit(sheet: Sheet, row: int) -> int:
    """Yen per unit of a 「(単位：千円)」 note printed above `row` on the sheet (1 when none)."""
    scale = 1
    for (r, _c), key in sheet.keys.items():
        if r > row:
            break
        match = _UNIT_NOTE.search(key)
        if match:
            scale = unit_scale(match.group(1)) or 1
    return scale
