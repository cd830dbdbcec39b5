"""One application, all rules: consortium name vs the subject, sender vs the 幹事社, scoping."""

from __future__ import annotations

import pytest

from parsers.documents import Recognised
from parsers.forms import ApplicationFacts, CostLine, FormProblem, Member
from rules.application import check_application, check_consortium_name, check_sender_is_lead
from rules.program import Program

PROGRAM = Program()
NAME = "みなとDX連携コンソーシアム"


def application(**kw: object) -> ApplicationFacts:
    members = [
        Member("株式会社みなと精機", "sme", True, "製造業", capital=50_000_000, employees=120,
               corporate_number="7123456789012", email="tanaka@minato-seiki.example.jp"),
        Member("有限会社さくら商店", "sme", False, "小売業", capital=3_000_000, employees=18,
               email="info@sakura.example.jp"),
        Member("ブルーリンク株式会社", "vendor", False, "ソフトウェア業", capital=80_000_000,
               employees=150, email="s@bluelink.example.jp"),
        Member("クラウドブリッジ株式会社", "vendor", False, "情報処理サービス業", employees=45),
    ]
    values: dict[str, object] = {
        "forms_read": ["application"], "consortium_names": {"application": NAME},
        "members": members, "requested": 2_000_000,
        "cost_lines": [CostLine("ブルーリンク株式会社", 3, "personnel", 3_000_000)],
    }
    values.update(kw)
    return ApplicationFacts(**values)  # type: ignore[arg-type]


@pytest.mark.parametrize("subject_name", [
    NAME, "みなとＤＸ連携コンソーシアム", "みなと DX 連携コンソーシアム", "【みなとDX連携コンソーシアム】",
])
def test_subject_name_written_differently_is_the_same_consortium(subject_name: str) -> None:
    assert check_consortium_name(application(), subject_name) == []


def test_subject_naming_another_consortium() -> None:
    found = check_consortium_name(application(), "みなと連携コンソーシアム")
    assert [f.code for f in found] == ["CONSORTIUM_NAME_MISMATCH"]
    assert "件名" in found[0].detail


def test_forms_naming_two_consortia() -> None:
    facts = application(consortium_names={"application": NAME, "checklist": "さくら連携"})
    found = check_consortium_name(facts, None)
    assert [(f.code, f.document) for f in found] == [("CONSORTIUM_NAME_MISMATCH", "checklist")]


@pytest.mark.parametrize("sender", [
    "tanaka@minato-seiki.example.jp", "TANAKA@Minato-Seiki.example.jp",
    "suzuki@minato-seiki.example.jp",  # a colleague at the 幹事社
])
def test_mail_from_the_lead_member(sender: str) -> None:
    """必ず幹事社が事務局へ送付してください."""
    assert check_sender_is_lead(application(), sender) == []


def test_mail_from_another_member_is_not_from_the_lead() -> None:
    found = check_sender_is_lead(application(), "info@sakura.example.jp")
    assert [f.code for f in found] == ["SENDER_NOT_LEAD"]
    assert "有限会社さくら商店" in found[0].detail and "株式会社みなと精機" in found[0].detail


def test_free_mail_domain_needs_the_exact_address() -> None:
    facts = application()
    facts.members[0].email = "minato.tanaka@gmail.com"
    assert check_sender_is_lead(facts, "minato.tanaka@gmail.com") == []
    assert [f.code for f in check_sender_is_lead(facts, "someone@gmail.com")] == [
        "SENDER_NOT_LEAD"]


def test_loose_form_is_not_blamed_for_missing_documents() -> None:
    found = check_application(application(), [], PROGRAM, whole_submission=False)
    assert found == []
    whole = check_application(application(), [], PROGRAM, whole_submission=True)
    assert {f.code for f in whole} == {"DOCUMENT_MISSING"}


def test_rules_needing_the_application_form_wait_for_it() -> None:
    """A loose 事業者情報入力シート alone: no composition or money verdicts."""
    facts = ApplicationFacts(forms_read=["member_info"], members=[
        Member("株式会社みなと精機", "sme", corporate_number="7123456789013")])
    found = check_application(facts, [], PROGRAM, whole_submission=False)
    assert [f.code for f in found] == ["CORPORATE_NUMBER_INVALID"]


def test_form_problems_become_findings() -> None:
    facts = application(missing_fields=[FormProblem("FORM_FIELD_MISSING", "application",
                                                    "「申請日」(交付申請書!H3)が空欄です。")])
    found = check_application(facts, [], PROGRAM, whole_submission=False)
    assert [(f.code, f.document) for f in found] == [("FORM_FIELD_MISSING", "application")]


def test_everything_together_for_a_whole_submission() -> None:
    present = [Recognised(k, "file_name", f"{k}.pdf", "pdf") for k in (
        "application", "overview", "member_info", "checklist")]
    for m in application().members:
        present += [Recognised("pledge", "file_name", f"誓約書_{m.name}.pdf", "pdf"),
                    Recognised("tax", "file_name", f"納税証明書_{m.name}.pdf", "pdf")]
    present.append(Recognised("registry", "file_name", "履歴事項_みなと精機.pdf", "pdf"))
    found = check_application(application(), present, PROGRAM, subject_consortium=NAME,
                              sender_email="tanaka@minato-seiki.example.jp")
    assert found == []
