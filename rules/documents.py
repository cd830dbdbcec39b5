"""Required documents (DOCUMENT_MISSING, named per member) and the checklist (CHECKLIST_MISMATCH).

Per-member papers (誓約書, 納税証明書, 履歴事項全部証明書) are matched to a member by the member's
name in the file name or in the document's text; papers that name nobody are shared out to the
members still lacking one, so an applicant who names files `誓約書1.pdf` is not told a paper is
missing when the count is right.
"""

from __future__ import annotations

from collections.abc import Sequence

from parsers.documents import Recognised, normalise_text
from parsers.members import ApplicationFacts, Member, member_key
from rules.eligibility import funded_members
from rules.findings import Finding, finding
from rules.program import Program, RequiredDocument

__all__ = ["check_checklist", "check_documents", "check_required_documents"]


def check_documents(
    facts: ApplicationFacts, present: Sequence[Recognised], program: Program
) -> list[Finding]:
    return check_required_documents(facts, present, program) + check_checklist(
        facts, present, program)


def _holders(doc: RequiredDocument, members: Sequence[Member]) -> list[Member]:
    funded = funded_members(members)
    if doc.scope == "corporate_member":
        return [m for m in funded if m.corporate_number]
    return funded


def _mentions(paper: Recognised, member: Member) -> bool:
    key = member_key(member.name)
    return bool(key) and (key in normalise_text(paper.name) or key in normalise_text(paper.text))


def check_required_documents(
    facts: ApplicationFacts, present: Sequence[Recognised], program: Program
) -> list[Finding]:
    found: list[Finding] = []
    for doc in program.documents:
        papers = [p for p in present if p.key == doc.key]
        holders = _holders(doc, facts.members) if doc.scope != "consortium" else []
        if doc.scope == "consortium" or not holders:
            # without a member list we can only ask for at least one of each paper
            if not papers:
                found.append(finding("DOCUMENT_MISSING", f"「{doc.title}」が添付されていません。",
                                     document=doc.key))
            continue
        for member in _members_without_paper(holders, papers):
            found.append(finding("DOCUMENT_MISSING",
                                 f"{member.name}の「{doc.title}」が添付されていません。",
                                 member=member.name, document=doc.key))
    return found


def _members_without_paper(holders: list[Member], papers: list[Recognised]) -> list[Member]:
    unnamed = [p for p in papers if not any(_mentions(p, m) for m in holders)]
    lacking = [m for m in holders if not any(_mentions(p, m) for p in papers)]
    return lacking[len(unnamed):]


def check_checklist(
    facts: ApplicationFacts, present: Sequence[Recognised], program: Program
) -> list[Finding]:
    """Ticked but not attached, or attached but left unticked: both are CHECKLIST_MISMATCH."""
    if facts.checklist is None:
        return []
    attached = {p.key for p in present if p.key}
    found: list[Finding] = []
    for doc in program.documents:
        if doc.key not in facts.checklist:
            continue  # the template does not list it: nothing to compare
        ticked = facts.checklist[doc.key]
        if ticked and doc.key not in attached:
            found.append(finding(
                "CHECKLIST_MISMATCH",
                f"チェックリストで「{doc.title}」にチェックがありますが、添付されていません。",
                document="checklist"))
        elif not ticked and doc.key in attached:
            found.append(finding(
                "CHECKLIST_MISMATCH",
                f"「{doc.title}」が添付されていますが、チェックリストにチェックがありません。",
                document="checklist"))
    return found
