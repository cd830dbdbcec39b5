"""Verdicts on application files filled the way people fill them (tests/habit_forms.py).

Each case changes how one valid application is laid out or typed — or breaks one rule — and
states the codes `renkei-intake check` must give, run as a new user runs it on the file.
"""

from __future__ import annotations

import io
import json
import subprocess
import sys
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from ingest.check_cmd import FileInput, check_bytes, check_files
from parsers.forms import load_form_map
from rules.program import Program
from tests import habit_forms as hf

PROGRAM = Program()
FORM_MAP = load_form_map()


def _members(**by_index: dict[str, Any]) -> list[hf.Company]:
    crew = hf.companies()
    for index, changes in by_index.items():
        for key, value in changes.items():
            setattr(crew[int(index[1:])], key, value)
    return crew


def _costs(change: Callable[[list[hf.Cost]], None]) -> list[hf.Cost]:
    lines = hf.costs()
    change(lines)
    return lines


def _set(lines: list[hf.Cost], i: int, **changes: Any) -> None:
    for key, value in changes.items():
        setattr(lines[i], key, value)


CASES: list[tuple[str, hf.Habits, set[str]]] = [
    ("as-written", hf.habits(), set()),
    ("sheets-named-yoshiki", hf.habits(sheets=("様式1", "様式2", "様式3")), set()),
    ("sheets-named-yoshiki-plan-name-differs",
     hf.habits(sheets=("様式1", "様式2", "様式3"), plan_name="北斗共創コンソーシアム"),
     {"CONSORTIUM_NAME_MISMATCH"}),
    ("labels-in-brackets", hf.habits(label=lambda t: f"【{t}】"), set()),
    ("labels-numbered", hf.habits(label=lambda t: f"１．{t}"), set()),
    ("labels-parenthesised-number", hf.habits(label=lambda t: f"(1){t}"), set()),
    ("labels-circled-number", hf.habits(label=lambda t: f"①{t}"), set()),
    ("labels-required-mark", hf.habits(label=lambda t: f"{t}※必須"), set()),
    ("value-next-but-one", hf.habits(gap=1), set()),
    ("colon-cell-between", hf.habits(colon_cell=True), set()),
    ("units-row", hf.habits(units_row=True), set()),
    ("lead-dash-minus-sign", hf.habits(lead=("○", "−")), set()),
    ("lead-dash-hyphen", hf.habits(lead=("◎", "‐")), set()),
    ("lead-dash-em", hf.habits(lead=("○", "—")), set()),
    ("lead-dash-box", hf.habits(lead=("○", "─")), set()),
    ("money-kin-en", hf.habits(money=lambda n: f"金{n:,}円"), set()),
    ("money-yen-dash", hf.habits(money=lambda n: f"￥{n:,}-"), set()),
    ("money-full-width-text",
     hf.habits(money=lambda n: f"{n:,}".translate(str.maketrans("0123456789,", "０１２３４５６７８９，"))),
     set()),
    ("requested-over-rate-kin-en", hf.habits(requested="金21,000,000円"), {"AMOUNT_OVER_CAP"}),
    ("subtotals-and-blank-rows",
     hf.habits(subtotals=True, blank_rows=6, total_label="総合計"), set()),
    ("total-labelled-kei", hf.habits(subtotals=True, total_label="計"), set()),
    ("capital-header-page-words", hf.habits(capital_header="資本金の額又は出資の総額"), set()),
    ("employees-as-of", hf.habits(count=lambda n: f"{n}名（2022年8月1日現在）"), set()),
    ("dates-wareki-full-width", hf.habits(day=lambda d: f"令和{d.year - 2018}年{d.month}月{d.day}日"
                                          .translate(str.maketrans("0123456789",
                                                                   "０１２３４５６７８９"))), set()),
    ("dates-r-dotted", hf.habits(day=lambda d: f"R{d.year - 2018}.{d.month}.{d.day}"), set()),
    ("dates-serial", hf.habits(day=lambda d: (d - date(1899, 12, 30)).days), set()),
    ("notes-under-members", hf.habits(note_rows=("※区分欄には中小ユーザ企業・ITベンダ・その他協力者の"
                                                 "いずれかを記入してください。",)), set()),
    ("fraction-of-a-yen", hf.habits(requested=19_666_666.67), set()),
    ("fraction-rounded-up-is-over", hf.habits(requested=19_666_667), {"AMOUNT_OVER_CAP"}),
    ("other-contributor-note-says-sme",
     hf.habits(members=_members(m1={"role": "その他協力者(中小企業診断士)"})),
     {"CONSORTIUM_COMPOSITION"}),
    ("industries-outside-the-alias-list",
     hf.habits(members=_members(m0={"industry": "建築業"}, m1={"industry": "不動産業"},
                                m2={"industry": "システム開発"}, m3={"industry": "情報通信業"})),
     set()),
    ("restaurant-over-the-retail-line",
     hf.habits(members=_members(m1={"industry": "飲食店", "capital": 60_000_000,
                                    "employees": 80})), {"SME_INELIGIBLE"}),
    ("large-vendor-unlisted-industry",
     hf.habits(members=_members(m3={"industry": "総合電機", "capital": 1_000_000_000,
                                    "employees": 3_000})), {"AMOUNT_OVER_CAP"}),
    ("large-vendor-declared-sme",
     hf.habits(size_column=True,
               members=_members(m3={"capital": 1_000_000_000, "employees": 3_000,
                                    "size": "中小企業"})), {"AMOUNT_OVER_CAP"}),
    ("vendor-capital-blank-5000-employees",
     hf.habits(members=_members(m3={"capital": None, "employees": 5_000})),
     {"FORM_FIELD_MISSING"}),
    ("sole-proprietor",
     hf.habits(members=_members(m1={"name": "みどり薬局 緑川 太郎", "role": "中小ユーザ企業(個人事業主)",
                                    "capital": "－", "number": "なし（個人事業主）"}),
               costs=_costs(lambda x: [_set(x, i, member="みどり薬局 緑川 太郎")
                                       for i in (1, 8)])),
     set()),
    ("category-head-term-personnel",
     hf.habits(costs=_costs(lambda x: _set(x, 5, category="人件費（クラウド連携機能の開発）"))), set()),
    ("category-head-term-outsourcing-hides-nothing",
     hf.habits(costs=_costs(lambda x: _set(x, 6, category="委託費（ソフトウェア開発の再委託）",
                                           amount=10_000_000, sub="")),
               requested=19_000_000),
     {"SUBCONTRACT_OVER_HALF"}),
    ("project-ends-after-the-period", hf.habits(project_end=date(2023, 3, 31)), {"PROJECT_PERIOD"}),
    ("project-ends-on-the-last-day", hf.habits(project_end=date(2023, 2, 10)), set()),
    ("sme-personnel-in-development",
     hf.habits(costs=_costs(lambda x: _set(x, 8, step="STEP3"))), {"COST_NOT_ELIGIBLE"}),
    ("vendor-outsourcing-in-requirements",
     hf.habits(costs=_costs(lambda x: _set(x, 6, step="STEP2"))), {"COST_NOT_ELIGIBLE"}),
    ("example-sheet-left-in-front", hf.habits(example_sheet=True), set()),
    ("period-in-one-cell", hf.habits(period_cell=True), set()),
    ("period-in-one-cell-too-late", hf.habits(period_cell=True, project_end=date(2023, 3, 31)),
     {"PROJECT_PERIOD"}),
    ("completion-month-only", hf.habits(day=lambda d: f"{d.year}年{d.month}月"), set()),
    ("lead-named-in-its-name",
     hf.habits(lead=("", ""), members=_members(m0={"name": "株式会社北斗製作所（幹事社）"})), set()),
    ("members-grouped-by-role", hf.habits(role_groups=True), set()),
    ("members-grouped-by-role-one-sme",
     hf.habits(role_groups=True, members=_members(m1={"role": "ITベンダ"})),
     {"CONSORTIUM_COMPOSITION"}),
    ("costs-grouped-under-step-headings", hf.habits(step_groups=True), set()),
    ("costs-ditto-and-step-once", hf.habits(ditto=True), set()),
    ("role-written-as-a-profession",
     hf.habits(members=[*hf.companies(),
                        hf.Company("山本経営事務所", "中小企業診断士", "サービス業", None, 1, None,
                                   "yamamoto@example.jp")]), set()),
    ("two-tier-member-headers", hf.habits(two_tier=True), set()),
    ("two-tier-headers-and-units", hf.habits(two_tier=True, units_row=True), set()),
    ("every-habit-at-once",
     hf.habits(sheets=("様式1", "様式2", "様式3"), label=lambda t: f"【{t}】※必須", gap=1,
               colon_cell=True, units_row=True, lead=("◎", "−"), money=lambda n: f"金{n:,}円",
               count=lambda n: f"{n}名（2022年8月1日現在）", subtotals=True, blank_rows=5,
               total_label="総合計", capital_header="資本金の額又は出資の総額", two_tier=True,
               day=lambda d: f"R{d.year - 2018}.{d.month}.{d.day}", ditto=True,
               example_sheet=True, note_rows=("※記入上の注意: 区分を必ず記入",)), set()),
    ("every-habit-at-once-over-cap",
     hf.habits(sheets=("様式1", "様式2", "様式3"), label=lambda t: f"１．{t}", colon_cell=True,
               units_row=True, lead=("○", "—"), money=lambda n: f"￥{n:,}-", subtotals=True,
               total_label="計", role_groups=True, step_groups=True, requested="金19,700,000円"),
     {"AMOUNT_OVER_CAP"}),
    ("sme-outsources-development-to-a-vendor",
     hf.habits(costs=[*hf.costs()[:5], hf.Cost("株式会社北斗製作所", "STEP3", "委託費",
                                               "帳票連携部分の開発をスカイシステムへ委託", 1_000_000),
                      *hf.costs()[5:]]), set()),
    ("sme-outsources-development-to-a-consultant",
     hf.habits(members=[*hf.companies(),
                        hf.Company("山本経営事務所", "その他協力者", "サービス業", None, 1, None,
                                   "yamamoto@example.jp")],
               costs=[*hf.costs()[:5], hf.Cost("株式会社北斗製作所", "STEP3", "委託費",
                                               "帳票連携部分の開発(山本経営事務所)", 1_000_000),
                      *hf.costs()[5:]]), {"COST_NOT_ELIGIBLE"}),
    ("hardware",
     hf.habits(costs=_costs(lambda x: _set(x, 1, category="ハードウェア購入費",
                                           text="店舗用タブレット端末"))), {"COST_NOT_ELIGIBLE"}),
]


@pytest.mark.parametrize(("habits", "expected"), [c[1:] for c in CASES],
                         ids=[c[0] for c in CASES])
@pytest.mark.parametrize("fmt", ["xlsx", "xls", "ods"])
def test_application_verdict(habits: hf.Habits, expected: set[str], fmt: str) -> None:
    data = getattr(hf, fmt)(hf.application_grids(habits))
    result = check_bytes(f"交付申請書.{fmt}", data, PROGRAM, FORM_MAP)
    details = [f"{f.code}: {f.detail}" for f in result.findings]
    assert {f.code for f in result.findings} == expected, details
    assert [key for _, r in result.recognised if (key := r.key)] == ["application"]


def _two_forms(habits: hf.Habits) -> list[FileInput]:
    app = hf.xlsx(hf.application_grids(habits))
    info = hf.xlsx([hf.member_info_grid(habits)])
    return [FileInput("交付申請書.xlsx", "交付申請書.xlsx", "xlsx", app),
            FileInput("事業者情報入力シート.xlsx", "事業者情報入力シート.xlsx", "xlsx", info)]


def _codes(files: list[FileInput]) -> set[str]:
    result = check_files(files, PROGRAM, FORM_MAP, whole_submission=False)
    return {f.code for f in result.findings}


def test_both_forms_as_written_agree() -> None:
    assert _codes(_two_forms(hf.habits())) == set()


def test_members_without_corporate_number_column_are_not_counted_twice() -> None:
    """The 事業者情報入力シート completes members; it never adds one because a key is missing."""
    crew = _members(m1={"role": "ITベンダ", "industry": "ソフトウェア業"})
    assert _codes(_two_forms(hf.habits(number_header=None, members=crew))) == {
        "CONSORTIUM_COMPOSITION"}


def test_typo_in_one_corporate_number_is_found_without_a_second_member() -> None:
    habits = hf.habits(requested=45_000_000)
    files = _two_forms(habits)
    crew = hf.companies()
    crew[2].number = crew[2].number[:-1] + str((int(crew[2].number[-1]) + 1) % 10)
    files[1] = FileInput(files[1].path, files[1].name, "xlsx",
                         hf.xlsx([hf.member_info_grid(hf.habits(members=crew))]))
    codes = _codes(files)
    assert {"CORPORATE_NUMBER_INVALID", "AMOUNT_OVER_CAP"} <= codes


def test_sole_proprietor_needs_no_corporate_number_on_the_member_sheet() -> None:
    crew = _members(m1={"name": "緑川 太郎(屋号 みどり薬局)", "capital": "－", "number": "－"})
    lines = _costs(lambda x: [_set(x, i, member="緑川 太郎(屋号 みどり薬局)") for i in (1, 8)])
    assert _codes(_two_forms(hf.habits(members=crew, costs=lines))) == set()


def test_company_without_corporate_number_on_the_member_sheet_is_missing_it() -> None:
    crew = _members(m1={"number": None})
    assert _codes(_two_forms(hf.habits(members=crew))) == {"FORM_FIELD_MISSING"}


def test_encrypted_workbook_waits_for_its_password() -> None:
    data = hf.encrypted(hf.xlsx(hf.application_grids(hf.habits())), "hokuto2022")
    codes = {f.code for f in check_bytes("交付申請書.xlsx", data, PROGRAM, FORM_MAP).findings}
    assert codes == {"ATTACHMENT_UNREADABLE"}  # `check` has no password mail to wait for
    opened = check_bytes("交付申請書.xlsx", data, PROGRAM, FORM_MAP, passwords=["hokuto2022"])
    assert opened.findings == [] and opened.recognised[0][1].key == "application"
    wrong = check_bytes("交付申請書.xlsx", data, PROGRAM, FORM_MAP, passwords=["hokuto2023"])
    assert {f.code for f in wrong.findings} == {"ARCHIVE_PASSWORD_WRONG"}


def test_unsupported_archive_asks_for_a_zip() -> None:
    lzh = b"\x20\x00-lh5-" + b"\x00" * 64
    result = check_bytes("申請書類.lzh", lzh, PROGRAM, FORM_MAP)
    assert [f.code for f in result.findings] == ["ATTACHMENT_UNREADABLE"]
    assert "zip" in result.findings[0].detail


def test_check_json_and_unread_files_on_the_command_line(tmp_path: Path) -> None:
    good = tmp_path / "交付申請書.xls"
    good.write_bytes(hf.xls(hf.application_grids(hf.habits(project_end=date(2023, 3, 1)))))
    junk = tmp_path / "memo.bin"
    junk.write_bytes(b"\x00\x01\x02 not a form")
    run = subprocess.run(
        [sys.executable, "-m", "ingest.cli", "check", "--json", str(good), str(junk)],
        capture_output=True, text=True, cwd=tmp_path, check=False)
    lines = [json.loads(line) for line in run.stdout.splitlines()]
    assert [x["codes"] for x in lines] == [["PROJECT_PERIOD"], []]
    assert lines[0]["findings"][0]["document"] == "application"
    assert "error" in lines[1] and run.returncode == 2
    plain = subprocess.run([sys.executable, "-m", "ingest.cli", "check", str(junk)],
                           capture_output=True, text=True, cwd=tmp_path, check=False)
    assert "不備なし" not in plain.stdout and plain.returncode == 2


def test_forms_kept_as_sheets_of_one_workbook_are_each_read() -> None:
    habits = hf.habits()
    together = hf.xlsx([*hf.application_grids(habits), hf.member_info_grid(habits)])
    result = check_bytes("申請様式一式.xlsx", together, PROGRAM, FORM_MAP)
    assert result.findings == []
    assert {r.key for _, r in (*result.recognised, *result.also)} == {"application", "member_info"}
    crew = hf.companies()
    crew[0].requested += 1  # the member sheet no longer adds up to the 交付申請書
    apart = hf.xlsx([*hf.application_grids(habits), hf.member_info_grid(hf.habits(members=crew))])
    codes = {f.code for f in check_bytes("申請様式一式.xlsx", apart, PROGRAM, FORM_MAP).findings}
    assert codes == {"SUM_MISMATCH"}


def test_a_stray_value_at_the_sheets_far_corner_neither_bloats_nor_blinds_the_reader() -> None:
    """A value typed at XFD1048576 would make a dense grid of 17 billion cells."""
    grids = hf.application_grids(hf.habits())
    grids[2].cells[(1_048_576, 16_384)] = "x"
    result = check_bytes("交付申請書.xlsx", hf.xlsx(grids), PROGRAM, FORM_MAP)
    assert result.findings == [] and result.recognised[0][1].key == "application"


def test_an_xls_sheet_spanning_every_cell_is_refused_not_loaded() -> None:
    import xlwt

    book = xlwt.Workbook()
    sheet = book.add_sheet("交付申請書")
    sheet.write(0, 0, "補助金交付申請書")
    sheet.write(65_535, 255, "x")
    buffer = io.BytesIO()
    book.save(buffer)
    result = check_bytes("交付申請書.xls", buffer.getvalue(), PROGRAM, FORM_MAP)
    assert [f.code for f in result.findings] == ["ATTACHMENT_UNREADABLE"]
    assert "大きすぎます" in result.findings[0].detail


def test_untitled_sheets_are_told_apart_by_their_labels() -> None:
    """Sheets called Sheet1/Sheet2 with no title: the plan is the sheet with the plan's labels."""
    grids = hf.application_grids(hf.habits(plan_name="北斗共創コンソーシアム"))
    for number, grid in enumerate(grids, 1):
        grid.title = f"Sheet{number}"
        grid.cells.pop((1, 1))
    result = check_bytes("交付申請書.xlsx", hf.xlsx(grids), PROGRAM, FORM_MAP)
    assert {f.code for f in result.findings} == {"CONSORTIUM_NAME_MISMATCH"}


def test_the_eligible_cost_column_is_preferred_to_a_gross_amount_column() -> None:
    """「金額(税込)」 beside 「補助対象経費」: the eligible cost is the one read."""
    grids = hf.application_grids(hf.habits())
    costs = grids[2]
    header_row = next(r for (r, c), v in costs.cells.items() if v == "補助対象経費")
    rows = [r for (r, c) in list(costs.cells) if c == 7 and r > header_row]
    costs.cells[(header_row, 8)] = costs.cells.pop((header_row, 7))
    costs.cells[(header_row, 7)] = "金額(税込)"
    for r in rows:
        value = costs.cells.pop((r, 7))
        costs.cells[(r, 8)] = value
        if isinstance(value, int):
            costs.cells[(r, 7)] = value * 11 // 10
    result = check_bytes("交付申請書.xlsx", hf.xlsx(grids), PROGRAM, FORM_MAP)
    assert result.findings == []


def test_amounts_in_thousands_of_yen() -> None:
    """「補助金交付申請額(千円)」 with 19,000 and a 「(千円)」 units row over the costs."""
    grids = hf.application_grids(hf.habits(units_row=True))
    app, _plan, costs = grids
    for (r, c), value in list(app.cells.items()):
        if value in ("補助対象経費合計", "補助金交付申請額"):
            app.cells[(r, c)] = f"{value}（千円）"
            app.cells[(r, 3)] = app.cells[(r, 3)] // 1000
    for (r, c), value in list(costs.cells.items()):
        if c == 7 and isinstance(value, int):
            costs.cells[(r, c)] = value // 1000
        if value == "(円)":
            costs.cells[(r, c)] = "(千円)"
    result = check_bytes("交付申請書.xlsx", hf.xlsx(grids), PROGRAM, FORM_MAP)
    assert result.findings == []


def test_two_copies_of_one_form_in_a_submission_are_not_added_together() -> None:
    """The same 交付申請書 sent twice (two mails of one submission): members are not doubled."""
    data = hf.xlsx(hf.application_grids(hf.habits()))
    files = [FileInput(f"{n}/交付申請書.xlsx", "交付申請書.xlsx", "xlsx", data) for n in (1, 2)]
    result = check_files(files, PROGRAM, FORM_MAP, whole_submission=False)
    assert result.findings == []
