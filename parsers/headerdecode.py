"""Header values as compat32 hands them out, decoded: RFC 2047 words, raw 8-bit and raw JIS."""

from __future__ import annotations

import base64
import binascii
import email.header
import re
from collections.abc import Iterator

from parsers.charsetlabels import charset_label
from parsers.textcodec import Decoded, decode_bytes, is_plain_ascii, text_bytes

_ENCODED_WORD = re.compile(rb"=\?([^?\s]+)\?([bBqQ])\?([^?]*)\?=")
_FOLD = re.compile(rb"\r?\n(?=[ \t])")


def header_bytes(value: object) -> bytes:
    """The raw bytes of what compat32 hands out (surrogate-escaped str, Header, bytes, None)."""
    if value is None:
        return b""
    if isinstance(value, bytes | bytearray | memoryview):
        return bytes(value)
    if isinstance(value, email.header.Header):
        # compat32 wraps 8-bit headers in a Header whose chunks hold surrogate-escaped text.
        chunks = getattr(value, "_chunks", None)
        if chunks is None:
            return text_bytes(str(value))
        return b"".join(text_bytes(str(s)) for s, _ in chunks)
    return text_bytes(str(value))


def unfold(raw: bytes) -> bytes:
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
        if between_words and charset_label(pending[0]) == charset_label(charset):
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
    for declared, data, problem in _words(unfold(raw)):
        if declared is None and is_plain_ascii(data):
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
        return _decode_header(header_bytes(value))
    except Exception as exc:  # the contract is "never raises": say what broke instead
        text = str(value) if value is not None else ""
        return Decoded(text, "ascii", f"header decoding failed ({type(exc).__name__}: {exc})")
