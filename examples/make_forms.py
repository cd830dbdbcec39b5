"""Write realistic sample forms (SPEC §2) and filled examples into examples/forms/.

The real 令和4年度 forms are not public, so these follow the program page and SPEC §2/§3:
Japanese labels, merged cells, 円 amounts (as numbers with a 円 format and as typed text),
和暦 (令和4年8月10日) and 西暦 dates, full-width digits where people type them.

    python examples/make_forms.py            # rewrites examples/forms/ deterministically

| file | meant to give |
|---|---|
| valid-application.xlsx | no finding (交付申請書・事業計画書・補助対象経費内訳書) |
| valid-member-info.xlsx | no finding (事業者情報入力シート) |
| valid-checklist.xlsx | no finding (提出書類チェックリスト) |
| valid-submission.zip | no finding: every document of SPEC §2, as a whole submission |
| broken-CONSORTIUM_COMPOSITION.xlsx | only one ITベンダ |
| broken-SME_INELIGIBLE.xlsx | 小売業 with 資本金 6千万円 and 51人 (line: 5千万円 / 50人) |
| broken-CORPORATE_NUMBER_INVALID.xlsx | a 法人番号 whose check digit is wrong |
| broken-AMOUNT_OVER_CAP-cap.xlsx | 4 members (cap 44,000,000円), 45,000,000円 requested |
| broken-AMOUNT_OVER_CAP-rate.xlsx | requested over 2/3 of the eligible cost |
| broken-AMOUNT_OVER_CAP-large-vendor.xlsx | a large-enterprise vendor: requested over 1/2 |
| broken-AMOUNT_BELOW_MINIMUM.xlsx | 900,000円 requested (minimum 1,000,000円) |
| broken-SOFTWARE_CLOUD_OVER_HALF.xlsx | software + cloud over 1/2 of the eligible cost |
| broken-SME_PERSONNEL_OVER_THIRD.xlsx | SME users' 人件費 over 1/3 of 委託費 + 人件費 |
| broken-SUBCONTRACT_OVER_HALF.xlsx | a vendor's 下請け exactly 1/2 of its STEP3 cost (must be under) |
| broken-SUM_MISMATCH.xlsx | 補助対象経費合計 on the 交付申請書 differs from the 内訳 |
| broken-FORM_FIELD_MISSING.xlsx | 申請日 left empty |
| broken-CONSORTIUM_NAME_MISMATCH.xlsx | 事業計画書 names another consortium than the 交付申請書 |
| broken-PROJECT_PERIOD.xlsx | 事業完了予定日 令和5年3月31日, after the 補助事業期間 (2023-02-10) |
| broken-COST_NOT_ELIGIBLE.xlsx | an SME user's 人件費 in STEP3 (allowed only in STEP2 and STEP4) |
| broken-SUM_MISMATCH-across-forms.zip | 事業者情報入力シート's 補助金申請額 total ≠ 交付申請書 |
| broken-DOCUMENT_MISSING.zip | no 納税証明書 for 有限会社さくら商店 |
| broken-CHECKLIST_MISMATCH.zip | 補助事業概要書 attached but not ticked on the checklist |
"""

from __future__ import annotations

import io
import re
import sys
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import datetime
from pathlib import Path

from openpyxl import Workbook
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from rules.corporate_number import check_digit  # noqa: E402

OUT = Path(__file__).resolve().parent / "forms"
FIXED_TIME = datetime(2022, 8, 10, 9, 0, 0)
ZIP_TIME = (2022, 8, 10, 9, 0, 0)

YEN = '#,##0"円"'
THIN = Side(style="thin", color="808080")
BOX = Border(left=THIN, right=THIN, top=THIN, bottom=THIN)
LABEL_FILL = PatternFill("solid", fgColor="DDEBF7")
TITLE_FONT = Font(name="游ゴシック", size=14, bold=True)
BODY_FONT = Font(name="游ゴシック", size=10)


def corporate_number(base: str) -> str:
    """A valid 法人番号 for a 12-digit 基礎番号 (fictional companies, real check digit)."""
    return f"{check_digit(base)}{base}"


def _wrong_check_digit(number: str) -> str:
    """The same 基礎番号 with another first digit: a typo the check digit must catch."""
    return f"{int(number[0]) % 9 + 1}{number[1:]}"


@dataclass(frozen=True)
class MemberRow:
    name: str
    role: str  # as printed: 中小ユーザ企業 / ITベンダ / その他協力者
    lead: bool
    industry: str
    capital: int | str | None
    employees: int | str
    corporate_number: str | None
    email: str
    representative: str
    address: str
    size: str = ""


@dataclass(frozen=True)
class Line:
    member: str
    step: str
    category: str
    description: str
    amount: int
    subcontract: bool = False


@dataclass(frozen=True)
class Scenario:
    consortium: str
    members: tuple[MemberRow, ...]
    lines: tuple[Line, ...]
    requested: int | str
    member_requested: dict[str, int] = field(default_factory=dict)
    plan_consortium: str | None = None
    application_date: str | None = "令和4年8月10日"
    eligible_total: int | None = None  # None: the sum of the lines, as a careful applicant has
    project_end: str = "令和5年1月31日"  # 和暦, as typed

    @property
    def line_total(self) -> int:
        return sum(line.amount for line in self.lines)


MINATO = "株式会社みなと精機"
SAKURA = "有限会社さくら商店"
BLUE = "株式会社ブルーリンクシステムズ"
CLOUD = "㈱クラウドブリッジ"
YAMADA = "山田ITコンサルティング"

VALID = Scenario(
    consortium="みなとDX連携コンソーシアム",
    members=(
        MemberRow(MINATO, "中小ユーザ企業", True, "製造業", 50_000_000, 120,
                  corporate_number("010401012345"), "tanaka@minato-seiki.example.jp",
                  "代表取締役 港 一郎", "神奈川県横浜市中区海岸通1-1"),
        MemberRow(SAKURA, "中小ユーザ企業", False, "小売業", "300万円", "１８",
                  corporate_number("020402054321"), "info@sakura-shoten.example.jp",
                  "取締役 桜井 花子", "東京都台東区浅草2-3-4"),
        MemberRow(BLUE, "ITベンダ", False, "ソフトウェア業", 80_000_000, 150,
                  corporate_number("011101098765"), "sales@bluelink.example.co.jp",
                  "代表取締役社長 青木 誠", "東京都千代田区丸の内1-2-3"),
        MemberRow(CLOUD, "ITベンダ", False, "情報処理サービス業", "￥20,000,000", "45人",
                  corporate_number("012001011111"), "contact@cloudbridge.example.com",
                  "代表取締役 雲井 大地", "大阪府大阪市北区梅田3-1-1"),
        MemberRow(YAMADA, "その他協力者", False, "サービス業", None, 1, None,
                  "yamada@yamada-it.example.jp", "山田 太郎", "神奈川県川崎市中原区1-1"),
    ),
    lines=(
        Line(MINATO, "STEP1", "ソフトウェア購入費", "生産管理システム ライセンス・初期設定", 6_000_000),
        Line(SAKURA, "STEP1", "クラウドサービス利用費", "クラウド会計サービス 年間利用料", 1_200_000),
        Line(MINATO, "STEP2", "委託費", "要件定義の委託(ブルーリンクシステムズ)", 3_000_000),
        Line(MINATO, "STEP2", "人件費", "要件定義 社内工数", 1_500_000),
        Line(MINATO, "STEP2", "会議費", "要件定義会議 会場費", 300_000),
        Line(MINATO, "STEP2", "専門家経費", "山田ITコンサルティングへの謝金", 500_000),
        Line(BLUE, "STEP2", "旅費", "要件定義打合せ 出張旅費", 200_000),
        Line(BLUE, "STEP3", "人件費", "API連携機能の設計・開発", 12_000_000),
        Line(BLUE, "STEP3", "委託費", "結合テストの下請け発注", 4_000_000, subcontract=True),
        Line(CLOUD, "STEP3", "人件費", "連携基盤の開発・システムテスト", 8_000_000),
        Line(SAKURA, "STEP4", "人件費", "受入テスト 社内工数", 800_000),
        Line(CLOUD, "STEP4", "人件費", "利用者研修", 1_000_000),
    ),
    requested="25,000,000円",
    member_requested={MINATO: 7_000_000, SAKURA: 1_300_000, BLUE: 10_500_000, CLOUD: 6_200_000},
)


def _swap_member(s: Scenario, name: str, **changes: object) -> Scenario:
    members = tuple(replace(m, **changes) if m.name == name else m for m in s.members)
    return replace(s, members=members)


def _swap_line(s: Scenario, description: str, **changes: object) -> Scenario:
    lines = tuple(replace(x, **changes) if x.description == description else x for x in s.lines)
    return replace(s, lines=lines)


def _without_cloudbridge(s: Scenario) -> Scenario:
    return replace(
        s,
        members=tuple(m for m in s.members if m.name != CLOUD),
        lines=tuple(x for x in s.lines if x.member != CLOUD),
        requested=19_000_000,
    )


def _bigger_vendor_work(s: Scenario) -> Scenario:
    s = _swap_line(s, "API連携機能の設計・開発", amount=40_000_000)
    s = _swap_line(s, "連携基盤の開発・システムテスト", amount=20_000_000)
    return replace(s, requested=45_000_000)


BROKEN: dict[str, Callable[[Scenario], Scenario]] = {
    "CONSORTIUM_COMPOSITION": _without_cloudbridge,
    "SME_INELIGIBLE": lambda s: _swap_member(s, SAKURA, capital=60_000_000, employees=51),
    "CORPORATE_NUMBER_INVALID": lambda s: _swap_member(
        s, BLUE, corporate_number=_wrong_check_digit(corporate_number("011101098765"))),
    "AMOUNT_OVER_CAP-cap": _bigger_vendor_work,
    "AMOUNT_OVER_CAP-rate": lambda s: replace(s, requested=26_000_000),
    "AMOUNT_OVER_CAP-large-vendor": lambda s: _swap_member(
        s, CLOUD, capital=500_000_000, employees=1200, size="大企業"),
    "AMOUNT_BELOW_MINIMUM": lambda s: replace(s, requested="900,000円"),
    "SOFTWARE_CLOUD_OVER_HALF": lambda s: _swap_line(
        s, "生産管理システム ライセンス・初期設定", amount=40_000_000),
    "SME_PERSONNEL_OVER_THIRD": lambda s: _swap_line(s, "受入テスト 社内工数", amount=14_000_000),
    "SUBCONTRACT_OVER_HALF": lambda s: _swap_line(
        s, "結合テストの下請け発注", amount=12_000_000),
    "SUM_MISMATCH": lambda s: replace(s, eligible_total=38_000_000),
    "FORM_FIELD_MISSING": lambda s: replace(s, application_date=None),
    "CONSORTIUM_NAME_MISMATCH": lambda s: replace(s, plan_consortium="みなと連携コンソーシアム"),
    "PROJECT_PERIOD": lambda s: replace(s, project_end="令和5年3月31日"),
    "COST_NOT_ELIGIBLE": lambda s: _swap_line(s, "受入テスト 社内工数", step="STEP3"),
}


# --- workbook helpers --------------------------------------------------------------------------


def _new_book() -> Workbook:
    book = Workbook()
    book.properties.creator = "令和4年度「共創型サービスIT連携支援事業」事務局(サンプル)"
    book.properties.created = FIXED_TIME
    book.properties.modified = FIXED_TIME
    return book


def _title(ws: Worksheet, text: str, width: int) -> None:
    ws.merge_cells(start_row=1, start_column=1, end_row=1, end_column=width)
    ws.cell(1, 1, text).font = TITLE_FONT
    ws.cell(1, 1).alignment = Alignment(horizontal="center", vertical="center")
    ws.row_dimensions[1].height = 28


def _label(ws: Worksheet, row: int, col: int, text: str, span: int = 1) -> None:
    if span > 1:
        ws.merge_cells(start_row=row, start_column=col, end_row=row, end_column=col + span - 1)
    cell = ws.cell(row, col, text)
    cell.fill = LABEL_FILL
    cell.font = Font(name="游ゴシック", size=10, bold=True)
    for c in range(col, col + span):
        ws.cell(row, c).border = BOX


def _value(ws: Worksheet, row: int, col: int, value: object, span: int = 1,
           number_format: str | None = None) -> None:
    if span > 1:
        ws.merge_cells(start_row=row, start_column=col, end_row=row, end_column=col + span - 1)
    cell = ws.cell(row, col, value)
    cell.font = BODY_FONT
    if number_format:
        cell.number_format = number_format
    for c in range(col, col + span):
        ws.cell(row, c).border = BOX


def _header_row(ws: Worksheet, row: int, headers: list[str]) -> None:
    for col, text in enumerate(headers, start=1):
        _label(ws, row, col, text)
        ws.cell(row, col).alignment = Alignment(horizontal="center", wrap_text=True)


def _widths(ws: Worksheet, widths: list[int]) -> None:
    for col, width in enumerate(widths, start=1):
        ws.column_dimensions[get_column_letter(col)].width = width


def _save(book: Workbook) -> bytes:
    buffer = io.BytesIO()
    book.save(buffer)
    return deterministic_ooxml(buffer.getvalue())


def deterministic_ooxml(data: bytes) -> bytes:
    """Same bytes on every run: fixed zip entry times and a fixed dcterms:modified."""
    source = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            payload = source.read(info.filename)
            if info.filename == "docProps/core.xml":
                payload = re.sub(
                    rb"(<dcterms:modified[^>]*>)[^<]*(</dcterms:modified>)",
                    rb"\g<1>2022-08-10T00:00:00Z\g<2>", payload)
            target.writestr(zipfile.ZipInfo(info.filename, ZIP_TIME), payload,
                            zipfile.ZIP_DEFLATED)
    return out.getvalue()


# --- 4. 補助金交付申請書・事業計画書・補助対象経費内訳書 --------------------------------------------


def application_workbook(s: Scenario) -> bytes:
    book = _new_book()
    _application_sheet(book.active, s)
    _plan_sheet(book.create_sheet("事業計画書"), s)
    _costs_sheet(book.create_sheet("補助対象経費内訳書"), s)
    return _save(book)


def _application_sheet(ws: Worksheet, s: Scenario) -> None:
    ws.title = "交付申請書"
    _widths(ws, [5, 30, 16, 8, 20, 16, 12, 17, 32, 10])
    _title(ws, "令和4年度 共創型サービスIT連携支援補助金 補助金交付申請書", 10)
    _label(ws, 3, 7, "申請日")
    _value(ws, 3, 8, s.application_date, span=2)
    ws.merge_cells("A4:J4")
    ws["A4"] = "令和4年度「共創型サービスIT連携支援事業」事務局 御中"
    ws["A4"].font = BODY_FONT
    lead = next((m.name for m in s.members if m.lead), "")
    rows = [
        ("コンソーシアム名", s.consortium, None),
        ("幹事社名", lead, None),
        ("補助対象経費合計", s.eligible_total if s.eligible_total is not None else s.line_total,
         YEN),
        ("補助金交付申請額", s.requested, YEN),
    ]
    for offset, (label, value, fmt) in enumerate(rows):
        _label(ws, 6 + offset, 1, label, span=2)
        _value(ws, 6 + offset, 3, value, span=4, number_format=fmt)
    ws.merge_cells("A11:J11")
    ws["A11"] = "コンソーシアム構成員"
    ws["A11"].font = Font(name="游ゴシック", size=11, bold=True)
    _header_row(ws, 12, ["No", "事業者名", "区分", "幹事社", "業種", "資本金(円)",
                         "従業員数(人)", "法人番号", "担当者メールアドレス", "企業規模"])
    for i, m in enumerate(s.members, start=1):
        values = [i, m.name, m.role, "○" if m.lead else "", m.industry, m.capital, m.employees,
                  m.corporate_number, m.email, m.size]
        for col, value in enumerate(values, start=1):
            _value(ws, 12 + i, col, value, number_format=YEN if col == 6 else None)


def _plan_sheet(ws: Worksheet, s: Scenario) -> None:
    _widths(ws, [18, 18, 18, 18, 18, 18])
    _title(ws, "事業計画書", 6)
    _label(ws, 3, 1, "コンソーシアム名", span=2)
    _value(ws, 3, 3, s.plan_consortium or s.consortium, span=4)
    _label(ws, 4, 1, "補助事業名", span=2)
    _value(ws, 4, 3, "受発注・在庫・会計システムのAPI連携による転記作業の削減", span=4)
    _label(ws, 5, 1, "事業開始予定日", span=2)
    _value(ws, 5, 3, datetime(2022, 10, 3), span=2, number_format="yyyy/mm/dd")  # 西暦
    _label(ws, 6, 1, "事業完了予定日", span=2)
    _value(ws, 6, 3, s.project_end, span=2)
    _label(ws, 8, 1, "事業の目的・概要", span=6)
    ws.merge_cells("A9:F13")
    ws["A9"] = ("取引先とのEDI導入後、受発注管理システム・在庫管理システム・会計システム間を"
                "API連携し、転記作業や確認作業などの手作業を省力化する。")
    ws["A9"].alignment = Alignment(wrap_text=True, vertical="top")
    _label(ws, 15, 1, "実施スケジュール", span=6)
    steps = [("STEP1 ITツールの購入・設定", "2022/10〜2022/11"),
             ("STEP2 要件定義", "2022/10〜2022/11"),
             ("STEP3 設計・開発〜システムテスト", "2022/11〜2023/01"),
             ("STEP4 受入テスト・研修", "2023/01")]
    for i, (step, when) in enumerate(steps, start=16):
        _value(ws, i, 1, step, span=3)
        _value(ws, i, 4, when, span=3)


def _costs_sheet(ws: Worksheet, s: Scenario) -> None:
    _widths(ws, [5, 30, 10, 22, 36, 10, 18])
    _title(ws, "補助対象経費内訳書", 7)
    _header_row(ws, 3, ["No", "事業者名", "工程", "経費区分", "内容", "下請け発注",
                        "補助対象経費(円)"])
    row = 3
    for row, line in enumerate(s.lines, start=4):
        values = [row - 3, line.member, line.step, line.category, line.description,
                  "○" if line.subcontract else "", line.amount]
        for col, value in enumerate(values, start=1):
            _value(ws, row, col, value, number_format=YEN if col == 7 else None)
    total_row = row + 1
    _label(ws, total_row, 1, "合計", span=6)
    _value(ws, total_row, 7, s.line_total, number_format=YEN)
    anchor = total_row + 2
    ws.merge_cells(start_row=anchor, start_column=1, end_row=anchor, end_column=4)
    ws.cell(anchor, 1, "経費区分別集計").font = Font(name="游ゴシック", size=11, bold=True)
    _label(ws, anchor + 1, 1, "経費区分", span=3)
    _label(ws, anchor + 1, 4, "補助対象経費(円)")
    categories = ["ソフトウェア購入費", "クラウドサービス利用費", "会議費", "旅費", "専門家経費",
                  "人件費", "委託費"]
    for i, category in enumerate(categories, start=anchor + 2):
        _value(ws, i, 1, category, span=3)
        amount = sum(x.amount for x in s.lines if x.category == category)
        _value(ws, i, 4, amount, number_format=YEN)
    last = anchor + 2 + len(categories)
    _label(ws, last, 1, "合計", span=3)
    _value(ws, last, 4, s.line_total, number_format=YEN)


# --- 6. 事業者情報入力シート ----------------------------------------------------------------------


def member_info_workbook(s: Scenario) -> bytes:
    book = _new_book()
    ws = book.active
    ws.title = "事業者情報入力シート"
    headers = ["No", "事業者名", "区分", "法人番号", "代表者氏名", "所在地", "業種", "資本金(円)",
               "従業員数", "設立年月日", "担当者メールアドレス", "補助対象経費(円)",
               "補助金申請額(円)"]
    _widths(ws, [5, 30, 14, 17, 22, 30, 18, 16, 10, 16, 32, 18, 18])
    _title(ws, "令和4年度 事業者情報入力シート", len(headers))
    _label(ws, 3, 1, "コンソーシアム名", span=2)
    _value(ws, 3, 3, s.consortium, span=4)
    _header_row(ws, 5, headers)
    funded = [m for m in s.members if m.role != "その他協力者"]
    founded = ["平成2年4月1日", "1998/06/15", "平成24年10月1日", "2015-04-01"]
    for i, m in enumerate(funded, start=1):
        eligible = sum(x.amount for x in s.lines if x.member == m.name)
        values = [i, m.name, m.role, m.corporate_number, m.representative, m.address,
                  m.industry, m.capital, m.employees, founded[(i - 1) % len(founded)], m.email,
                  eligible, s.member_requested.get(m.name, 0)]
        for col, value in enumerate(values, start=1):
            _value(ws, 5 + i, col, value, number_format=YEN if col in (8, 12, 13) else None)
    total = 6 + len(funded)
    _label(ws, total, 1, "合計", span=11)
    _value(ws, total, 12, sum(x.amount for x in s.lines if x.member in {m.name for m in funded}),
           number_format=YEN)
    _value(ws, total, 13, sum(s.member_requested.get(m.name, 0) for m in funded),
           number_format=YEN)
    return _save(book)


# --- 8. 提出書類チェックリスト -------------------------------------------------------------------

CHECKLIST_ROWS = (
    ("overview", "5. 補助事業概要書", "xlsx/pptx/pdf"),
    ("application", "4. 補助金交付申請書・事業計画書・補助対象経費内訳書", "xlsx"),
    ("member_info", "6. 事業者情報入力シート", "xlsx"),
    ("pledge", "7. 誓約書(構成員ごと)", "pdf"),
    ("checklist", "8. 提出書類チェックリスト", "xlsx"),
    ("registry", "履歴事項全部証明書(3か月以内に発行されたもの)", "pdf"),
    ("tax", "納税証明書(構成員ごと)", "pdf"),
)


def checklist_workbook(s: Scenario, unticked: frozenset[str] = frozenset()) -> bytes:
    book = _new_book()
    ws = book.active
    ws.title = "提出書類チェックリスト"
    _widths(ws, [5, 52, 16, 10, 24])
    _title(ws, "令和4年度 提出書類チェックリスト", 5)
    _label(ws, 3, 1, "コンソーシアム名", span=2)
    _value(ws, 3, 3, s.consortium, span=3)
    _header_row(ws, 5, ["No", "提出書類", "提出形式", "チェック", "備考"])
    rows = sorted(CHECKLIST_ROWS, key=lambda r: r[1])
    for i, (key, title, kind) in enumerate(rows, start=1):
        tick = "" if key in unticked else "✓"
        for col, value in enumerate([i, title, kind, tick, ""], start=1):
            _value(ws, 5 + i, col, value)
            ws.cell(5 + i, col).alignment = Alignment(horizontal="center") if col == 4 else \
                Alignment()
    return _save(book)


# --- PDFs (誓約書・履歴事項全部証明書・納税証明書・補助事業概要書) ------------------------------


def simple_pdf(lines: list[str]) -> bytes:
    """A one-page PDF whose text (Japanese, UniJIS-UCS2-H) any PDF reader extracts."""
    content = ["BT", "/F1 12 Tf", "50 780 Td", "20 TL"]
    content += [f"<{line.encode('utf-16-be').hex().upper()}> Tj T*" for line in lines]
    content.append("ET")
    stream = "\n".join(content).encode("ascii")
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] "
        b"/Resources << /Font << /F1 5 0 R >> >> /Contents 4 0 R >>",
        b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"\nendstream",
        b"<< /Type /Font /Subtype /Type0 /BaseFont /HeiseiKakuGo-W5 /Encoding /UniJIS-UCS2-H "
        b"/DescendantFonts [6 0 R] >>",
        b"<< /Type /Font /Subtype /CIDFontType0 /BaseFont /HeiseiKakuGo-W5 /CIDSystemInfo "
        b"<< /Registry (Adobe) /Ordering (Japan1) /Supplement 2 >> /FontDescriptor 7 0 R >>",
        b"<< /Type /FontDescriptor /FontName /HeiseiKakuGo-W5 /Flags 4 "
        b"/FontBBox [-92 -250 1010 922] /ItalicAngle 0 /Ascent 752 /Descent -221 "
        b"/CapHeight 737 /StemV 114 >>",
    ]
    out = io.BytesIO()
    out.write(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(out.tell())
        out.write(b"%d 0 obj\n" % number + body + b"\nendobj\n")
    xref = out.tell()
    out.write(b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1))
    for offset in offsets:
        out.write(b"%010d 00000 n \n" % offset)
    out.write(b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n"
              % (len(objects) + 1, xref))
    return out.getvalue()


def member_pdfs(s: Scenario) -> dict[str, bytes]:
    files: dict[str, bytes] = {}
    for m in (m for m in s.members if m.role != "その他協力者"):
        files[f"7_誓約書_{m.name}.pdf"] = simple_pdf([
            "誓約書", "令和4年度「共創型サービスIT連携支援事業」事務局 御中",
            f"{m.name} {m.representative}",
            "当社は、補助金の交付申請にあたり、以下の事項を誓約します。", "令和4年8月8日"])
        files[f"履歴事項全部証明書_{m.name}.pdf"] = simple_pdf([
            "履歴事項全部証明書", f"商号 {m.name}", f"本店 {m.address}",
            f"会社法人等番号 {(m.corporate_number or '')[1:]}", "令和4年7月20日 発行"])
        files[f"納税証明書_{m.name}.pdf"] = simple_pdf([
            "納税証明書(その1)", f"住所 {m.address}", f"氏名又は名称 {m.name}",
            "令和4年7月25日"])
    return files


def overview_pdf(s: Scenario) -> bytes:
    return simple_pdf(["補助事業概要書", f"コンソーシアム名 {s.consortium}",
                       "受発注管理システム×在庫管理システム×会計システムのAPI連携"])


def submission_files(
    s: Scenario, *, drop: tuple[str, ...] = (), unticked: frozenset[str] = frozenset()
) -> dict[str, bytes]:
    """Every document of SPEC §2 for one consortium, named as applicants name them."""
    files = {
        f"4_交付申請書_{s.consortium}.xlsx": application_workbook(s),
        f"5_補助事業概要書_{s.consortium}.pdf": overview_pdf(s),
        f"6_事業者情報入力シート_{s.consortium}.xlsx": member_info_workbook(s),
        f"8_提出書類チェックリスト_{s.consortium}.xlsx": checklist_workbook(s, unticked),
        **member_pdfs(s),
    }
    return {name: data for name, data in files.items() if name not in drop}


def zip_bytes(files: dict[str, bytes]) -> bytes:
    """A plain zip with UTF-8 names (flag bit 11), fixed times, as a careful applicant makes."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in files.items():
            archive.writestr(zipfile.ZipInfo(f"申請書類/{name}", ZIP_TIME), data,
                             zipfile.ZIP_DEFLATED)
    return out.getvalue()


def build_all() -> dict[str, bytes]:
    outputs: dict[str, bytes] = {
        "valid-application.xlsx": application_workbook(VALID),
        "valid-member-info.xlsx": member_info_workbook(VALID),
        "valid-checklist.xlsx": checklist_workbook(VALID),
        "valid-submission.zip": zip_bytes(submission_files(VALID)),
    }
    for code, breaker in BROKEN.items():
        outputs[f"broken-{code}.xlsx"] = application_workbook(breaker(VALID))
    across = replace(VALID, member_requested={**VALID.member_requested, CLOUD: 5_200_000})
    outputs["broken-SUM_MISMATCH-across-forms.zip"] = zip_bytes(submission_files(across))
    outputs["broken-DOCUMENT_MISSING.zip"] = zip_bytes(
        submission_files(VALID, drop=(f"納税証明書_{SAKURA}.pdf",)))
    outputs["broken-CHECKLIST_MISMATCH.zip"] = zip_bytes(
        submission_files(VALID, unticked=frozenset({"overview"})))
    return outputs


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    for stale in OUT.glob("*"):
        if stale.suffix in (".xlsx", ".zip"):
            stale.unlink()
    for name, data in sorted(build_all().items()):
        (OUT / name).write_bytes(data)
        print(f"{OUT.relative_to(REPO) / name}  {len(data):,} bytes")


if __name__ == "__main__":
    main()
