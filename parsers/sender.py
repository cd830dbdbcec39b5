"""Read the sender block (会社名・役職・氏名・メールアドレス・電話番号) from a mail body.

Applicants write it in two ways: labelled lines ("会社名：株式会社ABC", "【TEL】03-…", "E-mail
yamada@…") and an unlabelled signature at the bottom. Labelled lines win; the signature fills
what is still missing. Quoted reply text (">" lines, "-----Original Message-----", "On … wrote:",
"…さんは書きました", an Outlook "From:/Sent:" header block) is someone else's text and ignored.

Email and phone are normalised (NFKC, every dash to "-"); the other fields are kept as written.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

_MAX_BODY = 200_000  # a sender block is never further down than this
# Nor is one of its lines longer than this: the label readers cost the square of a line's
# length (one 100,000-character line took 90 s), so a longer line is read only this far.
_MAX_LINE = 1000


@dataclass(frozen=True)
class SenderDetails:
    company: str | None
    title: str | None
    name: str | None
    email: str | None
    phone: str | None

    @property
    def missing(self) -> tuple[str, ...]:
        """Japanese labels of the missing fields, in the order the program page lists them."""
        fields = (("会社名", self.company), ("役職", self.title), ("氏名", self.name),
                  ("メールアドレス", self.email), ("電話番号", self.phone))
        return tuple(label for label, value in fields if not value)


# ---------------------------------------------------------------- quoted text

_REPLY_MARKERS = (
    re.compile(r"^\s*-{2,}\s*original message\s*-{2,}", re.IGNORECASE),
    re.compile(r"^\s*-{2,}\s*元のメッセージ\s*-{2,}"),
    re.compile(r"^\s*on\b.{0,200}\bwrote:\s*$", re.IGNORECASE),
    re.compile(r"さんは書きました\s*[:：]?\s*$"),
    re.compile(r"(?:さん|様)(?:から|が)の?\s*(?:メール|メッセージ)?.{0,20}(?:書きました|送信しました)"),
    re.compile(r"^\s*\d{4}[/年-]\d{1,2}[/月-]\d{1,2}.{0,60}(?:wrote|書きました|送信しました)"),
    # Gmail (Japanese): "2022年8月10日(水) 10:00 事務局 <it-renkei@…>:"
    re.compile(r"^\s*\d{4}[/年-]\d{1,2}[/月-]\d{1,2}.{0,80}<[^<>@\s]+@[^<>\s]+>\s*[:：]\s*$"),
)
_OUTLOOK_FROM = re.compile(r"^\s*(?:from|差出人|送信者)\s*[:：]", re.IGNORECASE)
_OUTLOOK_NEXT = re.compile(r"^\s*(?:sent|date|送信日時|日時|to|宛先)\s*[:：]", re.IGNORECASE)
_QUOTE_CHARS = (">", "＞", "|")


def own_text_lines(body: str) -> list[str]:
    """The lines the sender wrote: quoted lines dropped, cut at the first reply marker."""
    lines = [line[:_MAX_LINE] for line in
             (body or "")[:_MAX_BODY].replace("\r\n", "\n").replace("\r", "\n").split("\n")]
    kept: list[str] = []
    for index, line in enumerate(lines):
        if any(marker.search(line) for marker in _REPLY_MARKERS):
            break
        if _OUTLOOK_FROM.match(line) and any(
            _OUTLOOK_NEXT.match(nxt) for nxt in lines[index + 1 : index + 4]
        ):
            break
        if line.lstrip(" \t　").startswith(_QUOTE_CHARS):
            continue
        kept.append(line)
    return kept


# ---------------------------------------------------------------- normalisation

_DASHES = "‐‑‒–—―−－ー─━ｰ-"


def normalise_email(value: str) -> str | None:
    text = unicodedata.normalize("NFKC", value)
    text = re.sub(r"\s*@\s*", "@", text.replace("(at)", "@").replace("[at]", "@"))
    m = re.search(r"[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+", text)
    return m.group(0).strip(".") if m else None


def normalise_phone(value: str) -> str | None:
    text = unicodedata.normalize("NFKC", value)
    text = "".join("-" if ch in _DASHES else ch for ch in text)
    m = re.search(r"\+?\(?\d[\d\s()\-]{7,}\d", text)
    if not m:
        return None
    phone = re.sub(r"\s*-\s*", "-", m.group(0).strip())
    phone = re.sub(r"\s+", "-", phone)
    digits = sum(ch.isdigit() for ch in phone)
    return phone if 9 <= digits <= 15 else None


# ---------------------------------------------------------------- labelled lines

# Longest labels first so "メールアドレス" is not read as "メール" + "アドレス".
_LABELS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("company", ("会社名", "貴社名", "社名", "企業名", "法人名", "事業者名", "団体名", "組織名",
                 "所属企業名", "所属企業", "所属会社", "幹事社名", "幹事社", "会社")),
    ("title", ("役職名", "役職", "肩書き", "肩書", "職位", "職名")),
    ("name", ("ご担当者名", "ご担当者", "担当者氏名", "担当者名", "担当者", "氏名", "お名前",
              "名前", "ご担当", "担当", "name")),
    ("email", ("メールアドレス", "eメールアドレス", "eメール", "e-mail",
               "email", "mail address", "mailaddress", "mail", "メール", "アドレス")),
    ("phone", ("電話番号", "連絡先電話番号", "携帯電話番号", "携帯電話", "携帯番号", "携帯",
               "電話", "tel", "phone", "連絡先")),
)
# 所属 is often a department, so it only fills 会社名 when nothing better is labelled.
_WEAK_COMPANY = ("所属先", "所属")

_LEAD = r"^[\s　]*(?:[・■□●○◆◇▼▽▶►★☆※*+\-#]|\d{1,2}[.)、．]|[(（]\d{1,2}[)）])?[\s　]*"
_OPEN = r"[【\[<〈《〔(]?"
# After a closing bracket ("【TEL】03-…") no separator is needed; a bare label needs one.
_CLOSE_OR_SEP = (
    r"(?:[】\]>〉》〕)][\s　:：=＝]*|[\s　]*(?:[:：=＝]|[\s　]|…+|->|→|$)[\s　:：=＝]*)"
)


def _label_regex(labels: tuple[str, ...]) -> re.Pattern[str]:
    alternatives = "|".join(re.escape(label) for label in sorted(labels, key=len, reverse=True))
    # An ASCII label must not be the start of a longer word ("Telephone" is fine via "phone").
    return re.compile(
        _LEAD + _OPEN + rf"(?:{alternatives})(?![a-z])" + _CLOSE_OR_SEP + r"(?P<value>.*)$",
        re.IGNORECASE,
    )


_FIELD_REGEXES = tuple((field, _label_regex(labels)) for field, labels in _LABELS)
_WEAK_COMPANY_REGEX = _label_regex(_WEAK_COMPANY)
_FAX = re.compile(r"fax|ファックス|ファクス", re.IGNORECASE)


def _value_for(field: str, raw: str) -> str | None:
    value = raw.strip(" \t　")
    if field == "email":
        return normalise_email(value)
    if field == "phone":
        # "TEL/FAX：03-…" gives the phone; a FAX-only label never reaches here.
        return normalise_phone(value)
    value = re.sub(r"[\s　]*[】\]>〉》〕)]$", "", value) if value[:1] not in "(（" else value
    value = value.strip(" \t　")
    return value or None


def _labelled(lines: list[str]) -> dict[str, str]:
    found: dict[str, str] = {}
    weak_company: str | None = None
    for index, line in enumerate(lines):
        folded = unicodedata.normalize("NFKC", line)
        if _FAX.match(folded.strip(" ・■●◆*-【[<")):
            continue  # a FAX number line is not the phone
        for field, regex in _FIELD_REGEXES:
            m = regex.match(folded)
            if not m:
                continue
            value = _field_value(field, line, folded, m, lines, index)
            if value and field not in found:
                found[field] = value
            if field in ("email", "phone"):
                # "連絡先：03-… / yamada@…" or "TEL 03-… Mail yamada@…" on one line.
                _contact_extras(found, folded[m.start("value") :])
            break
        else:
            m = _WEAK_COMPANY_REGEX.match(folded)
            if m and weak_company is None:
                weak_company = _field_value("company", line, folded, m, lines, index)
    if "company" not in found and weak_company:
        found["company"] = weak_company
    return found


def _contact_extras(found: dict[str, str], value: str) -> None:
    if "email" not in found and (email := normalise_email(value)):
        found["email"] = email
    if "phone" not in found and not _FAX.search(value.split("@")[0]):
        without_email = re.sub(r"\S+@\S+", " ", value)
        if phone := normalise_phone(without_email):
            found["phone"] = phone


def _field_value(field: str, line: str, folded: str, m: re.Match[str], lines: list[str],
                 index: int) -> str | None:
    raw = _original_tail(line, folded, m.start("value"))
    if raw.strip(" \t　"):
        return _value_for(field, raw)
    # "【会社名】" alone on a line: the value is on the next non-empty line.
    for nxt in lines[index + 1 : index + 3]:
        if nxt.strip(" \t　"):
            if any(r.match(unicodedata.normalize("NFKC", nxt)) for _, r in _FIELD_REGEXES):
                return None
            return _value_for(field, nxt)
    return None


def _original_tail(line: str, folded: str, start: int) -> str:
    """The text of `line` that corresponds to folded[start:], keeping the applicant's spelling."""
    tail = folded[start:]
    if not tail:
        return ""
    if folded == line:
        return tail
    # NFKC changes lengths only for rare characters (㈱ -> (株)); find the tail by re-folding.
    # The folded length of line[offset:] never grows with the offset: search it by halving
    # (re-folding every offset costs the square of the line's length), then try the offsets
    # whose folding has the tail's length.
    def folded_length(offset: int) -> int:
        return len(unicodedata.normalize("NFKC", line[offset:]))

    low, high = 0, len(line)  # folded_length(low) >= len(tail) > folded_length(high)
    while high - low > 1:
        middle = (low + high) // 2
        if folded_length(middle) >= len(tail):
            low = middle
        else:
            high = middle
    for offset in range(low, max(-1, low - 8), -1):
        if unicodedata.normalize("NFKC", line[offset:]) == tail:
            return line[offset:]
    return tail


# ---------------------------------------------------------------- signature

_CORP = re.compile(
    r"株式会社|有限会社|合同会社|合資会社|合名会社|\(株\)|\(有\)|\(合\)|㈱|㈲|一般社団法人|"
    r"一般財団法人|公益社団法人|公益財団法人|社会福祉法人|医療法人|学校法人|特定非営利活動法人|"
    r"NPO法人|協同組合|商工会議所|商工会|Co\.,?\s*Ltd|Inc\.|Corporation|K\.K\.",
    re.IGNORECASE,
)
_TITLES = (
    "代表取締役社長", "代表取締役", "取締役副社長", "専務取締役", "常務取締役", "取締役",
    "執行役員", "代表理事", "理事長", "理事", "会長", "社長", "副社長", "本部長", "事業部長",
    "部長代理", "副部長", "部長", "次長", "課長代理", "課長補佐", "課長", "係長", "室長",
    "所長", "事務局長", "支店長", "センター長", "グループ長", "チームリーダー", "リーダー", "マネージャー",
    "マネジャー", "主任", "主査", "主幹", "参事", "担当部長", "代表", "CEO", "CTO", "CIO", "COO",
    "Manager", "Director", "President",
)
_TITLE_RE = re.compile("|".join(re.escape(t) for t in sorted(_TITLES, key=len, reverse=True)))
_SIGNATURE_RULE = re.compile(r"^[\s　]*(?:-- ?|[-=_*~━─＝ー・]{4,}.*)$")
_NAME_TOKEN = re.compile(r"^[\u4e00-\u9fff\u3005\u3040-\u30ffA-Za-z]{1,8}$")
_ADDRESSEE = re.compile(r"御中|様[\s　。、]*$")
# a department word before the name on a signature line without a title: 総務課 北陸 太郎
_DEPARTMENT = re.compile(r"^\S*(?:部|課|室|局|係|センター|グループ|チーム)$")


def _signature_lines(lines: list[str]) -> list[str]:
    """The bottom block: after the last separator rule, or the last 12 non-empty lines."""
    texts = [ln for ln in lines if ln.strip(" \t　")]
    rules = [i for i, ln in enumerate(texts) if _SIGNATURE_RULE.match(ln)]
    block = texts[rules[-2] + 1 :] if len(rules) >= 2 and len(texts) - rules[-1] <= 2 else (
        texts[rules[-1] + 1 :] if rules else texts
    )
    block = [ln for ln in block if not _SIGNATURE_RULE.match(ln)]
    return block[-12:]


def _looks_like_name(tokens: list[str]) -> str | None:
    words = [t for t in tokens if t]
    if not 1 <= len(words) <= 2 or not all(_NAME_TOKEN.match(w) for w in words):
        return None
    joined = " ".join(words)
    if _TITLE_RE.search(joined) or _CORP.search(joined) or len(joined.replace(" ", "")) > 10:
        return None
    if any(ch in joined for ch in "部課室局係"):
        return None
    return joined


def _from_signature(lines: list[str]) -> dict[str, str]:
    found: dict[str, str] = {}
    block = _signature_lines(lines)
    for index, line in enumerate(block):
        text = unicodedata.normalize("NFKC", line).strip(" \t　")
        if _ADDRESSEE.search(text):
            continue
        if "email" not in found and (email := normalise_email(text)):
            found["email"] = email
            continue
        if "phone" not in found and not _FAX.search(text) and (phone := normalise_phone(text)):
            found["phone"] = phone
            continue
        if "company" not in found and _CORP.search(text):
            found["company"] = _company_part(line.strip(" \t　"))
        title = _TITLE_RE.search(text)
        if title and "title" not in found:
            found["title"] = title.group(0)
            after = text[title.end() :].strip(" \t　")
            name = _looks_like_name(after.split()) if after else None
            if name is None and index + 1 < len(block):
                nxt = unicodedata.normalize("NFKC", block[index + 1]).strip(" \t　")
                name = _looks_like_name(nxt.split())
            if name and "name" not in found:
                found["name"] = name
        elif "name" not in found and not _CORP.search(text):
            tokens = text.split()
            rest = list(tokens)
            while rest and _DEPARTMENT.match(rest[0]):
                rest.pop(0)
            # the line under the company: a name as family and given name (九州テック株式会社 / 伊藤 恵)
            under_company = index > 0 and "company" in found and _CORP.search(
                unicodedata.normalize("NFKC", block[index - 1])) is not None and len(tokens) == 2 \
                and not any(t[-1] in "都道府県市区町村郡" for t in tokens)  # not an address
            department = len(rest) < len(tokens) or under_company
            if department and not rest and index + 1 < len(block):  # 総務部 / 宮坂 俊
                rest = unicodedata.normalize("NFKC", block[index + 1]).split()
            if department and (name := _looks_like_name(rest)):
                found["name"] = name
    return found


def _company_part(line: str) -> str:
    """From '株式会社ABC 営業部 部長 山田太郎' keep the company words only."""
    tokens = re.split(r"[\s　]+", line)
    for i, token in enumerate(tokens):
        folded = unicodedata.normalize("NFKC", token)
        if _CORP.search(folded):
            bare = _CORP.fullmatch(folded) is not None  # "株式会社 ABC": the name follows
            end = i + 2 if bare and i + 1 < len(tokens) else i + 1
            return " ".join(tokens[:end]) if _CORP.match(folded) or i == 0 else " ".join(
                tokens[: i + 1]
            )
    return line


# ---------------------------------------------------------------- entry point


def parse_sender_block(body: str) -> SenderDetails:
    """Find 会社名・役職・氏名・メールアドレス・電話番号 in `body`; absent fields are None."""
    try:
        lines = own_text_lines(body)
        found = _labelled(lines)
        for field, value in _from_signature(lines).items():
            found.setdefault(field, value)
    except Exception:  # a parser never raises; an unreadable body simply lacks the fields
        found = {}
    return SenderDetails(
        company=found.get("company"),
        title=found.get("title"),
        name=found.get("name"),
        email=found.get("email"),
        phone=found.get("phone"),
    )
