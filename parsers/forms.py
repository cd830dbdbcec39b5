"""Forms (xlsx) → facts, steered by a form map (TOML) that says where each field sits.

The real templates are not public, so nothing here knows a cell address: the form map names
each field by the label printed next to it (right or below), each table by its column headers,
and code only knows what the fields *mean*. Reading uses openpyxl's computed values (the cached
results Excel stores, never the formulas). Money written as text — `1,234,567円`, `￥1,234`,
full-width digits, `4,400万円`, `1.1億円` — is read as a number. Nothing here raises for a bad
workbook: every problem becomes a `FormProblem` with plain Japanese detail.
"""

from __future__ import annotations

import io
import re
import tomllib
import unicodedata
import warnings
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any, Literal

from parsers.documents import (
    DEFAULT_RECOGNITION,
    RecognitionSpec,
    classify_text,
    normalise_text,
)

__all__ = [
    "ApplicationFacts",
    "CostLine",
    "DEFAULT_FORM_MAP",
    "FormFacts",
    "FormMap",
    "FormMapError",
    "FormProblem",
    "Member",
    "load_form_map",
    "merge_forms",
    "parse_amount",
    "parse_date",
    "read_form",
]

DEFAULT_FORM_MAP = Path(__file__).with_name("formmap.toml")

ValueType = Literal["text", "amount", "count", "date", "email", "corporate_number", "tick",
                    "role", "step", "category"]
_VALUE_TYPES = set(ValueType.__args__)  # type: ignore[attr-defined]

# A bound on what is scanned, so a sheet claiming a million rows stays fast.
_MAX_ROWS = 1000
_MAX_COLS = 60
_MAX_BLANK_ROWS = 5


class FormMapError(ValueError):
    """The form map file is not valid; the message names the key and what to fix."""


# --- the form map ------------------------------------------------------------------------------


@dataclass(frozen=True)
class FieldSpec:
    key: str
    labels: tuple[str, ...]  # printed label texts, any of which identifies the field
    sheets: tuple[str, ...] = ()  # sheets to look in; empty or none present = every sheet
    direction: Literal["right", "below"] = "right"
    skip: int = 0  # cells to skip after the label's (merged) block, for spacer columns
    cell: str | None = None  # fixed fallback address such as "C5" when no label is found
    type: ValueType = "text"
    required: bool = False

    @property
    def title(self) -> str:
        return self.labels[0]


@dataclass(frozen=True)
class ColumnSpec:
    key: str
    labels: tuple[str, ...]
    type: ValueType = "text"
    required: bool = False


@dataclass(frozen=True)
class TableSpec:
    key: str
    columns: tuple[ColumnSpec, ...]
    sheets: tuple[str, ...] = ()
    anchor: tuple[str, ...] = ()  # a label above the header row, when headers repeat
    total: tuple[str, ...] = ("合計", "総計")  # the row holding the stated totals (ends the table)
    stop: tuple[str, ...] = ("小計",)  # other rows that end the table
    required: bool = False  # at least one row must be filled in
    title: str = ""  # Japanese name of the table for details


@dataclass(frozen=True)
class FormSpec:
    doc_key: str
    fields: tuple[FieldSpec, ...] = ()
    tables: tuple[TableSpec, ...] = ()


@dataclass(frozen=True)
class FormMap:
    forms: Mapping[str, FormSpec]
    recognition: tuple[RecognitionSpec, ...] = DEFAULT_RECOGNITION
    source: str = ""


def load_form_map(path: Path | None = None) -> FormMap:
    """Read a form map TOML (default: the one shipped for the sample forms)."""
    target = path or DEFAULT_FORM_MAP
    try:
        raw = tomllib.loads(target.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise FormMapError(f"フォームマップ {target} を読めません: {exc}") from exc
    return form_map_from_toml(raw, source=str(target))


def form_map_from_toml(raw: Mapping[str, Any], *, source: str = "") -> FormMap:
    _only(raw, {"recognition", "forms"}, "フォームマップ")
    recognition = _recognition(raw.get("recognition", {}))
    forms = {key: _form_spec(key, table) for key, table in _mapping(raw, "forms").items()}
    return FormMap(forms, recognition, source)


def _mapping(raw: Mapping[str, Any], key: str) -> Mapping[str, Any]:
    value = raw.get(key, {})
    if not isinstance(value, Mapping):
        raise FormMapError(f"フォームマップの {key} はテーブルで指定してください")
    return value


def _only(raw: Mapping[str, Any], allowed: set[str], where: str) -> None:
    for key in raw:
        if key not in allowed:
            raise FormMapError(f"{where} に不明な項目があります: {key}")


def _words(raw: Mapping[str, Any], key: str, where: str) -> tuple[str, ...]:
    value = raw.get(key, ())
    if isinstance(value, str):
        return (value,)
    if not isinstance(value, list | tuple) or not all(isinstance(v, str) for v in value):
        raise FormMapError(f"{where}.{key} は文字列の配列で指定してください")
    return tuple(value)


def _recognition(raw: Any) -> tuple[RecognitionSpec, ...]:
    if not raw:
        return DEFAULT_RECOGNITION
    if not isinstance(raw, Mapping):
        raise FormMapError("フォームマップの recognition はテーブルで指定してください")
    specs = []
    for key, table in raw.items():
        where = f"recognition.{key}"
        _only(table, {"sheet_names", "titles", "file_names"}, where)
        specs.append(RecognitionSpec(
            key, _words(table, "sheet_names", where), _words(table, "titles", where),
            _words(table, "file_names", where),
        ))
    return tuple(specs)


def _form_spec(doc_key: str, raw: Any) -> FormSpec:
    where = f"forms.{doc_key}"
    if not isinstance(raw, Mapping):
        raise FormMapError(f"{where} はテーブルで指定してください")
    _only(raw, {"fields", "tables"}, where)
    fields_ = tuple(
        _field_spec(key, spec, f"{where}.fields.{key}")
        for key, spec in _mapping(raw, "fields").items()
    )
    tables = tuple(
        _table_spec(key, spec, f"{where}.tables.{key}")
        for key, spec in _mapping(raw, "tables").items()
    )
    return FormSpec(doc_key, fields_, tables)


def _value_type(raw: Mapping[str, Any], where: str) -> ValueType:
    kind = raw.get("type", "text")
    if kind not in _VALUE_TYPES:
        raise FormMapError(f"{where}.type が不正です: {kind!r}({', '.join(sorted(_VALUE_TYPES))})")
    return kind


def _field_spec(key: str, raw: Any, where: str) -> FieldSpec:
    if not isinstance(raw, Mapping):
        raise FormMapError(f"{where} はテーブルで指定してください")
    _only(raw, {"labels", "sheets", "direction", "skip", "cell", "type", "required"}, where)
    labels = _words(raw, "labels", where)
    if not labels:
        raise FormMapError(f"{where}.labels を指定してください")
    direction = raw.get("direction", "right")
    if direction not in ("right", "below"):
        raise FormMapError(f"{where}.direction は right か below です: {direction!r}")
    cell = raw.get("cell")
    if cell is not None and not re.fullmatch(r"[A-Za-z]{1,3}[1-9][0-9]*", str(cell)):
        raise FormMapError(f"{where}.cell は C5 のようなセル番地です: {cell!r}")
    return FieldSpec(
        key, labels, _words(raw, "sheets", where), direction, int(raw.get("skip", 0)),
        str(cell).upper() if cell else None, _value_type(raw, where), bool(raw.get("required")),
    )


def _table_spec(key: str, raw: Any, where: str) -> TableSpec:
    if not isinstance(raw, Mapping):
        raise FormMapError(f"{where} はテーブルで指定してください")
    _only(raw, {"columns", "sheets", "anchor", "total", "stop", "required", "title"}, where)
    columns = []
    for col_key, col in _mapping(raw, "columns").items():
        col_where = f"{where}.columns.{col_key}"
        if not isinstance(col, Mapping):
            raise FormMapError(f"{col_where} はテーブルで指定してください")
        _only(col, {"labels", "type", "required"}, col_where)
        labels = _words(col, "labels", col_where)
        if not labels:
            raise FormMapError(f"{col_where}.labels を指定してください")
        columns.append(ColumnSpec(col_key, labels, _value_type(col, col_where),
                                  bool(col.get("required"))))
    if not columns:
        raise FormMapError(f"{where}.columns を指定してください")
    return TableSpec(
        key, tuple(columns), _words(raw, "sheets", where), _words(raw, "anchor", where),
        _words(raw, "total", where) if "total" in raw else ("合計", "総計"),
        _words(raw, "stop", where) if "stop" in raw else ("小計",),
        bool(raw.get("required")), str(raw.get("title", key)),
    )


# --- values ------------------------------------------------------------------------------------

_YEN_NOISE = re.compile(r"[,，、\s円¥\\$]|\(税込\)|\(税抜\)|税込|税抜|程度|約")
_KANJI_DIGITS = {"〇": 0, "一": 1, "二": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7,
                 "八": 8, "九": 9}


def parse_amount(value: object) -> int | None:
    """Yen as an int: 1234567, '1,234,567円', '￥1,234', '１２３４', '4,400万円', '1.1億円'.

    None for an empty cell; ValueError for text that is not an amount.
    """
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, bool):
        raise ValueError(f"金額として読めません: {value!r}")
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        return int(Decimal(str(value)).to_integral_value())
    text = _YEN_NOISE.sub("", unicodedata.normalize("NFKC", str(value)))
    text = re.sub(r"[人名者社件]$", "", text)
    total = _kanji_amount(text)
    if total is None or total < 0:
        raise ValueError(f"金額・数値として読めません: {value!r}")
    return total


def _kanji_amount(text: str) -> int | None:
    """'1.1億', '4千4百万', '5千万', '3億5,000万', '1234' → yen; None when it is not one."""
    if not text:
        return None
    total = Decimal(0)
    rest = text
    for unit, size in (("億", 10**8), ("万", 10**4)):
        if unit in rest:
            head, rest = rest.split(unit, 1)
            part = _small_number(head)
            if part is None:
                return None
            total += part * size
    if rest:
        part = _small_number(rest)
        if part is None:
            return None
        total += part
    if total != total.to_integral_value():
        return None
    return int(total)


def _small_number(text: str) -> Decimal | None:
    """A number under 10,000 possibly written with 千/百/十: '4千4百', '5千', '1.1', '300'."""
    if re.fullmatch(r"\d+(\.\d+)?", text):
        try:
            return Decimal(text)
        except InvalidOperation:
            return None
    match = re.fullmatch(r"(?:([\d一二三四五六七八九]*)千)?(?:([\d一二三四五六七八九]*)百)?"
                         r"(?:([\d一二三四五六七八九]*)十)?(\d*)", text)
    if not match or not text:
        return None
    total = 0
    for group, size in zip(match.groups()[:3], (1000, 100, 10), strict=True):
        if group is not None:
            total += _digit_word(group) * size
    if match.group(4):
        total += int(match.group(4))
    return Decimal(total)


def _digit_word(text: str) -> int:
    if not text:
        return 1  # 千 alone means 1千
    if text.isdigit() and text.isascii():
        return int(text)
    return _KANJI_DIGITS.get(text, 0)


_ERAS = {"令和": 2018, "R": 2018, "平成": 1988, "H": 1988, "昭和": 1925, "S": 1925}


def parse_date(value: object) -> date | None:
    """西暦 and 和暦: datetime cells, '2022/08/10', '2022年8月10日', '令和4年8月10日', 'R4.8.10'.

    None for an empty cell; ValueError for text that is not a date.
    """
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    text = re.sub(r"\s|\(.\)", "", unicodedata.normalize("NFKC", str(value)))
    text = text.replace("元年", "1年")
    match = re.fullmatch(r"(令和|平成|昭和|[RHS])(\d{1,2})[年./-](\d{1,2})[月./-](\d{1,2})日?",
                         text, flags=re.IGNORECASE)
    if match:
        year = _ERAS[match.group(1).upper() if len(match.group(1)) == 1 else match.group(1)]
        return _date(year + int(match.group(2)), match.group(3), match.group(4), value)
    match = re.fullmatch(r"(\d{4})[年./-](\d{1,2})[月./-](\d{1,2})日?", text)
    if match:
        return _date(int(match.group(1)), match.group(2), match.group(3), value)
    raise ValueError(f"日付として読めません: {value!r}")


def _date(year: int, month: str, day: str, original: object) -> date:
    try:
        return date(year, int(month), int(day))
    except ValueError as exc:
        raise ValueError(f"日付として読めません: {original!r}") from exc


_TICK_NO = {"×", "✕", "✖", "-", "ー", "―", "無", "なし", "無し", "未", "未提出", "□", "☐",
            "いいえ", "no", "n", "false", "0", "不要", "対象外"}


def parse_tick(value: object) -> bool:
    """A checklist tick: ○ ◯ 〇 ✓ レ ☑ 有 TRUE ... ; × 無 □ and blanks are not ticks."""
    if value is None:
        return False
    if isinstance(value, bool):
        return value
    if isinstance(value, int | float):
        return value != 0
    text = unicodedata.normalize("NFKC", str(value)).strip().casefold()
    return bool(text) and text not in _TICK_NO


def parse_role(value: object) -> str | None:
    """中小ユーザ企業 → 'sme', ITベンダ → 'vendor', その他協力者 → 'other'."""
    text = normalise_text(str(value or ""))
    if not text:
        return None
    if "ベンダ" in text or "vendor" in text:  # first: a vendor may add (中小企業)
        return "vendor"
    if "ユーザ" in text or "中小" in text:
        return "sme"
    if "その他" in text or "協力者" in text:
        return "other"
    return None


_STEP_WORDS = ((1, ("購入", "設定")), (2, ("要件定義",)),
               (3, ("設計", "開発", "システムテスト")), (4, ("受入", "研修")))


def parse_step(value: object) -> int | None:
    """'STEP3', 'ＳＴＥＰ３', 3, '設計・開発〜システムテスト' → 3."""
    if value is None:
        return None
    text = normalise_text(str(value))
    digits = re.search(r"\d", text)
    if digits:
        return int(digits.group())
    for step, words in _STEP_WORDS:
        if any(w in text for w in words):
            return step
    return None


# Expense categories of SPEC §3; the words are matched after NFKC, so カタカナ variants pass.
CATEGORIES: tuple[tuple[str, str, tuple[str, ...]], ...] = (
    ("software", "ソフトウェア購入費", ("ソフトウェア", "ソフトウエア")),
    ("cloud", "クラウドサービス利用費", ("クラウド",)),
    ("meeting", "会議費", ("会議",)),
    ("travel", "旅費", ("旅費", "交通費")),
    ("expert", "専門家経費", ("専門家", "謝金")),
    ("personnel", "人件費", ("人件費",)),
    ("outsourcing", "委託費", ("委託", "外注", "下請")),
)
CATEGORY_JA = {key: label for key, label, _ in CATEGORIES}


def parse_category(value: object) -> str | None:
    text = normalise_text(str(value or ""))
    for key, _label, words in CATEGORIES:
        if any(normalise_text(w) in text for w in words):
            return key
    return None


def _email(value: object) -> str | None:
    text = unicodedata.normalize("NFKC", str(value or "")).strip().strip("<>").casefold()
    if not text:
        return None
    if not re.fullmatch(r"[^@\s]+@[^@\s]+\.[^@\s]+", text):
        raise ValueError(f"メールアドレスとして読めません: {value!r}")
    return text


def _corporate_number(value: object) -> str | None:
    if value is None:
        return None
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    text = unicodedata.normalize("NFKC", str(value)).strip()
    return re.sub(r"[\s\-‐－―ー−]", "", text) or None


def _text(value: object) -> str | None:
    if value is None:
        return None
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    text = str(value).strip()
    return text or None


def convert(value: object, kind: ValueType) -> Any:
    """Cell value → typed value; None when empty; ValueError (Japanese) when unreadable."""
    if kind in ("amount", "count"):
        return parse_amount(value)
    if kind == "date":
        return parse_date(value)
    if kind == "email":
        return _email(value)
    if kind == "corporate_number":
        return _corporate_number(value)
    if kind == "tick":
        return parse_tick(value)
    text = _text(value)
    if text is None:
        return None
    if kind == "role":
        return parse_role(text) or _bad("区分(中小ユーザ企業/ITベンダ/その他協力者)", text)
    if kind == "step":
        return parse_step(text) or _bad("工程(STEP1〜4)", text)
    if kind == "category":
        return parse_category(text) or _bad("経費区分", text)
    return text


def _bad(what: str, text: str) -> None:
    raise ValueError(f"{what}として読めません: 「{text}」")


# --- reading a workbook ------------------------------------------------------------------------


@dataclass(frozen=True)
class FormProblem:
    """Something a form lacks or that cannot be read: becomes a SPEC §4 finding."""

    code: str  # FORM_FIELD_MISSING or ATTACHMENT_UNREADABLE
    document: str  # SPEC §2 document key
    detail: str  # plain Japanese, naming the field, the sheet and the cell
    member: str | None = None


@dataclass
class TableData:
    rows: list[dict[str, Any]] = field(default_factory=list)
    refs: list[str] = field(default_factory=list)  # "シート!B12" of each row, for details
    cells: list[dict[str, str]] = field(default_factory=list)  # per row: column key → "シート!H12"
    total: dict[str, Any] = field(default_factory=dict)  # values on the 合計 row
    found: bool = False


@dataclass
class FormFacts:
    doc_key: str
    fields: dict[str, Any] = field(default_factory=dict)
    refs: dict[str, str] = field(default_factory=dict)  # field key → "シート!C5"
    tables: dict[str, TableData] = field(default_factory=dict)
    problems: list[FormProblem] = field(default_factory=list)


def _label_key(text: str) -> str:
    """A label as compared: NFKC, no spaces, no ':' or '※*■' decoration, no trailing '(円)'."""
    key = normalise_text(text)
    key = key.strip(":").lstrip("※*■●◆・")
    while True:
        trimmed = re.sub(r"(\([^()]*\)|\[[^\[\]]*\]|【[^【】]*】|\*|※)$", "", key).rstrip(":")
        if trimmed == key or not trimmed:
            return key
        key = trimmed


class _Sheet:
    """One worksheet as a grid of values with its merged ranges resolved."""

    def __init__(self, ws: Any) -> None:
        self.title: str = ws.title
        self.values: dict[tuple[int, int], Any] = {}
        max_row = min(ws.max_row or 0, _MAX_ROWS)
        max_col = min(ws.max_column or 0, _MAX_COLS)
        for row in ws.iter_rows(min_row=1, max_row=max_row, max_col=max_col):
            for cell in row:
                if cell.value is not None and hasattr(cell, "column"):
                    self.values[(cell.row, cell.column)] = cell.value
        self.merged: dict[tuple[int, int], tuple[int, int, int, int]] = {}
        for rng in ws.merged_cells.ranges:
            if rng.min_row > _MAX_ROWS or rng.min_col > _MAX_COLS:
                continue
            bounds = (rng.min_row, rng.min_col, min(rng.max_row, _MAX_ROWS),
                      min(rng.max_col, _MAX_COLS))
            for r in range(bounds[0], bounds[2] + 1):
                for c in range(bounds[1], bounds[3] + 1):
                    self.merged[(r, c)] = bounds
        self.max_row = max_row
        self.max_col = max_col
        self.labels: dict[str, list[tuple[int, int]]] = {}
        for (r, c), value in sorted(self.values.items()):
            if isinstance(value, str):
                self.labels.setdefault(_label_key(value), []).append((r, c))

    def get(self, r: int, c: int) -> Any:
        top = self.merged.get((r, c))
        if top:
            r, c = top[0], top[1]
        return self.values.get((r, c))

    def block_end(self, r: int, c: int) -> tuple[int, int]:
        """Last row and column of the (merged) block that starts at r, c."""
        bounds = self.merged.get((r, c))
        return (bounds[2], bounds[3]) if bounds else (r, c)

    def find(self, labels: Iterable[str]) -> list[tuple[int, int]]:
        hits: list[tuple[int, int]] = []
        for label in labels:
            hits.extend(self.labels.get(_label_key(label), []))
        return sorted(set(hits))

    def ref(self, r: int, c: int) -> str:
        from openpyxl.utils import get_column_letter

        return f"{self.title}!{get_column_letter(c)}{r}"


def _sheets_for(sheets: list[_Sheet], names: Sequence[str]) -> list[_Sheet]:
    """The named sheets (by normalised containment); every sheet when none of them exists."""
    if not names:
        return sheets
    wanted = [normalise_text(n) for n in names]
    chosen = [s for s in sheets if any(w in normalise_text(s.title) for w in wanted)]
    return chosen or sheets


def read_form(data: bytes, doc_key: str, form_map: FormMap) -> FormFacts:
    """Read one workbook as document `doc_key` with the form map's fields and tables."""
    facts = FormFacts(doc_key)
    spec = form_map.forms.get(doc_key)
    if spec is None:
        return facts  # a document the map does not describe (e.g. 概要書): nothing to read
    try:
        sheets = _load_sheets(data)
    except Exception as exc:  # noqa: BLE001 - openpyxl raises many types for broken files
        facts.problems.append(FormProblem("ATTACHMENT_UNREADABLE", doc_key, _unreadable(data, exc)))
        return facts
    formulas = _FormulaLookup(data)
    for field_spec in spec.fields:
        _read_field(sheets, field_spec, facts, formulas)
    for table_spec in spec.tables:
        _read_table(sheets, table_spec, facts)
    return facts


def _unreadable(data: bytes, exc: Exception) -> str:
    if data[:8] == b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1":  # OLE2: a password-protected .xlsx
        return ("Excelファイルにパスワードが設定されているため開けません。"
                "パスワードを解除したファイルを送付してください(zipの暗号化は可)。")
    return (f"Excelファイルとして開けません({type(exc).__name__})。"
            "ファイルが壊れていないか確認し、Excelで保存し直したファイルを送付してください。")


def _load_sheets(data: bytes) -> list[_Sheet]:
    import openpyxl

    with warnings.catch_warnings():  # openpyxl warns about unsupported extensions: not ours
        warnings.simplefilter("ignore")
        book = openpyxl.load_workbook(io.BytesIO(data), data_only=True)
    try:
        return [_Sheet(ws) for ws in book.worksheets]
    finally:
        book.close()


class _FormulaLookup:
    """Tells an empty cell from a formula whose result was never saved (files not from Excel)."""

    def __init__(self, data: bytes) -> None:
        self._data = data
        self._book: Any = None

    def is_formula(self, sheet: str, r: int, c: int) -> bool:
        try:
            if self._book is None:
                import openpyxl

                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    self._book = openpyxl.load_workbook(io.BytesIO(self._data))
            value = self._book[sheet].cell(r, c).value
        except Exception:  # noqa: BLE001 - only a hint for the detail text
            return False
        return isinstance(value, str) and value.startswith("=")


def _locate(sheets: list[_Sheet], spec: FieldSpec) -> tuple[_Sheet, int, int] | None:
    for sheet in _sheets_for(sheets, spec.sheets):
        for r, c in sheet.find(spec.labels):
            end_r, end_c = sheet.block_end(r, c)
            if spec.direction == "right":
                return sheet, r, end_c + 1 + spec.skip
            return sheet, end_r + 1 + spec.skip, c
    if spec.cell:
        from openpyxl.utils.cell import column_index_from_string, coordinate_from_string

        letters, row = coordinate_from_string(spec.cell)
        sheet = _sheets_for(sheets, spec.sheets)[0] if sheets else None
        if sheet:
            return sheet, row, column_index_from_string(letters)
    return None


def _read_field(
    sheets: list[_Sheet], spec: FieldSpec, facts: FormFacts, formulas: _FormulaLookup
) -> None:
    where = _locate(sheets, spec)
    if where is None:
        if spec.required:
            facts.problems.append(FormProblem(
                "FORM_FIELD_MISSING", facts.doc_key,
                f"「{spec.title}」欄が様式に見つかりません(様式の版をご確認ください)。",
            ))
        return
    sheet, r, c = where
    raw = sheet.get(r, c)
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
                if formulas.is_formula(sheet.title, r, c) else "記入してください。")
        facts.problems.append(FormProblem(
            "FORM_FIELD_MISSING", facts.doc_key,
            f"「{spec.title}」({sheet.ref(r, c)})が空欄です。{hint}",
        ))
    facts.fields[spec.key] = value


def _header(sheet: _Sheet, spec: TableSpec) -> tuple[dict[str, int], int] | None:
    """Columns of the header row (all required columns present) and the first data row."""
    start = 1
    if spec.anchor:
        anchors = sheet.find(spec.anchor)
        if not anchors:
            return None
        start = anchors[0][0]
    needed = [c for c in spec.columns if c.required] or list(spec.columns[:1])
    for r in range(start, sheet.max_row + 1):
        columns: dict[str, int] = {}
        last_row = r
        for col in spec.columns:
            keys = {_label_key(label) for label in col.labels}
            for c in range(1, sheet.max_col + 1):
                value = sheet.values.get((r, c))
                if isinstance(value, str) and _label_key(value) in keys:
                    columns[col.key] = c
                    last_row = max(last_row, sheet.block_end(r, c)[0])
                    break
        if all(c.key in columns for c in needed):
            return columns, last_row + 1
    return None


def _row_label(sheet: _Sheet, r: int, upto: int) -> str:
    texts = (sheet.get(r, c) for c in range(1, upto + 1))
    return "".join(_label_key(t) for t in texts if isinstance(t, str))


def _read_table(sheets: list[_Sheet], spec: TableSpec, facts: FormFacts) -> None:
    table = TableData()
    facts.tables[spec.key] = table
    for sheet in _sheets_for(sheets, spec.sheets):
        header = _header(sheet, spec)
        if header:
            table.found = True
            _read_rows(sheet, spec, header[0], header[1], table, facts)
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


def _read_rows(
    sheet: _Sheet, spec: TableSpec, columns: dict[str, int], first: int, table: TableData,
    facts: FormFacts,
) -> None:
    last_col = max(columns.values())
    totals = {_label_key(t) for t in spec.total}
    stops = {_label_key(t) for t in spec.stop}
    blanks = 0
    for r in range(first, sheet.max_row + 1):
        label = _row_label(sheet, r, last_col)
        raw = {key: sheet.get(r, c) for key, c in columns.items()}
        if label in totals or any(label.startswith(t) for t in totals if t):
            table.total = _convert_row(sheet, spec, columns, r, raw, facts, total_row=True)
            return
        if label in stops:
            return
        if all(v is None or (isinstance(v, str) and not v.strip()) for v in raw.values()):
            blanks += 1
            if blanks >= _MAX_BLANK_ROWS:
                return
            continue
        blanks = 0
        table.rows.append(_convert_row(sheet, spec, columns, r, raw, facts))
        table.refs.append(sheet.ref(r, min(columns.values())))
        table.cells.append({key: sheet.ref(r, c) for key, c in columns.items()})


def _convert_row(
    sheet: _Sheet, spec: TableSpec, columns: dict[str, int], r: int, raw: dict[str, Any],
    facts: FormFacts, *, total_row: bool = False,
) -> dict[str, Any]:
    row: dict[str, Any] = {}
    name = _text(raw.get("name") or raw.get("member"))
    for col in spec.columns:
        if col.key not in columns:
            continue
        ref = sheet.ref(r, columns[col.key])
        try:
            row[col.key] = convert(raw[col.key], col.type)
        except ValueError as exc:
            if not total_row:
                facts.problems.append(FormProblem(
                    "FORM_FIELD_MISSING", facts.doc_key,
                    f"「{spec.title}」の「{col.labels[0]}」({ref}): {exc}", name,
                ))
            row[col.key] = None
            continue
        if row[col.key] is None and col.required and not total_row:
            facts.problems.append(FormProblem(
                "FORM_FIELD_MISSING", facts.doc_key,
                f"「{spec.title}」の「{col.labels[0]}」({ref})が空欄です。", name,
            ))
    return row


# --- one application from several forms -------------------------------------------------------


@dataclass
class Member:
    name: str
    role: str | None = None  # 'sme' | 'vendor' | 'other'
    is_lead: bool = False
    industry: str | None = None
    main_industry: str | None = None  # 主たる業種 for 組合・団体・財団・NPO (⑫–⑮)
    capital: int | None = None
    employees: int | None = None
    corporate_number: str | None = None
    email: str | None = None
    size: str | None = None  # 企業規模 as written (大企業/中小企業), when the form asks
    document: str = "application"  # where this member was read from
    ref: str = ""
    cell_refs: dict[str, str] = field(default_factory=dict)  # column key → "シート!H13"


@dataclass(frozen=True)
class CostLine:
    member: str
    step: int | None
    category: str | None  # CATEGORIES key
    amount: int
    subcontract: bool = False
    ref: str = ""


@dataclass
class MemberAmounts:
    """A member's row on the 事業者情報入力シート: its own eligible cost and subsidy request."""

    name: str
    eligible: int | None
    requested: int | None
    ref: str = ""


@dataclass
class ApplicationFacts:
    forms_read: list[str] = field(default_factory=list)  # document keys whose forms were read
    consortium_names: dict[str, str] = field(default_factory=dict)  # where → name as written
    lead_name: str | None = None
    members: list[Member] = field(default_factory=list)
    requested: int | None = None  # 補助金交付申請額
    eligible_total: int | None = None  # 補助対象経費 stated on the 交付申請書
    cost_lines: list[CostLine] = field(default_factory=list)
    costs_total: int | None = None  # the 合計 row of the 経費内訳
    category_summary: dict[str, int] = field(default_factory=dict)
    category_summary_total: int | None = None
    member_amounts: list[MemberAmounts] = field(default_factory=list)  # 事業者情報入力シート
    member_amounts_total: MemberAmounts | None = None
    checklist: dict[str, bool] | None = None  # document key → ticked
    checklist_unknown: list[str] = field(default_factory=list)  # rows naming no known document
    dates: dict[str, date] = field(default_factory=dict)
    missing_fields: list[FormProblem] = field(default_factory=list)

    @property
    def lead(self) -> Member | None:
        leads = [m for m in self.members if m.is_lead]
        return leads[0] if len(leads) == 1 else None


_WHERE_JA = {
    "application": "交付申請書",
    "application/plan": "事業計画書",
    "member_info": "事業者情報入力シート",
    "checklist": "提出書類チェックリスト",
}


def merge_forms(
    forms: Sequence[FormFacts], recognition: Sequence[RecognitionSpec] = DEFAULT_RECOGNITION
) -> ApplicationFacts:
    """All forms of one submission → one ApplicationFacts (the first form of each kind wins)."""
    facts = ApplicationFacts()
    seen: set[str] = set()
    for form in forms:
        facts.missing_fields.extend(form.problems)
        if form.doc_key in seen:
            continue
        seen.add(form.doc_key)
        facts.forms_read.append(form.doc_key)
        merger = _MERGERS.get(form.doc_key)
        if merger:
            merger(form, facts, recognition)
    _fill_members_from_member_info(forms, facts)
    return facts


def _merge_application(
    form: FormFacts, facts: ApplicationFacts, _recognition: Sequence[RecognitionSpec]
) -> None:
    f = form.fields
    for key, where in (("consortium_name", "application"), ("plan_consortium_name",
                                                             "application/plan")):
        if f.get(key):
            facts.consortium_names[where] = str(f[key])
    facts.lead_name = f.get("lead_name")
    facts.requested = f.get("requested")
    facts.eligible_total = f.get("eligible_total")
    facts.dates.update({k: v for k, v in f.items() if isinstance(v, date)})
    members = form.tables.get("members", TableData())
    facts.members = [
        _member(row, ref, "application", cells)
        for row, ref, cells in zip(members.rows, members.refs, members.cells, strict=True)
        if row.get("name")
    ]
    _mark_lead(facts)
    costs = form.tables.get("costs", TableData())
    for row, ref in zip(costs.rows, costs.refs, strict=True):
        if row.get("amount") is not None:
            facts.cost_lines.append(CostLine(
                str(row.get("member") or ""), row.get("step"), row.get("category"),
                int(row["amount"]), bool(row.get("subcontract")), ref,
            ))
    facts.costs_total = costs.total.get("amount")
    summary = form.tables.get("category_summary", TableData())
    for row in summary.rows:
        if row.get("category") and row.get("amount") is not None:
            facts.category_summary[row["category"]] = (
                facts.category_summary.get(row["category"], 0) + int(row["amount"]))
    facts.category_summary_total = summary.total.get("amount")


def _member(
    row: Mapping[str, Any], ref: str, document: str, cells: Mapping[str, str] | None = None
) -> Member:
    return Member(
        name=str(row["name"]), role=row.get("role"), is_lead=bool(row.get("lead")),
        industry=row.get("industry"), main_industry=row.get("main_industry"),
        capital=row.get("capital"), employees=row.get("employees"),
        corporate_number=row.get("corporate_number"), email=row.get("email"),
        size=row.get("size"), document=document, ref=ref, cell_refs=dict(cells or {}),
    )


def _mark_lead(facts: ApplicationFacts) -> None:
    """No 幹事社 column ticked: the member named in 幹事社名 is the lead."""
    if any(m.is_lead for m in facts.members) or not facts.lead_name:
        return
    wanted = member_key(facts.lead_name)
    for m in facts.members:
        if member_key(m.name) == wanted:
            m.is_lead = True


def _merge_member_info(
    form: FormFacts, facts: ApplicationFacts, _recognition: Sequence[RecognitionSpec]
) -> None:
    if form.fields.get("consortium_name"):
        facts.consortium_names["member_info"] = str(form.fields["consortium_name"])
    table = form.tables.get("members", TableData())
    facts.member_amounts = [
        MemberAmounts(str(row["name"]), row.get("eligible"), row.get("requested"), ref)
        for row, ref in zip(table.rows, table.refs, strict=True) if row.get("name")
    ]
    if table.total:
        facts.member_amounts_total = MemberAmounts(
            "合計", table.total.get("eligible"), table.total.get("requested"))


def _fill_members_from_member_info(forms: Sequence[FormFacts], facts: ApplicationFacts) -> None:
    """Members known only from the 事業者情報入力シート still get their 法人番号 etc. checked."""
    info = next((f for f in forms if f.doc_key == "member_info"), None)
    if info is None:
        return
    table = info.tables.get("members", TableData())
    known = {member_key(m.name): m for m in facts.members}
    for row, ref, cells in zip(table.rows, table.refs, table.cells, strict=True):
        if not row.get("name"):
            continue
        member = known.get(member_key(str(row["name"])))
        if member is None:
            if facts.members and "application" in facts.forms_read:
                continue  # the 交付申請書 is the authority on who is in the consortium
            facts.members.append(_member(row, ref, "member_info", cells))
        elif row.get("corporate_number") and row["corporate_number"] != member.corporate_number:
            # a second, differing 法人番号 is checked too: either may be the typo
            facts.members.append(_member(row, ref, "member_info", cells))


def _merge_checklist(
    form: FormFacts, facts: ApplicationFacts, recognition: Sequence[RecognitionSpec]
) -> None:
    if form.fields.get("consortium_name"):
        facts.consortium_names["checklist"] = str(form.fields["consortium_name"])
    facts.checklist = {}
    for row in form.tables.get("items", TableData()).rows:
        title = str(row.get("document") or "")
        hit = classify_text(title, recognition)
        if hit is None:
            facts.checklist_unknown.append(title)
            continue
        facts.checklist[hit[0]] = facts.checklist.get(hit[0], False) or bool(row.get("tick"))


_MERGERS = {
    "application": _merge_application,
    "member_info": _merge_member_info,
    "checklist": _merge_checklist,
}


_CORPORATE_WORDS = ("株式会社", "有限会社", "合同会社", "合資会社", "合名会社", "(株)", "(有)",
                    "(同)", "一般社団法人", "一般財団法人", "公益社団法人", "公益財団法人",
                    "特定非営利活動法人", "医療法人", "社会福祉法人", "学校法人")


def member_key(name: str) -> str:
    """A member name for matching across forms and files: no 株式会社/㈱, spaces or case."""
    key = normalise_text(name)
    for word in _CORPORATE_WORDS:
        key = key.replace(normalise_text(word), "")
    return key or normalise_text(name)


def where_ja(where: str) -> str:
    return _WHERE_JA.get(where, where)
