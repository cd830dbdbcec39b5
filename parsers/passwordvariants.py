"""The forms a typed archive password is tried in: as given, trimmed, NFKC; UTF-8 and CP932."""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence


def password_texts(passwords: Sequence[str]) -> list[str]:
    """Each password as given, trimmed, and NFKC-normalised (full-width characters typed in
    a Japanese mail), without repeats."""
    out: list[str] = []
    for pw in passwords:
        if not isinstance(pw, str):
            continue
        for variant in (pw, pw.strip(), unicodedata.normalize("NFKC", pw).strip()):
            if variant and variant not in out:
                out.append(variant)
    return out


def password_bytes(texts: list[str]) -> list[bytes]:
    """Zip passwords are bytes: UTF-8 (7-Zip, AES tools) and CP932 (Windows ZipCrypto tools)."""
    out: list[bytes] = []
    for text in texts:
        for encoding in ("utf-8", "cp932"):
            try:
                encoded = text.encode(encoding)
            except UnicodeEncodeError:
                continue
            if encoded not in out:
                out.append(encoded)
    return out
