"""Find the archive password in a mail body ("パスワード：Ab3xY9", "PW\\n「Ab3xY9」" …).

The program page recommends zip + encryption, and applicants send the password in a separate
mail, in many shapes: the label (パスワード, 解凍パスワード, PW, PASS, password, full-width forms)
and the value on the same line or on the next non-empty line, bare or inside 「」 or quotes.
A body that only announces the password ("パスワードは別途お送りします") has none.

`find_password` returns the value as written. Applicants sometimes type it with the IME in
full-width mode, so `password_candidates` also offers the NFKC (half-width) form for the archive
layer to try second.
"""

from __future__ import annotations

import re
import unicodedata

from parsers.sender import own_text_lines
from parsers.subject import NfkcText, nfkc_with_origin

_LABEL = re.compile(
    r"(?:解凍用?|展開用?|zip|ZIP|添付ファイル(?:の)?|ファイル(?:の)?)?\s*"
    r"(?:パスワード|パスワ-ド|ﾊﾟｽﾜｰﾄﾞ|pass\s*word|passwd|pwd|pass|pw|p/w|暗証番号|解凍キー)"
    r"(?![a-z])",
    re.IGNORECASE,
)
# Words saying the password comes later, or that the sentence is about the password without
# giving it ("パスワードをかけています"). "お知らせします" alone means "here it is": the value
# then follows on the next line, so it is not in this list.
_ANNOUNCE = re.compile(
    r"別途|別メール|別送|別便|後ほど|のちほど|追って|改めて|あらためて|次のメール|後送|"
    r"後日|かけて|掛けて|設定して|設定しており|付けて|つけて|がかかって|忘れ|不要|なし|無し|"
    r"付与|付き|つき|解除"
)
# A sentence that introduces the value without giving it on the same line.
_ANNOUNCE_NOW = re.compile(r"お知らせ|お送り|送付|ご連絡|連絡いたし|送ります|送信|記載|です|ます")
_INTRO = re.compile(r"^(?:は|を|:|=|→|->|\s)*(?:以下|下記|次)")
_SEPARATORS = " \t　:：=＝は、,→>-】]）)〕"
_PAIRS = {"「": "」", "『": "』", '"': '"', "“": "”", "”": "”", "'": "'", "‘": "’", "【": "】",
          "[": "]", "<": ">", "〈": "〉", "《": "》", "(": ")", "（": "）"}
# "パスワード（半角英数）：…" – a remark in brackets between the label and the separator.
_REMARK = re.compile(r"\s*[(（【\[][^)）】\]]{1,20}[)）】\]]\s*(?=[:：=＝])")
_TOKEN = re.compile(r"[!-~\uff01-\uff5e]+")
_NOT_PASSWORD = re.compile(
    r"^(?:https?://|www\.)|^[\w.+-]+@[\w-]+\.[\w.-]+$|^(?:tel|fax|mail|e-mail|url)\b",
    re.IGNORECASE,
)
_TRAILING = re.compile(r"(?:です|となります|になります|でございます)[。.!！]*$")


def find_password(body: str) -> str | None:
    """The password the body gives, as written, or None when it gives none."""
    candidates = password_candidates(body)
    return candidates[0] if candidates else None


def password_candidates(body: str) -> list[str]:
    """The password as written, then its half-width (NFKC) form when that differs."""
    try:
        found = _find(own_text_lines(body))
    except Exception:  # a parser never raises; no password found is the safe answer
        return []
    if found is None:
        return []
    folded = unicodedata.normalize("NFKC", found)
    return [found] if folded == found else [found, folded]


def _find(lines: list[str]) -> str | None:
    for index, line in enumerate(lines):
        norm = nfkc_with_origin(line)
        folded = norm.text
        next_line_tried = False  # the same for every label of the line: read it once
        for m in _LABEL.finditer(folded):
            end = m.end()
            remark = _REMARK.match(folded, end)
            end = remark.end() if remark else end
            rest = folded[end:]
            value = _value_on_line(line, norm, end)
            if value:
                return value
            if _ANNOUNCE.search(rest) and not _INTRO.search(rest) or next_line_tried:
                continue
            next_line_tried = True
            value = _value_on_next_line(lines, index)
            if value:
                return value
    return None


def _value_on_line(line: str, norm: NfkcText, start: int) -> str | None:
    rest_folded = norm.text[start:]
    # "パスワードは「Ab3」です" / "PW: 'Ab3'": a quoted value right after the label wins.
    lead = len(rest_folded) - len(rest_folded.lstrip(_SEPARATORS))
    quoted = _quoted(rest_folded, lead)
    if quoted:
        value = _original(line, norm, start + quoted[0], start + quoted[1])
        return _clean(value, quoted=True)
    if _ANNOUNCE.search(rest_folded) or _INTRO.search(rest_folded):
        return None
    if _ANNOUNCE_NOW.search(rest_folded) and not _TOKEN.match(rest_folded, lead):
        return None
    token = _TOKEN.match(rest_folded, lead)
    if not token or lead == 0 and rest_folded[:1].isalnum():
        return None
    value = _TRAILING.sub("", _original(line, norm, start + token.start(), start + token.end()))
    return _clean(value)


def _value_on_next_line(lines: list[str], index: int) -> str | None:
    for nxt in lines[index + 1 : index + 4]:
        text = nxt.strip(" \t　")
        if not text:
            continue
        norm = nfkc_with_origin(text)
        folded = norm.text
        quoted = _quoted(folded, 0)
        if quoted and quoted[1] + 1 == len(folded):
            return _clean(_original(text, norm, quoted[0], quoted[1]), quoted=True)
        if _LABEL.match(folded):
            return None
        token = _TOKEN.fullmatch(_TRAILING.sub("", folded))
        return _clean(_TRAILING.sub("", text)) if token else None
    return None


def _quoted(text: str, start: int) -> tuple[int, int] | None:
    """Span of a bracketed or quoted value starting at `start`, if it looks like a password."""
    closer = _PAIRS.get(text[start : start + 1])
    if closer is None:
        return None
    end = text.find(closer, start + 1)
    if end <= start + 1 or not _TOKEN.fullmatch(text, start + 1, end):
        return None
    return start + 1, end


def _clean(value: str, *, quoted: bool = False) -> str | None:
    # A bare value ends at the sentence ("abc123。"); inside quotes every character counts.
    value = value if quoted else value.strip(" \t　").rstrip("。、.,")
    folded = unicodedata.normalize("NFKC", value)
    if not 3 <= len(value) <= 128 or (not quoted and _NOT_PASSWORD.search(folded)):
        return None
    if not any(ch.isalnum() for ch in folded):
        return None
    return value


def _original(line: str, norm: NfkcText, start: int, end: int) -> str:
    """The text as written behind norm.text[start:end]."""
    if start >= end:
        return ""
    return line[norm.origin[start] : norm.origin[end - 1] + 1]
