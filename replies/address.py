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


def is_address(text: str) -> bool:
    """A plain address as written (no display name, no full-width letters): for settings."""
    return bool(_ADDRESS.match(text))


def choose_recipient(from_addr: str | None, sender_block_email: str | None, *,
                     prefer_sender_block: bool = False) -> tuple[str | None, str | None]:
    """(address, note for staff). The 幹事社 sender's address; or, when the configuration
    prefers it (`[replies] reply_to_sender_block`), the address written in the sender block —
    only when it is in the sender's own domain: the body is anyone's to write, and a reply
    must not go to a third party it names. Otherwise From, with a note saying why."""
    sender = clean_address(from_addr)
    block = clean_address(sender_block_email)
    if not prefer_sender_block or not block or block.lower() == (sender or "").lower():
        return sender, None
    if sender and _domain(block) == _domain(sender):
        return block, None
    return sender, (f"本文の差出人情報のメールアドレス {block} は差出人 {sender or '(不明)'} と"
                    "ドメインが異なるため、返信は差出人アドレスに送ります")


def _domain(address: str) -> str:
    return address.rpartition("@")[2].lower()


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
