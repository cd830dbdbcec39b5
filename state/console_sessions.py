"""Signed-in sessions of the web console, kept in the ledger so that restarting `serve` signs
nobody out.

The browser's cookie holds a random token and nothing else; the ledger keeps only the token's
SHA-256, so reading the ledger (or a backup of it) gives nothing to sign in with. A session ends
when it has been idle too long, after a working day however active, on sign-out, and when its
account is disabled; an ended session's row is deleted.
"""

from __future__ import annotations

import hashlib
import secrets

from state.ledger import Ledger

MAX_SESSION = 12 * 3600.0  # a working day; then sign in again even if active
TOUCH_EVERY = 60.0  # seconds: the last request is written at most this often per session


def digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def start(ledger: Ledger, name: str, *, now: float, idle: float) -> str:
    """A new session for `name`; the token to set in the browser's cookie."""
    token = secrets.token_urlsafe(32)
    with ledger.transaction():
        expire(ledger, now=now, idle=idle)
        ledger.db.execute("INSERT INTO console_sessions (token_sha256, name, started_at, seen_at) "
                          "VALUES (?, ?, ?, ?)", [digest(token), name, now, now])
    return token


def touch(ledger: Ledger, token: str | None, *, now: float, idle: float) -> str | None:
    """The account name of a live session of an enabled account (its idle time restarts),
    else None; a session found ended is deleted."""
    if not token:
        return None
    key = digest(token)
    row = ledger.db.execute(
        "SELECT s.name, s.started_at, s.seen_at, a.disabled_at IS NULL AND a.id IS NOT NULL "
        "FROM console_sessions s LEFT JOIN staff_accounts a ON a.name = s.name "
        "WHERE s.token_sha256 = ?", [key]).fetchone()
    if row is None:
        return None
    name, started, seen, enabled = row
    if not enabled or now - seen > idle or now - started > MAX_SESSION:
        end(ledger, token)
        return None
    if now - seen >= TOUCH_EVERY:
        with ledger.transaction():
            ledger.db.execute("UPDATE console_sessions SET seen_at = ? WHERE token_sha256 = ?",
                              [now, key])
    return name


def end(ledger: Ledger, token: str | None) -> None:
    if token:
        with ledger.transaction():
            ledger.db.execute("DELETE FROM console_sessions WHERE token_sha256 = ?",
                              [digest(token)])


def end_all(ledger: Ledger, name: str) -> None:
    """Every session of `name` (its account was disabled)."""
    with ledger.transaction():
        ledger.db.execute("DELETE FROM console_sessions WHERE name = ?", [name])


def expire(ledger: Ledger, *, now: float, idle: float) -> None:
    with ledger.transaction():
        ledger.db.execute("DELETE FROM console_sessions WHERE seen_at < ? OR started_at < ?",
                          [now - idle, now - MAX_SESSION])
