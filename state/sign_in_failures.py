"""Failed sign-ins to the web console, counted in the ledger so that a restart of `serve`
does not forget them and two `serve` processes on one ledger share them.

A count is kept per (account name, client address) and, under the account '', per client
address over every account. A name that is no account is counted for its address only (the
caller checks), so nothing typed into the name field is kept but the names of accounts. Counts not
added to for `forget_after` seconds are deleted whenever a failure is recorded.
"""

from __future__ import annotations

from collections.abc import Iterable

from state.ledger import Ledger

ANY_ACCOUNT = ""
Key = tuple[str, str]  # (account, client)


def counts(ledger: Ledger, keys: Iterable[Key]) -> dict[Key, tuple[int, float]]:
    """(failures, time of the last failure) of each key that has any."""
    found: dict[Key, tuple[int, float]] = {}
    for account, client in keys:
        row = ledger.db.execute(
            "SELECT failures, last_at FROM console_sign_in_failures "
            "WHERE account = ? AND client = ?", [account, client]).fetchone()
        if row:
            found[(account, client)] = (int(row[0]), float(row[1]))
    return found


def add(ledger: Ledger, keys: Iterable[Key], *, now: float, forget_after: float) -> None:
    """One more failure for each key (a stale count starts again); stale rows are pruned."""
    with ledger.transaction():
        ledger.db.execute("DELETE FROM console_sign_in_failures WHERE last_at < ?",
                          [now - forget_after])
        for account, client in keys:
            ledger.db.execute(
                "INSERT INTO console_sign_in_failures (account, client, failures, last_at) "
                "VALUES (?, ?, 1, ?) ON CONFLICT (account, client) DO UPDATE SET "
                "failures = failures + 1, last_at = excluded.last_at", [account, client, now])


def clear(ledger: Ledger, keys: Iterable[Key]) -> None:
    with ledger.transaction():
        for account, client in keys:
            ledger.db.execute("DELETE FROM console_sign_in_failures "
                              "WHERE account = ? AND client = ?", [account, client])
