"""Staff accounts of the web console: names and slow password hashes, kept in the ledger.

The hash is scrypt from the standard library with a random salt per account; its parameters
are stored beside it so they can be raised later without breaking existing accounts. There is
no default account: the first one is made with `renkei-intake staff add`.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import hmac
import secrets
import unicodedata
from dataclasses import dataclass
from typing import Any

from state import console_sessions
from state.ledger import Ledger, utcnow

# N=2**15, r=8: about 32 MiB and a tenth of a second per try; a guessed password costs the same.
SCRYPT_N, SCRYPT_R, SCRYPT_P = 2**15, 8, 1
MIN_PASSWORD = 10
MAX_NAME = 64


class StaffAccountError(Exception):
    """An account cannot be made or changed as asked; the message says why in Japanese."""


@dataclass(frozen=True)
class Account:
    id: int
    name: str
    created_at: str
    disabled_at: str | None
    last_login_at: str | None

    @property
    def enabled(self) -> bool:
        return self.disabled_at is None


def hash_password(password: str, *, n: int = SCRYPT_N, r: int = SCRYPT_R, p: int = SCRYPT_P) -> str:
    salt = secrets.token_bytes(16)
    digest = _scrypt(password, salt, n, r, p)
    return "$".join(["scrypt", str(n), str(r), str(p), _b64(salt), _b64(digest)])


def check_password(password: str, stored: str) -> bool:
    try:
        scheme, n, r, p, salt, digest = stored.split("$")
        if scheme != "scrypt":
            return False
        found = _scrypt(password, base64.b64decode(salt), int(n), int(r), int(p))
    except (ValueError, TypeError):
        return False
    return hmac.compare_digest(found, base64.b64decode(digest))


def _scrypt(password: str, salt: bytes, n: int, r: int, p: int) -> bytes:
    return hashlib.scrypt(password.encode("utf-8"), salt=salt, n=n, r=r, p=p,
                          maxmem=256 * r * n + 1024 * 1024, dklen=32)


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def check_name(name: str) -> str:
    name = unicodedata.normalize("NFKC", name).strip()
    if not name:
        raise StaffAccountError("アカウント名を指定してください")
    if len(name) > MAX_NAME or any(c.isspace() or not c.isprintable() for c in name):
        raise StaffAccountError(f"アカウント名は空白を含まない{MAX_NAME}文字以内にしてください: {name!r}")
    return name


def check_new_password(password: str) -> None:
    if len(password) < MIN_PASSWORD:
        raise StaffAccountError(f"パスワードは{MIN_PASSWORD}文字以上にしてください")
    if password != password.strip() or "\n" in password:
        raise StaffAccountError("パスワードの前後に空白や改行を入れないでください")


def add(ledger: Ledger, name: str, password: str, *, actor: str | None = None) -> Account:
    name = check_name(name)
    check_new_password(password)
    if find(ledger, name) is not None:
        raise StaffAccountError(f"アカウント {name} は既にあります(staff list で確認できます)")
    with ledger.transaction():
        account_id = ledger.db["staff_accounts"].insert({
            "name": name, "password_hash": hash_password(password), "created_at": utcnow(),
        }).last_pk
        ledger.event("staff", account_id, "staff_added", {"name": name}, actor=actor)
    account = find(ledger, name)
    assert account is not None
    return account


def disable(ledger: Ledger, name: str, *, actor: str | None = None) -> Account:
    account = find(ledger, check_name(name))
    if account is None:
        raise StaffAccountError(f"アカウント {name} はありません(staff list で確認できます)")
    if not account.enabled:  # a refusal like any other staff action in the wrong state
        raise StaffAccountError(f"アカウント {account.name} は既に無効です(staff list で確認"
                                "できます。何も変更していません)")
    if account.enabled:
        with ledger.transaction():
            ledger.db["staff_accounts"].update(account.id, {"disabled_at": utcnow()})
            console_sessions.end_all(ledger, account.name)  # signed out at once, everywhere
            ledger.event("staff", account.id, "staff_disabled", {"name": account.name}, actor=actor)
    found = find(ledger, account.name)
    assert found is not None
    return found


def accounts(ledger: Ledger) -> list[Account]:
    return [_account(r) for r in ledger.db.query(
        "SELECT id, name, created_at, disabled_at, last_login_at FROM staff_accounts ORDER BY name")]


def find(ledger: Ledger, name: str) -> Account | None:
    rows = list(ledger.db.query(
        "SELECT id, name, created_at, disabled_at, last_login_at FROM staff_accounts "
        "WHERE name = ?", [name]))
    return _account(rows[0]) if rows else None


def is_active(ledger: Ledger, name: str) -> bool:
    account = find(ledger, name)
    return account is not None and account.enabled


def authenticate(ledger: Ledger, name: str, password: str) -> Account | None:
    """The enabled account whose password this is, else None (same cost either way)."""
    name = unicodedata.normalize("NFKC", name).strip()
    row = ledger.db.execute(
        "SELECT password_hash FROM staff_accounts WHERE name = ? AND disabled_at IS NULL",
        [name]).fetchone()
    if row is None:
        check_password(password, _dummy_hash())  # a wrong name costs what a wrong password does
        return None
    if not check_password(password, row[0]):
        return None
    with ledger.transaction():
        ledger.db.execute("UPDATE staff_accounts SET last_login_at = ? WHERE name = ?",
                          [utcnow(), name])
        account = find(ledger, name)
        assert account is not None
        ledger.event("staff", account.id, "signed_in", None, actor=name)
    return account


@functools.cache
def _dummy_hash() -> str:
    return hash_password(secrets.token_urlsafe(12))


def _account(row: dict[str, Any]) -> Account:
    return Account(row["id"], row["name"], row["created_at"], row["disabled_at"],
                   row["last_login_at"])
