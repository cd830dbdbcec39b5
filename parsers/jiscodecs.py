"""The two codecs Python lacks for Windows-written Japanese mail, registered on import."""

# What Windows mailers label ISO-2022-JP is Microsoft's CP50220/CP50221 (NEC row 13 ①㈱Ⅲ,
# NEC-selected IBM extensions such as 髙, half-width katakana via ESC ( I), read here as
# ``iso2022_jp_ms``; their EUC-JP is CP51932-like, read as ``euc_jp_ms``. Both map every
# JIS X 0208 code through CP932, which gives exactly the extension rows real mailers emit.

from __future__ import annotations

import codecs
import re
from functools import lru_cache

MS_JIS = "iso2022_jp_ms"
MS_EUC = "euc_jp_ms"

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
JIS_ESCAPE = re.compile(rb"\x1b(?:\$[@B]|\$\([@BDOPQ]|\(I)")


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


def search_codec(name: str) -> codecs.CodecInfo | None:
    if name.replace("-", "_") == MS_JIS:
        return codecs.CodecInfo(
            name=MS_JIS, encode=lambda t, e="strict": _encode(t, e, True), decode=_decode_jis
        )
    if name.replace("-", "_") == MS_EUC:
        return codecs.CodecInfo(
            name=MS_EUC, encode=lambda t, e="strict": _encode(t, e, False), decode=_decode_euc
        )
    return None


codecs.register(search_codec)
