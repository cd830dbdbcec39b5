"""Who a reply may go to: the 幹事社 sender (or the sender block's address), never a robot."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Collection
from email.utils import parseaddr

_ADDRESS = re.compile(r"^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+$")
# Mailboxes that no person reads or that answer automatically: a reply there starts a loop
# or lands nowhere (PEER-LESSONS #10).
_ROBOT_LOCALPART = re.compile(
    r"^(?:mailer-daemon|mail-daemon|maildaemon|postmaster|no[-_.]?reply|do[-_.]?not[-_.]?reply|"
    r"bounces?|auto[-_.]?reply|autoreply|autoresponder|mdaemon|daemon|listserv|majordomo)"
    r"(?:[-+_.].*)?$",
    re.IGNORECASE,
)


def clean_address(value: str | None) -> str | None:
    """A plain, valid address from a header or a sender block, or None."""
    if not value:
        return None
    text = unicodedata.normalize("NFKC", value).strip()
    text = text.removeprefix("mailto:").strip()
    address = parseaddr(text)[1].strip() or text
    return address if _ADDRESS.match(address) else None


def reply_recipient(from_addr: str | None, sender_block_email: str | None, *,
                    prefer_sender_block: bool = False) -> str | None:
    """The 幹事社 sender's address, or the address written in the sender block when the
    configuration prefers it (`[replies] reply_to_sender_block`) and it is a valid address."""
    block = clean_address(sender_block_email)
    sender = clean_address(from_addr)
    if prefer_sender_block and block:
        return block
    return sender or (block if prefer_sender_block else None)


def refusal(to_addr: str, own_addresses: Collection[str]) -> str | None:
    """Why no reply may go to `to_addr` (Japanese, for staff), or None when it may."""
    address = clean_address(to_addr)
    if address is None:
        return f"宛先アドレス「{to_addr}」を読み取れないため、送信を保留しました"
    if address.lower() in {a.lower() for a in own_addresses}:
        return f"宛先 {address} は事務局自身のアドレスのため、送信を保留しました"
    if _ROBOT_LOCALPART.match(address.split("@")[0]):
        return f"宛先 {address} は自動送信・配信エラー用のアドレスのため、送信を保留しました"
    return None
