"""Which cost a member may claim in which STEP (the page's 人件費/委託費 rows), and hardware never.

From the program page: 中小ユーザ企業's 人件費 only in 要件定義・受入テスト・研修; ITベンダ's 人件費 in
設計・開発〜システムテスト・受入テスト・研修; ITベンダ's 委託費 only as 下請け in 設計・開発〜システム
テスト; an SME user's 委託 for 設計・開発〜システムテスト only to an ITベンダ; 端末・設置費用等の
ハードウェアは補助の対象外. The STEPs are `[program]` settings.
"""

from __future__ import annotations

from parsers.cellvalues import CATEGORY_JA
from parsers.documents import normalise_text
from parsers.members import ApplicationFacts, CostLine, member_key
from rules.findings import Finding, finding
from rules.program import Program

__all__ = ["check_cost_eligibility"]

_ROLE_JA = {"sme": "中小ユーザ企業", "vendor": "ITベンダ"}


def _steps(steps: tuple[int, ...]) -> str:
    return "・".join(f"STEP{s}" for s in steps) or "なし"


def _why(line: CostLine, role: str | None, facts: ApplicationFacts,
         program: Program) -> str | None:
    if line.category == "hardware":
        return "ハードウェア(端末・機器・設置費用等)は補助の対象外です"
    if line.step is None or role not in _ROLE_JA:
        return None
    if line.category == "personnel":
        allowed = program.sme_personnel_steps if role == "sme" else program.vendor_personnel_steps
        if line.step not in allowed:
            return f"{_ROLE_JA[role]}の人件費は{_steps(allowed)}のみ対象です"
    if line.category == "outsourcing" and role == "vendor" and \
            line.step not in program.vendor_outsourcing_steps:
        return (f"ITベンダの委託費は{_steps(program.vendor_outsourcing_steps)}の下請け発注"
                    "のみ対象です")
    if line.category == "outsourcing" and role == "sme" and \
            line.step in program.vendor_only_outsourcing_steps:
        payee = facts.member_named(line.payee) if line.payee else None
        if payee is not None and payee.role == "vendor":
            return None
        text = normalise_text(f"{line.payee} {line.description}")
        others = [m.name for m in facts.members if m.role == "other"
                  and member_key(m.name) and member_key(m.name) in text]
        if payee is not None:
            others.insert(0, payee.name)
        elif any(member_key(m.name) in text for m in facts.members
                 if m.role == "vendor" and member_key(m.name)):
            return None  # 「…の設計をスカイシステムへ委託」: to a vendor
        if others or any(w in text for w in ("その他協力者", "専門家", "診断士", "コンサル")):
            who = f"(委託先「{others[0]}」はITベンダではありません)" if others else ""
            return f"STEP{line.step}の委託はITベンダを委託先とする場合のみ対象です{who}"
    return None


def check_cost_eligibility(facts: ApplicationFacts, program: Program) -> list[Finding]:
    found: list[Finding] = []
    for line in facts.cost_lines:
        member = facts.member_named(line.member)
        why = _why(line, member.role if member else None, facts, program)
        if why:
            what = CATEGORY_JA.get(line.category or "", "経費")
            step = f"STEP{line.step}の" if line.step else ""
            where = f"({line.ref})" if line.ref else ""
            found.append(finding(
                "COST_NOT_ELIGIBLE",
                f"{line.member or '事業者名なし'}の{step}{what}{line.amount:,}円{where}: {why}。",
                member=member.name if member else (line.member or None), document="application"))
    return found
