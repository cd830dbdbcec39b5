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

from tests.corpus2_books import C, Sheet, to_ods, to_xls, to_xlsx
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
    submission,
    yen_comma,
    yen_fullwidth,
    yen_man,
    yen_quoted,
    yen_suffix,
)

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


def variants() -> list[Variant2]:
    return _valid_app_variants() + _deficient_variants() + _zip_variants()
