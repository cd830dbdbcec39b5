"""Sessions and the sign-in throttle of the web console, in a real ledger file, on a clock the
test moves."""

from __future__ import annotations

import hashlib
import json

import pytest

from ingest.console_auth import Sessions, SignInThrottle
from ingest.console_pages import safe_next
from ingest.serve import is_loopback
from state import staff_accounts
from state.blobs import BlobStore
from state.console_sessions import MAX_SESSION
from state.ledger import Ledger


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def ledger(tmp_path):
    """A real ledger file with two staff accounts."""
    opened = Ledger(tmp_path / "ledger.db", BlobStore(tmp_path / "blobs"))
    for name in ("yamada", "sato"):
        staff_accounts.add(opened, name, f"{name}-long-password")
    yield opened
    opened.close()


def test_a_session_ends_after_the_idle_time_and_activity_keeps_it_alive(ledger):
    clock = Clock()
    sessions = Sessions(idle_seconds=1800, clock=clock)
    token = sessions.start(ledger, "yamada")
    for _ in range(5):  # active every 25 minutes: still signed in after two hours
        clock.now += 1500
        assert sessions.touch(ledger, token) == "yamada"
    clock.now += 1801
    assert sessions.touch(ledger, token) is None
    assert sessions.touch(ledger, token) is None  # gone for good, not revived
    assert sessions.touch(ledger, None) is None and sessions.touch(ledger, "forged-token") is None
    assert ledger.db["console_sessions"].count == 0


def test_a_session_ends_after_a_working_day_even_when_active(ledger):
    clock = Clock()
    sessions = Sessions(idle_seconds=1800, clock=clock)
    token = sessions.start(ledger, "yamada")
    while clock.now - 1000.0 < MAX_SESSION - 1000:
        clock.now += 1000
        assert sessions.touch(ledger, token) == "yamada"
    clock.now += 1000
    assert sessions.touch(ledger, token) is None


def test_signing_out_and_disabling_end_sessions(ledger):
    sessions = Sessions(idle_seconds=1800, clock=Clock())
    first, second = sessions.start(ledger, "yamada"), sessions.start(ledger, "yamada")
    other = sessions.start(ledger, "sato")
    sessions.end(ledger, first)
    assert sessions.touch(ledger, first) is None and sessions.touch(ledger, second) == "yamada"
    staff_accounts.disable(ledger, "yamada")
    assert sessions.touch(ledger, second) is None and sessions.touch(ledger, other) == "sato"
    assert [r["name"] for r in ledger.db["console_sessions"].rows] == ["sato"]


def test_a_session_outlives_the_serving_process_and_the_ledger_keeps_only_a_hash(ledger, tmp_path):
    clock = Clock()
    token = Sessions(idle_seconds=1800, clock=clock).start(ledger, "yamada")
    ledger.close()
    # another process (serve restarted) opens the same file with a fresh Sessions
    again = Ledger(tmp_path / "ledger.db", BlobStore(tmp_path / "blobs"))
    try:
        clock.now += 600
        assert Sessions(idle_seconds=1800, clock=clock).touch(again, token) == "yamada"
        (row,) = again.db["console_sessions"].rows
        assert token not in json.dumps(row)
        assert row["token_sha256"] == hashlib.sha256(token.encode()).hexdigest()
        dump = "\n".join(again.db.conn.iterdump())
        assert token not in dump
    finally:
        again.close()


def test_failed_sign_ins_make_the_next_try_wait_longer_each_time(ledger):
    clock = Clock()
    throttle = SignInThrottle(clock=clock)
    here = "192.168.10.21"
    for _ in range(4):
        assert throttle.wait_for(ledger, "yamada", here) == 0
        throttle.failed(ledger, "yamada", here)
    assert throttle.wait_for(ledger, "yamada", here) == 30
    assert throttle.wait_for(ledger, "sato", here) == 0  # another account is not held up
    clock.now += 10
    assert throttle.wait_for(ledger, "yamada", here) == 20  # the wait runs down
    clock.now += 20
    throttle.failed(ledger, "yamada", here)
    assert throttle.wait_for(ledger, "yamada", here) == 60
    for _ in range(10):
        throttle.failed(ledger, "yamada", "10.0.0.1")
    assert throttle.wait_for(ledger, "yamada", "10.0.0.1") == 900  # capped at a quarter of an hour
    throttle.succeeded(ledger, "yamada", here)
    assert throttle.wait_for(ledger, "yamada", here) == 0


def test_a_stranger_guessing_from_one_address_does_not_hold_the_owner_back_elsewhere(ledger):
    clock = Clock()
    throttle = SignInThrottle(clock=clock)
    for _ in range(30):  # far past every limit, from one address
        throttle.failed(ledger, "yamada", "203.0.113.5")
    assert throttle.wait_for(ledger, "yamada", "203.0.113.5") == 900  # the guesser waits
    assert throttle.wait_for(ledger, "sato", "203.0.113.5") == 900  # for every account there
    assert throttle.wait_for(ledger, "yamada", "192.168.10.21") == 0  # the owner at their desk
    # the owner's own mistakes slow only the owner's address
    for _ in range(4):
        throttle.failed(ledger, "yamada", "192.168.10.21")
    assert throttle.wait_for(ledger, "yamada", "192.168.10.21") == 30
    assert throttle.wait_for(ledger, "yamada", "192.168.10.22") == 0
    throttle.succeeded(ledger, "yamada", "192.168.10.21")
    assert throttle.wait_for(ledger, "yamada", "192.168.10.21") == 0
    # a guesser spreading tries over accounts (or typing nothing, or a name no account can
    # have) is slowed by the address's own count
    for name in ("a", "b", "c", "d", "e", "f", "g", "", "x" * 500, "my-secret-password!"):
        throttle.failed(ledger, name, "198.51.100.9")
    assert throttle.wait_for(ledger, "k", "198.51.100.9") == 30
    # what was typed as a name is kept only when it is an account's name
    assert {r[0] for r in ledger.db.execute("SELECT account FROM console_sign_in_failures")} \
        == {"", "yamada"}


def test_failures_outlive_the_process_and_are_shared_by_every_serve(ledger, tmp_path):
    clock = Clock()
    for _ in range(5):
        SignInThrottle(clock=clock).failed(ledger, "yamada", "203.0.113.5")
    ledger.close()
    # serve restarted, or a second serve on the same file: a new process, a new throttle
    again = Ledger(tmp_path / "ledger.db", BlobStore(tmp_path / "blobs"))
    try:
        assert SignInThrottle(clock=clock).wait_for(again, "yamada", "203.0.113.5") == 60
    finally:
        again.close()


def test_old_failures_are_forgotten_and_their_rows_pruned(ledger):
    clock = Clock()
    throttle = SignInThrottle(clock=clock, forget_after=3600)
    for _ in range(6):
        throttle.failed(ledger, "yamada", "203.0.113.5")
    assert throttle.wait_for(ledger, "yamada", "203.0.113.5") > 0
    clock.now += 3601
    assert throttle.wait_for(ledger, "yamada", "203.0.113.5") == 0
    throttle.failed(ledger, "sato", "198.51.100.9")  # the stale rows are deleted, not kept
    rows = {(r["account"], r["client"]) for r in ledger.db["console_sign_in_failures"].rows}
    assert rows == {("sato", "198.51.100.9"), ("", "198.51.100.9")}
    for _ in range(4):
        throttle.failed(ledger, "yamada", "203.0.113.5")
    assert throttle.wait_for(ledger, "yamada", "203.0.113.5") == 30  # counting started again


def test_a_clock_set_back_never_makes_the_wait_longer_than_the_cap(ledger):
    clock = Clock()
    throttle = SignInThrottle(clock=clock)
    for _ in range(20):
        throttle.failed(ledger, "yamada", "203.0.113.5")
    clock.now -= 1800
    assert throttle.wait_for(ledger, "yamada", "203.0.113.5") == 900


def test_after_sign_in_only_a_path_on_this_site_is_followed():
    assert safe_next("/submissions/3?x=1") == "/submissions/3?x=1"
    for value in ("//evil.example/", "https://evil.example/", "/\\evil.example", "", None, "javascript:1"):
        assert safe_next(value) == "/"


def test_loopback_addresses():
    assert all(is_loopback(h) for h in ("127.0.0.1", "127.1.2.3", "::1", "[::1]", "localhost"))
    assert not any(is_loopback(h) for h in ("0.0.0.0", "::", "192.168.1.10", "example.jp"))
