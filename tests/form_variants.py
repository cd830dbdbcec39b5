"""A reading corpus: application files as applicants fill them, each with the codes it must get.

Every variant is one baseline consortium changed in one thing (a filling habit, a layout, a file
format, or a fact that the program page's rules judge), so a wrong verdict points at its cause.
The expected codes come from the program page and SPEC §3–§4, worked by hand in each variant:
- cap 44,000,000円 for 4 SME users + vendors (+11,000,000円 each, その他協力者 not counted);
- rate 2/3, or 1/2 when any vendor is large by the industry table; minimum 1,000,000円;
- software + cloud ≤ 1/2 of the total; SME users' 人件費 ≤ 1/3 of 委託費 + 人件費;
- a vendor's 下請け < 1/2 of the STEP's cost; 法人番号 check digit; 2 SME users + 2 vendors.
Amounts in the baseline sit far from every line, so the SME-personnel base (whole consortium,
SME users only, or per member) and the subcontracting base (per STEP or per vendor) give the same
verdict whichever way the program reads them.
"""

from __future__ import annotations

import datetime as dt
import random
from dataclasses import dataclass, field, replace

from tests.form_layouts import Case, Cost, Member, Opts, application, checklist, member_info, with_member
from tests.form_writer import as_xlsm, encrypt_office, fake_archive, tiny_pdf, to_ods, to_xls, to_xlsx, to_zip

__all__ = ["Variant", "variants", "corporate_number"]


@dataclass(frozen=True)
class Variant:
    name: str
    files: dict[str, bytes]
    expected: frozenset[str]
    why: str
    tolerated: frozenset[str] = field(default_factory=frozenset)  # codes SPEC does not pin here


def corporate_number(base12: str) -> str:
    """法人番号: check digit = 9 − (Σ digit × (1 or 2, from the right, odd places 1)) mod 9."""
    total = sum(int(d) * (1 if i % 2 else 2) for i, d in enumerate(reversed(base12), start=1))
    return str(9 - total % 9) + base12


def _numbers(rng: random.Random, n: int) -> list[str]:
    return [corporate_number("".join(rng.choice("0123456789") for _ in range(12))) for _ in range(n)]


def _typo(num: str) -> str:
    """The same number with its last two digits swapped (a typing slip the check digit catches)."""
    swapped = num[:-2] + num[-1] + num[-2]
    if swapped == num or corporate_number(swapped[1:]) == swapped:
        swapped = num[:-1] + str((int(num[-1]) + 1) % 10)
    return swapped


def baseline(rng: random.Random) -> Case:
    n1, n2, n3, n4 = _numbers(rng, 4)
    members = (
        Member("kaga", "株式会社加賀製作所", "中小ユーザ企業", "製造業", 30_000_000, 85, n1,
               lead=True, rep="代表取締役 加賀 太郎", email="soumu@kaga-ss.example.jp"),
        Member("noto", "有限会社のと商会", "中小ユーザ企業", "卸売業", 5_000_000, 12, n2,
               rep="取締役 能登 花子", address="石川県七尾市府中町1-2", email="info@noto.example.jp"),
        Member("hoku", "株式会社ホクリクソフト", "ITベンダ", "ソフトウェア業", 50_000_000, 120, n3,
               rep="代表取締役社長 北 陸", address="富山県富山市新桜町3-4",
               email="sales@hokuriku-soft.example.co.jp"),
        Member("echi", "越前システム株式会社", "ITベンダ", "情報処理サービス業", 20_000_000, 40, n4,
               rep="代表取締役 越前 一", address="福井県福井市大手2-5",
               email="contact@echizen-sys.example.com"),
    )
    costs = (
        Cost("kaga", 1, "ソフトウェア購入費", "生産管理システム ライセンス・初期設定", 4_000_000),
        Cost("noto", 1, "クラウドサービス利用費", "クラウド会計 年間利用料", 1_000_000),
        Cost("kaga", 2, "委託費", "要件定義の委託(ホクリクソフト)", 3_000_000),
        Cost("kaga", 2, "人件費", "要件定義 社内工数", 600_000),
        Cost("kaga", 2, "会議費", "要件定義会議 会場費", 200_000),
        Cost("hoku", 2, "旅費", "要件定義打合せ 出張旅費", 200_000),
        Cost("hoku", 3, "人件費", "API連携機能の設計・開発", 10_000_000),
        Cost("hoku", 3, "委託費", "結合テストの下請け発注", 3_000_000, sub=True),
        Cost("echi", 3, "人件費", "連携基盤の開発・システムテスト", 6_000_000),
        Cost("noto", 4, "委託費", "受入テスト支援の委託(越前システム)", 800_000),
        Cost("noto", 4, "人件費", "受入テスト 社内工数", 200_000),
        Cost("echi", 4, "人件費", "利用者研修", 1_000_000),
    )
    return Case("北陸スマート連携コンソーシアム", members, costs)


# --- value spellings ---------------------------------------------------------------------------

def commas(v: object) -> object:
    return f"{v:,}" if isinstance(v, int) else v


def kin_yen(v: object) -> object:
    return f"金{v:,}円" if isinstance(v, int) else v


def yen_dash(v: object) -> object:
    return f"￥{v:,}-" if isinstance(v, int) else v


def fullwidth(v: object) -> object:
    if not isinstance(v, int):
        return v
    return f"{v:,}".translate(str.maketrans("0123456789,", "０１２３４５６７８９，"))


def yen_space(v: object) -> object:
    return f"{v:,} 円" if isinstance(v, int) else v


def reiwa(v: object) -> object:
    if not isinstance(v, dt.datetime):
        return v
    return f"令和{v.year - 2018}年{v.month}月{v.day}日"


def _scale(case: Case, factor: int) -> Case:
    return replace(case, costs=tuple(replace(c, amount=c.amount * factor) for c in case.costs))


def _replace_cost(case: Case, index: int, **changes: object) -> Case:
    costs = list(case.costs)
    costs[index] = replace(costs[index], **changes)
    return replace(case, costs=tuple(costs))


def _add_cost(case: Case, cost: Cost) -> Case:
    return replace(case, costs=case.costs + (cost,))


def _drop_member(case: Case, key: str) -> Case:
    return replace(case, members=tuple(m for m in case.members if m.key != key),
                   costs=tuple(c for c in case.costs if c.member != key))


NONE: frozenset[str] = frozenset()


def _codes(*codes: str) -> frozenset[str]:
    return frozenset(codes)


class _Corpus:
    def __init__(self) -> None:
        self.items: list[Variant] = []

    def xlsx(self, name: str, case: Case, expected: frozenset[str], why: str, o: Opts | None = None,
             tolerated: frozenset[str] = NONE) -> None:
        data = to_xlsx(application(case, o or Opts()))
        self.items.append(Variant(name, {f"4_交付申請書_{name}.xlsx": data}, expected, why, tolerated))

    def add(self, name: str, files: dict[str, bytes], expected: frozenset[str], why: str,
            tolerated: frozenset[str] = NONE) -> None:
        self.items.append(Variant(name, files, expected, why, tolerated))


def submission(case: Case, app: bytes, corpnums: dict[str, object] | None = None,
               names=None, decorated: bool = False, tick: str = "✓",
               unticked: int | None = None) -> bytes:
    """A whole submission zip: the three forms, the overview and every member's papers."""
    info = to_xlsx(member_info(case, corpnums, names or (lambda s: s), decorated))
    files = {
        "申請書類/4_交付申請書.xlsx": app,
        "申請書類/5_補助事業概要書.pdf": tiny_pdf("Hojo jigyo gaiyosho"),
        "申請書類/6_事業者情報入力シート.xlsx": info,
        "申請書類/8_提出書類チェックリスト.xlsx": to_xlsx(checklist(case, tick, unticked)),
    }
    for m in case.members:
        if not m.counts:
            continue
        files[f"申請書類/7_誓約書_{m.name}.pdf"] = tiny_pdf("Seiyakusho")
        if m.size != "個人事業主":  # a sole proprietor has no commercial registry
            files[f"申請書類/履歴事項全部証明書_{m.name}.pdf"] = tiny_pdf("Rireki jiko zenbu shomeisho")
        files[f"申請書類/納税証明書_{m.name}.pdf"] = tiny_pdf("Nozei shomeisho")
    return to_zip(files)


def variants() -> list[Variant]:
    rng = random.Random(20220825)
    base = baseline(rng)
    k = _Corpus()
    _layouts(k, base)
    _values(k, base)
    _roles(k, base, rng)
    _industries(k, base)
    _vendors(k, base)
    _costs(k, base)
    _money(k, base)
    _facts(k, base, rng)
    _formats(k, base)
    _submissions(k, base)
    _combinations(k, base, rng)
    names = [v.name for v in k.items]
    assert len(names) == len(set(names)), "variant names must be unique"
    return k.items


def _layouts(k: _Corpus, b: Case) -> None:
    k.xlsx("baseline", b, NONE, "valid consortium, plain layout: no finding")
    k.xlsx("sheets_yoshiki", b, NONE, "sheets named 様式1/様式2/様式3",
           Opts(sheet_names=("様式1", "様式2", "様式3")))
    k.xlsx("sheets_yoshiki_name_mismatch", replace(b, plan_name="北陸DX連携コンソーシアム"),
           _codes("CONSORTIUM_NAME_MISMATCH"), "様式1/2/3 sheets; 事業計画書 names another consortium",
           Opts(sheet_names=("様式1", "様式2", "様式3")))
    k.xlsx("sheets_reordered", b, NONE, "内訳書, 事業計画書, 交付申請書 in that sheet order",
           Opts(order=(2, 1, 0)))
    k.xlsx("hidden_list_sheet", b, NONE, "a hidden helper sheet of dropdown lists",
           Opts(hidden_sheet=True))
    k.xlsx("instructions_sheet_first", b, NONE, "a 記入上の注意 sheet before the forms",
           Opts(instructions_sheet=True))
    k.xlsx("no_title_rows", b, NONE, "no printed title rows above the fields", Opts(title_row=False))
    k.xlsx("label_brackets", b, NONE, "labels written 【コンソーシアム名】",
           Opts(deco=lambda s: f"【{s}】"))
    k.xlsx("label_fullwidth_number", b, NONE, "labels numbered １．",
           Opts(deco=lambda s: f"１．{s}"))
    k.xlsx("label_paren_number", b, NONE, "labels numbered (1)", Opts(deco=lambda s: f"(1){s}"))
    k.xlsx("label_circled_number", b, NONE, "labels numbered ①", Opts(deco=lambda s: f"①{s}"))
    k.xlsx("label_required_mark", b, NONE, "labels followed by ※必須",
           Opts(deco=lambda s: f"{s}※必須"))
    k.xlsx("label_required_mark_newline", b, NONE, "label with a line break then ※必須 (Alt+Enter)",
           Opts(deco=lambda s: f"{s}\n※必須"))
    k.xlsx("label_colon_cell", b, NONE, "a 「：」 cell between label and value", Opts(gap="colon"))
    k.xlsx("label_blank_cell", b, NONE, "a blank cell between label and value", Opts(gap="blank"))
    k.xlsx("label_merged", b, NONE, "label merged over two cells, value merged after it",
           Opts(label_merge=True))
    k.xlsx("label_trailing_space", b, NONE, "labels with trailing half/full-width spaces",
           Opts(deco=lambda s: f"{s} 　"))
    k.xlsx("label_colon_inside", b, NONE, "labels ending with a full-width colon",
           Opts(deco=lambda s: f"{s}："))
    k.xlsx("values_below_labels", b, NONE, "each value in the cell under its label",
           Opts(below=True))
    k.xlsx("units_row", b, NONE, "a units row 「(円)」「(人)」 under the table headers",
           Opts(units_row=True))
    k.xlsx("header_line_breaks", b, NONE, "headers wrapped with Alt+Enter before (円)/(人)",
           Opts(header_break=True))
    k.xlsx("capital_header_page_words", b, NONE, "capital column headed 資本金の額又は出資の総額",
           Opts(member_headers={"capital": "資本金の額又は出資の総額", "employees":
                                "常時使用する従業員の数"}))
    k.xlsx("member_columns_reordered", b, NONE, "member table columns in another order",
           Opts(member_cols=("no", "role", "name", "corpnum", "industry", "employees", "capital",
                             "lead", "email")))
    k.xlsx("member_template_rows", b, NONE, "numbered empty rows left in the member table",
           Opts(member_template_rows=4))
    k.xlsx("costs_subtotals", b, NONE, "cost table grouped by STEP with 小計 rows",
           Opts(cost_layout="grouped"))
    k.xlsx("costs_subtotals_blank_rows", b, NONE, "STEP groups with 小計 and 6 blank rows between",
           Opts(cost_layout="grouped", blank_between=6))
    k.xlsx("costs_blank_rows", b, NONE, "5 blank rows between STEP groups, no subtotals",
           Opts(blank_between=5))
    k.xlsx("costs_step_merged", b, NONE, "工程 written once per STEP in a vertically merged cell",
           Opts(cost_layout="merged"))
    k.xlsx("total_sougoukei", b, NONE, "total row labelled 総合計", Opts(total_label="総合計"))
    k.xlsx("total_kei", b, NONE, "total row labelled 計", Opts(total_label="計"))
    k.xlsx("total_spaced", b, NONE, "total row labelled 「合　計」", Opts(total_label="合　計"))
    k.xlsx("costs_notes_rows", b, NONE, "※ notes rows under the tables", Opts(notes=True))
    k.xlsx("costs_extra_columns", b, NONE, "extra 発注先 and 備考 columns in the cost table",
           Opts(extra_cols=True))
    k.xlsx("costs_template_rows", b, NONE, "numbered template rows with 0 left before the total",
           Opts(template_rows=3))
    k.xlsx("no_category_summary", b, NONE, "no 経費区分別集計 table", Opts(category_summary=False))
    k.xlsx("step_full_titles", b, NONE, "工程 written with the STEP's full title",
           Opts(step=lambda n: {1: "STEP1 ITツールの購入・設定", 2: "STEP2 要件定義",
                                3: "STEP3 設計・開発〜システムテスト", 4: "STEP4 受入テスト・研修"}[n]))
    k.xlsx("step_fullwidth", b, NONE, "工程 written ＳＴＥＰ１ in full width",
           Opts(step=lambda n: "ＳＴＥＰ" + "０１２３４"[n]))
    k.xlsx("step_number_only", b, NONE, "工程 written as the bare number", Opts(step=lambda n: n))
    k.xlsx("margin_row_and_column", b, NONE, "every form starts at B2 (an empty margin row/column)",
           Opts(shift=(1, 1)))
    k.xlsx("blank_sheets_left", b, NONE, "the empty Sheet2/Sheet3 left in the workbook",
           Opts(blank_sheets=True))
    k.xlsx("example_sheet_left_first", b, NONE,
           "the template's 記入例 sheet (〇〇連携コンソーシアム) left before the real forms",
           Opts(example_sheet=True))
    k.xlsx("sum_formulas", b, NONE, "totals are =SUM() formulas saved with their values",
           Opts(sum_formulas=True))
    k.xlsx("costs_sorted_by_member", b, NONE, "cost rows sorted by member instead of STEP",
           Opts(by_member=True))
    k.xlsx("label_value_one_cell", b, NONE, "「コンソーシアム名：…」 label and value typed in one cell",
           Opts(inline=True))
    k.xlsx("member_group_header", b, NONE, "a merged group-header row above the member headers",
           Opts(group_header=True))
    k.xlsx("many_habits_at_once", b, NONE, "様式 names, 【】 labels, colon cells, units, 小計, 総合計",
           Opts(sheet_names=("様式1", "様式2", "様式3"), deco=lambda s: f"【{s}】", gap="colon",
                units_row=True, cost_layout="grouped", blank_between=5, total_label="総合計",
                money=commas, header_break=True, hidden_sheet=True))


def _values(k: _Corpus, b: Case) -> None:
    k.xlsx("money_text_commas", b, NONE, "amounts typed as text 30,000,000", Opts(money=commas))
    k.xlsx("money_kin_yen", b, NONE, "amounts written 金30,000,000円", Opts(money=kin_yen))
    k.xlsx("money_yen_dash", b, NONE, "amounts written ￥30,000,000-", Opts(money=yen_dash))
    k.xlsx("money_fullwidth", b, NONE, "amounts in full-width digits and commas", Opts(money=fullwidth))
    k.xlsx("money_yen_space", b, NONE, "amounts written 30,000,000 円", Opts(money=yen_space))
    man = with_member(with_member(b, "kaga", capital="3,000万円"), "noto", capital="500万円")
    k.xlsx("capital_man_yen", man, NONE, "capital written 3,000万円 / 500万円")
    k.xlsx("money_tax_note", b, NONE, "amounts written 30,000,000円（税抜）",
           Opts(money=lambda v: f"{v:,}円（税抜）" if isinstance(v, int) else v))
    sen = with_member(with_member(b, "kaga", capital="3千万円"), "noto", capital="5百万円")
    k.xlsx("capital_sen_man", sen, NONE, "capital written 3千万円 / 5百万円")
    k.xlsx("vendor_capital_oku_man_large",
           with_member(b, "hoku", capital="3億5,000万円", employees=350), _codes("AMOUNT_OVER_CAP"),
           "vendor 「3億5,000万円」 and 350人 is large: rate 1/2")
    k.xlsx("employees_mei", b, NONE, "employees written 85名", Opts(count=lambda v: f"{v}名"))
    k.xlsx("employees_as_of", b, NONE, "employees written 85名（2022年8月1日現在）",
           Opts(count=lambda v: f"{v}名（2022年8月1日現在）"))
    k.xlsx("employees_fullwidth", b, NONE, "employees in full-width digits with 人",
           Opts(count=lambda v: str(v).translate(str.maketrans("0123456789", "０１２３４５６７８９")) + "人"))
    k.xlsx("dates_reiwa_text", b, NONE, "dates typed as 令和4年8月25日", Opts(date=reiwa))
    k.xlsx("dates_slash_text", b, NONE, "dates typed as text 2022/10/03",
           Opts(date=lambda v: v.strftime("%Y/%m/%d") if isinstance(v, dt.datetime) else v))
    k.xlsx("dates_reiwa_abbrev", b, NONE, "dates typed as R4.10.3",
           Opts(date=lambda v: f"R{v.year - 2018}.{v.month}.{v.day}" if isinstance(v, dt.datetime) else v))
    k.xlsx("dates_kanji_fullwidth", b, NONE, "dates typed ２０２２年１０月３日",
           Opts(date=lambda v: f"{v.year}年{v.month}月{v.day}日".translate(
               str.maketrans("0123456789", "０１２３４５６７８９")) if isinstance(v, dt.datetime) else v))
    k.xlsx("corpnum_as_number", b, NONE, "法人番号 stored as a number cell",
           Opts(corpnum=lambda v: int(v)))
    k.xlsx("corpnum_fullwidth", b, NONE, "法人番号 in full-width digits",
           Opts(corpnum=lambda v: v.translate(str.maketrans("0123456789", "０１２３４５６７８９"))))
    for tag, dash in (("minus", "\u2212"), ("hyphen", "\u2010"), ("emdash", "\u2014"),
                      ("boxdraw", "\u2500")):
        k.xlsx(f"no_mark_dash_{tag}", b, NONE,
               f"幹事社 and 下請け columns marked U+{ord(dash):04X} for no",
               Opts(lead_no=dash, sub_no=dash))
    k.xlsx("no_mark_batsu", b, NONE, "幹事社/下請け marked ○ or × (× means no)",
           Opts(lead_no="×", sub_no="×"))
    k.xlsx("yes_mark_kanji_zero", b, NONE, "幹事社/下請け ticked with 〇 (kanji zero) or ●",
           Opts(lead_yes="〇", sub_yes="●"))
    spaced = replace(b, members=tuple(replace(m, name=m.name.replace("株式会社", "株式会社　"))
                                      for m in b.members))
    k.xlsx("names_fullwidth_space", spaced, NONE,
           "member names with a full-width space in the member table only",
           Opts(name=lambda s: s.replace("\u3000", "")))
    k.xlsx("names_trailing_space", b, NONE, "member names in the cost table with a trailing space",
           Opts(name=lambda s: s + " "))
    k.xlsx("category_line_break", b, NONE, "経費区分 wrapped with Alt+Enter (クラウドサービス⏎利用費)",
           Opts(category=lambda s: s.replace("サービス", "サービス\n")))
    k.xlsx("dates_iso_text", b, NONE, "dates typed as text 2022-08-25",
           Opts(date=lambda v: v.strftime("%Y-%m-%d") if isinstance(v, dt.datetime) else v))
    k.xlsx("dates_with_weekday", b, NONE, "dates typed 令和4年8月25日（木）",
           Opts(date=lambda v: reiwa(v) + "（" + "月火水木金土日"[v.weekday()] + "）"
                if isinstance(v, dt.datetime) else v))
    k.xlsx("marks_text", b, NONE, "幹事社 column 「幹事社」, 下請け column 「有」/「無」",
           Opts(lead_yes="幹事社", sub_yes="有", sub_no="無"))
    k.xlsx("marks_ari_nashi", b, NONE, "下請け column 「あり」/「なし」, 幹事社 「◎」",
           Opts(lead_yes="◎", sub_yes="あり", sub_no="なし"))
    k.xlsx("step_spaced_mixed_case", b, NONE, "工程 written 「Step 1」", Opts(step=lambda n: f"Step {n}"))
    k.xlsx("step_katakana", b, NONE, "工程 written 「ステップ１」",
           Opts(step=lambda n: "ステップ" + "０１２３４"[n]))
    kana = str.maketrans({"ソ": "ｿ", "フ": "ﾌ", "ト": "ﾄ", "ウ": "ｳ", "ェ": "ｪ", "ア": "ｱ", "ク": "ｸ",
                          "ラ": "ﾗ", "ド": "ﾄﾞ", "サ": "ｻ", "ー": "ｰ", "ビ": "ﾋﾞ", "ス": "ｽ"})
    k.xlsx("category_halfwidth_kana", b, NONE, "経費区分 typed in half-width kana (ｿﾌﾄｳｪｱ購入費)",
           Opts(category=lambda s: s.translate(kana)))
    k.xlsx("category_ryo_spelling", b, NONE, "経費区分 「クラウドサービス利用料」 for 利用費",
           Opts(category=lambda s: s.replace("利用費", "利用料")))
    padded = replace(b, members=tuple(replace(m, role=f" {m.role} ", industry=f"{m.industry}　")
                                      for m in b.members))
    k.xlsx("values_padded", padded, NONE, "区分/業種 cells with leading/trailing spaces")
    k.xlsx("category_fullwidth_brackets", b, NONE, "経費区分 with 【】 marks around",
           Opts(category=lambda s: f"【{s}】"))


SHINDANSHI = Member("shin", "佐藤経営コンサルティング事務所", "その他協力者(中小企業診断士)", "サービス業",
                    None, 1, None, rep="佐藤 誠", email="sato@sato-keiei.example.jp", counts=False)


def _roles(k: _Corpus, b: Case, rng: random.Random) -> None:
    with_shin = replace(b, members=b.members + (SHINDANSHI,))
    k.xlsx("other_cooperator_shindanshi", with_shin, NONE,
           "2+2 and an その他協力者(中小企業診断士) with no costs")
    k.xlsx("other_cooperator_not_sme_user", _drop_member(with_shin, "noto"),
           _codes("CONSORTIUM_COMPOSITION"),
           "1 SME user + 2 vendors + その他協力者(中小企業診断士): too few SME users")
    big = replace(_scale(with_shin, 5), costs=tuple(replace(c, amount=c.amount // 2)
                                                    for c in _scale(with_shin, 5).costs))
    k.xlsx("other_cooperator_not_in_cap", big, _codes("AMOUNT_OVER_CAP"),
           "75,000,000円 of costs, request 48.7M; その他協力者 does not raise the 44M cap of 4")
    roles = {"kaga": "中小ユーザー企業", "noto": "中小ユーザー企業", "hoku": "ＩＴベンダー",
             "echi": "ITベンダー"}
    k.xlsx("role_spellings", replace(b, members=tuple(replace(m, role=roles[m.key])
                                                      for m in b.members)),
           NONE, "roles spelt 中小ユーザー企業 / ＩＴベンダー")
    notes = {"kaga": "中小ユーザ企業（幹事社）", "noto": "中小ユーザ企業", "hoku": "ITベンダ（開発）",
             "echi": "ITベンダ（基盤）"}
    k.xlsx("role_bracket_notes", replace(b, members=tuple(replace(m, role=notes[m.key])
                                                          for m in b.members)),
           NONE, "roles with bracketed notes 「ITベンダ（開発）」")
    k.xlsx("one_vendor", _drop_member(b, "echi"), _codes("CONSORTIUM_COMPOSITION"),
           "2 SME users and 1 vendor")
    k.xlsx("no_lead_at_all", replace(with_member(b, "kaga", lead=False), lead_name=""),
           _codes("CONSORTIUM_COMPOSITION", "FORM_FIELD_MISSING"),
           "no member ticked as 幹事社 and 幹事社名 left empty")
    k.xlsx("lead_is_vendor", with_member(with_member(b, "kaga", lead=False), "hoku", lead=True),
           NONE, "the 幹事社 is an IT vendor")


def _industries(k: _Corpus, b: Case) -> None:
    cases = [
        ("industry_fudosan", "不動産業", 30_000_000, 40, NONE, "不動産業 falls to ⑧ その他"),
        ("industry_johotsushin", "情報通信業", 30_000_000, 80, NONE, "情報通信業 is in the table"),
        ("industry_inshokuten", "飲食店", 10_000_000, 30, NONE, "飲食店 is read, not missing"),
        ("industry_iryo", "医療業", 20_000_000, 60, NONE, "医療業 is read, not missing"),
        ("industry_kensetsu", "建設業", 200_000_000, 250, NONE, "建設業 is ① (3億円/300人)"),
        ("industry_kenchiku", "建築業", 200_000_000, 250, NONE, "建築業 is ① construction"),
        ("industry_sogo_koji", "総合工事業", 200_000_000, 250, NONE, "総合工事業 (JSIC D06) is ①"),
        ("industry_hotel", "ホテル業", 100_000_000, 150, NONE, "ホテル is ⑦ 旅館業 (200人)"),
        ("industry_ryokan_over", "旅館業", 100_000_000, 250, _codes("SME_INELIGIBLE"),
         "旅館業 over 5千万円 and 200人"),
        ("industry_shukuhaku_over", "宿泊業", 100_000_000, 250, _codes("SME_INELIGIBLE"),
         "宿泊業 is ⑦ 旅館業: over 5千万円 and 200人"),
        ("industry_nogyo", "農業", 100_000_000, 150, NONE, "農業 is not in ①–⑦: ⑧ 3億円/300人"),
        ("industry_oroshi_note", "卸売業（食品）", 200_000_000, 150, _codes("SME_INELIGIBLE"),
         "卸売業 with a bracketed note: over 1億円 and 100人"),
        ("industry_gomu", "ゴム製品製造業", 500_000_000, 800, NONE, "ゴム製品製造業 is ⑤ (900人)"),
        ("industry_tire", "自動車用タイヤ製造業", 500_000_000, 800, _codes("SME_INELIGIBLE"),
         "tyres are excluded from ⑤: manufacturing 3億円/300人"),
        ("industry_service_over", "サービス業", 100_000_000, 150, _codes("SME_INELIGIBLE"),
         "サービス業 over 5千万円 and 100人"),
        ("industry_retail_at_line", "小売業", 50_000_000, 50, NONE, "小売業 exactly at 5千万円/50人"),
        ("industry_retail_over", "小売業", 60_000_000, 51, _codes("SME_INELIGIBLE"),
         "小売業 over 5千万円 and 50人"),
        ("industry_manufacturing_note", "製造業（金属加工）", 400_000_000, 250, NONE,
         "製造業 with a note, over 3億円 but at most 300人"),
    ]
    for name, employees, expected in (("medical_corporation", 250, NONE),
                                      ("medical_corporation_over", 350, _codes("SME_INELIGIBLE"))):
        k.xlsx(name, with_member(b, "noto", name="医療法人社団すこやか会", industry="医療業",
                                 capital=None, employees=employees, corpnum=b.members[1].corpnum),
               expected, f"医療法人 (⑨, employees only, no capital) with {employees}人")
    k.xlsx("social_welfare_at_line",
           with_member(b, "noto", name="社会福祉法人ひかり福祉会", industry="社会福祉事業", capital=None,
                       employees=300), NONE, "社会福祉法人 (⑨) with exactly 300人, no capital")
    for name, industry, capital, employees, expected, why in cases:
        k.xlsx(name, with_member(b, "noto", industry=industry, capital=capital,
                                 employees=employees), expected, why)


def _vendors(k: _Corpus, b: Case) -> None:
    large = with_member(b, "hoku", capital=500_000_000, employees=1200)
    k.xlsx("vendor_large_by_numbers", large, _codes("AMOUNT_OVER_CAP"),
           "vendor 5億円/1,200人 is large: rate 1/2, 65% asked")
    k.xlsx("vendor_large_asks_half", replace(large, share=0.5), NONE,
           "vendor large, consortium asks at most 1/2")
    k.xlsx("vendor_large_capital_only", with_member(b, "hoku", capital=500_000_000,
                                                   employees=200),
           NONE, "vendor over 3億円 but 200人: still SME (capital or employees)")
    k.xlsx("vendor_large_unlisted_industry",
           with_member(b, "hoku", industry="電気業", capital=1_000_000_000, employees=3000),
           _codes("AMOUNT_OVER_CAP"), "vendor 10億円/3,000人 under an unlisted industry is large")
    k.xlsx("vendor_large_text_numbers",
           with_member(b, "hoku", capital="10億円", employees="3,000名"),
           _codes("AMOUNT_OVER_CAP"), "vendor 「10億円」「3,000名」 is large")
    declared = Opts(member_cols=Opts().member_cols + ("size",))
    k.xlsx("vendor_declared_large", with_member(large, "hoku", size="大企業"),
           _codes("AMOUNT_OVER_CAP"), "vendor declares 大企業 and is large", declared)
    k.xlsx("vendor_declared_sme_contradicts", with_member(large, "hoku", size="中小企業"),
           _codes("AMOUNT_OVER_CAP"), "vendor declares 中小企業 against 5億円/1,200人",
           declared, tolerated=_codes("FORM_FIELD_MISSING", "SME_INELIGIBLE"))
    k.xlsx("vendor_declared_sme_consistent",
           replace(b, members=tuple(replace(m, size="中小企業") for m in b.members)),
           NONE, "every member declares 中小企業, numbers agree", declared)
    k.xlsx("vendor_capital_blank_many_employees",
           replace(with_member(b, "hoku", capital=None, employees=5000), share=0.5),
           _codes("FORM_FIELD_MISSING"), "vendor capital blank with 5,000人: the rate is undecided")
    k.xlsx("vendor_capital_blank_few_employees", with_member(b, "hoku", capital=None, employees=40),
           NONE, "vendor capital blank but 40人: SME by employees alone")
    for name, industry in (("system_kaihatsu", "システム開発"), ("joho_service", "情報サービス業"),
                           ("software_kaihatsu", "ソフトウェア開発業")):
        k.xlsx(f"vendor_industry_{name}",
               with_member(b, "hoku", industry=industry, capital=200_000_000, employees=250),
               NONE, f"vendor 「{industry}」 2億円/250人 is ⑥ software: SME")


def _costs(k: _Corpus, b: Case) -> None:
    cloudnote = _replace_cost(_replace_cost(b, 6, category="人件費（クラウド連携機能の開発）"),
                              8, category="人件費（クラウド基盤との連携開発）")
    k.xlsx("category_personnel_cloud_note", cloudnote, NONE,
           "人件費（クラウド連携機能の開発） is personnel, not cloud")
    resub = _replace_cost(_replace_cost(b, 7, category="委託費（ソフトウェア開発の再委託）",
                                        amount=10_000_000), 6, amount=3_000_000)
    k.xlsx("category_outsourcing_software_note", resub, _codes("SUBCONTRACT_OVER_HALF"),
           "委託費（ソフトウェア開発の再委託） 10M of STEP3 19M is subcontracting")
    k.xlsx("subcontract_over_half",
           _replace_cost(_replace_cost(b, 7, amount=10_000_000), 6, amount=3_000_000),
           _codes("SUBCONTRACT_OVER_HALF"), "下請け 10M of STEP3 19M")
    k.xlsx("software_cloud_over_half", _replace_cost(b, 0, amount=30_000_000),
           _codes("SOFTWARE_CLOUD_OVER_HALF"), "software 30M + cloud 1M of 56M")
    k.xlsx("software_cloud_exactly_half", _replace_cost(b, 0, amount=24_000_000), NONE,
           "software 24M + cloud 1M = exactly 1/2 of 50M")
    k.xlsx("sme_personnel_over_third", _replace_cost(b, 3, amount=12_000_000),
           _codes("SME_PERSONNEL_OVER_THIRD"), "SME 人件費 12.2M of 委託+人件費 36M")
    k.xlsx("cost_hardware", _add_cost(b, Cost("kaga", 1, "ハードウェア購入費", "タブレット端末10台",
                                              500_000)),
           _codes("COST_NOT_ELIGIBLE"), "hardware is never eligible", Opts(category_summary=False))
    extra = [
        ("cost_vendor_personnel_step2", Cost("hoku", 2, "人件費", "要件定義 工数", 500_000),
         "vendor 人件費 in 要件定義"),
        ("cost_sme_personnel_step3", Cost("kaga", 3, "人件費", "開発立会い 社内工数", 300_000),
         "SME 人件費 in 設計・開発"),
        ("cost_sme_personnel_step1", Cost("noto", 1, "人件費", "初期設定 社内工数", 100_000),
         "SME 人件費 in STEP1"),
        ("cost_vendor_outsourcing_step4", Cost("echi", 4, "委託費", "研修講師の外注", 300_000),
         "vendor 委託費 outside STEP3 and not 下請け"),
        ("cost_vendor_subcontract_step2", Cost("hoku", 2, "委託費", "要件定義の下請け", 300_000, True),
         "vendor 下請け in 要件定義"),
    ]
    for name, cost, why in extra:
        k.xlsx(name, _add_cost(b, cost), _codes("COST_NOT_ELIGIBLE"), why)
    k.xlsx("cost_expert_fee", _add_cost(b, Cost("kaga", 2, "専門家経費", "診断士への謝金", 300_000)),
           NONE, "SME 専門家経費 in 要件定義 is eligible")


def _shrink(case: Case, by: int) -> Case:
    return replace(case, costs=tuple(replace(c, amount=c.amount // by) for c in case.costs))


def _money(k: _Corpus, b: Case) -> None:
    frac = _replace_cost(b, 1, amount=1_000_001)
    k.xlsx("fraction_formula", replace(frac, requested=30_000_001 * 2 / 3,
                                       requested_formula="C8*2/3"),
           NONE, "request =補助対象経費*2/3 saved as 20,000,000.666…: truncated, within 2/3")
    k.xlsx("fraction_typed", replace(b, requested=20_000_000.67), NONE,
           "request 20,000,000.67 on 30,000,000: truncated to the 2/3 line")
    k.xlsx("fraction_over", replace(b, requested=20_000_001.4), _codes("AMOUNT_OVER_CAP"),
           "request 20,000,001.4 on 30,000,000: 1円 over 2/3 after truncation")
    k.xlsx("rate_exact", replace(b, requested=20_000_000), NONE, "request exactly 2/3")
    k.xlsx("rate_over_by_one", replace(b, requested=20_000_001), _codes("AMOUNT_OVER_CAP"),
           "request 1円 over 2/3")
    big = _scale(b, 3)
    k.xlsx("cap_exact", replace(big, requested=44_000_000), NONE, "4 members, request 44,000,000")
    k.xlsx("cap_over_by_one", replace(big, requested=44_000_001), _codes("AMOUNT_OVER_CAP"),
           "4 members, request 44,000,001")
    third = Member("kana", "株式会社金沢フーズ", "中小ユーザ企業", "食料品製造業", 10_000_000, 60,
                   corporate_number("301234567890"), email="info@kanazawa-foods.example.jp")
    five = replace(big, members=big.members + (third,), requested=50_000_000,
                   costs=big.costs + (Cost("kana", 4, "人件費", "受入テスト 社内工数", 600_000),))
    k.xlsx("cap_five_members", five, NONE, "5 members: cap 55M, request 50M of 90.6M")
    small = _shrink(b, 20)
    k.xlsx("below_minimum", replace(small, requested=990_000), _codes("AMOUNT_BELOW_MINIMUM"),
           "request 990,000円")
    k.xlsx("minimum_exact", replace(small, requested=1_000_000), NONE,
           "request 1,000,000円 on 1,500,000円")
    k.xlsx("sum_eligible_total_wrong", replace(b, eligible_total=30_100_000), _codes("SUM_MISMATCH"),
           "補助対象経費合計 differs from the cost rows")
    k.xlsx("sum_cost_total_wrong", replace(b, cost_total=29_000_000), _codes("SUM_MISMATCH"),
           "the cost table's 合計 differs from its rows")
    k.xlsx("sum_subtotal_wrong", replace(b, subtotal_override={2: 4_100_000}),
           _codes("SUM_MISMATCH"), "STEP2 小計 differs from its rows", Opts(cost_layout="grouped"))


def _facts(k: _Corpus, b: Case, rng: random.Random) -> None:
    k.xlsx("project_end_late", replace(b, end=dt.datetime(2023, 2, 28)), _codes("PROJECT_PERIOD"),
           "完了予定日 2023-02-28 after 2023-02-10")
    k.xlsx("project_end_last_day", replace(b, end=dt.datetime(2023, 2, 10)), NONE,
           "完了予定日 on the last day of the period")
    k.xlsx("project_end_late_reiwa", replace(b, end="令和5年3月31日"), _codes("PROJECT_PERIOD"),
           "完了予定日 令和5年3月31日 typed as text")
    kaga = next(m for m in b.members if m.key == "kaga")
    k.xlsx("corpnum_check_digit", with_member(b, "kaga", corpnum=_typo(kaga.corpnum)),
           _codes("CORPORATE_NUMBER_INVALID"), "法人番号 with two digits swapped")
    k.xlsx("corpnum_12_digits", with_member(b, "kaga", corpnum=kaga.corpnum[:12]),
           _codes("CORPORATE_NUMBER_INVALID"), "法人番号 of 12 digits")
    sizes = Opts(member_cols=Opts().member_cols + ("size",))
    sole = dict(name="のと工房 能登花子", size="個人事業主")
    for name, corp, cap, why in (
            ("sole_proprietor_dash", "－", "－", "法人番号 and 資本金 「－」"),
            ("sole_proprietor_nashi", "なし（個人事業主）", "なし", "法人番号 「なし（個人事業主）」"),
            ("sole_proprietor_blank", None, None, "法人番号 and 資本金 blank")):
        k.xlsx(name, with_member(b, "noto", corpnum=corp, capital=cap, **sole), NONE,
               f"個人事業主 SME user, {why}", sizes)
    k.xlsx("sole_proprietor_over_employees",
           with_member(b, "noto", corpnum="－", capital="－", employees=150, **sole),
           _codes("SME_INELIGIBLE"), "個人事業主 卸売業 with 150人: judged by employees", sizes)
    k.xlsx("missing_project_name", replace(b, project_name=""), _codes("FORM_FIELD_MISSING"),
           "補助事業名 left empty")
    k.xlsx("missing_industry", with_member(b, "noto", industry=""), _codes("FORM_FIELD_MISSING"),
           "an SME user's 業種 left empty")
    k.xlsx("name_mismatch", replace(b, plan_name="北陸スマートDXコンソーシアム"),
           _codes("CONSORTIUM_NAME_MISMATCH"), "事業計画書 names another consortium")
    dx = replace(b, consortium="北陸DX連携コンソーシアム", plan_name="北陸ＤＸ連携コンソーシアム")
    k.xlsx("name_width_only", dx, NONE, "consortium name differs only in full-width ＤＸ")


def _formats(k: _Corpus, b: Case) -> None:
    one_sme = _drop_member(b, "noto")
    over = replace(b, requested=20_500_000)
    for ext, write in (("xls", to_xls), ("ods", to_ods)):
        for name, case, expected, why in (
                ("baseline", b, NONE, "valid"),
                ("one_sme_user", one_sme, _codes("CONSORTIUM_COMPOSITION"), "1 SME user"),
                ("over_rate", over, _codes("AMOUNT_OVER_CAP"), "request over 2/3"),
                ("habits", b, NONE, "様式 names, 【】 labels, 小計 rows")):
            o = Opts(sheet_names=("様式1", "様式2", "様式3"), deco=lambda s: f"【{s}】",
                     cost_layout="grouped") if name == "habits" else Opts()
            k.add(f"{ext}_{name}", {f"4_交付申請書_{name}.{ext}": write(application(case, o))},
                  expected, f".{ext} application form: {why}")
    plain = to_xlsx(application(b, Opts()))
    k.add("xlsx_encrypted", {"4_交付申請書.xlsx": encrypt_office(plain, "hokuriku2022")},
          _codes("ATTACHMENT_UNREADABLE"), "password-protected workbook, no password known")
    for ext in ("lzh", "7z", "rar"):
        k.add(f"archive_{ext}", {f"申請書類一式.{ext}": fake_archive(ext, plain)},
              _codes("ATTACHMENT_UNREADABLE"), f".{ext} archive the program cannot unpack")
    k.add("xlsx_truncated", {"4_交付申請書.xlsx": plain[: len(plain) // 2]},
          _codes("ATTACHMENT_UNREADABLE"), "workbook cut off in transfer: unreadable, nothing else judged")
    k.add("xlsm_template", {"4_交付申請書.xlsm": as_xlsm(plain)}, NONE,
          "macro-enabled .xlsm template filled in")
    k.xlsx("sheets_protected", b, NONE, "form sheets protected (labels locked) as templates are",
           Opts(protected=True))
    k.add("xlsx_named_xls", {"4_交付申請書.xls": plain}, NONE,
          ".xlsx workbook saved with an .xls name")
    k.add("xls_named_xlsx", {"4_交付申請書.xlsx": to_xls(application(b, Opts()))}, NONE,
          ".xls workbook saved with an .xlsx name")


def _submissions(k: _Corpus, b: Case) -> None:
    def app(case: Case, o: Opts | None = None) -> bytes:
        return to_xlsx(application(case, o or Opts()))

    no_corp = Opts(member_cols=("no", "name", "role", "lead", "industry", "capital", "employees",
                                "email"))
    k.add("zip_baseline", {"申請書類.zip": submission(b, app(b))}, NONE, "complete valid submission")
    k.add("zip_app_corpnum_blank",
          {"申請書類.zip": submission(b, app(b, Opts(corpnum=lambda v: None)))}, NONE,
          "法人番号 blank in the 交付申請書, members matched by name")
    k.add("zip_app_corpnum_absent", {"申請書類.zip": submission(b, app(b, no_corp))}, NONE,
          "no 法人番号 column in the 交付申請書")
    one = _drop_member(b, "noto")
    k.add("zip_one_sme_corpnum_absent", {"申請書類.zip": submission(one, app(one, no_corp))},
          _codes("CONSORTIUM_COMPOSITION"), "1 SME user; 法人番号 absent from the 交付申請書")
    big = _shrink(_scale(b, 5), 2)
    k.add("zip_over_cap_corpnum_absent", {"申請書類.zip": submission(big, app(big, no_corp))},
          _codes("AMOUNT_OVER_CAP"), "4 members ask 48.7M; 法人番号 absent from the 交付申請書")
    hoku = next(m for m in b.members if m.key == "hoku")
    k.add("zip_over_cap_corpnum_typo",
          {"申請書類.zip": submission(big, app(big), corpnums={"hoku": _typo(hoku.corpnum)})},
          _codes("AMOUNT_OVER_CAP", "CORPORATE_NUMBER_INVALID"),
          "4 members ask 48.7M; one 法人番号 mistyped in the 事業者情報入力シート")
    typo_app = with_member(big, "hoku", corpnum=_typo(hoku.corpnum))
    k.add("zip_over_cap_corpnum_typo_app",
          {"申請書類.zip": submission(big, app(typo_app), corpnums={"hoku": hoku.corpnum})},
          _codes("AMOUNT_OVER_CAP", "CORPORATE_NUMBER_INVALID"),
          "4 members ask 48.7M; one 法人番号 mistyped in the 交付申請書")
    sole = with_member(b, "noto", name="のと工房 能登花子", size="個人事業主", corpnum="なし（個人事業主）",
                       capital="－", rep="能登 花子")
    k.add("zip_sole_proprietor", {"申請書類.zip": submission(sole, app(sole, Opts(
        member_cols=Opts().member_cols + ("size",))))}, NONE,
          "個人事業主 member: 法人番号 「なし（個人事業主）」, 資本金 「－」, no 履歴事項全部証明書")
    k.add("zip_names_spaced", {"申請書類.zip": submission(
        b, app(b, no_corp), names=lambda s: s.replace("株式会社", "株式会社　"))}, NONE,
          "事業者情報 names with a full-width space; no 法人番号 in the 交付申請書")
    k.add("zip_member_sum_mismatch", {"申請書類.zip": submission(
        replace(b, requested=b.request_total(), member_requested={"kaga": 5_200_000}), app(b))},
          _codes("SUM_MISMATCH"), "事業者情報's requests do not add up to the 交付申請額")
    k.add("zip_member_info_label_decorated", {"申請書類.zip": submission(b, app(b), decorated=True)},
          NONE, "事業者情報入力シート labelled 【コンソーシアム名】 with a blank cell before the value")
    k.add("zip_checklist_maru", {"申請書類.zip": submission(b, app(b), tick="○")}, NONE,
          "checklist ticked with ○ instead of ✓")
    k.add("zip_checklist_sumi", {"申請書類.zip": submission(b, app(b), tick="済")}, NONE,
          "checklist ticked with 済")
    k.add("zip_checklist_unticked", {"申請書類.zip": submission(b, app(b), unticked=4)},
          _codes("CHECKLIST_MISMATCH"), "誓約書 attached for every member but not ticked")
    k.add("zip_ods_member_info", {"申請書類.zip": to_zip({
        **{n: d for n, d in _unzip(submission(b, app(b))).items() if "事業者情報" not in n},
        "申請書類/6_事業者情報入力シート.ods": to_ods(member_info(b))})},
          NONE, "submission whose 事業者情報入力シート is .ods")
    split = {f"申請書類/4-{i}_{sh.title}.xlsx": to_xlsx([sh])
             for i, sh in enumerate(application(b, Opts()), start=1)}
    k.add("zip_application_split_files", {"申請書類.zip": to_zip({
        **split, **{n: d for n, d in _unzip(submission(b, app(b))).items() if "交付申請書" not in n}})},
          NONE, "交付申請書・事業計画書・内訳書 sent as three workbooks of one sheet each")
    k.add("zip_xls_application", {"申請書類.zip": to_zip({
        "4_交付申請書.xls": to_xls(application(b, Opts())),
        **{n: d for n, d in _unzip(submission(b, app(b))).items() if "交付申請書" not in n}})},
          NONE, "submission whose application form is .xls")


def _unzip(data: bytes) -> dict[str, bytes]:
    import io
    import zipfile

    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        return {n: zf.read(n) for n in zf.namelist()}


HABITS: dict[str, Opts] = {
    "costs_subtotals": Opts(cost_layout="grouped"),
    "costs_blank_rows": Opts(blank_between=5),
    "sheets_yoshiki": Opts(sheet_names=("様式1", "様式2", "様式3")),
    "label_brackets": Opts(deco=lambda s: f"【{s}】"),
    "label_colon_cell": Opts(gap="colon"),
    "units_row": Opts(units_row=True),
    "money_kin_yen": Opts(money=kin_yen),
    "no_mark_dash_minus": Opts(lead_no="\u2212", sub_no="\u2212"),
    "total_sougoukei": Opts(total_label="総合計"),
    "margin_row_and_column": Opts(shift=(1, 1)),
    "header_line_breaks": Opts(header_break=True),
    "capital_header_page_words": Opts(member_headers={"capital": "資本金の額又は出資の総額"}),
    "employees_as_of": Opts(count=lambda v: f"{v}名（2022年8月1日現在）"),
    "dates_reiwa_text": Opts(date=reiwa),
    "money_fullwidth": Opts(money=fullwidth),
    "label_required_mark": Opts(deco=lambda s: f"{s}※必須"),
}


def _combinations(k: _Corpus, b: Case, rng: random.Random) -> None:
    """Each deficiency of the rules again under three filling habits (chosen by the seed)."""
    kaga = next(m for m in b.members if m.key == "kaga")
    facts = [
        ("subcontract_over_half",
         _replace_cost(_replace_cost(b, 7, amount=10_000_000), 6, amount=3_000_000),
         _codes("SUBCONTRACT_OVER_HALF")),
        ("software_cloud_over_half", _replace_cost(b, 0, amount=30_000_000),
         _codes("SOFTWARE_CLOUD_OVER_HALF")),
        ("sme_personnel_over_third", _replace_cost(b, 3, amount=12_000_000),
         _codes("SME_PERSONNEL_OVER_THIRD")),
        ("vendor_large_by_numbers", with_member(b, "hoku", capital=500_000_000, employees=1200),
         _codes("AMOUNT_OVER_CAP")),
        ("rate_over_by_one", replace(b, requested=20_000_001), _codes("AMOUNT_OVER_CAP")),
        ("cap_over_by_one", replace(_scale(b, 3), requested=44_000_001), _codes("AMOUNT_OVER_CAP")),
        ("project_end_late", replace(b, end=dt.datetime(2023, 2, 28)), _codes("PROJECT_PERIOD")),
        ("corpnum_check_digit", with_member(b, "kaga", corpnum=_typo(kaga.corpnum)),
         _codes("CORPORATE_NUMBER_INVALID")),
        ("industry_retail_over", with_member(b, "noto", industry="小売業", capital=60_000_000,
                                             employees=51), _codes("SME_INELIGIBLE")),
        ("one_vendor", _drop_member(b, "echi"), _codes("CONSORTIUM_COMPOSITION")),
        ("name_mismatch", replace(b, plan_name="北陸スマートDXコンソーシアム"),
         _codes("CONSORTIUM_NAME_MISMATCH")),
        ("sum_cost_total_wrong", replace(b, cost_total=29_000_000), _codes("SUM_MISMATCH")),
        ("below_minimum", replace(_shrink(b, 20), requested=990_000),
         _codes("AMOUNT_BELOW_MINIMUM")),
        ("cost_vendor_personnel_step2",
         _add_cost(b, Cost("hoku", 2, "人件費", "要件定義 工数", 500_000)), _codes("COST_NOT_ELIGIBLE")),
    ]
    names = sorted(HABITS)
    for fact, case, expected in facts:
        for habit in rng.sample(names, 3):
            k.xlsx(f"{fact}__{habit}", case, expected, f"{fact} written with habit {habit}",
                   HABITS[habit])
