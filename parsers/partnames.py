"""The attachment name of a MIME part, from its RFC 2231 / RFC 2047 / raw 8-bit parameters."""

from __future__ import annotations

import email.message
import re

from parsers.headerdecode import decode_header, header_bytes, unfold
from parsers.textcodec import Decoded, decode_bytes

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
            parsed[header] = _params(unfold(header_bytes(part.get(header))))
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
