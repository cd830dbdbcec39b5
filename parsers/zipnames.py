"""Zip member names decoded: UTF-8 flag, Info-ZIP Unicode Path, else a guess of the code page."""

from __future__ import annotations

import struct
import unicodedata
import zlib

from parsers.cyrillic import cyrillic_reading
from parsers.japanese import reads_as_halfwidth_japanese, reads_as_japanese


def decode_member_name(raw: bytes, flag_bits: int = 0, extra: bytes = b"") -> str:
    """Decode a zip member name, NFC-normalised.

    UTF-8 when flag bit 11 is set; else the Info-ZIP Unicode Path extra field (0x7075) when
    its CRC matches; else UTF-8 when the bytes are valid UTF-8 (macOS Archive Utility writes
    UTF-8 without the flag); else CP932 when it reads as full-width Japanese; else CP866, KOI8-R,
    CP1251 or ISO-8859-5 when exactly one reads as Cyrillic words; else CP932 when it reads as
    half-width katakana; else cp437 (DOS tools, and the zip format's default).
    """
    if flag_bits & 0x800:
        return unicodedata.normalize("NFC", raw.decode("utf-8", "replace"))
    return unicodedata.normalize("NFC", _unicode_path_extra(raw, extra) or _legacy_name(raw))


def _legacy_name(raw: bytes) -> str:
    try:
        return raw.decode("utf-8")  # ASCII, or UTF-8 written without the flag (macOS)
    except UnicodeDecodeError:
        pass
    try:
        candidate = raw.decode("cp932")
    except UnicodeDecodeError:
        candidate = None
    if candidate is not None and reads_as_japanese(candidate):
        return candidate
    cyrillic = cyrillic_reading(raw)  # Russian 7-Zip/WinRAR: CP866, KOI8-R
    if cyrillic:
        return cyrillic[1]
    if candidate is not None and reads_as_halfwidth_japanese(candidate):
        return candidate  # half-width katakana from Japanese Windows
    return raw.decode("cp437")


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
