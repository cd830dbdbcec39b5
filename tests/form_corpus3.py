"""A third reading corpus: application workbooks as applicants fill them, written here from scratch.

Independent of examples/make_forms.py and the other corpus writers: its own layout (labels in
column B, values two cells right, a member table that starts at column B), its own sample
consortium, and two writers — openpyxl, and a hand-made SpreadsheetML package written the way
other spreadsheet programs save it (namespace prefixes, inline strings, no styles part).
Each variant carries the finding codes a careful clerk would give from the program page.
"""

from __future__ import annotations

import copy
import datetime as dt
import io
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from xml.sax.saxutils import escape

from openpyxl import Workbook
from openpyxl.utils import get_column_letter, range_boundaries

Cell = Any
Rows = list[list[Cell]]


@dataclass
class Sheet:
    title: str
    rows: Rows
    hidden: bool = False
    hidden_rows: set[int] = field(default_factory=set)
    merges: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Variant3:
    name: str
    data: bytes
    codes: frozenset[str]
    why: str


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


def _plan() -> dict[str, Any]:
    return {
        "consortium": CONSORTIUM, "plan_consortium": CONSORTIUM, "members": copy.deepcopy(MEMBERS),
        "costs": copy.deepcopy(COSTS), "total": TOTAL, "requested": REQUESTED, "cost_total": TOTAL,
        "applied": "2022/8/20", "start": START, "end": END, "lead": MEMBERS[0][0],
    }


def _sheets(p: dict[str, Any]) -> list[Sheet]:
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


def write_openpyxl(sheets: list[Sheet]) -> bytes:
    wb = Workbook()
    wb.remove(wb.active)
    for s in sheets:
        ws = wb.create_sheet(s.title)
        for r, row in enumerate(s.rows, start=1):
            for c, v in enumerate(row, start=1):
                if v not in ("", None):
                    ws.cell(r, c, v)
        for r in s.hidden_rows:
            ws.row_dimensions[r].hidden = True
        for m in s.merges:
            ws.merge_cells(m)
        if s.hidden:
            ws.sheet_state = "hidden"
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


_NS = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
_REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
_HIDDEN = ' state="hidden"'


@dataclass(frozen=True)
class Rich:
    """A string of several formatted runs, with the IME's reading (furigana) kept as Excel does."""
    runs: tuple[str, ...]
    reading: str = ""

    def __str__(self) -> str:
        return "".join(self.runs)


@dataclass(frozen=True)
class Xml:
    """A cell written as raw SpreadsheetML: its attributes and its children."""
    attrs: str
    inner: str

    def __str__(self) -> str:
        return self.inner


def _xml_cell(ref: str, v: Cell) -> str:
    if isinstance(v, Xml):
        return f'<x:c r="{ref}" {v.attrs}>{v.inner}</x:c>'
    if isinstance(v, Rich):
        runs = "".join(f'<x:r><x:rPr><x:b/></x:rPr><x:t xml:space="preserve">{escape(t)}</x:t></x:r>' for t in v.runs)
        ph = (f'<x:rPh sb="0" eb="{len(str(v))}"><x:t>{escape(v.reading)}</x:t></x:rPh>'
              '<x:phoneticPr fontId="1"/>') if v.reading else ""
        return f'<x:c r="{ref}" t="inlineStr"><x:is>{runs}{ph}</x:is></x:c>'
    if isinstance(v, bool):
        return f'<x:c r="{ref}" t="b"><x:v>{int(v)}</x:v></x:c>'
    if isinstance(v, (int, float)):
        return f'<x:c r="{ref}"><x:v>{v}</x:v></x:c>'
    if isinstance(v, dt.date):
        day = v.date() if isinstance(v, dt.datetime) else v
        serial = (day - dt.date(1899, 12, 30)).days
        return f'<x:c r="{ref}"><x:v>{serial}</x:v></x:c>'  # no date style: a bare serial
    return f'<x:c r="{ref}" t="inlineStr"><x:is><x:t xml:space="preserve">{escape(str(v))}</x:t></x:is></x:c>'


def write_raw(sheets: list[Sheet]) -> bytes:
    """A package written by hand: `x:` prefixed SpreadsheetML, inline strings, no styles, no dimension."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        over = "".join(
            f'<Override PartName="/xl/worksheets/sheet{i}.xml" ContentType="application/'
            f'vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
            for i in range(1, len(sheets) + 1)
        )
        z.writestr("[Content_Types].xml", (
            '<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/'
            'package/2006/content-types"><Default Extension="rels" ContentType="application/'
            'vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" '
            'ContentType="application/xml"/><Override PartName="/xl/workbook.xml" ContentType='
            '"application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
            f"{over}</Types>"))
        z.writestr("_rels/.rels", (
            '<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.'
            'org/package/2006/relationships"><Relationship Id="r1" Type="http://schemas.openxmlformats.'
            'org/officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/></Relationships>'))
        entries = "".join(
            f'<x:sheet name="{escape(s.title)}" sheetId="{i}" r:id="s{i}"'
            f"{_HIDDEN if s.hidden else ''}/>"
            for i, s in enumerate(sheets, start=1)
        )
        z.writestr("xl/workbook.xml", (
            f'<?xml version="1.0" encoding="UTF-8"?><x:workbook xmlns:x="{_NS}" xmlns:r="{_REL}">'
            f"<x:sheets>{entries}</x:sheets></x:workbook>"))
        rels = "".join(
            f'<Relationship Id="s{i}" Type="{_REL}/worksheet" Target="worksheets/sheet{i}.xml"/>'
            for i in range(1, len(sheets) + 1)
        )
        z.writestr("xl/_rels/workbook.xml.rels", (
            '<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.'
            f'org/package/2006/relationships">{rels}</Relationships>'))
        for i, s in enumerate(sheets, start=1):
            body = []
            for r, row in enumerate(s.rows, start=1):
                cells = "".join(
                    _xml_cell(f"{get_column_letter(c)}{r}", v)
                    for c, v in enumerate(row, start=1) if v not in ("", None)
                )
                hid = ' hidden="1"' if r in s.hidden_rows else ""
                if cells or hid:
                    body.append(f'<x:row r="{r}"{hid}>{cells}</x:row>')
            merges = ""
            if s.merges:
                merges = f'<x:mergeCells count="{len(s.merges)}">' + "".join(
                    f'<x:mergeCell ref="{m}"/>' for m in s.merges) + "</x:mergeCells>"
            z.writestr(f"xl/worksheets/sheet{i}.xml", (
                f'<?xml version="1.0" encoding="UTF-8"?><x:worksheet xmlns:x="{_NS}" xmlns:r="{_REL}">'
                f'<x:sheetData>{"".join(body)}</x:sheetData>{merges}</x:worksheet>'))
    return buf.getvalue()


Edit = Callable[[list[Sheet]], None]


def _book(p: dict[str, Any] | None = None, edit: Edit | None = None, raw: bool = False) -> bytes:
    sheets = _sheets(p or _plan())
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


def _set_value(label: str, value: Cell) -> Edit:
    def run(sheets: list[Sheet]) -> None:
        s, r, c = _find(sheets, label)
        s.rows[r][c + 2] = value
    return run


def _relabel(old: str, new: str) -> Edit:
    def run(sheets: list[Sheet]) -> None:
        s, r, c = _find(sheets, old)
        s.rows[r][c] = new
    return run


def _both(*edits: Edit) -> Edit:
    def run(sheets: list[Sheet]) -> None:
        for e in edits:
            e(sheets)
    return run


def _with(**changes: Any) -> dict[str, Any]:
    p = _plan()
    p.update(changes)
    return p


def _member(i: int, col: int, value: Cell) -> dict[str, Any]:
    p = _plan()
    p["members"][i][col] = value
    return p


def _below(label: str) -> Edit:
    """The value typed under its label instead of beside it (a row inserted for it)."""
    def run(sheets: list[Sheet]) -> None:
        s, r, c = _find(sheets, label)
        value = s.rows[r][c + 2]
        s.rows[r][c + 2] = ""
        s.rows.insert(r + 1, [""] * c + [value])
    return run


def _unit_cell(label: str, number: Cell, unit: str) -> Edit:
    """The number in the value cell and its unit (千円, 円) in the next cell."""
    def run(sheets: list[Sheet]) -> None:
        s, r, c = _find(sheets, label)
        s.rows[r][c + 2] = number
        s.rows[r].append(unit)
    return run


def _rows_above(n: int, note: str = "") -> Edit:
    def run(sheets: list[Sheet]) -> None:
        for s in sheets:
            s.rows[:0] = [[note] if note else [] for _ in range(n)]
    return run


def _title_rename(*titles: str) -> Edit:
    def run(sheets: list[Sheet]) -> None:
        for s, t in zip(sheets, titles, strict=False):
            s.title = t
    return run


def _reorder(sheets: list[Sheet]) -> None:
    sheets.reverse()


def _example_sheet(first: bool) -> Edit:
    """A 記入例 sheet left in the book with the template's sample values (an over-cap example)."""
    def run(sheets: list[Sheet]) -> None:
        p = _with(consortium="○○連携コンソーシアム", lead="株式会社○○", requested=99000000, total=100000000)
        sample = _sheets(p)[0]
        sample.title = "記入例"
        sample.rows[0] = ["", "【記入例】補助金交付申請書"]
        sheets.insert(0 if first else len(sheets), sample)
    return run


def _header_word(old: str, new: str) -> Edit:
    def run(sheets: list[Sheet]) -> None:
        s, r, c = _find(sheets, old)
        s.rows[r][c] = new
    return run


def _blank_member_rows(sheets: list[Sheet]) -> None:
    s, r, _ = _find(sheets, MEMBERS[1][0])
    s.rows.insert(r, [])
    s.rows.insert(r + 2, [])


def _thousands_costs(sheets: list[Sheet]) -> None:
    """The cost table kept in 千円: the header says so and every amount is a thousandth."""
    s, r, c = _find(sheets, "補助対象経費")
    s.rows[r][c] = "補助対象経費(千円)"
    for row in s.rows[r + 1:]:
        if len(row) > c and isinstance(row[c], int):
            row[c] //= 1000


def _subtotals(sheets: list[Sheet]) -> None:
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


def _furigana_raw(sheets: list[Sheet]) -> None:
    """Labels with their reading kept beside them, as the IME's phonetic text shows when pasted."""
    for old, new in (("事業者名", "事業者名\n(ジギョウシャメイ)"), ("幹事社名", "幹事社名（かんじしゃめい）")):
        s, r, c = _find(sheets, old)
        s.rows[r][c] = new


def variants() -> list[Variant3]:
    out: list[Variant3] = []
    none: frozenset[str] = frozenset()

    def add(name: str, codes: set[str] | frozenset[str], why: str,
            p: dict[str, Any] | None = None, edit: Edit | None = None, both: bool = True) -> None:
        out.append(Variant3(f"c3-{name}.xlsx", _book(p, edit), frozenset(codes), why))
        if both:
            out.append(Variant3(f"c3-{name}-raw.xlsx", _book(p, edit, raw=True), frozenset(codes), why))

    over = {"AMOUNT_OVER_CAP"}
    add("base", none, "the sample as written")
    # Amounts typed as text
    add("req-senen", none, "申請額 in 千円", _with(requested="19,966千円"))
    add("req-man", none, "申請額 in 万円 with a decimal", _with(requested="1,996.6万円"))
    add("total-man", none, "経費合計 in 万円", _with(total="3,000万円"))
    add("req-fullwidth", none, "full-width digits and comma", _with(requested="１９，９６６，０００"))
    add("req-dash-tail", none, "amount closed with a dash", _with(requested="19,966,000-"))
    add("req-yen-fw-dash", none, "￥ and a full-width dash", _with(requested="￥19,966,000－"))
    add("req-kin-en", none, "金…円也", _with(requested="金19,966,000円也"))
    add("req-spaces", none, "spaces between digit groups", _with(requested="19 966 000 円"))
    add("req-fraction", none, "a fraction of a yen", _with(requested="19,966,000.5"))
    add("req-float", none, "a float cell", _with(requested=19966000.0))
    add("req-over-senen", over, "申請額 over 2/3, in 千円", _with(requested="20,100千円"))
    add("req-over-man", over, "申請額 over 2/3, in 万円", _with(requested="2,010万円"))
    add("req-kanji-man", none, "漢数字 with 万", _with(requested="1996万6千円"))
    add("req-unit-cell", none, "number in 千円 with the unit in the next cell",
        edit=_unit_cell("補助金交付申請額", 19966, "千円"))
    add("req-unit-cell-en", none, "number with 円 in the next cell",
        edit=_unit_cell("補助金交付申請額", 19966000, "円"))
    add("req-label-senen", none, "label says (千円) and the value is in thousands",
        edit=_both(_relabel("補助金交付申請額", "補助金交付申請額（千円）"),
                   _set_value("補助金交付申請額（千円）", 19966),
                   _relabel("補助対象経費合計", "補助対象経費合計（千円）"),
                   _set_value("補助対象経費合計（千円）", 30000)))
    add("costs-senen", none, "cost table in 千円", edit=_thousands_costs)
    add("costs-subtotals", none, "小計 after each STEP, 総計 at the end", edit=_subtotals)
    # Capital and employees
    add("cap-oku", none, "capital as 3億円 (vendor at the line)", _member(2, 4, "3億円"))
    add("cap-senen", none, "capital in 千円", _member(0, 4, "30,000千円"))
    add("cap-man", none, "capital in 万円", _member(0, 4, "3,000万円"))
    add("emp-yaku", none, "employees 約80名", _member(0, 5, "約80名"))
    add("emp-note", none, "employees with a note", _member(0, 5, "80人（パート除く）"))
    add("vendor-large-words", over, "vendor capital 10億円 and 1,200名",
        edit=_both(_member_cell(2, 4, "10億円"), _member_cell(2, 5, "1,200名")))
    add("vendor-large-senen", over, "vendor capital 1,000,000千円 and 500人",
        edit=_both(_member_cell(2, 4, "1,000,000千円"), _member_cell(2, 5, "500人")))
    # Labels
    add("label-spaced", none, "labels with spaces between characters",
        edit=_both(_relabel("幹事社名", "幹 事 社 名"), _relabel("補助金交付申請額", "補助金交付申請額　"),
                   _header_word("事業者名", "事 業 者 名")))
    add("label-break", none, "a label broken over two lines",
        edit=_relabel("補助金交付申請額", "補助金交付\n申請額"))
    add("label-note", none, "label with its rule in brackets",
        edit=_both(_relabel("補助金交付申請額", "補助金交付申請額（補助対象経費×2/3以内）"),
                   _relabel("補助対象経費合計", "補助対象経費合計（税抜）")))
    add("label-furigana", none, "labels with their reading", edit=_furigana_raw)
    add("value-below", none, "the date typed under its label", edit=_below("申請日"))
    add("rows-above", none, "three rows inserted above everything", edit=_rows_above(3))
    add("rows-above-note", none, "a note row inserted above", edit=_rows_above(1, "※太枠内を記入してください"))
    # Sheets
    add("sheets-renamed", none, "sheets renamed Sheet1..3", edit=_title_rename("Sheet1", "Sheet2", "Sheet3"))
    add("sheets-yoshiki", none, "sheets renamed 様式第1..3", edit=_title_rename("様式第1", "様式第2", "様式第3"))
    add("sheets-reordered", none, "sheets in reverse order", edit=_reorder)
    add("example-first", none, "記入例 sheet left in front", edit=_example_sheet(True))
    add("example-last", none, "記入例 sheet left at the end", edit=_example_sheet(False))
    add("blank-member-rows", none, "blank rows between members", edit=_blank_member_rows)
    # Dates
    for tag, end, codes in (
        ("wareki", "令和5年1月31日", none), ("r-dots", "R5.1.31", none), ("slash", "2023/1/31", none),
        ("fw-wareki", "令和５年１月３１日", none), ("gannen-late", "令和5年2月28日", {"PROJECT_PERIOD"}),
        ("r-late", "R5.3.31", {"PROJECT_PERIOD"}), ("dots-late", "2023.02.28", {"PROJECT_PERIOD"}),
        ("boundary", "2023年2月10日", none), ("serial", 44957, none), ("serial-late", 44985, {"PROJECT_PERIOD"}),
        ("weekday", "2023年1月31日(火)", none), ("h-era-late", "R05.02.11", {"PROJECT_PERIOD"}),
    ):
        add(f"end-{tag}", codes, f"完了予定日 {end!r}", _with(end=end))
    for tag, applied in (("r", "R4.8.20"), ("wareki", "令和4年8月20日"), ("kanji", "令和四年八月二十日")):
        add(f"applied-{tag}", none, f"申請日 {applied}", _with(applied=applied))
    # Members and roles
    for tag, mark in (("maru2", "◎"), ("zero", "〇"), ("dot", "●"), ("true", True), ("check", "✔")):
        add(f"lead-{tag}", none, f"幹事社 marked {mark!r}", _member(0, 2, mark))
    add("role-vendor-fw", none, "ＩＴベンダー in full width", _member(3, 1, "ＩＴベンダー"))
    add("role-sme-words", none, "中小企業（ユーザ） in words", _member(1, 1, "中小企業（ユーザ企業）"))
    add("role-vendor-lead", none, "ITベンダ（幹事社） in the role", _member(2, 1, "ITベンダ（連携開発）"))
    add("one-vendor", {"CONSORTIUM_COMPOSITION"}, "second vendor written as その他協力者",
        _member(3, 1, "その他協力者"))
    add("minashi", over, "vendor declared みなし大企業 (small numbers, large parent)",
        edit=_both(_header_word("法人番号", "法人番号"), _vendor_size("みなし大企業")), both=True)
    add("corp-hyphen", none, "法人番号 with hyphens", _member(0, 6, f"{MEMBERS[0][6][0]}-{MEMBERS[0][6][1:5]}-"
                                                           f"{MEMBERS[0][6][5:9]}-{MEMBERS[0][6][9:]}"))
    add("corp-typo", {"CORPORATE_NUMBER_INVALID"}, "法人番号 with a digit wrong",
        _member(1, 6, MEMBERS[1][6][:-1] + str((int(MEMBERS[1][6][-1]) + 1) % 10)))
    add("name-space-diff", none, "consortium name with a full-width space on one sheet",
        _with(plan_consortium="北陸ものづくり　データ連携協議会"))
    add("name-differs", {"CONSORTIUM_NAME_MISMATCH"}, "a different consortium name in the plan",
        _with(plan_consortium="北陸ものづくりDX推進協議会"))
    return out


def _vendor_size(word: str) -> Edit:
    """Add a 企業規模 column and declare the vendor's size in words."""
    def run(sheets: list[Sheet]) -> None:
        s, r, c = _find(sheets, "法人番号")
        s.rows[r].append("企業規模")
        for k in range(len(MEMBERS)):
            s.rows[r + 1 + k].append(word if k == 2 else "中小企業")
    return run


def _cell(label: str, value: Cell, offset: int = 2) -> Edit:
    """Replace the cell `offset` columns right of the label (0: the label cell itself)."""
    def run(sheets: list[Sheet]) -> None:
        s, r, c = _find(sheets, label)
        s.rows[r][c + offset] = value
    return run


def _member_cell(i: int, col: int, value: Cell) -> Edit:
    def run(sheets: list[Sheet]) -> None:
        s = sheets[0]
        s.rows[10 + i][1 + col] = value  # the member table's rows start on row 11
    return run


def _raw_variants() -> list[Variant3]:
    """Cells only a hand-written or non-Excel package has: rich runs, furigana, typed cells."""
    out: list[Variant3] = []

    def add(name: str, codes: set[str], why: str, edit: Edit, p: dict[str, Any] | None = None) -> None:
        out.append(Variant3(f"c3x-{name}.xlsx", _book(p, edit, raw=True), frozenset(codes), why))

    add("rich-label", set(), "label split over two formatted runs",
        _cell("補助金交付申請額", Rich(("補助金交付", "申請額")), 0))
    add("furigana-label", set(), "labels with their phonetic reading",
        _both(_cell("幹事社名", Rich(("幹事社名",), "カンジシャメイ"), 0),
              _cell("事業者名", Rich(("事業者名",), "ジギョウシャメイ"), 0)))
    add("furigana-value", set(), "consortium name with its phonetic reading",
        _cell("コンソーシアム名", Rich((CONSORTIUM,), "ホクリクモノヅクリデータレンケイキョウギカイ")))
    add("sci-number", set(), "an amount saved in exponent notation",
        _cell("補助金交付申請額", Xml("", "<x:v>1.9966E7</x:v>")))
    add("formula-cached", set(), "an amount as a formula with its cached value",
        _cell("補助対象経費合計", Xml("", "<x:f>SUM(補助対象経費内訳書!H4:H11)</x:f><x:v>30000000</x:v>")))
    add("formula-str", set(), "a name as a string formula result",
        _cell("幹事社名", Xml('t="str"', f"<x:f>交付申請書!B11</x:f><x:v>{MEMBERS[0][0]}</x:v>")))
    add("iso-date", set(), "a date cell typed t=\"d\" (ISO 8601)",
        _cell("事業完了予定日", Xml('t="d"', "<x:v>2023-01-31T00:00:00</x:v>")))
    add("iso-date-late", {"PROJECT_PERIOD"}, "a late date cell typed t=\"d\"",
        _cell("事業完了予定日", Xml('t="d"', "<x:v>2023-03-31T00:00:00</x:v>")))
    add("error-amount", {"FORM_FIELD_MISSING"}, "申請額 left as #REF!",
        _cell("補助金交付申請額", Xml('t="e"', "<x:f>#REF!*2/3</x:f><x:v>#REF!</x:v>")))
    add("bool-lead", set(), "幹事社 a TRUE check box cell", _member_cell(0, 2, Xml('t="b"', "<x:v>1</x:v>")))
    add("bool-false-others", set(), "幹事社 FALSE for the others",
        _both(*(_member_cell(i, 2, Xml('t="b"', "<x:v>0</x:v>")) for i in (1, 2, 3))))
    add("vendor-cap-dash-5000", {"FORM_FIELD_MISSING"}, "a 株式会社 vendor's capital － (not an answer) and 5,000人",
        _both(_member_cell(2, 4, "－"), _member_cell(2, 5, "5,000人")))
    add("sme-cap-blank", set(), "SME user capital blank, employees under the line", _member_cell(1, 4, ""))
    add("vendor-cap-blank-small", set(), "vendor capital blank, 12 employees", _member_cell(3, 4, ""))
    add("sole-proprietor", set(), "a 個人事業主 SME user",
        _both(_member_cell(1, 4, "なし"), _member_cell(1, 6, "－")),
        p=_member(1, 0, "ひまわり運輸 日向 太郎（個人事業主）"))
    add("hardware", {"COST_NOT_ELIGIBLE"}, "a hardware cost row",
        _cell("生産管理パッケージ", "ハードウェア購入費（サーバ機器）", -1))
    add("commas-odd", set(), "commas in the wrong places", _cell("補助金交付申請額", "19,96,6000"))
    return out


def _member_rows(sheets: list[Sheet]) -> tuple[Sheet, int]:
    s = sheets[0]
    return s, 10


def _members_on_next_sheet(sheets: list[Sheet]) -> None:
    """The last two members continued on a sheet of their own under the same headers."""
    s, r = _member_rows(sheets)
    rest = s.rows[r + 2:r + 4]
    del s.rows[r + 2:r + 4]
    sheets.insert(1, Sheet("交付申請書(続き)", [["", "コンソーシアム構成員（続き）"], s.rows[r - 1], *rest]))


def _stale_copy(sheets: list[Sheet]) -> None:
    """A hidden copy of an earlier draft of the application sheet, over the cap."""
    p = _with(requested=25000000)
    old = _sheets(p)[0]
    old.title = "交付申請書 (旧)"
    old.hidden = True
    sheets.append(old)


def _costs_short_names(sheets: list[Sheet]) -> None:
    """The cost table names members as people abbreviate them."""
    s = sheets[2]
    short = {MEMBERS[0][0]: "(株)あおば製作所", MEMBERS[1][0]: "ひまわり運輸㈱", MEMBERS[2][0]: "テクノブリッジ",
             MEMBERS[3][0]: "(同)クラウドワークス北陸"}
    for row in s.rows:
        if len(row) > 1 and row[1] in short:
            row[1] = short[row[1]]


def _merged_labels(sheets: list[Sheet]) -> None:
    """Labels merged over B:C, value in D (the spacer swallowed by the label)."""
    s = sheets[0]
    for r in range(2, 7):
        s.merges.append(f"B{r + 1}:C{r + 1}")


def _merged_value_far(sheets: list[Sheet]) -> None:
    """Label merged over B:D, value in F (two cells right of the merged block)."""
    s = sheets[0]
    for r in range(2, 7):
        row = s.rows[r]
        row += [""] * (6 - len(row))
        row[5], row[3] = row[3], ""
        s.merges.append(f"B{r + 1}:D{r + 1}")


def _third_batch() -> list[Variant3]:
    out: list[Variant3] = []

    def add(name: str, codes: set[str], why: str, edit: Edit | None = None,
            p: dict[str, Any] | None = None) -> None:
        for raw in (False, True):
            data = _book(p, edit, raw=raw)
            out.append(Variant3(f"c3t-{name}{'-raw' if raw else ''}.xlsx", data, frozenset(codes), why))

    add("members-continued", set(), "member table continued on a second sheet", _members_on_next_sheet)
    add("stale-hidden-copy", set(), "a hidden earlier draft of the application sheet", _stale_copy)
    add("costs-short-names", set(), "cost rows name members by short names", _costs_short_names)
    add("merged-labels", set(), "labels merged over the spacer", _merged_labels)
    add("merged-value-far", set(), "label merged B:D, value in F", _merged_value_far)
    add("sample-left", {"FORM_FIELD_MISSING"}, "the template's sample consortium name left in",
        p=_with(consortium="○○○○コンソーシアム", plan_consortium="○○○○コンソーシアム"))
    return out


def _cost_cell(row: int, col: int, value: Cell) -> Edit:
    """Replace a cell of cost row `row` (0-based among the cost rows; col 1 = 事業者名)."""
    def run(sheets: list[Sheet]) -> None:
        s = next(x for x in sheets if any("補助対象経費内訳書" in str(v) for v in x.rows[0]))
        s.rows[3 + row][col] = value
    return run


def _discount_row(sheets: list[Sheet]) -> None:
    """A 値引き row written with △, the other rows raised so every total still holds."""
    s = next(x for x in sheets if any("補助対象経費内訳書" in str(v) for v in x.rows[0]))
    s.rows[3 + 4][6] = 12500000
    s.rows.insert(3 + 5, ["", MEMBERS[2][0], "STEP3", "人件費", "出精値引き", "", "△500,000"])


def _fourth_batch() -> list[Variant3]:
    """Industries as companies write them, cost cells as people type them."""
    out: list[Variant3] = []

    def add(name: str, codes: set[str], why: str, edit: Edit | None = None,
            p: dict[str, Any] | None = None) -> None:
        for raw in (False, True):
            data = _book(p, edit, raw=raw)
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
        p = _plan()
        p["members"][1][3:6] = [industry, capital, employees]
        add(f"industry-{tag}", codes, f"SME user's 業種 {industry} ({capital:,}円, {employees}人)", p=p)
    add("category-software-e", set(), "ソフトウエア購入費 with a large エ", _cost_cell(0, 3, "ソフトウエア購入費"))
    add("category-cloud-short", set(), "クラウド利用料 for the cloud service", _cost_cell(1, 3, "クラウド利用料"))
    add("category-halfwidth", set(), "経費区分 in half-width katakana", _cost_cell(0, 3, "ｿﾌﾄｳｪｱ購入費"))
    for tag, step in (("fw", "ＳＴＥＰ３"), ("spaced", "STEP 3"), ("katakana", "ステップ3"), ("circled", "③"),
                      ("with-name", "STEP3：設計・開発"), ("lower", "step3")):
        add(f"step-{tag}", set(), f"工程 written {step!r}", _cost_cell(4, 2, step))
    add("subcontract-over", {"SUBCONTRACT_OVER_HALF"}, "下請け 有 at 12,000,000 of a 21,000,000 STEP3",
        _both(_cost_cell(4, 6, 3000000), _cost_cell(5, 6, 12000000), _cost_cell(5, 5, "有")))
    add("subcontract-mu", set(), "下請け発注 column 無 for the others",
        _both(*(_cost_cell(i, 5, "無") for i in (0, 1, 2, 3, 4, 6, 7))))
    add("cost-yen-text", set(), "amounts typed as text with 円", _cost_cell(0, 6, "3,000,000円"))
    add("cost-fullwidth", set(), "amount in full-width digits", _cost_cell(1, 6, "１，０００，０００"))
    add("cost-discount", set(), "a △ discount row", _discount_row)
    for tag, end, codes in (("yyyymmdd", 20230131, set()), ("yyyymmdd-late", 20230228, {"PROJECT_PERIOD"}),
                            ("iso-text", "2023-01-31 00:00:00", set()), ("both-eras", "令和5(2023)年1月31日", set()),
                            ("dt", dt.datetime(2023, 1, 31, 0, 0), set())):
        add(f"end-{tag}", codes, f"完了予定日 {end!r}", p=_with(end=end))
    return out


def _step_groups(sheets: list[Sheet]) -> None:
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


def _lead_in_name(sheets: list[Sheet]) -> None:
    """No ○ anywhere: the lead written after its name in the member table."""
    s = sheets[0]
    s.rows[10][1] = f"{MEMBERS[0][0]}（幹事社）"
    for r in range(10, 14):
        s.rows[r][3] = ""


def _capital_in_millions(sheets: list[Sheet]) -> None:
    """資本金 column kept in 百万円, as a company profile gives it."""
    s = sheets[0]
    s.rows[9][5] = "資本金（百万円）"
    for r in range(10, 14):
        s.rows[r][5] = s.rows[r][5] / 1_000_000


def _numbers_export(sheets: list[Sheet]) -> None:
    """As Numbers exports: a 書き出しの概要 sheet first, each sheet named 「… - 表1」 with the
    table's name above it."""
    listing: Rows = [["このドキュメントはNumbersから書き出されました。各表はExcelワークシートに変換されています。"], [],
                     ["Numbersシート名", "Numbers表名", "Excelワークシート名"]]
    for s in sheets:
        listing.append([s.title, "表1", f"{s.title} - 表1"])
        s.title = f"{s.title} - 表1"
        s.rows.insert(0, ["表1"])
    sheets.insert(0, Sheet("書き出しの概要", listing))


def _fifth_batch() -> list[Variant3]:
    out: list[Variant3] = []

    def add(name: str, codes: set[str], why: str, edit: Edit | None = None,
            p: dict[str, Any] | None = None) -> None:
        for raw in (False, True):
            data = _book(p, edit, raw=raw)
            out.append(Variant3(f"c3h-{name}{'-raw' if raw else ''}.xlsx", data, frozenset(codes), why))

    add("cap-hyakuman", set(), "capital as 30百万円", edit=_member_cell(0, 4, "30百万円"))
    add("cap-hyakuman-large", {"AMOUNT_OVER_CAP"}, "vendor capital 1,000百万円 and 500人",
        edit=_both(_member_cell(2, 4, "1,000百万円"), _member_cell(2, 5, 500)))
    add("cap-column-millions", set(), "資本金 column in 百万円", edit=_capital_in_millions)
    add("emp-part", set(), "従業員数 with part-timers noted", edit=_member_cell(0, 5, "80名（うちパート10名）"))
    for tag, end, codes in (("no-era", "5年1月31日", set()), ("no-era-late", "5年3月31日", {"PROJECT_PERIOD"}),
                            ("two-digit", "23/1/31", set()), ("r-zero", "R05/01/31", set()),
                            ("fw-r", "Ｒ５．１．３１", set()), ("made", "令和5年1月31日まで", set()),
                            ("yotei", "2023年1月31日（予定）", set()), ("rei", "令5.1.31", set())):
        add(f"end-{tag}", codes, f"完了予定日 {end!r}", p=_with(end=end))
    for tag, role in (("user", "ユーザ企業"), ("user-long", "中小ユーザー企業"), ("vendor-long", "ITベンダー企業")):
        add(f"role-{tag}", set(), f"区分 {role}", edit=_member_cell(1 if "user" in tag else 3, 1, role))
    add("lead-word", set(), "幹事社 column says 幹事", edit=_member_cell(0, 2, "幹事"))
    add("lead-in-name", set(), "(幹事社) after the lead's name, no tick column", edit=_lead_in_name)
    add("step-groups", set(), "STEP group rows instead of a 工程 column", edit=_step_groups)
    add("category-gaichu", set(), "外注費 for the vendor's 下請け", edit=_cost_cell(5, 3, "外注費"))
    add("numbers-export", set(), "exported from Numbers", edit=_numbers_export)
    add("numbers-export-over", {"AMOUNT_OVER_CAP"}, "exported from Numbers, over 2/3", edit=_numbers_export,
        p=_with(requested=20100000))
    add("lead-black-square", set(), "幹事社 ■ for the lead, □ for the others",
        edit=_both(_member_cell(0, 2, "■"), *(_member_cell(i, 2, "□") for i in (1, 2, 3))))
    add("corp-number-cell", set(), "法人番号 typed as a number", edit=_member_cell(0, 6, int(MEMBERS[0][6])))
    add("corp-spaced", set(), "法人番号 in groups with spaces",
        edit=_member_cell(1, 6, " ".join((MEMBERS[1][6][:1], MEMBERS[1][6][1:5], MEMBERS[1][6][5:9],
                                           MEMBERS[1][6][9:]))))
    add("label-value-one-cell", set(), "label and value in one cell over two lines",
        edit=_both(_cell("補助金交付申請額", "補助金交付申請額\n19,966,000円", 0),
                   _cell("補助金交付申請額\n19,966,000円", "")))
    add("nbsp", set(), "a no-break space after the amount", p=_with(requested="19,966,000\u00a0"))
    return out


def _role_tick_columns(sheets: list[Sheet]) -> None:
    """区分 as three tick columns (該当に○), as many Japanese forms lay it out."""
    s = sheets[0]
    kinds = ["中小ユーザ企業", "ITベンダ", "その他協力者"]
    head = s.rows[9]
    s.rows[9] = [head[0], head[1], *kinds, *head[3:]]
    s.rows.insert(9, ["", "", "区分（該当に○）"])
    for r in range(11, 15):
        row = s.rows[r]
        s.rows[r] = [row[0], row[1], *["○" if k == row[2] else "" for k in kinds], *row[3:]]


def _total_first(sheets: list[Sheet]) -> None:
    """The cost table's 合計 row right under its header, above the detail rows."""
    s = sheets[2]
    total = s.rows.pop()
    s.rows.insert(3, total)


def _tax_columns(sheets: list[Sheet]) -> None:
    """税抜 (the eligible amount), 消費税 and 税込 columns side by side."""
    s = sheets[2]
    s.rows[2][6:] = ["補助対象経費（税抜）", "消費税", "合計（税込）"]
    for row in s.rows[3:]:
        amount = row[6]
        row[6:] = [amount, amount // 10, amount + amount // 10]


def _numbered_labels(style: Callable[[int], str]) -> Edit:
    """Every field label of the application and plan numbered in one style."""
    def run(sheets: list[Sheet]) -> None:
        for s in sheets[:2]:
            n = 0
            for row in s.rows:
                if len(row) == 4 and row[1] and row[3] not in ("", None):  # 「| label | | value」
                    n += 1
                    row[1] = style(n) + row[1]
    return run


_KANA = "アイウエオカキクケコ"


def _sixth_batch() -> list[Variant3]:
    out: list[Variant3] = []

    def add(name: str, codes: set[str], why: str, edit: Edit | None = None,
            p: dict[str, Any] | None = None) -> None:
        for raw in (False, True):
            data = _book(p, edit, raw=raw)
            out.append(Variant3(f"c3k-{name}{'-raw' if raw else ''}.xlsx", data, frozenset(codes), why))

    add("yen-dot-dash", set(), "amount closed with .-", p=_with(requested="¥19,966,000.-"))
    add("total-spaced", set(), "合 計 with a space", edit=_cell("合計", "合　計", 0))
    add("total-first", set(), "合計 row above the details", edit=_total_first)
    add("tax-columns", set(), "税抜・消費税・税込 columns", edit=_tax_columns)
    add("role-ticks", set(), "区分 as tick columns", edit=_role_tick_columns)
    add("zwsp-name", set(), "a zero-width space pasted after the plan's consortium name",
        p=_with(plan_consortium=CONSORTIUM + "\u200b"))
    add("zwsp-amount", set(), "a zero-width space pasted into the amount", p=_with(requested="\u200b19,966,000"))
    add("cap-with-label", set(), "capital typed with its label", edit=_member_cell(0, 4, "資本金 3,000万円"))
    add("req-kome-note", set(), "amount followed by a ※ note", p=_with(requested="19,966,000円 ※千円未満切捨て"))
    add("end-kome-note", set(), "date followed by a ※ note", p=_with(end="2023年1月31日 ※予定"))
    add("end-kome-late", {"PROJECT_PERIOD"}, "late date followed by a ※ note", p=_with(end="2023年3月31日 ※予定"))
    for tag, style in (("kana-paren", lambda n: f"({_KANA[n - 1]})"), ("kana-dot", lambda n: f"{_KANA[n - 1]}．"),
                       ("kana-half", lambda n: f"{_KANA[n - 1]}) "), ("dash-number", lambda n: f"1-{n} "),
                       ("dash-number-dot", lambda n: f"1-{n}."), ("number-space", lambda n: f"{n} "),
                       ("fw-number-space", lambda n: f"{chr(0xFF10 + n)}\u3000"),
                       ("required-bracket", lambda n: "〔必須〕"), ("required-angle", lambda n: "<必須>")):
        add(f"labels-{tag}", set(), f"labels numbered {style(1)!r}", edit=_numbered_labels(style))
    add("labels-diamonds", set(), "labels between ◆ marks",
        edit=_both(_relabel("補助金交付申請額", "◆補助金交付申請額◆"), _relabel("幹事社名", "◆幹事社名◆")))
    add("labels-note-number", set(), "labels with 注1 after them",
        edit=_both(_relabel("補助金交付申請額", "補助金交付申請額 注1"),
                   _relabel("事業完了予定日", "事業完了予定日 注2")))
    add("cap-column-senen", set(), "資本金（千円） column in thousands",
        edit=_both(_header_word("資本金", "資本金（千円）"),
                   *(_member_cell(i, 4, MEMBERS[i][4] // 1000) for i in range(4))))
    add("cap-column-senen-large", {"AMOUNT_OVER_CAP"}, "資本金（千円） column, a vendor at 1,000,000千円 and 500人",
        edit=_both(_header_word("資本金", "資本金（千円）"),
                   *(_member_cell(i, 4, MEMBERS[i][4] // 1000) for i in range(4)),
                   _member_cell(2, 4, 1000000), _member_cell(2, 5, 500)))
    add("cost-header-unit", set(), "補助対象経費 (単位:円) header",
        edit=_header_word("補助対象経費", "補助対象経費\n(単位:円)"))
    add("cost-header-kome", set(), "headers with ※", edit=_both(_header_word("経費区分", "経費区分※"),
                                                                  _header_word("工程", "工程※1")))
    add("role-ticks-one-vendor", {"CONSORTIUM_COMPOSITION"}, "区分 as tick columns, one vendor only",
        edit=_role_tick_columns, p=_member(3, 1, "その他協力者"))
    return out


def all_variants() -> list[Variant3]:
    return (variants() + _raw_variants() + _third_batch() + _fourth_batch() + _other_formats()
            + _fifth_batch() + _sixth_batch())


def write_xls(sheets: list[Sheet]) -> bytes:
    """BIFF8 as older Japanese offices still save it (xlwt): dates with a date format, hidden sheets."""
    import xlwt

    book = xlwt.Workbook(encoding="utf-8")
    day = xlwt.easyxf(num_format_str="ge.m.d")  # 和暦 display, as a Japanese office template has
    for s in sheets:
        ws = book.add_sheet(s.title[:31])
        for r, row in enumerate(s.rows):
            for c, v in enumerate(row):
                if v in ("", None):
                    continue
                if isinstance(v, dt.date):
                    ws.write(r, c, v, day)
                else:
                    ws.write(r, c, v if isinstance(v, (int, float, bool)) else str(v))
        for m in s.merges:
            (c0, r0, c1, r1) = range_boundaries(m)
            ws.merge(r0 - 1, r1 - 1, c0 - 1, c1 - 1)
        if s.hidden:
            ws.visibility = 1
    buf = io.BytesIO()
    book.save(buf)
    return buf.getvalue()


def write_ods(sheets: list[Sheet]) -> bytes:
    """OpenDocument as LibreOffice saves it (odfpy): typed cells, hidden sheets by a table style."""
    from odf.opendocument import OpenDocumentSpreadsheet
    from odf.style import Style, TableProperties
    from odf.table import Table, TableCell, TableRow
    from odf.text import P

    doc = OpenDocumentSpreadsheet()
    hidden = Style(name="hiddenTable", family="table")
    hidden.addElement(TableProperties(display="false"))
    doc.automaticstyles.addElement(hidden)
    for s in sheets:
        table = Table(name=s.title, **({"stylename": hidden} if s.hidden else {}))
        for row in s.rows:
            tr = TableRow()
            for v in row:
                if v in ("", None):
                    tr.addElement(TableCell())
                elif isinstance(v, bool):
                    cell = TableCell(valuetype="boolean", booleanvalue=str(v).lower())
                    cell.addElement(P(text=str(v).upper()))
                    tr.addElement(cell)
                elif isinstance(v, (int, float)):
                    cell = TableCell(valuetype="float", value=v)
                    cell.addElement(P(text=f"{v:,}"))
                    tr.addElement(cell)
                elif isinstance(v, dt.date):
                    cell = TableCell(valuetype="date", datevalue=v.isoformat())
                    cell.addElement(P(text=v.strftime("%Y/%m/%d")))
                    tr.addElement(cell)
                else:
                    cell = TableCell(valuetype="string")
                    for line in str(v).split("\n"):
                        cell.addElement(P(text=line))
                    tr.addElement(cell)
            table.addElement(tr)
        doc.spreadsheet.addElement(table)
    buf = io.BytesIO()
    doc.save(buf)
    return buf.getvalue()


def _other_formats() -> list[Variant3]:
    """The same habits saved as .xls and .ods."""
    out: list[Variant3] = []
    cases: list[tuple[str, set[str], Edit | None, dict[str, Any] | None]] = [
        ("base", set(), None, None),
        ("req-senen", set(), None, _with(requested="19,966千円")),
        ("over", {"AMOUNT_OVER_CAP"}, None, _with(requested=20100000)),
        ("end-late", {"PROJECT_PERIOD"}, None, _with(end=dt.date(2023, 3, 31))),
        ("end-wareki", set(), None, _with(end="令和5年1月31日")),
        ("stale-hidden-copy", set(), _stale_copy, None),
        ("example-first", set(), _example_sheet(True), None),
        ("label-break", set(), _relabel("補助金交付申請額", "補助金交付\n申請額"), None),
        ("one-vendor", {"CONSORTIUM_COMPOSITION"}, None, _member(3, 1, "その他協力者")),
        ("sheets-renamed", set(), _title_rename("Sheet1", "Sheet2", "Sheet3"), None),
        ("cost-discount", set(), _discount_row, None),
        ("merged-labels", set(), _merged_labels, None),
        ("merged-value-far", set(), _merged_value_far, None),
        ("role-ticks", set(), _role_tick_columns, None),
        ("labels-fw-number", set(), _numbered_labels(lambda n: f"{chr(0xFF10 + n)}\u3000"), None),
        ("industry-wholesale-goods", {"SME_INELIGIBLE"}, _both(_member_cell(1, 3, "ソフトウェア製品卸売業"),
                                                                _member_cell(1, 4, 200000000),
                                                                _member_cell(1, 5, 150)), None),
    ]
    for name, codes, edit, p in cases:
        for ext, writer in (("xls", write_xls), ("ods", write_ods)):
            sheets = _sheets(p or _plan())
            if edit:
                edit(sheets)
            out.append(Variant3(f"c3f-{name}.{ext}", writer(sheets), frozenset(codes), f"{name} saved as .{ext}"))
    return out


# --- a whole set, as one mail carries it ----------------------------------------------------------

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
SET_VARIANTS: list[tuple[str, Callable[[], Sheet], set[str]]] = [  # the application as _plan()
    ("info-in-thousands", _info_in_thousands, set()),
    ("info-short-names", _info_short_names, set()),
    ("info-with-helper", _info_with_helper, set()),
    ("info-requested-differs", _info_over, {"SUM_MISMATCH"}),
]


def numbers_package() -> bytes:
    """An Apple Numbers document as saved on a Mac: a zip of .iwa streams, not an Office file."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("Index/Document.iwa", b"\x00\x9b\x01\x00" + bytes(range(64)))
        z.writestr("Index/Tables/DataList.iwa", b"\x00\x10\x00\x00" + bytes(16))
        z.writestr("Metadata/Properties.plist", b"bplist00\xd1\x01\x02")
        z.writestr("preview.jpg", b"\xff\xd8\xff\xe0" + bytes(32))
    return buf.getvalue()
