"""Reply charsets: UTF-8 by default; ISO-2022-JP that every reader decodes when configured.

ISO-2022-JP as every receiver reads it is ASCII plus JIS X 0208 (RFC 1468): Python's own
`iso2022_jp` codec, old mail programs and Japanese phones. Microsoft's extensions (NEC row 13:
①, ㈱, Ⅲ, №; the IBM rows: 髙, 﨑; half-width katakana) decode to U+FFFD or to nothing outside
Windows, so they are never written into an ISO-2022-JP part:

- A character whose JIS X 0208 code the tables only name differently (～ and 〜, － and −, ∥
  and ‖) is written as that code: Windows shows ～, Python 〜, both the same mark.
- Any other character is replaced in the ISO-2022-JP part by its standard equivalent ((1) for
  ①, (株) for ㈱, 高 for 髙, 〓 when there is none), and the mail carries the original text in a
  UTF-8 alternative part, which today's mail programs show instead.
"""

from __future__ import annotations

import base64
import unicodedata
from dataclasses import dataclass
from functools import lru_cache

from parsers.jiscodecs import MS_JIS  # importing it registers the iso2022_jp_ms codec

JIS_LABEL = "ISO-2022-JP"
STRICT = "iso2022_jp"  # Python's codec: exactly what every reader decodes
_LAST_ROW = 0x74  # JIS X 0208 rows 1-84; row 13 (NEC specials) and 89-92 (IBM) are not in it
_MAX_WORD = 66  # "Subject: " plus one encoded word stays within 78 characters; RFC 2047 allows 75
GETA = "〓"  # the conventional JIS mark for a character that cannot be written

# Characters outside JIS X 0208 whose everyday form is in it; NFKC covers the rest ((株), III, カ).
EQUIVALENTS = {
    "髙": "高", "﨑": "崎", "德": "徳", "栁": "柳", "濵": "浜", "淸": "清", "靑": "青",
    "瀨": "瀬", "橫": "横", "№": "No.", "℡": "TEL", "∑": "Σ",
    "\u2014": "\u2015",  # EM DASH: JIS has the horizontal bar
}


@dataclass(frozen=True)
class CharsetChoice:
    charset: str  # "utf-8" | "iso-2022-jp": what the mail's (first) text part is written in
    note: str | None  # why the text part differs from what was requested, for the outbox event


@lru_cache(maxsize=4096)
def strict_form(char: str) -> str | None:
    """The form of `char` that Python's ISO-2022-JP codec writes with the same JIS code, or
    None when the character has no JIS X 0208 code at all."""
    if char in "\x1b\x0e\x0f":
        return None
    try:
        char.encode(STRICT)
        return char
    except UnicodeEncodeError:
        pass
    try:
        raw = char.encode(MS_JIS)
    except UnicodeEncodeError:
        return None
    # ESC $ B j1 j2 ESC ( B: one JIS X 0208 code in rows 1-84 except NEC row 13
    if raw.startswith(b"\x1b$B") and len(raw) == 8 and raw[3] <= _LAST_ROW and raw[3] != 0x2D:
        try:
            return raw.decode(STRICT)
        except UnicodeDecodeError:
            return None
    return None


def jis_safe(char: str) -> bool:
    """True when `char` can be written in ISO-2022-JP that every reader decodes."""
    return strict_form(char) is not None


def unsafe_chars(*texts: str) -> list[str]:
    seen: dict[str, None] = {}
    for text in texts:
        for char in text:
            if not jis_safe(char):
                seen.setdefault(char)
    return list(seen)


def equivalent(char: str) -> str:
    """A standard replacement written only with JIS X 0208 characters: (1) for ①, (株) for ㈱."""
    candidates = [EQUIVALENTS.get(char), unicodedata.normalize("NFKC", char)]
    for text in candidates:
        if text and text != char and all(jis_safe(c) for c in text):
            if text.isdigit() and "CIRCLED" in unicodedata.name(char, ""):
                return f"({text})"  # ① → (1): a circled number stays a marked number
            return "".join(strict_form(c) or "" for c in text)
    return GETA


def jis_text(text: str) -> str:
    """`text` with every character in the form ISO-2022-JP readers decode (see the module)."""
    return "".join(strict_form(c) or equivalent(c) for c in text)


def encode_jis(text: str) -> bytes:
    return jis_text(text).encode(STRICT)


def choose(requested: str, *texts: str) -> CharsetChoice:
    """The charset of a reply's text part: the requested one unless a line cannot be written."""
    if requested.lower() != "iso-2022-jp":
        return CharsetChoice("utf-8", None)
    if not all(jis_lines_fit(text) for text in texts):
        return CharsetChoice("utf-8", "ISO-2022-JP では1行が長すぎるため UTF-8 で作成しました")
    missing = unsafe_chars(*texts)
    if missing:
        shown = "".join(missing[:10])
        return CharsetChoice(
            "iso-2022-jp",
            f"ISO-2022-JP にない文字({shown})は標準の文字に置き換え、原文を UTF-8 の部分に添えました",
        )
    return CharsetChoice("iso-2022-jp", None)


def jis_lines_fit(body: str) -> bool:
    """7-bit ISO-2022-JP cannot be wrapped by a transfer encoding: every encoded line must
    stay within SMTP's 998 octets, else the mail is written in UTF-8 (base64) instead."""
    return all(len(encode_jis(line)) <= 998 for line in body.splitlines())


def header_words(text: str, jis: bool) -> str:
    """An unstructured header value (Subject) as RFC 2047 B-encoded words, each self-contained
    and short enough that a header line stays within 78 characters. Words are separated by a
    space, which RFC 2047 decoders drop between encoded words.

    ISO-2022-JP words when `jis` and every character is one all readers decode; UTF-8 words
    otherwise, which every current reader decodes too (a header has no second part to carry
    an original in)."""
    if text.isascii() and "=?" not in text:
        return text
    jis = jis and fits_jis(text)  # one charset for the whole header
    words, chunk = [], ""
    for char in text:
        candidate = chunk + char
        if len(_word(candidate, jis)) > _MAX_WORD and chunk:
            words.append(_word(chunk, jis))
            candidate = char
        chunk = candidate
    if chunk:
        words.append(_word(chunk, jis))
    return " ".join(words)


def display_name_word(name: str, jis: bool) -> str:
    """A display name as ONE encoded word: address parsers (Python's among them) put a space
    between two encoded words of a phrase, so a split name would read 「…サービ スIT…」."""
    if name.isascii() and "=?" not in name:
        return name
    return _word(name, jis)


def fits_jis(*texts: str) -> bool:
    return not unsafe_chars(*texts)


def _word(text: str, jis: bool) -> str:
    if jis and fits_jis(text):
        return f"=?{JIS_LABEL}?B?{base64.b64encode(encode_jis(text)).decode('ascii')}?="
    return f"=?UTF-8?B?{base64.b64encode(text.encode('utf-8')).decode('ascii')}?="
