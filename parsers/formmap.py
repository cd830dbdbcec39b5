"""The form map (TOML): where each field of a form sits, named by the label printed beside it.

The real templates are not public, so nothing in code knows a cell address: the map names each
field by its label (right or below), each table by its column headers.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from parsers.cellvalues import ValueType
from parsers.documents import DEFAULT_RECOGNITION, RecognitionSpec

__all__ = [
    "ColumnSpec", "DEFAULT_FORM_MAP", "FieldSpec", "FormMap", "FormMapError", "FormSpec",
    "TableSpec", "ValueType", "form_map_from_toml", "load_form_map",
]

DEFAULT_FORM_MAP = Path(__file__).with_name("formmap.toml")

_VALUE_TYPES = set(ValueType.__args__)  # type: ignore[attr-defined]


class FormMapError(ValueError):
    """The form map file is not valid; the message names the key and what to fix."""


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
    fill_down: tuple[str, ...] = ()  # columns left blank or 〃 under the same value above


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
    _only(raw, {"columns", "sheets", "anchor", "total", "stop", "required", "title", "fill_down"},
          where)
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
        bool(raw.get("required")), str(raw.get("title", key)), _words(raw, "fill_down", where),
    )

