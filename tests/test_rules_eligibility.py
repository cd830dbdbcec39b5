"""補助対象者: consortium composition, the 中小企業 table of the program page, and 法人番号."""

from __future__ import annotations

import pytest

from parsers.forms import Member
from rules.corporate_number import check_digit, is_valid_corporate_number
from rules.eligibility import (
    check_composition,
    check_corporate_numbers,
    check_sme_users,
    find_sme_line,
    is_large_enterprise,
    judge_sme,
)
from rules.program import Program, program_from_toml

PROGRAM = Program()


def sme(industry: str, capital: int | None, employees: int | None, **kw: object) -> Member:
    return Member("テスト株式会社", "sme", False, industry, capital=capital, employees=employees,
                  **kw)  # type: ignore[arg-type]


def crew(smes: int, vendors: int, leads: int = 1) -> list[Member]:
    people = [Member(f"ユーザ{i}", "sme", False, "製造業", capital=1, employees=1)
              for i in range(smes)]
    people += [Member(f"ベンダ{i}", "vendor", False, "ソフトウェア業") for i in range(vendors)]
    for member in people[:leads]:
        member.is_lead = True
    return people


# --- コンソーシアムの組成 -----------------------------------------------------------------------


def test_several_sme_users_and_several_vendors_with_one_lead_form_a_consortium() -> None:
    """複数の中小ユーザ企業と複数のITベンダが中心となりコンソーシアムを組成し、幹事社が申請する."""
    assert check_composition(crew(2, 2), PROGRAM) == []


@pytest.mark.parametrize(("smes", "vendors", "problem"), [
    (1, 2, "中小ユーザ企業が1者"), (2, 1, "ITベンダが1者"), (0, 0, "中小ユーザ企業が0者"),
])
def test_one_sme_user_or_one_vendor_is_not_a_consortium(
    smes: int, vendors: int, problem: str
) -> None:
    found = check_composition(crew(smes, vendors), PROGRAM)
    assert found and all(f.code == "CONSORTIUM_COMPOSITION" for f in found)
    assert any(problem in f.detail for f in found)


def test_consortium_without_a_lead_member() -> None:
    found = check_composition(crew(2, 2, leads=0), PROGRAM, lead_name="株式会社どこか")
    assert [f.code for f in found] == ["CONSORTIUM_COMPOSITION"]
    assert "株式会社どこか" in found[0].detail


def test_consortium_with_two_lead_members() -> None:
    found = check_composition(crew(2, 2, leads=2), PROGRAM)
    assert [f.code for f in found] == ["CONSORTIUM_COMPOSITION"]
    assert "複数" in found[0].detail


def test_minimum_members_come_from_configuration() -> None:
    program = program_from_toml({"min_sme_users": 3, "min_vendors": 1})
    assert check_composition(crew(3, 1), program) == []
    assert len(check_composition(crew(2, 1), program)) == 1


# --- 中小企業の定義(業種分類と定義) --------------------------------------------------------------

# (industry as written, capital line, employee line) straight from the program page's table
CAPITAL_AND_EMPLOYEE_LINES = [
    ("製造業", 300_000_000, 300),
    ("建設業", 300_000_000, 300),
    ("運輸業", 300_000_000, 300),
    ("卸売業", 100_000_000, 100),
    ("サービス業", 50_000_000, 100),
    ("小売業", 50_000_000, 50),
    ("ゴム製品製造業", 300_000_000, 900),
    ("ソフトウェア業", 300_000_000, 300),
    ("情報処理サービス業", 300_000_000, 300),
    ("旅館業", 50_000_000, 200),
    ("その他の業種", 300_000_000, 300),
]


@pytest.mark.parametrize(("industry", "capital", "employees"), CAPITAL_AND_EMPLOYEE_LINES)
def test_capital_at_the_line_is_an_sme_even_with_many_employees(
    industry: str, capital: int, employees: int
) -> None:
    """資本金の額又は出資の総額が基準以下の会社又は常時使用する従業員の数が基準以下の会社."""
    assert judge_sme(sme(industry, capital, employees * 10), PROGRAM).verdict == "sme"


@pytest.mark.parametrize(("industry", "capital", "employees"), CAPITAL_AND_EMPLOYEE_LINES)
def test_employees_at_the_line_is_an_sme_even_with_large_capital(
    industry: str, capital: int, employees: int
) -> None:
    assert judge_sme(sme(industry, capital * 10, employees), PROGRAM).verdict == "sme"


@pytest.mark.parametrize(("industry", "capital", "employees"), CAPITAL_AND_EMPLOYEE_LINES)
def test_one_yen_and_one_employee_over_both_lines_is_not_an_sme(
    industry: str, capital: int, employees: int
) -> None:
    found = check_sme_users([sme(industry, capital + 1, employees + 1)], PROGRAM)
    assert [f.code for f in found] == ["SME_INELIGIBLE"]
    assert f"{employees:,}人" in found[0].detail


@pytest.mark.parametrize(("industry", "employees", "verdict"), [
    ("医療法人", 300, "sme"), ("社会福祉法人", 301, "not_sme"), ("学校法人", 300, "sme"),
    ("学校法人", 301, "not_sme"), ("商工会議所", 100, "sme"), ("商工会", 101, "not_sme"),
])
def test_employee_only_lines_ignore_capital(industry: str, employees: int, verdict: str) -> None:
    """医療法人、社会福祉法人・学校法人: 常時使用する従業員の数が300人以下; 商工会等: 100人以下."""
    assert judge_sme(sme(industry, 10 * 100_000_000, employees), PROGRAM).verdict == verdict


def test_rubber_products_are_not_read_as_manufacturing() -> None:
    """ゴム製品製造業は従業員900人以下(製造業の300人ではない)."""
    member = sme("ゴム製品製造業", 400_000_000, 900)
    assert judge_sme(member, PROGRAM).verdict == "sme"
    assert judge_sme(sme("製造業", 400_000_000, 900), PROGRAM).verdict == "not_sme"


def test_software_business_is_not_read_as_service_business() -> None:
    """ソフトウェア業又は情報処理サービス業は資本金3億円以下(サービス業の5千万円ではない)."""
    assert find_sme_line("ソフトウェア業又は情報処理サービス業", PROGRAM).key == "software"
    assert judge_sme(sme("情報処理サービス業", 200_000_000, 500), PROGRAM).verdict == "sme"


@pytest.mark.parametrize(("employees", "verdict"), [(50, "sme"), (51, "not_sme")])
def test_association_follows_its_main_industry_employee_line(employees: int, verdict: str) -> None:
    """中小企業団体: 上記①~⑧の業種分類に基づき、その主たる業種に記載の従業員規模以下の者."""
    member = sme("中小企業団体", None, employees, main_industry="小売業")
    assert judge_sme(member, PROGRAM).verdict == verdict


def test_sole_proprietor_without_capital_is_judged_by_employees() -> None:
    """会社及び個人事業主: 資本金のない個人事業主は従業員数で判定."""
    assert judge_sme(sme("小売業", None, 5), PROGRAM).verdict == "sme"


def test_unknown_numbers_are_a_missing_field_not_ineligibility() -> None:
    found = check_sme_users([sme("小売業", 60_000_000, None)], PROGRAM)
    assert [f.code for f in found] == ["FORM_FIELD_MISSING"]


@pytest.mark.parametrize(("industry", "key"), [
    ("宇宙開発業", "other"), ("不動産業", "other"), ("情報通信業", "other"), ("建設業", "manufacturing"),
    ("建築業", "manufacturing"), ("宿泊業", "ryokan"), ("ホテル", "ryokan"), ("医療業", "service"),
    ("飲食店", "retail"), ("ソフトウェア開発業", "software"), ("システム開発", "software"),
    ("情報サービス業", "software"), ("サービス業(ソフトウェア開発)", "software"),
    ("ゴム製品製造業", "rubber"), ("食品卸売業", "wholesale"), ("医療法人", "medical"),
])
def test_industries_fall_on_the_pages_table_by_jsic(industry: str, key: str) -> None:
    """Any industry not in ①–⑦ is ⑧「その他の業種(上記以外)」; words place it by JSIC."""
    line = find_sme_line(industry, PROGRAM)
    assert line is not None and line.key == key


def test_industry_outside_the_table_is_judged_on_the_other_line() -> None:
    assert check_sme_users([sme("宇宙開発業", 1, 1)], PROGRAM) == []
    found = check_sme_users([sme("宇宙開発業", 400_000_000, 400)], PROGRAM)
    assert [f.code for f in found] == ["SME_INELIGIBLE"]


def test_sole_proprietor_over_the_employee_line_is_not_an_sme() -> None:
    member = sme("小売業", None, 80)
    member.sole_proprietor = True
    assert judge_sme(member, PROGRAM).verdict == "not_sme"


@pytest.mark.parametrize(("capital", "employees", "size", "large"), [
    (1_000_000_000, 3_000, None, True),  # over both lines
    (1_000_000_000, 3_000, "中小企業", True),  # the declared size contradicts the numbers
    (None, 5_000, None, False),  # undecided: reported as FORM_FIELD_MISSING by the money rule
    (None, None, "大企業", True),
    (20_000_000, 5_000, "大企業", True),  # a みなし大企業 says so itself
    (20_000_000, 5_000, None, False),
])
def test_large_vendor_judged_from_its_numbers(capital: int | None, employees: int | None,
                                              size: str | None, large: bool) -> None:
    vendor = Member("ベンダ株式会社", "vendor", False, "不動産業", capital=capital,
                    employees=employees, size=size)
    assert is_large_enterprise(vendor, PROGRAM) is large


def test_vendors_are_not_held_to_the_sme_line() -> None:
    """ITベンダは大企業でもよい(補助率が1/2になる)."""
    vendor = Member("大手ベンダ株式会社", "vendor", False, "ソフトウェア業", capital=10**10,
                    employees=10_000)
    assert check_sme_users([vendor], PROGRAM) == []


def test_industry_table_comes_from_configuration() -> None:
    program = program_from_toml({"sme_lines": [
        {"key": "retail", "label": "小売業", "capital_max": 100_000_000, "employees_max": 50,
         "aliases": ["小売業"]},
    ]})
    assert judge_sme(sme("小売業", 60_000_000, 51), program).verdict == "sme"


# --- 法人番号 ----------------------------------------------------------------------------------


def test_corporate_number_example_of_the_national_tax_agency_verifies() -> None:
    """国税庁の計算例: 基礎番号123456789012 → 検査用数字7."""
    assert check_digit("123456789012") == 7
    assert is_valid_corporate_number("7123456789012")


@pytest.mark.parametrize("number", ["4011001098993", "４０１１００１０９８９９３", "4-0110-0109-8993"])
def test_corporate_number_written_as_people_write_it(number: str) -> None:
    assert is_valid_corporate_number(number)


@pytest.mark.parametrize("number", [
    "1123456789012", "9123456789012",  # wrong check digit (just under / over the right one)
    "712345678901", "71234567890123",  # 12 and 14 digits
    "712345678901A", "", "0123456789012",
])
def test_malformed_corporate_numbers(number: str) -> None:
    assert not is_valid_corporate_number(number)


def test_invalid_corporate_number_names_the_member_and_the_reason() -> None:
    members = [Member("株式会社テスト", "sme", corporate_number="8123456789012", ref="交付申請書!H13"),
               Member("株式会社ほか", "sme", corporate_number="12345")]
    found = check_corporate_numbers(members)
    assert [(f.code, f.member) for f in found] == [
        ("CORPORATE_NUMBER_INVALID", "株式会社テスト"), ("CORPORATE_NUMBER_INVALID", "株式会社ほか")]
    assert "検査用数字" in found[0].detail and "交付申請書!H13" in found[0].detail
    assert "13桁" in found[1].detail


@pytest.mark.parametrize(("industry", "key"), [
    ("ソフトウェア製品卸売業", "wholesale"), ("医療機器販売業", "retail"), ("ホテル清掃業", "service"),
    ("卸売業（ソフトウェア製品）", "wholesale"), ("製造業（ゴム製品）", "rubber"),
    ("サービス業（情報処理）", "software"), ("ソフトウェア開発・販売", "software"),
    ("クラウドサービス業", "software"), ("飲食サービス業", "retail"), ("卸売・小売業", "wholesale"),
])
def test_the_word_a_name_ends_with_classifies_it(industry: str, key: str) -> None:
    """JSIC names put the classifying word last (…卸売業, …販売業); a bracket only narrows."""
    line = find_sme_line(industry, PROGRAM)
    assert line is not None and line.key == key
