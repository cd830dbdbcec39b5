"""Who is signed in to the web console, and the slowing down of repeated failed sign-ins.

Sessions are kept in the ledger (state.console_sessions: only a hash of each token), so a
restart of `serve` signs nobody out, while signing out, the idle time and disabling an account
still end a session at its next request.

Failed sign-ins are counted per account *and client address* and per client address alone:
someone guessing from one address waits longer and longer (doubling up to a quarter of an hour)
for that account and, past a few more failures, for every account, while the account's owner
signing in from their own machine is not held back by a stranger's failures.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Hashable

from state import console_sessions
from state.ledger import Ledger

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


class LoginThrottle:
    """Failed sign-ins per key: after `free` failures, the next try is refused until a wait that
    doubles with each further failure, up to `max_wait`. Failures older than `forget_after`
    seconds are forgotten (and their keys dropped, so a flood of names cannot fill memory)."""

    def __init__(self, *, free: int = 4, first_wait: float = 30.0, max_wait: float = 900.0,
                 forget_after: float = 3600.0, clock: Callable[[], float] = time.monotonic) -> None:
        self.free, self.first_wait, self.max_wait = free, first_wait, max_wait
        self.forget_after = max(forget_after, max_wait)
        self.clock = clock
        self._failures: dict[Hashable, tuple[int, float]] = {}
        self._lock = threading.Lock()

    def wait_for(self, *keys: Hashable) -> float:
        """Seconds before any of `keys` may try again (0: now)."""
        now = self.clock()
        with self._lock:
            return max([0.0, *(self._until(k, now) - now for k in keys)])

    def failed(self, *keys: Hashable) -> None:
        now = self.clock()
        with self._lock:
            for key in [k for k, (_, last) in self._failures.items()
                        if now - last > self.forget_after]:
                del self._failures[key]
            for key in keys:
                count, _ = self._failures.get(key, (0, now))
                self._failures[key] = (count + 1, now)

    def succeeded(self, *keys: Hashable) -> None:
        with self._lock:
            for key in keys:
                self._failures.pop(key, None)

    def _until(self, key: Hashable, now: float) -> float:
        count, last = self._failures.get(key, (0, 0.0))
        if count < self.free or now - last > self.forget_after:
            return 0.0
        return last + min(self.first_wait * 2 ** (count - self.free), self.max_wait)


class SignInThrottle:
    """The two throttles of the sign-in form: (account, client address) and client address."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self.pair = LoginThrottle(free=4, clock=clock)
        self.client = LoginThrottle(free=10, clock=clock)

    def wait_for(self, name: str, client: str) -> float:
        return max(self.pair.wait_for((name, client)), self.client.wait_for(client))

    def failed(self, name: str, client: str) -> None:
        self.pair.failed((name, client))
        self.client.failed(client)

    def succeeded(self, name: str, client: str) -> None:
        # The address's own count stays: signing in to one's own account must not buy an
        # insider fresh guesses at the others.
        self.pair.succeeded((name, client))
