"""Is this file a mail? Maildir names a mail "1660094132.M1P1.host:2,S", not "x.eml", so the
content decides: an RFC 5322 header block that carries the headers every mail has."""

from __future__ import annotations

import re

_FIELD = re.compile(rb"^[!-9;-~]+:")  # a header field name: printable ASCII, no colon
_MAIL_HEADERS = (b"from", b"date", b"message-id", b"received", b"subject", b"return-path",
                 b"mime-version", b"delivered-to")


def looks_like_mail(data: bytes) -> bool:
    """True when `data` starts with a header block (an mbox "From " line allowed) that
    names at least two of the fields every delivered mail has."""
    lines = data[:65536].splitlines()
    if lines and lines[0].startswith(b"From "):
        lines = lines[1:]
    names: set[bytes] = set()
    for index, line in enumerate(lines):
        if not line.strip():
            break  # the end of the header block
        if line[:1] in (b" ", b"\t") and index:
            continue  # a folded continuation line
        if not _FIELD.match(line):
            return False
        names.add(line.split(b":", 1)[0].lower())
    return len(names & set(_MAIL_HEADERS)) >= 2 and b"from" in names
