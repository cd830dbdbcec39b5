"""補助率・補助額 and 補助対象経費 rules of the program page, each at, under and over its line."""

from __future__ import annotations

import pytest

from parsers.forms import ApplicationFacts, CostLine, Member, MemberAmounts
from rules.findings import Finding
from rules.money import check_money, check_sums, subsidy_cap
from rules.program import Program, program_from_toml

PROGRAM = Program()
SME_A, SME_B, VENDOR_A, VENDOR_B = "株式会社エー製作所", "ビー商店", "シー・システムズ", "ディー情報"


def members(*, large_vendor: bool = False, extra_vendors: int = 0) -> list[Member]:
    crew = [
        Member(SME_A, "sme", True, "製造業", capital=50_000_000, employees=80),
        Member(SME_B, "sme", False, "小売業", capital=3_000_000, employees=10),
        Member(VENDOR_A, "vendor", False, "ソフトウェア業", capital=80_000_000, employees=150),
        Member(VENDOR_B, "vendor", False, "情報処理サービス業",
               capital=500_000_000 if large_vendor else 20_000_000,
               employees=1200 if large_vendor else 40),
    ]
    crew += [Member(f"ベンダ{i}", "vendor", False, "ソフトウェア業", capital=10_000_000, employees=5)
             for i in range(extra_vendors)]
    return crew


def facts(requested: int | None, lines: list[CostLine], **kw: object) -> ApplicationFacts:
    return ApplicationFacts(
        forms_read=["application"], members=kw.pop("crew", None) or members(),  # type: ignore[arg-type]
        requested=requested, cost_lines=lines, **kw,  # type: ignore[arg-type]
    )


def personnel(member: str, amount: int, step: int = 3) -> CostLine:
    return CostLine(member, step, "personnel", amount)


def codes(found: list[Finding]) -> list[str]:
    return [f.code for f in found]


# --- 補助上限額 ---------------------------------------------------------------------------------


def test_cap_for_four_members_is_44_million() -> None:
    """事業者数が4者の場合は4千4百万円を上限額とする."""
    assert subsidy_cap(4, PROGRAM) == 44_000_000


@pytest.mark.parametrize(("count", "cap"), [
    (5, 55_000_000), (6, 66_000_000), (9, 99_000_000), (10, 110_000_000), (11, 110_000_000),
    (15, 110_000_000),
])
def test_cap_grows_11_million_per_member_up_to_110_million_at_ten(count: int, cap: int) -> None:
    """以降1者増加する毎に補助上限額に1千百万円を増額し、10者以上の1.1億円を最大上限額とする."""
    assert subsidy_cap(count, PROGRAM) == cap


def test_cap_counts_sme_users_and_vendors_not_other_cooperators() -> None:
    """上限額は中小ユーザ企業とITベンダの総和の事業者数に応じたもの(その他協力者は数えない)."""
    crew = [*members(), Member("山田コンサル", "other", False, "サービス業", employees=1)]
    lines = [personnel(VENDOR_A, 90_000_000)]
    found = check_money(facts(44_000_001, lines, crew=crew), PROGRAM)
    assert "4者" in next(f.detail for f in found if f.code == "AMOUNT_OVER_CAP")


@pytest.mark.parametrize(("requested", "over"), [
    (43_999_999, False), (44_000_000, False), (44_000_001, True),
])
def test_four_member_request_at_under_and_over_44_million(requested: int, over: bool) -> None:
    lines = [personnel(VENDOR_A, 90_000_000)]  # 2/3 of this is far above the cap
    assert ("AMOUNT_OVER_CAP" in codes(check_money(facts(requested, lines), PROGRAM))) is over


@pytest.mark.parametrize(("requested", "over"), [
    (109_999_999, False), (110_000_000, False), (110_000_001, True),
])
def test_ten_members_request_at_under_and_over_the_maximum_110_million(
    requested: int, over: bool
) -> None:
    crew = members(extra_vendors=6)
    lines = [personnel(VENDOR_A, 200_000_000)]
    found = check_money(facts(requested, lines, crew=crew), PROGRAM)
    assert ("AMOUNT_OVER_CAP" in codes(found)) is over


# --- 補助率 ------------------------------------------------------------------------------------


@pytest.mark.parametrize(("requested", "over"), [
    (19_999_999, False), (20_000_000, False), (20_000_001, True),
])
def test_subsidy_rate_within_two_thirds(requested: int, over: bool) -> None:
    """補助率 2/3以内: 補助対象経費30,000,000円なら20,000,000円まで."""
    lines = [personnel(VENDOR_A, 30_000_000)]
    assert ("AMOUNT_OVER_CAP" in codes(check_money(facts(requested, lines), PROGRAM))) is over


@pytest.mark.parametrize(("requested", "over"), [(25_666_666, False), (25_666_667, True)])
def test_two_thirds_of_an_amount_not_divisible_by_three_rounds_down(
    requested: int, over: bool
) -> None:
    lines = [personnel(VENDOR_A, 38_500_000)]  # 2/3 = 25,666,666.67円
    assert ("AMOUNT_OVER_CAP" in codes(check_money(facts(requested, lines), PROGRAM))) is over


@pytest.mark.parametrize(("requested", "over"), [
    (14_999_999, False), (15_000_000, False), (15_000_001, True),
])
def test_rate_is_one_half_when_a_vendor_is_a_large_enterprise(requested: int, over: bool) -> None:
    """ITベンダに大企業が含まれている場合は、1/2以内になります."""
    lines = [personnel(VENDOR_A, 30_000_000)]
    found = check_money(facts(requested, lines, crew=members(large_vendor=True)), PROGRAM)
    assert ("AMOUNT_OVER_CAP" in codes(found)) is over


def test_vendor_marked_large_in_the_form_halves_the_rate() -> None:
    crew = members()
    crew[3].size = "大企業"
    found = check_money(facts(15_000_001, [personnel(VENDOR_A, 30_000_000)], crew=crew), PROGRAM)
    assert "1/2" in next(f.detail for f in found if f.code == "AMOUNT_OVER_CAP")


def test_a_large_sme_user_does_not_halve_the_rate() -> None:
    """Only a large ITベンダ lowers the rate; a large 中小ユーザ企業 is an eligibility problem."""
    crew = members()
    crew[0].capital, crew[0].employees = 500_000_000, 1000
    found = check_money(facts(20_000_000, [personnel(VENDOR_A, 30_000_000)], crew=crew), PROGRAM)
    assert "AMOUNT_OVER_CAP" not in codes(found)


# --- 補助下限額 ---------------------------------------------------------------------------------


@pytest.mark.parametrize(("requested", "below"), [
    (999_999, True), (1_000_000, False), (1_000_001, False),
])
def test_minimum_is_one_million_yen(requested: int, below: bool) -> None:
    """補助下限額 100万円."""
    lines = [personnel(VENDOR_A, 3_000_000)]
    found = check_money(facts(requested, lines), PROGRAM)
    assert ("AMOUNT_BELOW_MINIMUM" in codes(found)) is below


# --- 補助対象経費の割合 ----------------------------------------------------------------------------


@pytest.mark.parametrize(("software", "other", "over"), [
    (4_999_999, 5_000_001, False), (5_000_000, 5_000_000, False), (5_000_001, 4_999_999, True),
])
def test_software_and_cloud_at_most_half_of_eligible_cost(
    software: int, other: int, over: bool
) -> None:
    """ソフトウェア購入費及びクラウドサービス利用費の合計額は補助対象経費総額に対し1/2以下."""
    lines = [CostLine(SME_A, 1, "software", software - 1_000_000),
             CostLine(SME_B, 1, "cloud", 1_000_000), personnel(VENDOR_A, other)]
    found = check_money(facts(3_000_000, lines), PROGRAM)
    assert ("SOFTWARE_CLOUD_OVER_HALF" in codes(found)) is over


@pytest.mark.parametrize(("sme_personnel", "vendor_personnel", "over"), [
    (999_999, 2_000_001, False), (1_000_000, 2_000_000, False), (1_000_001, 1_999_999, True),
])
def test_sme_users_personnel_at_most_a_third_of_outsourcing_and_personnel(
    sme_personnel: int, vendor_personnel: int, over: bool
) -> None:
    """中小ユーザ企業の人件費については、ITベンダへの委託費及び人件費の1/3までを補助対象とする."""
    lines = [personnel(SME_A, sme_personnel, step=2), personnel(VENDOR_A, vendor_personnel)]
    found = check_money(facts(2_000_000, lines), PROGRAM)
    assert ("SME_PERSONNEL_OVER_THIRD" in codes(found)) is over


def test_outsourcing_counts_in_the_base_of_the_third() -> None:
    lines = [personnel(SME_A, 1_500_000, step=2), personnel(VENDOR_A, 1_500_000),
             CostLine(SME_A, 2, "outsourcing", 1_500_000)]
    assert "SME_PERSONNEL_OVER_THIRD" not in codes(check_money(facts(2_000_000, lines), PROGRAM))


@pytest.mark.parametrize(("subcontract", "own_work", "over"), [
    (4_999_999, 5_000_001, False), (5_000_000, 5_000_000, True), (5_000_001, 4_999_999, True),
])
def test_vendor_subcontracting_must_be_under_half_of_the_step(
    subcontract: int, own_work: int, over: bool
) -> None:
    """下請け発注の委託費は当該工程(設計・開発〜システムテスト)の補助対象経費額の1/2未満."""
    lines = [personnel(VENDOR_A, own_work),
             CostLine(VENDOR_A, 3, "outsourcing", subcontract, subcontract=True)]
    found = check_money(facts(2_000_000, lines), PROGRAM)
    assert ("SUBCONTRACT_OVER_HALF" in codes(found)) is over
    if over:
        assert next(f.member for f in found if f.code == "SUBCONTRACT_OVER_HALF") == VENDOR_A


def test_subcontracting_is_judged_per_vendor_in_the_design_to_system_test_step() -> None:
    lines = [personnel(VENDOR_A, 1_000_000), personnel(VENDOR_B, 50_000_000),
             CostLine(VENDOR_A, 3, "outsourcing", 1_000_000, subcontract=True),
             CostLine(VENDOR_B, 4, "outsourcing", 9_000_000, subcontract=True)]
    found = [f for f in check_money(facts(2_000_000, lines), PROGRAM)
             if f.code == "SUBCONTRACT_OVER_HALF"]
    assert [f.member for f in found] == [VENDOR_A]


# --- every number from configuration -----------------------------------------------------------


def test_a_new_program_year_changes_the_numbers_without_code() -> None:
    program = program_from_toml({
        "cap_base": 50_000_000, "cap_step": 10_000_000, "cap_max": 80_000_000,
        "subsidy_rate": "3/4", "subsidy_minimum": 500_000,
    })
    assert subsidy_cap(4, program) == 50_000_000
    assert subsidy_cap(7, program) == 80_000_000
    lines = [personnel(VENDOR_A, 40_000_000)]
    assert check_money(facts(30_000_000, lines), program) == []  # 3/4 of 40,000,000円
    assert codes(check_money(facts(499_999, lines), program)) == ["AMOUNT_BELOW_MINIMUM"]


# --- 合計の整合 --------------------------------------------------------------------------------


def test_sums_agree_within_the_cost_breakdown() -> None:
    lines = [personnel(VENDOR_A, 2_000_000), CostLine(SME_A, 1, "software", 1_000_000)]
    good = facts(2_000_000, lines, costs_total=3_000_000, eligible_total=3_000_000,
                 category_summary={"personnel": 2_000_000, "software": 1_000_000},
                 category_summary_total=3_000_000)
    assert check_sums(good) == []
    bad = facts(2_000_000, lines, costs_total=3_000_001, eligible_total=2_999_999,
                category_summary={"personnel": 2_000_000, "software": 1_000_001},
                category_summary_total=3_000_000)
    details = [f.detail for f in check_sums(bad)]
    assert len(details) == 4
    assert any("合計欄3,000,001円" in d for d in details)
    assert any("ソフトウェア購入費1,000,001円" in d for d in details)


def test_sums_agree_across_forms() -> None:
    lines = [personnel(VENDOR_A, 2_000_000), CostLine(SME_A, 1, "software", 1_000_000)]
    base = facts(2_000_000, lines)
    base.forms_read.append("member_info")
    base.member_amounts = [MemberAmounts(VENDOR_A, 2_000_000, 1_500_000),
                           MemberAmounts(SME_A, 1_000_000, 500_000)]
    base.member_amounts_total = MemberAmounts("合計", 3_000_000, 2_000_000)
    assert check_sums(base) == []
    base.member_amounts[1] = MemberAmounts(SME_A, 1_000_000, 499_999)
    base.member_amounts_total = MemberAmounts("合計", 3_000_000, 1_999_999)
    assert [f.document for f in check_sums(base)] == ["member_info"]
