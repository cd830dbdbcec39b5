"""Forms (spreadsheets) → facts: each field found by its printed label, each table by its headers.

The form map (`parsers.formmap`) says which labels name which field; this module finds them the
way a person reading the sheet would: a form's sheet by its name or, when sheets are called
様式1/様式2, by its title cell; a label however decorated (【】, １．, ①, ※必須); its value in the
next cell that holds one (past spacer cells and 「：」), or below; a table's rows past a units row,
小計 rows and blank rows, up to the row labelled 合計/総合計/計. Nothing here raises for a bad
workbook: every problem becomes a `FormProblem` with plain Japanese detail.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from typing import Any

from parsers.cellvalues import (
    CATEGORIES,
    CATEGORY_JA,
    NOTE_YEN_FLOOR,
    convert,
    parse_amount,
    unit_scale,
)
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
    form_map_from_toml,
    load_form_map,
)
from parsers.formscope import norm, scopes, sheet_unit
from parsers.formtables import read_table
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

_VALUE_REACH = 6  # cells right of a label searched for its value (spacers, 「：」, 「金」)
_FILLER = re.compile(r"^[:：→⇒=＝金¥￥\\]*$")


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
        siblings = [x for f in spec.fields if f.sheets == field_spec.sheets for x in f.labels]
        _read_field(book, field_spec, facts, labels, siblings)
    for table_spec in spec.tables:
        read_table(book, table_spec, facts, labels)
    return facts


def unreadable_detail(data: bytes, exc: Exception) -> str:
    if sniff(data) == "office-encrypted":
        return ("Excelファイルにパスワードが設定されているため開けません。"
                "パスワードを別メールでお送りいただくか、パスワードを解除したファイルを送付してください。")
    why = str(exc) if isinstance(exc, ValueError) and "シート" in str(exc) else type(exc).__name__
    return (f"表計算ファイルとして開けません({why})。"
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


# --- fields --------------------------------------------------------------------------------


def _locate(book: Book, spec: FieldSpec, labels: frozenset[str],
            siblings: Sequence[str]) -> tuple[Sheet, int, int, Any] | None:
    """(sheet, row, column, raw value) of the field's value; the value may be None (blank).

    A blank value on one sheet gives way to a filled one on the form's next sheet (an untouched
    template left in front of its filled copy 「交付申請書 (2)」)."""
    blank = None
    for sheet, start in scopes(book, spec.sheets, siblings):
        found = next(((sheet, *_value_near(sheet, r, c, spec, labels))
                      for r, c in sheet.find(spec.labels) if r >= start), None)
        found = found or _inline(sheet, spec, start)
        if found and found[3] is not None:
            return found
        blank = blank or found
    if blank:
        return blank
    if spec.cell:
        from openpyxl.utils.cell import column_index_from_string, coordinate_from_string

        letters, row = coordinate_from_string(spec.cell)
        where = scopes(book, spec.sheets)
        if where:
            col = column_index_from_string(letters)
            return where[0][0], row, col, where[0][0].get(row, col)
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
    stopped = False  # the next field's label reached on the right: only below is left
    for rr, cc in steps:
        if stopped and rr == r:
            continue
        top = sheet.merged.get((rr, cc))
        anchor = (top[0], top[1]) if top else (rr, cc)
        if anchor in seen:
            continue
        seen.add(anchor)
        value = sheet.get(rr, cc)
        if value is None or (isinstance(value, str) and _FILLER.match(norm(value))):
            continue
        if isinstance(value, str) and label_key(value) in labels:
            if rr == r:
                stopped = True  # labels side by side: the values may be in the row below
                continue
            break  # the next field's label below: this one is blank
        if spec.type == "amount":
            value = _in_yen(value, sheet, (r, c), (rr, cc))
        elif spec.type == "date":
            value = _date_over_cells(value, sheet, rr, cc)
        if rr > end_r and not _fits(value, spec):
            break  # below the label sits the next heading (事業の目的・概要), not its value
        return rr, cc, value
    return blank[0], blank[1], None


def _in_yen(value: Any, sheet: Sheet, label: tuple[int, int], at: tuple[int, int]) -> Any:
    """A bare number under a label 「…(千円)」 or followed by a 「千円」 cell, in yen."""
    bare = isinstance(value, int | float) and not isinstance(value, bool) or (
        isinstance(value, str) and re.fullmatch(r"[\d,.]+", norm(value)))
    if not bare:
        return value
    unit = sheet.get(at[0], sheet.block_end(*at)[1] + 1)
    texts = norm(str(sheet.values.get(label, ""))) + norm(str(unit or ""))
    number = value if not isinstance(value, str) else float(norm(value).replace(",", ""))
    scale = unit_scale(texts)
    if scale is None:  # only a sheet's 「(単位：千円)」 note: a yen-sized number stays yen
        scale = sheet_unit(sheet, label[0]) if number < NOTE_YEN_FLOOR else 1
    return value if scale == 1 else number * scale


def _fits(value: Any, spec: FieldSpec) -> bool:
    try:
        convert(value, spec.type)
    except ValueError:
        return False
    return True


def _date_over_cells(value: Any, sheet: Sheet, r: int, c: int) -> Any:
    """A date typed over cells 「令和|5|年|1|月|27|日」: the cells joined, when that is a date."""
    try:
        if parse_date(value) is not None:
            return value
    except ValueError:
        pass
    parts = []
    for cc in range(c, c + 10):
        part = sheet.get(r, cc)
        if part is None:
            break
        parts.append(str(part))
    try:
        return "".join(parts) if parse_date("".join(parts)) else value
    except ValueError:
        return value


def _inline(sheet: Sheet, spec: FieldSpec, start: int) -> tuple[Sheet, int, int, Any] | None:
    """「コンソーシアム名：みなとDX連携コンソーシアム」 written in one cell, or the label and its
    value on two lines of one cell (a reading in brackets under a label is not a value)."""
    keys = {label_key(x) for x in spec.labels}
    for r, c, text in sheet.texts():
        if r < start:
            continue
        text = unicodedata.normalize("NFKC", text)
        for mark in (":", "\n"):
            head, sep, rest = text.partition(mark)
            rest = rest.strip()
            if sep and rest and label_key(head) in keys and not re.fullmatch(r"\(.*\)", rest):
                return sheet, r, c, rest
    return None


def _read_field(book: Book, spec: FieldSpec, facts: FormFacts, labels: frozenset[str],
                siblings: Sequence[str] = ()) -> None:
    where = _locate(book, spec, labels, siblings)
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
                if (r, c) in sheet.uncalculated else "記入してください。")
        facts.problems.append(FormProblem(
            "FORM_FIELD_MISSING", facts.doc_key,
            f"「{spec.title}」({sheet.ref(r, c)})が空欄です。{hint}",
        ))
    facts.fields[spec.key] = value

