"""What reading one form yields: its field values, its tables' rows, and its problems."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

__all__ = ["FormFacts", "FormProblem", "TableData"]


@dataclass(frozen=True)
class FormProblem:
    """Something a form lacks or that cannot be read: becomes a SPEC §4 finding."""

    code: str  # FORM_FIELD_MISSING or ATTACHMENT_UNREADABLE
    document: str  # SPEC §2 document key
    detail: str  # plain Japanese, naming the field, the sheet and the cell
    member: str | None = None
    column: str | None = None  # the table column, when the problem is one cell of a row


@dataclass
class TableData:
    rows: list[dict[str, Any]] = field(default_factory=list)
    refs: list[str] = field(default_factory=list)  # "シート!B12" of each row, for details
    cells: list[dict[str, str]] = field(default_factory=list)  # per row: column key → "シート!H12"
    total: dict[str, Any] = field(default_factory=dict)  # values on the 合計 row
    subtotals: list[tuple[str, int, int]] = field(default_factory=list)  # wrong 小計: cell, stated, rows
    found: bool = False


@dataclass
class FormFacts:
    doc_key: str
    fields: dict[str, Any] = field(default_factory=dict)
    refs: dict[str, str] = field(default_factory=dict)  # field key → "シート!C5"
    tables: dict[str, TableData] = field(default_factory=dict)
    problems: list[FormProblem] = field(default_factory=list)
