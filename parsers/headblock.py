"""The header block of raw mail bytes: where it ends, and the bounds it is read within."""

from __future__ import annotations

import re


def split_head(raw: bytes) -> tuple[bytes, bytes]:
    """The header block and the body, at the first empty line (CRLF or LF)."""
    head, _, body = split_head_sep(raw)
    return head, body


def split_head_sep(raw: bytes) -> tuple[bytes, bytes, bytes]:
    head_end, body_start = head_bounds(raw)
    return raw[:head_end], raw[head_end:body_start], raw[body_start:]


def head_bounds(raw: bytes) -> tuple[int, int]:
    """Where the header block ends and the body starts: at the first empty line (CRLF or LF)."""
    crlf = raw.find(b"\r\n\r\n")
    # A LF LF only counts before the first CRLF CRLF: never scan a CRLF mail's whole body for it.
    lf = raw.find(b"\n\n", 0, len(raw) if crlf == -1 else crlf + 1)
    if crlf != -1 and (lf == -1 or crlf < lf):
        return crlf, crlf + 4
    if lf != -1:
        return lf, lf + 2
    return len(raw), len(raw)


# RFC 5322 allows 998 octets a line. The standard library's header parser copies a header
# several times over as text (a 39 MB header line peaked at 360 MB; 300,000 short fields at
# 170 MB), so a header block is read only within these bounds. Past them, only the first of each
# field the program reads is kept (cut short), so that a mail padded with junk headers is still
# read as the MIME structure it declares; the mail notes that the rest was left out.
_MAX_FIELD = 1 << 20  # one field, its continuation lines included
_MAX_HEAD = 2 << 20
_MAX_FIELDS = 10_000
_LATE_FIELD = 4096  # a field kept past the bounds is cut to this
_READ_FIELDS = frozenset({
    b"from", b"to", b"cc", b"subject", b"message-id", b"in-reply-to", b"references", b"date",
    b"received", b"return-path", b"reply-to", b"sender", b"mime-version", b"content-type",
    b"content-transfer-encoding", b"content-disposition", b"auto-submitted", b"x-loop",
    b"precedence", b"authentication-results", b"x-autoreply", b"x-auto-response-suppress",
})
HEAD_CUT = "ヘッダーが大きすぎるため、上限を超えた部分は読んでいません"


_READ_FIELD_LINE = re.compile(
    rb"^(" + b"|".join(re.escape(name) for name in sorted(_READ_FIELDS)) + rb")[ \t]*:[^\n]*",
    re.IGNORECASE | re.MULTILINE)


def bounded_head(head: bytes) -> bytes:
    """The header block within the bounds above; the same object when it already was."""
    if len(head) <= _MAX_FIELD and head.count(b"\n") < _MAX_FIELDS:
        return head
    out: list[bytes] = []
    size = fields = field_size = start = 0
    keep = True
    cut = False
    while start < len(head):
        end = head.find(b"\n", start)
        end = len(head) if end == -1 else end + 1
        line = head[start:end]
        if line[:1] not in (b" ", b"\t"):  # a new field
            if size >= _MAX_HEAD or fields >= _MAX_FIELDS:
                break
            fields += 1
            field_size = 0
            keep = True
        start = end
        if not keep:
            continue
        room = _MAX_FIELD - field_size
        if len(line) > room:
            line = line[:room].rstrip(b"\r\n") + b"\n"
            keep = False
            cut = True
        out.append(line)
        field_size += len(line)
        size += len(line)
    if start < len(head):  # past the bounds: the first of each field the program reads
        cut = True
        seen: set[bytes] = set()
        for m in _READ_FIELD_LINE.finditer(head, start):
            name = m.group(1).lower()
            if name not in seen:
                seen.add(name)
                out.append(m.group(0)[:_LATE_FIELD].rstrip(b"\r") + b"\n")
    if not cut:
        return head
    return b"".join(out).rstrip(b"\r\n")
