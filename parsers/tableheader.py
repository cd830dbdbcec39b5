"""The header of a form's table: which sheet column holds which field, and in what unit."""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from parsers.cellvalues import NOTE_YEN_FLOOR, parse_category, parse_role, unit_scale
from parsers.formmap import TableSpec
from parsers.formscope import norm, sheet_unit
from parsers.workbook import Sheet, label_key

__all__ = ["TableHeader", "find_header", "match_header"]

_UNITS = re.compile(r"^[(\[【]?(単位[:：]?)?(円|千円|万円|百万円|人|名|者|社|%|税込|税抜)[)\]】]?$")


@dataclass
class TableHeader:
    columns: dict[str, tuple[int, int]]  # column key → first and last sheet column of its block
    first_row: int  # first row after the header (and its units row)
    scale: dict[str, int | None] = field(default_factory=dict)  # amounts in 千円/万円 columns
    # STEPs as columns (one row per member and 経費区分, amounts under STEP1…STEP4): step → column
    step_columns: dict[int, tuple[int, int]] = field(default_factory=dict)
    total_column: tuple[int, int] | None = None  # the row-total column of such a table
    # 経費区分 as columns (amounts under ソフトウェア購入費, 人件費 …): category → column
    category_columns: dict[str, tuple[int, int]] = field(default_factory=dict)
    # 区分 as tick columns (○ under 中小ユーザ企業 / ITベンダ / その他協力者): role → column
    role_columns: dict[str, tuple[int, int]] = field(default_factory=dict)
    # the key column given once above the table (「事業者名 | 株式会社…」 on a sheet per member)
    constants: dict[str, Any] = field(default_factory=dict)


def match_header(sheet: Sheet, spec: TableSpec, rows: Sequence[int],
                  strict: bool = True) -> TableHeader | None:
    columns: dict[str, tuple[int, int]] = {}
    scale: dict[str, int | None] = {}
    taken: set[tuple[int, int]] = set()  # a header cell names one column only
    found_in: dict[str, int] = {}  # column key → header row its label is on
    last_row = rows[0]
    for col in spec.columns:
        # the first label listed is the most specific: 補助対象経費 before 金額
        rank = {label_key(label): i for i, label in reversed(list(enumerate(col.labels)))}
        for r in rows:
            hits = [(rank[k], c) for c in range(1, sheet.max_col + 1)
                    if (k := sheet.keys.get((r, c))) in rank and (r, c) not in taken]
            hit = min(hits)[1] if hits else None
            if hit is not None:
                taken.add((r, hit))
                found_in[col.key] = r
                end_r, end_c = sheet.block_end(r, hit)
                columns[col.key] = (hit, end_c)
                last_row = max(last_row, end_r)
                text = norm(sheet.values[(r, hit)])
                scale[col.key] = unit_scale(text)
                break
    if len({lo for lo, _hi in columns.values()}) < len(columns):
        return None  # labels stacked in one column: a block of label rows, not a header
    steps, total = _step_columns(sheet, spec, rows, columns)
    categories = _choice_columns(sheet, spec, rows, taken, "category", parse_category)
    roles = _choice_columns(sheet, spec, rows, taken, "role", parse_role)
    if found_in.get("role") == rows[0] and len(rows) > 1:
        # 「区分（該当に○）」 over tick columns headed 中小ユーザ企業 / ITベンダ / その他協力者
        under = _choice_columns(sheet, spec, rows[1:], set(), "role", parse_role, titled=False)
        if under:
            roles = under
            del columns["role"], scale["role"]
    if categories and total is None:
        total = next(((c, sheet.block_end(r, c)[1]) for r in rows for c in range(1, sheet.max_col + 1)
                      if sheet.keys.get((r, c)) in ("合計", "計", "合計額")), None)
    constants = _constant_above(sheet, spec, rows[0]) if (
        spec.columns[0].key not in columns and len(columns) >= 3) else {}
    given = set(columns) | set(constants) | ({"step", "amount"} if steps else set()) | (
        {"category", "amount"} if categories else set()) | ({"role"} if roles else set())
    # The key column (the first) and most of the required ones: a template without one
    # required column is still this table (the missing column is reported, not the table).
    required = [c.key for c in spec.columns if c.required] or [spec.columns[0].key]
    found = sum(1 for key in required if key in given)
    if spec.columns[0].key not in given or found * 2 < len(required) or (
            len(required) > 1 and found < 2) or (strict and found < len(required)) or not columns:
        return None
    return TableHeader(columns, last_row + 1, scale, steps, total, categories, roles, constants)


def _constant_above(sheet: Sheet, spec: TableSpec, top: int) -> dict[str, Any]:
    """「事業者名 | 株式会社北斗食品」 written once above a table that has no 事業者名 column."""
    key = spec.columns[0]
    labels = {label_key(x) for x in key.labels}
    for r in range(top - 1, max(0, top - 6), -1):
        for c in range(1, sheet.max_col + 1):
            if sheet.keys.get((r, c)) in labels:
                value = sheet.get(r, sheet.block_end(r, c)[1] + 1)
                if value is not None:
                    return {key.key: value}
    return {}


def _choice_columns(sheet: Sheet, spec: TableSpec, rows: Sequence[int],
                    taken: set[tuple[int, int]], key: str,
                    parse: Callable[[object], str | None],
                    titled: bool = True) -> dict[str, tuple[int, int]]:
    """Header cells naming the values of a column the table lacks (a column per 経費区分 or
    per 区分), when there are at least two; 「うち下請け発注額」 is a part, not a value.
    `titled=False`: the column's own label is a group title above these rows, not a column."""
    if key not in {c.key for c in spec.columns} or titled and any(
            (r, c) in taken and sheet.keys.get((r, c)) in {label_key(x) for col in spec.columns
                                                         if col.key == key for x in col.labels}
            for r in rows for c in range(1, sheet.max_col + 1)):
        return {}
    found: dict[str, tuple[int, int]] = {}
    for r in rows:
        for c in range(1, sheet.max_col + 1):
            text = sheet.keys.get((r, c))
            if text is None or (r, c) in taken or text.startswith("うち") or len(text) > 20:
                continue
            value = parse(text)
            if value and value not in found:
                found[value] = (c, sheet.block_end(r, c)[1])
    return found if len(found) >= 2 else {}


_STEP_HEADER = re.compile(r"^(?:step|ステップ|工程)([1-4])")


def _step_columns(sheet: Sheet, spec: TableSpec, rows: Sequence[int],
                  columns: dict[str, tuple[int, int]],
                  ) -> tuple[dict[int, tuple[int, int]], tuple[int, int] | None]:
    """Columns headed STEP1…STEP4 in a table whose 工程 and amount are not columns of their own."""
    keys = {c.key for c in spec.columns}
    if not {"step", "amount"} <= keys or "step" in columns or "amount" in columns:
        return {}, None
    steps: dict[int, tuple[int, int]] = {}
    total = None
    for r in rows:
        for c in range(1, sheet.max_col + 1):
            key = sheet.keys.get((r, c))
            if key is None:
                continue
            match = _STEP_HEADER.match(key)
            if match:
                steps.setdefault(int(match.group(1)), (c, sheet.block_end(r, c)[1]))
            elif key in ("合計", "計", "合計額", "小計"):
                total = (c, sheet.block_end(r, c)[1])
    return (steps, total) if len(steps) >= 2 else ({}, None)


def find_header(sheet: Sheet, spec: TableSpec, start: int) -> TableHeader | None:
    """The header row (all required columns present; a two-tier header counts as one)."""
    if spec.anchor:
        anchors = [hit for hit in sheet.find(spec.anchor) if hit[0] >= start]
        if anchors:
            start = anchors[0][0]
        elif not spec.required:
            return None  # an optional table is only where its title says (not another's rows)
    for strict in (True, False):  # every required column first; a template lacking one next
        for r in range(start, sheet.max_row + 1):
            header = (match_header(sheet, spec, [r], strict)
                      or match_header(sheet, spec, [r, r + 1], strict))
            if header:
                header.first_row = _after_units(sheet, header)
                noted = sheet_unit(sheet, header.first_row - 1)  # 「(単位：千円)」 above it
                for key, scale in header.scale.items():
                    if scale is None:  # no unit in the header: the note, unless yen-sized
                        header.scale[key] = noted if _small(sheet, header, key) else 1
                return header
    return None


def _small(sheet: Sheet, header: TableHeader, key: str) -> bool:
    """Whether every number in the column is under NOTE_YEN_FLOOR (so not already yen)."""
    lo, hi = header.columns[key]
    numbers = [v for (r, c), v in sheet.values.items() if r >= header.first_row and lo <= c <= hi
               and isinstance(v, int | float) and not isinstance(v, bool)]
    return all(abs(v) < NOTE_YEN_FLOOR for v in numbers)


def _after_units(sheet: Sheet, header: TableHeader) -> int:
    """Skip a units row 「(円)」「(人)」 under the headers, noting 千円/万円 columns."""
    r = header.first_row
    texts = {key: sheet.get(r, lo) for key, (lo, _hi) in header.columns.items()}
    filled = {k: v for k, v in texts.items() if v is not None}
    if filled and all(isinstance(v, str) and _UNITS.match(norm(v)) for v in filled.values()):
        for key, v in filled.items():
            text = norm(v)
            header.scale[key] = unit_scale(text)
        return r + 1
    return r

