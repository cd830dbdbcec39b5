"""The three forms of a consortium (application workbook, 事業者情報入力シート, checklist) and a
whole submission zip, drawn the way one applicant's Style says; amounts and members from a Plan."""

from __future__ import annotations

import datetime as dt
import io
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from tests.corpus2_books import C, Sheet, _col, to_xlsx

# --------------------------------------------------------------------------- the consortium


def corporate_number(base12: str) -> str:
    """A 法人番号 whose first digit is the check digit of the other twelve."""
    digits = [int(ch) for ch in reversed(base12)]
    total = sum(d * (1 if i % 2 == 0 else 2) for i, d in enumerate(digits))
    return f"{9 - total % 9}{base12}"


@dataclass
class Member:
    name: str
    role: str  # 中小ユーザ企業 / ITベンダ / その他協力者
    industry: str
    capital: int | None
    employees: int
    corp: str | None
    rep: str
    addr: str
    email: str
    est: str
    lead: bool = False


@dataclass
class Cost:
    who: int  # index into members
    step: int
    category: str
    desc: str
    amount: int
    sub: bool = False


@dataclass
class Plan:
    consortium: str
    project: str
    app_date: dt.date
    start: dt.date
    end: dt.date
    members: list[Member]
    costs: list[Cost]
    requested: int
    stated_total: int | None = None  # when a form states a total other than the parts' sum

    @property
    def total(self) -> int:
        return sum(c.amount for c in self.costs)

    def eligible_of(self, i: int) -> int:
        return sum(c.amount for c in self.costs if c.who == i)

    def requested_of(self) -> list[int]:
        """Each member's share of the request (proportional, remainder to the lead)."""
        counted = [i for i, m in enumerate(self.members) if self.eligible_of(i)]
        shares = {i: self.eligible_of(i) * self.requested // self.total for i in counted}
        lead = next(i for i, m in enumerate(self.members) if m.lead)
        shares[lead] = shares.get(lead, 0) + self.requested - sum(shares.values())
        return [shares.get(i, 0) for i in range(len(self.members))]

    def by_category(self) -> dict[str, int]:
        out: dict[str, int] = {}
        for c in self.costs:
            out[c.category] = out.get(c.category, 0) + c.amount
        return out


CATEGORIES = ["ソフトウェア購入費", "クラウドサービス利用費", "会議費", "旅費", "専門家経費", "人件費", "委託費"]
STEP_NAMES = {
    1: "STEP1 ITツールの購入・設定",
    2: "STEP2 要件定義",
    3: "STEP3 設計・開発〜システムテスト",
    4: "STEP4 受入テスト・研修",
}


def base_plan() -> Plan:
    """Four members (2 SME users, 2 vendors); every rule far inside its line."""
    members = [
        Member(
            "株式会社北斗食品",
            "中小ユーザ企業",
            "食料品製造業",
            30_000_000,
            85,
            corporate_number("430001012345"),
            "代表取締役 北村 健",
            "北海道札幌市中央区北一条西2-1",
            "kitamura@hokuto-foods.example.jp",
            "昭和58年5月10日",
            lead=True,
        ),
        Member(
            "合同会社あおば薬局",
            "中小ユーザ企業",
            "小売業",
            5_000_000,
            12,
            corporate_number("430003067890"),
            "代表社員 青葉 美咲",
            "北海道札幌市北区北七条西5-3",
            "aoba@aoba-pharmacy.example.jp",
            "2011/04/01",
        ),
        Member(
            "株式会社ネクサスソフト",
            "ITベンダ",
            "ソフトウェア業",
            90_000_000,
            210,
            corporate_number("010001055555"),
            "代表取締役社長 中村 亮",
            "東京都港区芝公園1-2-3",
            "nakamura@nexus-soft.example.co.jp",
            "平成15年7月1日",
        ),
        Member(
            "有限会社データリンク工房",
            "ITベンダ",
            "情報処理サービス業",
            10_000_000,
            25,
            corporate_number("430002024680"),
            "取締役 堤 和也",
            "北海道札幌市白石区本通3-4-5",
            "tsutsumi@datalink-kobo.example.jp",
            "2005-10-03",
        ),
    ]
    costs = [
        Cost(0, 1, "ソフトウェア購入費", "生産管理パッケージ ライセンス・初期設定", 4_000_000),
        Cost(1, 1, "クラウドサービス利用費", "クラウド在庫管理 12か月利用料", 1_000_000),
        Cost(0, 2, "委託費", "要件定義の委託(ネクサスソフト)", 3_000_000),
        Cost(0, 2, "人件費", "要件定義 社内工数", 800_000),
        Cost(1, 2, "会議費", "要件定義会議 会場費", 200_000),
        Cost(2, 2, "旅費", "要件定義打合せ 札幌出張", 150_000),
        Cost(2, 3, "人件費", "API連携機能の設計・開発", 9_000_000),
        Cost(2, 3, "委託費", "結合テストの下請け発注", 2_000_000, sub=True),
        Cost(3, 3, "人件費", "連携基盤の開発・システムテスト", 6_000_000),
        Cost(1, 4, "人件費", "受入テスト 社内工数", 400_000),
        Cost(1, 4, "委託費", "利用者研修の委託(データリンク工房)", 1_000_000),
        Cost(3, 4, "人件費", "受入テスト支援・研修", 1_450_000),
    ]
    return Plan(
        "北斗フードDX連携コンソーシアム",
        "受発注・在庫・会計のAPI連携による手作業の削減",
        dt.date(2022, 8, 25),
        dt.date(2022, 10, 17),
        dt.date(2023, 1, 27),
        members,
        costs,
        requested=18_000_000,
    )


COLLABORATOR = Member(
    "佐藤経営研究所",
    "その他協力者",
    "経営コンサルタント業",
    None,
    1,
    None,
    "佐藤 一郎",
    "北海道札幌市中央区大通西4",
    "sato@sato-keiei.example.jp",
    "2010/01/04",
)


# --------------------------------------------------------------------------- how a cell is written


def yen(v: int) -> Any:
    return v


def yen_comma(v: int) -> Any:
    return f"{v:,}"


def yen_suffix(v: int) -> Any:
    return f"{v:,}円"


def yen_fullwidth(v: int) -> Any:
    return f"{v:,}円".translate(str.maketrans("0123456789,", "０１２３４５６７８９，"))


def yen_man(v: int) -> Any:
    return f"{v // 10_000:,}万円" if v % 10_000 == 0 else f"{v:,}円"


def yen_quoted(v: int) -> Any:
    return C(str(v), quote=True)


def era(d: dt.date) -> str:
    if d >= dt.date(2019, 5, 1):
        return f"令和{d.year - 2018}年{d.month}月{d.day}日"
    return f"平成{d.year - 1988}年{d.month}月{d.day}日"


@dataclass
class Style:
    """Choices one applicant makes throughout one workbook."""

    money: Callable[[int], Any] = yen
    date: Callable[[dt.date], Any] = lambda d: d
    thousand: bool = False  # amounts in 千円 with a 「（単位：千円）」 note
    sheet_names: tuple[str, str, str] = ("交付申請書", "事業計画書", "補助対象経費内訳書")
    top: int = 1  # first row used on every sheet
    left: int = 1  # first column used
    spacer: bool = False  # a blank column between label and value
    colon: bool = False  # a 「：」 cell between label and value
    yen_cell: bool = False  # a separate 「円」 cell after each key amount
    label: Callable[[str], Any] = lambda s: s
    name_of: Callable[[int, str], Any] = lambda i, s: s  # member name as written in the table
    repeat: str | None = None  # 〃 / 同上 for a repeated member name in the cost table
    role: Callable[[str], str] = lambda s: s
    step: Callable[[int], Any] = lambda n: f"STEP{n}"
    category: Callable[[str], str] = lambda s: s
    lead_mark: tuple[Any, Any] = ("○", None)
    corp: Callable[[str], Any] = lambda s: s
    email: Callable[[str], Any] = lambda s: s
    employees: Callable[[int], Any] = lambda n: n
    capital: Callable[[int], Any] | None = None  # default: money
    members_layout: str = "table"  # table / blocks / split
    costs_layout: str = "table"  # table / transposed
    total_above: bool = False
    summary: bool = True
    extra_member_col: bool = False  # a フリガナ column inserted between existing ones
    pct_col: bool = False
    decorate: Callable[[list[Sheet]], None] | None = None  # freeze panes, validations, ...
    corp_col: bool = True
    size_col: bool = False
    instructions: int = 0  # rows of 記入上の注意 before the forms start
    head: Callable[[str], str] = lambda h: h  # header text as the template prints it
    cost_name: Callable[[int, str], Any] | None = None  # member name in the cost table (default name_of)
    merge_names: bool = False  # one member's cost rows share a vertically merged name cell
    by_member: bool = False  # cost rows grouped by member
    subtotals: bool = False  # a 小計 row after each member's cost rows
    member_gap: bool = False  # a blank row after every member row
    group_header: bool = False  # a merged 「企業情報」 header row above the member headers
    lead_in_name: bool = False  # no 幹事社 column; the lead's name carries 「（幹事社）」
    sub_mark: tuple[Any, Any] = ("○", None)
    total_label: str = "合計"
    formulas: bool = False  # totals saved as SUM formulas with their cached results
    tax_cols: bool = False  # 事業費(税込) and 補助対象外経費 columns beside 補助対象経費
    rate_row: bool = False  # a 補助率 row in the 交付申請書
    summary_zero: Any = 0  # how an unused category's amount is written in the summary
    member_order: tuple[int, ...] | None = None
    unit_note: str | None = None  # a unit note without scaling (display formats do the scaling)
    summary_beside: bool = False  # the category summary to the right of the cost table
    blank_rows: int = 0  # numbered empty template rows left under the member and cost tables
    total_merged: bool = False  # the 合計 label merged over the non-amount columns
    merge_steps: bool = False  # one STEP's cost rows share a vertically merged 工程 cell
    name_formulas: bool = False  # cost-table member names are lookup formulas (cached results)
    error_cells: bool = False  # a 構成比 column whose total row holds #DIV/0!
    lead_col: bool = True  # False: no 幹事社 column at all; the 幹事社名 field alone names the lead
    price_cols: bool = False  # 単価/数量/単位 columns before the amount (人件費 as hours × 5,000円)
    ditto_all: bool = False  # 〃 also for a 工程 or 経費区分 repeated from the row above
    furigana_rows: bool = False  # two rows per member: reading above the name, other cells merged
    role_ticks: bool = False  # 区分 as three tick columns 中小ユーザ企業 / ITベンダ / その他協力者
    lead_by_no: bool = False  # the No column reads 幹事社 / 構成員1 … instead of numbers
    kv_money: Callable[[int], Any] | None = None  # how the 交付申請書's key amounts are written


def _amount(st: Style, v: int) -> Any:
    if st.thousand:
        return st.money(v // 1000) if v % 1000 == 0 else v / 1000
    return st.money(v)


def _kv(sh: Sheet, st: Style, r: int, label: str, value: Any, yen_unit: bool = False) -> None:
    c = st.left
    sh.put(r, c, st.label(label))
    c += 1
    if st.spacer:
        c += 1
    if st.colon:
        sh.put(r, c, "：")
        c += 1
    sh.put(r, c, value)
    if yen_unit and st.yen_cell:
        sh.put(r, c + 1, "千円" if st.thousand else "円")


def _instructions(sh: Sheet, st: Style) -> int:
    """An instructions block above the form (as templates ship); returns the next free row."""
    r = st.top
    notes = [
        "【記入上の注意】",
        "1. 黄色のセルに入力してください。行が足りない場合は行を挿入してください。",
        "2. 金額は税抜で記入し、1円未満は切り捨ててください。",
        "3. 構成員は幹事社を先頭に記入してください。",
        "4. 提出前に入力漏れがないか確認してください。",
    ]
    for i in range(st.instructions):
        sh.put(r + i, st.left, notes[i % len(notes)] if i < len(notes) else None)
    return r + st.instructions


def application(plan: Plan, st: Style) -> list[Sheet]:
    s1, s2, s3 = (Sheet(n) for n in st.sheet_names)
    L = st.left
    # 交付申請書 ------------------------------------------------------------------
    r = _instructions(s1, st)
    s1.put(r, L, "令和4年度 共創型サービスIT連携支援補助金 補助金交付申請書")
    s1.put(r + 1, L + 5, st.label("申請日"))
    s1.put(r + 1, L + 6, st.date(plan.app_date))
    s1.put(r + 2, L, "令和4年度「共創型サービスIT連携支援事業」事務局 御中")
    if st.thousand:
        s1.put(r + 3, L + 5, "（単位：千円）")
    total = plan.stated_total if plan.stated_total is not None else plan.total
    _kv(s1, st, r + 4, "コンソーシアム名", plan.consortium)
    lead = next(m for m in plan.members if m.lead)
    _kv(s1, st, r + 5, "幹事社名", st.name_of(-1, lead.name))
    if st.unit_note:
        s1.put(r + 3, L + 5, st.unit_note)
    if st.tax_cols:
        _kv(s1, st, r + 6, "総事業費(税込)", _amount(st, total * 11 // 10), True)
        _kv(s1, st, r + 7, "補助対象外経費", _amount(st, total // 10), True)
        r += 2
    key = st.kv_money or (lambda v: _amount(st, v))
    _kv(s1, st, r + 6, "補助対象経費合計", key(total), True)
    _kv(s1, st, r + 7, "補助金交付申請額", key(plan.requested), True)
    if st.rate_row:
        _kv(s1, st, r + 8, "補助率", C(round(plan.requested / total, 4), fmt="0.0%"))
        r += 1
    _members(s1, plan, st, r + 9)
    # 事業計画書 ------------------------------------------------------------------
    r = _instructions(s2, st)
    s2.put(r, L, "事業計画書")
    _kv(s2, st, r + 2, "コンソーシアム名", plan.consortium)
    _kv(s2, st, r + 3, "補助事業名", plan.project)
    _kv(s2, st, r + 4, "事業開始予定日", st.date(plan.start))
    _kv(s2, st, r + 5, "事業完了予定日", st.date(plan.end))
    s2.put(r + 7, L, "事業の目的・概要")
    s2.put(
        r + 8, L, C("受発注管理・在庫管理・会計の各システムをAPIで連携し、\n転記と照合の手作業をなくす。", wrap=True)
    )
    for i, n in enumerate(range(1, 5)):
        s2.put(r + 10 + i, L, STEP_NAMES[n])
        s2.put(r + 10 + i, L + 3, ["2022/10〜11", "2022/10〜11", "2022/11〜12", "2023/01"][i])
    # 補助対象経費内訳書 ---------------------------------------------------------------
    _costs(s3, plan, st)
    sheets = [s1, s2, s3]
    if st.members_layout == "split":
        sheets.insert(1, s1.__dict__.pop("_continued"))
    if st.decorate:
        st.decorate(sheets)
    return sheets


def _member_cols(st: Style) -> list[str]:
    cols = ["事業者名"]
    if st.extra_member_col:
        cols.append("フリガナ")
    cols += ROLE_TICKS if st.role_ticks else ["区分"]
    cols += [] if st.lead_in_name or not st.lead_col else ["幹事社"]
    cols += ["業種", "資本金(千円)" if st.thousand else "資本金(円)", "従業員数(人)"]
    if st.corp_col:
        cols.append("法人番号")
    cols.append("担当者メールアドレス")
    if st.size_col:
        cols.append("企業規模")
    return cols


ROLE_TICKS = ["中小ユーザ企業", "ITベンダ", "その他協力者"]
READINGS = {
    "株式会社北斗食品": "カブシキガイシャホクトショクヒン",
    "合同会社あおば薬局": "ゴウドウガイシャアオバヤッキョク",
    "株式会社ネクサスソフト": "カブシキガイシャネクサスソフト",
    "有限会社データリンク工房": "ユウゲンガイシャデータリンクコウボウ",
}


def _member_values(plan: Plan, st: Style, i: int, m: Member) -> dict[str, Any]:
    cap_fmt = st.capital or (lambda v: _amount(st, v))
    return {
        "事業者名": st.name_of(i, m.name) + ("（幹事社）" if st.lead_in_name and m.lead else ""),
        "フリガナ": "カブシキガイシャ",
        "区分": st.role(m.role),
        **{role: "○" if m.role == role else None for role in ROLE_TICKS},
        "幹事社": st.lead_mark[0] if m.lead else st.lead_mark[1],
        "業種": m.industry,
        "資本金": "－" if m.capital is None else cap_fmt(m.capital),
        "従業員数": st.employees(m.employees),
        "法人番号": "－" if m.corp is None else st.corp(m.corp),
        "担当者メールアドレス": st.email(m.email),
        "企業規模": "中小企業" if m.role != "その他協力者" else None,
    }


def _members(sh: Sheet, plan: Plan, st: Style, r: int) -> None:
    L = st.left
    sh.put(r, L, "コンソーシアム構成員")
    cols = _member_cols(st)
    if st.members_layout == "blocks":
        r += 1
        for i, m in enumerate(plan.members):
            vals = _member_values(plan, st, i, m)
            sh.put(r, L, f"構成員{i + 1}")
            r += 1
            for col in cols:
                key = col.split("(")[0]
                sh.put(r, L + 1, col)
                sh.put(r, L + 2, vals[key])
                r += 1
            r += 1
        return
    if st.members_layout == "columns":
        for j, col in enumerate(["No"] + cols):
            sh.put(r + 1 + j, L, st.head(col))
            for i, m in enumerate(plan.members):
                vals = _member_values(plan, st, i, m)
                sh.put(r + 1 + j, L + 1 + i, i + 1 if col == "No" else vals[col.split("(")[0]])
        return
    split_at = 2 if st.members_layout == "split" else len(plan.members)
    target = sh
    for k, part in enumerate((plan.members[:split_at], plan.members[split_at:])):
        if not part:
            break
        if k == 1:
            target = Sheet(f"{sh.title}(続き)")
            sh.__dict__["_continued"] = target
            r = st.top
            target.put(r, L, "コンソーシアム構成員(続き)")
        if st.group_header:
            first = 1 + cols.index("業種")
            target.put(r + 1, L + first, "企業情報")
            target.merges.append((r + 1, L + first, r + 1, L + first + 2))
            r += 1
        target.row(r + 1, L, ["No"] + [st.head(c) for c in cols])
        rr = r + 2
        order = [plan.members[i] for i in st.member_order] if st.member_order else plan.members
        for m in [m for m in order if m in part]:
            i = plan.members.index(m)
            vals = _member_values(plan, st, i, m)
            no: Any = i + 1
            if st.lead_by_no:
                no = "幹事社" if m.lead else f"構成員{sum(1 for x in plan.members[:i] if not x.lead) + 1}"
            target.row(rr, L, [no] + [vals[c.split("(")[0]] for c in cols])
            if st.furigana_rows:
                target.put(rr, L + 1, READINGS.get(m.name, "フリガナ"))
                target.put(rr + 1, L + 1, vals["事業者名"])
                target.merges += [(rr, L + j, rr + 1, L + j) for j in range(len(cols) + 1) if j != 1]
                rr += 1
            rr += 2 if st.member_gap else 1
    for n in range(st.blank_rows):
        sh.put(rr + n, L, len(plan.members) + 1 + n)


def _costs(sh: Sheet, plan: Plan, st: Style) -> None:
    L = st.left
    r = _instructions(sh, st)
    sh.put(r, L, "補助対象経費内訳書")
    if st.thousand:
        sh.put(r + 1, L + 5, "（単位：千円）")
    total = plan.stated_total if plan.stated_total is not None else plan.total
    r += 2
    if st.costs_layout == "transposed":
        head = ["事業者名", "経費区分", "下請け発注"] + [STEP_NAMES[n] for n in range(1, 5)] + ["合計"]
        sh.row(r, L, head)
        rows: dict[tuple[int, str], dict[int, int]] = {}
        subs: dict[tuple[int, str], bool] = {}
        for c in plan.costs:
            rows.setdefault((c.who, c.category), {}).setdefault(c.step, 0)
            rows[(c.who, c.category)][c.step] += c.amount
            subs[(c.who, c.category)] = subs.get((c.who, c.category), False) or c.sub
        rr = r + 1
        for (who, cat), steps in rows.items():
            sh.row(
                rr,
                L,
                [st.name_of(who, plan.members[who].name), st.category(cat), "○" if subs[(who, cat)] else None]
                + [_amount(st, steps[n]) if n in steps else None for n in range(1, 5)]
                + [_amount(st, sum(steps.values()))],
            )
            rr += 1
        step_tot = [sum(c.amount for c in plan.costs if c.step == n) for n in range(1, 5)]
        sh.row(rr, L, ["合計", None, None] + [_amount(st, v) for v in step_tot] + [_amount(st, total)])
        r = rr + 2
    else:
        head_row = r + (1 if st.total_above else 0)
        r = _cost_table(sh, plan, st, r, total)
        if st.summary_beside:
            r, L = head_row - 1, L + 10
    if st.summary:
        sh.put(r, L, "経費区分別集計")
        sh.row(r + 1, L, ["経費区分", "補助対象経費(千円)" if st.thousand else "補助対象経費(円)"])
        rr = r + 2
        cats = plan.by_category()
        first = rr
        for cat in CATEGORIES:
            sh.row(rr, L, [st.category(cat), _amount(st, cats[cat]) if cat in cats else st.summary_zero])
            rr += 1
        col = _col(L + 1)
        sh.row(rr, L, [st.total_label, _total(st, total, f"SUM({col}{first}:{col}{rr - 1})")])


def _total(st: Style, value: int, formula: str) -> Any:
    amount = _amount(st, value)
    return C(amount, formula=formula) if st.formulas and isinstance(amount, int) else amount


def _cost_table(sh: Sheet, plan: Plan, st: Style, r: int, total: int) -> int:
    """The usual one-row-per-cost table; returns the first free row after it."""
    L = st.left
    amount_head = "補助対象経費(千円)" if st.thousand else "補助対象経費(円)"
    cols = ["No", "工程", "事業者名", "経費区分", "内容", "下請け発注"]
    if st.tax_cols:
        cols += ["事業費(税込・円)", "補助対象外経費(円)"]
    if st.price_cols:
        cols += ["単価(円)", "数量", "単位"]
    cols.append(amount_head)
    if st.pct_col:
        cols.append("構成比")
    ai = cols.index(amount_head)
    acol = _col(L + ai)
    name_col = L + 2
    cost_name = st.cost_name or st.name_of
    order = list(enumerate(plan.costs))
    if st.by_member:
        order.sort(key=lambda kc: (kc[1].who, kc[1].step, kc[0]))

    def total_row(row: int, label: str, value: int, formula: str | None) -> None:
        vals: list[Any] = [label] + [None] * (len(cols) - 1)
        vals[ai] = _total(st, value, formula) if formula else _amount(st, value)
        if st.total_merged:
            sh.merges.append((row, L, row, L + ai - 1 - (2 if st.tax_cols else 0)))
        if st.tax_cols:
            vals[cols.index("事業費(税込・円)")] = _amount(st, value * 11 // 10)
            vals[cols.index("補助対象外経費(円)")] = _amount(st, value // 10)
        sh.row(row, L, vals)
        if st.pct_col:
            pct = C("#DIV/0!", formula=f"{_col(L + ai)}{row}/0") if st.error_cells else None
            sh.put(row, L + ai + 1, pct or C(round(value / plan.total, 4), fmt="0.0%"))

    if st.total_above:
        total_row(r, st.total_label, total, None)
        r += 1
    sh.row(r, L, [st.head(h) for h in cols])
    rr = r + 1
    first = rr
    prev: int | None = None
    group_start = rr
    for k, (_n, c) in enumerate(order):
        if prev is not None and c.who != prev:
            if st.merge_names and rr - 1 > group_start:
                sh.merges.append((group_start, name_col, rr - 1, name_col))
            if st.subtotals:
                total_row(rr, "小計", plan.eligible_of(prev), None)
                rr += 1
            group_start = rr
        name: Any = cost_name(c.who, plan.members[c.who].name)
        if st.name_formulas:
            name = C(name, formula=f"VLOOKUP({c.who + 1},構成員一覧,2,FALSE)")
        if prev == c.who and (st.repeat or st.merge_names):
            name = st.repeat if st.repeat else None
        prev = c.who
        step: Any = st.step(c.step)
        if st.merge_steps:
            if k and order[k - 1][1].step == c.step:
                step = None
            else:
                last = max(j for j, (_m, d) in enumerate(order) if d.step == c.step)
                if last > k:
                    sh.merges.append((rr, L + 1, rr + last - k, L + 1))
        vals = [
            k + 1,
            step,
            name,
            st.category(c.category),
            c.desc,
            st.sub_mark[0] if c.sub else st.sub_mark[1],
        ]
        if st.tax_cols:
            vals += [_amount(st, c.amount * 11 // 10), _amount(st, c.amount // 10)]
        if st.price_cols:
            if c.category == "人件費" and c.amount % 5000 == 0:
                vals += [5000, c.amount // 5000, "時間"]
            else:
                vals += [_amount(st, c.amount), 1, "式"]
        if st.ditto_all and k:
            before = order[k - 1][1]
            if before.step == c.step:
                vals[1] = "〃"
            if before.category == c.category:
                vals[3] = "〃"
        vals.append(_amount(st, c.amount))
        if st.pct_col:
            vals.append(C(round(c.amount / plan.total, 4), fmt="0.0%"))
        sh.row(rr, L, vals)
        if st.yen_cell:
            sh.put(rr, L + len(cols), "千円" if st.thousand else "円")
        rr += 1
    for n in range(st.blank_rows):
        sh.put(rr, L, len(order) + 1 + n)
        rr += 1
    if prev is not None:
        if st.merge_names and rr - 1 > group_start:
            sh.merges.append((group_start, name_col, rr - 1, name_col))
        if st.subtotals:
            total_row(rr, "小計", plan.eligible_of(prev), None)
            rr += 1
    if not st.total_above:
        formula = None if st.subtotals else f"SUM({acol}{first}:{acol}{rr - 1})"
        total_row(rr, st.total_label, total, formula)
        rr += 1
    return rr + 1


def member_info(
    plan: Plan, st: Style, consortium: str | None = None, requested: list[int] | None = None, transposed: bool = False
) -> list[Sheet]:
    sh = Sheet("事業者情報入力シート" if st.sheet_names[0] == "交付申請書" else "Members")
    L = st.left
    r = st.top
    sh.put(r, L, "令和4年度 事業者情報入力シート")
    _kv(sh, st, r + 2, "コンソーシアム名", consortium or plan.consortium)
    req = requested or plan.requested_of()
    heads = [
        "事業者名",
        "区分",
        "法人番号",
        "代表者氏名",
        "所在地",
        "業種",
        "資本金(円)",
        "従業員数",
        "設立年月日",
        "担当者メールアドレス",
        "補助対象経費(円)",
        "補助金申請額(円)",
    ]
    rows = []
    for i, m in enumerate(plan.members):
        rows.append(
            [
                st.name_of(i, m.name),
                st.role(m.role),
                "－" if m.corp is None else st.corp(m.corp),
                m.rep,
                m.addr,
                m.industry,
                "－" if m.capital is None else st.money(m.capital),
                st.employees(m.employees),
                m.est,
                st.email(m.email),
                st.money(plan.eligible_of(i)),
                st.money(req[i]),
            ]
        )
    tot = ["合計"] + [None] * 9 + [st.money(plan.total), st.money(sum(req))]
    if transposed:
        for j, h in enumerate(heads):
            sh.put(r + 4 + j, L, h)
            for i, row in enumerate(rows):
                sh.put(r + 4 + j, L + 1 + i, row[j])
        return [sh]
    sh.row(r + 4, L, heads)
    for i, row in enumerate(rows):
        sh.row(r + 5 + i, L, row)
    sh.row(r + 5 + len(rows), L, tot)
    return [sh]


def member_info_sheets(plan: Plan, st: Style, requested: list[int] | None = None) -> list[Sheet]:
    """The 事業者情報入力シート as one key-value sheet per member, as many programs issue it."""
    req = requested or plan.requested_of()
    sheets = []
    for i, m in enumerate(plan.members):
        sh = Sheet(f"事業者情報入力シート({i + 1})")
        sh.put(1, 1, f"令和4年度 事業者情報入力シート（構成員{i + 1}）")
        rows = [
            ("コンソーシアム名", plan.consortium),
            ("事業者名", st.name_of(i, m.name)),
            ("区分", st.role(m.role)),
            ("法人番号", "－" if m.corp is None else st.corp(m.corp)),
            ("代表者氏名", m.rep),
            ("所在地", m.addr),
            ("業種", m.industry),
            ("資本金(円)", "－" if m.capital is None else st.money(m.capital)),
            ("従業員数", st.employees(m.employees)),
            ("設立年月日", m.est),
            ("担当者メールアドレス", st.email(m.email)),
            ("補助対象経費(円)", st.money(plan.eligible_of(i))),
            ("補助金申請額(円)", st.money(req[i])),
        ]
        for j, (label, value) in enumerate(rows):
            sh.row(3 + j, 1, [label, value])
        sheets.append(sh)
    return sheets


CHECK_ITEMS = [
    "4. 補助金交付申請書・事業計画書・補助対象経費内訳書",
    "5. 補助事業概要書",
    "6. 事業者情報入力シート",
    "7. 誓約書(構成員ごと)",
    "8. 提出書類チェックリスト",
    "履歴事項全部証明書(3か月以内に発行されたもの)",
    "納税証明書(構成員ごと)",
]


def checklist(
    plan: Plan,
    marks: list[Any],
    consortium: str | None = None,
    inline: bool = False,
    items: list[str] | None = None,
    extra: list[tuple[str, Any]] | None = None,
) -> list[Sheet]:
    """inline: the tick replaces the □ printed before each item's text (「■4. 補助金…」)."""
    sh = Sheet("提出書類チェックリスト")
    sh.put(1, 1, "令和4年度 提出書類チェックリスト")
    sh.put(3, 1, "コンソーシアム名")
    sh.put(3, 2, consortium or plan.consortium)
    sh.row(5, 1, ["No", "提出書類", "チェック欄", "備考"])
    rows = list(zip(items or CHECK_ITEMS, marks, strict=True)) + (extra or [])
    for i, (item, mark) in enumerate(rows):
        sh.row(6 + i, 1, [i + 1, f"{mark}{item}", None] if inline else [i + 1, item, mark])
    sh.validations.append((f"C6:C{5 + len(CHECK_ITEMS)}", '"☑,☐"'))
    return [sh]


def _pdf(text: str) -> bytes:
    """A one-page PDF whose only text is ASCII (recognition by file name)."""
    stream = f"BT /F1 12 Tf 72 720 Td ({text}) Tj ET".encode()
    objs = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Resources << /Font << /F1 5 0 R >> >>"
        b" /Contents 4 0 R >>",
        b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    out = io.BytesIO()
    out.write(b"%PDF-1.4\n")
    offs = []
    for i, o in enumerate(objs):
        offs.append(out.tell())
        out.write(b"%d 0 obj\n" % (i + 1) + o + b"\nendobj\n")
    x = out.tell()
    out.write(b"xref\n0 %d\n0000000000 65535 f \n" % (len(objs) + 1))
    for o in offs:
        out.write(b"%010d 00000 n \n" % o)
    out.write(b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objs) + 1, x))
    return out.getvalue()


def submission(
    plan: Plan,
    st: Style,
    *,
    mi: list[Sheet] | None = None,
    cl: list[Sheet] | None = None,
    app: list[Sheet] | None = None,
) -> bytes:
    """A whole submission zip as a lead sends it: forms plus per-member PDFs."""
    buf = io.BytesIO()
    stamp = (2022, 8, 25, 10, 0, 0)
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:

        def add(name: str, data: bytes) -> None:
            z.writestr(zipfile.ZipInfo(f"提出書類/{name}", stamp), data)

        add("04_交付申請書.xlsx", to_xlsx(app or application(plan, st)))
        add("05_補助事業概要書.pdf", _pdf("overview"))
        add("06_事業者情報入力シート.xlsx", to_xlsx(mi or member_info(plan, st)))
        add("08_提出書類チェックリスト.xlsx", to_xlsx(cl or checklist(plan, ["☑"] * 7)))
        for m in plan.members:
            if m.role == "その他協力者":
                continue
            short = m.name.replace("株式会社", "").replace("合同会社", "").replace("有限会社", "")
            add(f"07_誓約書_{short}.pdf", _pdf("pledge"))
            add(f"履歴事項全部証明書_{short}.pdf", _pdf("registry"))
            add(f"納税証明書_{short}.pdf", _pdf("tax"))
    return buf.getvalue()
