"""Program-year facts (SPEC: every one configurable, defaults from the program page).

A new program year or a second 公募 round changes the `[program]` table of config.toml, never
code: `program_from_toml` builds a `Program` from that table, and every number the rules use
(caps, ratios, minimum, periods, the SME industry table, the required documents) lives here.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, fields
from datetime import date, datetime, time
from fractions import Fraction
from typing import Any, Literal

from rules.calendar import JST

DocumentScope = Literal["consortium", "member", "corporate_member"]


@dataclass(frozen=True)
class SmeLine:
    """One row of the program page's 中小企業 table: capital OR employees at or under the line.

    `capital_max` None means the row has no capital line (医療法人 etc.); `employees_max` None
    means the row follows the member's 主たる業種 (中小企業団体, 組合, 財団法人, NPO: ⑫–⑮).
    """

    key: str
    label: str
    capital_max: int | None
    employees_max: int | None
    aliases: tuple[str, ...] = ()


@dataclass(frozen=True)
class RequiredDocument:
    """A SPEC §2 document: per consortium, per member, or per corporate member (登記のある法人).

    "Member" means each 中小ユーザ企業 and ITベンダ (the 補助事業者); その他協力者 are paid
    through a member's 専門家経費 and send no papers of their own.
    """

    key: str
    title: str
    scope: DocumentScope = "consortium"


OKU = 100_000_000
MAN = 10_000

# Aliases place an industry as written on the page's table by the 日本標準産業分類 (JSIC) grouping
# the 中小企業庁 uses for it: the longest alias found in the text wins (ゴム製品製造業 over 製造業,
# 情報サービス業 over サービス業); a word found nowhere falls to ⑧ (unknown_industry).
DEFAULT_SME_LINES: tuple[SmeLine, ...] = (
    SmeLine("manufacturing", "製造業、建設業、運輸業", 3 * OKU, 300,
            ("製造業", "製造", "メーカー", "建設業", "建設", "建築", "工務店", "土木", "工事業",
             "設備工事", "電気工事", "運輸業", "運輸", "運送", "輸送", "物流", "倉庫", "貨物",
             "鉄道", "海運", "印刷", "加工業")),
    SmeLine("wholesale", "卸売業", 1 * OKU, 100, ("卸売業", "卸売", "卸業", "問屋", "商社")),
    SmeLine("service", "サービス業(ソフトウェア業又は情報処理サービス業、旅館業を除く)",
            5000 * MAN, 100,
            ("サービス業", "サービス", "医療業", "医療", "病院", "診療所", "クリニック", "歯科",
             "福祉", "介護", "保育", "教育", "学習塾", "学習支援", "広告", "デザイン", "コンサル",
             "士業", "税理士", "会計事務所", "法律事務所", "設計事務所", "研究", "専門・技術",
             "人材派遣", "派遣業", "警備", "清掃", "ビルメンテナンス", "美容", "理容", "エステ",
             "クリーニング", "冠婚葬祭", "娯楽", "フィットネス", "物品賃貸", "レンタル", "リース",
             "駐車場", "放送", "映像制作", "映像", "出版物制作", "自動車整備", "修理")),
    SmeLine("retail", "小売業", 5000 * MAN, 50,
            ("小売業", "小売", "販売", "販売店", "商店", "スーパー", "ドラッグストア", "飲食店", "飲食業",
             "飲食", "レストラン", "居酒屋", "カフェ", "喫茶", "食堂", "弁当", "飲食サービス")),
    SmeLine("rubber",
            "ゴム製品製造業(自動車又は航空機用タイヤ及びチューブ製造業並びに工業用ベルト製造業を除く)",
            3 * OKU, 900, ("ゴム製品製造業", "ゴム製品製造", "ゴム製品")),
    SmeLine("software", "ソフトウェア業又は情報処理サービス業", 3 * OKU, 300,
            ("ソフトウェア業", "ソフトウェア", "ソフトウエア", "情報処理サービス業", "情報処理",
             "情報サービス", "システム開発", "システムインテグレ", "SIer", "受託開発", "IT",
             "データセンター", "クラウドサービス", "ITサービス", "ITコンサル", "ソフト開発",
             "アプリ開発", "Web制作", "ウェブ制作", "情報システム")),
    SmeLine("ryokan", "旅館業", 5000 * MAN, 200,
            ("旅館業", "旅館", "ホテル", "宿泊業", "宿泊", "民宿", "ペンション")),
    SmeLine("other", "その他の業種(上記以外)", 3 * OKU, 300,
            ("その他の業種", "その他", "不動産", "不動産賃貸", "情報通信業", "通信業", "通信",
             "インターネット", "金融", "保険", "農業", "林業", "漁業", "鉱業", "電気業", "ガス業",
             "旅行業", "出版業", "新聞")),
    SmeLine("medical", "医療法人、社会福祉法人", None, 300, ("医療法人", "社会福祉法人")),
    SmeLine("school", "学校法人", None, 300, ("学校法人",)),
    SmeLine("chamber", "商工会・都道府県商工会連合会及び商工会議所", None, 100,
            ("商工会", "商工会連合会", "商工会議所")),
    SmeLine("sme_association", "中小企業支援法第2条第1項第4号に規定される中小企業団体", None, None,
            ("中小企業団体",)),
    SmeLine("special_union", "特別の法律によって設立された組合又はその連合会", None, None,
            ("組合",)),
    SmeLine("foundation", "財団法人(一般・公益)、社団法人(一般・公益)", None, None,
            ("財団法人", "社団法人", "社会法人")),
    SmeLine("npo", "特定非営利活動法人", None, None, ("特定非営利活動法人", "NPO法人")),
)

DEFAULT_DOCUMENTS: tuple[RequiredDocument, ...] = (
    RequiredDocument("application", "4. 補助金交付申請書・事業計画書・補助対象経費内訳書"),
    RequiredDocument("overview", "5. 補助事業概要書"),
    RequiredDocument("member_info", "6. 事業者情報入力シート"),
    RequiredDocument("pledge", "7. 誓約書", "member"),
    RequiredDocument("checklist", "8. 提出書類チェックリスト"),
    RequiredDocument("registry", "履歴事項全部証明書", "corporate_member"),
    RequiredDocument("tax", "納税証明書", "member"),
)


@dataclass(frozen=True)
class Program:
    year_label: str = "令和4年度"
    subsidy_name: str = "共創型サービスIT連携支援補助金"
    subject_suffix: str = "応募書類送付"
    period_start: datetime = datetime(2022, 8, 3, 0, 0, tzinfo=JST)
    period_end: datetime = datetime(2022, 9, 9, 23, 59, 59, tzinfo=JST)
    # 補助事業期間: 交付決定日〜2023年2月10日
    project_end: date = date(2023, 2, 10)
    # コンソーシアム: 複数の中小ユーザ企業と複数のITベンダ
    min_sme_users: int = 2
    min_vendors: int = 2
    # 補助率 2/3以内、ITベンダに大企業が含まれている場合は1/2以内
    subsidy_rate: Fraction = Fraction(2, 3)
    subsidy_rate_large_vendor: Fraction = Fraction(1, 2)
    # 事業者数4者で4千4百万円、1者増加毎に1千百万円、10者以上で1.1億円
    cap_base_members: int = 4
    cap_base: int = 44_000_000
    cap_step: int = 11_000_000
    cap_max: int = 110_000_000
    # 補助下限額 100万円
    subsidy_minimum: int = 1_000_000
    # ソフトウェア購入費+クラウドサービス利用費 ≤ 補助対象経費総額の1/2
    software_cloud_max_share: Fraction = Fraction(1, 2)
    # 中小ユーザ企業の人件費 ≤ (委託費+人件費)の1/3
    sme_personnel_max_share: Fraction = Fraction(1, 3)
    # ITベンダの下請け発注(委託費) < 当該工程の補助対象経費の1/2 (strictly under)
    subcontract_max_share: Fraction = Fraction(1, 2)
    subcontract_steps: tuple[int, ...] = (3,)
    # Base of the SME-personnel third: "all" = 委託費 + 人件費 of every member; "vendor" = 委託費 +
    # the ITベンダ's 人件費 (the page: 「ITベンダへの委託費及び人件費の1/3まで」)
    sme_personnel_base: str = "all"
    # Subcontracting < 1/2 judged "vendor_step" (each vendor's own cost in the STEP) or "step"
    # (all vendors' subcontracting against the whole STEP)
    subcontract_scope: str = "vendor_step"
    # A vendor whose 企業規模 says 大企業 is large even with small numbers (みなし大企業)
    declared_large_is_large: bool = True
    # An industry word the table's aliases do not place is ⑧「その他の業種(上記以外)」
    unknown_industry: str = "other"
    # Which cost each role may claim in which STEP (人件費/委託費 rows of the page's table)
    sme_personnel_steps: tuple[int, ...] = (2, 4)
    vendor_personnel_steps: tuple[int, ...] = (3, 4)
    vendor_outsourcing_steps: tuple[int, ...] = (3,)  # only as 下請け
    # 委託 by an SME user in these STEPs only to an ITベンダ (not to an その他協力者)
    vendor_only_outsourcing_steps: tuple[int, ...] = (3,)
    sme_lines: tuple[SmeLine, ...] = DEFAULT_SME_LINES
    documents: tuple[RequiredDocument, ...] = DEFAULT_DOCUMENTS

    @property
    def subject_core(self) -> str:
        """The fixed part after the consortium name, as the program page writes it."""
        return f"{self.year_label}「{self.subsidy_name}」 {self.subject_suffix}"

    def document(self, key: str) -> RequiredDocument | None:
        return next((d for d in self.documents if d.key == key), None)

    def document_title(self, key: str) -> str:
        doc = self.document(key)
        return doc.title if doc else key


# --- building a Program from the [program] table of config.toml ---------------------------------

_FRACTION_KEYS = {
    "subsidy_rate", "subsidy_rate_large_vendor", "software_cloud_max_share",
    "sme_personnel_max_share", "subcontract_max_share",
}
_INT_KEYS = {
    "min_sme_users", "min_vendors", "cap_base_members", "cap_base", "cap_step", "cap_max",
    "subsidy_minimum",
}
_STR_KEYS = {"year_label", "subsidy_name", "subject_suffix", "unknown_industry"}
_CHOICE_KEYS = {"sme_personnel_base": ("all", "vendor"),
                "subcontract_scope": ("vendor_step", "step")}
_BOOL_KEYS = {"declared_large_is_large"}
_STEP_KEYS = {"subcontract_steps", "sme_personnel_steps", "vendor_personnel_steps",
              "vendor_outsourcing_steps", "vendor_only_outsourcing_steps"}


class ProgramSettingsError(ValueError):
    """Every problem of a `[program]` table at once, each a Japanese sentence naming its key."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("。".join(problems))
        self.problems = problems


def program_from_toml(table: Mapping[str, Any]) -> Program:
    """Build a Program from a `[program]` TOML table; unset keys keep the program page's defaults.

    Unknown keys, values of the wrong type and values out of their range are all reported in one
    ProgramSettingsError, so a typo in config.toml never silently falls back to a default.
    """
    known = {f.name for f in fields(Program)}
    values: dict[str, Any] = {}
    problems: list[str] = []
    for key, raw in table.items():
        if key not in known:
            problems.append(f"[program] に不明な設定項目があります: {key}")
            continue
        try:
            values[key] = _convert(key, raw)
        except ValueError as exc:
            problems.append(str(exc))
            continue
        if problem := _out_of_range(key, values[key]):
            problems.append(f"[program] {key} は{problem}(書かれている値: {_shown(raw)})")
    if not problems:
        program = Program(**values)
        problems += _inconsistent(program, set(values))
    if problems:
        raise ProgramSettingsError(problems)
    return program


# The least each count or amount may be: a consortium needs at least one of each role, a cap
# of nothing would refuse every application.
_INT_MINIMUM = {"min_sme_users": 1, "min_vendors": 1, "cap_base_members": 1, "cap_base": 1,
                "cap_step": 0, "cap_max": 1, "subsidy_minimum": 0}
STEPS = (1, 2, 3, 4)


def _out_of_range(key: str, value: Any) -> str | None:
    if key in _INT_MINIMUM and value < _INT_MINIMUM[key]:
        return f" {_INT_MINIMUM[key]} 以上の整数で指定してください"
    if key in _FRACTION_KEYS and not 0 < value <= 1:
        return " 0 より大きく 1 以下の割合(\"2/3\" など)で指定してください"
    if key in _STEP_KEYS and any(step not in STEPS for step in value):
        return " STEP の番号(1〜4)の配列で指定してください"
    if key in _STR_KEYS and not value.strip():
        return "空にできません(使わないときは行ごと消してください)"
    if key == "documents" and len({d.key for d in value}) != len(value):
        return "同じ key の書類を2回書かないでください"
    if key == "sme_lines" and len({line.key for line in value}) != len(value):
        return "同じ key の行を2回書かないでください"
    return None


def _inconsistent(program: Program, given: set[str]) -> list[str]:
    """Settings that are each fine but contradict one another (of those `given`: a table of
    lines without the default's key simply has no line for an unplaced industry)."""
    problems = []
    if program.period_start >= program.period_end:
        problems.append("[program] period_start は period_end より前にしてください")
    if program.cap_base > program.cap_max:
        problems.append("[program] cap_base は cap_max 以下にしてください")
    if "unknown_industry" in given and \
            program.unknown_industry not in {line.key for line in program.sme_lines}:
        keys = "、".join(line.key for line in program.sme_lines)
        problems.append(f"[program] unknown_industry は sme_lines の key のどれか({keys})に"
                        f"してください(書かれている値: {_shown(program.unknown_industry)})")
    return problems


def _convert(key: str, raw: Any) -> Any:
    if key in _FRACTION_KEYS:
        return _fraction(key, raw)
    if key in _INT_KEYS:
        if isinstance(raw, bool) or not isinstance(raw, int):
            raise ValueError(f"[program] {key} は整数で指定してください(書かれている値: {_shown(raw)})")
        return raw
    if key in _CHOICE_KEYS:
        if raw not in _CHOICE_KEYS[key]:
            raise ValueError(f"[program] {key} は {' / '.join(_CHOICE_KEYS[key])} のいずれかです"
                             f"(書かれている値: {_shown(raw)})")
        return raw
    if key in _BOOL_KEYS:
        if not isinstance(raw, bool):
            raise ValueError(f"[program] {key} は true / false で指定してください(書かれている値: {_shown(raw)})")
        return raw
    if key in _STR_KEYS:
        if not isinstance(raw, str):
            raise ValueError(f"[program] {key} は文字列で指定してください(書かれている値: {_shown(raw)})")
        return raw
    if key == "period_start":
        return _moment(key, raw, end_of_day=False)
    if key == "period_end":
        return _moment(key, raw, end_of_day=True)
    if key == "project_end":
        return _day(key, raw)
    if key in _STEP_KEYS:
        steps = _list(key, raw)
        if any(isinstance(step, bool) or not isinstance(step, int) for step in steps):
            raise ValueError(f"[program] {key} は STEP の番号(整数)の配列で指定してください"
                             f"(書かれている値: {_shown(raw)})")
        return tuple(steps)
    if key == "sme_lines":
        return tuple(_sme_line(item) for item in _list(key, raw))
    if key == "documents":
        return tuple(_document(item) for item in _list(key, raw))
    raise ValueError(f"[program] {key} は設定できません")


def _shown(raw: Any) -> str:
    """A value as it is written in config.toml ("3/2", true, [1, "a"])."""
    if isinstance(raw, bool):
        return "true" if raw else "false"
    if isinstance(raw, str):
        return f'"{raw}"'
    if isinstance(raw, list | tuple):
        return "[" + ", ".join(_shown(v) for v in raw) + "]"
    if isinstance(raw, Mapping):
        return "{" + ", ".join(f"{k} = {_shown(v)}" for k, v in raw.items()) + "}"
    return str(raw)


def _fraction(key: str, raw: Any) -> Fraction:
    """'2/3', 0.5 or 1 — a string keeps thirds exact, which a float cannot."""
    try:
        if isinstance(raw, str):
            return Fraction(raw.strip())
        if isinstance(raw, int | float) and not isinstance(raw, bool):
            return Fraction(raw).limit_denominator(1000)
    except (ValueError, ZeroDivisionError):
        pass
    raise ValueError(f"[program] {key} は \"2/3\" のような分数か数値で指定してください(書かれている値: {_shown(raw)})")


def _moment(key: str, raw: Any, *, end_of_day: bool) -> datetime:
    """ISO text or TOML datetime; no offset means JST, a bare date means the whole day."""
    if isinstance(raw, str):
        text = raw.strip()
        try:
            raw = date.fromisoformat(text) if len(text) == 10 else datetime.fromisoformat(text)
        except ValueError as exc:
            raise ValueError(f"[program] {key} の日時が読めません(書かれている値: {_shown(raw)})") from exc
    if isinstance(raw, datetime):
        return raw if raw.tzinfo else raw.replace(tzinfo=JST)
    if isinstance(raw, date):
        clock = time(23, 59, 59) if end_of_day else time(0, 0)
        return datetime.combine(raw, clock, tzinfo=JST)
    raise ValueError(f"[program] {key} は日時で指定してください(書かれている値: {_shown(raw)})")


def _day(key: str, raw: Any) -> date:
    if isinstance(raw, datetime):
        return raw.date()
    if isinstance(raw, date):
        return raw
    if isinstance(raw, str):
        try:
            return date.fromisoformat(raw.strip())
        except ValueError as exc:
            raise ValueError(f"[program] {key} の日付が読めません(書かれている値: {_shown(raw)})") from exc
    raise ValueError(f"[program] {key} は日付で指定してください(書かれている値: {_shown(raw)})")


def _list(key: str, raw: Any) -> list[Any]:
    if not isinstance(raw, list | tuple):
        raise ValueError(f"[program] {key} は配列で指定してください")
    return list(raw)


def _table(kind: str, item: Any, allowed: set[str]) -> Mapping[str, Any]:
    if not isinstance(item, Mapping):
        raise ValueError(f"[program] {kind} の各要素はテーブルで指定してください(書かれている値: {_shown(item)})")
    for key in item:
        if key not in allowed:
            raise ValueError(f"[program] {kind} に不明な設定項目があります: {key}")
    return item


def _optional_int(kind: str, item: Mapping[str, Any], key: str) -> int | None:
    value = item.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValueError(f"[program] {kind} の {key} は 1 以上の整数で指定してください"
                         f"(書かれている値: {_shown(value)})")
    return value


def _sme_line(item: Any) -> SmeLine:
    allowed = {"key", "label", "capital_max", "employees_max", "aliases"}
    row = _table("sme_lines", item, allowed)
    if "key" not in row or "label" not in row:
        raise ValueError("[program] sme_lines の各要素には key と label が必要です")
    _texts("sme_lines", row, "key", "label")
    aliases = _list("sme_lines の aliases", row.get("aliases", []))
    if not all(isinstance(a, str) and a.strip() for a in aliases):
        raise ValueError("[program] sme_lines の aliases は業種名(文字列)の配列で指定してください"
                         f"(書かれている値: {_shown(aliases)})")
    return SmeLine(
        key=row["key"],
        label=row["label"],
        capital_max=_optional_int("sme_lines", row, "capital_max"),
        employees_max=_optional_int("sme_lines", row, "employees_max"),
        aliases=tuple(aliases),
    )


def _document(item: Any) -> RequiredDocument:
    row = _table("documents", item, {"key", "title", "scope"})
    if "key" not in row or "title" not in row:
        raise ValueError("[program] documents の各要素には key と title が必要です")
    scope = row.get("scope", "consortium")
    if scope not in ("consortium", "member", "corporate_member"):
        raise ValueError("[program] documents の scope は consortium / member / corporate_member "
                         f"のどれかを指定してください(書かれている値: {_shown(scope)})")
    _texts("documents", row, "key", "title")
    return RequiredDocument(row["key"], row["title"], scope)


def _texts(kind: str, row: Mapping[str, Any], *keys: str) -> None:
    for key in keys:
        if not isinstance(row[key], str) or not row[key].strip():
            raise ValueError(f"[program] {kind} の {key} は空でない文字列で指定してください"
                             f"(書かれている値: {_shown(row[key])})")
