"""The attachments carried inside a TNEF winmail.dat or an Outlook .msg, as names and bytes."""

from __future__ import annotations

import io
from collections.abc import Iterator


def tnef_attachments(data: bytes) -> list[tuple[str, bytes]]:
    """Name and bytes of each attachment of a TNEF stream; raises when it cannot be parsed."""
    import tnefparse

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
