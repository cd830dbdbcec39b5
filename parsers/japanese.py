"""Whether text read from unlabelled bytes is real Japanese: kana, common kanji, full-width forms."""

from __future__ import annotations

import re
import unicodedata

# One character inside a Latin word: a DOS name's accented letter read as a CP932 lead byte
# that swallowed the next letter (Müller -> M〕ler, Crème -> Cr確e). Japanese names rarely put
# a lone kanji between two Latin letters (ITベンダA社 has three, and stays Japanese).
_INSIDE_LATIN_WORD = re.compile(r"[A-Za-z][^\x00-\x7f][A-Za-z]")


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
    characters at least as frequent as rare ones, and none inside a Latin word.
    """
    if _INSIDE_LATIN_WORD.search(text):
        return False
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


_DAKUTEN_BASES = frozenset("ｳｶｷｸｹｺｻｼｽｾｿﾀﾁﾂﾃﾄﾊﾋﾌﾍﾎ")
_HANDAKUTEN_BASES = frozenset("ﾊﾋﾌﾍﾎ")
_SMALL_VOWELS = frozenset("ｧｨｩｪｫｬｭｮ")  # after a full-size kana or a voicing mark: ｼﾞｮ ﾌｧ
_AFTER_ANY_KANA = frozenset("ｯｰ")  # also after a small one: ﾁｪｯｸ ｼｮｰ


def reads_as_halfwidth_japanese(text: str) -> bool:
    """Whether a CP932 decoding holding half-width katakana is a Japanese name (ｼﾝｾｲｼｮ.xlsx,
    as Explorer and 7-Zip on Japanese Windows write it) rather than another code page's bytes.

    Asked after `reads_as_japanese` and after the Cyrillic guess (KOI8-R lowercase and CP1251
    capitals fall on the same bytes). The kana must be well formed: a voicing mark only after a
    kana that takes it, ｧｨｩｪｫｬｭｮ only after a full-size kana, ｯ and ｰ after any kana. And one
    of them must come from bytes 0xA8-0xDF, which cp437 shows as symbols and box drawing, never
    in a real name: a Western DOS name's accented letters (á í ó ú ñ Ñ ª º, bytes 0xA0-0xA7;
    é ü ö ä at 0x80-0x9F are CP932 lead bytes) keep cp437. A GBK name whose bytes all fall in
    0xA1-0xDF reads as half-width katakana here, as it does in Explorer on Japanese Windows.
    """
    if _INSIDE_LATIN_WORD.search(text):
        return False
    common = rare = 0
    beyond_latin = False
    previous = ""
    for ch in text:
        if ord(ch) < 0x80:
            if not ch.isprintable():
                return False
        elif "\uff61" <= ch <= "\uff9f":
            if ((ch == "ﾞ" and previous not in _DAKUTEN_BASES)
                    or (ch == "ﾟ" and previous not in _HANDAKUTEN_BASES)
                    or (ch in _SMALL_VOWELS and not "\uff71" <= previous <= "\uff9f")
                    or (ch in _AFTER_ANY_KANA and not "\uff66" <= previous <= "\uff9f")):
                return False
            beyond_latin = beyond_latin or ch >= "\uff68"
        elif unicodedata.category(ch) in ("Cc", "Co", "Cn", "Cs"):
            return False
        elif _is_common_japanese(ch):
            common += 1
        else:
            rare += 1
        previous = ch
    return beyond_latin and rare <= common
