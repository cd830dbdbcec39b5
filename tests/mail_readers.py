"""How our replies read on the other side: Python's email package, and a plain RFC 2047
decoder written from the RFC (not from replies/), the way a mail reader joins encoded words.

Neither uses the project's own codecs: ISO-2022-JP is decoded with Python's strict
`iso2022_jp`, as a receiver without Microsoft's extensions does, so a character only Windows
can read shows up as U+FFFD (or a decoding error) here.
"""

from __future__ import annotations

import base64
import email
import quopri
import re
from dataclasses import dataclass
from email.policy import default

_WORD = re.compile(r"=\?([^?\s]+)\?([BbQq])\?([^?\s]*)\?=")


def decode_word(charset: str, encoding: str, text: str) -> str:
    data = (base64.b64decode(text) if encoding in "Bb"
            else quopri.decodestring(text.replace("_", " ").encode("ascii"), header=True))
    return data.decode(charset.split("*")[0].lower(), errors="strict")


def rfc2047(value: str, *, space_between_words: bool = False) -> str:
    """Unfold, then decode each encoded word on its own. Whitespace between two adjacent
    encoded words is dropped (RFC 2047 §6.2) — or kept as one space, the way address parsers
    (Python's `get_phrase` among them) treat the words of a display name."""
    value = re.sub(r"\r?\n[ \t]", " ", value)
    out: list[str] = []
    pos, previous_was_word = 0, False
    for match in _WORD.finditer(value):
        between = value[pos:match.start()]
        if not (previous_was_word and between.strip() == ""):
            out.append(between)
        elif space_between_words:
            out.append(" ")
        out.append(decode_word(*match.groups()))
        pos, previous_was_word = match.end(), True
    out.append(value[pos:])
    return "".join(out)


@dataclass(frozen=True)
class Read:
    subject: str  # as Python's email package reads it
    display_name: str
    texts: list[str]  # every text/plain part, decoded, CRLF → LF
    raw_headers: dict[str, str]


def read(raw: bytes) -> Read:
    """A reply as Python's email package (default policy) reads it."""
    msg = email.message_from_bytes(raw, policy=default)
    texts = [part.get_content().replace("\r\n", "\n") for part in msg.walk()
             if part.get_content_type() == "text/plain"]
    head = email.message_from_bytes(raw)  # compat32: the header values as written
    return Read(str(msg["Subject"]), msg["From"].addresses[0].display_name, texts,
                {k: str(v) for k, v in head.items()})


def shown_text(raw: bytes) -> str:
    """The text a mail program shows: the last text/plain alternative (RFC 2046 §5.1.4)."""
    return read(raw).texts[-1]
