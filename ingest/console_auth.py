"""Who is signed in to the web console, and the slowing down of repeated failed sign-ins.

Sessions are kept in the ledger (state.console_sessions: only a hash of each token), so a
restart of `serve` signs nobody out, while signing out, the idle time and disabling an account
still end a session at its next request.

Failed sign-ins are counted in the ledger too (a restart of `serve` does not forget them, and
every `serve` on the ledger shares them), per account *and client address* and per client
address alone: someone guessing from one address waits longer and longer (doubling up to a
quarter of an hour) for that account and, past a few more failures, for every account, while
the account's owner signing in from their own machine is not held back by a stranger's
failures.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from state import console_sessions, sign_in_failures, staff_accounts
from state.ledger import Ledger
from state.staff_accounts import MAX_NAME

SESSION_COOKIE = "renkei_session"


class Sessions:
    """The console's sessions in the ledger, with its idle time and clock (wall time: a session
    outlives the process)."""

    def __init__(self, idle_seconds: float, clock: Callable[[], float] = time.time) -> None:
        self.idle = idle_seconds
        self.clock = clock

    def start(self, ledger: Ledger, name: str) -> str:
        return console_sessions.start(ledger, name, now=self.clock(), idle=self.idle)

    def touch(self, ledger: Ledger, token: str | None) -> str | None:
        """The account name of a live session of an enabled account, else None."""
        return console_sessions.touch(ledger, token, now=self.clock(), idle=self.idle)

    def end(self, ledger: Ledger, token: str | None) -> None:
        console_sessions.end(ledger, token)


class SignInThrottle:
    """Failed sign-ins, kept in the ledger (state.sign_in_failures) and keyed by (account,
    client address) and by client address: after `free` failures of a key, the next try is
    refused until a wait that doubles with each further failure, up to `max_wait`. Failures
    older than `forget_after` seconds are forgotten. Wall-clock time, since the counts outlive
    the process; a clock set back never makes a wait longer than `max_wait`."""

    def __init__(self, clock: Callable[[], float] = time.time, *, free_pair: int = 4,
                 free_client: int = 10, first_wait: float = 30.0, max_wait: float = 900.0,
                 forget_after: float = 3600.0) -> None:
        self.clock = clock
        self.free = {"pair": free_pair, "client": free_client}
        self.first_wait, self.max_wait = first_wait, max_wait
        self.forget_after = max(forget_after, max_wait)

    def wait_for(self, ledger: Ledger, name: str, client: str) -> float:
        """Seconds before `name` may try again from `client` (0: now)."""
        now = self.clock()
        keys = self._keys(name, client)
        found = sign_in_failures.counts(ledger, keys.values())
        waits = [0.0]
        for kind, key in keys.items():
            count, last = found.get(key, (0, now))
            if count >= self.free[kind] and now - last <= self.forget_after:
                doublings = min(count - self.free[kind], 20)  # the cap is reached long before
                wait = min(self.first_wait * 2 ** doublings, self.max_wait)
                waits.append(min(last + wait - now, self.max_wait))
        return max(waits)

    def failed(self, ledger: Ledger, name: str, client: str) -> None:
        keys = self._keys(name, client)
        if "pair" in keys and staff_accounts.find(ledger, name) is None:
            # no such account: nothing to guess at, and what was typed (a password in the
            # wrong field, perhaps) is not kept; the address's own count holds a guesser back
            del keys["pair"]
        sign_in_failures.add(ledger, keys.values(), now=self.clock(),
                             forget_after=self.forget_after)

    def succeeded(self, ledger: Ledger, name: str, client: str) -> None:
        # The address's own count stays: signing in to one's own account must not buy an
        # insider fresh guesses at the others.
        pair = self._keys(name, client).get("pair")
        if pair:
            sign_in_failures.clear(ledger, [pair])

    @staticmethod
    def _keys(name: str, client: str) -> dict[str, sign_in_failures.Key]:
        keys = {"client": (sign_in_failures.ANY_ACCOUNT, client)}
        if 0 < len(name) <= MAX_NAME:  # no account has another name: the address counts it
            keys["pair"] = (name, client)
        return keys
