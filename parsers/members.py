"""Several forms of one submission → one application: members matched across forms.

The 交付申請書 says who is in the consortium; the 事業者情報入力シート adds what it lacks
(法人番号, capital, employees …) to the same member, matched by 法人番号 and then by the company
name without 株式会社/㈱. A row is never turned into an extra member because a key is missing,
and a 法人番号 written differently on the two forms is checked on both without a second member.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from parsers.cellvalues import declares_none, parse_date
from parsers.documents import DEFAULT_RECOGNITION, RecognitionSpec, classify_text, normalise_text
from parsers.readresult import FormFacts, FormProblem, TableData

__all__ = [
    "ApplicationFacts", "CostLine", "Member", "MemberAmounts", "merge_forms", "member_key",
    "where_ja",
]


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
    sole_proprietor: bool = False  # 個人事業主: no 法人番号, no capital; judged by employees
    # 法人番号 written differently on another form: (number, document, cell) — checked too
    other_numbers: list[tuple[str, str, str]] = field(default_factory=list)


@dataclass(frozen=True)
class CostLine:
    member: str
    step: int | None
    category: str | None  # CATEGORIES key
    amount: int
    subcontract: bool = False
    ref: str = ""
    description: str = ""
    payee: str = ""  # 委託先, when the table has the column


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
    wrong_subtotals: list[tuple[str, int, int]] = field(default_factory=list)  # 小計 ≠ its rows
    missing_fields: list[FormProblem] = field(default_factory=list)

    @property
    def lead(self) -> Member | None:
        leads = [m for m in self.members if m.is_lead]
        return leads[0] if len(leads) == 1 else None

    def member_named(self, name: str) -> Member | None:
        """The member a cost line or amount row names (by the name without 株式会社 etc.)."""
        key = member_key(name)
        exact = next((m for m in self.members if member_key(m.name) == key), None)
        if exact or not key:
            return exact
        near = [m for m in self.members if key in member_key(m.name) or member_key(m.name) in key]
        return near[0] if len(near) == 1 else None


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
        if form.doc_key in seen:
            facts.missing_fields.extend(form.problems)
            continue
        seen.add(form.doc_key)
        facts.forms_read.append(form.doc_key)
        merger = _MERGERS.get(form.doc_key)
        if merger:
            merger(form, facts, recognition)
    _fill_members_from_member_info(forms, facts)
    firsts = {f.doc_key: f for f in reversed(forms)}
    for form in firsts.values():
        facts.missing_fields.extend(p for p in form.problems if not _waived(p, facts))
    return facts


def _period(text: object) -> tuple[date | None, date | None]:
    """「令和4年10月1日～令和5年1月31日」 written in one 事業期間 cell → (start, end)."""
    if not isinstance(text, str):
        return None, None
    parts = re.split(r"[~〜～]|から|より|\s+[-－―ー−]\s+|[－―−](?=\s*(?:令和|平成|R|\d{4}))", text)
    days: list[date | None] = []
    for part in (parts[0], parts[-1]) if len(parts) >= 2 else ():
        try:
            days.append(parse_date(part.strip(" 　まで")))
        except ValueError:
            days.append(None)
    return (days[0], days[1]) if len(days) == 2 else (None, None)


def _waived(problem: FormProblem, facts: ApplicationFacts) -> bool:
    """A 個人事業主 has no 法人番号 and no capital: leaving them blank is right, not missing;
    a 事業期間 written in one cell gives the start and end dates."""
    if problem.column in ("project_start", "project_end") and problem.column in facts.dates:
        return "見つかりません" in problem.detail
    if problem.column not in ("corporate_number", "capital") or not problem.member:
        return False
    member = facts.member_named(problem.member)
    return member is not None and member.sole_proprietor


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
    for key, day in zip(("project_start", "project_end"), _period(f.get("project_period")),
                        strict=True):
        if day is not None and key not in facts.dates:
            facts.dates[key] = day
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
                str(row.get("description") or ""), str(row.get("payee") or ""),
            ))
    facts.costs_total = costs.total.get("amount")
    facts.wrong_subtotals = list(costs.subtotals)
    summary = form.tables.get("category_summary", TableData())
    for row in summary.rows:
        if row.get("category") and row.get("amount") is not None:
            facts.category_summary[row["category"]] = (
                facts.category_summary.get(row["category"], 0) + int(row["amount"]))
    facts.category_summary_total = summary.total.get("amount")


_SOLE_WORDS = ("個人事業", "個人営業", "屋号")


def _is_sole_proprietor(row: Mapping[str, Any]) -> bool:
    """Marked 個人事業主 anywhere in its row, or a name without a legal form whose 法人番号
    and capital are both left blank or 「－」/「なし」."""
    raw = row.get("_raw", {})
    texts = [str(v) for v in raw.values() if isinstance(v, str)]
    if any(word in normalise_text(t) for t in texts for word in _SOLE_WORDS):
        return True
    name = str(row.get("name") or "")
    number_none = not row.get("corporate_number") and (
        "corporate_number" not in raw or declares_none(raw.get("corporate_number")))
    capital_none = row.get("capital") is None and declares_none(raw.get("capital"))
    return number_none and capital_none and not _has_legal_form(name)


def _has_legal_form(name: str) -> bool:
    key = normalise_text(name)
    return any(normalise_text(w) in key for w in _CORPORATE_WORDS) or bool(
        re.search(r"法人|組合|協会|機構|大学|学校|財団|社団|商工会|会議所", key))


def _member(
    row: Mapping[str, Any], ref: str, document: str, cells: Mapping[str, str] | None = None
) -> Member:
    role_text = normalise_text(str(row.get("_raw", {}).get("role") or ""))
    return Member(
        name=str(row["name"]).strip(), role=row.get("role"),
        is_lead=bool(row.get("lead")) or "幹事" in role_text,
        industry=row.get("industry") or row.get("main_industry"),
        main_industry=row.get("main_industry"),
        capital=row.get("capital"), employees=row.get("employees"),
        corporate_number=row.get("corporate_number"), email=row.get("email"),
        size=row.get("size"), document=document, ref=ref, cell_refs=dict(cells or {}),
        sole_proprietor=_is_sole_proprietor(row),
    )


def _mark_lead(facts: ApplicationFacts) -> None:
    """No 幹事社 column ticked: the member named in the 幹事社名 field is the 幹事社."""
    if any(m.is_lead for m in facts.members) or not facts.lead_name:
        return
    lead = facts.member_named(facts.lead_name)
    if lead:
        lead.is_lead = True


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


def _digits(number: str | None) -> str:
    return re.sub(r"\D", "", number or "")


def _fill_members_from_member_info(forms: Sequence[FormFacts], facts: ApplicationFacts) -> None:
    """Complete each member from its row on the 事業者情報入力シート (matched by 法人番号, then
    by name); with no 交付申請書 members, that sheet's rows are the members."""
    info = next((f for f in forms if f.doc_key == "member_info"), None)
    if info is None:
        return
    table = info.tables.get("members", TableData())
    rows = [(row, ref, cells) for row, ref, cells in
            zip(table.rows, table.refs, table.cells, strict=True) if row.get("name")]
    if not facts.members:
        facts.members = [_member(row, ref, "member_info", cells) for row, ref, cells in rows]
        _mark_lead(facts)
        return
    for row, ref, cells in rows:
        member = _match(facts.members, row)
        if member is None:
            continue  # the 交付申請書 is the authority on who is in the consortium
        _complete(member, row, ref, cells)


def _match(members: Sequence[Member], row: Mapping[str, Any]) -> Member | None:
    number = _digits(row.get("corporate_number"))
    if len(number) == 13:
        same = [m for m in members if _digits(m.corporate_number) == number]
        if len(same) == 1:
            return same[0]
    key = member_key(str(row["name"]))
    by_name = [m for m in members if member_key(m.name) == key]
    return by_name[0] if len(by_name) == 1 else None


def _complete(member: Member, row: Mapping[str, Any], ref: str, cells: Mapping[str, str]) -> None:
    number = row.get("corporate_number")
    if number and member.corporate_number and _digits(number) != _digits(member.corporate_number):
        member.other_numbers.append(
            (number, "member_info", cells.get("corporate_number") or ref))
    for attr in ("role", "industry", "main_industry", "capital", "employees",
                 "corporate_number", "email", "size"):
        if getattr(member, attr) is None and row.get(attr) is not None:
            setattr(member, attr, row[attr])
            if attr == "corporate_number" and cells.get(attr):
                member.cell_refs[attr] = cells[attr]
    member.sole_proprietor = member.sole_proprietor or (
        _is_sole_proprietor(row) and not member.corporate_number)


def _merge_checklist(
    form: FormFacts, facts: ApplicationFacts, recognition: Sequence[RecognitionSpec]
) -> None:
    if form.fields.get("consortium_name"):
        facts.consortium_names["checklist"] = str(form.fields["consortium_name"])
    facts.checklist = {}
    for row in form.tables.get("items", TableData()).rows:
        title = str(row.get("document") or "")
        # the title as the forms print it, else the everyday name (登記簿謄本 for 履歴事項…)
        hit = classify_text(title, recognition) or classify_text(title, recognition,
                                                                field="file_names")
        if hit is None:
            facts.checklist_unknown.append(title)
            continue
        tick = bool(row.get("tick"))
        if "tick" not in row.get("_raw", {}):  # no mark in the column: one before the title?
            tick = normalise_text(title)[:1] in _MARKED
        facts.checklist[hit[0]] = facts.checklist.get(hit[0], False) or tick


_MARKED = set("■☑✓✔●○◯〇レ◎")  # 「■4. 補助金交付申請書」: ticked in the title itself


_MERGERS = {
    "application": _merge_application,
    "member_info": _merge_member_info,
    "checklist": _merge_checklist,
}


_CORPORATE_WORDS = ("株式会社", "有限会社", "合同会社", "合資会社", "合名会社", "(株)", "(有)",
                    "(同)", "(合)", "一般社団法人", "一般財団法人", "公益社団法人", "公益財団法人",
                    "特定非営利活動法人", "医療法人", "社会福祉法人", "学校法人", "NPO法人")


_CORPORATE_KEYS = tuple(normalise_text(word) for word in _CORPORATE_WORDS)


def member_key(name: str) -> str:
    """A member name for matching across forms and files: no 株式会社/㈱, spaces or case."""
    # The same few names are compared hundreds of times per submission: short ones are cached.
    return _member_key(name) if len(name) <= _CACHED_LENGTH else _member_key.__wrapped__(name)


_CACHED_LENGTH = 200


@functools.lru_cache(maxsize=4096)
def _member_key(name: str) -> str:
    key = normalise_text(name)
    for word in _CORPORATE_KEYS:
        key = key.replace(word, "")
    key = re.sub(r"\([^()]*\)|【[^【】]*】|\[[^\[\]]*\]", "", key)  # (幹事社), (屋号 …)
    key = re.sub(r"[・･.,、。\-]", "", key)
    return key or normalise_text(name)


def where_ja(where: str) -> str:
    return _WHERE_JA.get(where, where)
