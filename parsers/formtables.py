"""The rows of a form's table (members, costs, checklist), read from its header down to its total."""

from __future__ import annotations

import re
from typing import Any

from parsers.cellvalues import (
    convert,
    is_dash,
    parse_tick,
)
from parsers.formmap import TableSpec
from parsers.formscope import norm, scopes
from parsers.labelcolumns import read_label_column
from parsers.readresult import FormFacts, FormProblem, TableData
from parsers.tableheader import TableHeader, find_header, match_header
from parsers.workbook import Book, Sheet, label_key

__all__ = ["read_table"]

_MAX_BLANK_ROWS = 30  # blank rows a table may hold between its groups (STEP1 … STEP4)
_TOTALS = ("合計", "総合計", "総計", "計", "合計額", "総額", "合計金額", "総合計額", "補助対象経費合計")
_GRAND = ("総合計", "総計", "総合計額")
_HEADING = re.compile(r"^(step|工程|[【\[<(■□●◆◇▼▶※*]|注[:記意])")
# A group's own total: 「STEP1合計」「工程2 計」「①計」「STEP3(設計・開発)合計」.
_GROUP_TOTAL = re.compile(r"(?:step|工程)[\d①-④]+(?:.{0,20}合計|の?計)|[①-④].{0,20}合計|[①-④]の?計")



def read_table(book: Book, spec: TableSpec, facts: FormFacts, labels: frozenset[str]) -> None:
    table = TableData()
    facts.tables[spec.key] = table
    named = scopes(book, spec.sheets)
    where = list(named)
    if spec.required:  # a table on a sheet of its own (構成員一覧) is still this form's
        where += [(s, 1) for s in book.sheets if all(s is not t for t, _ in where)]
    for i, (sheet, start) in enumerate(where):
        header = find_header(sheet, spec, start)
        if not header:
            continue
        table.found = True
        _read_rows(sheet, spec, header, table, facts, labels)
        # the table continued on the form's next sheets (「交付申請書(続き)」)
        for more, more_start in (named[i + 1:] if i < len(named) else []):
            if (more_header := find_header(more, spec, more_start)) is not None:
                total = table.total
                _read_rows(more, spec, more_header, table, facts, labels)
                table.total = table.total or total
        for col in spec.columns:
            given = table.rows and all(row.get(col.key) is not None for row in table.rows)
            if col.required and col.key not in header.columns and not given and \
                    col.key not in header.constants:
                facts.problems.append(FormProblem(
                    "FORM_FIELD_MISSING", facts.doc_key,
                    f"「{spec.title}」の表に「{col.labels[0]}」の列がありません。",
                    column=col.key))
        break
    if not table.rows:
        # labels down a column; one sheet per member (事業者情報入力シート(1), (2) …) adds up
        for sheet, _start in named:
            table.found = read_label_column(sheet, spec, table, facts) or table.found
        for sheet, _start in ([] if table.found else where):
            if read_label_column(sheet, spec, table, facts):
                table.found = True
                break
    if not table.found and spec.required:
        facts.problems.append(FormProblem(
            "FORM_FIELD_MISSING", facts.doc_key,
            f"「{spec.title}」の表が様式に見つかりません(様式の版をご確認ください)。",
        ))
    elif spec.required and not table.rows:
        facts.problems.append(FormProblem(
            "FORM_FIELD_MISSING", facts.doc_key, f"「{spec.title}」が記入されていません。",
        ))


def _cell(sheet: Sheet, r: int, span: tuple[int, int]) -> Any:
    """A data cell under a (possibly merged, several columns wide) header: the first value.
    A block merged in from a column left of this one (a note across the row) is not its value."""
    for c in range(span[0], span[1] + 1):
        block = sheet.merged.get((r, c))
        if block and block[1] < span[0]:
            continue
        value = sheet.get(r, c)
        if value is not None:
            return value
    return None


def _row_kind(sheet: Sheet, r: int, last_col: int, totals: set[str],
              labels: frozenset[str]) -> str | None:
    """'subtotal', 'total', 'grand', 'end' (another field's label) or None for a data row."""
    for c in range(1, last_col + 1):
        key = sheet.keys.get((r, c))
        if key is None:
            continue
        if "小計" in key:
            return "subtotal"
        if key in _GRAND:
            return "grand"
        if key in totals:
            return "total"
        if _GROUP_TOTAL.fullmatch(key):
            return "subtotal"
        if key in labels and len(key) > 2:
            return "end"
    return None


def _empty(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip()) or is_dash(value)


def _is_data(raw: dict[str, Any], spec: TableSpec) -> bool:
    """A row of the table, not a note or a stray value: its key column or two columns filled."""
    filled = [k for k, v in raw.items() if not _empty(v)]
    if not filled:
        return False
    several = sum(1 for c in spec.columns if c.required) >= 2  # one value is not a whole row
    if several and len(filled) == 1 and _HEADING.match(norm(str(raw[filled[0]]))):
        return False  # a group heading (「STEP1 ITツールの購入・設定」, 【STEP2】) or a note
    if len(filled) == 1 and isinstance(raw[filled[0]], str) and any(
            c.type == "amount" and c.required for c in spec.columns):
        return False  # a text alone where amounts are listed: a heading, not a cost
    key_col = spec.columns[0].key
    if key_col in raw and not _empty(raw[key_col]):
        text = str(raw[key_col]).strip()
        return not (text.startswith(("※", "注", "*")) and len(filled) == 1)
    return len(filled) >= 2


def _read_rows(sheet: Sheet, spec: TableSpec, header: TableHeader, table: TableData,
               facts: FormFacts, labels: frozenset[str]) -> None:
    spans = [*header.columns.values(), *header.step_columns.values(),
             *header.category_columns.values(), *header.role_columns.values()]
    last_col = max(hi for _lo, hi in [*spans, *([header.total_column] if header.total_column else [])])
    totals = {label_key(t) for t in (*spec.total, *_TOTALS)}
    header_keys = {label_key(lab) for col in spec.columns for lab in col.labels}
    # a repeated header is not the next field's label, nor a cell saying this table's title
    labels = labels - header_keys - {label_key(a) for a in spec.anchor}
    blanks = 0
    group_start = len(table.rows)  # first row of the group a 小計 row sums
    # the last group heading (【中小ユーザ企業】, STEP2 要件定義), starting with one just above
    heading: str | None = next((h for rr in range(header.first_row - 2, header.first_row - 5, -1)
                                if (h := _heading(sheet, rr, last_col))), None)
    r = header.first_row
    while r <= sheet.max_row:
        raw = {key: _cell(sheet, r, span) for key, span in header.columns.items()}
        kind = _row_kind(sheet, r, last_col, totals, labels)
        if kind == "end":
            return
        if kind == "grand" or (kind == "total" and not _more_rows_follow(
                sheet, spec, header, r, last_col, totals, labels)):
            table.total = _convert_row(sheet, spec, header, r, raw, facts, total_row=True)
            if header.step_columns or header.category_columns:
                table.total["amount"] = _step_total(sheet, header, r)
            return
        if kind in ("subtotal", "total"):
            _check_subtotal(sheet, spec, header, r, raw, facts, table, group_start)
            group_start = len(table.rows)
            r += 1
            continue
        texts = [v for v in raw.values() if isinstance(v, str)]
        if texts and all(label_key(v) in header_keys for v in texts):
            r += 1  # the header repeated (printed on each page)
            continue
        if not _is_data(raw, spec):
            heading = _heading(sheet, r, last_col) or heading
            blanks += 1
            if blanks >= _MAX_BLANK_ROWS:
                return
            r += 1
            continue
        blanks = 0
        raw.update({k: v for k, v in header.constants.items() if raw.get(k) is None})
        reading = _furigana_row(sheet, spec, header, r, raw)
        if reading:  # the name is on the next row, the reading on this one: read them as one
            raw[spec.columns[0].key] = reading
            r += 1
        _fill(raw, spec, table.rows[-1]["_raw"] if table.rows else {}, heading)
        row = _convert_row(sheet, spec, header, r, raw, facts)
        for col in spec.columns:  # a column the table lacks, given by the group's heading
            if col.key not in header.columns and col.type in ("role", "step") and heading:
                row[col.key] = convert(heading, col.type) if _parses(heading, col.type) else None
        cells = {key: sheet.ref(r, lo) for key, (lo, _hi) in header.columns.items()}
        for step_row, cell in _by_step(sheet, spec, header, r, row, facts):
            table.rows.append(step_row)
            table.refs.append(sheet.ref(r, min(lo for lo, _hi in header.columns.values())))
            table.cells.append({**cells, "amount": cell} if cell else cells)
        r += 1


_KANA = re.compile(r"^[ァ-ヶｦ-ﾟー・･\s()]+$")


def _furigana_row(sheet: Sheet, spec: TableSpec, header: TableHeader, r: int,
                  raw: dict[str, Any]) -> Any:
    """The name on row r+1 when row r holds only its reading (フリガナ) above it, the other
    cells merged over both rows; None otherwise."""
    key = spec.columns[0].key
    text = raw.get(key)
    if key not in header.columns or not isinstance(text, str) or not _KANA.match(norm(text)):
        return None
    lo, _hi = header.columns[key]
    below = sheet.get(r + 1, lo)
    if not isinstance(below, str) or _KANA.match(norm(below)) or sheet.merged.get((r, lo)):
        return None
    merged_down = any((block := sheet.merged.get((r, c0))) and block[2] > r
                      for k, (c0, _c1) in header.columns.items() if k != key)
    return below if merged_down else None


def _by_step(sheet: Sheet, spec: TableSpec, header: TableHeader, r: int, row: dict[str, Any],
             facts: FormFacts) -> list[tuple[dict[str, Any], str | None]]:
    """The row itself, or with STEPs (or 経費区分) as columns one row per column holding an
    amount. A 区分 given by tick columns is set first."""
    if header.role_columns and row.get("role") is None:
        row["role"] = next((role for role, span in header.role_columns.items()
                            if parse_tick(_cell(sheet, r, span))), None)
    if header.category_columns:
        return _spread(sheet, spec, header, r, row, facts, "category",
                       header.category_columns)
    if not header.step_columns:
        return [(row, None)]
    return _spread(sheet, spec, header, r, row, facts, "step", header.step_columns)


def _spread(sheet: Sheet, spec: TableSpec, header: TableHeader, r: int, row: dict[str, Any],
            facts: FormFacts, key: str, spans: dict[Any, tuple[int, int]],
            ) -> list[tuple[dict[str, Any], str | None]]:
    out = []
    for step, span in spans.items():
        value = _cell(sheet, r, span)
        ref = sheet.ref(r, span[0])
        try:
            amount = convert(value, "amount")
        except ValueError as exc:
            facts.problems.append(FormProblem(
                "FORM_FIELD_MISSING", facts.doc_key, f"「{spec.title}」の{step}({ref}): {exc}",
                row.get("member"), "amount"))
            continue
        if amount:
            out.append(({**row, key: step, "amount": amount * (header.scale.get("amount") or 1)},
                        ref))
    return out


def _step_total(sheet: Sheet, header: TableHeader, r: int) -> int | None:
    """The total row of a STEPs-as-columns table: its 合計 column, else the sum of its STEPs."""
    try:
        if header.total_column:
            return convert(_cell(sheet, r, header.total_column), "amount")
        spans = [*header.step_columns.values(), *header.category_columns.values()]
        values = [convert(_cell(sheet, r, span), "amount") for span in spans]
    except ValueError:
        return None
    return sum(v for v in values if v) or None


_DITTO = {"〃", "同上", "同", "″", "々", "ditto", "\""}


def _heading(sheet: Sheet, r: int, last_col: int) -> str | None:
    """The text of a row holding one text only (a group heading), else None."""
    texts = {v for c in range(1, last_col + 1) if isinstance(v := sheet.values.get((r, c)), str)}
    return texts.pop() if len(texts) == 1 else None


def _parses(text: str, kind: str) -> bool:
    try:
        return convert(text, kind) is not None  # type: ignore[arg-type]
    except ValueError:
        return False


def _fill(raw: dict[str, Any], spec: TableSpec, above: dict[str, Any], heading: str | None) -> None:
    """Values a row leaves to the row above (〃, 同上, or blank in a fill-down column) or to
    its group's heading (a blank 区分 under 【ITベンダ】, a blank 工程 under 「STEP3 …」)."""
    for col in spec.columns:
        if col.key not in raw:
            continue
        value = raw[col.key]
        ditto = isinstance(value, str) and "".join(value.split()) in _DITTO
        if (ditto or (_empty(value) and col.key in spec.fill_down)) and above.get(col.key):
            raw[col.key] = above[col.key]
        elif _empty(raw[col.key]) and col.type in ("role", "step") and heading and \
                _parses(heading, col.type):
            raw[col.key] = heading


def _check_subtotal(sheet: Sheet, spec: TableSpec, header: TableHeader, r: int,
                    raw: dict[str, Any], facts: FormFacts, table: TableData, start: int) -> None:
    """A 小計 row's amounts against the rows of its group (since the previous 小計)."""
    stated = _convert_row(sheet, spec, header, r, raw, facts, total_row=True)
    for col in spec.columns:
        if col.type != "amount" or stated.get(col.key) is None or col.key not in header.columns:
            continue
        group = table.rows[start:]
        if any(not isinstance(row.get(col.key), int) for row in group) or not group:
            continue
        actual = sum(row[col.key] for row in group)
        if actual != stated[col.key]:
            table.subtotals.append((sheet.ref(r, header.columns[col.key][0]), stated[col.key],
                                    actual))


def _more_rows_follow(sheet: Sheet, spec: TableSpec, header: TableHeader, r: int, last_col: int,
                      totals: set[str], labels: frozenset[str]) -> bool:
    """Whether a 合計/計 row is a group's total: more rows of the table (or a 総合計) follow."""
    for nxt in range(r + 1, min(sheet.max_row, r + _MAX_BLANK_ROWS) + 1):
        kind = _row_kind(sheet, nxt, last_col, totals, labels)
        if kind == "grand":
            return True
        if kind in ("end", "total"):
            return kind == "total"
        if match_header(sheet, spec, [nxt]) is not None:
            return False
        raw = {key: _cell(sheet, nxt, span) for key, span in header.columns.items()}
        if not _is_data(raw, spec):
            if any(sheet.values.get((nxt, c)) is not None for c in range(1, last_col + 1)):
                return False  # another block (a title, a note) starts here
            continue
        return True
    return False


def _convert_row(sheet: Sheet, spec: TableSpec, header: TableHeader, r: int, raw: dict[str, Any],
                 facts: FormFacts, *, total_row: bool = False) -> dict[str, Any]:
    row: dict[str, Any] = {"_raw": {k: v for k, v in raw.items() if v is not None}}
    name = raw.get("name") or raw.get("member")
    name = str(name).strip() if name is not None and not _empty(name) else None
    for col in spec.columns:
        if col.key not in header.columns and col.key not in header.constants:
            continue
        ref = sheet.ref(r, header.columns.get(col.key, (1, 1))[0])
        try:
            value = convert(raw.get(col.key), col.type)
            if col.type == "amount" and value is not None:
                value *= header.scale.get(col.key) or 1
            row[col.key] = value
        except ValueError as exc:
            if not total_row:
                facts.problems.append(FormProblem(
                    "FORM_FIELD_MISSING", facts.doc_key,
                    f"「{spec.title}」の「{col.labels[0]}」({ref}): {exc}", name, col.key,
                ))
            row[col.key] = None
            continue
        if row[col.key] is None and col.required and not total_row:
            facts.problems.append(FormProblem(
                "FORM_FIELD_MISSING", facts.doc_key,
                f"「{spec.title}」の「{col.labels[0]}」({ref})が空欄です。", name, col.key,
            ))
    return row

