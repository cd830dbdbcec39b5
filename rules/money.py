"""Money rules of the program page: cap, rate, minimum, expense shares, subcontracting, sums.

Every boundary is exact integer/fraction arithmetic (a 2/3 rate never goes through a float):
`a ≤ share × b` is tested as `a × den ≤ b × num`.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from fractions import Fraction

from parsers.cellvalues import CATEGORY_JA
from parsers.members import ApplicationFacts, CostLine, Member, member_key
from rules.eligibility import (
    declared_size_conflict,
    funded_members,
    is_large_enterprise,
    judge_sme,
)
from rules.findings import Finding, finding
from rules.program import Program

__all__ = [
    "check_money",
    "check_sums",
    "eligible_cost",
    "subsidy_cap",
    "subsidy_rate",
]


def _yen(amount: int) -> str:
    return f"{amount:,}円"


def _over(part: int, share: Fraction, whole: int) -> bool:
    """part > share × whole, exactly."""
    return part * share.denominator > whole * share.numerator


def _share_text(share: Fraction) -> str:
    return f"{share.numerator}/{share.denominator}"


def subsidy_cap(member_count: int, program: Program) -> int:
    """補助上限額: 4者 44,000,000円, +11,000,000円 per 者, 10者以上 110,000,000円.

    Fewer members than the base count keep the base cap: the composition rule reports them.
    """
    extra = max(0, member_count - program.cap_base_members)
    return min(program.cap_max, program.cap_base + extra * program.cap_step)


def subsidy_rate(members: Sequence[Member], program: Program) -> Fraction:
    """2/3以内, or 1/2以内 when any ITベンダ is a 大企業."""
    vendors = [m for m in members if m.role == "vendor"]
    if any(is_large_enterprise(m, program) for m in vendors):
        return program.subsidy_rate_large_vendor
    return program.subsidy_rate


def eligible_cost(facts: ApplicationFacts) -> int | None:
    """補助対象経費総額: the sum of the 内訳 when there is one, else the stated total."""
    if facts.cost_lines:
        return sum(line.amount for line in facts.cost_lines)
    return facts.eligible_total


def check_money(facts: ApplicationFacts, program: Program) -> list[Finding]:
    found: list[Finding] = []
    found += _check_cap_and_rate(facts, program)
    found += _check_software_cloud(facts.cost_lines, program)
    found += _check_sme_personnel(facts, program)
    found += _check_subcontracting(facts, program)
    return found


def _check_cap_and_rate(facts: ApplicationFacts, program: Program) -> list[Finding]:
    requested = facts.requested
    if requested is None:
        return []  # reported as FORM_FIELD_MISSING by the form reader
    found: list[Finding] = []
    if requested < program.subsidy_minimum:
        found.append(finding(
            "AMOUNT_BELOW_MINIMUM",
            f"補助金交付申請額{_yen(requested)}は補助下限額{_yen(program.subsidy_minimum)}"
            "を下回っています。", document="application"))
    count = len(funded_members(facts.members))
    if count:
        cap = subsidy_cap(count, program)
        if requested > cap:
            found.append(finding(
                "AMOUNT_OVER_CAP",
                f"補助金交付申請額{_yen(requested)}は、中小ユーザ企業とITベンダの事業者数{count}者の"
                f"補助上限額{_yen(cap)}を超えています。", document="application"))
    eligible = eligible_cost(facts)
    if eligible is not None:
        rate = subsidy_rate(facts.members, program)
        if rate != program.subsidy_rate_large_vendor:
            found += _undecided_vendors(facts.members, program)  # their size sets the rate
        if _over(requested, rate, eligible):
            why = "ITベンダに大企業が含まれるため、" if rate == program.subsidy_rate_large_vendor \
                and rate != program.subsidy_rate else ""
            conflicts = [c for m in facts.members if m.role == "vendor"
                         if (c := declared_size_conflict(m, program))]
            if conflicts:
                why = f"{'。'.join(conflicts)}。{why}"
            limit = eligible * rate.numerator // rate.denominator
            found.append(finding(
                "AMOUNT_OVER_CAP",
                f"補助金交付申請額{_yen(requested)}は補助対象経費{_yen(eligible)}の"
                f"{_share_text(rate)}({_yen(limit)})を超えています({why}補助率は"
                f"{_share_text(rate)}以内です)。", document="application"))
    return found


def _undecided_vendors(members: Sequence[Member], program: Program) -> list[Finding]:
    """Vendors whose size the numbers cannot tell, when that decides between 2/3 and 1/2."""
    found = []
    for m in members:
        if m.role != "vendor":
            continue
        judgement = judge_sme(m, program)
        if judgement.verdict == "unknown" and not (m.size and "大企業" in m.size):
            found.append(finding(
                "FORM_FIELD_MISSING",
                f"{m.name}: {judgement.reason}。ITベンダが大企業かどうかで補助率(2/3か1/2)が変わるため、"
                "業種・資本金・従業員数を記入してください。", member=m.name, document=m.document))
    return found


def _sum(lines: Iterable[CostLine]) -> int:
    return sum(line.amount for line in lines)


def _check_software_cloud(lines: Sequence[CostLine], program: Program) -> list[Finding]:
    total = _sum(lines)
    part = _sum(x for x in lines if x.category in ("software", "cloud"))
    share = program.software_cloud_max_share
    if not lines or not _over(part, share, total):
        return []
    return [finding(
        "SOFTWARE_CLOUD_OVER_HALF",
        f"ソフトウェア購入費とクラウドサービス利用費の合計{_yen(part)}が、補助対象経費総額"
        f"{_yen(total)}の{_share_text(share)}({_yen(total * share.numerator // share.denominator)})"
        "を超えています。", document="application")]


def _role(facts: ApplicationFacts, line: CostLine) -> str | None:
    member = facts.member_named(line.member)
    return member.role if member else None


def _check_sme_personnel(facts: ApplicationFacts, program: Program) -> list[Finding]:
    lines = [x for x in facts.cost_lines if x.category != "hardware"]
    sme_personnel = _sum(x for x in lines if x.category == "personnel"
                         and _role(facts, x) == "sme")
    base = _sum(x for x in lines if x.category == "outsourcing" or (
        x.category == "personnel" and (program.sme_personnel_base == "all"
                                       or _role(facts, x) == "vendor")))
    share = program.sme_personnel_max_share
    if not sme_personnel or not _over(sme_personnel, share, base):
        return []
    return [finding(
        "SME_PERSONNEL_OVER_THIRD",
        f"中小ユーザ企業の人件費{_yen(sme_personnel)}が、委託費及び人件費の合計{_yen(base)}の"
        f"{_share_text(share)}({_yen(base * share.numerator // share.denominator)})を超えています。",
        document="application")]


def _check_subcontracting(facts: ApplicationFacts, program: Program) -> list[Finding]:
    """Each vendor's 下請け発注 in 設計・開発〜システムテスト must stay UNDER 1/2 of its cost there."""
    found: list[Finding] = []
    share = program.subcontract_max_share
    if program.subcontract_scope == "step":
        for step in program.subcontract_steps:
            own = [x for x in facts.cost_lines if x.step == step and x.category != "hardware"]
            sub = _sum(x for x in own if _role(facts, x) == "vendor"
                       and (x.subcontract or x.category == "outsourcing"))
            if sub and sub * share.denominator >= _sum(own) * share.numerator:
                found.append(finding(
                    "SUBCONTRACT_OVER_HALF",
                    f"STEP{step}のITベンダの下請け発注{_yen(sub)}が、当該工程の補助対象経費"
                    f"{_yen(_sum(own))}の{_share_text(share)}以上です({_share_text(share)}未満が条件)。",
                    document="application"))
        return found
    for vendor in (m for m in facts.members if m.role == "vendor"):
        for step in program.subcontract_steps:
            own = [x for x in facts.cost_lines if x.step == step
                   and facts.member_named(x.member) is vendor and x.category != "hardware"]
            sub = _sum(x for x in own if x.subcontract or x.category == "outsourcing")
            step_cost = _sum(own)
            if sub and sub * share.denominator >= step_cost * share.numerator:
                found.append(finding(
                    "SUBCONTRACT_OVER_HALF",
                    f"{vendor.name}のSTEP{step}の下請け発注{_yen(sub)}が、当該工程の補助対象経費"
                    f"{_yen(step_cost)}の{_share_text(share)}以上です({_share_text(share)}未満が条件)。",
                    member=vendor.name, document="application"))
    return found


# --- sums within and across forms --------------------------------------------------------------


def _mismatch(detail: str, document: str, member: str | None = None) -> Finding:
    return finding("SUM_MISMATCH", detail, member=member, document=document)


def check_sums(facts: ApplicationFacts) -> list[Finding]:
    found = _sums_in_application(facts)
    found += _sums_in_member_info(facts)
    if "application" in facts.forms_read and "member_info" in facts.forms_read:
        found += _sums_across_forms(facts)
    return found


def _sums_in_application(facts: ApplicationFacts) -> list[Finding]:
    found: list[Finding] = [_mismatch(
        f"補助対象経費内訳書の小計{_yen(stated)}({cell})がその内訳の合計{_yen(actual)}と一致しません。",
        "application") for cell, stated, actual in facts.wrong_subtotals]
    if not facts.cost_lines:
        return found
    lines_total = _sum(facts.cost_lines)
    if facts.costs_total is not None and facts.costs_total != lines_total:
        found.append(_mismatch(
            f"補助対象経費内訳書の合計欄{_yen(facts.costs_total)}が内訳の合計{_yen(lines_total)}"
            "と一致しません。", "application"))
    if facts.eligible_total is not None and facts.eligible_total != lines_total:
        found.append(_mismatch(
            f"交付申請書の補助対象経費合計{_yen(facts.eligible_total)}が補助対象経費内訳書の合計"
            f"{_yen(lines_total)}と一致しません。", "application"))
    if facts.category_summary:
        for key, label in CATEGORY_JA.items():
            stated = facts.category_summary.get(key, 0)
            actual = _sum(x for x in facts.cost_lines if x.category == key)
            if stated != actual:
                found.append(_mismatch(
                    f"経費区分別集計の{label}{_yen(stated)}が内訳の{label}の合計{_yen(actual)}"
                    "と一致しません。", "application"))
        summary_sum = sum(facts.category_summary.values())
        stated_total = facts.category_summary_total
        if stated_total is not None and stated_total != summary_sum:
            found.append(_mismatch(
                f"経費区分別集計の合計欄{_yen(stated_total)}が各経費区分の合計{_yen(summary_sum)}"
                "と一致しません。", "application"))
    return found


def _sums_in_member_info(facts: ApplicationFacts) -> list[Finding]:
    total = facts.member_amounts_total
    if total is None or not facts.member_amounts:
        return []
    found: list[Finding] = []
    for attr, label in (("eligible", "補助対象経費"), ("requested", "補助金申請額")):
        stated = getattr(total, attr)
        actual = sum(getattr(m, attr) or 0 for m in facts.member_amounts)
        if stated is not None and stated != actual:
            found.append(_mismatch(
                f"事業者情報入力シートの{label}の合計欄{_yen(stated)}が各事業者の合計{_yen(actual)}"
                "と一致しません。", "member_info"))
    return found


def _sums_across_forms(facts: ApplicationFacts) -> list[Finding]:
    found: list[Finding] = []
    requested_sum = sum(m.requested or 0 for m in facts.member_amounts)
    if facts.requested is not None and facts.member_amounts and requested_sum != facts.requested:
        found.append(_mismatch(
            f"事業者情報入力シートの補助金申請額の合計{_yen(requested_sum)}が交付申請書の"
            f"補助金交付申請額{_yen(facts.requested)}と一致しません。", "member_info"))
    if facts.cost_lines:
        for row in facts.member_amounts:
            member = facts.member_named(row.name)
            key = member_key(row.name)
            actual = _sum(x for x in facts.cost_lines if member_key(x.member) == key or (
                member is not None and facts.member_named(x.member) is member))
            if row.eligible is not None and row.eligible != actual:
                found.append(_mismatch(
                    f"事業者情報入力シートの{row.name}の補助対象経費{_yen(row.eligible)}が"
                    f"補助対象経費内訳書の同社分の合計{_yen(actual)}と一致しません。",
                    "member_info", row.name))
    return found
