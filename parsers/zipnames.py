"""Zip member names decoded: UTF-8 flag, Info-ZIP Unicode Path, else a guess of the code page."""

from __future__ import annotations

import re
import struct
import unicodedata
import zlib

from parsers.chinese import everyday_hanzi
from parsers.cyrillic import cyrillic_reading
from parsers.japanese import (
    euc_halfwidth,
    euc_reads_better,
    everyday_kanji_only,
    japanese_score,
    katakana_marks,
    misread_as_cp932,
    reads_as_halfwidth_japanese,
    reads_as_japanese,
)
from parsers.jiscodecs import MS_EUC

# The zip "version made by" host byte: Info-ZIP and Python's zipfile on Unix and macOS write 3;
# Explorer, 7-Zip, Lhaplus and WinRAR on Windows write 0 (FAT) or 11 (NTFS).
UNIX_HOST = 3


def decode_member_name(raw: bytes, flag_bits: int = 0, extra: bytes = b"",
                       create_system: int | None = None) -> str:
    """Decode a zip member name, NFC-normalised.

    UTF-8 when flag bit 11 is set; else the Info-ZIP Unicode Path extra field (0x7075) when
    its CRC matches; else UTF-8 when the bytes are valid UTF-8 (macOS Archive Utility writes
    UTF-8 without the flag); else the guess of `_legacy_name`. `create_system` is the host of
    the "version made by" field: a Windows tool never writes EUC-JP.
    """
    if flag_bits & 0x800:
        return unicodedata.normalize("NFC", raw.decode("utf-8", "replace"))
    return unicodedata.normalize(
        "NFC", _unicode_path_extra(raw, extra) or _legacy_name(raw, create_system))


def _strict(raw: bytes, codec: str) -> str | None:
    try:
        return raw.decode(codec)
    except UnicodeDecodeError:
        return None


def _legacy_name(raw: bytes, create_system: int | None = None) -> str:
    """The code page a name without the UTF-8 flag was most likely written in, in this order:
    UTF-8 (unless a Windows tool wrote it and a legacy reading is clearly better, see
    `_legacy_rival`); a European DOS code page (cp437, cp850) when that reads as Latin words
    and CP932 would only put lone kanji at their start or inside them (Ärger -> 屍ger);
    Japanese (CP932 or EUC-JP, full-width, or half-width katakana that is well formed);
    Cyrillic by letter statistics; GBK when it reads as everyday Simplified Chinese; cp437,
    the zip format's default.

    Full-width Japanese comes before Cyrillic and Chinese. Half-width katakana comes after the
    Cyrillic guess (KOI8-R lowercase and CP1251 capitals fall on the same bytes), and yields to
    GBK when the GBK reading is everyday hanzi and the katakana has none of the marks of a
    katakana writer (ﾞ ﾟ ｰ ｯ small kana): 中文 (ﾖﾐﾎﾄ), 副本 (ｸｱｱｾ); from four everyday hanzi
    on, the marks no longer count (新建文本文档 reads ﾐﾂｽｨﾎﾄｱｾﾎﾄｵｵ), since other bytes fall on
    everyday hanzi about one time in eight. Short names with a mark stay katakana: 张伟 (ﾕﾅﾎｰ)
    and 照片 (ﾕﾕﾆｬ) are genuinely both, and Japanese Windows shows the katakana.
    """
    utf8 = _strict(raw, "utf-8")  # ASCII, or UTF-8 written without the flag (macOS, Linux)
    sjis, euc, gbk = _strict(raw, "cp932"), _strict(raw, MS_EUC), _strict(raw, "gbk")
    if utf8 is not None and not _stray_mark(utf8) and (
            create_system == UNIX_HOST or not _legacy_rival(utf8, sjis, gbk)):
        return utf8
    latin = _latin_words(raw, against_cp932=sjis is not None)
    if latin is not None and (sjis is None or not (_joined_wide(sjis) or _SUFFIX.search(sjis))):
        return latin
    hanzi = everyday_hanzi(gbk) if gbk is not None else 0
    chinese = hanzi > 0
    japanese = _japanese(sjis, None if chinese and _gbk_over_euc(euc) else euc,
                         unix_made=create_system == UNIX_HOST)
    if japanese is not None and reads_as_japanese(japanese):
        return japanese  # full-width Japanese
    if hanzi >= 4 and gbk is not None:
        return gbk  # other bytes fall on four everyday hanzi about one time in four thousand
    cyrillic = cyrillic_reading(raw)  # Russian 7-Zip/WinRAR: CP866, KOI8-R
    if cyrillic:
        return cyrillic[1]
    if japanese is not None and not (chinese and (hanzi >= 4 or not katakana_marks(japanese))):
        return japanese  # half-width katakana from Japanese Windows
    if chinese and gbk is not None:
        return gbk
    return _latin_words(raw, against_cp932=False) or raw.decode("cp437")


def _stray_mark(text: str) -> bool:
    """Whether a UTF-8 reading has a combining mark on no letter (EUC-JP 命 -> U+033F alone):
    no writer's text, only other bytes that happen to parse."""
    return any(unicodedata.combining(ch) and not (i and text[i - 1].isalpha())
               for i, ch in enumerate(text) if ch >= "\u0300")


def _legacy_rival(utf8: str, sjis: str | None, gbk: str | None) -> bool:
    """Whether a name a Windows tool wrote (which flags its UTF-8) is valid UTF-8 by chance:
    one or two multibyte characters (GBK 学业 -> ѧҵ) against a Japanese CP932 or everyday
    Chinese GBK reading."""
    if sum(1 for ch in utf8 if ord(ch) >= 0x80) > 2:
        return False
    return (sjis is not None and reads_as_japanese(sjis)) or (
        gbk is not None and everyday_hanzi(gbk) > 0)


def _japanese(sjis: str | None, euc: str | None, unix_made: bool) -> str | None:
    """The Japanese reading of a name, CP932 or EUC-JP, or None when neither reads as one.

    Where both read, short ties go to CP932 (`euc_reads_better` with windows_first): Mac and
    Linux tools that make zips "for Windows" write CP932 names under a Unix host byte too, so
    the host does not settle a tie. It does say whether EUC-JP is possible at all when only
    EUC-JP reads: Windows tools never write it, so there it needs clear signs.
    """
    sjis_ok = sjis is not None and (reads_as_japanese(sjis) or reads_as_halfwidth_japanese(sjis))
    euc_ok = euc is not None and (reads_as_japanese(euc) or euc_halfwidth(euc, 1))
    if sjis_ok and euc_ok and sjis is not None and euc is not None:
        return euc if euc_reads_better(sjis, euc, windows_first=True) else sjis
    if sjis_ok:
        return sjis
    if euc_ok and euc is not None and (unix_made or _euc_evident(sjis, euc)):
        return euc
    return None


def _euc_evident(sjis: str | None, euc: str) -> bool:
    """EUC-JP in a name a Windows tool wrote (which never writes EUC-JP) only on clear signs:
    kana, everyday kanji throughout, three well-formed SS2 half-width katakana, or a CP932
    reading that is EUC-JP's misread."""
    return (japanese_score(euc) > 0 or everyday_kanji_only(euc) or euc_halfwidth(euc)
            or (sjis is not None and misread_as_cp932(sjis)))


def _gbk_over_euc(euc: str | None) -> bool:
    """Whether a name that reads as everyday Chinese in GBK is GBK rather than EUC-JP. Both
    are two bytes of 0xA1-0xFE per character with the kana at the same codes, so GBK reads as
    EUC-JP kanji (文件 -> 猟周) and Japanese text in GBK (7-Zip on Chinese Windows) keeps its
    kana either way: the kanji decide. EUC-JP stays when its kanji are all everyday ones, or
    it holds SS2 half-width katakana, which GBK has no reading for."""
    if euc is None:
        return True
    kanji = "".join(ch for ch in euc if "\u4e00" <= ch <= "\u9fff")
    return not (kanji and everyday_kanji_only(kanji)) and not euc_halfwidth(euc, 1)


_WORD = re.compile(r"[^\W\d_]+")


def _latin_words(raw: bytes, against_cp932: bool) -> str | None:
    """The cp437 or cp850 reading (DOS and Windows zip tools in Western Europe) when every
    non-ASCII character is a Latin letter in a word of sane case with ASCII letters: Ärger,
    Müller, Straße, Ação. None otherwise. Against a CP932 reading, two accented letters side
    by side (ção) are too much like a kanji's two bytes (書 -> Åæ) to count."""
    for codec in ("cp437", "cp850"):
        text = raw.decode(codec)
        words = [w for w in _WORD.findall(text) if not w.isascii()]
        if words and all(_latin_word(w, against_cp932) for w in words) and all(
                ch.isascii() or ch.isalpha() for ch in text):
            return text
    return None


def _latin_word(word: str, against_cp932: bool) -> bool:
    """A lone kanji's two bytes read as one accented letter and an ASCII one (森 -> ÉX, 集A ->
    ÅWA), so against a CP932 reading a word needs three ASCII letters to say anything."""
    return (sum(ch.isascii() for ch in word) >= (3 if against_cp932 else 2)
            and all(ch.isascii() or unicodedata.name(ch, "").startswith("LATIN") for ch in word)
            and (word.islower() or word.isupper() or (word[0].isupper() and word[1:].islower()))
            and not (against_cp932 and re.search(r"[^\x00-\x7f]{2}", word)))


# A lone kanji closing a Latin word is a Japanese suffix (Test用, Excel表), whatever the DOS
# reading (Testùp): German words ending in an umlaut and one consonant (schön) lose this tie.
_SUFFIX = re.compile(r"[A-Za-z][^\x00-\x7f](?![A-Za-z])")


def _joined_wide(text: str) -> bool:
    """Whether two non-ASCII characters stand together: Japanese writes words, while a DOS
    name's accented letters read as CP932 give lone characters between Latin letters."""
    return any(a >= "\x80" and b >= "\x80" for a, b in zip(text, text[1:], strict=False))


def _unicode_path_extra(raw: bytes, extra: bytes) -> str | None:
    """Info-ZIP Unicode Path field (0x7075): trusted only when its CRC matches the name."""
    pos = 0
    while pos + 4 <= len(extra):
        header_id, size = struct.unpack("<HH", extra[pos : pos + 4])
        body = extra[pos + 4 : pos + 4 + size]
        pos += 4 + size
        if header_id != 0x7075 or len(body) < 5 or body[0] != 1:
            continue
        (crc,) = struct.unpack("<I", body[1:5])
        if crc != zlib.crc32(raw):
            return None
        try:
            return body[5:].decode("utf-8")
        except UnicodeDecodeError:
            return None
    return None
