"""Mail bytes decoded in their declared charset or, failing that, the likeliest guess; never raises."""

from __future__ import annotations

import re
from dataclasses import dataclass
from itertools import islice

from parsers.charsetlabels import charset_label, codec_for
from parsers.cyrillic import cyrillic_reading
from parsers.japanese import (
    euc_reads_better,
    halfwidth_katakana_text,
    japanese_score,
    jis_level1_kanji,
)
from parsers.jiscodecs import JIS_ESCAPE, MS_EUC, MS_JIS

_NON_ASCII = re.compile("[^\x00-\x7f]")
_BEYOND_TWO_BYTES = re.compile("[^\x00-\u07ff\ufffd]")  # a UTF-8 character of three bytes or more


@dataclass(frozen=True)
class Decoded:
    text: str
    charset: str  # python codec actually used, e.g. "cp932", "utf-8", "iso2022_jp_ms"
    problem: str | None  # None when clean; else a short note for the message's problem list


def _strict(data: bytes, codec: str) -> str | None:
    try:
        return data.decode(codec)
    except (UnicodeDecodeError, LookupError):
        return None


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


def is_plain_ascii(data: bytes) -> bool:
    """ASCII with no ISO-2022 shifts (ESC, and SO which CP50222 writers use for katakana)."""
    return data.isascii() and b"\x1b" not in data and b"\x0e" not in data


class _Attempts:
    """Strict decodings of one byte string, each tried once, remembering the first reading
    that decoded but looks wrong (Shift_JIS user-defined characters)."""

    def __init__(self, data: bytes, declared: str | None, codec: str | None) -> None:
        self.data, self.declared, self.codec = data, declared, codec
        self.has_escapes = bool(JIS_ESCAPE.search(data))
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
                   or all(ch.isascii() or jis_level1_kanji(ch) for ch in t)
                   for t in (self.text("cp932"), self.text(MS_EUC)) if t)

    def halfwidth_katakana(self) -> bool:
        """Whether the CP932 reading is well-formed half-width katakana among ASCII, and the
        UTF-8 one (whole or damaged) no more than two-byte characters: ｵﾈｶﾞｲ is also "valid"
        UTF-8 (Greek, Thaana), but no Japanese writer sends that."""
        as_sjis = self.text("cp932")
        if as_sjis is None or not halfwidth_katakana_text(as_sjis):
            return False  # asked first: it is cheap to refuse, and large texts end here
        as_utf8 = self.data.decode("utf-8", "replace")
        if _BEYOND_TWO_BYTES.search(as_utf8):
            return False
        # One lone character (½, ±) is too little to overrule a clean UTF-8 reading.
        return len(list(islice(_NON_ASCII.finditer(as_utf8), 2))) >= 2 or "\ufffd" in as_utf8

    def euc_kana(self) -> bool:
        """Whether the bytes are EUC-JP with kana. EUC-JP katakana can pass for UTF-8 with one
        broken byte (ヒラタ -> �ҥ饿), while UTF-8 Japanese is seldom EUC-JP at all: its
        continuation bytes 0x80-0xA0 start no EUC-JP pair."""
        as_euc = self.text(MS_EUC)
        return as_euc is not None and japanese_score(as_euc) > 0

    def japanese_order(self) -> tuple[str, ...]:
        """CP932 first, unless EUC-JP reads better (`euc_reads_better`)."""
        as_sjis, as_euc = self.text("cp932"), self.text(MS_EUC)
        if as_sjis is not None and as_euc is not None and euc_reads_better(as_sjis, as_euc):
            return (MS_EUC, "cp932")
        return ("cp932", MS_EUC)


def _decode_bytes(data: bytes, declared: str | None) -> Decoded:
    codec = codec_for(declared)
    if is_plain_ascii(data) and codec in (None, *_ASCII_SUPERSETS):
        return Decoded(data.decode("ascii"), codec or "ascii", None)
    attempts = _Attempts(data, declared, codec)
    # a non-JIS label on data with JIS escapes is wrong: ASCII/UTF-8 would keep the escapes
    if codec and not (attempts.has_escapes and codec not in _JIS_CODECS):
        text = attempts.text(codec)
        if text is not None:
            return Decoded(text, codec, None)
    found = attempts.first_clean(_strong_guesses(codec, attempts.has_escapes))
    if found and not (found.charset == "utf-8" and attempts.halfwidth_katakana()):
        return found
    if attempts.has_escapes:  # JIS with an unmapped character (carrier emoji): keep JIS
        return attempts.doubtful or _lenient(data, declared, codec)
    return (
        (None if attempts.halfwidth_katakana() or attempts.euc_kana()
         else _damaged_utf8(data, declared))
        or (None if attempts.clearly_japanese() else _cyrillic(data, declared, codec))
        or attempts.first_clean(attempts.japanese_order())
        or _western(data, declared, codec)
        or attempts.doubtful
        or _lenient(data, declared, codec)
    )


def _cyrillic(data: bytes, declared: str | None, codec: str | None) -> Decoded | None:
    found = cyrillic_reading(data)
    if found is None:
        return None
    used, text = found
    return Decoded(text, used, _guess_note(declared, codec, used))


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
    if declared and _FAITHFUL.get(charset_label(declared)) == used:
        return None
    if codec:
        return f"declared {declared} failed, decoded as {used}"
    if declared:
        return f"unknown charset {declared!r}, decoded as {used}"
    # Undeclared UTF-8 is what RFC 6532 headers and modern mailers send: not worth a note.
    return None if used == "utf-8" else f"no charset declared, guessed {used}"


def _lenient(data: bytes, declared: str | None, codec: str | None) -> Decoded:
    """Nothing decodes cleanly: keep the reading that loses the fewest characters."""
    candidates = [c for c in (codec, MS_JIS if JIS_ESCAPE.search(data) else None, "utf-8",
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
        data = text_bytes(data)
    try:
        return _decode_bytes(bytes(data), declared)
    except Exception as exc:  # the contract is "never raises": say what broke instead
        text = bytes(data).decode("utf-8", "replace")
        return Decoded(text, "utf-8", f"decoding failed ({type(exc).__name__}: {exc})")


def text_bytes(text: str) -> bytes:
    """Back to bytes: surrogate escapes (compat32's raw 8-bit) become the original bytes."""
    try:
        return text.encode("utf-8", "surrogateescape")
    except UnicodeEncodeError:  # a lone surrogate that no parser produced: keep the rest
        return text.encode("utf-8", "replace")
