"""A third reading corpus: application workbooks as applicants fill them, written here from scratch.

Independent of examples/make_forms.py and the other corpus writers: its own layout (labels in
column B, values two cells right, a member table that starts at column B), its own sample
consortium, and two writers — openpyxl, and a hand-made SpreadsheetML package written the way
other spreadsheet programs save it (namespace prefixes, inline strings, no styles part).
Each variant carries the finding codes a careful clerk would give from the program page.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from tests.corpus3_edits import (
    CONSORTIUM,
    MEMBERS,
    Edit,
    base_plan,
    below,
    blank_member_rows,
    book_bytes,
    both,
    capital_in_millions,
    cost_cell,
    costs_short_names,
    discount_row,
    example_sheet,
    furigana_raw,
    header_word,
    lead_in_name,
    member_cell,
    members_on_next_sheet,
    merged_labels,
    merged_value_far,
    numbered_labels,
    numbers_export,
    plan_member,
    plan_sheets,
    plan_with,
    relabel,
    reorder,
    role_tick_columns,
    rows_above,
    set_cell,
    set_value,
    stale_copy,
    step_groups,
    subtotals,
    tax_columns,
    thousands_costs,
    title_rename,
    total_first,
    unit_cell,
    vendor_size,
)
from tests.corpus3_writers import Rich, Xml, write_ods, write_xls


@dataclass(frozen=True)
class Variant3:
    name: str
    data: bytes
    codes: frozenset[str]
    why: str


def variants() -> list[Variant3]:
    out: list[Variant3] = []
    none: frozenset[str] = frozenset()

    def add(name: str, codes: set[str] | frozenset[str], why: str,
            p: dict[str, Any] | None = None, edit: Edit | None = None, raw_too: bool = True) -> None:
        out.append(Variant3(f"c3-{name}.xlsx", book_bytes(p, edit), frozenset(codes), why))
        if raw_too:
            out.append(Variant3(f"c3-{name}-raw.xlsx", book_bytes(p, edit, raw=True), frozenset(codes), why))

    over = {"AMOUNT_OVER_CAP"}
    add("base", none, "the sample as written")
    # Amounts typed as text
    add("req-senen", none, "申請額 in 千円", plan_with(requested="19,966千円"))
    add("req-man", none, "申請額 in 万円 with a decimal", plan_with(requested="1,996.6万円"))
    add("total-man", none, "経費合計 in 万円", plan_with(total="3,000万円"))
    add("req-fullwidth", none, "full-width digits and comma", plan_with(requested="１９，９６６，０００"))
    add("req-dash-tail", none, "amount closed with a dash", plan_with(requested="19,966,000-"))
    add("req-yen-fw-dash", none, "￥ and a full-width dash", plan_with(requested="￥19,966,000－"))
    add("req-kin-en", none, "金…円也", plan_with(requested="金19,966,000円也"))
    add("req-spaces", none, "spaces between digit groups", plan_with(requested="19 966 000 円"))
    add("req-fraction", none, "a fraction of a yen", plan_with(requested="19,966,000.5"))
    add("req-float", none, "a float cell", plan_with(requested=19966000.0))
    add("req-over-senen", over, "申請額 over 2/3, in 千円", plan_with(requested="20,100千円"))
    add("req-over-man", over, "申請額 over 2/3, in 万円", plan_with(requested="2,010万円"))
    add("req-kanji-man", none, "漢数字 with 万", plan_with(requested="1996万6千円"))
    add("req-unit-cell", none, "number in 千円 with the unit in the next cell",
        edit=unit_cell("補助金交付申請額", 19966, "千円"))
    add("req-unit-cell-en", none, "number with 円 in the next cell",
        edit=unit_cell("補助金交付申請額", 19966000, "円"))
    add("req-label-senen", none, "label says (千円) and the value is in thousands",
        edit=both(relabel("補助金交付申請額", "補助金交付申請額（千円）"),
                   set_value("補助金交付申請額（千円）", 19966),
                   relabel("補助対象経費合計", "補助対象経費合計（千円）"),
                   set_value("補助対象経費合計（千円）", 30000)))
    add("costs-senen", none, "cost table in 千円", edit=thousands_costs)
    add("costs-subtotals", none, "小計 after each STEP, 総計 at the end", edit=subtotals)
    # Capital and employees
    add("cap-oku", none, "capital as 3億円 (vendor at the line)", plan_member(2, 4, "3億円"))
    add("cap-senen", none, "capital in 千円", plan_member(0, 4, "30,000千円"))
    add("cap-man", none, "capital in 万円", plan_member(0, 4, "3,000万円"))
    add("emp-yaku", none, "employees 約80名", plan_member(0, 5, "約80名"))
    add("emp-note", none, "employees with a note", plan_member(0, 5, "80人（パート除く）"))
    add("vendor-large-words", over, "vendor capital 10億円 and 1,200名",
        edit=both(member_cell(2, 4, "10億円"), member_cell(2, 5, "1,200名")))
    add("vendor-large-senen", over, "vendor capital 1,000,000千円 and 500人",
        edit=both(member_cell(2, 4, "1,000,000千円"), member_cell(2, 5, "500人")))
    # Labels
    add("label-spaced", none, "labels with spaces between characters",
        edit=both(relabel("幹事社名", "幹 事 社 名"), relabel("補助金交付申請額", "補助金交付申請額　"),
                   header_word("事業者名", "事 業 者 名")))
    add("label-break", none, "a label broken over two lines",
        edit=relabel("補助金交付申請額", "補助金交付\n申請額"))
    add("label-note", none, "label with its rule in brackets",
        edit=both(relabel("補助金交付申請額", "補助金交付申請額（補助対象経費×2/3以内）"),
                   relabel("補助対象経費合計", "補助対象経費合計（税抜）")))
    add("label-furigana", none, "labels with their reading", edit=furigana_raw)
    add("value-below", none, "the date typed under its label", edit=below("申請日"))
    add("rows-above", none, "three rows inserted above everything", edit=rows_above(3))
    add("rows-above-note", none, "a note row inserted above", edit=rows_above(1, "※太枠内を記入してください"))
    # Sheets
    add("sheets-renamed", none, "sheets renamed Sheet1..3", edit=title_rename("Sheet1", "Sheet2", "Sheet3"))
    add("sheets-yoshiki", none, "sheets renamed 様式第1..3", edit=title_rename("様式第1", "様式第2", "様式第3"))
    add("sheets-reordered", none, "sheets in reverse order", edit=reorder)
    add("example-first", none, "記入例 sheet left in front", edit=example_sheet(True))
    add("example-last", none, "記入例 sheet left at the end", edit=example_sheet(False))
    add("blank-member-rows", none, "blank rows between members", edit=blank_member_rows)
    # Dates
    for tag, end, codes in (
        ("wareki", "令和5年1月31日", none), ("r-dots", "R5.1.31", none), ("slash", "2023/1/31", none),
        ("fw-wareki", "令和５年１月３１日", none), ("gannen-late", "令和5年2月28日", {"PROJECT_PERIOD"}),
        ("r-late", "R5.3.31", {"PROJECT_PERIOD"}), ("dots-late", "2023.02.28", {"PROJECT_PERIOD"}),
        ("boundary", "2023年2月10日", none), ("serial", 44957, none), ("serial-late", 44985, {"PROJECT_PERIOD"}),
        ("weekday", "2023年1月31日(火)", none), ("h-era-late", "R05.02.11", {"PROJECT_PERIOD"}),
    ):
        add(f"end-{tag}", codes, f"完了予定日 {end!r}", plan_with(end=end))
    for tag, applied in (("r", "R4.8.20"), ("wareki", "令和4年8月20日"), ("kanji", "令和四年八月二十日")):
        add(f"applied-{tag}", none, f"申請日 {applied}", plan_with(applied=applied))
    # Members and roles
    for tag, mark in (("maru2", "◎"), ("zero", "〇"), ("dot", "●"), ("true", True), ("check", "✔")):
        add(f"lead-{tag}", none, f"幹事社 marked {mark!r}", plan_member(0, 2, mark))
    add("role-vendor-fw", none, "ＩＴベンダー in full width", plan_member(3, 1, "ＩＴベンダー"))
    add("role-sme-words", none, "中小企業（ユーザ） in words", plan_member(1, 1, "中小企業（ユーザ企業）"))
    add("role-vendor-lead", none, "ITベンダ（幹事社） in the role", plan_member(2, 1, "ITベンダ（連携開発）"))
    add("one-vendor", {"CONSORTIUM_COMPOSITION"}, "second vendor written as その他協力者",
        plan_member(3, 1, "その他協力者"))
    add("minashi", over, "vendor declared みなし大企業 (small numbers, large parent)",
        edit=both(header_word("法人番号", "法人番号"), vendor_size("みなし大企業")), raw_too=True)
    add("corp-hyphen", none, "法人番号 with hyphens", plan_member(0, 6, f"{MEMBERS[0][6][0]}-{MEMBERS[0][6][1:5]}-"
                                                           f"{MEMBERS[0][6][5:9]}-{MEMBERS[0][6][9:]}"))
    add("corp-typo", {"CORPORATE_NUMBER_INVALID"}, "法人番号 with a digit wrong",
        plan_member(1, 6, MEMBERS[1][6][:-1] + str((int(MEMBERS[1][6][-1]) + 1) % 10)))
    add("name-space-diff", none, "consortium name with a full-width space on one sheet",
        plan_with(plan_consortium="北陸ものづくり　データ連携協議会"))
    add("name-differs", {"CONSORTIUM_NAME_MISMATCH"}, "a different consortium name in the plan",
        plan_with(plan_consortium="北陸ものづくりDX推進協議会"))
    return out


def _raw_variants() -> list[Variant3]:
    """Cells only a hand-written or non-Excel package has: rich runs, furigana, typed cells."""
    out: list[Variant3] = []

    def add(name: str, codes: set[str], why: str, edit: Edit, p: dict[str, Any] | None = None) -> None:
        out.append(Variant3(f"c3x-{name}.xlsx", book_bytes(p, edit, raw=True), frozenset(codes), why))

    add("rich-label", set(), "label split over two formatted runs",
        set_cell("補助金交付申請額", Rich(("補助金交付", "申請額")), 0))
    add("furigana-label", set(), "labels with their phonetic reading",
        both(set_cell("幹事社名", Rich(("幹事社名",), "カンジシャメイ"), 0),
              set_cell("事業者名", Rich(("事業者名",), "ジギョウシャメイ"), 0)))
    add("furigana-value", set(), "consortium name with its phonetic reading",
        set_cell("コンソーシアム名", Rich((CONSORTIUM,), "ホクリクモノヅクリデータレンケイキョウギカイ")))
    add("sci-number", set(), "an amount saved in exponent notation",
        set_cell("補助金交付申請額", Xml("", "<x:v>1.9966E7</x:v>")))
    add("formula-cached", set(), "an amount as a formula with its cached value",
        set_cell("補助対象経費合計", Xml("", "<x:f>SUM(補助対象経費内訳書!H4:H11)</x:f><x:v>30000000</x:v>")))
    add("formula-str", set(), "a name as a string formula result",
        set_cell("幹事社名", Xml('t="str"', f"<x:f>交付申請書!B11</x:f><x:v>{MEMBERS[0][0]}</x:v>")))
    add("iso-date", set(), "a date cell typed t=\"d\" (ISO 8601)",
        set_cell("事業完了予定日", Xml('t="d"', "<x:v>2023-01-31T00:00:00</x:v>")))
    add("iso-date-late", {"PROJECT_PERIOD"}, "a late date cell typed t=\"d\"",
        set_cell("事業完了予定日", Xml('t="d"', "<x:v>2023-03-31T00:00:00</x:v>")))
    add("error-amount", {"FORM_FIELD_MISSING"}, "申請額 left as #REF!",
        set_cell("補助金交付申請額", Xml('t="e"', "<x:f>#REF!*2/3</x:f><x:v>#REF!</x:v>")))
    add("bool-lead", set(), "幹事社 a TRUE check box cell", member_cell(0, 2, Xml('t="b"', "<x:v>1</x:v>")))
    add("bool-false-others", set(), "幹事社 FALSE for the others",
        both(*(member_cell(i, 2, Xml('t="b"', "<x:v>0</x:v>")) for i in (1, 2, 3))))
    add("vendor-cap-dash-5000", {"FORM_FIELD_MISSING"}, "a 株式会社 vendor's capital － (not an answer) and 5,000人",
        both(member_cell(2, 4, "－"), member_cell(2, 5, "5,000人")))
    add("sme-cap-blank", set(), "SME user capital blank, employees under the line", member_cell(1, 4, ""))
    add("vendor-cap-blank-small", set(), "vendor capital blank, 12 employees", member_cell(3, 4, ""))
    add("sole-proprietor", set(), "a 個人事業主 SME user",
        both(member_cell(1, 4, "なし"), member_cell(1, 6, "－")),
        p=plan_member(1, 0, "ひまわり運輸 日向 太郎（個人事業主）"))
    add("hardware", {"COST_NOT_ELIGIBLE"}, "a hardware cost row",
        set_cell("生産管理パッケージ", "ハードウェア購入費（サーバ機器）", -1))
    add("commas-odd", set(), "commas in the wrong places", set_cell("補助金交付申請額", "19,96,6000"))
    return out


def _third_batch() -> list[Variant3]:
    out: list[Variant3] = []

    def add(name: str, codes: set[str], why: str, edit: Edit | None = None,
            p: dict[str, Any] | None = None) -> None:
        for raw in (False, True):
            data = book_bytes(p, edit, raw=raw)
            out.append(Variant3(f"c3t-{name}{'-raw' if raw else ''}.xlsx", data, frozenset(codes), why))

    add("members-continued", set(), "member table continued on a second sheet", members_on_next_sheet)
    add("stale-hidden-copy", set(), "a hidden earlier draft of the application sheet", stale_copy)
    add("costs-short-names", set(), "cost rows name members by short names", costs_short_names)
    add("merged-labels", set(), "labels merged over the spacer", merged_labels)
    add("merged-value-far", set(), "label merged B:D, value in F", merged_value_far)
    add("sample-left", {"FORM_FIELD_MISSING"}, "the template's sample consortium name left in",
        p=plan_with(consortium="○○○○コンソーシアム", plan_consortium="○○○○コンソーシアム"))
    return out


def _fourth_batch() -> list[Variant3]:
    """Industries as companies write them, cost cells as people type them."""
    out: list[Variant3] = []

    def add(name: str, codes: set[str], why: str, edit: Edit | None = None,
            p: dict[str, Any] | None = None) -> None:
        for raw in (False, True):
            data = book_bytes(p, edit, raw=raw)
            out.append(Variant3(f"c3i-{name}{'-raw' if raw else ''}.xlsx", data, frozenset(codes), why))

    inel = {"SME_INELIGIBLE"}
    for tag, industry, capital, employees, codes in (
        ("wholesale-software-goods", "ソフトウェア製品卸売業", 200000000, 150, inel),
        ("retail-medical-devices", "医療機器販売業", 100000000, 60, inel),
        ("service-hotel-cleaning", "ホテル清掃業", 100000000, 150, inel),
        ("wholesale-note-software", "卸売業（ソフトウェア製品）", 200000000, 150, inel),
        ("rubber-in-note", "製造業（ゴム製品）", 500000000, 500, set()),
        ("software-in-note", "サービス業（情報処理）", 100000000, 150, set()),
        ("software-first-of-list", "ソフトウェア開発・販売", 100000000, 150, set()),
        ("wholesale-plain", "卸売業", 200000000, 150, inel),
        ("transport-road", "道路貨物運送業", 500000000, 250, set()),
        ("food-retail", "飲食料品小売業", 100000000, 60, inel),
    ):
        p = base_plan()
        p["members"][1][3:6] = [industry, capital, employees]
        add(f"industry-{tag}", codes, f"SME user's 業種 {industry} ({capital:,}円, {employees}人)", p=p)
    add("category-software-e", set(), "ソフトウエア購入費 with a large エ", cost_cell(0, 3, "ソフトウエア購入費"))
    add("category-cloud-short", set(), "クラウド利用料 for the cloud service", cost_cell(1, 3, "クラウド利用料"))
    add("category-halfwidth", set(), "経費区分 in half-width katakana", cost_cell(0, 3, "ｿﾌﾄｳｪｱ購入費"))
    for tag, step in (("fw", "ＳＴＥＰ３"), ("spaced", "STEP 3"), ("katakana", "ステップ3"), ("circled", "③"),
                      ("with-name", "STEP3：設計・開発"), ("lower", "step3")):
        add(f"step-{tag}", set(), f"工程 written {step!r}", cost_cell(4, 2, step))
    add("subcontract-over", {"SUBCONTRACT_OVER_HALF"}, "下請け 有 at 12,000,000 of a 21,000,000 STEP3",
        both(cost_cell(4, 6, 3000000), cost_cell(5, 6, 12000000), cost_cell(5, 5, "有")))
    add("subcontract-mu", set(), "下請け発注 column 無 for the others",
        both(*(cost_cell(i, 5, "無") for i in (0, 1, 2, 3, 4, 6, 7))))
    add("cost-yen-text", set(), "amounts typed as text with 円", cost_cell(0, 6, "3,000,000円"))
    add("cost-fullwidth", set(), "amount in full-width digits", cost_cell(1, 6, "１，０００，０００"))
    add("cost-discount", set(), "a △ discount row", discount_row)
    for tag, end, codes in (("yyyymmdd", 20230131, set()), ("yyyymmdd-late", 20230228, {"PROJECT_PERIOD"}),
                            ("iso-text", "2023-01-31 00:00:00", set()), ("both-eras", "令和5(2023)年1月31日", set()),
                            ("dt", dt.datetime(2023, 1, 31, 0, 0), set())):
        add(f"end-{tag}", codes, f"完了予定日 {end!r}", p=plan_with(end=end))
    return out


def _fifth_batch() -> list[Variant3]:
    out: list[Variant3] = []

    def add(name: str, codes: set[str], why: str, edit: Edit | None = None,
            p: dict[str, Any] | None = None) -> None:
        for raw in (False, True):
            data = book_bytes(p, edit, raw=raw)
            out.append(Variant3(f"c3h-{name}{'-raw' if raw else ''}.xlsx", data, frozenset(codes), why))

    add("cap-hyakuman", set(), "capital as 30百万円", edit=member_cell(0, 4, "30百万円"))
    add("cap-hyakuman-large", {"AMOUNT_OVER_CAP"}, "vendor capital 1,000百万円 and 500人",
        edit=both(member_cell(2, 4, "1,000百万円"), member_cell(2, 5, 500)))
    add("cap-column-millions", set(), "資本金 column in 百万円", edit=capital_in_millions)
    add("emp-part", set(), "従業員数 with part-timers noted", edit=member_cell(0, 5, "80名（うちパート10名）"))
    for tag, end, codes in (("no-era", "5年1月31日", set()), ("no-era-late", "5年3月31日", {"PROJECT_PERIOD"}),
                            ("two-digit", "23/1/31", set()), ("r-zero", "R05/01/31", set()),
                            ("fw-r", "Ｒ５．１．３１", set()), ("made", "令和5年1月31日まで", set()),
                            ("yotei", "2023年1月31日（予定）", set()), ("rei", "令5.1.31", set())):
        add(f"end-{tag}", codes, f"完了予定日 {end!r}", p=plan_with(end=end))
    for tag, role in (("user", "ユーザ企業"), ("user-long", "中小ユーザー企業"), ("vendor-long", "ITベンダー企業")):
        add(f"role-{tag}", set(), f"区分 {role}", edit=member_cell(1 if "user" in tag else 3, 1, role))
    add("lead-word", set(), "幹事社 column says 幹事", edit=member_cell(0, 2, "幹事"))
    add("lead-in-name", set(), "(幹事社) after the lead's name, no tick column", edit=lead_in_name)
    add("step-groups", set(), "STEP group rows instead of a 工程 column", edit=step_groups)
    add("category-gaichu", set(), "外注費 for the vendor's 下請け", edit=cost_cell(5, 3, "外注費"))
    add("numbers-export", set(), "exported from Numbers", edit=numbers_export)
    add("numbers-export-over", {"AMOUNT_OVER_CAP"}, "exported from Numbers, over 2/3", edit=numbers_export,
        p=plan_with(requested=20100000))
    add("lead-black-square", set(), "幹事社 ■ for the lead, □ for the others",
        edit=both(member_cell(0, 2, "■"), *(member_cell(i, 2, "□") for i in (1, 2, 3))))
    add("corp-number-cell", set(), "法人番号 typed as a number", edit=member_cell(0, 6, int(MEMBERS[0][6])))
    add("corp-spaced", set(), "法人番号 in groups with spaces",
        edit=member_cell(1, 6, " ".join((MEMBERS[1][6][:1], MEMBERS[1][6][1:5], MEMBERS[1][6][5:9],
                                           MEMBERS[1][6][9:]))))
    add("label-value-one-cell", set(), "label and value in one cell over two lines",
        edit=both(set_cell("補助金交付申請額", "補助金交付申請額\n19,966,000円", 0),
                   set_cell("補助金交付申請額\n19,966,000円", "")))
    add("nbsp", set(), "a no-break space after the amount", p=plan_with(requested="19,966,000\u00a0"))
    return out


_KANA = "アイウエオカキクケコ"


def _sixth_batch() -> list[Variant3]:
    out: list[Variant3] = []

    def add(name: str, codes: set[str], why: str, edit: Edit | None = None,
            p: dict[str, Any] | None = None) -> None:
        for raw in (False, True):
            data = book_bytes(p, edit, raw=raw)
            out.append(Variant3(f"c3k-{name}{'-raw' if raw else ''}.xlsx", data, frozenset(codes), why))

    add("yen-dot-dash", set(), "amount closed with .-", p=plan_with(requested="¥19,966,000.-"))
    add("total-spaced", set(), "合 計 with a space", edit=set_cell("合計", "合　計", 0))
    add("total-first", set(), "合計 row above the details", edit=total_first)
    add("tax-columns", set(), "税抜・消費税・税込 columns", edit=tax_columns)
    add("role-ticks", set(), "区分 as tick columns", edit=role_tick_columns)
    add("zwsp-name", set(), "a zero-width space pasted after the plan's consortium name",
        p=plan_with(plan_consortium=CONSORTIUM + "\u200b"))
    add("zwsp-amount", set(), "a zero-width space pasted into the amount", p=plan_with(requested="\u200b19,966,000"))
    add("cap-with-label", set(), "capital typed with its label", edit=member_cell(0, 4, "資本金 3,000万円"))
    add("req-kome-note", set(), "amount followed by a ※ note", p=plan_with(requested="19,966,000円 ※千円未満切捨て"))
    add("end-kome-note", set(), "date followed by a ※ note", p=plan_with(end="2023年1月31日 ※予定"))
    add("end-kome-late", {"PROJECT_PERIOD"}, "late date followed by a ※ note", p=plan_with(end="2023年3月31日 ※予定"))
    for tag, style in (("kana-paren", lambda n: f"({_KANA[n - 1]})"), ("kana-dot", lambda n: f"{_KANA[n - 1]}．"),
                       ("kana-half", lambda n: f"{_KANA[n - 1]}) "), ("dash-number", lambda n: f"1-{n} "),
                       ("dash-number-dot", lambda n: f"1-{n}."), ("number-space", lambda n: f"{n} "),
                       ("fw-number-space", lambda n: f"{chr(0xFF10 + n)}\u3000"),
                       ("required-bracket", lambda n: "〔必須〕"), ("required-angle", lambda n: "<必須>")):
        add(f"labels-{tag}", set(), f"labels numbered {style(1)!r}", edit=numbered_labels(style))
    add("labels-diamonds", set(), "labels between ◆ marks",
        edit=both(relabel("補助金交付申請額", "◆補助金交付申請額◆"), relabel("幹事社名", "◆幹事社名◆")))
    add("labels-note-number", set(), "labels with 注1 after them",
        edit=both(relabel("補助金交付申請額", "補助金交付申請額 注1"),
                   relabel("事業完了予定日", "事業完了予定日 注2")))
    add("cap-column-senen", set(), "資本金（千円） column in thousands",
        edit=both(header_word("資本金", "資本金（千円）"),
                   *(member_cell(i, 4, MEMBERS[i][4] // 1000) for i in range(4))))
    add("cap-column-senen-large", {"AMOUNT_OVER_CAP"}, "資本金（千円） column, a vendor at 1,000,000千円 and 500人",
        edit=both(header_word("資本金", "資本金（千円）"),
                   *(member_cell(i, 4, MEMBERS[i][4] // 1000) for i in range(4)),
                   member_cell(2, 4, 1000000), member_cell(2, 5, 500)))
    add("cost-header-unit", set(), "補助対象経費 (単位:円) header",
        edit=header_word("補助対象経費", "補助対象経費\n(単位:円)"))
    add("cost-header-kome", set(), "headers with ※", edit=both(header_word("経費区分", "経費区分※"),
                                                                  header_word("工程", "工程※1")))
    add("role-ticks-one-vendor", {"CONSORTIUM_COMPOSITION"}, "区分 as tick columns, one vendor only",
        edit=role_tick_columns, p=plan_member(3, 1, "その他協力者"))
    return out


def all_variants() -> list[Variant3]:
    return (variants() + _raw_variants() + _third_batch() + _fourth_batch() + _other_formats()
            + _fifth_batch() + _sixth_batch())


def _other_formats() -> list[Variant3]:
    """The same habits saved as .xls and .ods."""
    out: list[Variant3] = []
    cases: list[tuple[str, set[str], Edit | None, dict[str, Any] | None]] = [
        ("base", set(), None, None),
        ("req-senen", set(), None, plan_with(requested="19,966千円")),
        ("over", {"AMOUNT_OVER_CAP"}, None, plan_with(requested=20100000)),
        ("end-late", {"PROJECT_PERIOD"}, None, plan_with(end=dt.date(2023, 3, 31))),
        ("end-wareki", set(), None, plan_with(end="令和5年1月31日")),
        ("stale-hidden-copy", set(), stale_copy, None),
        ("example-first", set(), example_sheet(True), None),
        ("label-break", set(), relabel("補助金交付申請額", "補助金交付\n申請額"), None),
        ("one-vendor", {"CONSORTIUM_COMPOSITION"}, None, plan_member(3, 1, "その他協力者")),
        ("sheets-renamed", set(), title_rename("Sheet1", "Sheet2", "Sheet3"), None),
        ("cost-discount", set(), discount_row, None),
        ("merged-labels", set(), merged_labels, None),
        ("merged-value-far", set(), merged_value_far, None),
        ("role-ticks", set(), role_tick_columns, None),
        ("labels-fw-number", set(), numbered_labels(lambda n: f"{chr(0xFF10 + n)}\u3000"), None),
        ("industry-wholesale-goods", {"SME_INELIGIBLE"}, both(member_cell(1, 3, "ソフトウェア製品卸売業"),
                                                                member_cell(1, 4, 200000000),
                                                                member_cell(1, 5, 150)), None),
    ]
    for name, codes, edit, p in cases:
        for ext, writer in (("xls", write_xls), ("ods", write_ods)):
            sheets = plan_sheets(p or base_plan())
            if edit:
                edit(sheets)
            out.append(Variant3(f"c3f-{name}.{ext}", writer(sheets), frozenset(codes), f"{name} saved as .{ext}"))
    return out

