"""Build the reply mail: threaded, marked auto-replied (RFC 3834), deterministic Message-ID."""

from __future__ import annotations

import unicodedata
from datetime import datetime
from email.headerregistry import Address
from email.message import EmailMessage, Message
from email.policy import SMTP, compat32
from email.utils import format_datetime, formataddr

from replies.charset import choose, encode_jis, jis_encoded_words, jis_lines_fit

_SMTP_COMPAT32 = compat32.clone(linesep="\r\n")


def reply_message_id(submission_id: int, kind: str, secretariat_address: str) -> str:
    # Deterministic: the same outbox row always has the same Message-ID, so a resend after a
    # crash can be recognised in the Sent folder and by the recipient's server.
    domain = secretariat_address.rpartition("@")[2] or "localhost"
    return f"<renkei-intake.{submission_id}.{kind}@{domain}>"


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
    """The reply as SMTP-ready bytes (CRLF). `charset` "iso-2022-jp" is honoured when every
    character fits (replies.charset.choose); otherwise the mail is written in UTF-8."""
    subject, from_name, to_addr = (header_text(v) for v in (subject, from_name, to_addr))
    threading = _threading(_bare(in_reply_to or "") or None,
                           tuple(filter(None, map(_bare, references))))
    if choose(charset, subject, body, from_name).charset == "iso-2022-jp" and jis_lines_fit(body):
        return _compose_jis(from_addr, from_name, to_addr, subject, body, message_id,
                            threading, date)
    msg = EmailMessage(policy=SMTP)
    msg["From"] = Address(display_name=from_name, addr_spec=from_addr)
    msg["To"] = to_addr
    msg["Subject"] = subject
    msg["Date"] = format_datetime(date)
    msg["Message-ID"] = message_id
    for name, value in threading:
        msg[name] = value
    _auto_headers(msg)
    msg.set_content(body, charset="utf-8", cte="base64")
    return msg.as_bytes()


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
            ("References", " ".join((*chain, in_reply_to)[-10:]))]


def _auto_headers(msg: Message) -> None:
    msg["Auto-Submitted"] = "auto-replied"  # RFC 3834: other robots must not answer this mail
    msg["X-Auto-Response-Suppress"] = "All"  # keeps Exchange out-of-office answers away


def _compose_jis(from_addr: str, from_name: str, to_addr: str, subject: str, body: str,
                 message_id: str, threading: list[tuple[str, str]], date: datetime) -> bytes:
    # compat32 keeps our ISO-2022-JP encoded words as written; the default policy would decode
    # and re-encode them as UTF-8.
    msg = Message(policy=_SMTP_COMPAT32)
    name = from_name if from_name.isascii() else ""
    msg["From"] = (formataddr((name, from_addr)) if name or not from_name
                   else f"{jis_encoded_words(from_name)} <{from_addr}>")
    msg["To"] = to_addr
    msg["Subject"] = jis_encoded_words(subject)
    msg["Date"] = format_datetime(date)
    msg["Message-ID"] = message_id
    for header, value in threading:
        msg[header] = value
    _auto_headers(msg)
    msg["MIME-Version"] = "1.0"
    msg["Content-Type"] = 'text/plain; charset="ISO-2022-JP"'
    msg["Content-Transfer-Encoding"] = "7bit"
    text = body if body.endswith("\n") else body + "\n"
    msg.set_payload(encode_jis(text).decode("ascii"))
    return msg.as_bytes(policy=_SMTP_COMPAT32)
