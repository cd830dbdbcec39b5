"""Forms (spreadsheets) → facts: each field found by its printed label, each table by its headers.

The form map (`parsers.formmap`) says which labels name which field; this module finds them the
way a person reading the sheet would: a form's sheet by its name or, when sheets are called
様式1/様式2, by its title cell; a label however decorated (【】, １．, ①, ※必須); its value in the
next cell that holds one (past spacer cells and 「：」), or below; a table's rows past a units row,
小計 rows and blank rows, up to the row labelled 合計/総合計/計. Nothing here raises for a bad
workbook: every problem becomes a `FormProblem` with plain Japanese detail.
"""

from __future__ import annotations

import io
import re
import unicodedata
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from parsers.cellvalues import CATEGORIES, CATEGORY_JA, convert, is_dash, parse_amount
from parsers.cellvalues import parse_category as parse_category
from parsers.cellvalues import parse_date as parse_date
from parsers.cellvalues import parse_role as parse_role
from parsers.cellvalues import parse_step as parse_step
from parsers.cellvalues import parse_tick as parse_tick
from parsers.filetypes import sniff
from parsers.formmap import (
    DEFAULT_FORM_MAP,
    FieldSpec,
    FormMap,
    FormMapError,
    TableSpec,
    form_map_from_toml,
    load_form_map,
)
from parsers.members import (
    ApplicationFacts,
    CostLine,
    Member,
    MemberAmounts,
    member_key,
    merge_forms,
    where_ja,
)
from parsers.readresult import FormFacts, FormProblem, TableData
from parsers.workbook import Book, Sheet, label_key, load_book

__all__ = [
    "ApplicationFacts", "CATEGORIES", "CATEGORY_JA", "CostLine", "DEFAULT_FORM_MAP", "FormFacts",
    "FormMap", "FormMapError", "FormProblem", "Member", "MemberAmounts", "TableData",
    "form_map_from_toml", "load_form_map", "merge_forms", "member_key", "parse_amount",
    "parse_date", "read_form", "where_ja",
]

_MAX_BLANK_ROWS = 30  # blank rows a table may hold between its groups (STEP1 … STEP4)
_VALUE_REACH = 6  # cells right of a label searched for its value (spacers, 「：」, 「金」)
_FILLER = re.compile(r"^[:：→⇒=＝金¥￥\\]*$")
_UNITS = re.compile(r"^[(\[【]?(単位[:：]?)?(円|千円|万円|人|名|者|社|%|税込|税抜)[)\]】]?$")
_TOTALS = ("合計", "総合計", "総計", "計", "合計額", "総額", "合計金額", "総合計額", "補助対象経費合計")
_GRAND = ("総合計", "総計", "総合計額")
_EXAMPLE = ("記入例", "記載例", "見本", "サンプル", "sample")
_HEADING = re.compile(r"^(step|工程|[【\[<(■□●◆◇▼▶※*]|注[:記意])")
# A group's own total: 「STEP1合計」「工程2 計」「①計」「STEP3(設計・開発)合計」.
_GROUP_TOTAL = re.compile(r"(?:step|工程)[\d①-④]+(?:.{0,20}合計|の?計)|[①-④].{0,20}合計|[①-④]の?計")


def read_form(source: bytes | Book, doc_key: str, form_map: FormMap) -> FormFacts:
    """Read one workbook (its bytes or an already loaded Book) as document `doc_key`."""
    facts = FormFacts(doc_key)
    spec = form_map.forms.get(doc_key)
    if spec is None:
        return facts  # a document the map does not describe (e.g. 概要書): nothing to read
    if isinstance(source, Book):
        book = source
    else:
        try:
            book = load_book(source)
        except Exception as exc:  # noqa: BLE001 - a reader raises many types for broken files
            facts.problems.append(FormProblem("ATTACHMENT_UNREADABLE", doc_key,
                                              unreadable_detail(source, exc)))
            return facts
    labels = _all_labels(form_map)
    for field_spec in spec.fields:
        _read_field(book, field_spec, facts, labels)
    for table_spec in spec.tables:
        _read_table(book, table_spec, facts, labels)
    return facts


def unreadable_detail(data: bytes, exc: Exception) -> str:
    if sniff(data) == "office-encrypted":
        return ("Excelファイルにパスワードが設定されているため開けません。"
                "パスワードを別メールでお送りいただくか、パスワードを解除したファイルを送付してください。")
    return (f"表計算ファイルとして開けません({type(exc).__name__})。"
            "ファイルが壊れていないか確認し、Excelで保存し直したファイルを送付してください。")


def _all_labels(form_map: FormMap) -> frozenset[str]:
    """Every field label and table anchor of the map: a value cell is never one of these."""
    keys: set[str] = set()
    for spec in form_map.forms.values():
        for f in spec.fields:
            keys.update(label_key(x) for x in f.labels)
        for t in spec.tables:
            keys.update(label_key(x) for x in t.anchor)
    return frozenset(k for k in keys if k)


# --- which sheet (and from which row) a form's field is on ----------------------------------


def _scopes(book: Book, names: Sequence[str]) -> list[tuple[Sheet, int]]:
    """(sheet, first row) to search: sheets named so; else sheets whose title cell says so
    (様式1/様式2 …), from that cell on; else every sheet."""
    # A template's 記入例 (filled-in example) sheet is read only when nothing else is there.
    example = [s for s in book.sheets if any(w in _norm(s.title) for w in _EXAMPLE)]
    filled = [s for s in book.sheets if all(s is not e for e in example)]
    if not names:
        return [(s, 1) for s in filled + example]
    wanted = [_norm(n) for n in names]
    for sheets in (filled, example):
        named = [(s, _title_row(s, wanted) or 1) for s in sheets
                 if any(w in _norm(s.title) for w in wanted)]
        if named:
            return named
        titled = [(row, i, s) for i, s in enumerate(sheets)
                  if (row := _title_row(s, wanted)) is not None]
        if titled:
            titled.sort(key=lambda t: (t[0] > 10, t[0], t[1]))
            return [(s, row) for row, _i, s in titled]
    return [(s, 1) for s in filled + example]


def _title_row(sheet: Sheet, wanted: Sequence[str]) -> int | None:
    """Row of the first title cell naming the form: short and ending with the form's name
    (「令和4年度 … 補助金交付申請書」, 「【様式2】事業計画書」), not a sentence mentioning it."""
    for (r, _c), key in sheet.keys.items():  # in reading order
        if len(key) <= 40 and key.endswith(tuple(wanted)):
            return r
    return None


def _norm(text: str) -> str:
    return "".join(unicodedata.normalize("NFKC", text).split()).casefold()


# --- fields --------------------------------------------------------------------------------


def _locate(book: Book, spec: FieldSpec,
            labels: frozenset[str]) -> tuple[Sheet, int, int, Any] | None:
    """(sheet, row, column, raw value) of the field's value; the value may be None (blank)."""
    for sheet, start in _scopes(book, spec.sheets):
        for r, c in sheet.find(spec.labels):
            if r < start:
                continue
            return (sheet, *_value_near(sheet, r, c, spec, labels))
        inline = _inline(sheet, spec, start)
        if inline:
            return inline
    if spec.cell:
        from openpyxl.utils.cell import column_index_from_string, coordinate_from_string

        letters, row = coordinate_from_string(spec.cell)
        scopes = _scopes(book, spec.sheets)
        if scopes:
            col = column_index_from_string(letters)
            return scopes[0][0], row, col, scopes[0][0].get(row, col)
    return None


def _value_near(sheet: Sheet, r: int, c: int, spec: FieldSpec,
                labels: frozenset[str]) -> tuple[int, int, Any]:
    """The first cell after the label's block holding a value (not a spacer, 「：」 or another
    label); below the label when nothing is to its right. Blank: the cell right after."""
    end_r, end_c = sheet.block_end(r, c)
    if spec.direction == "below":
        steps = [(rr, c) for rr in range(end_r + 1 + spec.skip, end_r + 1 + spec.skip + 3)]
    else:
        first = end_c + 1 + spec.skip
        steps = [(r, cc) for cc in range(first, first + _VALUE_REACH)]
        steps += [(rr, c) for rr in range(end_r + 1, end_r + 3)]
    blank = steps[0]
    seen: set[tuple[int, int]] = set()
    for rr, cc in steps:
        top = sheet.merged.get((rr, cc))
        anchor = (top[0], top[1]) if top else (rr, cc)
        if anchor in seen:
            continue
        seen.add(anchor)
        value = sheet.get(rr, cc)
        if value is None or (isinstance(value, str) and _FILLER.match(_norm(value))):
            continue
        if isinstance(value, str) and label_key(value) in labels:
            break  # the next field's label: this one is blank
        return rr, cc, value
    return blank[0], blank[1], None


def _inline(sheet: Sheet, spec: FieldSpec, start: int) -> tuple[Sheet, int, int, Any] | None:
    """「コンソーシアム名：みなとDX連携コンソーシアム」 written in one cell."""
    keys = {label_key(x) for x in spec.labels}
    for r, c, text in sheet.texts():
        if r < start:
            continue
        head, sep, rest = unicodedata.normalize("NFKC", text).partition(":")
        if sep and rest.strip() and label_key(head) in keys:
            return sheet, r, c, rest.strip()
    return None


def _read_field(book: Book, spec: FieldSpec, facts: FormFacts, labels: frozenset[str]) -> None:
    where = _locate(book, spec, labels)
    if where is None:
        if spec.required:
            facts.problems.append(FormProblem(
                "FORM_FIELD_MISSING", facts.doc_key,
                f"「{spec.title}」欄が様式に見つかりません(様式の版をご確認ください)。",
                column=spec.key,
            ))
        return
    sheet, r, c, raw = where
    facts.refs[spec.key] = sheet.ref(r, c)
    try:
        value = convert(raw, spec.type)
    except ValueError as exc:
        facts.problems.append(FormProblem(
            "FORM_FIELD_MISSING", facts.doc_key, f"「{spec.title}」({sheet.ref(r, c)}): {exc}",
        ))
        return
    if value is None and spec.required:
        hint = ("数式の計算結果が保存されていません。Excelで開いて保存し直してください。"
                if _is_formula(book, sheet.title, r, c) else "記入してください。")
        facts.problems.append(FormProblem(
            "FORM_FIELD_MISSING", facts.doc_key,
            f"「{spec.title}」({sheet.ref(r, c)})が空欄です。{hint}",
        ))
    facts.fields[spec.key] = value


def _is_formula(book: Book, sheet: str, r: int, c: int) -> bool:
    """Tells an empty cell from a formula whose result was never saved (files not from Excel).
    Only asked for a blank required field, so the slow full load is rare."""
    try:
        import openpyxl

        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            wb = openpyxl.load_workbook(io.BytesIO(book.source(sheet)), read_only=True)
        try:
            value = wb[sheet].cell(r, c).value
        finally:
            wb.close()
    except Exception:  # noqa: BLE001 - only a hint for the detail text (and xls/ods have none)
        return False
    return isinstance(value, str) and value.startswith("=")


# --- tables --------------------------------------------------------------------------------


@dataclass
class _Header:
    columns: dict[str, tuple[int, int]]  # column key → first and last sheet column of its block
    first_row: int  # first row after the header (and its units row)
    scale: dict[str, int] = field(default_factory=dict)  # amounts in 千円/万円 columns


def _match_header(sheet: Sheet, spec: TableSpec, rows: Sequence[int],
                  strict: bool = True) -> _Header | None:
    columns: dict[str, tuple[int, int]] = {}
    scale: dict[str, int] = {}
    last_row = rows[0]
    for col in spec.columns:
        keys = {label_key(label) for label in col.labels}
        for r in rows:
            hit = next((c for c in range(1, sheet.max_col + 1)
                        if sheet.keys.get((r, c)) in keys), None)
            if hit is not None:
                end_r, end_c = sheet.block_end(r, hit)
                columns[col.key] = (hit, end_c)
                last_row = max(last_row, end_r)
                text = _norm(sheet.values[(r, hit)])
                scale[col.key] = 1000 if "千円" in text else 10000 if "万円" in text else 1
                break
    # The key column (the first) and most of the required ones: a template without one
    # required column is still this table (the missing column is reported, not the table).
    required = [c.key for c in spec.columns if c.required] or [spec.columns[0].key]
    found = sum(1 for key in required if key in columns)
    if spec.columns[0].key not in columns or found * 2 < len(required) or (
            len(required) > 1 and found < 2) or (strict and found < len(required)):
        return None
    return _Header(columns, last_row + 1, scale)


def _header(sheet: Sheet, spec: TableSpec, start: int) -> _Header | None:
    """The header row (all required columns present; a two-tier header counts as one)."""
    if spec.anchor:
        anchors = [hit for hit in sheet.find(spec.anchor) if hit[0] >= start]
        if anchors:
            start = anchors[0][0]
        elif not spec.required:
            return None  # an optional table is only where its title says (not another's rows)
    for strict in (True, False):  # every required column first; a template lacking one next
        for r in range(start, sheet.max_row + 1):
            header = (_match_header(sheet, spec, [r], strict)
                      or _match_header(sheet, spec, [r, r + 1], strict))
            if header:
                header.first_row = _after_units(sheet, header)
                return header
    return None


def _after_units(sheet: Sheet, header: _Header) -> int:
    """Skip a units row 「(円)」「(人)」 under the headers, noting 千円/万円 columns."""
    r = header.first_row
    texts = {key: sheet.get(r, lo) for key, (lo, _hi) in header.columns.items()}
    filled = {k: v for k, v in texts.items() if v is not None}
    if filled and all(isinstance(v, str) and _UNITS.match(_norm(v)) for v in filled.values()):
        for key, v in filled.items():
            text = _norm(v)
            header.scale[key] = 1000 if "千円" in text else 10000 if "万円" in text else 1
        return r + 1
    return r


def _read_table(book: Book, spec: TableSpec, facts: FormFacts, labels: frozenset[str]) -> None:
    table = TableData()
    facts.tables[spec.key] = table
    scopes = _scopes(book, spec.sheets)
    if spec.required:  # a table on a sheet of its own (構成員一覧) is still this form's
        scopes += [(s, 1) for s in book.sheets if all(s is not t for t, _ in scopes)]
    for sheet, start in scopes:
        header = _header(sheet, spec, start)
        if header:
            table.found = True
            _read_rows(sheet, spec, header, table, facts, labels)
            for col in spec.columns:
                given = table.rows and all(row.get(col.key) is not None for row in table.rows)
                if col.required and col.key not in header.columns and not given:
                    facts.problems.append(FormProblem(
                        "FORM_FIELD_MISSING", facts.doc_key,
                        f"「{spec.title}」の表に「{col.labels[0]}」の列がありません。",
                        column=col.key))
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
    if len(filled) == 1 and _HEADING.match(_norm(str(raw[filled[0]]))):
        return False  # a group heading (「STEP1 ITツールの購入・設定」, 【STEP2】) or a note
    if len(filled) == 1 and isinstance(raw[filled[0]], str) and any(
            c.type == "amount" and c.required for c in spec.columns):
        return False  # a text alone where amounts are listed: a heading, not a cost
    key_col = spec.columns[0].key
    if key_col in raw and not _empty(raw[key_col]):
        text = str(raw[key_col]).strip()
        return not (text.startswith(("※", "注", "*")) and len(filled) == 1)
    return len(filled) >= 2


def _read_rows(sheet: Sheet, spec: TableSpec, header: _Header, table: TableData,
               facts: FormFacts, labels: frozenset[str]) -> None:
    last_col = max(hi for _lo, hi in header.columns.values())
    totals = {label_key(t) for t in (*spec.total, *_TOTALS)}
    header_keys = {label_key(lab) for col in spec.columns for lab in col.labels}
    labels = labels - header_keys  # a repeated header is not the next field's label
    blanks = 0
    group_start = 0  # first row of the group a 小計 row sums
    heading: str | None = None  # the last group heading (【中小ユーザ企業】, STEP2 要件定義)
    r = header.first_row
    while r <= sheet.max_row:
        raw = {key: _cell(sheet, r, span) for key, span in header.columns.items()}
        kind = _row_kind(sheet, r, last_col, totals, labels)
        if kind == "end":
            return
        if kind == "grand" or (kind == "total" and not _more_rows_follow(
                sheet, spec, header, r, last_col, totals, labels)):
            table.total = _convert_row(sheet, spec, header, r, raw, facts, total_row=True)
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
        _fill(raw, spec, table.rows[-1]["_raw"] if table.rows else {}, heading)
        row = _convert_row(sheet, spec, header, r, raw, facts)
        for col in spec.columns:  # a column the table lacks, given by the group's heading
            if col.key not in header.columns and col.type in ("role", "step") and heading:
                row[col.key] = convert(heading, col.type) if _parses(heading, col.type) else None
        table.rows.append(row)
        table.refs.append(sheet.ref(r, min(lo for lo, _hi in header.columns.values())))
        table.cells.append({key: sheet.ref(r, lo) for key, (lo, _hi) in header.columns.items()})
        r += 1


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
        if (ditto or _empty(value)) and col.key in spec.fill_down and above.get(col.key):
            raw[col.key] = above[col.key]
        elif _empty(raw[col.key]) and col.type in ("role", "step") and heading and \
                _parses(heading, col.type):
            raw[col.key] = heading


def _check_subtotal(sheet: Sheet, spec: TableSpec, header: _Header, r: int,
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


def _more_rows_follow(sheet: Sheet, spec: TableSpec, header: _Header, r: int, last_col: int,
                      totals: set[str], labels: frozenset[str]) -> bool:
    """Whether a 合計/計 row is a group's total: more rows of the table (or a 総合計) follow."""
    for nxt in range(r + 1, min(sheet.max_row, r + _MAX_BLANK_ROWS) + 1):
        kind = _row_kind(sheet, nxt, last_col, totals, labels)
        if kind == "grand":
            return True
        if kind in ("end", "total"):
            return kind == "total"
        if _match_header(sheet, spec, [nxt]) is not None:
            return False
        raw = {key: _cell(sheet, nxt, span) for key, span in header.columns.items()}
        if not _is_data(raw, spec):
            if any(sheet.values.get((nxt, c)) is not None for c in range(1, last_col + 1)):
                return False  # another block (a title, a note) starts here
            continue
        return True
    return False


def _convert_row(sheet: Sheet, spec: TableSpec, header: _Header, r: int, raw: dict[str, Any],
                 facts: FormFacts, *, total_row: bool = False) -> dict[str, Any]:
    row: dict[str, Any] = {"_raw": {k: v for k, v in raw.items() if v is not None}}
    name = raw.get("name") or raw.get("member")
    name = str(name).strip() if name is not None and not _empty(name) else None
    for col in spec.columns:
        if col.key not in header.columns:
            continue
        ref = sheet.ref(r, header.columns[col.key][0])
        try:
            value = convert(raw[col.key], col.type)
            if col.type == "amount" and value is not None:
                value *= header.scale.get(col.key, 1)
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
