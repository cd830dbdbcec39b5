"""Application workbooks filled the way people fill them in Excel, each with its expected codes.

Written apart from examples/make_forms.py (different members, numbers and layout) so that tests
built on it test the reader, not the writer it was made with. One consortium — 北斗DX共創
コンソーシアム, valid as written — and `Habits` that change how it is laid out and typed: sheet
names 様式1…, decorated labels, spacer and 「：」 cells, units rows, 小計 rows and blank rows
between STEPs, totals labelled 総合計/計, dashes for "no", 金…円, full-width digits, 和暦 and
serial dates, and the formats .xls and .ods besides .xlsx.
"""

from __future__ import annotations

import io
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import date
from typing import Any
from xml.sax.saxutils import escape

from rules.corporate_number import check_digit


def corporate_number(base: str) -> str:
    return f"{check_digit(base)}{base}"


CONSORTIUM = "北斗DX共創コンソーシアム"


@dataclass
class Company:
    name: str
    role: str
    industry: str
    capital: Any
    employees: Any
    number: Any
    email: str
    size: str = ""
    eligible: int = 0
    requested: int = 0


def companies() -> list[Company]:
    return [
        Company("株式会社北斗製作所", "中小ユーザ企業", "製造業", 30_000_000, 85,
                corporate_number("010401077771"), "sato@hokuto-ss.example.jp", "",
                7_000_000, 4_500_000),
        Company("合同会社みどり薬局", "中小ユーザ企業", "小売業", 5_000_000, 12,
                corporate_number("020403088882"), "info@midori-ph.example.jp", "",
                1_700_000, 1_100_000),
        Company("株式会社スカイシステム", "ITベンダ", "ソフトウェア業", 90_000_000, 210,
                corporate_number("011101066663"), "eigyo@sky-sys.example.co.jp", "",
                13_300_000, 8_600_000),
        Company("株式会社ネクストクラウド", "ITベンダ", "情報処理サービス業", 10_000_000, 40,
                corporate_number("012001055554"), "hello@nextcloud-jp.example.com", "",
                7_500_000, 4_800_000),
    ]


@dataclass
class Cost:
    member: str
    step: str
    category: str
    text: str
    amount: Any
    sub: str = ""


def costs() -> list[Cost]:
    return [
        Cost("株式会社北斗製作所", "STEP1", "ソフトウェア購入費", "生産管理パッケージ", 4_000_000),
        Cost("合同会社みどり薬局", "STEP1", "クラウドサービス利用費", "クラウド在庫管理 年額", 1_000_000),
        Cost("株式会社北斗製作所", "STEP2", "委託費", "要件定義の委託(スカイシステム)", 2_000_000),
        Cost("株式会社北斗製作所", "STEP2", "人件費", "要件定義の社内工数", 1_000_000),
        Cost("株式会社スカイシステム", "STEP2", "旅費", "要件定義の出張", 300_000),
        Cost("株式会社スカイシステム", "STEP3", "人件費", "連携APIの設計・開発", 10_000_000),
        Cost("株式会社スカイシステム", "STEP3", "委託費", "テスト工程の下請け", 3_000_000, "○"),
        Cost("株式会社ネクストクラウド", "STEP3", "人件費", "連携基盤の開発", 6_000_000),
        Cost("合同会社みどり薬局", "STEP4", "人件費", "受入テストの社内工数", 700_000),
        Cost("株式会社ネクストクラウド", "STEP4", "人件費", "利用者研修", 1_500_000),
    ]


def _same(x: Any) -> Any:
    return x


@dataclass
class Habits:
    """How one applicant lays out and types the same facts."""

    sheets: tuple[str, str, str] = ("交付申請書", "事業計画書", "補助対象経費内訳書")
    label: Callable[[str], str] = _same  # 【…】, １．…, …※必須
    gap: int = 0  # empty cells between a label and its value
    colon_cell: bool = False  # a 「：」 cell between a label and its value
    units_row: bool = False  # (円) (人) under the table headers
    lead: tuple[str, str] = ("○", "")  # 幹事社 column: the lead's mark, the others' mark
    money: Callable[[int], Any] = _same  # how amounts are typed
    count: Callable[[int], Any] = _same  # how employee counts are typed
    day: Callable[[date], Any] = _same  # how dates are typed
    subtotals: bool = False  # a 小計 row after each STEP group
    blank_rows: int = 0  # blank rows between STEP groups
    total_label: str = "合計"
    capital_header: str = "資本金(円)"
    employees_header: str = "従業員数(人)"
    number_header: str | None = "法人番号"  # None: no such column on the 交付申請書
    size_column: bool = False
    plan_name: str = CONSORTIUM
    project_end: date = date(2023, 1, 31)
    requested: Any = 19_000_000
    title_rows: int = 2  # rows of title and notes above the first label
    note_rows: tuple[str, ...] = ()  # 記入上の注意 under the members table
    example_sheet: bool = False  # the template's 記入例 sheet left in front
    role_groups: bool = False  # no 区分 column: members under 【中小ユーザ企業】/【ITベンダ】 rows
    step_groups: bool = False  # 工程 only as a heading row above each STEP's costs
    ditto: bool = False  # 事業者名 「〃」 under the same member, 工程 on a group's first row only
    two_tier: bool = False  # 「企業の概要」 over 業種・資本金・従業員数; other headers merged down
    period_cell: bool = False  # 事業実施期間 「令和4年10月1日～令和5年1月31日」 in one cell
    members: list[Company] = field(default_factory=companies)
    costs: list[Cost] = field(default_factory=costs)


@dataclass
class Grid:
    title: str
    cells: dict[tuple[int, int], Any] = field(default_factory=dict)
    merges: list[tuple[int, int, int, int]] = field(default_factory=list)

    def put(self, r: int, c: int, value: Any, width: int = 1) -> None:
        self.cells[(r, c)] = value
        if width > 1:
            self.merges.append((r, c, r, c + width - 1))


def _field(grid: Grid, h: Habits, r: int, label: str, value: Any) -> None:
    grid.put(r, 1, h.label(label), 2)
    c = 3
    if h.colon_cell:
        grid.put(r, c, "：")
        c += 1
    grid.put(r, c + h.gap, value, 3)


def application_grids(h: Habits) -> list[Grid]:
    first, plan_title, cost_title = h.sheets
    app = Grid(first)
    app.put(1, 1, "令和4年度 共創型サービスIT連携支援補助金 補助金交付申請書", 10)
    r = 1 + h.title_rows
    app.put(r, 8, "申請日")
    app.put(r, 9, h.day(date(2022, 8, 25)))
    r += 2
    total = sum(c.amount for c in h.costs if isinstance(c.amount, int))
    for label, value in (("コンソーシアム名", CONSORTIUM), ("幹事社名", h.members[0].name),
                         ("補助対象経費合計", h.money(total)),
                         ("補助金交付申請額", h.requested if not isinstance(h.requested, int)
                          else h.money(h.requested))):
        _field(app, h, r, label, value)
        r += 1
    r += 1
    app.put(r, 1, h.label("コンソーシアム構成員"), 3)
    r += 1
    headers = ["No", "事業者名", "区分", "幹事社", "業種", h.capital_header, h.employees_header]
    if h.role_groups:
        headers.remove("区分")
    if h.number_header:
        headers.append(h.number_header)
    headers.append("担当者メールアドレス")
    if h.size_column:
        headers.append("企業規模")
    if h.two_tier:
        grouped = {"業種", h.capital_header, h.employees_header}
        first = next(c for c, text in enumerate(headers, 1) if text in grouped)
        for c, text in enumerate(headers, 1):
            if text in grouped:
                app.put(r + 1, c, text)
            else:
                app.put(r, c, text)
                app.merges.append((r, c, r + 1, c))
        app.put(r, first, "企業の概要", len(grouped))
        r += 1
    else:
        for c, text in enumerate(headers, 1):
            app.put(r, c, text)
    r += 1
    if h.units_row:
        units = {h.capital_header: "(円)", h.employees_header: "(人)"}
        for c, text in enumerate(headers, 1):
            if text in units:
                app.put(r, c, units[text])
        r += 1
    group = ""
    for i, m in enumerate(h.members, 1):
        if h.role_groups and m.role != group:
            group = m.role
            app.put(r, 1, f"【{m.role}】", len(headers))
            r += 1
        values = [i, m.name, m.role, h.lead[0] if i == 1 else h.lead[1], m.industry,
                  m.capital if not isinstance(m.capital, int) else h.money(m.capital),
                  m.employees if not isinstance(m.employees, int) else h.count(m.employees)]
        if h.role_groups:
            del values[2]
        if h.number_header:
            values.append(m.number)
        values.append(m.email)
        if h.size_column:
            values.append(m.size)
        for c, value in enumerate(values, 1):
            if value not in ("", None):
                app.put(r, c, value)
        r += 1
    for note in h.note_rows:
        r += 1
        app.put(r, 1, note, 9)

    plan = Grid(plan_title)
    plan.put(1, 1, "事業計画書", 4)
    r = 1 + h.title_rows
    rows: list[tuple[str, Any]] = [("コンソーシアム名", h.plan_name),
                                   ("補助事業名", "受発注と在庫の連携による欠品ゼロ化")]
    if h.period_cell:
        end = h.project_end
        rows.append(("事業実施期間",
                     f"令和4年10月1日～令和{end.year - 2018}年{end.month}月{end.day}日"))
    else:
        rows += [("事業開始予定日", h.day(date(2022, 10, 1))),
                 ("事業完了予定日", h.day(h.project_end))]
    for label, value in rows:
        _field(plan, h, r, label, value)
        r += 1

    sheet = Grid(cost_title)
    sheet.put(1, 1, "補助対象経費内訳書", 7)
    r = 1 + h.title_rows
    heads = ["No", "事業者名", "工程", "経費区分", "内容", "下請け発注", "補助対象経費"]
    if h.step_groups:
        heads[2] = "(工程欄)"
    for c, text in enumerate(heads, 1):
        sheet.put(r, c, text)
    r += 1
    if h.units_row:
        sheet.put(r, 7, "(円)")
        r += 1
    steps = sorted({c.step for c in h.costs})
    n = 0
    for k, step in enumerate(steps):
        group = [c for c in h.costs if c.step == step]
        if h.step_groups:
            sheet.put(r, 1, f"{step} " + {"STEP1": "ITツールの購入・設定", "STEP2": "要件定義",
                                           "STEP3": "設計・開発〜システムテスト",
                                           "STEP4": "受入テスト・研修"}.get(step, ""), 7)
            r += 1
        previous = ""
        for j, cost in enumerate(group):
            n += 1
            member, step_text = cost.member, cost.step
            if h.ditto:
                member = "〃" if cost.member == previous else cost.member
                step_text = cost.step if j == 0 else ""
            if h.step_groups:
                step_text = ""
            previous = cost.member
            for c, value in enumerate([n, member, step_text, cost.category, cost.text,
                                       cost.sub, cost.amount if not isinstance(cost.amount, int)
                                       else h.money(cost.amount)], 1):
                if value not in ("", None):
                    sheet.put(r, c, value)
            r += 1
        if h.subtotals:
            sheet.put(r, 2, f"{step} 小計")
            sheet.put(r, 7, h.money(sum(c.amount for c in group)))
            r += 1
        if k < len(steps) - 1:
            r += h.blank_rows
    sheet.put(r, 1, h.total_label, 6)
    sheet.put(r, 7, h.money(total))
    if h.example_sheet:
        sample = Grid("記入例(交付申請書)")
        sample.put(1, 1, "【記入例】補助金交付申請書", 6)
        _field(sample, h, 3, "コンソーシアム名", "○○連携コンソーシアム")
        _field(sample, h, 4, "補助金交付申請額", 99_000_000)
        return [sample, app, plan, sheet]
    return [app, plan, sheet]


def member_info_grid(h: Habits) -> Grid:
    grid = Grid("事業者情報入力シート")
    grid.put(1, 1, "事業者情報入力シート", 8)
    _field(grid, h, 3, "コンソーシアム名", CONSORTIUM)
    heads = ["事業者名", "区分", "法人番号", "代表者氏名", "所在地", "業種", h.capital_header,
             "従業員数", "補助対象経費", "補助金申請額"]
    for c, text in enumerate(heads, 1):
        grid.put(5, c, text)
    r = 6
    for i, m in enumerate(h.members):
        for c, value in enumerate([m.name, m.role, m.number, f"代表取締役 氏名{i}",
                                   f"東京都千代田区{i + 1}-1", m.industry, m.capital, m.employees,
                                   h.money(m.eligible), h.money(m.requested)], 1):
            if value not in ("", None):
                grid.put(r, c, value)
        r += 1
    grid.put(r, 1, h.total_label, 8)
    grid.put(r, 9, h.money(sum(m.eligible for m in h.members)))
    grid.put(r, 10, h.money(sum(m.requested for m in h.members)))
    return grid


# --- writers -------------------------------------------------------------------------------


def xlsx(grids: list[Grid]) -> bytes:
    import openpyxl

    book = openpyxl.Workbook()
    book.remove(book.active)
    for grid in grids:
        ws = book.create_sheet(grid.title)
        for (r, c), value in grid.cells.items():
            ws.cell(r, c, value)
        for r0, c0, r1, c1 in grid.merges:
            ws.merge_cells(start_row=r0, start_column=c0, end_row=r1, end_column=c1)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def xls(grids: list[Grid]) -> bytes:
    """A real BIFF8 .xls (Excel 97–2003), as older office PCs still save."""
    import xlwt

    book = xlwt.Workbook(encoding="utf-8")
    dates = xlwt.easyxf(num_format_str="yyyy/mm/dd")
    for grid in grids:
        ws = book.add_sheet(grid.title)
        merged = {(r0, c0): (r1, c1) for r0, c0, r1, c1 in grid.merges}
        for (r, c), value in grid.cells.items():
            if (r, c) in merged:
                r1, c1 = merged[(r, c)]
                if isinstance(value, date):
                    ws.write_merge(r - 1, r1 - 1, c - 1, c1 - 1, value, dates)
                else:
                    ws.write_merge(r - 1, r1 - 1, c - 1, c1 - 1, value)
            elif isinstance(value, date):
                ws.write(r - 1, c - 1, value, dates)
            else:
                ws.write(r - 1, c - 1, value)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def ods(grids: list[Grid]) -> bytes:
    """An OpenDocument spreadsheet as LibreOffice writes it (mimetype first, stored)."""
    tables = []
    for grid in grids:
        rows = []
        merged = {(r0, c0): (r1 - r0 + 1, c1 - c0 + 1) for r0, c0, r1, c1 in grid.merges}
        max_r = max((r for r, _ in grid.cells), default=0)
        max_c = max((c for _, c in grid.cells), default=0)
        for r in range(1, max_r + 1):
            cells = []
            for c in range(1, max_c + 1):
                value = grid.cells.get((r, c))
                span = merged.get((r, c))
                attrs = (f' table:number-rows-spanned="{span[0]}" '
                         f'table:number-columns-spanned="{span[1]}"' if span else "")
                if value is None:
                    cells.append(f"<table:table-cell{attrs}/>")
                elif isinstance(value, bool) or not isinstance(value, int | float | date):
                    cells.append(f'<table:table-cell office:value-type="string"{attrs}>'
                                 f"<text:p>{escape(str(value))}</text:p></table:table-cell>")
                elif isinstance(value, date):
                    cells.append(f'<table:table-cell office:value-type="date" '
                                 f'office:date-value="{value.isoformat()}"{attrs}>'
                                 f"<text:p>{value.isoformat()}</text:p></table:table-cell>")
                else:
                    cells.append(f'<table:table-cell office:value-type="float" '
                                 f'office:value="{value}"{attrs}><text:p>{value}</text:p>'
                                 "</table:table-cell>")
            rows.append("<table:table-row>" + "".join(cells) + "</table:table-row>")
        tables.append(f'<table:table table:name="{escape(grid.title)}">'
                      f'<table:table-column table:number-columns-repeated="{max_c or 1}"/>'
                      + "".join(rows) + "</table:table>")
    content = (
        '<?xml version="1.0" encoding="UTF-8"?>'
        '<office:document-content xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0"'
        ' xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0"'
        ' xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0" office:version="1.2">'
        "<office:body><office:spreadsheet>" + "".join(tables)
        + "</office:spreadsheet></office:body></office:document-content>")
    manifest = (
        '<?xml version="1.0" encoding="UTF-8"?>'
        '<manifest:manifest xmlns:manifest="urn:oasis:names:tc:opendocument:xmlns:manifest:1.0"'
        ' manifest:version="1.2"><manifest:file-entry manifest:full-path="/"'
        ' manifest:media-type="application/vnd.oasis.opendocument.spreadsheet"/>'
        '<manifest:file-entry manifest:full-path="content.xml" manifest:media-type="text/xml"/>'
        "</manifest:manifest>")
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as zf:
        zf.writestr(zipfile.ZipInfo("mimetype"),
                    "application/vnd.oasis.opendocument.spreadsheet")
        zf.writestr("content.xml", content, compress_type=zipfile.ZIP_DEFLATED)
        zf.writestr("META-INF/manifest.xml", manifest, compress_type=zipfile.ZIP_DEFLATED)
    return buffer.getvalue()


def encrypted(data: bytes, password: str) -> bytes:
    """A password-protected .xlsx (Excel's 「パスワードを使用して暗号化」)."""
    from msoffcrypto.format.ooxml import OOXMLFile

    out = io.BytesIO()
    OOXMLFile(io.BytesIO(data)).encrypt(password, out)
    return out.getvalue()


def habits(**changes: Any) -> Habits:
    return replace(Habits(), **changes)
