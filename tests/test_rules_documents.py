"""提出書類: every required document present (named per member) and the checklist agrees."""

from __future__ import annotations

from parsers.documents import Recognised
from parsers.forms import ApplicationFacts, Member
from rules.documents import check_checklist, check_required_documents
from rules.program import Program, program_from_toml

PROGRAM = Program()
MINATO, SAKURA, BLUE, CLOUD = "株式会社みなと精機", "有限会社さくら商店", "ブルーリンク株式会社", "㈱クラウドブリッジ"


def team() -> list[Member]:
    return [
        Member(MINATO, "sme", True, corporate_number="9010401012345"),
        Member(SAKURA, "sme", corporate_number="7020402054321"),
        Member(BLUE, "vendor", corporate_number="1011101098765"),
        Member(CLOUD, "vendor", corporate_number=None),  # e.g. not yet registered
        Member("山田コンサル", "other"),
    ]


def paper(key: str, name: str, text: str = "") -> Recognised:
    return Recognised(key, "file_name", name, "pdf", text=text)


def full_set(members: list[Member]) -> list[Recognised]:
    papers = [paper(k, f"{k}.xlsx") for k in ("application", "overview", "member_info",
                                               "checklist")]
    for m in members:
        if m.role == "other":
            continue
        papers.append(paper("pledge", f"誓約書_{m.name}.pdf"))
        papers.append(paper("tax", "納税証明書.pdf", text=f"氏名又は名称 {m.name}"))
        if m.corporate_number:
            papers.append(paper("registry", f"履歴事項全部証明書_{m.name}.pdf"))
    return papers


def test_a_complete_set_has_nothing_missing() -> None:
    facts = ApplicationFacts(members=team())
    assert check_required_documents(facts, full_set(team()), PROGRAM) == []


def test_missing_per_member_paper_names_the_member() -> None:
    """誓約書・納税証明書は構成員ごと: 足りない書類は構成員名で伝える."""
    papers = [p for p in full_set(team()) if not (p.key == "tax" and SAKURA in p.text)]
    found = check_required_documents(ApplicationFacts(members=team()), papers, PROGRAM)
    assert [(f.code, f.member, f.document) for f in found] == [
        ("DOCUMENT_MISSING", SAKURA, "tax")]
    assert "納税証明書" in found[0].detail


def test_member_name_matches_without_company_designation_or_width() -> None:
    papers = [p for p in full_set(team()) if p.key != "pledge"]
    papers += [paper("pledge", "誓約書(みなと精機).pdf"), paper("pledge", "誓約書_さくら商店.pdf"),
               paper("pledge", "誓約書_ﾌﾞﾙｰﾘﾝｸ.pdf"), paper("pledge", "pledge4.pdf",
                                                          text="株式会社クラウドブリッジ")]
    assert check_required_documents(ApplicationFacts(members=team()), papers, PROGRAM) == []


def test_unnamed_papers_cover_members_by_count() -> None:
    """誓約書1.pdf〜誓約書4.pdf: the count is right, so nothing is reported missing."""
    papers = [p for p in full_set(team()) if p.key != "pledge"]
    papers += [paper("pledge", f"誓約書{i}.pdf") for i in range(1, 5)]
    assert check_required_documents(ApplicationFacts(members=team()), papers, PROGRAM) == []
    found = check_required_documents(ApplicationFacts(members=team()), papers[:-1], PROGRAM)
    assert [f.code for f in found] == ["DOCUMENT_MISSING"]


def test_registry_is_asked_only_of_corporate_members() -> None:
    """履歴事項全部証明書は法人の構成員ごと (法人番号のない構成員には求めない)."""
    papers = [p for p in full_set(team()) if not (p.key == "registry" and BLUE in p.name)]
    found = check_required_documents(ApplicationFacts(members=team()), papers, PROGRAM)
    assert [(f.member, f.document) for f in found] == [(BLUE, "registry")]


def test_consortium_documents_missing() -> None:
    papers = [p for p in full_set(team()) if p.key not in ("overview", "member_info")]
    found = check_required_documents(ApplicationFacts(members=team()), papers, PROGRAM)
    assert sorted(f.document for f in found) == ["member_info", "overview"]
    assert all(f.member is None for f in found)


def test_without_a_member_list_one_of_each_paper_is_asked() -> None:
    found = check_required_documents(ApplicationFacts(), [paper("application", "a.xlsx")], PROGRAM)
    assert sorted(f.document for f in found) == sorted(
        ["overview", "member_info", "pledge", "checklist", "registry", "tax"])


def test_required_documents_come_from_configuration() -> None:
    program = program_from_toml({"documents": [{"key": "application", "title": "交付申請書"}]})
    assert check_required_documents(ApplicationFacts(), [paper("application", "a")], program) == []


def test_checklist_ticks_agree_with_attachments() -> None:
    facts = ApplicationFacts(members=team(), checklist={
        "application": True, "overview": True, "tax": True})
    papers = [paper("application", "a.xlsx"), paper("overview", "b.pdf"), paper("tax", "c.pdf")]
    assert check_checklist(facts, papers, PROGRAM) == []


def test_ticked_but_not_attached_and_attached_but_not_ticked() -> None:
    facts = ApplicationFacts(checklist={"application": True, "overview": True, "tax": False})
    papers = [paper("application", "a.xlsx"), paper("tax", "c.pdf")]
    found = check_checklist(facts, papers, PROGRAM)
    assert [f.code for f in found] == ["CHECKLIST_MISMATCH", "CHECKLIST_MISMATCH"]
    assert "補助事業概要書" in found[0].detail and "添付されていません" in found[0].detail
    assert "納税証明書" in found[1].detail and "チェックがありません" in found[1].detail


def test_no_checklist_read_means_no_checklist_findings() -> None:
    assert check_checklist(ApplicationFacts(), [paper("tax", "c.pdf")], PROGRAM) == []
