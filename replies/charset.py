"""Reply charsets: UTF-8 by default, ISO-2022-JP (Microsoft form) when every character fits.

Japanese mailers read ISO-2022-JP as Microsoft's CP50220 superset, so NEC row 13 (①, ㈱, Ⅲ, №)
is safe to send. The NEC-selected IBM rows (髙, 﨑), IBM extensions and half-width katakana are
not read by every receiver, so a reply containing them is written in UTF-8 instead: the text
stays exactly as rendered and the outbox records why the charset changed (no "高" for "髙").
"""

from __future__ import annotations

import base64
from dataclasses import dataclass

import parsers.textcodec  # noqa: F401  (registers the iso2022_jp_ms codec)
from parsers.textcodec import MS_JIS

JIS_LABEL = "ISO-2022-JP"
_MAX_WORD = 66  # 78 - len("Subject: ") - margin; RFC 2047 allows 75
_LAST_SAFE_ROW = 0x74  # JIS X 0208 rows 1-84 (row 13 = NEC specials); 89-92 are IBM-selected

# Characters that Unicode-to-JIS tables disagree on. The JIS code is the same either way, but a
# CP932-style reader gives back the right-hand form; writing that form from the start means the
# mail decodes back to exactly the text we recorded.
JIS_NORMALISE = str.maketrans({
    "\u301c": "\uff5e",  # 〜 WAVE DASH → ～
    "\u2016": "\u2225",  # ‖ → ∥
    "\u2212": "\uff0d",  # − MINUS SIGN → －
    "\u00a2": "\uffe0",  # ¢ → ￠
    "\u00a3": "\uffe1",  # £ → ￡
    "\u00ac": "\uffe2",  # ¬ → ￢
    "\u2014": "\u2015",  # — EM DASH → ―
})


@dataclass(frozen=True)
class CharsetChoice:
    charset: str  # "utf-8" | "iso-2022-jp": what the mail is actually written in
    note: str | None  # why the requested charset was not used, for the outbox event


def jis_safe(char: str) -> bool:
    """True when `char` can go into an ISO-2022-JP mail that every Japanese mailer reads."""
    if char in "\x1b\x0e\x0f":
        return False
    if char.isascii():
        return True
    try:
        raw = char.encode(MS_JIS)
    except UnicodeEncodeError:
        return False
    # ESC $ B j1 j2 ESC ( B : one JIS X 0208 code, and its row must be a widely read one.
    return raw.startswith(b"\x1b$B") and len(raw) == 8 and raw[3] <= _LAST_SAFE_ROW


def unsafe_chars(*texts: str) -> list[str]:
    seen: dict[str, None] = {}
    for text in texts:
        for char in text.translate(JIS_NORMALISE):
            if not jis_safe(char):
                seen.setdefault(char)
    return list(seen)


def choose(requested: str, *texts: str) -> CharsetChoice:
    """The charset a reply is written in: the requested one unless the text does not fit."""
    if requested.lower() != "iso-2022-jp":
        return CharsetChoice("utf-8", None)
    missing = unsafe_chars(*texts)
    if not missing:
        if not all(jis_lines_fit(text) for text in texts):
            return CharsetChoice("utf-8", "ISO-2022-JP では1行が長すぎるため UTF-8 で作成しました")
        return CharsetChoice("iso-2022-jp", None)
    shown = "".join(missing[:10])
    return CharsetChoice(
        "utf-8",
        f"ISO-2022-JP にない文字({shown})を含むため、文字を置き換えずに UTF-8 で作成しました",
    )


def jis_lines_fit(body: str) -> bool:
    """7-bit ISO-2022-JP cannot be wrapped by a transfer encoding: every encoded line must
    stay within SMTP's 998 octets, else the mail is written in UTF-8 (base64) instead."""
    return all(len(encode_jis(line)) <= 998 for line in body.splitlines())


def encode_jis(text: str) -> bytes:
    return text.translate(JIS_NORMALISE).encode(MS_JIS)


def jis_encoded_words(text: str) -> str:
    """RFC 2047 B-encoded words in ISO-2022-JP, each self-contained and short enough that
    "Subject: " plus one word stays within the 78-character line (so no header starts with
    an empty folded line).

    Words are separated by a space, which RFC 2047 decoders drop between encoded words; each
    word ends back in ASCII mode as the RFC requires.
    """
    text = text.translate(JIS_NORMALISE)
    if text.isascii() and "=?" not in text:
        return text
    words, chunk = [], ""
    for char in text:
        candidate = chunk + char
        if len(_word(candidate)) > _MAX_WORD and chunk:
            words.append(_word(chunk))
            candidate = char
        chunk = candidate
    if chunk:
        words.append(_word(chunk))
    return " ".join(words)


def _word(text: str) -> str:
    return f"=?{JIS_LABEL}?B?{base64.b64encode(text.encode(MS_JIS)).decode('ascii')}?="
