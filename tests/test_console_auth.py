"""Sessions and the sign-in throttle of the web console, on a clock the test moves."""

from __future__ import annotations

from ingest.console_auth import MAX_SESSION, LoginThrottle, Sessions
from ingest.console_pages import safe_next
from ingest.serve import is_loopback


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_a_session_ends_after_the_idle_time_and_activity_keeps_it_alive():
    clock = Clock()
    sessions = Sessions(idle_seconds=1800, clock=clock)
    token = sessions.start("yamada")
    for _ in range(5):  # active every 25 minutes: still signed in after two hours
        clock.now += 1500
        assert sessions.touch(token) == "yamada"
    clock.now += 1801
    assert sessions.touch(token) is None
    assert sessions.touch(token) is None  # gone for good, not revived
    assert sessions.touch(None) is None and sessions.touch("forged-token") is None


def test_a_session_ends_after_a_working_day_even_when_active():
    clock = Clock()
    sessions = Sessions(idle_seconds=1800, clock=clock)
    token = sessions.start("yamada")
    while clock.now - 1000.0 < MAX_SESSION - 1000:
        clock.now += 1000
        assert sessions.touch(token) == "yamada"
    clock.now += 1000
    assert sessions.touch(token) is None


def test_signing_out_and_disabling_end_sessions():
    sessions = Sessions(idle_seconds=1800, clock=Clock())
    first, second, other = sessions.start("yamada"), sessions.start("yamada"), sessions.start("sato")
    sessions.end(first)
    assert sessions.touch(first) is None and sessions.touch(second) == "yamada"
    sessions.end_all("yamada")
    assert sessions.touch(second) is None and sessions.touch(other) == "sato"


def test_failed_sign_ins_make_the_next_try_wait_longer_each_time():
    clock = Clock()
    throttle = LoginThrottle(free=4, first_wait=30, max_wait=900, clock=clock)
    for _ in range(4):
        assert throttle.wait_for("user:yamada") == 0
        throttle.failed("user:yamada")
    assert throttle.wait_for("user:yamada") == 30
    assert throttle.wait_for("user:sato") == 0  # another account is not held up
    assert throttle.wait_for("user:sato", "user:yamada") == 30  # the longest wait of the keys
    clock.now += 30
    throttle.failed("user:yamada")
    assert throttle.wait_for("user:yamada") == 60
    for _ in range(10):
        throttle.failed("user:yamada")
    assert throttle.wait_for("user:yamada") == 900  # capped at a quarter of an hour
    throttle.succeeded("user:yamada")
    assert throttle.wait_for("user:yamada") == 0


def test_after_sign_in_only_a_path_on_this_site_is_followed():
    assert safe_next("/submissions/3?x=1") == "/submissions/3?x=1"
    for value in ("//evil.example/", "https://evil.example/", "/\\evil.example", "", None, "javascript:1"):
        assert safe_next(value) == "/"


def test_loopback_addresses():
    assert all(is_loopback(h) for h in ("127.0.0.1", "127.1.2.3", "::1", "[::1]", "localhost"))
    assert not any(is_loopback(h) for h in ("0.0.0.0", "::", "192.168.1.10", "example.jp"))
