"""Build the reply mail: threaded, marked auto-replied (RFC 3834), deterministic Message-ID."""

from __future__ import annotations

from datetime import datetime
from email.headerregistry import Address
from email.message import EmailMessage
from email.policy import SMTP
from email.utils import format_datetime


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
) -> bytes:
    msg = EmailMessage(policy=SMTP)
    msg["From"] = Address(display_name=from_name, addr_spec=from_addr)
    msg["To"] = to_addr
    msg["Subject"] = subject
    msg["Date"] = format_datetime(date)
    msg["Message-ID"] = message_id
    if in_reply_to:
        msg["In-Reply-To"] = in_reply_to
        msg["References"] = " ".join((*references, in_reply_to)[-10:])
    msg["Auto-Submitted"] = "auto-replied"
    msg["X-Auto-Response-Suppress"] = "All"  # keeps Exchange out-of-office answers away
    msg.set_content(body, charset="utf-8", cte="base64")
    return msg.as_bytes()
