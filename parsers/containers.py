"""The attachments carried inside a TNEF winmail.dat or an Outlook .msg, as names and bytes."""

from __future__ import annotations

import io
import struct
from collections.abc import Iterator


def tnef_attachments(data: bytes) -> list[tuple[str, bytes]]:
    """Name and bytes of each attachment of a TNEF stream; raises when it cannot be parsed."""
    import tnefparse

    check_tnef_counts(data)  # tnefparse iterates every declared count, held or not
    tnef = tnefparse.TNEF(data)
    return [(_tnef_name(att), att.data if isinstance(att.data, bytes) else b"")
            for att in tnef.attachments]


def open_msg(data: bytes) -> object:
    """An Outlook .msg opened for `msg_attachments`; raises when it cannot be parsed."""
    import extract_msg

    return extract_msg.openMsg(io.BytesIO(data), strict=False)


def msg_attachments(msg: object) -> Iterator[tuple[int, str, bytes]]:
    """Index, name and bytes of each attachment of an opened .msg (a link to a cloud file has
    nothing attached to read and is passed over); closes the .msg when done."""
    try:
        for index, att in enumerate(msg.attachments):  # type: ignore[attr-defined]
            content = _msg_attachment_bytes(att)
            if content is None:
                continue
            name = getattr(att, "longFilename", None) or getattr(att, "shortFilename", None)
            if not name:
                embedded = not isinstance(getattr(att, "data", None), bytes)
                name = f"添付{index + 1}" + (".msg" if embedded else "")
            yield index, str(name), content
    finally:
        msg.close()  # type: ignore[attr-defined]


def _tnef_name(att: object) -> str:
    """tnefparse decodes names as UTF-8 and fails on CP932 ones: fall back to the code page."""
    try:
        name = att.long_filename()  # type: ignore[attr-defined]
    except Exception:
        name = getattr(att, "_name", b"")
    if isinstance(name, bytes):
        codepage = getattr(att, "codepage", None) or "cp932"
        try:
            name = name.decode(codepage)
        except (LookupError, UnicodeDecodeError):
            name = name.decode("cp932", "replace")
    return str(name).strip("\x00")


def _msg_attachment_bytes(att: object) -> bytes | None:
    data = getattr(att, "data", None)
    if isinstance(data, bytes):
        return data
    export = getattr(data, "exportBytes", None)  # an attached e-mail (embedded .msg)
    if callable(export):
        result = export()
        return result if isinstance(result, bytes) else None
    return None


class DeclaredCountTooLarge(ValueError):
    """A count in a TNEF stream that the bytes after it cannot hold: only a hostile writer
    declares one, and a reader that believes it loops up to four billion times."""

    def __init__(self, what: str, count: int) -> None:
        super().__init__(f"{what}: {count}")
        self.what, self.count = what, count


_ATT_MAPI_PROPS, _ATT_RECIPIENTS, _ATT_ATTACHMENT = 0x9003, 0x9004, 0x9005
_FIXED_SIZES = {0x0002: 2, 0x000B: 2, 0x0003: 4, 0x0004: 4, 0x000A: 4, 0x0005: 8, 0x0006: 8,
                0x0007: 8, 0x0014: 8, 0x0040: 8, 0x0048: 16}
_VARIABLE = {0x0000, 0x000D, 0x001E, 0x001F, 0x0102}
_MIN_PROPERTY = 8  # type, id and the smallest value (a padded 2-byte one)


def check_tnef_counts(data: bytes) -> None:
    """Raise DeclaredCountTooLarge when a property, value or recipient count declared in a
    TNEF stream exceeds what its bytes can hold. Walks the attributes as tnefparse does; a
    structure it cannot follow is left for tnefparse to refuse."""
    offset = 6  # signature and key
    while offset + 12 < len(data):
        name = struct.unpack_from("<H", data, offset + 1)[0]
        length = min(len(data) - offset, struct.unpack_from("<I", data, offset + 5)[0] + 11)
        body = data[offset + 9: offset + length - 2]
        offset += length
        try:
            if name in (_ATT_MAPI_PROPS, _ATT_ATTACHMENT):
                _check_properties(body, 0)
            elif name == _ATT_RECIPIENTS:
                rows = _count(body, 0, 4, "受信者の数")
                at = 4
                for _ in range(rows):
                    at = _check_properties(body, at)
        except (struct.error, _Unfollowable):
            continue


class _Unfollowable(Exception):
    pass


def _count(data: bytes, at: int, each: int, what: str) -> int:
    """The count at `at`, refused when `each` bytes apiece would not fit in what follows."""
    count = struct.unpack_from("<I", data, at)[0]
    if count > (len(data) - at - 4) // each:
        raise DeclaredCountTooLarge(what, count)
    return count


def _check_properties(data: bytes, at: int) -> int:
    """Check one MAPI property list starting at `at`; the offset after it."""
    count = _count(data, at, _MIN_PROPERTY, "プロパティの数")
    at += 4
    for _ in range(count):
        kind, ident = struct.unpack_from("<HH", data, at)
        at += 4
        if ident >= 0x8000:  # a named property: GUID, then a number or a name
            named = struct.unpack_from("<I", data, at + 16)[0]
            at += 20
            if named:
                size = struct.unpack_from("<I", data, at)[0]
                at += 4 + size + (-size % 4)
            else:
                at += 4
        values = None
        if kind & 0x1000:
            kind ^= 0x1000
            values = _count(data, at, 2, "値の数")
            at += 4
        for _ in range(values or 1):
            if kind in _FIXED_SIZES:
                at += _FIXED_SIZES[kind]
            elif kind in _VARIABLE:
                items = 1
                if values is None:
                    items = _count(data, at, 4, "値の数")
                    at += 4
                for _ in range(items):
                    size = struct.unpack_from("<I", data, at)[0]
                    at += 4 + size + (-size % 4)
            else:
                raise _Unfollowable
        if (values or 1) % 2 and kind in (0x0002, 0x000B):
            at += 2
    return at
