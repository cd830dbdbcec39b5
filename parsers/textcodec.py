"""Japanese-aware text decoding for mail: charsets, header values and attachment names.

Real Japanese mail is written by Windows mailers: what they label ISO-2022-JP is Microsoft's
CP50220/CP50221 (NEC row 13 ①㈱Ⅲ, NEC-selected IBM extensions such as 髙, half-width katakana
via ESC ( I), and what they label Shift_JIS is CP932. Python ships neither ISO-2022-JP superset,
so this module registers two small codecs, ``iso2022_jp_ms`` and ``euc_jp_ms`` (CP51932-like).
Both map every JIS X 0208 code through CP932, which gives exactly the extension rows real mailers
emit. Nothing here raises on bad input: a damaged value becomes text plus a ``problem`` note.
"""

from __future__ import annotations

import base64
import binascii
import codecs
import email.header
import email.message
import encodings
import math
import re
from collections.abc import Iterator
from dataclasses import dataclass
from functools import lru_cache

MS_JIS = "iso2022_jp_ms"
MS_EUC = "euc_jp_ms"


@dataclass(frozen=True)
class Decoded:
    text: str
    charset: str  # python codec actually used, e.g. "cp932", "utf-8", "iso2022_jp_ms"
    problem: str | None  # None when clean; else a short note for the message's problem list


# --------------------------------------------------------------------------------------------
# JIS X 0208 through CP932: the table shared by the two codecs


def _jis_to_sjis(j1: int, j2: int) -> bytes:
    """The Shift_JIS bytes of a 7-bit JIS code (the standard arithmetic, valid for rows 1-94)."""
    s1 = (j1 + 1) // 2 + (0x70 if j1 <= 0x5E else 0xB0)
    # odd rows take trail bytes 0x40-0x9E (skipping 0x7F), even rows 0x9F-0xFC
    s2 = j2 + (0x1F if j2 <= 0x5F else 0x20) if j1 % 2 else j2 + 0x7E
    return bytes((s1, s2))


def _build_tables() -> tuple[dict[int, str], dict[str, int]]:
    decode: dict[int, str] = {}
    encode: dict[str, int] = {}
    for j1 in range(0x21, 0x7F):
        for j2 in range(0x21, 0x7F):
            try:
                char = _jis_to_sjis(j1, j2).decode("cp932")
            except UnicodeDecodeError:
                continue
            code = j1 << 8 | j2
            decode[code] = char
            encode.setdefault(char, code)  # first wins: standard rows before NEC/IBM duplicates
    # Text decoded elsewhere with the JIS-standard mapping must still encode (Mac/iPhone mail).
    for char, code in {"\u301c": 0x2141, "\u2016": 0x2142, "\u2212": 0x215D, "\u00a2": 0x2171,
                       "\u00a3": 0x2172, "\u00ac": 0x224C, "\u2014": 0x213D}.items():
        encode.setdefault(char, code)
    return decode, encode


_X0208, _X0208_REVERSE = _build_tables()


@lru_cache(maxsize=4096)
def _via_python(codec: str, raw: bytes) -> str | None:
    try:
        return raw.decode(codec)
    except UnicodeDecodeError:
        return None


def _lookup(charset: str, j1: int, j2: int) -> str | None:
    """The character of a 7-bit double-byte code in one of the JIS double-byte sets."""
    if charset == "x0208":
        return _X0208.get(j1 << 8 | j2)
    euc = bytes((j1 | 0x80, j2 | 0x80))
    if charset == "x0212":
        return _via_python("euc_jp", b"\x8f" + euc)
    if charset == "x0213":
        return _via_python("euc_jis_2004", euc)
    return _via_python("euc_jis_2004", b"\x8f" + euc)  # JIS X 0213 plane 2


# --------------------------------------------------------------------------------------------
# the two codecs

_DESIGNATIONS: dict[bytes, str | None] = {
    b"\x1b(B": "ascii", b"\x1b(J": "ascii", b"\x1b(H": "ascii",  # JIS Roman read as ASCII
    b"\x1b(I": "kana",
    b"\x1b$@": "x0208", b"\x1b$B": "x0208", b"\x1b$(@": "x0208", b"\x1b$(B": "x0208",
    b"\x1b&@": None,  # JIS X 0208-1990 announcer: always followed by ESC $ B
    b"\x1b$(D": "x0212",
    b"\x1b$(O": "x0213", b"\x1b$(Q": "x0213", b"\x1b$(P": "x0213p2",
}
_JIS_ESCAPE = re.compile(rb"\x1b(?:\$[@B]|\$\([@BDOPQ]|\(I)")


def _error(errors: str, codec: str, data: bytes, start: int, end: int, reason: str
           ) -> tuple[str, int]:
    """Apply a Python error handler (strict raises; replace/ignore/... give text and position)."""
    handler = codecs.lookup_error(errors)
    text, pos = handler(UnicodeDecodeError(codec, data, start, end, reason))
    return text, pos if pos >= 0 else len(data) + pos  # handlers may count from the end


def _decode_jis(data: bytes, errors: str = "strict") -> tuple[str, int]:
    data = bytes(data)
    out: list[str] = []
    mode, shifted, i, n = "ascii", False, 0, len(data)
    while i < n:
        b = data[i]
        if b == 0x1B:
            seq = data[i : i + 4] if data[i : i + 4] in _DESIGNATIONS else data[i : i + 3]
            if seq in _DESIGNATIONS:
                mode = _DESIGNATIONS[seq] or mode
                i += len(seq)
                continue
            text, i = _error(errors, MS_JIS, data, i, i + 1, "unknown escape sequence")
        elif b in (0x0E, 0x0F):  # SO/SI: half-width katakana shift used by CP50222 writers
            shifted, i, text = b == 0x0E, i + 1, ""
        elif b >= 0x80:
            text, i = _error(errors, MS_JIS, data, i, i + 1, "8-bit byte in 7-bit ISO-2022-JP")
        elif b < 0x21 or b == 0x7F:  # controls and space pass through in every mode
            text, i = chr(b), i + 1
        elif shifted or mode == "kana":
            if b > 0x5F:
                text, i = _error(errors, MS_JIS, data, i, i + 1, "not a half-width katakana")
            else:
                text, i = chr(b + 0xFF40), i + 1
        elif mode == "ascii":
            text, i = chr(b), i + 1
        elif i + 1 >= n or not 0x21 <= data[i + 1] <= 0x7E:
            text, i = _error(errors, MS_JIS, data, i, i + 1, "truncated double-byte character")
        else:
            char = _lookup(mode, b, data[i + 1])
            if char is None:
                text, i = _error(errors, MS_JIS, data, i, i + 2, "unmapped JIS character")
            else:
                text, i = char, i + 2
        out.append(text)
    return "".join(out), n


def _decode_euc(data: bytes, errors: str = "strict") -> tuple[str, int]:
    data = bytes(data)
    out: list[str] = []
    i, n = 0, len(data)
    while i < n:
        b = data[i]
        if b < 0x80:
            text, i = chr(b), i + 1
        elif b == 0x8E and i + 1 < n and 0xA1 <= data[i + 1] <= 0xDF:
            text, i = chr(data[i + 1] + 0xFEC0), i + 2
        elif b == 0x8F and i + 2 < n and all(0xA1 <= x <= 0xFE for x in data[i + 1 : i + 3]):
            char = _lookup("x0212", data[i + 1] & 0x7F, data[i + 2] & 0x7F)
            if char is None:
                text, i = _error(errors, MS_EUC, data, i, i + 3, "unmapped JIS X 0212 character")
            else:
                text, i = char, i + 3
        elif 0xA1 <= b <= 0xFE and i + 1 < n and 0xA1 <= data[i + 1] <= 0xFE:
            char = _lookup("x0208", b & 0x7F, data[i + 1] & 0x7F)
            if char is None:
                text, i = _error(errors, MS_EUC, data, i, i + 2, "unmapped JIS character")
            else:
                text, i = char, i + 2
        else:
            text, i = _error(errors, MS_EUC, data, i, i + 1, "invalid EUC-JP byte")
        out.append(text)
    return "".join(out), n


def _encode(text: str, errors: str, jis: bool) -> tuple[bytes, int]:
    """Encode to ISO-2022-JP-MS (jis=True) or EUC-JP-MS; used for replies and round-trip tests."""
    codec = MS_JIS if jis else MS_EUC
    out, mode, i = bytearray(), "ascii", 0

    def switch(new: str) -> None:
        nonlocal mode
        if jis and new != mode:
            out.extend({"ascii": b"\x1b(B", "kana": b"\x1b(I", "x0208": b"\x1b$B"}[new])
        mode = new

    while i < len(text):
        char, code = text[i], ord(text[i])
        if code < 0x80:
            switch("ascii")
            out.append(code)
        elif 0xFF61 <= code <= 0xFF9F:
            switch("kana")
            out.extend(bytes((code - 0xFF40,)) if jis else bytes((0x8E, code - 0xFEC0)))
        elif char in _X0208_REVERSE:
            switch("x0208")
            jcode = _X0208_REVERSE[char]
            out.extend(jcode.to_bytes(2, "big") if jis else (jcode | 0x8080).to_bytes(2, "big"))
        else:
            handler = codecs.lookup_error(errors)
            exc = UnicodeEncodeError(codec, text, i, i + 1, "character not in JIS X 0208 / CP932")
            replacement, pos = handler(exc)
            raw = replacement if isinstance(replacement, bytes) else _encode(
                replacement, "strict", jis
            )[0]
            switch("ascii")
            out.extend(raw)
            i = pos if pos >= 0 else len(text) + pos  # handlers may count from the end
            continue
        i += 1
    switch("ascii")
    return bytes(out), len(text)


def _search(name: str) -> codecs.CodecInfo | None:
    if name.replace("-", "_") == MS_JIS:
        return codecs.CodecInfo(
            name=MS_JIS, encode=lambda t, e="strict": _encode(t, e, True), decode=_decode_jis
        )
    if name.replace("-", "_") == MS_EUC:
        return codecs.CodecInfo(
            name=MS_EUC, encode=lambda t, e="strict": _encode(t, e, False), decode=_decode_euc
        )
    return None


codecs.register(_search)


# --------------------------------------------------------------------------------------------
# charset labels

# Mail charset labels -> the codec that reads what the senders' software actually wrote.
_LABELS: dict[str, str] = {
    MS_JIS: "iso-2022-jp iso2022jp iso-2022-jp-1 iso-2022-jp-2 iso-2022-jp-3 iso-2022-jp-2004 "
    "iso-2022-jp-ms csiso2022jp csiso2022jp2 jis jis7 x-jis cp50220 cp50221 cp50222",
    "cp932": "shift-jis sjis x-sjis shift-jis-ms ms932 windows-31j cp932 ms-kanji csshiftjis "
    "cswindows31j x-ms-cp932 sjis-win sjis-open sjis-ms ibm-943 ibm943 x-mac-japanese",
    MS_EUC: "euc-jp eucjp x-euc-jp ujis x-euc cseucpkdfmtjapanese eucjp-ms euc-jp-ms eucjp-win "
    "eucjp-open cp51932",
    "shift_jis_2004": "shift-jisx0213 shift-jis-2004 sjis-2004",
    "euc_jis_2004": "euc-jisx0213 euc-jis-2004",
    "utf-8": "utf8 utf-8 unicode-1-1-utf-8 x-unicode20utf8",
    "utf-7": "utf7 utf-7 unicode-1-1-utf-7 x-unicode20utf7",
    "ascii": "us-ascii ascii ansi-x3.4-1968 iso646-us us",
    "gb18030": "gb2312 gbk x-gbk cp936 euc-cn csgb2312",
    "cp949": "ks-c-5601-1987 ks-c-5601 ksc5601 euc-kr cseuckr cp949",
    # WHATWG labels Python lacks: -i/-e mark logical/explicit bidi order, the bytes are the same.
    "iso8859_8": "iso-8859-8-i iso-8859-8-e csiso88598i csiso88598e logical visual",
    "iso8859_6": "iso-8859-6-i iso-8859-6-e csiso88596i csiso88596e",
    "cp874": "windows-874 dos-874",
    "koi8_r": "koi koi8",
    "koi8_u": "koi8-ru",
    "mac_cyrillic": "x-mac-ukrainian",
    "big5": "cn-big5 x-x-big5",
    "iso8859_15": "csisolatin9",
}
_ALIASES = {label: codec for codec, labels in _LABELS.items() for label in labels.split()}
# Python codecs that are not charsets a mail could be written in.
_NOT_MAIL_CHARSETS = {"undefined", "idna", "punycode", "raw-unicode-escape", "unicode-escape",
                      "mbcs", "oem", "charmap"}


def _label(declared: str) -> str:
    label = declared.strip().strip("\"'").strip().rstrip(";").strip().lower()
    return label.split("*", 1)[0].replace("_", "-")  # RFC 2231 language suffix: "utf-8*ja"


def codec_for(declared: str | None) -> str | None:
    """The Python codec to read a declared charset with; None for unknown/bogus labels."""
    if not declared:
        return None
    label = _label(declared)
    if label in _ALIASES:
        return _ALIASES[label]
    if label.startswith("x-") and (plain := codec_for(label[2:])):
        # Python's own codec first: other packages (extract-msg) register "x-..." variants of
        # their own, and the reading must not depend on what happened to be imported.
        return plain
    try:
        # The standard library's own codecs only: a package may register a codec under a
        # label Python lacks (extract-msg: "x-mac-cyrillic", "windows-874", ...) that reads
        # bytes differently, and only once it is imported (by the first .msg attachment), so
        # the same mail would read differently depending on what the process saw before.
        info = encodings.search_function(label) or _search(label)  # ours: see _search
    except (LookupError, ValueError):  # ValueError: labels with NUL bytes
        info = None
    if info is None:
        if not label.startswith("x-"):
            return None
        return codec_for(label[2:])  # "x-mac-cyrillic" and friends
    if not getattr(info, "_is_text_encoding", True) or info.name in _NOT_MAIL_CHARSETS:
        return None  # "base64", "rot13", "zlib"... are codecs, not charsets
    return info.name


# --------------------------------------------------------------------------------------------
# bytes


def _strict(data: bytes, codec: str) -> str | None:
    try:
        return data.decode(codec)
    except (UnicodeDecodeError, LookupError):
        return None


def _japanese_score(text: str) -> int:
    """How much of a text is ordinary full-width Japanese (kana, CJK punctuation, full-width
    forms). EUC-JP bytes read as CP932 turn into half-width katakana and stray kanji, never
    hiragana, so this tells the two apart when both decode."""
    return sum(
        1 for c in text
        if "\u3000" <= c <= "\u30ff" or "\uff01" <= c <= "\uff5e"
    )


_JIS_CODECS = frozenset({MS_JIS, "iso2022_jp", "iso2022_jp_1", "iso2022_jp_2", "iso2022_jp_2004",
                         "iso2022_jp_3", "iso2022_jp_ext"})
_ASCII_SUPERSETS = frozenset({"ascii", "utf-8", "cp932", MS_JIS, MS_EUC})
_PRIVATE_USE = re.compile("[\ue000-\uf8ff]")


def _strong_guesses(codec: str | None, has_escapes: bool) -> tuple[str, ...]:
    """Readings that are right whenever they decode at all."""
    jis = (MS_JIS, "iso2022_jp_2", "iso2022_jp_2004", "iso2022_jp_3") if has_escapes else ()
    # a Shift_JIS/EUC label on JIS X 0213 text (Mac, some phones)
    x0213 = {"cp932": ("shift_jis_2004",), MS_EUC: ("euc_jis_2004",)}.get(codec or "", ())
    return (*jis, *x0213, "utf-8")


def _is_plain_ascii(data: bytes) -> bool:
    """ASCII with no ISO-2022 shifts (ESC, and SO which CP50222 writers use for katakana)."""
    return data.isascii() and b"\x1b" not in data and b"\x0e" not in data


class _Attempts:
    """Strict decodings of one byte string, each tried once, remembering the first reading
    that decoded but looks wrong (Shift_JIS user-defined characters)."""

    def __init__(self, data: bytes, declared: str | None, codec: str | None) -> None:
        self.data, self.declared, self.codec = data, declared, codec
        self.has_escapes = bool(_JIS_ESCAPE.search(data))
        self.texts: dict[str, str | None] = {}
        self.doubtful: Decoded | None = None

    def text(self, codec: str) -> str | None:
        if codec not in self.texts:
            text = _strict(self.data, codec)
            if text is not None and self.has_escapes and "\x1b" in text:
                text = None  # 7-bit JIS "decodes" as UTF-8 too, escapes and all
            self.texts[codec] = text
        return self.texts[codec]

    def first_clean(self, codecs_: tuple[str, ...]) -> Decoded | None:
        for codec in codecs_:
            text = self.text(codec)
            if text is None:
                continue
            decoded = Decoded(text, codec, _guess_note(self.declared, self.codec, codec))
            if not _PRIVATE_USE.search(text):
                return decoded
            self.doubtful = self.doubtful or decoded
        return None

    def clearly_japanese(self) -> bool:
        """A CP932 or EUC-JP reading with kana or CJK punctuation, or made only of everyday
        kanji (JIS level 1): Japanese comes first, whatever else the bytes could be."""
        return any(any("\u3000" <= ch <= "\u30ff" for ch in t)
                   or all(ch.isascii() or _everyday_kanji(ch) for ch in t)
                   for t in (self.text("cp932"), self.text(MS_EUC)) if t)

    def japanese_order(self) -> tuple[str, ...]:
        """CP932 first, unless EUC-JP reads as clearly more Japanese: EUC-JP bytes read as
        CP932 turn into half-width katakana and stray kanji, never hiragana."""
        as_sjis, as_euc = self.text("cp932"), self.text(MS_EUC)
        if (as_sjis is not None and as_euc is not None
                and _japanese_score(as_euc) > _japanese_score(as_sjis)):
            return (MS_EUC, "cp932")
        return ("cp932", MS_EUC)


def _decode_bytes(data: bytes, declared: str | None) -> Decoded:
    codec = codec_for(declared)
    if _is_plain_ascii(data) and codec in (None, *_ASCII_SUPERSETS):
        return Decoded(data.decode("ascii"), codec or "ascii", None)
    attempts = _Attempts(data, declared, codec)
    # a non-JIS label on data with JIS escapes is wrong: ASCII/UTF-8 would keep the escapes
    if codec and not (attempts.has_escapes and codec not in _JIS_CODECS):
        text = attempts.text(codec)
        if text is not None:
            return Decoded(text, codec, None)
    found = attempts.first_clean(_strong_guesses(codec, attempts.has_escapes))
    if found:
        return found
    if attempts.has_escapes:  # JIS with an unmapped character (carrier emoji): keep JIS
        return attempts.doubtful or _lenient(data, declared, codec)
    return (
        _damaged_utf8(data, declared)
        or (None if attempts.clearly_japanese() else _cyrillic(data, declared, codec))
        or attempts.first_clean(attempts.japanese_order())
        or _western(data, declared, codec)
        or attempts.doubtful
        or _lenient(data, declared, codec)
    )


def _everyday_kanji(ch: str) -> bool:
    try:
        code = int.from_bytes(ch.encode("cp932"), "big")
    except UnicodeEncodeError:
        return False
    return 0x889F <= code <= 0x9872  # JIS X 0208 level 1


# Letter frequencies of Russian text (percent; Ukrainian letters at their Ukrainian rate), for
# telling the Cyrillic 8-bit code pages apart: each reads the others' bytes as other letters.
_CYRILLIC_FREQ = {
    "о": 10.97, "е": 8.45, "а": 8.01, "и": 7.35, "н": 6.70, "т": 6.26, "с": 5.47, "р": 4.73,
    "в": 4.54, "л": 4.40, "к": 3.49, "м": 3.21, "д": 2.98, "п": 2.81, "у": 2.62, "я": 2.01,
    "ы": 1.90, "ь": 1.74, "г": 1.70, "з": 1.65, "б": 1.59, "ч": 1.44, "й": 1.21, "х": 0.97,
    "ж": 0.94, "ш": 0.73, "ю": 0.64, "ц": 0.48, "щ": 0.36, "э": 0.32, "ф": 0.26, "ъ": 0.04,
    "ё": 0.3,  # rare only because most writers put е; where ё is written it is ordinary
    "і": 3.0, "ї": 0.6, "є": 0.4, "ґ": 0.05, "ў": 0.3,
}
_CYRILLIC_VOWELS = set("аеёиоуыэюяіїєў")
# Preferred first where two read the same (KOI8-U is KOI8-R plus Ukrainian letters).
_CYRILLIC_CODECS = ("koi8_r", "cp1251", "cp866", "iso8859_5", "koi8_u")
_CYRILLIC_PUNCT = set("«»—–№…“”„’\u00a0")
_CYRILLIC_WORD = re.compile(r"[^\W\d_]+")
_V, _C = "аеёиоуыэюяіїєў", "бвгджзклмнпрстфхцчшщґ"
# Letter sequences Slavic words do not have: three vowels, five consonants, a soft/hard sign
# or й after a vowel (or ь/ъ after й), ы after a vowel or a sign.
_UNRUSSIAN = re.compile(
    f"[{_V}]{{3}}|[{_C}]{{5}}|[{_V}й][ьъ]|[{_C}ьъ]й|[{_V}ьъ]ы")


def _cyrillic_score(text: str) -> float | None:
    """Mean log letter frequency of a reading, or None when it cannot be Cyrillic text: a
    non-ASCII character that is no Cyrillic letter (box drawing, symbols), Latin letters glued
    to Cyrillic ones, a word in impossible case (пРИВЕТ) or shape (no vowels, all vowels, a
    leading ь/ъ/ы), or too little to judge: short capitals only (ЯККЯ is any two kanji)."""
    letters, total, telling_words = 0, 0.0, 0
    for ch in text:
        if ch >= "\x80" and ch.lower() not in _CYRILLIC_FREQ and ch not in _CYRILLIC_PUNCT:
            return None
    for word in _CYRILLIC_WORD.findall(text):
        if word.isascii():
            continue
        lower = word.lower()
        if not all(ch in _CYRILLIC_FREQ for ch in lower):
            return None  # Latin and Cyrillic in one word
        if not (word.islower() or word.isupper() or (word[0].isupper() and word[1:].islower())):
            return None
        vowels = sum(ch in _CYRILLIC_VOWELS for ch in lower)
        if (lower[0] in "ьъы" or _UNRUSSIAN.search(lower)
                or len(lower) >= 4 and not 0.2 <= vowels / len(lower) <= 0.75):
            return None
        telling_words += len(word) >= 6 or (len(word) >= 3 and not word.isupper())
        letters += len(lower)
        total += sum(math.log10(_CYRILLIC_FREQ[ch]) for ch in lower)
    if letters < 5 or not telling_words:
        return None
    return total / letters


def _cyrillic(data: bytes, declared: str | None, codec: str | None) -> Decoded | None:
    """Undeclared 8-bit Cyrillic (KOI8-R, CP1251, CP866, ISO-8859-5): the reading whose letters
    look like Russian/Ukrainian text, only when exactly one code page reads that way clearly."""
    scored = []
    for order, candidate in enumerate(_CYRILLIC_CODECS):
        text = _strict(data, candidate)
        score = _cyrillic_score(text) if text is not None else None
        if score is not None:
            scored.append((-score, order, candidate, text))
    if not scored:
        return None
    scored.sort()
    scored = [(-s, c, t) for s, _, c, t in scored]
    best_score, best_codec, best_text = scored[0]
    # Real text averages about 0.6; letters drawn at random from another code page's places
    # fall well below. A near tie between two code pages is no clear reading.
    rivals = [s for s, c, t in scored[1:] if t != best_text]
    if best_score < 0.25 or (rivals and best_score - rivals[0] < 0.15):
        return None
    return Decoded(best_text, best_codec, _guess_note(declared, codec, best_codec))


def guess_cyrillic(data: bytes) -> str | None:
    """8-bit bytes read as Cyrillic when exactly one Cyrillic code page reads them clearly (for
    zip member names, which carry no charset); None otherwise."""
    found = _cyrillic(data, None, None)
    return found.text if found else None


def _damaged_utf8(data: bytes, declared: str | None) -> Decoded | None:
    """UTF-8 with a few broken bytes (a cut multibyte character) is still UTF-8."""
    text = data.decode("utf-8", "replace")
    bad = text.count("\ufffd")
    good = sum(1 for c in text if c > "\x7f") - bad
    if bad and good >= 2 * bad:
        label = f"declared {declared}" if declared else "no charset declared"
        return Decoded(text, "utf-8", f"{label}: replacement characters ({bad}) in utf-8")
    return None


def _western(data: bytes, declared: str | None, codec: str | None) -> Decoded | None:
    """Raw Latin-1/CP1252 ("Frösche") reads better as that than as Shift_JIS user-defined
    characters or replacement characters."""
    text = _strict(data, "cp1252")
    return None if text is None else Decoded(text, "cp1252", _guess_note(declared, codec, "cp1252"))


# Labels read with the Microsoft codec first whose own Python codec is just as right when the
# text uses what only they have (ISO-2022-JP-2 Latin/Greek/Korean, JIS X 0213).
_FAITHFUL = {"iso-2022-jp-2": "iso2022_jp_2", "csiso2022jp2": "iso2022_jp_2",
             "iso-2022-jp-3": "iso2022_jp_3", "iso-2022-jp-2004": "iso2022_jp_2004"}


def _guess_note(declared: str | None, codec: str | None, used: str) -> str | None:
    if declared and _FAITHFUL.get(_label(declared)) == used:
        return None
    if codec:
        return f"declared {declared} failed, decoded as {used}"
    if declared:
        return f"unknown charset {declared!r}, decoded as {used}"
    # Undeclared UTF-8 is what RFC 6532 headers and modern mailers send: not worth a note.
    return None if used == "utf-8" else f"no charset declared, guessed {used}"


def _lenient(data: bytes, declared: str | None, codec: str | None) -> Decoded:
    """Nothing decodes cleanly: keep the reading that loses the fewest characters."""
    candidates = [c for c in (codec, MS_JIS if _JIS_ESCAPE.search(data) else None, "utf-8",
                              "cp932", MS_EUC) if c]
    best_codec, best_text, best_bad = "utf-8", "", len(data) + 1
    for candidate in candidates:
        try:
            text = data.decode(candidate, "replace")
        except LookupError:
            continue
        bad = text.count("\ufffd") + text.count("\x1b")
        if bad < best_bad:
            best_codec, best_text, best_bad = candidate, text, bad
    label = f"declared {declared}" if declared else "no charset declared"
    note = f"{label}: replacement characters ({best_bad}) after decoding as {best_codec}"
    return Decoded(best_text, best_codec, note)


def decode_bytes(data: bytes, declared: str | None) -> Decoded:
    """Decode a body part or header fragment: the declared charset first, then the usual
    Japanese suspects (JIS escapes, UTF-8, CP932, EUC-JP), finally with replacement characters.
    Line endings are left as they are."""
    if isinstance(data, str):  # be forgiving: a caller handing over text gets it back
        data = _text_bytes(data)
    try:
        return _decode_bytes(bytes(data), declared)
    except Exception as exc:  # the contract is "never raises": say what broke instead
        text = bytes(data).decode("utf-8", "replace")
        return Decoded(text, "utf-8", f"decoding failed ({type(exc).__name__}: {exc})")


# --------------------------------------------------------------------------------------------
# headers

_ENCODED_WORD = re.compile(rb"=\?([^?\s]+)\?([bBqQ])\?([^?]*)\?=")
_FOLD = re.compile(rb"\r?\n(?=[ \t])")


def _text_bytes(text: str) -> bytes:
    """Back to bytes: surrogate escapes (compat32's raw 8-bit) become the original bytes."""
    try:
        return text.encode("utf-8", "surrogateescape")
    except UnicodeEncodeError:  # a lone surrogate that no parser produced: keep the rest
        return text.encode("utf-8", "replace")


def _header_bytes(value: object) -> bytes:
    """The raw bytes of what compat32 hands out (surrogate-escaped str, Header, bytes, None)."""
    if value is None:
        return b""
    if isinstance(value, bytes | bytearray | memoryview):
        return bytes(value)
    if isinstance(value, email.header.Header):
        # compat32 wraps 8-bit headers in a Header whose chunks hold surrogate-escaped text.
        chunks = getattr(value, "_chunks", None)
        if chunks is None:
            return _text_bytes(str(value))
        return b"".join(_text_bytes(str(s)) for s, _ in chunks)
    return _text_bytes(str(value))


def _unfold(raw: bytes) -> bytes:
    return _FOLD.sub(b"", raw).replace(b"\r", b"").replace(b"\n", b"")


def _b64decode(payload: bytes) -> tuple[bytes, str | None]:
    """Base64 that forgives missing or extra padding, whitespace and concatenated chunks."""
    try:
        return base64.b64decode(payload, validate=True), None
    except (binascii.Error, ValueError):
        pass
    out = bytearray()
    for chunk in re.split(rb"=+", re.sub(rb"[^A-Za-z0-9+/=]", b"", payload)):
        if len(chunk) % 4 == 1:
            chunk = chunk[:-1]  # a lone 6-bit group carries no whole byte
        if chunk:
            out += base64.b64decode(chunk + b"=" * (-len(chunk) % 4))
    return bytes(out), "bad base64 in encoded word"


def _words(raw: bytes) -> Iterator[tuple[str | None, bytes, str | None]]:
    """Split a header into (charset, bytes, problem) runs; charset None marks unencoded text.
    Adjacent encoded words with the same charset are joined before decoding, because mailers
    split a multibyte character (or a JIS escape run) across two words."""
    pos = 0
    pending: tuple[str, bytearray, list[str]] | None = None
    for match in _ENCODED_WORD.finditer(raw):
        gap = raw[pos : match.start()]
        charset = match[1].decode("ascii", "replace")
        if match[2] in b"bB":
            payload, problem = _b64decode(match[3])
        else:
            payload, problem = binascii.a2b_qp(match[3], header=True), None
        between_words = pending is not None and not gap.strip(b" \t")
        if between_words and _label(pending[0]) == _label(charset):
            pending[1].extend(payload)
        else:
            if pending is not None:
                yield pending[0], bytes(pending[1]), "; ".join(pending[2]) or None
            if gap and not between_words:
                yield None, gap, None
            pending = (charset, bytearray(payload), [])
        if problem:
            pending[2].append(problem)
        pos = match.end()
    if pending is not None:
        yield pending[0], bytes(pending[1]), "; ".join(pending[2]) or None
    if raw[pos:]:
        yield None, raw[pos:], None


def _decode_header(raw: bytes) -> Decoded:
    texts: list[str] = []
    problems: list[str] = []
    charset = "ascii"
    for declared, data, problem in _words(_unfold(raw)):
        if declared is None and _is_plain_ascii(data):
            texts.append(data.decode("ascii"))
            continue
        decoded = decode_bytes(data, declared)
        # a line break inside an encoded word ("テスト\n") has no place in a header value
        texts.append(decoded.text.replace("\r", "").replace("\n", ""))
        if charset == "ascii" and not decoded.text.isascii():
            charset = decoded.charset
        for note in (problem, decoded.problem):
            if note and note not in problems:
                problems.append(note)
    return Decoded("".join(texts), charset, "; ".join(problems) or None)


def decode_header(value: object) -> Decoded:
    """Decode a header value as compat32 gives it: RFC 2047 words (B and Q, split characters,
    sloppy base64), raw 8-bit bytes (UTF-8, CP932, JIS), folded lines. Never raises."""
    try:
        return _decode_header(_header_bytes(value))
    except Exception as exc:  # the contract is "never raises": say what broke instead
        text = str(value) if value is not None else ""
        return Decoded(text, "ascii", f"header decoding failed ({type(exc).__name__}: {exc})")


# --------------------------------------------------------------------------------------------
# attachment names


_NEXT_PARAM = re.compile(rb";\s*[A-Za-z0-9*_.-]+\s*=")


def _quoted(raw: bytes, i: int) -> tuple[bytes, int]:
    """Read a quoted-string starting after its opening quote. Raw JIS runs are taken literally
    (JIS "あ" is the bytes $"); a backslash after an 8-bit byte is a Shift_JIS trail byte
    (ソ is 83 5C), not an escape; a missing closing quote ends at the next "; name=" ."""
    out, jis, n = bytearray(), False, len(raw)
    while i < n:
        b = raw[i]
        if b == 0x1B:
            jis = raw[i + 1 : i + 2] == b"$" or (jis and raw[i + 1 : i + 2] == b"&")
        elif not jis and b == 0x22:
            return bytes(out), i + 1
        elif not jis and b == 0x3B and _NEXT_PARAM.match(raw, i):
            return bytes(out), i
        elif (not jis and b == 0x5C and i + 1 < n and raw[i + 1] in b'"\\'
              and not (out and out[-1] >= 0x80)):
            i += 1
            b = raw[i]
        out.append(b)
        i += 1
    return bytes(out), i  # unterminated quote: take the rest


def _token(raw: bytes, i: int) -> tuple[bytes, int]:
    """An unquoted value runs to the next ';' (leniently: it may hold encoded words and stray
    quotes, as in name==?UTF-8?B?...?=")."""
    start, jis, n = i, False, len(raw)
    while i < n and (jis or raw[i] != 0x3B):
        if raw[i] == 0x1B:
            jis = raw[i + 1 : i + 2] == b"$"
        i += 1
    return raw[start:i].strip(b' \t"'), i


def _value(raw: bytes, i: int) -> tuple[bytes, int]:
    """A parameter value: quoted, unquoted, or a quoted part followed by more text before the
    next ';' (name=""=?UTF-8?B?...?=" from a broken mailer)."""
    if i >= len(raw) or raw[i] != 0x22:
        return _token(raw, i)
    value, i = _quoted(raw, i + 1)
    rest, i = _token(raw, i)
    return value + rest, i


def _params(raw: bytes) -> list[tuple[str, bytes]]:
    """The name=value parameters of a Content-Type/Content-Disposition value, raw bytes kept."""
    params: list[tuple[str, bytes]] = []
    i, n = 0, len(raw)
    while i < n:
        while i < n and raw[i] in b" \t;":
            i += 1
        start = i
        while i < n and raw[i] not in b"=;":
            i += 1
        if i >= n or raw[i] == 0x3B:
            continue  # the type itself ("attachment", "text/plain") or a stray word
        name = raw[start:i].strip().lower().decode("ascii", "replace")
        i += 1
        while i < n and raw[i] in b" \t":
            i += 1
        value, i = _value(raw, i)
        params.append((name, value))
    return params


_PERCENT = re.compile(rb"%([0-9A-Fa-f]{2})")


def _rfc2231(params: list[tuple[str, bytes]], base: str) -> Decoded | None:
    """Join RFC 2231 sections (name*, name*0*, name*1 ...) as bytes, then decode once, so a
    character split between sections survives."""
    sections: dict[int, tuple[bool, bytes]] = {}
    pattern = re.compile(re.escape(base) + r"\*(?:(\d{1,3})(\*?))?")
    for name, value in params:
        match = pattern.fullmatch(name)
        if match is None:
            continue
        number = int(match[1]) if match[1] else 0
        extended = match[1] is None or bool(match[2])
        sections.setdefault(number, (extended, value))
    if not sections:
        return None
    charset: str | None = None
    joined = bytearray()
    for number in sorted(sections):
        extended, value = sections[number]
        if extended and number == min(sections) and value.count(b"'") >= 2:
            label, _lang, value = value.split(b"'", 2)
            charset = label.decode("ascii", "replace") or None
        joined += _PERCENT.sub(lambda m: bytes((int(m[1], 16),)), value) if extended else value
    if charset:
        return decode_bytes(bytes(joined), charset)
    return decode_header(bytes(joined))  # no charset: may hold encoded words or raw 8-bit


def _named(params: list[tuple[str, bytes]], base: str) -> Decoded | None:
    found = _rfc2231(params, base)
    if found is not None and found.text.strip():
        return found
    for name, value in params:
        if name == base:
            plain = decode_header(value)  # RFC 2047 inside quotes, raw 8-bit, raw JIS
            if plain.text.strip():
                return plain
    return None


_NAME_SOURCES = (("Content-Disposition", "filename"), ("Content-Disposition", "name"),
                 ("Content-Type", "name"), ("Content-Type", "filename"))


def _part_filename(part: email.message.Message) -> Decoded | None:
    parsed: dict[str, list[tuple[str, bytes]]] = {}
    for header, base in _NAME_SOURCES:
        if header not in parsed:
            parsed[header] = _params(_unfold(_header_bytes(part.get(header))))
        found = _named(parsed[header], base)
        if found is not None:
            return found
    return None


def part_filename(part: email.message.Message) -> Decoded | None:
    """The attachment name of a MIME part, decoded; None when the part has no name."""
    try:
        return _part_filename(part)
    except Exception as exc:  # the contract is "never raises": say what broke instead
        return Decoded("", "ascii", f"file name could not be read ({type(exc).__name__}: {exc})")


__all__ = ["MS_EUC", "MS_JIS", "Decoded", "codec_for", "decode_bytes", "decode_header",
           "part_filename"]
