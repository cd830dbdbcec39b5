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
