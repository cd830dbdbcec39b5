"""Who may apply: consortium composition, the SME line per industry, and 法人番号.

From the program page: ITツールを利用する複数の中小ユーザ企業と、連携機能構築等を行う複数の
ITベンダが中心となりコンソーシアムを組成し、幹事社が申請する. An SME user is an 中小企業 whose
資本金 OR 常時使用する従業員数 is at or under its industry's line. All numbers come from Program.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from parsers.members import Member
from rules.corporate_number import is_valid_corporate_number, normalise_corporate_number
from rules.findings import Finding, finding
from rules.industry import find_sme_line
from rules.program import Program, SmeLine

__all__ = [
    "SmeJudgement",
    "check_composition",
    "check_corporate_numbers",
    "declared_size_conflict",
    "check_sme_users",
    "find_sme_line",
    "funded_members",
    "is_large_enterprise",
    "judge_sme",
]


def _fold(text: str) -> str:
    return "".join(unicodedata.normalize("NFKC", text).split()).casefold()


def funded_members(members: Sequence[Member]) -> list[Member]:
    """SME users and IT vendors: the 事業者 counted for the cap and bound by per-member papers."""
    return [m for m in members if m.role in ("sme", "vendor")]


@dataclass(frozen=True)
class SmeJudgement:
    verdict: Literal["sme", "not_sme", "unknown"]
    reason: str  # plain Japanese: which line, which numbers


def _lines_for(member: Member, program: Program) -> tuple[SmeLine, int | None, int] | str:
    """(row, capital line, employee line) or the Japanese reason why none applies.

    Rows ⑨–⑮ go by legal form (医療法人, 学校法人, 商工会, 組合, 財団・社団法人, NPO), so a
    member named so is judged on that row whatever its 業種 says; its 業種 is then the 主たる業種.
    """
    legal = _legal_form_line(member.name, program)
    line = legal or find_sme_line(member.industry, program)
    if line is None:
        return f"業種「{member.industry or '未記入'}」が中小企業の業種分類にありません"
    if line.employees_max is not None:
        return line, line.capital_max, line.employees_max
    main = find_sme_line(member.main_industry or (member.industry if legal else None), program)
    if main is None or main.employees_max is None:
        return f"{line.label}は主たる業種の記入が必要です"
    # ⑫–⑮: the employee line of the 主たる業種, no capital line
    return line, None, main.employees_max


def _legal_form_line(name: str, program: Program) -> SmeLine | None:
    """The row of a legal form without a capital line named in the member's name, if any."""
    text = _fold(name)
    best: tuple[int, SmeLine] | None = None
    for line in program.sme_lines:
        if line.capital_max is not None:
            continue
        for alias in line.aliases:
            folded = _fold(alias)
            if folded and folded in text and (best is None or len(folded) > best[0]):
                best = (len(folded), line)
    return best[1] if best else None


def judge_sme(member: Member, program: Program) -> SmeJudgement:
    """資本金 OR 従業員数 at or under the industry's line (the program page's table).

    A 個人事業主 has no capital: only its employees count. With no industry written, numbers
    under every line are an SME and numbers over every line are not.
    """
    lines = _lines_for(member, program)
    if isinstance(lines, str):
        return _judge_without_industry(member, program, lines)
    line, capital_max, employees_max = lines
    if member.sole_proprietor:
        capital_max = None
    capital_ok = capital_max is not None and member.capital is not None and \
        member.capital <= capital_max
    employees_ok = member.employees is not None and member.employees <= employees_max
    if capital_ok or employees_ok:
        return SmeJudgement("sme", f"{line.label}の基準内")
    capital_unknown = capital_max is not None and member.capital is None
    if capital_unknown or member.employees is None:
        return SmeJudgement("unknown", f"{line.label}の判定に必要な資本金・従業員数が未記入です")
    capital_text = (f"資本金{member.capital:,}円(基準{capital_max:,}円以下)、"
                    if capital_max is not None and member.capital is not None else "")
    return SmeJudgement(
        "not_sme",
        f"{_placed(member, line)}{line.label}: {capital_text}従業員数{member.employees:,}人"
        f"(基準{employees_max:,}人以下)"
        "のいずれも基準を超えています",
    )


def _placed(member: Member, line: SmeLine) -> str:
    """A note when the industry as written fell to a row none of whose words it contains."""
    text = _fold(member.industry or "")
    if not text or any(_fold(a) in text for a in line.aliases) or _fold(line.label) == text:
        return ""
    return f"業種「{member.industry}」は表の①〜⑦に当たらないため⑧"


def _judge_without_industry(member: Member, program: Program, why: str) -> SmeJudgement:
    lines = [x for x in program.sme_lines if x.employees_max is not None]
    capitals = [x.capital_max for x in lines if x.capital_max is not None]
    employees = [x.employees_max for x in lines if x.employees_max is not None]
    if not capitals or not employees:
        return SmeJudgement("unknown", why)
    small = ((member.capital is not None and member.capital <= min(capitals))
             or (member.employees is not None and member.employees <= min(employees)))
    if small:
        return SmeJudgement("sme", "どの業種でも中小企業の基準内")
    big = ((member.capital is not None or member.sole_proprietor)
           and (member.capital is None or member.capital > max(capitals))
           and member.employees is not None and member.employees > max(employees))
    if big:
        return SmeJudgement("not_sme", f"{why}が、資本金・従業員数がどの業種の基準も超えています")
    return SmeJudgement("unknown", why)


def is_large_enterprise(member: Member, program: Program) -> bool:
    """A 大企業: over both lines of its industry by the page's table, or written so in its
    企業規模 (a みなし大企業 has small numbers). A written 中小企業 never outweighs the numbers."""
    if program.declared_large_is_large and member.size and "大企業" in _fold(member.size):
        return True
    return judge_sme(member, program).verdict == "not_sme"


def declared_size_conflict(member: Member, program: Program) -> str | None:
    """A written 企業規模 that the member's own numbers contradict, in plain Japanese."""
    if not member.size:
        return None
    size = _fold(member.size)
    verdict = judge_sme(member, program).verdict
    if verdict == "not_sme" and ("中小" in size or "小規模" in size):
        return f"{member.name}は企業規模を「{member.size}」としていますが、資本金・従業員数は大企業に当たります"
    return None


def check_composition(
    members: Sequence[Member], program: Program, *, lead_name: str | None = None
) -> list[Finding]:
    """≥ min SME users, ≥ min vendors, exactly one 幹事社 among the members."""
    found: list[Finding] = []
    smes = sum(1 for m in members if m.role == "sme")
    vendors = sum(1 for m in members if m.role == "vendor")
    if smes < program.min_sme_users:
        found.append(finding("CONSORTIUM_COMPOSITION",
                             f"中小ユーザ企業が{smes}者です。{program.min_sme_users}者以上が必要です。",
                             document="application"))
    if vendors < program.min_vendors:
        found.append(finding("CONSORTIUM_COMPOSITION",
                             f"ITベンダが{vendors}者です。{program.min_vendors}者以上が必要です。",
                             document="application"))
    leads = [m.name for m in members if m.is_lead]
    if not leads:
        named = f"(幹事社名「{lead_name}」が構成員にありません)" if lead_name else ""
        found.append(finding("CONSORTIUM_COMPOSITION",
                             f"幹事社が構成員の中で指定されていません{named}。",
                             document="application"))
    elif len(leads) > 1:
        found.append(finding("CONSORTIUM_COMPOSITION",
                             f"幹事社が複数指定されています({'、'.join(leads)})。幹事社は1者です。",
                             document="application"))
    return found


def check_sme_users(members: Sequence[Member], program: Program) -> list[Finding]:
    """Each 中小ユーザ企業 must be an SME by its industry's line."""
    found: list[Finding] = []
    for member in members:
        if member.role != "sme":
            continue
        judgement = judge_sme(member, program)
        if judgement.verdict == "not_sme":
            found.append(finding("SME_INELIGIBLE", f"{member.name}: {judgement.reason}。",
                                 member=member.name, document=member.document))
        elif judgement.verdict == "unknown":
            found.append(finding("FORM_FIELD_MISSING",
                                 f"{member.name}: {judgement.reason}。中小企業に該当するか判定できません。",
                                 member=member.name, document=member.document))
    return found


def check_corporate_numbers(members: Sequence[Member]) -> list[Finding]:
    """Every 法人番号 written must be 13 digits with a verifying check digit — on every form
    where it is written (a number differing between forms is checked on both)."""
    found: list[Finding] = []
    seen: set[tuple[str, str]] = set()
    for member in members:
        written = [(member.corporate_number, member.document,
                    member.cell_refs.get("corporate_number") or member.ref)]
        written += member.other_numbers
        for number, document, cell in written:
            if not number or (member.name, number) in seen:
                continue
            seen.add((member.name, number))
            if is_valid_corporate_number(number):
                continue
            digits = normalise_corporate_number(number)
            why = ("13桁の数字ではありません" if len(digits) != 13 or not digits.isdigit()
                   else "検査用数字(先頭の1桁)が一致しません")
            where = f"({cell})" if cell else ""
            found.append(finding("CORPORATE_NUMBER_INVALID",
                                 f"{member.name}の法人番号「{number}」{where}は{why}。",
                                 member=member.name, document=document))
    return found

