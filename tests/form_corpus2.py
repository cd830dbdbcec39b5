"""A second reading corpus: application files laid out the way other secretariats' templates and
other applicants' Excel habits lay them out, each with the finding codes the program page expects.

Written from the program page and SPEC only (the field list of each form, not its cell positions):
vertical key-value sheets, members as blocks, transposed cost tables, era dates in separate cells,
千円 units, trailing 「円」 cells, 〃/同上 repeats, comments, hyperlinks, rich text, apostrophe
numbers, stray and non-breaking spaces, hyphenated 法人番号, English sheet names, instruction blocks,
frozen panes, validations, ☑/レ ticks, .xls and .ods. Every deficiency sits far from its boundary
so that no reasonable interpretation of the page changes the verdict.
"""

from __future__ import annotations

import copy
import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

from tests.corpus2_books import C, Sheet, _col, to_ods, to_xls, to_xlsx, xlsx_as_generated
from tests.corpus2_forms import (
    CATEGORIES,
    COLLABORATOR,
    STEP_NAMES,
    Cost,
    Plan,
    Style,
    application,
    base_plan,
    checklist,
    corporate_number,
    era,
    member_info,
    member_info_sheets,
    submission,
    yen_comma,
    yen_fullwidth,
    yen_man,
    yen_quoted,
    yen_suffix,
)
from tests.corpus2_layouts import by_category, member_sheets, step_blocks, with_costs

# --------------------------------------------------------------------------- variants


@dataclass(frozen=True)
class Variant2:
    name: str
    files: dict[str, bytes]
    expected: frozenset[str]
    why: str


def _v(name: str, data: bytes, codes: set[str] | frozenset[str], why: str, ext: str = "xlsx") -> Variant2:
    return Variant2(name, {f"{name}.{ext}": data}, frozenset(codes), why)


def _p(**changes: Any) -> Plan:
    p = copy.deepcopy(base_plan())
    for k, v in changes.items():
        setattr(p, k, v)
    return p


def _freeze_print(sheets: list[Sheet]) -> None:
    for sh in sheets:
        sh.freeze = "B5"
        sh.print_area = "A1:L60"


def _validations(sheets: list[Sheet]) -> None:
    sheets[0].validations += [("C14:C30", '"中小ユーザ企業,ITベンダ,その他協力者"'), ("D14:D30", '"○"')]
    sheets[-1].validations += [("B4:B40", '"STEP1,STEP2,STEP3,STEP4"'), ("D4:D40", '"' + ",".join(CATEGORIES) + '"')]


def _cond(sheets: list[Sheet]) -> None:
    for sh in sheets:
        sh.cond += ["A1:M60", "C5:C12"]


def _comments(sheets: list[Sheet]) -> None:
    for sh in sheets:
        for key, v in list(sh.cells.items()):
            if isinstance(v, int) and v >= 100_000:
                sh.cells[key] = C(v, comment="見積書No.2022-0815に基づく金額")
            elif v in ("コンソーシアム名", "事業者名"):
                sh.cells[key] = C(v, comment="正式名称で記入してください")


def _links(sheets: list[Sheet]) -> None:
    for sh in sheets:
        for key, v in list(sh.cells.items()):
            if isinstance(v, str) and "@" in v and "." in v:
                sh.cells[key] = C(v, link=f"mailto:{v}")


def _rich(sheets: list[Sheet]) -> None:
    for sh in sheets:
        for key, v in list(sh.cells.items()):
            if isinstance(v, str) and (v.startswith("株式会社") or v.endswith("コンソーシアム")):
                cut = 4 if v.startswith("株式会社") else len(v) - 7
                sh.cells[key] = C(v, rich=[(v[:cut], False), (v[cut:], True)])


def _wrap_labels(sheets: list[Sheet]) -> None:
    for sh in sheets:
        for key, v in list(sh.cells.items()):
            if v == "補助対象経費合計":
                sh.cells[key] = C("補助対象経費\n合計", wrap=True)
            elif v == "補助金交付申請額":
                sh.cells[key] = C("補助金\n交付申請額", wrap=True)
            elif v == "担当者メールアドレス":
                sh.cells[key] = C("担当者\nメールアドレス", wrap=True)
            elif isinstance(v, str) and v.startswith("資本金"):
                sh.cells[key] = C("資本金\n(円)", wrap=True)


def _merge_labels(sheets: list[Sheet]) -> None:
    """Labels merged over two columns and values over three, as designed templates do."""
    sh = sheets[0]
    for (r, c), v in list(sh.cells.items()):
        if v in ("コンソーシアム名", "幹事社名", "補助対象経費合計", "補助金交付申請額"):
            val = sh.cells.pop((r, c + 1))
            sh.cells[(r, c + 2)] = val
            sh.merges += [(r, c, r, c + 1), (r, c + 2, r, c + 4)]


def _hide_spare(sheets: list[Sheet]) -> None:
    sheets[0].hidden_cols.append(20)
    sheets[0].put(1, 20, "作業用")


def _spaces(s: str) -> str:
    return f" {s}\u00a0"


def _both(*fs: Callable[[list[Sheet]], None]) -> Callable[[list[Sheet]], None]:
    def run(sheets: list[Sheet]) -> None:
        for f in fs:
            f(sheets)

    return run


def _era_cells(sheets: list[Sheet], plan: Plan) -> None:
    """Dates as 令和 | 4 | 年 | 8 | 月 | 25 | 日 in separate cells, as many templates print them."""
    for sh in sheets:
        for (r, c), v in list(sh.cells.items()):
            if isinstance(v, dt.date):
                del sh.cells[(r, c)]
                sh.row(r, c, ["令和", v.year - 2018, "年", v.month, "月", v.day, "日"])


def _app(plan: Plan, st: Style, fmt: str = "xlsx", post: Callable[[list[Sheet], Plan], None] | None = None) -> bytes:
    sheets = application(plan, st)
    if post:
        post(sheets, plan)
    return {"xlsx": to_xlsx, "xls": to_xls, "ods": to_ods}[fmt](sheets)


def _with(plan: Plan, who: int, **changes: Any) -> Plan:
    plan.members[who] = replace(plan.members[who], **changes)
    return plan


def _cost(plan: Plan, idx: int, **changes: Any) -> Plan:
    plan.costs[idx] = replace(plan.costs[idx], **changes)
    return plan


NONE: frozenset[str] = frozenset()


def _valid_styles() -> list[tuple[str, Style, str, str]]:
    """(name, style, format, why) of layouts and habits that must all read as 不備なし."""
    J = ("Sheet1", "Sheet2", "Sheet3")
    return [
        ("plain", Style(), "xlsx", "baseline of this corpus: plain tables, integers"),
        (
            "english-sheets",
            Style(sheet_names=("Application", "Plan", "Costs")),
            "xlsx",
            "sheets named in English; forms found by their titles and labels",
        ),
        ("default-sheet-names", Style(sheet_names=J), "xlsx", "sheets left as Sheet1/Sheet2/Sheet3"),
        (
            "instructions-block",
            Style(instructions=28),
            "xlsx",
            "every form starts at row 29 after a 記入上の注意 block",
        ),
        ("offset-origin", Style(top=4, left=3), "xlsx", "forms drawn from C4, margins left blank"),
        (
            "spacer-and-colon",
            Style(spacer=True, colon=True),
            "xlsx",
            "a blank cell and a 「：」 cell before each value",
        ),
        (
            "members-as-blocks",
            Style(members_layout="blocks"),
            "xlsx",
            "one block of label/value rows per member instead of a table",
        ),
        (
            "members-split-over-sheets",
            Style(members_layout="split"),
            "xlsx",
            "member table continued on a second sheet 交付申請書(続き)",
        ),
        (
            "costs-transposed",
            Style(costs_layout="transposed", summary=False),
            "xlsx",
            "cost table with STEPs as columns, one row per member and category",
        ),
        (
            "costs-transposed-with-summary",
            Style(costs_layout="transposed"),
            "xlsx",
            "transposed cost table followed by the category summary",
        ),
        ("thousand-yen", Style(thousand=True), "xlsx", "every amount in 千円 with a 「（単位：千円）」 note"),
        ("yen-in-own-cell", Style(yen_cell=True), "xlsx", "a separate 「円」 cell right of each amount"),
        ("comma-text-amounts", Style(money=yen_comma), "xlsx", "amounts typed as text with commas"),
        ("yen-suffix-amounts", Style(money=yen_suffix), "xlsx", "amounts typed as 「4,000,000円」"),
        (
            "fullwidth-amounts",
            Style(money=yen_fullwidth),
            "xlsx",
            "amounts in full-width digits 「４，０００，０００円」",
        ),
        ("man-yen-amounts", Style(money=yen_man), "xlsx", "amounts typed as 「400万円」"),
        (
            "apostrophe-numbers",
            Style(money=yen_quoted, employees=lambda n: C(str(n), quote=True), corp=lambda s: C(s, quote=True)),
            "xlsx",
            "numbers stored as text with a leading apostrophe (quotePrefix)",
        ),
        ("percent-column", Style(pct_col=True), "xlsx", "a 構成比 column of percentages beside the amounts"),
        ("ditto-marks", Style(repeat="〃"), "xlsx", "「〃」 for a member repeated on the next cost row"),
        ("doujou-marks", Style(repeat="同上"), "xlsx", "「同上」 for a member repeated on the next cost row"),
        ("comments", Style(decorate=_comments), "xlsx", "cell comments on amounts and labels"),
        ("mailto-links", Style(decorate=_links), "xlsx", "e-mail cells turned into mailto hyperlinks"),
        ("rich-text", Style(decorate=_rich), "xlsx", "company and consortium names in rich text runs"),
        (
            "nbsp-and-spaces",
            Style(label=_spaces, name_of=lambda i, s: _spaces(s), role=_spaces, category=_spaces),
            "xlsx",
            "labels and values padded with spaces and non-breaking spaces",
        ),
        (
            "fullwidth-space-in-names",
            Style(
                name_of=lambda i, s: (
                    s.replace("会社", "会社　", 1) if s.startswith(("株式会社", "合同会社", "有限会社")) else s
                )
            ),
            "xlsx",
            "「株式会社　北斗食品」 with a full-width space after the legal form",
        ),
        (
            "kabu-abbreviations",
            Style(name_of=lambda i, s: s.replace("株式会社", "(株)" if i < 0 else "㈱")),
            "xlsx",
            "(株) in the 幹事社名 field, ㈱ in the tables",
        ),
        (
            "corp-number-hyphens",
            Style(corp=lambda s: f"{s[0]}-{s[1:5]}-{s[5:9]}-{s[9:]}"),
            "xlsx",
            "法人番号 written 1-2345-6789-0123",
        ),
        (
            "corp-number-spaces",
            Style(corp=lambda s: f"{s[:1]} {s[1:5]} {s[5:9]} {s[9:]}"),
            "xlsx",
            "法人番号 written with spaces between groups",
        ),
        (
            "corp-number-as-number",
            Style(corp=lambda s: C(int(s), fmt="0")),
            "xlsx",
            "法人番号 stored as a number formatted 0",
        ),
        ("wrapped-labels", Style(decorate=_wrap_labels), "xlsx", "labels with line breaks inside the cell"),
        ("merged-labels", Style(decorate=_merge_labels), "xlsx", "labels merged over two columns, values over three"),
        ("frozen-print-area", Style(decorate=_freeze_print), "xlsx", "frozen panes and print areas on every sheet"),
        (
            "validation-dropdowns",
            Style(decorate=_validations),
            "xlsx",
            "data-validation dropdowns on 区分/幹事社/工程/経費区分",
        ),
        ("conditional-format", Style(decorate=_cond), "xlsx", "conditional-format leftovers from the template"),
        ("hidden-work-column", Style(decorate=_hide_spare), "xlsx", "a hidden work column far right"),
        ("inserted-column", Style(extra_member_col=True), "xlsx", "a フリガナ column inserted after 事業者名"),
        ("lead-checkbox", Style(lead_mark=("☑", "☐")), "xlsx", "幹事社 column ticked ☑ / ☐"),
        ("lead-check-mark", Style(lead_mark=("✓", None)), "xlsx", "幹事社 column ticked ✓"),
        ("lead-re-mark", Style(lead_mark=("レ", None)), "xlsx", "幹事社 column ticked レ"),
        ("lead-word", Style(lead_mark=("幹事社", "構成員")), "xlsx", "幹事社 column reads 幹事社 / 構成員"),
        (
            "roles-long-vowel",
            Style(role=lambda s: {"中小ユーザ企業": "中小ユーザー企業", "ITベンダ": "ITベンダー"}.get(s, s)),
            "xlsx",
            "区分 spelled 中小ユーザー企業 / ITベンダー",
        ),
        ("roles-fullwidth", Style(role=lambda s: s.replace("IT", "ＩＴ")), "xlsx", "区分 ＩＴベンダ in full width"),
        (
            "steps-circled",
            Style(step=lambda n: "①②③④"[n - 1] + STEP_NAMES[n].split(" ")[1]),
            "xlsx",
            "工程 written ①ITツールの購入・設定 …",
        ),
        ("steps-kana", Style(step=lambda n: f"ステップ{n}"), "xlsx", "工程 written ステップ1 …"),
        ("steps-full-name", Style(step=lambda n: STEP_NAMES[n]), "xlsx", "工程 written with the step's full name"),
        ("steps-number-only", Style(step=lambda n: n), "xlsx", "工程 given as the number 1-4"),
        (
            "category-variants",
            Style(
                category=lambda s: {
                    "ソフトウェア購入費": "ソフトウエア購入費",
                    "クラウドサービス利用費": "クラウドサービス利用料",
                }.get(s, s)
            ),
            "xlsx",
            "ソフトウエア購入費 / クラウドサービス利用料 spellings",
        ),
        ("employees-with-words", Style(employees=lambda n: f"約{n}名"), "xlsx", "従業員数 「約85名」"),
        (
            "employees-with-note",
            Style(employees=lambda n: f"{n}人（役員・パート除く）"),
            "xlsx",
            "従業員数 「85人（役員・パート除く）」",
        ),
        ("size-column", Style(size_col=True), "xlsx", "a 企業規模 column that agrees with the numbers"),
        ("no-summary", Style(summary=False), "xlsx", "no 経費区分別集計 table"),
        ("total-row-above", Style(total_above=True), "xlsx", "the cost table's 合計 row above its header"),
        ("era-date-text", Style(date=era), "xlsx", "dates typed 令和4年8月25日"),
        ("era-date-abbrev", Style(date=lambda d: f"R{d.year - 2018}.{d.month}.{d.day}"), "xlsx", "dates typed R5.1.27"),
        (
            "date-with-weekday",
            Style(date=lambda d: f"{d.year}年{d.month}月{d.day}日（{'月火水木金土日'[d.weekday()]}）"),
            "xlsx",
            "dates typed 2023年1月27日（金）",
        ),
        (
            "date-serial",
            Style(date=lambda d: C((d - dt.date(1899, 12, 30)).days, fmt="yyyy年m月d日")),
            "xlsx",
            "dates stored as serial numbers with a date format",
        ),
        ("xls-plain", Style(), "xls", "the whole application saved as Excel 97-2003 .xls"),
        ("xls-thousand-yen", Style(thousand=True, money=yen_comma), "xls", ".xls with 千円 amounts typed as text"),
        ("ods-plain", Style(), "ods", "the application saved from LibreOffice as .ods"),
        (
            "ods-english-sheets",
            Style(sheet_names=("Application", "Plan", "Costs")),
            "ods",
            ".ods with English sheet names",
        ),
    ]


def _valid_app_variants() -> list[Variant2]:
    out = [_v(f"valid-{n}", _app(base_plan(), st, fmt), NONE, why, fmt) for n, st, fmt, why in _valid_styles()]
    out.append(
        _v(
            "valid-era-date-cells",
            _app(base_plan(), Style(), post=_era_cells),
            NONE,
            "dates as 令和|4|年|8|月|25|日 in separate cells",
        )
    )
    out.append(
        _v(
            "valid-month-end-text",
            _app(_p(), Style(date=lambda d: "2023年1月末" if d.year == 2023 else d)),
            NONE,
            "完了予定日 typed 「2023年1月末」",
        )
    )
    p = _p()
    p.members.append(copy.deepcopy(COLLABORATOR))
    out.append(
        _v(
            "valid-collaborator-no-numbers",
            _app(p, Style()),
            NONE,
            "その他協力者 with 資本金 and 法人番号 「－」 counts toward nothing",
        )
    )
    p = _p()
    p.members.append(replace(COLLABORATOR, role="その他協力者（税理士・中小企業診断士）"))
    out.append(
        _v(
            "valid-collaborator-licence-note",
            _app(p, Style()),
            NONE,
            "区分 「その他協力者（税理士・中小企業診断士）」 is a collaborator",
        )
    )
    p = _with(_p(), 1, name="あおば薬局 青葉美咲", corp=None, capital=None, role="中小ユーザ企業（個人事業主）")
    out.append(
        _v("valid-sole-proprietor", _app(p, Style()), NONE, "a 個人事業主 SME user with 法人番号 and 資本金 「－」")
    )
    p = _with(_p(), 0, industry="製造業（水産食料品）")
    out.append(_v("valid-industry-with-detail", _app(p, Style()), NONE, "業種 with a bracketed detail"))
    p = _with(_p(), 1, industry="調剤薬局")
    out.append(
        _v(
            "valid-industry-jsic-detail",
            _app(p, Style()),
            NONE,
            "業種 written as a JSIC detail (調剤薬局 = 小売業); far inside every line",
        )
    )
    return out


def _deficient_variants() -> list[Variant2]:
    out: list[Variant2] = []

    def add(
        name: str,
        plan: Plan,
        st: Style,
        codes: set[str],
        why: str,
        fmt: str = "xlsx",
        post: Callable[[list[Sheet], Plan], None] | None = None,
    ) -> None:
        out.append(_v(name, _app(plan, st, fmt, post), frozenset(codes), why, fmt))

    # SUM_MISMATCH: stated total 29,300,000 against parts of 29,000,000
    add(
        "sum-transposed",
        _p(stated_total=29_300_000),
        Style(costs_layout="transposed"),
        {"SUM_MISMATCH"},
        "transposed cost table whose 合計 disagrees with its cells",
    )
    add(
        "sum-thousand-yen",
        _p(stated_total=29_300_000),
        Style(thousand=True),
        {"SUM_MISMATCH"},
        "千円 forms whose total disagrees with the parts",
    )
    add("sum-xls", _p(stated_total=29_300_000), Style(), {"SUM_MISMATCH"}, ".xls whose total disagrees", "xls")
    # AMOUNT_OVER_CAP by rate: 2/3 of 29,000,000 = 19,333,333
    add(
        "over-rate-thousand-yen",
        _p(requested=22_000_000),
        Style(thousand=True, yen_cell=True),
        {"AMOUNT_OVER_CAP"},
        "22,000千円 requested on 29,000千円 of costs",
    )
    add(
        "over-rate-man-yen",
        _p(requested=22_000_000),
        Style(money=yen_man),
        {"AMOUNT_OVER_CAP"},
        "「2,200万円」 requested on 「2,900万円」",
    )
    add("over-rate-ods", _p(requested=22_000_000), Style(), {"AMOUNT_OVER_CAP"}, ".ods asking over 2/3", "ods")
    add(
        "over-rate-apostrophe",
        _p(requested=22_000_000),
        Style(money=yen_quoted),
        {"AMOUNT_OVER_CAP"},
        "apostrophe-text amounts asking over 2/3",
    )
    # a large vendor (rate 1/2 → 14,500,000) written in 千円 / 億 units
    p = _with(_p(), 2, capital=1_000_000_000, employees=1_200)
    add(
        "large-vendor-thousand-yen",
        p,
        Style(thousand=True),
        {"AMOUNT_OVER_CAP"},
        "vendor capital 1,000,000千円 and 1,200人: rate 1/2, 18,000千円 > 14,500千円",
    )
    p = _with(_p(), 2, capital=1_250_000_000, employees=1_500)
    add(
        "large-vendor-oku",
        p,
        Style(capital=lambda v: "12億5,000万円", employees=lambda n: f"{n:,}名"),
        {"AMOUNT_OVER_CAP"},
        "vendor capital 「12億5,000万円」 and 1,500名: rate 1/2",
    )
    # SME_INELIGIBLE
    p = _with(_p(), 0, capital=500_000_000, employees=450)
    add(
        "sme-ineligible-thousand",
        p,
        Style(thousand=True),
        {"SME_INELIGIBLE"},
        "SME user 500,000千円 and 450人 in a 千円 table",
    )
    p = _with(_p(), 0, capital=500_000_000, employees=450)
    add(
        "sme-ineligible-blocks",
        p,
        Style(members_layout="blocks"),
        {"SME_INELIGIBLE"},
        "SME user over both manufacturing lines, members written as blocks",
    )
    p = _with(_p(), 1, industry="各種食料品小売業", capital=80_000_000, employees=70)
    add(
        "sme-ineligible-retail-detail",
        p,
        Style(),
        {"SME_INELIGIBLE"},
        "各種食料品小売業 is 小売業 (5千万円/50人): 8,000万円 and 70人 are over both",
    )
    # CORPORATE_NUMBER_INVALID
    bad = corporate_number("430001012345")
    bad = str((int(bad[0]) + 3) % 10) + bad[1:]
    p = _with(_p(), 0, corp=bad)
    add(
        "corp-invalid-hyphens",
        p,
        Style(corp=lambda s: f"{s[0]}-{s[1:5]}-{s[5:9]}-{s[9:]}"),
        {"CORPORATE_NUMBER_INVALID"},
        "hyphenated 法人番号 with a wrong check digit",
    )
    p = _with(_p(), 3, corp=corporate_number("430002024680")[:12])
    add(
        "corp-invalid-short",
        p,
        Style(corp=lambda s: C(s, quote=True)),
        {"CORPORATE_NUMBER_INVALID"},
        "a 12-digit 法人番号 (one digit dropped) stored as apostrophe text",
    )
    # CONSORTIUM_COMPOSITION: the second "vendor" is a collaborator
    p = _with(_p(), 3, role="その他協力者")
    add(
        "composition-one-vendor-split",
        p,
        Style(members_layout="split"),
        {"CONSORTIUM_COMPOSITION"},
        "one vendor only; the member table continues on a second sheet",
    )
    p = _p()
    del p.members[1]
    p.costs = [replace(c, who={0: 0, 1: 0, 2: 1, 3: 2}[c.who]) for c in p.costs]
    add(
        "composition-one-sme-lead-checkbox",
        p,
        Style(lead_mark=("☑", "☐")),
        {"CONSORTIUM_COMPOSITION"},
        "one SME user only (it takes over the pharmacy's costs); 幹事社 ticked ☑/☐",
    )
    # SOFTWARE_CLOUD_OVER_HALF: +30,000,000 of software → 35/59
    p = _p()
    p.costs.append(Cost(0, 1, "ソフトウェア購入費", "販売管理パッケージ", 30_000_000))
    add(
        "software-over-half-transposed",
        p,
        Style(costs_layout="transposed", category=lambda s: s.replace("ウェ", "ウエ")),
        {"SOFTWARE_CLOUD_OVER_HALF"},
        "software 35,000,000 of 59,000,000 in a transposed table",
    )
    add(
        "software-over-half-ditto",
        p,
        Style(repeat="〃"),
        {"SOFTWARE_CLOUD_OVER_HALF"},
        "software over half; the extra row names its member 「〃」",
    )
    # SME_PERSONNEL_OVER_THIRD: SME personnel 16,000,000
    p = _cost(_p(), 3, amount=15_600_000)
    add(
        "sme-personnel-doujou",
        p,
        Style(repeat="同上"),
        {"SME_PERSONNEL_OVER_THIRD"},
        "SME personnel 16,000,000 (rows whose member is 「同上」)",
    )
    add(
        "sme-personnel-english",
        p,
        Style(sheet_names=("Application", "Plan", "Costs")),
        {"SME_PERSONNEL_OVER_THIRD"},
        "SME personnel over a third, English sheet names",
    )
    # SUBCONTRACT_OVER_HALF: 20,000,000 of STEP3's 35,000,000
    p = _cost(_p(), 7, amount=20_000_000)
    add(
        "subcontract-transposed",
        p,
        Style(costs_layout="transposed"),
        {"SUBCONTRACT_OVER_HALF"},
        "vendor subcontracting 20,000,000 of STEP3 35,000,000, STEPs as columns",
    )
    add(
        "subcontract-steps-circled",
        p,
        Style(step=lambda n: "①②③④"[n - 1]),
        {"SUBCONTRACT_OVER_HALF"},
        "vendor subcontracting over half, 工程 written ①…④",
    )
    # COST_NOT_ELIGIBLE: an SME user's 人件費 in STEP3
    p = _p()
    p.costs.append(Cost(1, 3, "人件費", "開発への社内協力", 300_000))
    add(
        "cost-not-eligible-kana-steps",
        p,
        Style(step=lambda n: f"ステップ{n}"),
        {"COST_NOT_ELIGIBLE"},
        "SME user 人件費 in ステップ3",
    )
    add(
        "cost-not-eligible-transposed",
        p,
        Style(costs_layout="transposed"),
        {"COST_NOT_ELIGIBLE"},
        "SME user 人件費 in the STEP3 column",
    )
    # PROJECT_PERIOD: 完了予定日 2023-03-31
    p = _p(end=dt.date(2023, 3, 31))
    add("period-era-cells", p, Style(), {"PROJECT_PERIOD"}, "完了予定日 令和|5|年|3|月|31|日 in cells", post=_era_cells)
    add(
        "period-month-end-text",
        _p(),
        Style(date=lambda d: "2023年3月末" if d.year == 2023 else d),
        {"PROJECT_PERIOD"},
        "完了予定日 typed 「2023年3月末」",
    )
    add(
        "period-abbrev",
        p,
        Style(date=lambda d: f"R{d.year - 2018}.{d.month}.{d.day}"),
        {"PROJECT_PERIOD"},
        "完了予定日 typed R5.3.31",
    )
    add(
        "period-serial",
        p,
        Style(date=lambda d: C((d - dt.date(1899, 12, 30)).days, fmt="ggge年m月d日")),
        {"PROJECT_PERIOD"},
        "完了予定日 as a serial number with an era format",
    )
    # AMOUNT_BELOW_MINIMUM: a small plan, 900,000 requested
    p = _p(requested=900_000)
    p.costs = [replace(c, amount=c.amount // 20) for c in p.costs]
    add(
        "below-minimum-man-yen",
        p,
        Style(money=yen_man),
        {"AMOUNT_BELOW_MINIMUM"},
        "「90万円」 requested on 1,450,000円 of costs",
    )
    # FORM_FIELD_MISSING: a required value holding only spaces
    p = _p(project="\u3000")
    add("field-fullwidth-space-only", p, Style(), {"FORM_FIELD_MISSING"}, "補助事業名 holds a full-width space only")
    p = _p(project=" \u00a0 ")
    add(
        "field-nbsp-only-merged",
        p,
        Style(decorate=_merge_labels),
        {"FORM_FIELD_MISSING"},
        "補助事業名 holds spaces and NBSP only",
    )

    # CONSORTIUM_NAME_MISMATCH inside the application workbook (plan sheet differs)
    def rename_plan(sheets: list[Sheet], plan: Plan) -> None:
        for key, v in list(sheets[1].cells.items()):
            if v == plan.consortium:
                sheets[1].cells[key] = "南北フード連携コンソーシアム"

    add(
        "name-mismatch-sheet1-names",
        _p(),
        Style(sheet_names=("Sheet1", "Sheet2", "Sheet3")),
        {"CONSORTIUM_NAME_MISMATCH"},
        "事業計画書 on Sheet2 names another consortium",
        post=rename_plan,
    )
    return out


def _zip_variants() -> list[Variant2]:
    out: list[Variant2] = []
    st = Style()

    def add(name: str, data: bytes, codes: set[str], why: str) -> None:
        out.append(Variant2(name, {f"{name}.zip": data}, frozenset(codes), why))

    p = _p()
    add("zip-valid", submission(p, st), set(), "a whole submission, every form plain")
    add(
        "zip-kabu-across-forms",
        submission(
            p,
            Style(name_of=lambda i, s: s.replace("株式会社", "(株)")),
            mi=member_info(p, Style(name_of=lambda i, s: s.replace("株式会社", "㈱"))),
        ),
        set(),
        "(株) in the application, ㈱ in the 事業者情報入力シート",
    )
    add(
        "zip-fullwidth-space-across-forms",
        submission(p, st, mi=member_info(p, Style(name_of=lambda i, s: s.replace("会社", "会社　", 1)))),
        set(),
        "「株式会社　北斗食品」 in the 事業者情報入力シート only",
    )
    add(
        "zip-no-corp-column-in-app",
        submission(p, Style(corp_col=False)),
        set(),
        "交付申請書 has no 法人番号 column; members matched by name",
    )
    add(
        "zip-corp-hyphens-in-member-info",
        submission(p, st, mi=member_info(p, Style(corp=lambda s: f"{s[0]}-{s[1:5]}-{s[5:9]}-{s[9:]}"))),
        set(),
        "法人番号 hyphenated in one form only",
    )
    add(
        "zip-member-info-transposed",
        submission(p, st, mi=member_info(p, st, transposed=True)),
        set(),
        "事業者情報入力シート with one column per member",
    )
    add("zip-checklist-re-marks", submission(p, st, cl=checklist(p, ["レ"] * 7)), set(), "checklist ticked レ")
    add("zip-checklist-check-marks", submission(p, st, cl=checklist(p, ["✓"] * 7)), set(), "checklist ticked ✓")
    add(
        "zip-checklist-unticked",
        submission(p, st, cl=checklist(p, ["☑", "☑", "☑", "☐", "☑", "☑", "☑"])),
        {"CHECKLIST_MISMATCH"},
        "誓約書 attached but its box left ☐",
    )
    req = p.requested_of()
    req[0] += 500_000
    add(
        "zip-member-info-sum-mismatch",
        submission(p, st, mi=member_info(p, st, requested=req)),
        {"SUM_MISMATCH"},
        "per-member 補助金申請額 add up to 18,500,000 against 18,000,000",
    )
    add(
        "zip-checklist-other-name",
        submission(p, st, cl=checklist(p, ["☑"] * 7, consortium="北斗フード連携推進コンソーシアム")),
        {"CONSORTIUM_NAME_MISMATCH"},
        "checklist names another consortium",
    )
    p22 = _p(requested=22_000_000)
    add(
        "zip-no-corp-column-over-rate",
        submission(p22, st, app=application(p22, Style(corp_col=False))),
        {"AMOUNT_OVER_CAP"},
        "no 法人番号 column in the application and 22,000,000 asked on 29,000,000",
    )
    return out


def _list_sheet(sheets: list[Sheet], plan: Plan) -> None:
    """The hidden sheet templates keep their dropdown lists on."""
    lists = Sheet("リスト", hidden=True)
    lists.row(1, 1, ["区分", "工程", "経費区分", "幹事社"])
    for i, v in enumerate(["中小ユーザ企業", "ITベンダ", "その他協力者"]):
        lists.put(2 + i, 1, v)
    for i in range(4):
        lists.put(2 + i, 2, f"STEP{i + 1}")
    for i, v in enumerate(CATEGORIES):
        lists.put(2 + i, 3, v)
    lists.put(2, 4, "○")
    sheets.append(lists)


def _example_sheet(sheets: list[Sheet], plan: Plan) -> None:
    """A filled-in 記入例 copy of the 交付申請書 left in front of the real one."""
    ex = copy.deepcopy(sheets[0])
    ex.title = "記入例"
    for key, v in list(ex.cells.items()):
        if v == plan.consortium:
            ex.cells[key] = "〇〇連携コンソーシアム"
        elif isinstance(v, int) and v > 1000:
            ex.cells[key] = v // 2
    ex.put(1, 8, "【記入例】")
    sheets.insert(0, ex)


def _one_sheet(sheets: list[Sheet], plan: Plan) -> None:
    """All three forms one under another on a single sheet."""
    merged = Sheet("申請書")
    offset = 0
    for sh in sheets:
        height = max(r for r, _ in sh.cells)
        for (r, c), v in sh.cells.items():
            merged.cells[(r + offset, c)] = v
        merged.merges += [(a + offset, b, cc + offset, d) for a, b, cc, d in sh.merges]
        offset += height + 3
    sheets[:] = [merged]


def _more_valid() -> list[Variant2]:
    """Habits beyond the ones named so far, each of which must still read as 不備なし."""
    heads = {
        "事業者名": "事業者名（正式名称）",
        "区分": "区分（中小ユーザ企業/ITベンダ/その他協力者）",
        "業種": "業種（日本標準産業分類）",
        "補助対象経費(円)": "補助対象経費（税抜・円）",
        "工程": "工程（STEP）",
    }
    short = {"株式会社": "", "合同会社": "", "有限会社": ""}

    def no_form(i: int, s: str) -> str:
        for k in short:
            s = s.replace(k, "")
        return s

    styles: list[tuple[str, Style, str, str, Callable[[list[Sheet], Plan], None] | None]] = [
        (
            "merged-member-cells",
            Style(by_member=True, merge_names=True),
            "xlsx",
            "a member's cost rows share one vertically merged 事業者名 cell",
            None,
        ),
        (
            "merged-member-cells-xls",
            Style(by_member=True, merge_names=True),
            "xls",
            ".xls with vertically merged 事業者名 cells",
            None,
        ),
        (
            "member-subtotals",
            Style(by_member=True, subtotals=True),
            "xlsx",
            "a 小計 row after each member's cost rows",
            None,
        ),
        (
            "member-subtotals-merged",
            Style(by_member=True, subtotals=True, merge_names=True),
            "xlsx",
            "per-member 小計 rows and merged 事業者名 cells",
            None,
        ),
        ("blank-row-between-members", Style(member_gap=True), "xlsx", "a blank row after every member row", None),
        (
            "group-header-row",
            Style(group_header=True),
            "xlsx",
            "a merged 「企業情報」 header above 業種/資本金/従業員数",
            None,
        ),
        (
            "headers-with-notes",
            Style(head=lambda h: heads.get(h, h)),
            "xlsx",
            "headers carry notes: 事業者名（正式名称）, 補助対象経費（税抜・円） …",
            None,
        ),
        (
            "costs-short-names",
            Style(cost_name=no_form),
            "xlsx",
            "cost table names members without 株式会社/合同会社/有限会社",
            None,
        ),
        (
            "lead-in-name",
            Style(lead_in_name=True),
            "xlsx",
            "no 幹事社 column; the lead's name carries 「（幹事社）」",
            None,
        ),
        ("lead-double-circle", Style(lead_mark=("◎", None)), "xlsx", "幹事社 marked ◎", None),
        (
            "lead-boolean",
            Style(lead_mark=(True, False)),
            "xlsx",
            "幹事社 column of TRUE/FALSE (linked checkboxes)",
            None,
        ),
        (
            "subcontract-yes-no",
            Style(sub_mark=("あり", "なし")),
            "xlsx",
            "下請け発注 column filled あり/なし on every row",
            None,
        ),
        (
            "subcontract-maru-batsu",
            Style(sub_mark=("○", "×")),
            "xlsx",
            "下請け発注 column filled ○/× on every row",
            None,
        ),
        ("total-label-spaced", Style(total_label="合　計"), "xlsx", "totals labelled 「合　計」", None),
        ("sum-formulas", Style(formulas=True), "xlsx", "totals saved as SUM formulas with cached results", None),
        (
            "sum-formulas-subtotals",
            Style(formulas=True, by_member=True, subtotals=True),
            "xlsx",
            "SUM-formula summary and per-member 小計 rows",
            None,
        ),
        (
            "tax-columns",
            Style(tax_cols=True),
            "xlsx",
            "事業費(税込) and 補助対象外経費 beside 補助対象経費, in the table and the 交付申請書",
            None,
        ),
        ("rate-row", Style(rate_row=True), "xlsx", "a 補助率 row (62.1%) under the 申請額", None),
        ("summary-dashes", Style(summary_zero="－"), "xlsx", "unused categories written 「－」 in the summary", None),
        ("summary-zero-yen", Style(summary_zero="0円"), "xlsx", "unused categories written 「0円」", None),
        ("vendors-first", Style(member_order=(2, 3, 0, 1)), "xlsx", "members listed vendors first, lead third", None),
        (
            "thousand-display-format",
            Style(unit_note="（単位：千円）", money=lambda v: C(v, fmt="#,##0,")),
            "xlsx",
            "amounts stored in 円 but shown in 千円 by the cell format #,##0, under a 「（単位：千円）」 note",
            None,
        ),
        (
            "number-format-yen",
            Style(money=lambda v: C(v, fmt='#,##0"円"')),
            "xlsx",
            "amounts shown with 円 by the cell format only",
            None,
        ),
        (
            "capital-kanji-units",
            Style(capital=lambda v: f"{v // 10_000:,}万円" if v < 100_000_000 else f"{v / 1e8:g}億円"),
            "xlsx",
            "資本金 typed 3,000万円 / 500万円",
            None,
        ),
        (
            "fullwidth-dates",
            Style(date=lambda d: era(d).translate(str.maketrans("0123456789", "０１２３４５６７８９"))),
            "xlsx",
            "dates typed 令和４年８月２５日 in full-width digits",
            None,
        ),
        ("dot-dates", Style(date=lambda d: f"{d.year}.{d.month}.{d.day}"), "xlsx", "dates typed 2023.1.27", None),
        (
            "datetime-with-time",
            Style(date=lambda d: dt.datetime(d.year, d.month, d.day, 9, 30)),
            "xlsx",
            "dates stored with a time of day",
            None,
        ),
        (
            "steps-fullwidth",
            Style(step=lambda n: f"ＳＴＥＰ{chr(0xFF10 + n)}"),
            "xlsx",
            "工程 written ＳＴＥＰ１",
            None,
        ),
        (
            "roles-short",
            Style(role=lambda s: {"中小ユーザ企業": "ユーザ企業", "ITベンダ": "ベンダ"}.get(s, s)),
            "xlsx",
            "区分 written ユーザ企業 / ベンダ",
            None,
        ),
        ("hidden-list-sheet", Style(), "xlsx", "a hidden 「リスト」 sheet with the dropdown values", _list_sheet),
        (
            "example-sheet-first",
            Style(),
            "xlsx",
            "a filled 記入例 sheet in front of the real 交付申請書",
            _example_sheet,
        ),
        ("single-sheet", Style(), "xlsx", "all three forms one under another on one sheet", _one_sheet),
        ("xls-merged-labels", Style(decorate=_merge_labels, spacer=False), "xls", ".xls with merged label cells", None),
        (
            "ods-era-dates-text-amounts",
            Style(date=era, money=yen_suffix),
            "ods",
            ".ods with era dates and 「4,000,000円」 amounts",
            None,
        ),
    ]
    out = [_v(f"valid-{n}", _app(base_plan(), st, fmt, post), NONE, why, fmt) for n, st, fmt, why, post in styles]
    p = _p()
    p.consortium = "北斗フードＤＸ連携コンソーシアム"
    sheets = application(p, Style())
    for key, v in list(sheets[1].cells.items()):
        if v == p.consortium:
            sheets[1].cells[key] = "北斗フードDX連携コンソーシアム"
    out.append(
        _v(
            "valid-consortium-name-width",
            to_xlsx(sheets),
            NONE,
            "コンソーシアム名 with full-width ＤＸ on one sheet, half-width on the other",
        )
    )
    p = _with(_p(), 0, name="株式会社北斗食品\n（ホクトショクヒン）")
    out.append(
        _v(
            "valid-name-with-furigana-line",
            _app(p, Style(cost_name=lambda i, s: s.split("\n")[0])),
            NONE,
            "member name with its reading on a second line in the member table only",
        )
    )
    return out


def _more_deficient() -> list[Variant2]:
    out: list[Variant2] = []

    def add(
        name: str,
        plan: Plan,
        st: Style,
        codes: set[str],
        why: str,
        fmt: str = "xlsx",
        post: Callable[[list[Sheet], Plan], None] | None = None,
    ) -> None:
        out.append(_v(name, _app(plan, st, fmt, post), frozenset(codes), why, fmt))

    p = _cost(_p(), 7, amount=20_000_000)
    add(
        "subcontract-yes-no",
        p,
        Style(sub_mark=("あり", "なし")),
        {"SUBCONTRACT_OVER_HALF"},
        "下請け発注 あり on 20,000,000 of STEP3, なし elsewhere",
    )
    add(
        "subcontract-merged-names",
        p,
        Style(by_member=True, merge_names=True),
        {"SUBCONTRACT_OVER_HALF"},
        "vendor subcontracting over half; the vendor's name is one merged cell",
    )
    p = _cost(_p(), 3, amount=15_600_000)
    add(
        "sme-personnel-subtotals",
        p,
        Style(by_member=True, subtotals=True),
        {"SME_PERSONNEL_OVER_THIRD"},
        "SME personnel over a third in a table with per-member 小計 rows",
    )
    add(
        "sme-personnel-short-names",
        p,
        Style(cost_name=lambda i, s: s.replace("株式会社", "").replace("合同会社", "")),
        {"SME_PERSONNEL_OVER_THIRD"},
        "SME personnel over a third; cost rows name members without 株式会社",
    )
    add(
        "over-rate-tax-columns",
        _p(requested=22_000_000),
        Style(tax_cols=True),
        {"AMOUNT_OVER_CAP"},
        "22,000,000 asked on 29,000,000 of eligible cost (31,900,000 税込 beside it)",
    )
    add(
        "over-rate-example-sheet",
        _p(requested=22_000_000),
        Style(),
        {"AMOUNT_OVER_CAP"},
        "over 2/3 in the real 交付申請書; a half-value 記入例 sheet in front",
        post=_example_sheet,
    )
    add(
        "over-rate-single-sheet",
        _p(requested=22_000_000),
        Style(),
        {"AMOUNT_OVER_CAP"},
        "over 2/3, all forms on one sheet",
        post=_one_sheet,
    )
    add(
        "over-rate-thousand-display",
        _p(requested=22_000_000),
        Style(unit_note="（単位：千円）", money=lambda v: C(v, fmt="#,##0,")),
        {"AMOUNT_OVER_CAP"},
        "over 2/3 with 円 values displayed in 千円 by the cell format",
    )
    p = _with(_p(), 0, capital=500_000_000, employees=450)
    add(
        "sme-ineligible-kanji-capital",
        p,
        Style(
            capital=lambda v: f"{v / 1e8:g}億円" if v >= 1e8 else f"{v // 10_000:,}万円", employees=lambda n: f"{n}名"
        ),
        {"SME_INELIGIBLE"},
        "SME user 「5億円」 and 「450名」",
    )
    add(
        "sme-ineligible-lead-in-name",
        p,
        Style(lead_in_name=True),
        {"SME_INELIGIBLE"},
        "the ineligible SME user is the lead, marked 「（幹事社）」 in its name",
    )
    add(
        "sme-ineligible-vendors-first",
        p,
        Style(member_order=(2, 3, 0, 1), group_header=True),
        {"SME_INELIGIBLE"},
        "ineligible SME user listed after the vendors under a grouped header",
    )
    p = _with(_p(), 3, role="その他協力者")
    add(
        "composition-headers-with-notes",
        p,
        Style(head=lambda h: h + "（必須）" if h in ("区分", "事業者名") else h),
        {"CONSORTIUM_COMPOSITION"},
        "one vendor only; headers 区分（必須）",
    )
    add(
        "composition-list-sheet",
        p,
        Style(),
        {"CONSORTIUM_COMPOSITION"},
        "one vendor only; the hidden list sheet still names ITベンダ",
        post=_list_sheet,
    )
    add(
        "period-fullwidth",
        _p(end=dt.date(2023, 3, 31)),
        Style(date=lambda d: era(d).translate(str.maketrans("0123456789", "０１２３４５６７８９"))),
        {"PROJECT_PERIOD"},
        "完了予定日 令和５年３月３１日 in full-width digits",
    )
    add(
        "period-late-february-text",
        _p(),
        Style(date=lambda d: "2023年2月下旬" if d.year == 2023 else d),
        {"PROJECT_PERIOD"},
        "完了予定日 typed 「2023年2月下旬」 (every reading is after 2月10日)",
    )
    add(
        "period-month-only",
        _p(),
        Style(date=lambda d: "2023年3月" if d.year == 2023 else d),
        {"PROJECT_PERIOD"},
        "完了予定日 typed 「2023年3月」",
    )
    p = _p()
    p.costs.append(Cost(0, 1, "ソフトウェア購入費", "販売管理パッケージ", 30_000_000))
    add(
        "software-over-half-formulas",
        p,
        Style(formulas=True),
        {"SOFTWARE_CLOUD_OVER_HALF"},
        "software over half with SUM-formula totals",
    )
    add(
        "software-over-half-dash-summary",
        p,
        Style(summary_zero="－", total_label="合　計"),
        {"SOFTWARE_CLOUD_OVER_HALF"},
        "software over half; 「－」 for unused categories, 「合　計」 rows",
    )
    p = _p()
    p.costs.append(Cost(1, 3, "人件費", "開発への社内協力", 300_000))
    add(
        "cost-not-eligible-subtotals",
        p,
        Style(by_member=True, subtotals=True, merge_names=True),
        {"COST_NOT_ELIGIBLE"},
        "SME user 人件費 in STEP3 inside a merged-name, 小計 table",
    )
    return out


def _more_zips() -> list[Variant2]:
    out: list[Variant2] = []
    p = _p()
    st = Style()
    for name, marks, codes, why in [
        ("zip-checklist-booleans", [True] * 7, set(), "checklist ticks as TRUE (linked checkboxes)"),
        ("zip-checklist-zumi", ["済"] * 7, set(), "checklist ticked 済"),
        (
            "zip-checklist-maru-batsu",
            ["○", "○", "○", "×", "○", "○", "○"],
            {"CHECKLIST_MISMATCH"},
            "誓約書 attached but marked ×",
        ),
        (
            "zip-checklist-false",
            [True, True, True, True, True, True, False],
            {"CHECKLIST_MISMATCH"},
            "納税証明書 attached but its checkbox FALSE",
        ),
    ]:
        out.append(Variant2(name, {f"{name}.zip": submission(p, st, cl=checklist(p, marks))}, frozenset(codes), why))
    mi = member_info(
        p,
        Style(
            name_of=lambda i, s: (
                s.replace("株式会社", "（株）").replace("有限会社", "（有）").replace("合同会社", "（同）")
            )
        ),
    )
    out.append(
        Variant2(
            "zip-legal-form-abbrev",
            {"zip-legal-form-abbrev.zip": submission(p, st, mi=mi)},
            NONE,
            "（株）（有）（同） in the 事業者情報入力シート, full forms in the application",
        )
    )
    app = application(p, Style(corp_col=False, name_of=lambda i, s: s.replace("会社", "会社　", 1)))
    mi = member_info(p, Style(name_of=lambda i, s: s.replace("株式会社", "㈱")))
    out.append(
        Variant2(
            "zip-no-corp-spaced-vs-kabu",
            {"zip-no-corp-spaced-vs-kabu.zip": submission(p, st, app=app, mi=mi)},
            NONE,
            "no 法人番号 in the application, 「株式会社　」 there and ㈱ in the member sheet",
        )
    )
    return out


def _kv_header_row(sheets: list[Sheet], plan: Plan) -> None:
    """The 交付申請書's four key values as a one-row table: labels above, values below."""
    sh = sheets[0]
    labels = ["コンソーシアム名", "幹事社名", "補助対象経費合計", "補助金交付申請額"]
    found = {v: (r, c) for (r, c), v in sh.cells.items() if v in labels}
    top, left = min(found.values())
    values = [sh.cells.pop((r, c + 1)) for r, c in (found[label] for label in labels)]
    for r, c in found.values():
        del sh.cells[(r, c)]
    sh.row(top, left, labels)
    sh.row(top + 1, left, values)


def _label_with_value(sheets: list[Sheet], plan: Plan) -> None:
    """補助事業名 and its value typed into one cell: 「補助事業名：…」."""
    sh = sheets[1]
    for (r, c), v in list(sh.cells.items()):
        if v == "補助事業名":
            sh.cells[(r, c)] = f"補助事業名：{sh.cells.pop((r, c + 1), '')}"


def _label_with_date_note(sheets: list[Sheet], plan: Plan) -> None:
    """The template's label carries the period's end date as a reminder."""
    for (r, c), v in list(sheets[1].cells.items()):
        if v == "事業完了予定日":
            sheets[1].cells[(r, c)] = "事業完了予定日（2023年2月10日までの日付）"


def _reverse(sheets: list[Sheet], plan: Plan) -> None:
    sheets.reverse()


JSIC = {
    "食料品製造業": "E09 食料品製造業",
    "小売業": "I 小売業",
    "ソフトウェア業": "G39 情報サービス業（ソフトウェア業）",
    "情報処理サービス業": "G392 情報処理・提供サービス業",
}


def _jsic(plan: Plan) -> Plan:
    for i, m in enumerate(plan.members):
        plan.members[i] = replace(m, industry=JSIC.get(m.industry, m.industry))
    return plan


def _third_batch() -> list[Variant2]:
    out: list[Variant2] = []

    def add(
        name: str,
        plan: Plan,
        st: Style,
        codes: set[str],
        why: str,
        fmt: str = "xlsx",
        post: Callable[[list[Sheet], Plan], None] | None = None,
    ) -> None:
        out.append(_v(name, _app(plan, st, fmt, post), frozenset(codes), why, fmt))

    numbered = {"中小ユーザ企業": "1.中小ユーザ企業", "ITベンダ": "2.ITベンダ", "その他協力者": "3.その他協力者"}
    add(
        "valid-members-as-columns",
        _p(),
        Style(members_layout="columns"),
        set(),
        "member table transposed: labels down column A, one column per member",
    )
    add(
        "valid-summary-beside",
        _p(),
        Style(summary_beside=True),
        set(),
        "category summary to the right of the cost table, sharing its header row",
    )
    add(
        "valid-template-blank-rows",
        _p(),
        Style(blank_rows=8),
        set(),
        "numbered empty template rows (No only) left under the member and cost tables",
    )
    add("valid-total-merged", _p(), Style(total_merged=True), set(), "合計 label merged across the text columns")
    add(
        "valid-roles-numbered",
        _p(),
        Style(role=lambda s: numbered.get(s, s)),
        set(),
        "区分 from a numbered dropdown: 1.中小ユーザ企業 / 2.ITベンダ",
    )
    add(
        "valid-industry-jsic-codes",
        _jsic(_p()),
        Style(),
        set(),
        "業種 with JSIC codes: E09 食料品製造業, I 小売業, G39 情報サービス業（ソフトウェア業）",
    )
    add(
        "valid-date-planned",
        _p(),
        Style(date=lambda d: f"{era(d)}（予定）" if d > dt.date(2022, 9, 30) else d),
        set(),
        "dates typed 令和5年1月27日（予定）",
    )
    add(
        "valid-label-date-note",
        _p(),
        Style(),
        set(),
        "label 「事業完了予定日（2023年2月10日までの日付）」 carries a date of its own",
        post=_label_with_date_note,
    )
    add(
        "valid-kv-header-row",
        _p(),
        Style(),
        set(),
        "交付申請書's コンソーシアム名/幹事社名/合計/申請額 as one header row with values below",
        post=_kv_header_row,
    )
    add("valid-label-and-value-one-cell", _p(), Style(), set(), "「補助事業名：…」 in one cell", post=_label_with_value)
    add("valid-sheets-reversed", _p(), Style(), set(), "the three sheets in reverse order", post=_reverse)
    add(
        "valid-amount-tax-note",
        _p(),
        Style(money=lambda v: f"{v:,}円（税抜）"),
        set(),
        "amounts typed 「4,000,000円（税抜）」",
    )
    add(
        "valid-corp-fullwidth",
        _p(),
        Style(corp=lambda s: s.translate(str.maketrans("0123456789", "０１２３４５６７８９"))),
        set(),
        "法人番号 in full-width digits",
    )
    add(
        "valid-xls-members-columns",
        _p(),
        Style(members_layout="columns"),
        set(),
        ".xls with the member table transposed",
        "xls",
    )
    # deficiencies in the same habits
    p = _with(_p(), 0, capital=500_000_000, employees=450)
    add(
        "sme-ineligible-members-as-columns",
        p,
        Style(members_layout="columns"),
        {"SME_INELIGIBLE"},
        "SME user over both lines in a member table with one column per member",
    )
    p = _with(_jsic(_p()), 1, industry="I58 飲食料品小売業", capital=80_000_000, employees=70)
    add(
        "sme-ineligible-jsic-code",
        p,
        Style(),
        {"SME_INELIGIBLE"},
        "「I58 飲食料品小売業」 is 小売業: 8,000万円 and 70人 over both lines",
    )
    p = _p()
    p.costs.append(Cost(0, 1, "ソフトウェア購入費", "販売管理パッケージ", 30_000_000))
    add(
        "software-over-half-summary-beside",
        p,
        Style(summary_beside=True),
        {"SOFTWARE_CLOUD_OVER_HALF"},
        "software over half; the summary sits beside the cost table",
    )
    add(
        "software-over-half-blank-rows",
        p,
        Style(blank_rows=10),
        {"SOFTWARE_CLOUD_OVER_HALF"},
        "software over half; numbered empty template rows left in the tables",
    )
    add(
        "period-label-date-note",
        _p(end=dt.date(2023, 3, 31)),
        Style(),
        {"PROJECT_PERIOD"},
        "完了予定日 2023-03-31 under a label that itself names 2023年2月10日",
        post=_label_with_date_note,
    )
    add(
        "period-planned",
        _p(end=dt.date(2023, 3, 31)),
        Style(date=lambda d: f"{era(d)}（予定）" if d > dt.date(2022, 9, 30) else d),
        {"PROJECT_PERIOD"},
        "完了予定日 typed 令和5年3月31日（予定）",
    )
    add(
        "over-rate-kv-header-row",
        _p(requested=22_000_000),
        Style(),
        {"AMOUNT_OVER_CAP"},
        "over 2/3 with the key values in a header row",
        post=_kv_header_row,
    )
    add(
        "over-rate-sheets-reversed",
        _p(requested=22_000_000),
        Style(),
        {"AMOUNT_OVER_CAP"},
        "over 2/3, sheets in reverse order",
        post=_reverse,
    )
    add(
        "field-missing-label-and-value",
        _p(project=""),
        Style(),
        {"FORM_FIELD_MISSING"},
        "「補助事業名：」 typed with nothing after the colon",
        post=_label_with_value,
    )
    p = _with(_p(), 3, role="その他協力者")
    add(
        "composition-roles-numbered",
        p,
        Style(role=lambda s: numbered.get(s, s)),
        {"CONSORTIUM_COMPOSITION"},
        "one vendor only; 区分 from a numbered dropdown",
    )
    return out


def _placeholder_date(sheets: list[Sheet], plan: Plan) -> None:
    """申請日 left as the template printed it: 「令和　年　月　日」."""
    for key, v in list(sheets[0].cells.items()):
        if v == plan.app_date:
            sheets[0].cells[key] = "令和　　年　　月　　日"


def _yen_before(sheets: list[Sheet], plan: Plan) -> None:
    """A 「￥」 cell between each key amount's label and its value."""
    sh = sheets[0]
    for (r, c), v in list(sh.cells.items()):
        if v in ("補助対象経費合計", "補助金交付申請額"):
            sh.cells[(r, c + 2)] = sh.cells.pop((r, c + 1))
            sh.cells[(r, c + 1)] = "￥"


def _fourth_batch() -> list[Variant2]:
    out: list[Variant2] = []

    def add(
        name: str,
        plan: Plan,
        st: Style,
        codes: set[str],
        why: str,
        fmt: str = "xlsx",
        post: Callable[[list[Sheet], Plan], None] | None = None,
    ) -> None:
        out.append(_v(name, _app(plan, st, fmt, post), frozenset(codes), why, fmt))

    kanji_zero, big_circle = "\u3007", "\u25ef"
    numbered_cats = {c: f"{i + 1}.{c}" for i, c in enumerate(CATEGORIES)}
    half_kana = {"株式会社ネクサスソフト": "株式会社ﾈｸｻｽｿﾌﾄ", "有限会社データリンク工房": "有限会社ﾃﾞｰﾀﾘﾝｸ工房"}
    add(
        "valid-lead-kanji-zero",
        _p(),
        Style(lead_mark=(kanji_zero, None)),
        set(),
        "幹事社 marked 〇 (U+3007, the IME's kanji zero) instead of ○",
    )
    add("valid-lead-big-circle", _p(), Style(lead_mark=(big_circle, None)), set(), "幹事社 marked ◯ (U+25EF)")
    add(
        "valid-categories-numbered",
        _p(),
        Style(category=lambda c: numbered_cats.get(c, c)),
        set(),
        "経費区分 from a numbered list: 1.ソフトウェア購入費 … 7.委託費",
    )
    add(
        "valid-steps-with-names",
        _p(),
        Style(step=lambda n: f"STEP{n}（{STEP_NAMES[n].split(' ')[1]}）"),
        set(),
        "工程 written STEP1（ITツールの購入・設定）",
    )
    add("valid-steps-lowercase", _p(), Style(step=lambda n: f"Step {n}"), set(), "工程 written 「Step 1」")
    add("valid-merged-steps", _p(), Style(merge_steps=True), set(), "one STEP's rows share a merged 工程 cell")
    add(
        "valid-halfwidth-kana-names",
        _p(),
        Style(cost_name=lambda i, s: half_kana.get(s, s)),
        set(),
        "cost table names vendors in half-width katakana 「株式会社ﾈｸｻｽｿﾌﾄ」",
    )
    add("valid-yen-sign-cell", _p(), Style(), set(), "a 「￥」 cell between label and amount", post=_yen_before)
    add(
        "valid-name-formulas",
        _p(),
        Style(name_formulas=True),
        set(),
        "cost-table names are VLOOKUP formulas saved with their results",
    )
    add(
        "valid-error-cell",
        _p(),
        Style(pct_col=True, error_cells=True),
        set(),
        "a 構成比 column whose total holds #DIV/0!",
    )
    add(
        "valid-ods-merged",
        _p(),
        Style(decorate=_merge_labels, by_member=True, merge_names=True),
        set(),
        ".ods with merged label cells and merged 事業者名 cells",
        "ods",
    )
    p = _cost(_p(), 7, amount=20_000_000)
    add(
        "subcontract-kanji-zero",
        p,
        Style(sub_mark=(kanji_zero, None)),
        {"SUBCONTRACT_OVER_HALF"},
        "下請け発注 marked 〇 (U+3007) on 20,000,000 of STEP3",
    )
    add(
        "subcontract-merged-steps",
        p,
        Style(merge_steps=True),
        {"SUBCONTRACT_OVER_HALF"},
        "subcontracting over half; STEP3's rows share one merged 工程 cell",
    )
    add(
        "subcontract-halfwidth-kana",
        p,
        Style(cost_name=lambda i, s: half_kana.get(s, s)),
        {"SUBCONTRACT_OVER_HALF"},
        "subcontracting over half by a vendor named in half-width katakana",
    )
    p = _p()
    p.costs.append(Cost(0, 1, "ソフトウェア購入費", "販売管理パッケージ", 30_000_000))
    add(
        "software-over-half-numbered-categories",
        p,
        Style(category=lambda c: numbered_cats.get(c, c)),
        {"SOFTWARE_CLOUD_OVER_HALF"},
        "software over half with categories 1.ソフトウェア購入費 …",
    )
    add(
        "software-over-half-name-formulas",
        p,
        Style(name_formulas=True),
        {"SOFTWARE_CLOUD_OVER_HALF"},
        "software over half; names are formulas with cached results",
    )
    p = _cost(_p(), 3, amount=15_600_000)
    add(
        "sme-personnel-steps-with-names",
        p,
        Style(step=lambda n: f"STEP{n}（{STEP_NAMES[n].split(' ')[1]}）"),
        {"SME_PERSONNEL_OVER_THIRD"},
        "SME personnel over a third; 工程 STEP2（要件定義）",
    )
    add(
        "field-missing-placeholder-date",
        _p(),
        Style(),
        {"FORM_FIELD_MISSING"},
        "申請日 left as the template's 「令和　　年　　月　　日」",
        post=_placeholder_date,
    )
    add(
        "over-rate-yen-sign-cell",
        _p(requested=22_000_000),
        Style(),
        {"AMOUNT_OVER_CAP"},
        "over 2/3 with a 「￥」 cell before each key amount",
        post=_yen_before,
    )
    p = _p()
    st = Style()
    for name, data, codes, why in [
        (
            "zip-member-sheets",
            submission(p, st, mi=member_info_sheets(p, st)),
            set(),
            "事業者情報入力シート as one key-value sheet per member",
        ),
        (
            "zip-member-sheets-sum-mismatch",
            submission(
                p,
                st,
                mi=member_info_sheets(
                    p, st, requested=[r + (500_000 if i == 0 else 0) for i, r in enumerate(p.requested_of())]
                ),
            ),
            {"SUM_MISMATCH"},
            "one sheet per member; their 補助金申請額 add up to 18,500,000",
        ),
        (
            "zip-checklist-kanji-zero",
            submission(p, st, cl=checklist(p, [kanji_zero] * 7)),
            set(),
            "checklist ticked 〇 (U+3007)",
        ),
        (
            "zip-checklist-inline",
            submission(p, st, cl=checklist(p, ["■"] * 7, inline=True)),
            set(),
            "the □ before each item's text replaced by ■",
        ),
        (
            "zip-checklist-inline-unticked",
            submission(p, st, cl=checklist(p, ["■", "■", "■", "□", "■", "■", "■"], inline=True)),
            {"CHECKLIST_MISMATCH"},
            "「□7. 誓約書」 left unticked though pledges are attached",
        ),
        (
            "zip-checklist-yu-mu",
            submission(p, st, cl=checklist(p, ["有", "有", "有", "有", "有", "有", "無"])),
            {"CHECKLIST_MISMATCH"},
            "納税証明書 attached but marked 無",
        ),
    ]:
        out.append(Variant2(name, {f"{name}.zip": data}, frozenset(codes), why))
    return out


def kanji_era(d: dt.date) -> str:
    """令和五年一月二十七日: dates in kanji numerals, as formal documents write them."""
    digits = "〇一二三四五六七八九"

    def k(n: int) -> str:
        tens, ones = divmod(n, 10)
        return (("" if tens == 1 else digits[tens]) + "十" if tens else "") + (digits[ones] if ones else "")

    return f"令和{k(d.year - 2018)}年{k(d.month)}月{k(d.day)}日"


def _guide_sheet(sheets: list[Sheet], plan: Plan) -> None:
    """A 記入要領 sheet in front: each label of the form beside how to fill it in."""
    guide = Sheet("記入要領")
    guide.put(1, 1, "記入要領（交付申請書・事業計画書・補助対象経費内訳書）")
    guide.row(3, 1, ["項目", "記入方法"])
    rows = [
        ("申請日", "提出日を記入してください"),
        ("コンソーシアム名", "コンソーシアムの名称を記入してください"),
        ("幹事社名", "幹事社の正式名称を記入してください"),
        ("補助対象経費合計", "補助対象経費内訳書の合計と一致させてください"),
        ("補助金交付申請額", "補助対象経費合計の2/3以内（1円未満切り捨て）"),
        ("補助事業名", "事業内容が分かる名称を記入してください"),
        ("事業完了予定日", "2023年2月10日までの日付を記入してください"),
        ("事業者名", "登記上の正式名称"),
        ("区分", "中小ユーザ企業／ITベンダ／その他協力者から選択"),
    ]
    for i, (label, how) in enumerate(rows):
        guide.row(4 + i, 1, [label, how])
    sheets.insert(0, guide)


def _toc_sheet(sheets: list[Sheet], plan: Plan) -> None:
    """A 目次 sheet in front listing the forms with links to them."""
    toc = Sheet("目次")
    toc.put(1, 1, "目次")
    for i, sh in enumerate(sheets):
        toc.put(3 + i, 1, C(sh.title, link=f"#'{sh.title}'!A1"))
    sheets.insert(0, toc)


def _lead_with_rep(sheets: list[Sheet], plan: Plan) -> None:
    """幹事社名 typed with the representative after the company name."""
    sh = sheets[0]
    for (r, c), v in list(sh.cells.items()):
        if v == "幹事社名":
            sh.cells[(r, c + 1)] = f"{sh.cells[(r, c + 1)]}　代表取締役 北村 健"


def _renamed(*titles: str) -> Callable[[list[Sheet], Plan], None]:
    def run(sheets: list[Sheet], plan: Plan) -> None:
        for sh, title in zip(sheets, titles, strict=False):
            sh.title = title

    return run


def _misleading_descriptions(plan: Plan) -> Plan:
    notes = {
        6: "ソフトウェア購入費相当の改修工数",
        7: "人件費（下請け先の開発要員分）",
        3: "クラウドサービス利用費の検討工数",
    }
    for i, desc in notes.items():
        plan.costs[i] = replace(plan.costs[i], desc=desc)
    return plan


def _fifth_batch() -> list[Variant2]:
    out: list[Variant2] = []

    def add(
        name: str,
        plan: Plan,
        st: Style,
        codes: set[str],
        why: str,
        fmt: str = "xlsx",
        post: Callable[[list[Sheet], Plan], None] | None = None,
    ) -> None:
        out.append(_v(name, _app(plan, st, fmt, post), frozenset(codes), why, fmt))

    sen = Style(money=lambda v: f"{v // 1000:,}千円")
    add(
        "valid-guide-sheet",
        _p(),
        Style(),
        set(),
        "a 記入要領 sheet in front pairing every label with advice",
        post=_guide_sheet,
    )
    add("valid-toc-sheet", _p(), Style(), set(), "a 目次 sheet in front with links to each form", post=_toc_sheet)
    add(
        "valid-capital-in-sen-text",
        _p(),
        Style(capital=lambda v: f"{v // 1000:,}千円"),
        set(),
        "資本金 typed 「30,000千円」 in a (円) column",
    )
    add("valid-amounts-sen-text", _p(), sen, set(), "every amount typed with its unit: 「4,000千円」")
    add(
        "valid-slash-date-text",
        _p(),
        Style(date=lambda d: f"{d.year}/{d.month}/{d.day}"),
        set(),
        "dates typed as text 2023/1/27",
    )
    add("valid-kanji-numeral-dates", _p(), Style(date=kanji_era), set(), "dates typed 令和五年一月二十七日")
    add(
        "valid-no-lead-column",
        _p(),
        Style(lead_col=False),
        set(),
        "no 幹事社 column: the 幹事社名 field alone names the lead",
    )
    add(
        "valid-lead-name-with-rep",
        _p(),
        Style(),
        set(),
        "幹事社名 typed 「株式会社北斗食品　代表取締役 北村 健」",
        post=_lead_with_rep,
    )
    add(
        "valid-misleading-descriptions",
        _misleading_descriptions(_p()),
        Style(),
        set(),
        "内容 texts that name other categories (「ソフトウェア購入費相当の改修工数」 on a 人件費 row)",
    )
    add(
        "valid-sheet-names-decorated",
        _p(),
        Style(),
        set(),
        "sheets named 「交付申請書 」, 「事業計画書（記入済）」, 「経費内訳_北斗」",
        post=_renamed("交付申請書 ", "事業計画書（記入済）", "経費内訳_北斗"),
    )
    p = _with(_p(), 0, capital=500_000_000, employees=450)
    add(
        "sme-ineligible-capital-sen-text",
        p,
        Style(capital=lambda v: f"{v // 1000:,}千円"),
        {"SME_INELIGIBLE"},
        "SME user 資本金 「500,000千円」 and 450人",
    )
    add(
        "over-rate-amounts-sen-text",
        _p(requested=22_000_000),
        sen,
        {"AMOUNT_OVER_CAP"},
        "「22,000千円」 requested on 「29,000千円」",
    )
    add(
        "period-kanji-numerals",
        _p(end=dt.date(2023, 3, 31)),
        Style(date=kanji_era),
        {"PROJECT_PERIOD"},
        "完了予定日 令和五年三月三十一日",
    )
    add(
        "name-mismatch-guide-sheet",
        _p(),
        Style(),
        {"CONSORTIUM_NAME_MISMATCH"},
        "a 記入要領 sheet in front; the 事業計画書 names another consortium",
        post=lambda sheets, plan: (_guide_sheet(sheets, plan), _rename_plan_consortium(sheets[2], plan)),
    )
    p = _with(_p(), 3, role="その他協力者")
    add(
        "composition-no-lead-column",
        p,
        Style(lead_col=False),
        {"CONSORTIUM_COMPOSITION"},
        "one vendor only, no 幹事社 column",
    )
    p = _cost(_misleading_descriptions(_p()), 7, amount=20_000_000)
    add(
        "subcontract-misleading-description",
        p,
        Style(),
        {"SUBCONTRACT_OVER_HALF"},
        "下請け 委託費 20,000,000 whose 内容 reads 「人件費（下請け先の開発要員分）」",
    )
    return out


def _rename_plan_consortium(sheet: Sheet, plan: Plan) -> None:
    for key, v in list(sheet.cells.items()):
        if v == plan.consortium:
            sheet.cells[key] = "南北フード連携コンソーシアム"


def _one_workbook() -> list[Variant2]:
    """Every form in one workbook: application sheets, 事業者情報入力シート, チェックリスト."""
    p = _p()
    st = Style()
    out = []
    books = [
        (
            "valid-all-forms-one-workbook",
            member_info(p, st),
            set(),
            "the 事業者情報入力シート and checklist sheets in the application workbook",
        ),
        (
            "sum-mismatch-all-forms-one-workbook",
            member_info(p, st, requested=[r + (500_000 if i == 0 else 0) for i, r in enumerate(p.requested_of())]),
            {"SUM_MISMATCH"},
            "one workbook; its 事業者情報入力シート's 補助金申請額 add up to 18,500,000",
        ),
        (
            "name-mismatch-all-forms-one-workbook",
            member_info(p, st, consortium="北斗フード連携推進コンソーシアム"),
            {"CONSORTIUM_NAME_MISMATCH"},
            "one workbook; its 事業者情報入力シート names another consortium",
        ),
    ]
    for name, mi, codes, why in books:
        sheets = application(p, st) + mi + checklist(p, ["✓"] * 7)
        out.append(_v(name, to_xlsx(sheets), frozenset(codes), why))
    return out


LABELS = {
    "申請日",
    "コンソーシアム名",
    "幹事社名",
    "補助対象経費合計",
    "補助金交付申請額",
    "補助事業名",
    "事業開始予定日",
    "事業完了予定日",
    "事業の目的・概要",
    "コンソーシアム構成員",
    "経費区分別集計",
    "合計",
    "No",
    "事業者名",
    "区分",
    "幹事社",
    "業種",
    "資本金(円)",
    "従業員数(人)",
    "法人番号",
    "担当者メールアドレス",
    "工程",
    "経費区分",
    "内容",
    "下請け発注",
    "補助対象経費(円)",
    "補助対象経費内訳書",
    "事業計画書",
}


def _blank_templates_kept(sheets: list[Sheet], plan: Plan) -> None:
    """The untouched template sheets stay in front; the filled ones are Excel's copies 「… (2)」."""
    blanks = []
    for sh in sheets:
        blank = Sheet(sh.title)
        for key, v in sh.cells.items():
            if isinstance(v, str) and (v in LABELS or v in CATEGORIES or v in STEP_NAMES.values() or "交付申請書" in v):
                blank.cells[key] = v
        blanks.append(blank)
        sh.title = f"{sh.title} (2)"
    sheets[:0] = blanks


def _sixth_batch() -> list[Variant2]:
    out: list[Variant2] = []

    def add(
        name: str,
        plan: Plan,
        st: Style,
        codes: set[str],
        why: str,
        fmt: str = "xlsx",
        post: Callable[[list[Sheet], Plan], None] | None = None,
    ) -> None:
        out.append(_v(name, _app(plan, st, fmt, post), frozenset(codes), why, fmt))

    add(
        "valid-price-quantity-columns",
        _p(),
        Style(price_cols=True),
        set(),
        "単価/数量/単位 columns before the amount (人件費 as 5,000円 × hours)",
    )
    add(
        "valid-ditto-everywhere",
        _p(),
        Style(repeat="〃", ditto_all=True),
        set(),
        "〃 for a repeated member, 工程 or 経費区分",
    )
    add(
        "valid-furigana-rows",
        _p(),
        Style(furigana_rows=True),
        set(),
        "two rows per member: the reading above the name, the other cells merged over both",
    )
    add(
        "valid-blank-template-kept",
        _p(),
        Style(),
        set(),
        "the blank template sheets left in front of the filled copies 「交付申請書 (2)」 …",
        post=_blank_templates_kept,
    )
    p = _p()
    p.costs.insert(7, Cost(0, 3, "人件費", "開発への社内協力", 300_000))
    add(
        "cost-not-eligible-ditto-step",
        p,
        Style(ditto_all=True),
        {"COST_NOT_ELIGIBLE"},
        "SME user 人件費 on a row whose 工程 is 〃 under a STEP3 row",
    )
    p = _cost(_p(), 3, amount=15_600_000)
    add(
        "sme-personnel-price-quantity",
        p,
        Style(price_cols=True),
        {"SME_PERSONNEL_OVER_THIRD"},
        "SME personnel 3,120時間 × 5,000円 = 15,600,000 in a 単価/数量 table",
    )
    p = _with(_p(), 0, capital=500_000_000, employees=450)
    add(
        "sme-ineligible-furigana-rows",
        p,
        Style(furigana_rows=True),
        {"SME_INELIGIBLE"},
        "SME user over both lines, members written over two rows with their readings",
    )
    add(
        "over-rate-blank-template-kept",
        _p(requested=22_000_000),
        Style(),
        {"AMOUNT_OVER_CAP"},
        "over 2/3 in the filled copies; blank template sheets in front",
        post=_blank_templates_kept,
    )
    return out


def _member_count_row(sheets: list[Sheet], plan: Plan) -> None:
    """A 合計 row under the member table counting the members: 「計」「4者」."""
    sh = sheets[0]
    last = max(r for (r, c), v in sh.cells.items() if v == plan.members[-1].email)
    left = min(c for (r, c) in sh.cells if r == last)
    sh.row(last + 1, left, ["計", f"{len(plan.members)}者"])


def _rows_under_total(sheets: list[Sheet], plan: Plan) -> None:
    """Lines under the cost table's total: 補助金交付申請額 and うち下請け発注額."""
    sh = sheets[2]
    total_row = min(r for (r, c), v in sh.cells.items() if v == "合計")
    amount_col = max(c for (r, c) in sh.cells if r == total_row)
    label_col = min(c for (r, c) in sh.cells if r == total_row)
    sh.put(total_row + 1, label_col, "補助金交付申請額（2/3以内）")
    sh.put(total_row + 1, amount_col, plan.requested)
    sh.put(total_row + 2, label_col, "（うち下請け発注額）")
    sh.put(total_row + 2, amount_col, sum(c.amount for c in plan.costs if c.sub))
    for (r, c), v in list(sh.cells.items()):
        if r > total_row + 2:
            del sh.cells[(r, c)]
            sh.cells[(r + 2, c)] = v


def _kv_formulas(sheets: list[Sheet], plan: Plan) -> None:
    """補助対象経費合計 and 補助金交付申請額 as formulas saved with their results."""
    sh = sheets[0]
    for (r, c), v in list(sh.cells.items()):
        if v == "補助対象経費合計":
            sh.cells[(r, c + 1)] = C(sh.cells[(r, c + 1)], formula="'補助対象経費内訳書'!G16")
        elif v == "補助金交付申請額":
            sh.cells[(r, c + 1)] = C(sh.cells[(r, c + 1)], formula=f"ROUNDDOWN({_col(c + 1)}{r - 1}*0.62,-3)")


def _seventh_batch() -> list[Variant2]:
    out: list[Variant2] = []

    def add(
        name: str,
        plan: Plan,
        st: Style,
        codes: set[str],
        why: str,
        fmt: str = "xlsx",
        post: Callable[[list[Sheet], Plan], None] | None = None,
    ) -> None:
        out.append(_v(name, _app(plan, st, fmt, post), frozenset(codes), why, fmt))

    add(
        "valid-member-count-row",
        _p(),
        Style(),
        set(),
        "a 「計 4者」 row under the member table",
        post=_member_count_row,
    )
    add(
        "valid-rows-under-total",
        _p(),
        Style(),
        set(),
        "補助金交付申請額 and うち下請け発注額 lines under the cost table's 合計",
        post=_rows_under_total,
    )
    add(
        "valid-kv-formulas",
        _p(requested=17_980_000),
        Style(),
        set(),
        "補助対象経費合計 and 申請額 (ROUNDDOWN(…*0.62,-3)) as formulas with cached results",
        post=_kv_formulas,
    )
    add(
        "valid-vendor-capital-blank",
        _with(_p(), 3, capital=None),
        Style(),
        set(),
        "a vendor's 資本金 「－」 while its 25 employees make it an SME either way",
    )
    out.append(
        _v(
            "valid-generated-xlsx",
            xlsx_as_generated(application(_p(), Style())),
            NONE,
            'an .xlsx as web systems write it: inline strings, <dimension ref="A1"/>',
        )
    )
    out.append(
        _v(
            "over-rate-generated-xlsx",
            xlsx_as_generated(application(_p(requested=22_000_000), Style())),
            frozenset({"AMOUNT_OVER_CAP"}),
            "over 2/3 in an .xlsx with inline strings and a stale dimension",
        )
    )
    p = _cost(_p(), 7, amount=20_000_000)
    add(
        "subcontract-rows-under-total",
        p,
        Style(),
        {"SUBCONTRACT_OVER_HALF"},
        "subcontracting over half; 申請額 and うち下請け lines under the total",
        post=_rows_under_total,
    )
    p = _with(_p(), 3, role="その他協力者")
    add(
        "composition-member-count-row",
        p,
        Style(),
        {"CONSORTIUM_COMPOSITION"},
        "one vendor only; a 「計 4者」 row under the member table",
        post=_member_count_row,
    )
    return out


def daiji(n: int) -> str:
    """18000000 → 壱千八百万: the formal numerals of 交付申請書 letters."""
    digits = "〇壱弐参四五六七八九"
    out = ""
    for unit, size in (("億", 10**8), ("万", 10**4), ("", 1)):
        group, n = divmod(n, size)
        if not group:
            continue
        text = ""
        for name, place in (("千", 1000), ("百", 100), ("拾", 10), ("", 1)):
            d, group = divmod(group, place)
            if d:
                text += digits[d] + name
        out += text + unit
    return out


def _eighth_batch() -> list[Variant2]:
    out: list[Variant2] = []

    def add(
        name: str,
        plan: Plan,
        st: Style,
        codes: set[str],
        why: str,
        fmt: str = "xlsx",
        post: Callable[[list[Sheet], Plan], None] | None = None,
    ) -> None:
        out.append(_v(name, _app(plan, st, fmt, post), frozenset(codes), why, fmt))

    st = Style()
    formal = Style(kv_money=lambda v: f"金{v:,}円也")
    formal_daiji = Style(kv_money=lambda v: f"金{daiji(v)}円也")
    add(
        "valid-role-tick-columns",
        _p(),
        Style(role_ticks=True),
        set(),
        "区分 as three tick columns 中小ユーザ企業 / ITベンダ / その他協力者",
    )
    add(
        "valid-lead-by-no",
        _p(),
        Style(lead_by_no=True, lead_col=False),
        set(),
        "no 幹事社 column; the No column reads 幹事社 / 構成員1 / 構成員2 …",
    )
    add(
        "valid-costs-by-category",
        _p(),
        st,
        set(),
        "cost table with one amount column per 経費区分",
        post=with_costs(by_category, st),
    )
    add(
        "valid-costs-step-blocks",
        _p(),
        st,
        set(),
        "one block per STEP with its own header and 小計, no 工程 column",
        post=with_costs(step_blocks, st),
    )
    add(
        "valid-costs-member-sheets",
        _p(),
        st,
        set(),
        "one 経費内訳 sheet per member and a 集計 sheet",
        post=with_costs(member_sheets, st),
    )
    add("valid-formal-amounts", _p(), formal, set(), "key amounts typed 「金29,000,000円也」")
    add(
        "valid-formal-daiji-amounts",
        _p(),
        formal_daiji,
        set(),
        "key amounts typed in formal numerals 「金弐千九百万円也」",
    )
    p = _with(_p(), 3, role="その他協力者")
    add(
        "composition-role-tick-columns",
        p,
        Style(role_ticks=True),
        {"CONSORTIUM_COMPOSITION"},
        "one vendor only, 区分 as tick columns",
    )
    add(
        "composition-lead-by-no",
        p,
        Style(lead_by_no=True, lead_col=False),
        {"CONSORTIUM_COMPOSITION"},
        "one vendor only; No column reads 幹事社 / 構成員n",
    )
    p = _p()
    p.costs.append(Cost(0, 1, "ソフトウェア購入費", "販売管理パッケージ", 30_000_000))
    add(
        "software-over-half-by-category",
        p,
        st,
        {"SOFTWARE_CLOUD_OVER_HALF"},
        "software over half in a one-column-per-category table",
        post=with_costs(by_category, st),
    )
    p = _cost(_p(), 3, amount=15_600_000)
    add(
        "sme-personnel-member-sheets",
        p,
        st,
        {"SME_PERSONNEL_OVER_THIRD"},
        "SME personnel over a third, one 経費内訳 sheet per member",
        post=with_costs(member_sheets, st),
    )
    add(
        "sme-personnel-by-category",
        p,
        st,
        {"SME_PERSONNEL_OVER_THIRD"},
        "SME personnel over a third, one column per category",
        post=with_costs(by_category, st),
    )
    p = _cost(_p(), 7, amount=20_000_000)
    add(
        "subcontract-step-blocks",
        p,
        st,
        {"SUBCONTRACT_OVER_HALF"},
        "subcontracting 20,000,000 of STEP3 in a per-STEP block",
        post=with_costs(step_blocks, st),
    )
    add(
        "subcontract-by-category",
        p,
        st,
        {"SUBCONTRACT_OVER_HALF"},
        "subcontracting over half given as うち下請け発注額 in a per-category table",
        post=with_costs(by_category, st),
    )
    p = _p()
    p.costs.append(Cost(1, 3, "人件費", "開発への社内協力", 300_000))
    add(
        "cost-not-eligible-step-blocks",
        p,
        st,
        {"COST_NOT_ELIGIBLE"},
        "SME user 人件費 inside the STEP3 block",
        post=with_costs(step_blocks, st),
    )
    add(
        "cost-not-eligible-member-sheets",
        p,
        st,
        {"COST_NOT_ELIGIBLE"},
        "SME user 人件費 in STEP3 on that member's own 経費内訳 sheet",
        post=with_costs(member_sheets, st),
    )
    add(
        "sum-step-blocks",
        _p(stated_total=29_300_000),
        st,
        {"SUM_MISMATCH"},
        "per-STEP blocks whose 合計 disagrees with the blocks",
        post=with_costs(step_blocks, st),
    )
    add(
        "over-rate-formal-daiji",
        _p(requested=22_000_000),
        formal_daiji,
        {"AMOUNT_OVER_CAP"},
        "「金弐千弐百万円也」 requested on 「金弐千九百万円也」",
    )
    add(
        "below-minimum-formal",
        _p(requested=900_000, costs=[replace(c, amount=c.amount // 20) for c in _p().costs]),
        formal,
        {"AMOUNT_BELOW_MINIMUM"},
        "「金900,000円也」 requested",
    )
    return out


OTHER_ITEMS = [
    "様式4 交付申請書等（Excel）",
    "様式5 補助事業概要書",
    "様式6 事業者情報入力シート（Excel）",
    "様式7 誓約書（全構成員分）",
    "様式8 本チェックリスト",
    "登記簿謄本（発行後3か月以内）",
    "納税証明書（その1・全構成員分）",
]


def _ninth_batch() -> list[Variant2]:
    out: list[Variant2] = []

    def add(
        name: str,
        plan: Plan,
        st: Style,
        codes: set[str],
        why: str,
        fmt: str = "xlsx",
        post: Callable[[list[Sheet], Plan], None] | None = None,
    ) -> None:
        out.append(_v(name, _app(plan, st, fmt, post), frozenset(codes), why, fmt))

    def broken_names(sheets: list[Sheet], plan: Plan) -> None:
        for sh in sheets[:1]:
            for key, v in list(sh.cells.items()):
                if v == plan.members[0].name:
                    sh.cells[key] = C("株式会社\n北斗食品", wrap=True)
        for key, v in list(sheets[1].cells.items()):
            if v == plan.consortium:
                sheets[1].cells[key] = C("北斗フードDX\n連携コンソーシアム", wrap=True)

    add(
        "valid-line-breaks-in-names",
        _p(),
        Style(),
        set(),
        "Alt+Enter line breaks inside the lead's name and the 事業計画書's コンソーシアム名",
        post=broken_names,
    )
    lead_role = Style(lead_col=False, role=lambda s: s)
    p = _with(_p(), 0, role="中小ユーザ企業（幹事社）")
    add("valid-lead-in-role", p, lead_role, set(), "no 幹事社 column; the lead's 区分 reads 中小ユーザ企業（幹事社）")
    p = _p()
    p.members.append(copy.deepcopy(COLLABORATOR))
    p.costs.insert(5, Cost(0, 2, "専門家経費", "佐藤経営研究所への謝金", 400_000))
    add("valid-collaborator-fee", p, Style(), set(), "an その他協力者 paid through the lead's 専門家経費")
    q = _p()
    st = Style()
    for name, data, codes, why in [
        (
            "zip-checklist-other-wording",
            submission(q, st, cl=checklist(q, ["✓"] * 7, items=OTHER_ITEMS)),
            set(),
            "checklist items worded by another template: 様式4 交付申請書等, 登記簿謄本, 納税証明書（その1）",
        ),
        (
            "zip-checklist-other-wording-unticked",
            submission(q, st, cl=checklist(q, ["✓", "✓", "✓", "✓", "✓", "", "✓"], items=OTHER_ITEMS)),
            {"CHECKLIST_MISMATCH"},
            "「登記簿謄本」 left unticked though registry certificates are attached",
        ),
        (
            "zip-checklist-optional-rows",
            submission(
                q, st, cl=checklist(q, ["✓"] * 7, extra=[("見積書（任意）", None), ("その他参考資料（任意）", "－")])
            ),
            set(),
            "optional rows 見積書（任意） left unticked, nothing attached for them",
        ),
        (
            "zip-line-break-consortium",
            submission(q, st, mi=member_info(q, st, consortium="北斗フードDX\n連携コンソーシアム")),
            set(),
            "コンソーシアム名 broken over two lines in the 事業者情報入力シート only",
        ),
    ]:
        out.append(Variant2(name, {f"{name}.zip": data}, frozenset(codes), why))
    return out


def _hardware_row(sheets: list[Sheet], plan: Plan) -> None:
    """The summary carries another program's 「ハードウェア購入費」 row, left at 「－」."""
    sh = sheets[2]
    at = next(r for (r, c), v in sh.cells.items() if v == "委託費" and c == 1 and r > 10)
    moved = {(r + 1, c) if r > at else (r, c): v for (r, c), v in sh.cells.items()}
    moved[(at + 1, 1)] = "ハードウェア購入費"
    moved[(at + 1, 2)] = "－"
    sh.cells = moved


def _tenth_batch() -> list[Variant2]:
    out: list[Variant2] = []
    add_st = Style(lead_mark=("★", None))
    out.append(_v("valid-lead-star", _app(_p(), add_st), NONE, "幹事社 marked ★"))
    out.append(
        _v(
            "valid-summary-hardware-dash",
            _app(_p(), Style(), post=_hardware_row),
            NONE,
            "the category summary lists ハードウェア購入費 「－」 (nothing claimed)",
        )
    )
    out.append(
        _v(
            "valid-mac-1904-dates",
            to_xlsx(application(_p(), Style()), mac1904=True),
            NONE,
            "a workbook in the 1904 date system (old Mac Excel): the same dates, other serials",
        )
    )
    out.append(
        _v(
            "period-mac-1904-dates",
            to_xlsx(application(_p(end=dt.date(2023, 3, 31)), Style()), mac1904=True),
            frozenset({"PROJECT_PERIOD"}),
            "完了予定日 2023-03-31 in a 1904-date-system workbook",
        )
    )
    return out


def variants() -> list[Variant2]:
    return (
        _valid_app_variants()
        + _deficient_variants()
        + _zip_variants()
        + _more_valid()
        + _more_deficient()
        + _more_zips()
        + _third_batch()
        + _fourth_batch()
        + _fifth_batch()
        + _one_workbook()
        + _sixth_batch()
        + _seventh_batch()
        + _eighth_batch()
        + _ninth_batch()
        + _tenth_batch()
    )
