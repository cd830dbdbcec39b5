"""Every form and program rule of one application, in one call.

Rules that need a form run only when that form was read, so a loose 事業者情報入力シート is
checked for what it can show (法人番号, its own sums) and not blamed for a missing 交付申請書;
document presence and the checklist are judged only for a whole submission (a mail or a zip).
"""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence
from datetime import date

from parsers.documents import Recognised
from parsers.members import ApplicationFacts, where_ja
from parsers.readresult import FormProblem
from parsers.subject import consortium_key
from rules.costs import check_cost_eligibility
from rules.documents import check_documents
from rules.eligibility import check_composition, check_corporate_numbers, check_sme_users
from rules.findings import Finding, finding
from rules.money import check_money, check_sums
from rules.program import Program

__all__ = ["check_application", "check_consortium_name", "check_project_period",
           "check_sender_is_lead"]

# Addresses at these domains say nothing about the company, so only the exact address counts.
FREE_MAIL_DOMAINS = frozenset({
    "gmail.com", "yahoo.co.jp", "ymail.ne.jp", "outlook.com", "outlook.jp", "hotmail.com",
    "hotmail.co.jp", "live.jp", "icloud.com", "me.com", "docomo.ne.jp", "ezweb.ne.jp",
    "au.com", "softbank.ne.jp", "i.softbank.jp", "nifty.com", "biglobe.ne.jp",
})


def check_application(
    facts: ApplicationFacts,
    present: Sequence[Recognised],
    program: Program,
    *,
    subject_consortium: str | None = None,
    sender_email: str | None = None,
    whole_submission: bool = True,
) -> list[Finding]:
    found = [_problem_finding(p) for p in facts.missing_fields]
    found += check_consortium_name(facts, subject_consortium)
    if "application" in facts.forms_read:
        found += check_composition(facts.members, program, lead_name=facts.lead_name)
        found += check_sme_users(facts.members, program)
        found += check_money(facts, program)
        found += check_cost_eligibility(facts, program)
        found += check_project_period(facts, program)
    found += check_corporate_numbers(facts.members)
    found += check_sums(facts)
    if sender_email:
        found += check_sender_is_lead(facts, sender_email)
    if whole_submission:
        found += check_documents(facts, present, program)
    return _unique(found)


def check_project_period(facts: ApplicationFacts, program: Program) -> list[Finding]:
    """The 事業完了予定日 falls within the 補助事業期間 (交付決定日〜project_end)."""
    end = facts.dates.get("project_end")
    if end is None or end <= program.project_end:
        return []
    return [finding(
        "PROJECT_PERIOD",
        f"事業計画書の事業完了予定日{_day(end)}が補助事業期間の終わり{_day(program.project_end)}"
        "より後です。", document="application")]


def _day(day: date) -> str:
    return f"{day.year}年{day.month}月{day.day}日"


def _problem_finding(problem: FormProblem) -> Finding:
    return finding(problem.code, problem.detail, member=problem.member, document=problem.document)


def _unique(found: list[Finding]) -> list[Finding]:
    seen: set[Finding] = set()
    return [f for f in found if not (f in seen or seen.add(f))]


def check_consortium_name(
    facts: ApplicationFacts, subject_consortium: str | None
) -> list[Finding]:
    """The forms name one consortium, and it is the one in the subject."""
    names = dict(facts.consortium_names)
    if not names:
        return []
    reference_where, reference = next(iter(names.items()))
    found: list[Finding] = []
    for where, name in names.items():
        if consortium_key(name) != consortium_key(reference):
            found.append(finding(
                "CONSORTIUM_NAME_MISMATCH",
                f"{where_ja(where)}のコンソーシアム名「{name}」が{where_ja(reference_where)}の"
                f"「{reference}」と一致しません。", document=where.split("/")[0]))
    if subject_consortium and consortium_key(subject_consortium) != consortium_key(reference):
        found.append(finding(
            "CONSORTIUM_NAME_MISMATCH",
            f"件名のコンソーシアム名「{subject_consortium}」が{where_ja(reference_where)}の"
            f"「{reference}」と一致しません。", document=reference_where.split("/")[0]))
    return found


def _domain(address: str) -> str:
    return address.rsplit("@", 1)[-1].casefold()


def check_sender_is_lead(facts: ApplicationFacts, sender_email: str) -> list[Finding]:
    """The mail comes from the 幹事社: its contact address, or its own (non free-mail) domain."""
    lead = facts.lead
    if lead is None or not lead.email:
        return []  # no 幹事社 or no address: reported by the composition / form rules
    sender = unicodedata.normalize("NFKC", sender_email).strip().strip("<>").casefold()
    if sender == lead.email.casefold():
        return []
    domain = _domain(sender)
    if domain == _domain(lead.email) and domain not in FREE_MAIL_DOMAINS:
        return []
    other = next((m.name for m in facts.members if m.email and not m.is_lead
                  and (m.email.casefold() == sender or (
                      _domain(m.email) == domain and domain not in FREE_MAIL_DOMAINS))), None)
    who = f"(構成員「{other}」のアドレスです)" if other else ""
    return [finding(
        "SENDER_NOT_LEAD",
        f"送信者 {sender}{who or ' '}は、様式に記載の幹事社「{lead.name}」の担当者"
        f"({lead.email})ではありません。",
        member=lead.name, document="application")]
