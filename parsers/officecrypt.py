"""Encrypted Office files: whether one is an OOXML package, and its decryption with a password."""

from __future__ import annotations

import io

EXCEL_DEFAULT_PASSWORD = "VelvetSweatshop"


def is_ooxml_package(data: bytes) -> bool:
    import olefile

    try:
        with olefile.OleFileIO(io.BytesIO(data)) as ole:
            return bool(ole.exists("EncryptedPackage"))
    except Exception:
        return False


def office_spin_count(data: bytes) -> int:
    """Hash rounds the file's key derivation asks for, read from its EncryptionInfo before any
    key is derived (0 for schemes with a fixed count, or when the info cannot be read)."""
    import msoffcrypto

    try:
        office = msoffcrypto.OfficeFile(io.BytesIO(data))
    except Exception:
        return 0  # office_decrypt reports the file as unreadable
    if getattr(office, "format", "") != "ooxml" or getattr(office, "type", "") != "agile":
        return 0  # legacy and standard encryption use fixed counts (at most 50,000)
    return int(office.info["spinValue"])  # type: ignore[attr-defined]


def office_decrypt(data: bytes, password: str) -> bytes:
    """Decrypt with msoffcrypto-tool; InvalidKeyError when the password is wrong."""
    import msoffcrypto

    office = msoffcrypto.OfficeFile(io.BytesIO(data))
    try:
        # OOXML checks the password only when asked to; legacy formats always check it and
        # do not accept the keyword.
        office.load_key(password=password, verify_password=True)
    except TypeError:
        office.load_key(password=password)
    out = io.BytesIO()
    office.decrypt(out)
    return out.getvalue()
