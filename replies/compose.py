"""Build the reply mail: threaded, marked auto-replied (RFC 3834), deterministic Message-ID.

Every header is encoded here rather than by the email package's folding, which splits a long
display name into two encoded words that address parsers (Python's too) join with a space.
"""

from __future__ import annotations

import base64
import hashlib
import unicodedata
from datetime import datetime
from email.message import Message
from email.policy import compat32
from email.utils import format_datetime, formataddr
from zoneinfo import ZoneInfo

from replies.charset import (
    JIS_LABEL,
    choose,
    display_name_word,
    encode_jis,
    fits_jis,
    header_words,
)

# No automatic folding: compat32 would fold before the display name's encoded word, leaving
# "From:" alone on its line. Headers are folded here, between whole words.
_SMTP_COMPAT32 = compat32.clone(linesep="\r\n", max_line_length=0)


_JST = ZoneInfo("Asia/Tokyo")


def reply_message_id(submission_id: int, kind: str, secretariat_address: str,
                     number: int = 1) -> str:
    # Deterministic: the same outbox row always has the same Message-ID, so a resend after a
    # crash can be recognised in the Sent folder and by the recipient's server. `number` counts
    # the notices of one kind a submission has had (a further mail left it still deficient).
    domain = secretariat_address.rpartition("@")[2] or "localhost"
    suffix = f".{number}" if number > 1 else ""
    return f"<renkei-intake.{submission_id}.{kind}{suffix}@{domain}>"


def compose(
    *,
    from_addr: str,
    from_name: str,
    to_addr: str,
    subject: str,
    body: str,
    message_id: str,
    in_reply_to: str | None,
    references: tuple[str, ...],
    date: datetime,
    charset: str = "utf-8",
) -> bytes:
    """The reply as SMTP-ready bytes (CRLF).

    `charset` "iso-2022-jp": the text part is ISO-2022-JP that every reader decodes; when the
    text has characters outside JIS X 0208 they are replaced there by standard equivalents
    and the original follows as a UTF-8 alternative (replies.charset). A line too long for
    7-bit JIS makes the whole mail UTF-8."""
    subject, from_name, to_addr = (header_text(v) for v in (subject, from_name, to_addr))
    jis = choose(charset, body).charset == "iso-2022-jp"
    # compat32 keeps the encoded words as written; the default policy would refold them.
    msg = Message(policy=_SMTP_COMPAT32)
    msg["From"] = _from_header(from_name, from_addr, jis)
    msg["To"] = to_addr
    msg["Subject"] = _fold("Subject", header_words(subject, jis).split(" "))
    # +0900, as Japanese mailers write it: a reader showing the raw header shows office time
    msg["Date"] = format_datetime(date.astimezone(_JST) if date.tzinfo else date)
    msg["Message-ID"] = message_id
    for name, value in _threading(_bare(in_reply_to or "") or None,
                                  tuple(filter(None, map(_bare, references)))):
        msg[name] = value
    msg["Auto-Submitted"] = "auto-replied"  # RFC 3834: other robots must not answer this mail
    msg["X-Auto-Response-Suppress"] = "All"  # keeps Exchange out-of-office answers away
    msg["MIME-Version"] = "1.0"
    text = body if body.endswith("\n") else body + "\n"
    if not jis:
        _text_part(msg, text, jis=False)
    elif fits_jis(text):
        _text_part(msg, text, jis=True)
    else:
        # The first part for readers of ISO-2022-JP only, the last (shown by today's mail
        # programs, RFC 2046 §5.1.4) with the text exactly as written.
        # A boundary from the Message-ID: the same reply is the same bytes (examples, tests).
        boundary = "=_alt_" + hashlib.sha256(message_id.encode("utf-8")).hexdigest()[:24]
        msg["Content-Type"] = f'multipart/alternative; boundary="{boundary}"'
        for is_jis in (True, False):
            part = Message(policy=_SMTP_COMPAT32)
            _text_part(part, text, jis=is_jis)
            msg.attach(part)
    return msg.as_bytes(policy=_SMTP_COMPAT32)


def _from_header(name: str, address: str, jis: bool) -> str:
    if not name:
        return address
    if name.isascii():
        return formataddr((name, address))
    return _fold("From", [display_name_word(name, jis), f"<{address}>"])


def _fold(header: str, words: list[str]) -> str:
    """Words joined by spaces, a line break before a word that would pass 78 characters."""
    lines = [f"{header}:"]
    for word in words:
        if len(lines[-1]) + 1 + len(word) > 78 and lines[-1] != f"{header}:":
            lines.append("")
        lines[-1] += f" {word}"
    return "\r\n".join(lines)[len(header) + 2:]


def _text_part(part: Message, text: str, *, jis: bool) -> None:
    if jis:
        part["Content-Type"] = f'text/plain; charset="{JIS_LABEL}"'
        part["Content-Transfer-Encoding"] = "7bit"
        part.set_payload(encode_jis(text).decode("ascii").replace("\n", "\r\n"))
        return
    part["Content-Type"] = 'text/plain; charset="utf-8"'
    part["Content-Transfer-Encoding"] = "base64"
    data = text.replace("\n", "\r\n").encode("utf-8")
    part.set_payload(base64.encodebytes(data).decode("ascii"))


def header_text(value: str) -> str:
    """`value` fit for a header line: control characters and line/paragraph separators (VT,
    FS, U+2028 …, which the email package reads as line breaks and refuses) become spaces.
    They come from applicants' text (a consortium name) and must never cost the reply."""
    cleaned = "".join(" " if unicodedata.category(ch) in ("Cc", "Zl", "Zp") else ch
                      for ch in value)
    return cleaned.strip(" ")


def _bare(message_id: str) -> str:
    """A Message-ID from the applicant's mail, without whitespace or control characters."""
    return "".join(header_text(message_id).split())


def _threading(in_reply_to: str | None, references: tuple[str, ...]) -> list[tuple[str, str]]:
    if not in_reply_to:
        return []
    chain = [r for r in references if r != in_reply_to]
    return [("In-Reply-To", in_reply_to),
            ("References", _fold("References", [*chain, in_reply_to][-10:]))]
