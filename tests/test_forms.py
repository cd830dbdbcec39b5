"""Reading forms through the form map, value parsing, and document recognition."""

from __future__ import annotations

import io
import tomllib
import zipfile
from datetime import date, datetime
from pathlib import Path

import openpyxl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from parsers.documents import recognise
from parsers.forms import (
    DEFAULT_FORM_MAP,
    FormMapError,
    form_map_from_toml,
    load_form_map,
    merge_forms,
    parse_amount,
    parse_date,
    parse_role,
    parse_tick,
    read_form,
)
from tests.mails import make_forms as load_make_forms

REPO = Path(__file__).resolve().parents[1]
FORMS = REPO / "examples" / "forms"
FORM_MAP = load_form_map()
make_forms = load_make_forms()


def workbook_bytes(book: openpyxl.Workbook) -> bytes:
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


# --- values ------------------------------------------------------------------------------------


@pytest.mark.parametrize(("written", "yen"), [
    (1_234_567, 1_234_567), (1_000_000.0, 1_000_000), ("1,234,567円", 1_234_567),
    ("￥1,234", 1_234), ("¥1,234", 1_234), ("１２３４", 1_234), ("￥２０，０００，０００", 20_000_000),
    ("25,000,000 円", 25_000_000), ("4,400万円", 44_000_000), ("1.1億円", 110_000_000),
    ("5千万円", 50_000_000), ("4千4百万円", 44_000_000), ("3億5,000万円", 350_000_000),
    ("300万円", 3_000_000), ("１２０人", 120), ("45名", 45), (None, None), ("  ", None),
    ("金18,000,000円", 18_000_000), ("￥18,000,000-", 18_000_000), ("18,000千円", 18_000_000),
    ("280名（2022年8月1日現在）", 280), (20_000_000.67, 20_000_000), ("20,000,000.67円", 20_000_000),
    ("1.5円", 1), ("－", None), ("なし（個人事業主）", None), ("―", None),
    ("¥19,966,000.-", 19_966_000), ("19,966,000円 ※千円未満切捨て", 19_966_000),
    ("資本金 3,000万円", 30_000_000), ("従業員数：80名", 80), ("△500,000", -500_000),
    ("▲1,000円", -1_000), ("△ 50万円", -500_000),
])
def test_amounts_written_as_people_write_them(written: object, yen: int | None) -> None:
    assert parse_amount(written) == yen


@pytest.mark.parametrize("written", ["未定", "abc", "-1,000", "約1億円ほど", True, "△"])
def test_text_that_is_not_an_amount(written: object) -> None:
    with pytest.raises(ValueError, match="読めません"):
        parse_amount(written)


@pytest.mark.parametrize(("written", "day"), [
    (datetime(2022, 8, 10, 0, 0), date(2022, 8, 10)), (date(2022, 8, 10), date(2022, 8, 10)),
    ("2022/08/10", date(2022, 8, 10)), ("2022年8月10日", date(2022, 8, 10)),
    ("２０２２－０８－１０", date(2022, 8, 10)), ("令和4年8月10日", date(2022, 8, 10)),
    ("令和４年８月１０日(水)", date(2022, 8, 10)), ("R4.8.10", date(2022, 8, 10)),
    ("令和元年5月1日", date(2019, 5, 1)), ("平成2年4月1日", date(1990, 4, 1)),
    ("H31/4/30", date(2019, 4, 30)), ("", None), (44923, date(2022, 12, 28)),
    ("R4.12.28", date(2022, 12, 28)), ("令和5年(2023年)2月10日", date(2023, 2, 10)),
    ("2023年2月末", date(2023, 2, 28)), ("2022/12/28 0:00:00", date(2022, 12, 28)),
    ("令5.1.31", date(2023, 1, 31)), ("平30.4.1", date(2018, 4, 1)), ("5年3月31日", date(2023, 3, 31)),
    ("23/1/31", date(2023, 1, 31)), ("05/01/31", date(2023, 1, 31)),
    ("2023年1月31日 ※予定", date(2023, 1, 31)),
])
def test_dates_in_wareki_and_seireki(written: object, day: date | None) -> None:
    assert parse_date(written) == day


@pytest.mark.parametrize("written", ["8月10日", "令和4年13月1日", "来月"])
def test_text_that_is_not_a_date(written: str) -> None:
    with pytest.raises(ValueError):
        parse_date(written)


@pytest.mark.parametrize(("written", "role"), [
    ("中小ユーザ企業", "sme"), ("ITベンダ", "vendor"), ("ＩＴベンダー", "vendor"),
    ("ITベンダ(中小企業)", "vendor"), ("その他協力者", "other"), ("未定", None),
    ("その他協力者(中小企業診断士)", "other"), ("その他協力者（中小ユーザ企業の顧問）", "other"),
    ("幹事社（中小ユーザ企業）", "sme"), ("ITベンダー（幹事）", "vendor"),
])
def test_member_roles(written: str, role: str | None) -> None:
    assert parse_role(written) == role


@pytest.mark.parametrize(("written", "ticked"), [
    ("○", True), ("◯", True), ("✓", True), ("レ", True), ("☑", True), ("有", True), (True, True),
    ("×", False), ("無", False), ("□", False), ("", False), (None, False), ("ー", False),
    ("−", False), ("‐", False), ("—", False), ("─", False), ("◎", True), ("幹事社", True),
])
def test_checklist_ticks(written: object, ticked: bool) -> None:
    assert parse_tick(written) is ticked


@settings(max_examples=200, deadline=None)
@given(st.one_of(st.text(max_size=30), st.integers(), st.floats(allow_nan=False,
                                                                allow_infinity=False)))
def test_value_parsers_raise_nothing_but_a_readable_value_error(value: object) -> None:
    for parse in (parse_amount, parse_date):
        try:
            parse(value)
        except ValueError as exc:
            assert "読めません" in str(exc)


# --- reading the sample forms ------------------------------------------------------------------


def test_valid_application_is_read_completely() -> None:
    facts = read_form((FORMS / "valid-application.xlsx").read_bytes(), "application", FORM_MAP)
    assert facts.problems == []
    f = facts.fields
    assert f["consortium_name"] == "みなとDX連携コンソーシアム"
    assert f["requested"] == 25_000_000  # typed as the text "25,000,000円"
    assert f["eligible_total"] == 38_500_000  # a number with a 円 format
    assert f["application_date"] == date(2022, 8, 10)  # 和暦 text
    assert f["project_start"] == date(2022, 10, 3)  # 西暦 date cell
    assert f["project_end"] == date(2023, 1, 31)  # 和暦 text
    members = {row["name"]: row for row in facts.tables["members"].rows}
    assert members["有限会社さくら商店"]["capital"] == 3_000_000  # "300万円"
    assert members["有限会社さくら商店"]["employees"] == 18  # full-width "１８"
    assert members["㈱クラウドブリッジ"]["capital"] == 20_000_000  # "￥20,000,000"
    assert members["株式会社みなと精機"]["lead"] is True
    assert [row["role"] for row in facts.tables["members"].rows] == [
        "sme", "sme", "vendor", "vendor", "other"]
    assert len(facts.tables["costs"].rows) == 12
    assert facts.tables["costs"].total["amount"] == 38_500_000


def test_whole_submission_forms_merge_into_one_application() -> None:
    forms = [read_form((FORMS / name).read_bytes(), key, FORM_MAP) for name, key in (
        ("valid-application.xlsx", "application"), ("valid-member-info.xlsx", "member_info"),
        ("valid-checklist.xlsx", "checklist"))]
    facts = merge_forms(forms)
    assert facts.forms_read == ["application", "member_info", "checklist"]
    assert facts.lead is not None and facts.lead.name == "株式会社みなと精機"
    assert sum(m.requested or 0 for m in facts.member_amounts) == facts.requested
    assert facts.checklist == dict.fromkeys(
        ["application", "overview", "member_info", "pledge", "checklist", "registry", "tax"], True)
    assert set(facts.consortium_names) == {"application", "application/plan", "member_info",
                                            "checklist"}


def _moved_consortium_name_workbook() -> bytes:
    """The valid 交付申請書 with its コンソーシアム名 moved far away, value below the label."""
    book = openpyxl.load_workbook(FORMS / "valid-application.xlsx")
    ws = book["交付申請書"]
    for rng in ("A6:B6", "C6:F6"):
        ws.unmerge_cells(rng)
    for col in "ABCDEF":
        ws[f"{col}6"] = None
    ws.merge_cells("L20:N20")
    ws["L20"] = "共同体の名称:"
    ws.merge_cells("L21:N21")
    ws["L21"] = "みなとDX連携コンソーシアム"
    return workbook_bytes(book)


def test_changed_form_map_follows_a_moved_field() -> None:
    """The secretariat points the map at a new template: no code changes."""
    data = _moved_consortium_name_workbook()
    before = read_form(data, "application", FORM_MAP)
    assert any("コンソーシアム名" in p.detail for p in before.problems)

    text = DEFAULT_FORM_MAP.read_text(encoding="utf-8").replace(
        '[forms.application.fields.consortium_name]\n'
        'labels = ["コンソーシアム名", "コンソーシアムの名称", "コンソーシアム名称"]',
        '[forms.application.fields.consortium_name]\nlabels = ["共同体の名称"]\ndirection = "below"')
    moved_map = form_map_from_toml(tomllib.loads(text))
    after = read_form(data, "application", moved_map)
    assert after.problems == []
    assert after.fields["consortium_name"] == "みなとDX連携コンソーシアム"
    assert after.refs["consortium_name"] == "交付申請書!L21"


def test_fixed_cell_is_the_fallback_when_no_label_is_printed() -> None:
    book = openpyxl.Workbook()
    book.active.title = "様式第1"
    book.active["D4"] = "１，５００，０００円"
    raw = {"forms": {"application": {"fields": {"requested": {
        "labels": ["補助金交付申請額"], "cell": "D4", "type": "amount", "required": True}}}}}
    facts = read_form(workbook_bytes(book), "application", form_map_from_toml(raw))
    assert facts.fields["requested"] == 1_500_000 and facts.problems == []


def test_labels_with_colons_notes_and_spacer_columns() -> None:
    book = openpyxl.Workbook()
    ws = book.active
    ws["B2"] = "※ コンソーシアム名 (必須)："
    ws["D2"] = "さくら連携"  # one spacer column after the label
    ws["B3"] = "申請日"
    ws["C3"] = "令和4年8月31日"
    raw = {"forms": {"checklist": {"fields": {
        "consortium_name": {"labels": ["コンソーシアム名"], "skip": 1},
        "application_date": {"labels": ["申請日"], "type": "date"}}}}}
    facts = read_form(workbook_bytes(book), "checklist", form_map_from_toml(raw))
    assert facts.fields == {"consortium_name": "さくら連携", "application_date": date(2022, 8, 31)}


def test_formula_without_a_saved_result_is_explained() -> None:
    """openpyxl reads the values Excel saved; a file never opened in Excel has none."""
    book = openpyxl.Workbook()
    ws = book.active
    ws["A1"], ws["B1"] = "補助対象経費合計", 3_000_000
    ws["A2"], ws["B2"] = "補助金交付申請額", "=B1*2/3"
    raw = {"forms": {"application": {"fields": {
        "requested": {"labels": ["補助金交付申請額"], "type": "amount", "required": True}}}}}
    facts = read_form(workbook_bytes(book), "application", form_map_from_toml(raw))
    assert [p.code for p in facts.problems] == ["FORM_FIELD_MISSING"]
    assert "数式" in facts.problems[0].detail


def test_unreadable_workbook_is_a_finding_not_an_exception() -> None:
    facts = read_form(b"PK\x03\x04 not really a workbook", "application", FORM_MAP)
    assert [p.code for p in facts.problems] == ["ATTACHMENT_UNREADABLE"]


def test_corpus_workbooks_never_raise(corpus_dir: Path) -> None:
    rows = [line.split("\t") for line in
            (corpus_dir / "MANIFEST.tsv").read_text(encoding="utf-8").splitlines()[1:]]
    workbooks = [corpus_dir / r[0].replace("/", "+") / r[2] for r in rows if r[3] == "xlsx"]
    assert workbooks
    for path in workbooks:
        data = path.read_bytes()
        facts = read_form(data, "application", FORM_MAP)
        found = recognise(path.name, "xlsx", data)
        assert found.name == path.name
        codes = {p.code for p in facts.problems}
        if data[:4] != b"PK\x03\x04":  # encrypted OOXML (CFB container)
            assert codes == {"ATTACHMENT_UNREADABLE"}
            assert "パスワード" in facts.problems[0].detail
        else:  # none is one of our forms: fields missing, or openpyxl cannot read it at all
            assert codes in ({"FORM_FIELD_MISSING"}, {"ATTACHMENT_UNREADABLE"})


@settings(max_examples=40, deadline=None)
@given(st.binary(max_size=400))
def test_read_form_never_raises_on_arbitrary_bytes(data: bytes) -> None:
    facts = read_form(data, "application", FORM_MAP)
    assert [p.code for p in facts.problems] == ["ATTACHMENT_UNREADABLE"]


# --- form map ----------------------------------------------------------------------------------


@pytest.mark.parametrize(("raw", "named"), [
    ({"forms": {"application": {"fieldz": {}}}}, "fieldz"),
    ({"forms": {"application": {"fields": {"x": {"labels": ["X"], "type": "money"}}}}}, "type"),
    ({"forms": {"application": {"fields": {"x": {"labels": ["X"], "direction": "up"}}}}},
     "direction"),
    ({"forms": {"application": {"fields": {"x": {"labels": []}}}}}, "labels"),
    ({"forms": {"application": {"fields": {"x": {"labels": ["X"], "cell": "5C"}}}}}, "cell"),
    ({"recognition": {"tax": {"title": ["納税"]}}}, "title"),
])
def test_form_map_mistakes_are_named(raw: dict[str, object], named: str) -> None:
    with pytest.raises(FormMapError, match=named):
        form_map_from_toml(raw)


def test_default_form_map_describes_the_three_forms() -> None:
    assert set(FORM_MAP.forms) == {"application", "member_info", "checklist"}
    assert {s.key for s in FORM_MAP.recognition} == {
        "application", "overview", "member_info", "pledge", "checklist", "registry", "tax"}


# --- recognition -------------------------------------------------------------------------------


@pytest.mark.parametrize(("name", "key"), [
    ("valid-application.xlsx", "application"), ("valid-member-info.xlsx", "member_info"),
    ("valid-checklist.xlsx", "checklist"),
])
def test_sample_forms_are_recognised_by_sheet_name(name: str, key: str) -> None:
    found = recognise("whatever.xlsx", "xlsx", (FORMS / name).read_bytes())
    assert (found.key, found.how) == (key, "sheet_name")


def test_checklist_recognised_by_its_title_cell_despite_listing_other_documents() -> None:
    book = openpyxl.Workbook()
    ws = book.active
    ws["A1"] = "令和4年度 提出書類チェックリスト"
    ws["A3"] = "4. 補助金交付申請書・事業計画書・補助対象経費内訳書"
    ws["A4"] = "7. 誓約書"
    found = recognise("申請書.xlsx", "xlsx", workbook_bytes(book))
    assert (found.key, found.how) == ("checklist", "title")


def test_pdf_recognised_by_its_text_before_its_misleading_name() -> None:
    pdf = make_forms.simple_pdf(["誓約書", "株式会社みなと精機 代表取締役 港 一郎", "納税の状況"])
    found = recognise("納税証明書.pdf", "pdf", pdf)
    assert (found.key, found.how) == ("pledge", "pdf_text")
    assert "みなと精機" in found.text


def test_scanned_pdf_without_text_falls_back_to_the_file_name() -> None:
    found = recognise("納税証明書_さくら商店.pdf", "pdf", make_forms.simple_pdf([]))
    assert (found.key, found.how) == ("tax", "file_name")


def test_word_document_recognised_by_its_text() -> None:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as doc:
        doc.writestr("[Content_Types].xml", "<Types/>")
        doc.writestr("word/document.xml",
                     "<w:document><w:body><w:p><w:r><w:t>令和4年度 補助事業概要書</w:t></w:r></w:p>"
                     "</w:body></w:document>")
    found = recognise("資料.docx", "docx", buffer.getvalue())
    assert (found.key, found.how) == ("overview", "document_text")


def test_unknown_file_is_not_forced_into_a_document() -> None:
    found = recognise("photo.png", "png", b"\x89PNG\r\n\x1a\n")
    assert found.key is None and found.how == "none"


def test_broken_workbook_still_recognised_by_name_with_the_problem_kept() -> None:
    found = recognise("6_事業者情報入力シート.xlsx", "xlsx", b"broken")
    assert found.key == "member_info" and found.how == "file_name" and found.problem


@pytest.mark.parametrize("printed", [
    "(ア)コンソーシアム名", "ア．コンソーシアム名", "イ) コンソーシアム名", "1-1 コンソーシアム名",
    "1-1.コンソーシアム名",
    "１　コンソーシアム名", "2 コンソーシアム名", "〔必須〕コンソーシアム名", "<必須>コンソーシアム名",
    "◆コンソーシアム名◆", "コンソーシアム名 注1", "【コンソーシアム名】", "(1)コンソーシアム名",
])
def test_numbered_and_decorated_labels_compare_as_the_label(printed: str) -> None:
    from parsers.workbook import label_key

    assert label_key(printed) == "コンソーシアム名"
