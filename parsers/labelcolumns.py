"""Tables written with their labels down one column instead of across a header row: one
column per member (事業者名 across the row, labels in column A), or one block of label rows per
member (事業者名 repeated down the column)."""

from __future__ import annotations

from typing import Any

from parsers.cellvalues import convert
from parsers.formmap import TableSpec
from parsers.readresult import FormFacts, FormProblem, TableData
from parsers.workbook import Sheet, label_key

__all__ = ["read_label_column"]


def read_label_column(sheet: Sheet, spec: TableSpec, table: TableData, facts: FormFacts) -> bool:
    """A table written with its labels down one column: one column per member (事業者名 across
    the row), or one block of label rows per member (事業者名 repeated down the column)."""
    key_col = spec.columns[0]
    keys = {label_key(x) for x in key_col.labels}
    hits = [(r, c) for (r, c), k in sheet.keys.items() if k in keys]
    by_column: dict[int, list[int]] = {}
    for r, c in hits:
        by_column.setdefault(c, []).append(r)
    for c0, starts in sorted(by_column.items(), key=lambda t: -len(t[1])):
        if len(starts) >= 2:
            ends = [*starts[1:], starts[-1] + 3 * len(spec.columns)]
            records = [(_block(sheet, spec, c0, a, b), a) for a, b in zip(starts, ends, strict=True)]
        else:
            records = _across(sheet, spec, c0, starts[0], table, facts)
        # a record needs its key value and at least one more labelled value
        records = [(rec, r) for rec, r in records if rec[0].get(key_col.key) is not None]
        if records and all(sum(v is not None for v in rec[0].values()) >= 2 for rec, _ in records):
            for (raw, cells), r in records:
                table.rows.append(_convert_cells(spec, raw, cells, facts))
                table.refs.append(sheet.ref(r, c0))
                table.cells.append(cells)
            return True
    return False


def _labels_in(sheet: Sheet, spec: TableSpec, c0: int, rows: range) -> dict[str, int]:
    """Row of each column's label in column c0 within `rows`."""
    found: dict[str, int] = {}
    for col in spec.columns:
        keys = {label_key(x) for x in col.labels}
        row = next((r for r in rows if sheet.keys.get((r, c0)) in keys), None)
        if row is not None:
            found[col.key] = row
    return found


def _block(sheet: Sheet, spec: TableSpec, c0: int, top: int, bottom: int,
           ) -> tuple[dict[str, Any], dict[str, str]]:
    raw: dict[str, Any] = {}
    cells: dict[str, str] = {}
    for key, r in _labels_in(sheet, spec, c0, range(top, bottom)).items():
        c = sheet.block_end(r, c0)[1] + 1
        for cc in range(c, c + 3):
            if sheet.get(r, cc) is not None:
                c = cc
                break
        raw[key] = sheet.get(r, c)
        cells[key] = sheet.ref(r, c)
    return raw, cells


def _across(sheet: Sheet, spec: TableSpec, c0: int, top: int, table: TableData,
            facts: FormFacts) -> list[tuple[tuple[dict[str, Any], dict[str, str]], int]]:
    rows = _labels_in(sheet, spec, c0, range(top, min(sheet.max_row, top + 60) + 1))
    out = []
    for c in range(sheet.block_end(top, c0)[1] + 1, sheet.max_col + 1):
        name = sheet.get(top, c)
        if name is None or (sheet.merged.get((top, c)) or (0, c))[1] != c:
            continue
        raw = {key: sheet.get(r, c) for key, r in rows.items()}
        cells = {key: sheet.ref(r, c) for key, r in rows.items()}
        if isinstance(name, str) and label_key(name) in ("合計", "計", "総合計"):
            table.total = _convert_cells(spec, raw, cells, facts, total_row=True)
            continue
        out.append(((raw, cells), top))
    return out


def _convert_cells(spec: TableSpec, raw: dict[str, Any], cells: dict[str, str],
                   facts: FormFacts, *, total_row: bool = False) -> dict[str, Any]:
    row: dict[str, Any] = {"_raw": {k: v for k, v in raw.items() if v is not None}}
    name = raw.get(spec.columns[0].key)
    for col in spec.columns:
        if col.key not in raw:
            continue
        try:
            row[col.key] = convert(raw[col.key], col.type)
        except ValueError as exc:
            row[col.key] = None
            if not total_row:
                facts.problems.append(FormProblem(
                    "FORM_FIELD_MISSING", facts.doc_key,
                    f"「{spec.title}」の「{col.labels[0]}」({cells[col.key]}): {exc}",
                    str(name) if name else None, col.key))
            continue
        if row[col.key] is None and col.required and not total_row:
            facts.problems.append(FormProblem(
                "FORM_FIELD_MISSING", facts.doc_key,
                f"「{spec.title}」の「{col.labels[0]}」({cells[col.key]})が空欄です。",
                str(name) if name else None, col.key))
    return row
