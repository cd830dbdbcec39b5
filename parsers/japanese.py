"""Whether text read from unlabelled bytes is real Japanese: kana, common kanji, full-width forms."""

from __future__ import annotations

import unicodedata


def japanese_score(text: str) -> int:
    """How much of a text is ordinary full-width Japanese (kana, CJK punctuation, full-width
    forms). EUC-JP bytes read as CP932 turn into half-width katakana and stray kanji, never
    hiragana, so this tells the two apart when both decode."""
    return sum(
        1 for c in text
        if "\u3000" <= c <= "\u30ff" or "\uff01" <= c <= "\uff5e"
    )


def everyday_kanji(ch: str) -> bool:
    """A kanji of JIS X 0208 level 1, the ones everyday Japanese is written with."""
    try:
        code = int.from_bytes(ch.encode("cp932"), "big")
    except UnicodeEncodeError:
        return False
    return 0x889F <= code <= 0x9872


def reads_as_japanese(text: str) -> bool:
    """Whether a CP932 decoding is real Japanese rather than another 8-bit code page.

    KOI8-R, CP1250 and GBK bytes often decode "successfully" as CP932: into half-width
    katakana (single bytes 0xA1-0xDF) or rare JIS level-2 kanji. Real names use kana,
    level-1 kanji, full-width forms or circled digits; so: no control or private-use
    characters, no half-width katakana mixed into or standing in for such text, and common
    characters at least as frequent as rare ones.
    """
    common = rare = halfwidth = 0
    for ch in text:
        if ord(ch) < 0x80:
            if ch.isprintable():
                continue
            return False
        category = unicodedata.category(ch)
        if category in ("Cc", "Co", "Cn", "Cs"):
            return False
        if "\uff61" <= ch <= "\uff9f":
            halfwidth += 1
        elif _is_common_japanese(ch):
            common += 1
        else:
            rare += 1
    if halfwidth:
        return False
    return common > 0 and common >= rare


def _is_common_japanese(ch: str) -> bool:
    if "\u3000" <= ch <= "\u30ff" or "\uff01" <= ch <= "\uff5e":
        return True  # CJK punctuation, hiragana, katakana, full-width ASCII
    # JIS level-1 kanji, and NEC row 13 (①, ㈱, Roman numerals) that Japanese offices use.
    if everyday_kanji(ch):
        return True
    try:
        code = int.from_bytes(ch.encode("cp932"), "big")
    except UnicodeEncodeError:
        return False
    return 0x8740 <= code <= 0x879C
