"""Cell values as applicants write them → typed values: yen, counts, dates, ticks, roles, steps.

Money written as text — `1,234,567円`, `￥1,234-`, `金18,000,000円`, full-width digits, `4,400万円`,
`1.1億円`, `280名(2022年8月1日現在)` — is read as a number; a fraction of a yen is truncated
(1円未満切り捨て, as subsidy amounts are). Dates are 西暦, 和暦 (令和4年12月28日, R4.12.28) or
Excel serials; a month alone (2023年1月, 2023年1月末) is that month's last day, as a 完了予定
means. A cell holding only a dash or なし means "none" (an empty value), never a number, and a
text still holding the template's placeholder (○○, ××) is no answer either.
"""

from __future__ import annotations

import calendar
import functools
import re
import unicodedata
from datetime import date, datetime, timedelta
from decimal import ROUND_DOWN, Decimal, InvalidOperation
from typing import Any, Literal

__all__ = [
    "CATEGORIES", "CATEGORY_JA", "ValueType", "convert", "declares_none", "head_term",
    "is_dash", "parse_amount", "parse_category", "parse_date", "parse_role", "parse_step",
    "parse_tick", "unit_scale", "NOTE_YEN_FLOOR",
]

ValueType = Literal["text", "amount", "count", "date", "email", "corporate_number", "tick",
                    "role", "step", "category"]


def _nfkc(value: object) -> str:
    return unicodedata.normalize("NFKC", str(value)).strip()


# Every dash an IME or a font produces: hyphen-minus, ‐ ‑ ‒ – — ― − ─ ━ ー ｰ 〜 and the like.
_DASHES = "-‐‑‒–—―−─━ーｰ－~〜～"


def is_dash(value: object) -> bool:
    """A cell holding only dashes (or a slash): the Excel way of writing "no" / "none"."""
    if not isinstance(value, str):
        return False
    # Asked of every cell of every table row: the short texts forms hold are cached.
    return _is_dash(value) if len(value) <= 200 else _is_dash.__wrapped__(value)


@functools.lru_cache(maxsize=4096)
def _is_dash(value: str) -> bool:
    text = "".join(_nfkc(value).split())
    return bool(text) and all(c in _DASHES or c in "/／" for c in text)


_NONE_WORDS = ("なし", "無し", "無", "該当なし", "該当無し", "非該当", "対象外", "不要", "n/a", "na",
               "none")


def declares_none(value: object) -> bool:
    """「－」「なし」「なし(個人事業主)」「該当なし」: the applicant says there is no such value."""
    if not isinstance(value, str):
        return False
    if is_dash(value):
        return True
    text = head_term(value).casefold()
    return text in _NONE_WORDS


def head_term(value: object) -> str:
    """The cell's head term: its text before any bracketed note — 「人件費（クラウド連携の開発）」 → 人件費."""
    text = _nfkc(value)
    head = re.split(r"[(\[【「『<《〔{]", text, maxsplit=1)[0]
    return "".join(head.split()) or "".join(text.split())


# --- money and counts ------------------------------------------------------------------------

_YEN_NOISE = re.compile(r"[,，、\s円¥\\$]|税込み?|税抜き?|程度|約|以内|也|見込み?")
# bracketed notes, and a 「※…」 note to the end of the cell
_NOTE = re.compile(r"\([^()]*\)|\[[^\[\]]*\]|【[^【】]*】|<[^<>]*>|※.*$")
# 大字 of cheques and formal documents: 金壱千八百萬円也
_DAIJI = str.maketrans("壱壹弐貳参參肆伍陸漆捌玖拾萬阡仟佰陌", "一一二二三三四五六七八九十万千千百百")
_KANJI_DIGITS = {"〇": 0, "一": 1, "二": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7,
                 "八": 8, "九": 9}


def parse_amount(value: object) -> int | None:
    """Yen (or a count) as an int: 1234567, '1,234,567円', '￥1,234-', '金18,000,000円', '１２３４',
    '4,400万円', '1.1億円', '280名(2022年8月1日現在)', '△500,000' (negative). A fraction of a
    yen is truncated.

    None for an empty cell or one that says "none" (「－」「なし」); ValueError for other text.
    """
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, bool):
        raise ValueError(f"金額として読めません: {value!r}")
    if isinstance(value, int):
        return value
    if isinstance(value, float | Decimal):
        if value != value or value in (float("inf"), float("-inf")):
            raise ValueError(f"金額・数値として読めません: {value!r}")
        return int(Decimal(str(value)).to_integral_value(rounding=ROUND_DOWN))
    if declares_none(value):
        return None
    text = _NOTE.sub("", _nfkc(value)).translate(_DAIJI)
    # △/▲ is how Japanese books write a negative (a 値引き row); a bare leading hyphen stays
    # unreadable text, as it is as often a stray dash as a sign
    negative = re.match(r"^[△▲]", text)
    if negative:
        text = text[negative.end():]
    # the field's own label typed before the number: 「資本金 3,000万円」「合計：…」
    text = re.sub(r"^(金額|金|計|合計|資本金の額|資本金|出資金|出資の総額|従業員数|従業員|社員数|申請額)"
                  r"[:：]?", "", text)
    text = _YEN_NOISE.sub("", text)
    text = re.sub(r"\.?[-ー]+$", "", text)  # ￥18,000,000- / ￥18,000,000.- : the dash closes it
    text = re.sub(r"(人|名|者|社|件|ヶ所|箇所)$", "", text)
    total = _kanji_amount(text)
    if total is None or total < 0:
        raise ValueError(f"金額・数値として読めません: {value!r}")
    return -total if negative else total


def _kanji_amount(text: str) -> int | None:
    """'1.1億', '4千4百万', '5千万', '3億5,000万', '1234', '18,000千' → yen; None when not one."""
    if not text:
        return None
    total = Decimal(0)
    rest = text
    for unit, size in (("億", 10**8), ("万", 10**4)):
        if unit in rest:
            head, rest = rest.split(unit, 1)
            part = _small_number(head)
            if part is None:
                return None
            total += part * size
    if rest:
        part = _small_number(rest)
        if part is None:
            return None
        total += part
    return int(total.to_integral_value(rounding=ROUND_DOWN))


def _small_number(text: str) -> Decimal | None:
    """A number possibly written with 千/百/十: '4千4百', '5千', '1.1', '300', '18000千'."""
    if re.fullmatch(r"\d+(\.\d+)?", text):
        try:
            return Decimal(text)
        except InvalidOperation:
            return None
    match = re.fullmatch(r"(?:([\d一二三四五六七八九.]*)千)?(?:([\d一二三四五六七八九]*)百)?"
                         r"(?:([\d一二三四五六七八九]*)十)?(\d*)", text)
    if not match or not text:
        return None
    total = Decimal(0)
    for group, size in zip(match.groups()[:3], (1000, 100, 10), strict=True):
        if group is not None:
            total += _digit_word(group) * size
    if match.group(4):
        total += int(match.group(4))
    return total


def _digit_word(text: str) -> Decimal:
    if not text:
        return Decimal(1)  # 千 alone means 1千
    if re.fullmatch(r"\d+(\.\d+)?", text):
        return Decimal(text)
    return Decimal(_KANJI_DIGITS.get(text, 0))


def unit_scale(text: str) -> int | None:
    """Yen per unit a header or label states: 「(千円)」 1,000, 「(万円)」 10,000, 「(百万円)」 10⁶,
    「(円)」 1; None when it names no unit."""
    folded = _fold(text)
    for unit, size in (("百万円", 1_000_000), ("千円", 1000), ("万円", 10_000), ("円", 1)):
        if unit in folded:
            return size
    return None


# Under a 「(単位：千円)」 note, a number this large is already in yen: Excel keeps yen and only
# shows them in thousands (a cell format), while nobody asks for a billion yen in thousands.
NOTE_YEN_FLOOR = 1_000_000


# --- dates -----------------------------------------------------------------------------------

_ERAS = {"令和": 2018, "R": 2018, "令": 2018, "平成": 1988, "H": 1988, "平": 1988, "昭和": 1925,
         "S": 1925, "昭": 1925}
_EXCEL_EPOCH = date(1899, 12, 30)
_WEEKDAY = re.compile(r"\((?:月|火|水|木|金|土|日|祝)[^()]{0,3}\)")


def parse_date(value: object) -> date | None:
    """西暦, 和暦 and Excel serials: datetime cells, 44923, '2022/12/28', '2022年12月28日(水)',
    '令和4年12月28日', '令和４年１２月２８日', 'R4.12.28', '令5.1.31', '5年1月31日' (令和),
    '23/1/31', '令和5年(2023年)2月10日', '2023年2月末'.

    None for an empty cell; ValueError for text that is not a date.
    """
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if isinstance(value, int | float) and not isinstance(value, bool):
        return _serial(value)
    text = re.sub(r"[\sT]\d{1,2}:\d{2}(:\d{2})?$", "", _nfkc(value))
    text = _WEEKDAY.sub("", re.sub(r"※.*$", "", text))
    text = re.sub(r"\(\d{4}年?\)|\s|頃|ごろ|予定|見込み?|まで|迄", "", text).replace("()", "")
    text = text.replace("元年", "1年").replace("元.", "1.")
    text = re.sub(r"[〇一二三四五六七八九十]+", lambda m: str(_kanji_number(m.group())), text)
    if re.fullmatch(r"\d{5}(\.\d+)?", text):
        return _serial(float(text))
    era = r"(令和|平成|昭和|[RHS令平昭])\.?(\d{1,2})"
    match = re.fullmatch(era + r"[年./-](\d{1,2})[月./-](\d{1,2})日?", text, flags=re.IGNORECASE)
    if match:
        return _date(_era_year(match.group(1), match.group(2)), match.group(3), match.group(4),
                     value)
    match = re.fullmatch(r"(\d{4})[年./-](\d{1,2})[月./-](\d{1,2})日?", text)
    if match:
        return _date(int(match.group(1)), match.group(2), match.group(3), value)
    # 「5年1月31日」: a 和暦 year typed without its era is the current era's (令和)
    match = re.fullmatch(r"(\d{1,2})年(\d{1,2})月(\d{1,2})日?", text)
    if match:
        return _date(_ERAS["令和"] + int(match.group(1)), match.group(2), match.group(3), value)
    # 「23/1/31」: a two-digit 西暦 year of these years, else (「05/01/31」) a 令和 year
    match = re.fullmatch(r"(\d{2})/(\d{1,2})/(\d{1,2})", text)
    if match:
        year = 2000 + int(match.group(1))
        year = year if _ERAS["令和"] <= year <= _ERAS["令和"] + 15 else _ERAS["令和"] + int(match.group(1))
        return _date(year, match.group(2), match.group(3), value)
    match = re.fullmatch(r"(\d{4})(\d{2})(\d{2})", text)
    if match:
        return _date(int(match.group(1)), match.group(2), match.group(3), value)
    match = re.fullmatch(r"(?:" + era + r"|(\d{4}))[年./-](\d{1,2})月?(末|末日|中|内|上旬|中旬|下旬)?",
                         text, flags=re.IGNORECASE)
    if match:
        year = (_era_year(match.group(1), match.group(2)) if match.group(1)
                else int(match.group(3)))
        month = int(match.group(4))
        if 1 <= month <= 12:
            last = calendar.monthrange(year, month)[1]
            # a part of a month is its last day, as a 完了予定 means: 上旬 10日, 中旬 20日
            return date(year, month, {"上旬": 10, "中旬": 20}.get(match.group(5) or "", last))
    raise ValueError(f"日付として読めません: {value!r}")


def _kanji_number(text: str) -> int:
    """「三十一」 31, 「十二」 12, 「五」 5, 「二〇二三」 2023 (digit by digit when no 十)."""
    if "十" not in text:
        return int("".join(str(_KANJI_DIGITS[c]) for c in text))
    tens, _, ones = text.partition("十")
    return (_KANJI_DIGITS.get(tens, 1) if tens else 1) * 10 + (_KANJI_DIGITS.get(ones, 0)
                                                                 if ones else 0)


def _era_year(era: str, year: str) -> int:
    return _ERAS[era.upper() if len(era) == 1 else era] + int(year)


def _serial(value: float) -> date:
    """An Excel date serial (1900 system), as a date typed into a cell formatted 標準 shows."""
    if not 20000 <= value <= 80000:  # 1954–2118: anything else is not a date someone meant
        raise ValueError(f"日付として読めません: {value!r}")
    return _EXCEL_EPOCH + timedelta(days=int(value))


def _date(year: int, month: str, day: str, original: object) -> date:
    try:
        return date(year, int(month), int(day))
    except ValueError as exc:
        raise ValueError(f"日付として読めません: {original!r}") from exc


# --- ticks, roles, steps, categories -----------------------------------------------------------

_TICK_NO = {"×", "✕", "✖", "x", "無", "なし", "無し", "未", "未提出", "□", "☐", "いいえ", "no",
            "n", "false", "0", "不要", "対象外", "否", "非", "-", "該当なし", "off",
            "構成員", "構成員企業", "参加", "参加企業", "メンバー", "一般", "非幹事", "その他"}


def parse_tick(value: object) -> bool:
    """A tick: ○ ◯ 〇 ✓ レ ☑ 有 TRUE 幹事社 ...; × 無 □, dashes of every kind and blanks are not."""
    if value is None:
        return False
    if isinstance(value, bool):
        return value
    if isinstance(value, int | float):
        return value != 0
    if is_dash(value):
        return False
    text = "".join(_nfkc(value).split()).casefold()
    return bool(text) and text not in _TICK_NO


def _fold(text: str) -> str:
    return "".join(_nfkc(text).split()).casefold()


def _role_of(text: str) -> str | None:
    if any(w in text for w in ("その他", "協力者", "協力企業", "専門家", "診断士", "アドバイザ",
                               "支援機関")):
        return "other"
    if any(w in text for w in ("ベンダ", "vendor", "it事業者", "itサービス事業者", "it企業",
                               "システム会社", "開発会社", "開発事業者", "sier")):
        return "vendor"
    if "ユーザ" in text or "中小" in text or "user" in text:
        return "sme"
    return None


def parse_role(value: object) -> str | None:
    """中小ユーザ企業 → 'sme', ITベンダ → 'vendor', その他協力者 → 'other'.

    The head term decides: 「その他協力者(中小企業診断士)」 is other, 「ITベンダ(中小企業)」 a vendor;
    the bracketed note is read only when the head says nothing (「幹事社(中小ユーザ企業)」).
    """
    text = _fold(str(value or ""))
    if not text:
        return None
    return _role_of(_fold(head_term(text))) or _role_of(text)


_STEP_WORDS = ((1, ("購入", "設定", "導入")), (2, ("要件定義",)),
               (3, ("設計", "開発", "システムテスト", "結合テスト", "単体テスト")),
               (4, ("受入", "研修", "教育", "トレーニング")))


def parse_step(value: object) -> int | None:
    """'STEP3', 'ＳＴＥＰ３', 3, '③', '設計・開発〜システムテスト' → 3."""
    if value is None:
        return None
    if isinstance(value, int | float) and not isinstance(value, bool):
        return int(value) if 1 <= value <= 9 else None
    text = _fold(str(value))
    text = text.translate({ord(c): str(i) for i, c in enumerate("①②③④⑤⑥⑦⑧⑨", 1)})
    digits = re.search(r"\d", text)
    if digits:
        return int(digits.group())
    for step, words in _STEP_WORDS:
        if any(w in text for w in words):
            return step
    return None


# Expense categories of SPEC §3 plus hardware, which the page never allows; words are matched
# after NFKC, on the head term first so that notes in brackets never decide the category.
CATEGORIES: tuple[tuple[str, str, tuple[str, ...]], ...] = (
    ("hardware", "ハードウェア等", ("ハードウェア", "ハード", "機器", "設備", "端末", "パソコン",
                                "備品", "サーバ購入", "工事費")),
    ("personnel", "人件費", ("人件費", "人件", "労務費", "工数")),
    ("outsourcing", "委託費", ("委託", "外注", "下請", "再委託")),
    ("software", "ソフトウェア購入費", ("ソフトウェア", "ソフトウエア", "ソフト", "ライセンス",
                                   "パッケージ", "保守")),
    ("cloud", "クラウドサービス利用費", ("クラウド", "saas", "サブスクリプション", "利用料")),
    ("meeting", "会議費", ("会議", "会場")),
    ("travel", "旅費", ("旅費", "交通費", "出張", "宿泊")),
    ("expert", "専門家経費", ("専門家", "謝金", "謝礼")),
)
CATEGORY_JA = {key: label for key, label, _ in CATEGORIES}


def parse_category(value: object) -> str | None:
    """The category named by the cell's head term; the whole text only when the head names none."""
    whole = _fold(str(value or ""))
    for text in (_fold(head_term(whole)), whole):
        for key, _label, words in CATEGORIES:
            if any(_fold(w) in text for w in words):
                return key
    return None


# --- the rest -------------------------------------------------------------------------------


def _email(value: object) -> str | None:
    text = _nfkc(value or "").strip("<>").casefold()
    if not text or declares_none(text):
        return None
    text = re.sub(r"^(e-?mail|mail|メール)[:：]", "", text)
    if not re.fullmatch(r"[^@\s]+@[^@\s]+\.[^@\s]+", text):
        raise ValueError(f"メールアドレスとして読めません: {value!r}")
    return text


def _corporate_number(value: object) -> str | None:
    if value is None:
        return None
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if declares_none(value):
        return None
    text = _nfkc(value)
    return re.sub(r"[\s" + re.escape(_DASHES) + r"]", "", text) or None


# The template's placeholder left in place (「○○コンソーシアム」「株式会社〇〇」「××」): not an answer.
_PLACEHOLDER = re.compile(r"([○◯〇●×✕＊*])\1")


def _text(value: object) -> str | None:
    if value is None:
        return None
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    text = str(value).strip()
    if _PLACEHOLDER.search(text):
        return None
    return text or None


def convert(value: object, kind: ValueType) -> Any:
    """Cell value → typed value; None when empty; ValueError (Japanese) when unreadable."""
    if kind in ("amount", "count"):
        return parse_amount(value)
    if kind == "date":
        return parse_date(value)
    if kind == "email":
        return _email(value)
    if kind == "corporate_number":
        return _corporate_number(value)
    if kind == "tick":
        return parse_tick(value)
    text = _text(value)
    if text is None:
        return None
    if kind == "role":
        return parse_role(text) or _bad("区分(中小ユーザ企業/ITベンダ/その他協力者)", text)
    if kind == "step":
        return parse_step(text) or _bad("工程(STEP1〜4)", text)
    if kind == "category":
        return parse_category(text) or _bad("経費区分", text)
    return text


def _bad(what: str, text: str) -> None:
    raise ValueError(f"{what}として読めません: 「{text}」")
