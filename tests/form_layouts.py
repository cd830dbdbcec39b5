"""Layouts of the three forms as applicants fill them, built from a consortium's facts.

Written from the program page's field list, not from the sample workbooks' layout: labels may be
decorated, values may sit after a blank or 「：」 cell or below the label, tables may carry units
rows, 小計 rows, blank rows, notes and extra columns, and sheets may be renamed or reordered.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field, replace

from tests.form_writer import Sheet

STEP_TITLES = {1: "STEP1 ITツールの購入・設定", 2: "STEP2 要件定義",
               3: "STEP3 設計・開発〜システムテスト", 4: "STEP4 受入テスト・研修"}


@dataclass(frozen=True)
class Member:
    key: str
    name: str
    role: str
    industry: str
    capital: object
    employees: object
    corpnum: object
    lead: bool = False
    size: str = ""
    rep: str = "代表取締役 山田 一郎"
    address: str = "石川県金沢市広坂1-1-1"
    established: object = "平成10年4月1日"
    email: str = "info@example.jp"
    counts: bool = True  # SME user or vendor (an その他協力者 has no costs or share)


@dataclass(frozen=True)
class Cost:
    member: str  # Member.key
    step: int
    category: str
    desc: str
    amount: int | float
    sub: bool = False


@dataclass(frozen=True)
class Case:
    consortium: str
    members: tuple[Member, ...]
    costs: tuple[Cost, ...]
    plan_name: str | None = None
    project_name: str = "受発注・在庫・会計システムのAPI連携による転記作業の削減"
    app_date: object = dt.datetime(2022, 8, 25)
    start: object = dt.datetime(2022, 10, 3)
    end: object = dt.datetime(2023, 1, 31)
    eligible_total: object = None  # None: the sum of the costs
    requested: object = None  # None: sum of the members' requests
    cost_total: object = None  # None: the sum of the costs
    subtotal_override: dict[int, int] = field(default_factory=dict)
    requested_formula: str | None = None
    member_requested: dict[str, int] = field(default_factory=dict)
    lead_name: str | None = None  # None: the ticked member's name
    share: float = 0.65  # each member asks this share of its costs (under 2/3)

    def member_cost(self, key: str) -> int:
        return int(sum(c.amount for c in self.costs if c.member == key))

    def member_request(self, key: str) -> int:
        if key in self.member_requested:
            return self.member_requested[key]
        return int(self.member_cost(key) * self.share) // 1000 * 1000

    def total(self) -> int | float:
        return sum(c.amount for c in self.costs)

    def request_total(self) -> object:
        if self.requested is not None:
            return self.requested
        return sum(self.member_request(m.key) for m in self.members if m.counts)

    def name_of(self, key: str) -> str:
        return next(m.name for m in self.members if m.key == key)


def plain(v: object) -> object:
    return v


@dataclass(frozen=True)
class Opts:
    sheet_names: tuple[str, str, str] = ("交付申請書", "事業計画書", "補助対象経費内訳書")
    order: tuple[int, ...] = (0, 1, 2)
    title_row: bool = True
    deco: Callable[[str], str] = plain  # decorates field labels
    gap: str = ""  # "", "blank" or "colon" between label and value
    label_merge: bool = False
    below: bool = False
    money: Callable[[object], object] = plain
    count: Callable[[object], object] = plain
    date: Callable[[object], object] = plain
    corpnum: Callable[[object], object] = plain
    lead_yes: str = "○"
    lead_no: object = None
    sub_yes: str = "○"
    sub_no: object = None
    member_headers: dict[str, str] = field(default_factory=dict)
    member_cols: tuple[str, ...] = ("no", "name", "role", "lead", "industry", "capital",
                                    "employees", "corpnum", "email")
    units_row: bool = False
    header_break: bool = False
    cost_layout: str = "flat"  # flat | grouped (小計 per STEP) | merged (STEP in a merged cell)
    blank_between: int = 0
    total_label: str = "合計"
    step: Callable[[int], str] = lambda n: f"STEP{n}"
    category: Callable[[str], str] = plain
    category_summary: bool = True
    notes: bool = False
    extra_cols: bool = False
    hidden_sheet: bool = False
    instructions_sheet: bool = False
    template_rows: int = 0  # numbered empty rows left in the cost table
    member_template_rows: int = 0  # numbered empty rows left in the member table
    name: Callable[[str], str] = plain  # how member names are written in the cost table
    shift: tuple[int, int] = (0, 0)  # every form sheet moved down/right (a margin row/column)
    blank_sheets: bool = False  # the empty Sheet2/Sheet3 Excel leaves behind
    example_sheet: bool = False  # the template's filled-in 記入例 sheet left first
    sum_formulas: bool = False  # totals are =SUM() formulas with their saved values
    by_member: bool = False  # cost rows sorted by member, not by STEP
    inline: bool = False  # 「コンソーシアム名：…」 label and value in one cell
    protected: bool = False  # every form sheet protected, as templates lock their labels
    group_header: bool = False  # a merged group-header row above the member table's headers


MEMBER_HEADERS = {"no": "No.", "name": "事業者名", "role": "区分", "lead": "幹事社",
                  "industry": "業種", "capital": "資本金(円)", "employees": "従業員数(人)",
                  "corpnum": "法人番号", "email": "担当者メールアドレス", "size": "企業規模"}
UNITS = {"capital": "(円)", "employees": "(人)"}
SUMMARY_ORDER = ("ソフトウェア購入費", "クラウドサービス利用費", "会議費", "旅費", "専門家経費",
                 "人件費", "委託費")


def _header(o: Opts, text: str) -> str:
    if o.header_break and "(" in text:
        return text.replace("(", "\n(")
    return text


def _field(sheet: Sheet, row: int, label: str, value: object, o: Opts) -> int:
    """Write one label/value pair starting at `row`; return the next free row."""
    if o.inline:
        if isinstance(value, dt.datetime):
            value = f"{value.year}年{value.month}月{value.day}日"
        elif isinstance(value, (int, float)):
            value = f"{value:,}円"
        sheet.put(row, 2, f"{o.deco(label)}：{value}")
        sheet.merge(row, 2, row, 8)
        return row + 1
    sheet.put(row, 2, o.deco(label))
    if o.below:
        sheet.put(row + 1, 2, value)
        return row + 2
    col = 3
    if o.label_merge:
        sheet.merge(row, 2, row, 3)
        col = 4
    if o.gap == "colon":
        sheet.put(row, col, "：")
        col += 1
    elif o.gap == "blank":
        col += 1
    sheet.put(row, col, value)
    sheet.merge(row, col, row, col + 2)
    return row + 1


def application(case: Case, o: Opts) -> list[Sheet]:
    s1, s2, s3 = (Sheet(n) for n in o.sheet_names)
    _application_sheet(s1, case, o)
    _plan_sheet(s2, case, o)
    _costs_sheet(s3, case, o)
    sheets = [(s1, s2, s3)[i] for i in o.order]
    if o.protected:
        for sheet in sheets:
            sheet.protected = True
    if o.shift != (0, 0):
        sheets = [_shifted(sh, *o.shift) for sh in sheets]
    if o.example_sheet:
        example = replace(case, consortium="〇〇連携コンソーシアム", members=tuple(
            replace(m, name=f"株式会社〇〇{i}", corpnum="1234567890123") for i, m in
            enumerate(case.members)), costs=())
        sample = Sheet("記入例")
        _application_sheet(sample, example, replace(o, sum_formulas=False))
        sheets.insert(0, sample)
    if o.blank_sheets:
        sheets += [Sheet("Sheet2"), Sheet("Sheet3")]
    if o.instructions_sheet:
        notes = Sheet("記入上の注意")
        notes.put(1, 1, "記入上の注意")
        notes.put(3, 1, "・黄色のセルに入力してください。")
        notes.put(4, 1, "・金額は円単位、税抜で記入してください。")
        notes.put(5, 1, "・構成員が足りない場合は行を追加してください。")
        sheets.insert(0, notes)
    if o.hidden_sheet:
        lists = Sheet("リスト", hidden=True)
        for i, v in enumerate(["中小ユーザ企業", "ITベンダ", "その他協力者"], start=1):
            lists.put(i, 1, v)
        for i, v in enumerate(SUMMARY_ORDER, start=1):
            lists.put(i, 2, v)
        for i in range(1, 5):
            lists.put(i, 3, f"STEP{i}")
        lists.put(1, 4, "○")
        sheets.append(lists)
    return sheets


def _shifted(sheet: Sheet, dr: int, dc: int) -> Sheet:
    return Sheet(sheet.title, {(r + dr, c + dc): v for (r, c), v in sheet.cells.items()},
                 [(a + dr, b + dc, c + dr, d + dc) for a, b, c, d in sheet.merges], sheet.hidden,
                 {(r + dr, c + dc): f for (r, c), f in sheet.formulas.items()})


def _application_sheet(s: Sheet, case: Case, o: Opts) -> None:
    row = 1
    if o.title_row:
        s.put(1, 1, "令和4年度 共創型サービスIT連携支援補助金 補助金交付申請書")
        s.merge(1, 1, 1, 10)
        s.put(2, 8, "様式第1")
        row = 3
    row = _field(s, row, "申請日", o.date(case.app_date), o)
    s.put(row, 2, "令和4年度「共創型サービスIT連携支援事業」事務局 御中")
    row += 2
    row = _field(s, row, "コンソーシアム名", case.consortium, o)
    lead = case.lead_name if case.lead_name is not None else next(
        (m.name for m in case.members if m.lead), case.members[0].name)
    row = _field(s, row, "幹事社名", lead, o)
    value_col = 3 + (1 if o.label_merge else 0) + (1 if o.gap else 0) if not o.below else 2
    eligible = o.money(case.eligible_total if case.eligible_total is not None else case.total())
    row = _field(s, row, "補助対象経費合計", eligible, o)
    req_row, req_col = row + (1 if o.below else 0), value_col
    row = _field(s, row, "補助金交付申請額", o.money(case.request_total()), o)
    if case.requested_formula:
        s.formulas[(req_row, req_col)] = case.requested_formula
    row += 1
    s.put(row, 1, "コンソーシアム構成員")
    row += 1
    cols = o.member_cols
    if o.group_header:
        s.put(row, 1, "構成員の概要")
        s.merge(row, 1, row, 4)
        s.put(row, 5, "企業規模の判定")
        s.merge(row, 5, row, len(cols))
        row += 1
    for j, key in enumerate(cols, start=1):
        s.put(row, j, _header(o, o.member_headers.get(key, MEMBER_HEADERS[key])))
    row += 1
    if o.units_row:
        for j, key in enumerate(cols, start=1):
            s.put(row, j, UNITS.get(key))
        row += 1
    for i, m in enumerate(case.members, start=1):
        values = {"no": i, "name": m.name, "role": m.role,
                  "lead": o.lead_yes if m.lead else o.lead_no, "industry": m.industry,
                  "capital": o.money(m.capital) if isinstance(m.capital, int) else m.capital,
                  "employees": o.count(m.employees) if isinstance(m.employees, int) else m.employees,
                  "corpnum": o.corpnum(m.corpnum) if m.corpnum else m.corpnum,
                  "email": m.email, "size": m.size}
        for j, key in enumerate(cols, start=1):
            s.put(row, j, values[key])
        row += 1
    for k in range(o.member_template_rows):
        s.put(row, 1, len(case.members) + k + 1)
        row += 1
    if o.notes:
        s.put(row + 1, 1, "※構成員が足りない場合は行を挿入してください。")
        s.put(row + 2, 1, "※資本金・従業員数は直近の決算時点の数値を記入。")


def _plan_sheet(s: Sheet, case: Case, o: Opts) -> None:
    row = 1
    if o.title_row:
        s.put(1, 1, "事業計画書")
        s.merge(1, 1, 1, 6)
        row = 3
    row = _field(s, row, "コンソーシアム名", case.plan_name or case.consortium, o)
    row = _field(s, row, "補助事業名", case.project_name, o)
    row = _field(s, row, "事業開始予定日", o.date(case.start), o)
    row = _field(s, row, "事業完了予定日", o.date(case.end), o)
    row += 1
    s.put(row, 1, "事業の目的・概要")
    s.put(row + 1, 1, "取引先とのEDI導入後、受発注・在庫・会計システム間をAPI連携し、転記作業を省力化する。")
    s.merge(row + 1, 1, row + 4, 6)
    row += 6
    s.put(row, 1, "実施スケジュール")
    for n, months in zip(range(1, 5), ["2022/10", "2022/10〜2022/11", "2022/11〜2022/12", "2023/01"], strict=True):
        s.put(row + n, 1, STEP_TITLES[n])
        s.put(row + n, 4, months)


def _cost_headers(o: Opts) -> list[str]:
    heads = ["No", "事業者名", "工程", "経費区分", "内容", "下請け発注", "補助対象経費(円)"]
    if o.extra_cols:
        heads = heads[:5] + ["発注先"] + heads[5:] + ["備考"]
    return [_header(o, h) for h in heads]


def _costs_sheet(s: Sheet, case: Case, o: Opts) -> None:
    row = 1
    if o.title_row:
        s.put(1, 1, "補助対象経費内訳書")
        s.merge(1, 1, 1, 7)
        row = 3
    heads = _cost_headers(o)
    amount_col = heads.index(_header(o, "補助対象経費(円)")) + 1
    for j, h in enumerate(heads, start=1):
        s.put(row, j, h)
    row += 1
    if o.units_row:
        s.put(row, amount_col, "(円)")
        row += 1
    n = 0
    groups = [[c for c in case.costs if c.step == step] for step in range(1, 5)]
    if o.by_member:
        order = [m.key for m in case.members]
        groups = [sorted(case.costs, key=lambda c: (order.index(c.member), c.step)), [], [], []]
    for step, lines in zip(range(1, 5), groups, strict=True):
        if not lines and o.cost_layout == "flat":
            continue
        if o.cost_layout in ("grouped",):
            s.put(row, 1, STEP_TITLES[step])
            s.merge(row, 1, row, len(heads))
            row += 1
        first = row
        for c in lines:
            n += 1
            values = [n, o.name(case.name_of(c.member)), o.step(c.step), o.category(c.category),
                      c.desc, o.sub_yes if c.sub else o.sub_no, o.money(c.amount)]
            if o.extra_cols:
                values = values[:5] + [""] + values[5:] + ["見積書あり"]
            if o.cost_layout == "merged" and row != first:
                values[2] = None
            for j, v in enumerate(values, start=1):
                s.put(row, j, v)
            row += 1
        if o.cost_layout == "merged" and len(lines) > 1:
            s.merge(first, 3, row - 1, 3)
        if o.cost_layout == "grouped":
            s.put(row, 2, "小計")
            s.put(row, amount_col, o.money(case.subtotal_override.get(
                step, sum(c.amount for c in lines))))
            row += 1
        row += o.blank_between
    for k in range(o.template_rows):
        s.put(row, 1, n + k + 1)
        s.put(row, amount_col, 0)
        row += 1
    total = case.cost_total if case.cost_total is not None else case.total()
    s.put(row, 1, o.total_label)
    s.merge(row, 1, row, amount_col - 1)
    s.put(row, amount_col, o.money(total))
    if o.sum_formulas and isinstance(o.money(total), (int, float)):
        letter = "ABCDEFGHIJ"[amount_col - 1]
        s.formulas[(row, amount_col)] = f"SUM({letter}4:{letter}{row - 1})"
    row += 1
    if o.notes:
        s.put(row + 1, 1, "※金額は税抜で記入してください。")
        s.put(row + 2, 1, "※ITベンダの下請け発注には「下請け発注」欄に○を付けてください。")
        row += 3
    if not o.category_summary:
        return
    row += 2
    s.put(row, 1, "経費区分別集計")
    s.put(row + 1, 1, "経費区分")
    s.put(row + 1, 4, _header(o, "補助対象経費(円)"))
    row += 2
    for cat in SUMMARY_ORDER:
        amount = sum(c.amount for c in case.costs if _head(c.category) == cat)
        s.put(row, 1, cat)
        s.merge(row, 1, row, 3)
        s.put(row, 4, o.money(amount))
        row += 1
    s.put(row, 1, o.total_label)
    s.put(row, 4, o.money(total))


def _head(category: str) -> str:
    for cat in SUMMARY_ORDER:
        if category.replace("\n", "").startswith(cat):
            return cat
    return category


# --- 事業者情報入力シート and 提出書類チェックリスト ------------------------------------------------

def member_info(case: Case, corpnums: dict[str, object] | None = None,
                names: Callable[[str], str] = plain, decorated: bool = False) -> list[Sheet]:
    s = Sheet("事業者情報入力シート")
    s.put(1, 1, "令和4年度 事業者情報入力シート")
    s.put(3, 1, "【コンソーシアム名】" if decorated else "コンソーシアム名")
    s.put(3, 3 if decorated else 2, case.consortium)
    heads = ["No", "事業者名", "区分", "法人番号", "代表者氏名", "本社所在地", "業種",
             "資本金(円)", "従業員数", "設立年月日", "担当者メールアドレス", "補助対象経費(円)",
             "補助金申請額(円)"]
    for j, h in enumerate(heads, start=1):
        s.put(5, j, h)
    row = 6
    counted = [m for m in case.members if m.counts]
    for i, m in enumerate(counted, start=1):
        num = (corpnums or {}).get(m.key, m.corpnum)
        values = [i, names(m.name), m.role, num, m.rep, m.address, m.industry, m.capital,
                  m.employees, m.established, m.email, case.member_cost(m.key),
                  case.member_request(m.key)]
        for j, v in enumerate(values, start=1):
            s.put(row, j, v)
        row += 1
    s.put(row, 1, "合計")
    s.put(row, 12, sum(case.member_cost(m.key) for m in counted))
    s.put(row, 13, sum(case.member_request(m.key) for m in counted))
    return [s]


CHECKLIST_ITEMS = ["4. 補助金交付申請書・事業計画書・補助対象経費内訳書", "5. 補助事業概要書",
                   "6. 事業者情報入力シート", "7. 誓約書(構成員ごと)", "8. 提出書類チェックリスト",
                   "履歴事項全部証明書(3か月以内に発行されたもの)", "納税証明書(構成員ごと)"]


def checklist(case: Case, tick: str = "✓", unticked: int | None = None) -> list[Sheet]:
    s = Sheet("提出書類チェックリスト")
    s.put(1, 1, "提出書類チェックリスト")
    s.put(3, 1, "コンソーシアム名")
    s.put(3, 2, case.consortium)
    for j, h in enumerate(["No", "提出書類", "チェック", "備考"], start=1):
        s.put(5, j, h)
    for i, item in enumerate(CHECKLIST_ITEMS, start=1):
        s.put(5 + i, 1, i)
        s.put(5 + i, 2, item)
        s.put(5 + i, 3, None if i == unticked else tick)
    return [s]


def with_member(case: Case, key: str, **changes: object) -> Case:
    members = tuple(replace(m, **changes) if m.key == key else m for m in case.members)
    return replace(case, members=members)
