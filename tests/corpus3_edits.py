"""The third corpus's sample consortium, its application laid out in the corpus's own way, the
edits an applicant's habits make to it, and the other documents of a whole set."""

from __future__ import annotations

import copy
import datetime as dt
from collections.abc import Callable
from typing import Any

from tests.corpus3_writers import Cell, Rows, Sheet, write_openpyxl, write_raw


# 法人番号 with valid check digits (9 − Σ mod 9 over the 12-digit base).
def _corp(base: str) -> str:
    total = sum(int(d) * (1 if n % 2 == 1 else 2) for n, d in enumerate(reversed(base), start=1))
    return f"{9 - total % 9}{base}"


CONSORTIUM = "北陸ものづくりデータ連携協議会"


MEMBERS = [
    # name, role, lead, industry, capital, employees, corporate number
    ["株式会社あおば製作所", "中小ユーザ企業", "○", "製造業", 30000000, 80, _corp("220001012345")],
    ["ひまわり運輸株式会社", "中小ユーザ企業", "", "運輸業", 10000000, 45, _corp("230001054321")],
    ["株式会社テクノブリッジ", "ITベンダ", "", "ソフトウェア業", 50000000, 120, _corp("210001098765")],
    ["合同会社クラウドワークス北陸", "ITベンダ", "", "情報処理サービス業", 5000000, 12, _corp("220003011111")],
]


COSTS = [
    # member index, step, category, description, subcontract, amount
    [0, "STEP1", "ソフトウェア購入費", "生産管理パッケージ", "", 3000000],
    [1, "STEP1", "クラウドサービス利用費", "配車クラウド 利用料", "", 1000000],
    [0, "STEP2", "委託費", "要件定義支援(テクノブリッジ)", "", 3000000],
    [0, "STEP2", "人件費", "要件定義 社内工数", "", 1000000],
    [2, "STEP3", "人件費", "連携API 設計・開発", "", 12000000],
    [2, "STEP3", "委託費", "単体テストの下請け", "○", 3000000],
    [3, "STEP3", "人件費", "連携基盤 構築・システムテスト", "", 6000000],
    [1, "STEP4", "人件費", "受入テスト 社内工数", "", 1000000],
]


TOTAL = 30000000


REQUESTED = 19966000


START = dt.date(2022, 10, 1)


END = dt.date(2023, 1, 31)


def base_plan() -> dict[str, Any]:
    return {
        "consortium": CONSORTIUM, "plan_consortium": CONSORTIUM, "members": copy.deepcopy(MEMBERS),
        "costs": copy.deepcopy(COSTS), "total": TOTAL, "requested": REQUESTED, "cost_total": TOTAL,
        "applied": "2022/8/20", "start": START, "end": END, "lead": MEMBERS[0][0],
    }


def plan_sheets(p: dict[str, Any]) -> list[Sheet]:
    """Three sheets; labels in column B, value in D (C is a narrow spacer the applicant left empty)."""
    app: Rows = [
        ["", "補助金交付申請書"],
        [],
        ["", "申請日", "", p["applied"]],
        ["", "コンソーシアム名", "", p["consortium"]],
        ["", "幹事社名", "", p["lead"]],
        ["", "補助対象経費合計", "", p["total"]],
        ["", "補助金交付申請額", "", p["requested"]],
        [],
        ["", "コンソーシアム構成員"],
        ["", "事業者名", "区分", "幹事社", "業種", "資本金", "従業員数", "法人番号"],
    ]
    for m in p["members"]:
        app.append(["", *m])
    plan: Rows = [
        ["", "事業計画書"],
        ["", "コンソーシアム名", "", p["plan_consortium"]],
        ["", "補助事業名", "", "受注・配車・会計のデータ連携"],
        ["", "事業開始予定日", "", p["start"]],
        ["", "事業完了予定日", "", p["end"]],
    ]
    heads = ["", "事業者名", "工程", "経費区分", "内容", "下請け発注", "補助対象経費"]
    costs: Rows = [["", "補助対象経費内訳書"], [], heads]
    for i, step, cat, desc, sub, amount in p["costs"]:
        costs.append(["", p["members"][i][0], step, cat, desc, sub, amount])
    costs.append(["", "合計", "", "", "", "", p["cost_total"]])
    return [Sheet("交付申請書", app), Sheet("事業計画書", plan), Sheet("補助対象経費内訳書", costs)]


Edit = Callable[[list[Sheet]], None]


def book_bytes(p: dict[str, Any] | None = None, edit: Edit | None = None, raw: bool = False) -> bytes:
    sheets = plan_sheets(p or base_plan())
    if edit:
        edit(sheets)
    return (write_raw if raw else write_openpyxl)(sheets)


def _find(sheets: list[Sheet], text: str) -> tuple[Sheet, int, int]:
    for s in sheets:
        for r, row in enumerate(s.rows):
            for c, v in enumerate(row):
                if v == text:
                    return s, r, c
    raise KeyError(text)


def set_value(label: str, value: Cell) -> Edit:
    def run(sheets: list[Sheet]) -> None:
        s, r, c = _find(sheets, label)
        s.rows[r][c + 2] = value
    return run


def relabel(old: str, new: str) -> Edit:
    def run(sheets: list[Sheet]) -> None:
        s, r, c = _find(sheets, old)
        s.rows[r][c] = new
    return run


def both(*edits: Edit) -> Edit:
    def run(sheets: list[Sheet]) -> None:
        for e in edits:
            e(sheets)
    return run


def plan_with(**changes: Any) -> dict[str, Any]:
    p = base_plan()
    p.update(changes)
    return p


def plan_member(i: int, col: int, value: Cell) -> dict[str, Any]:
    p = base_plan()
    p["members"][i][col] = value
    return p


def below(label: str) -> Edit:
    """The value typed under its label instead of beside it (a row inserted for it)."""
    def run(sheets: list[Sheet]) -> None:
        s, r, c = _find(sheets, label)
        value = s.rows[r][c + 2]
        s.rows[r][c + 2] = ""
        s.rows.insert(r + 1, [""] * c + [value])
    return run


def unit_cell(label: str, number: Cell, unit: str) -> Edit:
    """The number in the value cell and its unit (千円, 円) in the next cell."""
    def run(sheets: list[Sheet]) -> None:
        s, r, c = _find(sheets, label)
        s.rows[r][c + 2] = number
        s.rows[r].append(unit)
    return run


def rows_above(n: int, note: str = "") -> Edit:
    def run(sheets: list[Sheet]) -> None:
        for s in sheets:
            s.rows[:0] = [[note] if note else [] for _ in range(n)]
    return run


def title_rename(*titles: str) -> Edit:
    def run(sheets: list[Sheet]) -> None:
        for s, t in zip(sheets, titles, strict=False):
            s.title = t
    return run


def reorder(sheets: list[Sheet]) -> None:
    sheets.reverse()


def example_sheet(first: bool) -> Edit:
    """A 記入例 sheet left in the book with the template's sample values (an over-cap example)."""
    def run(sheets: list[Sheet]) -> None:
        p = plan_with(consortium="○○連携コンソーシアム", lead="株式会社○○", requested=99000000, total=100000000)
        sample = plan_sheets(p)[0]
        sample.title = "記入例"
        sample.rows[0] = ["", "【記入例】補助金交付申請書"]
        sheets.insert(0 if first else len(sheets), sample)
    return run


def header_word(old: str, new: str) -> Edit:
    def run(sheets: list[Sheet]) -> None:
        s, r, c = _find(sheets, old)
        s.rows[r][c] = new
    return run


def blank_member_rows(sheets: list[Sheet]) -> None:
    s, r, _ = _find(sheets, MEMBERS[1][0])
    s.rows.insert(r, [])
    s.rows.insert(r + 2, [])


def thousands_costs(sheets: list[Sheet]) -> None:
    """The cost table kept in 千円: the header says so and every amount is a thousandth."""
    s, r, c = _find(sheets, "補助対象経費")
    s.rows[r][c] = "補助対象経費(千円)"
    for row in s.rows[r + 1:]:
        if len(row) > c and isinstance(row[c], int):
            row[c] //= 1000


def subtotals(sheets: list[Sheet]) -> None:
    """A 小計 row after each STEP and the totals row labelled 総計."""
    s, r, c = _find(sheets, "事業者名")
    s = next(x for x in sheets if x.title.endswith("内訳書")) if s.title != "補助対象経費内訳書" else s
    _, r, c = _find([s], "事業者名")
    out: Rows = s.rows[: r + 1]
    body = s.rows[r + 1: -1]
    step, acc = None, 0
    for row in body:
        if step and row[2] != step:
            out.append(["", "小計", "", "", "", "", acc])
            acc = 0
        step = row[2]
        acc += row[6]
        out.append(row)
    out.append(["", "小計", "", "", "", "", acc])
    last = s.rows[-1]
    last[1] = "総計"
    out.append(last)
    s.rows[:] = out


def furigana_raw(sheets: list[Sheet]) -> None:
    """Labels with their reading kept beside them, as the IME's phonetic text shows when pasted."""
    for old, new in (("事業者名", "事業者名\n(ジギョウシャメイ)"), ("幹事社名", "幹事社名（かんじしゃめい）")):
        s, r, c = _find(sheets, old)
        s.rows[r][c] = new


def vendor_size(word: str) -> Edit:
    """Add a 企業規模 column and declare the vendor's size in words."""
    def run(sheets: list[Sheet]) -> None:
        s, r, c = _find(sheets, "法人番号")
        s.rows[r].append("企業規模")
        for k in range(len(MEMBERS)):
            s.rows[r + 1 + k].append(word if k == 2 else "中小企業")
    return run


def set_cell(label: str, value: Cell, offset: int = 2) -> Edit:
    """Replace the cell `offset` columns right of the label (0: the label cell itself)."""
    def run(sheets: list[Sheet]) -> None:
        s, r, c = _find(sheets, label)
        s.rows[r][c + offset] = value
    return run


def member_cell(i: int, col: int, value: Cell) -> Edit:
    def run(sheets: list[Sheet]) -> None:
        s = sheets[0]
        s.rows[10 + i][1 + col] = value  # the member table's rows start on row 11
    return run


def _member_rows(sheets: list[Sheet]) -> tuple[Sheet, int]:
    s = sheets[0]
    return s, 10


def members_on_next_sheet(sheets: list[Sheet]) -> None:
    """The last two members continued on a sheet of their own under the same headers."""
    s, r = _member_rows(sheets)
    rest = s.rows[r + 2:r + 4]
    del s.rows[r + 2:r + 4]
    sheets.insert(1, Sheet("交付申請書(続き)", [["", "コンソーシアム構成員（続き）"], s.rows[r - 1], *rest]))


def stale_copy(sheets: list[Sheet]) -> None:
    """A hidden copy of an earlier draft of the application sheet, over the cap."""
    p = plan_with(requested=25000000)
    old = plan_sheets(p)[0]
    old.title = "交付申請書 (旧)"
    old.hidden = True
    sheets.append(old)


def costs_short_names(sheets: list[Sheet]) -> None:
    """The cost table names members as people abbreviate them."""
    s = sheets[2]
    short = {MEMBERS[0][0]: "(株)あおば製作所", MEMBERS[1][0]: "ひまわり運輸㈱", MEMBERS[2][0]: "テクノブリッジ",
             MEMBERS[3][0]: "(同)クラウドワークス北陸"}
    for row in s.rows:
        if len(row) > 1 and row[1] in short:
            row[1] = short[row[1]]


def merged_labels(sheets: list[Sheet]) -> None:
    """Labels merged over B:C, value in D (the spacer swallowed by the label)."""
    s = sheets[0]
    for r in range(2, 7):
        s.merges.append(f"B{r + 1}:C{r + 1}")


def merged_value_far(sheets: list[Sheet]) -> None:
    """Label merged over B:D, value in F (two cells right of the merged block)."""
    s = sheets[0]
    for r in range(2, 7):
        row = s.rows[r]
        row += [""] * (6 - len(row))
        row[5], row[3] = row[3], ""
        s.merges.append(f"B{r + 1}:D{r + 1}")


def cost_cell(row: int, col: int, value: Cell) -> Edit:
    """Replace a cell of cost row `row` (0-based among the cost rows; col 1 = 事業者名)."""
    def run(sheets: list[Sheet]) -> None:
        s = next(x for x in sheets if any("補助対象経費内訳書" in str(v) for v in x.rows[0]))
        s.rows[3 + row][col] = value
    return run


def discount_row(sheets: list[Sheet]) -> None:
    """A 値引き row written with △, the other rows raised so every total still holds."""
    s = next(x for x in sheets if any("補助対象経費内訳書" in str(v) for v in x.rows[0]))
    s.rows[3 + 4][6] = 12500000
    s.rows.insert(3 + 5, ["", MEMBERS[2][0], "STEP3", "人件費", "出精値引き", "", "△500,000"])


def step_groups(sheets: list[Sheet]) -> None:
    """No 工程 column: a group row 「【STEP1】…」 above each STEP's rows instead."""
    s = sheets[2]
    head = s.rows[2]
    out: Rows = s.rows[:2] + [[v for k, v in enumerate(head) if k != 2]]
    step = None
    names = {1: "ITツールの購入・設定", 2: "要件定義", 3: "設計・開発〜システムテスト", 4: "受入テスト・研修"}
    for row in s.rows[3:-1]:
        if row[2] != step:
            step = row[2]
            out.append(["", f"【{step}】{names[int(step[-1])]}"])
        out.append([v for k, v in enumerate(row) if k != 2])
    out.append([v for k, v in enumerate(s.rows[-1]) if k != 2])
    s.rows[:] = out


def lead_in_name(sheets: list[Sheet]) -> None:
    """No ○ anywhere: the lead written after its name in the member table."""
    s = sheets[0]
    s.rows[10][1] = f"{MEMBERS[0][0]}（幹事社）"
    for r in range(10, 14):
        s.rows[r][3] = ""


def capital_in_millions(sheets: list[Sheet]) -> None:
    """資本金 column kept in 百万円, as a company profile gives it."""
    s = sheets[0]
    s.rows[9][5] = "資本金（百万円）"
    for r in range(10, 14):
        s.rows[r][5] = s.rows[r][5] / 1_000_000


def numbers_export(sheets: list[Sheet]) -> None:
    """As Numbers exports: a 書き出しの概要 sheet first, each sheet named 「… - 表1」 with the
    table's name above it."""
    listing: Rows = [["このドキュメントはNumbersから書き出されました。各表はExcelワークシートに変換されています。"], [],
                     ["Numbersシート名", "Numbers表名", "Excelワークシート名"]]
    for s in sheets:
        listing.append([s.title, "表1", f"{s.title} - 表1"])
        s.title = f"{s.title} - 表1"
        s.rows.insert(0, ["表1"])
    sheets.insert(0, Sheet("書き出しの概要", listing))


def role_tick_columns(sheets: list[Sheet]) -> None:
    """区分 as three tick columns (該当に○), as many Japanese forms lay it out."""
    s = sheets[0]
    kinds = ["中小ユーザ企業", "ITベンダ", "その他協力者"]
    head = s.rows[9]
    s.rows[9] = [head[0], head[1], *kinds, *head[3:]]
    s.rows.insert(9, ["", "", "区分（該当に○）"])
    for r in range(11, 15):
        row = s.rows[r]
        s.rows[r] = [row[0], row[1], *["○" if k == row[2] else "" for k in kinds], *row[3:]]


def total_first(sheets: list[Sheet]) -> None:
    """The cost table's 合計 row right under its header, above the detail rows."""
    s = sheets[2]
    total = s.rows.pop()
    s.rows.insert(3, total)


def tax_columns(sheets: list[Sheet]) -> None:
    """税抜 (the eligible amount), 消費税 and 税込 columns side by side."""
    s = sheets[2]
    s.rows[2][6:] = ["補助対象経費（税抜）", "消費税", "合計（税込）"]
    for row in s.rows[3:]:
        amount = row[6]
        row[6:] = [amount, amount // 10, amount + amount // 10]


def numbered_labels(style: Callable[[int], str]) -> Edit:
    """Every field label of the application and plan numbered in one style."""
    def run(sheets: list[Sheet]) -> None:
        for s in sheets[:2]:
            n = 0
            for row in s.rows:
                if len(row) == 4 and row[1] and row[3] not in ("", None):  # 「| label | | value」
                    n += 1
                    row[1] = style(n) + row[1]
    return run


LEAD_MAIL = "sato@aoba-ss.example.jp"


SHARES = [(7000000, 4666000), (2000000, 1300000), (15000000, 10000000), (6000000, 4000000)]


def member_info_sheet(members: list[list[Cell]] | None = None) -> Sheet:
    rows: Rows = [
        ["事業者情報入力シート"],
        ["コンソーシアム名", "", CONSORTIUM],
        [],
        ["事業者名", "区分", "法人番号", "代表者氏名", "所在地", "業種", "資本金", "従業員数",
         "担当者メールアドレス", "補助対象経費", "補助金申請額"],
    ]
    for k, (m, (eligible, requested)) in enumerate(zip(members or MEMBERS, SHARES, strict=True)):
        rows.append([m[0], m[1], m[6], f"代表取締役 北陸 {k + 1}郎", "石川県金沢市広岡1-1", m[3], m[4], m[5],
                     LEAD_MAIL if k == 0 else f"info{k}@member{k}.example.jp", eligible, requested])
    return Sheet("事業者情報入力シート", rows)


def checklist_sheet() -> Sheet:
    docs = ["4. 補助金交付申請書・事業計画書・補助対象経費内訳書", "5. 補助事業概要書", "6. 事業者情報入力シート",
            "7. 誓約書", "8. 提出書類チェックリスト", "履歴事項全部証明書", "納税証明書"]
    return Sheet("提出書類チェックリスト", [["提出書類チェックリスト"], ["コンソーシアム名", "", CONSORTIUM], [],
                                          ["提出書類", "チェック"], *[[d, "✓"] for d in docs]])


def submission_files(application: bytes, pdf: Callable[[str], bytes],
                     members: list[list[Cell]] | None = None,
                     member_info: Sheet | None = None) -> dict[str, bytes]:
    """Every document of the set: the application given, the other sheets written here, and a
    scanned-looking PDF per member paper (recognised by its file name, as a scan is)."""
    files = {
        "01_交付申請書.xlsx": application,
        "02_補助事業概要書.pdf": pdf("overview"),
        "03_事業者情報入力シート.xlsx": write_raw([member_info or member_info_sheet(members)]),
        "05_提出書類チェックリスト.xlsx": write_openpyxl([checklist_sheet()]),
    }
    for m in MEMBERS:
        for paper in ("誓約書", "履歴事項全部証明書", "納税証明書"):
            files[f"{paper}_{m[0]}.pdf"] = pdf("scan")
    return files


def _info_in_thousands() -> Sheet:
    s = member_info_sheet()
    s.rows[3][9:11] = ["補助対象経費（千円）", "補助金申請額（千円）"]
    for row in s.rows[4:]:
        row[9] //= 1000
        row[10] //= 1000
    return s


def _info_short_names() -> Sheet:
    s = member_info_sheet()
    s.rows[4][0] = "㈱あおば製作所"
    s.rows[6][0] = "(株)テクノブリッジ"
    return s


HELPER = ["北陸ITコンサル 山本 健", "その他協力者", "", "サービス業", "－", 1, "－"]


def _info_with_helper() -> Sheet:
    """An その他協力者 (a person trading under a shop name) on both member lists."""
    s = member_info_sheet()
    s.rows.append([HELPER[0], HELPER[1], "－", "山本 健", "富山県富山市1-1", HELPER[3], "－", 1,
                   "yamamoto@example.jp", 0, 0])
    return s


def _info_over() -> Sheet:
    s = member_info_sheet()
    s.rows[6][10] = 10500000
    return s


# (name, member-info sheet, expected codes): sets whose forms must agree with each other
SET_VARIANTS: list[tuple[str, Callable[[], Sheet], set[str]]] = [  # the application as base_plan()
    ("info-in-thousands", _info_in_thousands, set()),
    ("info-short-names", _info_short_names, set()),
    ("info-with-helper", _info_with_helper, set()),
    ("info-requested-differs", _info_over, {"SUM_MISMATCH"}),
]

