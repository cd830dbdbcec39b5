"""Who is signed in to the web console: server-side sessions with an idle timeout, and the
slowing down of repeated failed sign-ins.

Sessions live in the serving process only: the cookie holds a random token and nothing else,
so signing out (or restarting `serve`) really ends a session, and a disabled account is shut
out at its next request. Failed sign-ins are counted per account name and per client address;
past a few failures each further try must wait, doubling up to a quarter of an hour.
"""

from __future__ import annotations

import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

SESSION_COOKIE = "renkei_session"
MAX_SESSION = 12 * 3600.0  # a working day; then sign in again even if active


@dataclass
class Session:
    name: str
    started: float
    seen: float


class Sessions:
    def __init__(self, idle_seconds: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.idle = idle_seconds
        self.clock = clock
        self._by_token: dict[str, Session] = {}
        self._lock = threading.Lock()

    def start(self, name: str) -> str:
        token = secrets.token_urlsafe(32)
        now = self.clock()
        with self._lock:
            self._expire(now)
            self._by_token[token] = Session(name, now, now)
        return token

    def touch(self, token: str | None) -> str | None:
        """The account name of a live session (its idle time restarts), else None."""
        if not token:
            return None
        now = self.clock()
        with self._lock:
            session = self._by_token.get(token)
            if session is None:
                return None
            if now - session.seen > self.idle or now - session.started > MAX_SESSION:
                del self._by_token[token]
                return None
            session.seen = now
            return session.name

    def end(self, token: str | None) -> None:
        with self._lock:
            self._by_token.pop(token or "", None)

    def end_all(self, name: str) -> None:
        with self._lock:
            for token in [t for t, s in self._by_token.items() if s.name == name]:
                del self._by_token[token]

    def _expire(self, now: float) -> None:
        for token in [t for t, s in self._by_token.items() if now - s.seen > self.idle]:
            del self._by_token[token]


class LoginThrottle:
    """Failed sign-ins per key ("user:NAME", "client:ADDRESS"): after `free` failures, the next
    try is refused until a wait that doubles with each further failure."""

    def __init__(self, *, free: int = 4, first_wait: float = 30.0, max_wait: float = 900.0,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.free, self.first_wait, self.max_wait = free, first_wait, max_wait
        self.clock = clock
        self._failures: dict[str, tuple[int, float]] = {}
        self._lock = threading.Lock()

    def wait_for(self, *keys: str) -> float:
        """Seconds before any of `keys` may try again (0: now)."""
        now = self.clock()
        with self._lock:
            return max([0.0, *(self._until(k) - now for k in keys)])

    def failed(self, *keys: str) -> None:
        now = self.clock()
        with self._lock:
            for key in keys:
                count, _ = self._failures.get(key, (0, now))
                self._failures[key] = (count + 1, now)

    def succeeded(self, *keys: str) -> None:
        with self._lock:
            for key in keys:
                self._failures.pop(key, None)

    def _until(self, key: str) -> float:
        count, last = self._failures.get(key, (0, 0.0))
        if count < self.free:
            return 0.0
        return last + min(self.first_wait * 2 ** (count - self.free), self.max_wait)
