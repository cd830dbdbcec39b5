"""Bounces of our own replies: which reply a delivery failure notice (DSN) is about.

A bounce is never answered (rules/mail_checks routes it to staff); this module only tells the
pipeline which outbox row it belongs to, so staff see "this receipt did not arrive" next to the
submission instead of an anonymous MAILER-DAEMON mail.
"""

from __future__ import annotations

import email
import email.header
import email.utils
import re
from email.message import Message

from parsers.limits import Limits
from parsers.mime import message_within
from replies.render import KINDS

# Our Message-IDs are deterministic (replies.compose.reply_message_id): nothing else has them.
_OUR_ID = re.compile(
    rb"<renkei-intake\.\d+\.(?:" + b"|".join(k.encode() for k in KINDS) + rb")@[^<>\s]+>",
    re.IGNORECASE,
)
_QUOTED_ID = re.compile(rb"^[ \t>]*Message-I[Dd][ \t]*:[ \t]*(?:\r?\n[ \t]+)?(<[^<>\s]+>)",
                        re.IGNORECASE | re.MULTILINE)
_FAILED_ACTIONS = {"failed"}
_BOUNCE_SENDER = re.compile(rb"^(?:mailer-daemon|postmaster|mail-daemon|maildaemon|mdaemon)@",
                            re.IGNORECASE)
_BOUNCE_SUBJECT = re.compile(
    r"undeliver|delivery (?:status notification|failure|has failed)|failure notice|"
    r"returned mail|mail delivery (?:failed|failure|system)|could not be delivered|"
    r"配信(?:不能|エラー|できません)|配送(?:不能|エラー)|送信できませんでした|宛先不明|エラーメール",
    re.IGNORECASE,
)


def bounced_reply(raw: bytes, max_lines: int = Limits.max_mail_lines) -> str | None:
    """The Message-ID of our reply that this mail reports as undeliverable, else None.

    A standard DSN (multipart/report; report-type=delivery-status) counts only when a recipient
    has `Action: failed` (a "delayed" warning is not a bounce) and the returned message or
    headers carry our Message-ID. Older MTAs (qmail, Japanese ISPs) send plain text bounces that
    quote the returned mail; those count when the mail looks like a bounce (daemon sender, empty
    Return-Path or a bounce subject) and the quoted text carries our Message-ID.
    """
    try:
        # bounded like the mail's own parse: a "bounce" may be 40 MB of empty lines
        msg = message_within(raw, max_lines)
        reports = [p for p in msg.walk() if p.get_content_type() == "message/delivery-status"]
        if reports:
            if not any(_actions(p) & _FAILED_ACTIONS for p in reports):
                return None
            return _returned_id(msg) or _quoted_id(_body_bytes(raw))
        if not _looks_like_bounce(msg, raw):
            return None
        return _quoted_id(_body_bytes(raw))
    except Exception:  # a broken notice is simply not matched; it still goes to staff
        return None


def _actions(part: Message) -> set[str]:
    payload = part.get_payload()
    actions: set[str] = set()
    if isinstance(payload, list):  # compat32 parses each DSN field block as a Message
        for block in payload:
            if isinstance(block, Message) and block.get("Action"):
                actions.add(str(block["Action"]).split("(")[0].strip().lower())
    else:
        data = part.get_payload(decode=True) or b""
        actions |= {m.decode("ascii", "replace").lower()
                    for m in re.findall(rb"^Action:[ \t]*([A-Za-z]+)", data, re.MULTILINE)}
    return actions


def _returned_id(msg: Message) -> str | None:
    """Message-ID of the returned message (message/rfc822) or headers (text/rfc822-headers)."""
    for part in msg.walk():
        kind = part.get_content_type()
        if kind == "message/rfc822":
            payload = part.get_payload()
            inner = payload[0] if isinstance(payload, list) and payload else None
            if isinstance(inner, Message) and inner.get("Message-ID"):
                found = _OUR_ID.search(str(inner["Message-ID"]).encode("ascii", "replace"))
                if found:
                    return found.group(0).decode("ascii")
        elif kind == "text/rfc822-headers":
            found = _quoted_id(part.get_payload(decode=True) or b"")
            if found:
                return found
    return None


def _quoted_id(data: bytes) -> str | None:
    """Our Message-ID on a quoted `Message-ID:` line (not merely mentioned in a reference)."""
    for match in _QUOTED_ID.finditer(data):
        if _OUR_ID.fullmatch(match.group(1)):
            return match.group(1).decode("ascii")
    return None


def _looks_like_bounce(msg: Message, raw: bytes) -> bool:
    if msg.get_content_type() == "multipart/report":
        return True
    return_path = str(msg.get("Return-Path", "x")).strip()
    if return_path.strip("<>").strip() == "":
        return True
    sender = email.utils.parseaddr(str(msg.get("From", "")))[1].encode("ascii", "replace")
    if _BOUNCE_SENDER.match(sender):
        return True
    subject = str(msg.get("Subject", ""))
    if "=?" in subject:
        subject = str(email.header.make_header(email.header.decode_header(subject)))
    return bool(_BOUNCE_SUBJECT.search(subject))


def _body_bytes(raw: bytes) -> bytes:
    """Everything after the top-level header: the quoted mail lives there, while our own ID in
    the bounce's own In-Reply-To/References would only say it is an answer, not a bounce."""
    for separator in (b"\r\n\r\n", b"\n\n"):
        head, found, body = raw.partition(separator)
        if found:
            return body
    return b""
