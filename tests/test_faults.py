"""Faults between renkei-intake and its servers, and on its own disk: a TCP proxy drops, stalls
and slows IMAP and SMTP (tests/faultproxy.py), the SMTP server answers 421/451/550, another
process locks the ledger, the blob store's file system fills up. Each time the outcome is one
clear error line (exit status 2) or a retry, and nothing is lost or recorded twice."""

from __future__ import annotations

import io
import os
import sqlite3
import subprocess
import threading
import time
from collections.abc import Iterator
from contextlib import redirect_stderr, redirect_stdout
from pathlib import Path

import pytest

from ingest.cli import main
from tests.crash_helpers import (
    Run,
    blob_files,
    finish,
    ledger_write_lock,
    read_ledger,
    run_cli,
    start_cli,
    write_crash_config,
)
from tests.faultproxy import Fault, FaultProxy
from tests.mails import CORE, mail

SLOW = 600  # s: only a hung program takes this long, however busy the machine


def in_process(config: Path, *args: str) -> Run:
    """The CLI's own `main` in this process: the SMTP faults, and the runs after an IMAP, lock
    or disk fault, are about what a pass records, and an interpreter start per pass would only
    add time. The CLI as a process (exit status, one error line on stderr) is what the IMAP,
    lock and disk faults themselves run."""
    out, err = io.StringIO(), io.StringIO()
    with redirect_stdout(out), redirect_stderr(err):
        code = main(["--config", str(config), *args])
    return Run(code, out.getvalue(), err.getvalue())


class Since:
    """When `event` was set, seen by a thread of its own: a duration measured from a moment
    inside a run (a proxy's stall), so the run's start on a busy machine does not count."""

    def __init__(self, event: threading.Event) -> None:
        self.at: float | None = None

        def watch() -> None:
            if event.wait(SLOW):
                self.at = time.monotonic()

        self._thread = threading.Thread(target=watch, daemon=True)
        self._thread.start()

    def seconds(self) -> float:
        self._thread.join(SLOW)
        assert self.at is not None, "the moment never came"
        return time.monotonic() - self.at


def small_mails(tag: str, n: int) -> list[tuple[str, bytes]]:
    """Deficient submissions (cheap to check), each from its own sender, ~3 KB each."""
    out = []
    for i in range(n):
        msgid = f"<m{i}.{tag}@faults.example.jp>"
        raw = mail(f"<故障{i:03d}コンソーシアム>{CORE}", "よろしくお願いします。\n" * 40,
                   f"f{i}@faults.example.jp", msgid, attachments={"a.pdf": b"%PDF-1.4\n" * 100})
        out.append((msgid, raw))
    return out


def ledger_ids(tmp_path: Path) -> list[str]:
    with sqlite3.connect(tmp_path / "ledger.db") as db:
        return [r[0] for r in db.execute("SELECT message_id_header FROM messages")]


def one_line_error(stderr: str) -> str:
    lines = [line for line in stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and "Traceback" not in stderr, stderr
    assert lines[0].startswith("renkei-intake: "), stderr
    return lines[0]


def test_imap_dropped_mid_fetch_loses_and_doubles_nothing(dovecot, tmp_path):
    mails = small_mails("drop", 60)
    for _, raw in mails:
        dovecot.deliver(raw)
    with FaultProxy(dovecot.host, dovecot.port) as proxy:
        config = write_crash_config(tmp_path, imap=dovecot, imap_port=proxy.port)
        proxy.plan(Fault(drop_after=120_000))
        first = run_cli(config, "poll", "--once")
        assert proxy.reached.is_set()
        assert first.code == 2
        error = one_line_error(first.stderr)
        assert "IMAP" in error
        kept = ledger_ids(tmp_path)
        assert 0 < len(kept) < 60
        second = in_process(config, "poll", "--once")
        assert second.code == 0, second.stderr
    ids = ledger_ids(tmp_path)
    assert sorted(ids) == sorted(m for m, _ in mails)


def test_imap_stall_longer_than_timeout_is_a_clear_error(dovecot, tmp_path):
    mails = small_mails("stall", 30)
    for _, raw in mails:
        dovecot.deliver(raw)
    with FaultProxy(dovecot.host, dovecot.port) as proxy:
        config = write_crash_config(tmp_path, imap=dovecot, imap_port=proxy.port, timeout=2)
        proxy.plan(Fault(stall_after=40_000))
        stalled = Since(proxy.reached)
        first = run_cli(config, "poll", "--once")
        assert proxy.reached.is_set()
        took = stalled.seconds()
        proxy.release()
        assert first.code == 2, first.stderr
        error = one_line_error(first.stderr)
        assert "2 秒応答しない" in error and f"{dovecot.host}:{proxy.port}" in error
        # From the stall on: the 2 s timeout (the default is 60 s), not a hang. Measured from
        # the stall, not from the start, so a slow start on a busy machine does not count.
        assert took < 30, took
        kept = ledger_ids(tmp_path)
        assert len(kept) < 30
        second = in_process(config, "poll", "--once")
        assert second.code == 0, second.stderr
    assert sorted(ledger_ids(tmp_path)) == sorted(m for m, _ in mails)


def test_imap_answering_slowly_within_the_timeout_still_records_everything(dovecot, tmp_path):
    mails = small_mails("slow", 10)
    for _, raw in mails:
        dovecot.deliver(raw)
    with FaultProxy(dovecot.host, dovecot.port) as proxy:
        config = write_crash_config(tmp_path, imap=dovecot, imap_port=proxy.port, timeout=5)
        # 512 bytes every 10 ms: each read waits far less than the timeout, the whole takes long
        proxy.plan(Fault(delay=0.01, chunk=512))
        started = time.monotonic()
        done = in_process(config, "poll", "--once")
        assert done.code == 0, done.stderr
        assert time.monotonic() - started > 0.5  # it really was slow
    assert sorted(ledger_ids(tmp_path)) == sorted(m for m, _ in mails)
    assert "新規 10" in done.stdout


def reply_rows(tmp_path: Path) -> list[dict]:
    with sqlite3.connect(tmp_path / "ledger.db") as db:
        db.row_factory = sqlite3.Row
        return [dict(r) for r in db.execute("SELECT * FROM replies ORDER BY id")]


def make_due(tmp_path: Path) -> None:
    """Time passes: every retry is due now."""
    with sqlite3.connect(tmp_path / "ledger.db") as db:
        db.execute("UPDATE replies SET next_attempt_at = '2000-01-01T00:00:00+00:00' "
                   "WHERE next_attempt_at IS NOT NULL")


@pytest.mark.parametrize("code", [451, 421])
def test_smtp_transient_answer_is_retried_later(dovecot, smtp_server, tmp_path, code):
    mails = small_mails(f"t{code}", 2)
    for _, raw in mails:
        dovecot.deliver(raw)
    config = write_crash_config(tmp_path, imap=dovecot, smtp=smtp_server)
    smtp_server.fail_next(code, "4.3.0 Try again later")
    first = in_process(config, "poll", "--once")
    assert first.code == 0, first.stderr
    rows = reply_rows(tmp_path)
    assert [r["status"] for r in rows] == ["queued", "queued" if code == 421 else "sent"]
    assert rows[0]["smtp_response"] == f"{code} 4.3.0 Try again later"
    assert rows[0]["attempts"] == 1 and rows[0]["next_attempt_at"] is not None
    if code == 421:  # the server closes after 421: the second reply waits, without a penalty
        assert rows[1]["attempts"] == 0 and rows[1]["next_attempt_at"] is None
    assert "再試行待ち 1" in first.stdout
    # Not due yet: the next pass leaves the retried row alone (and sends what never was tried).
    assert in_process(config, "poll", "--once").code == 0
    assert reply_rows(tmp_path)[0]["status"] == "queued"
    make_due(tmp_path)
    assert in_process(config, "poll", "--once").code == 0
    rows = reply_rows(tmp_path)
    assert [r["status"] for r in rows] == ["sent", "sent"]
    assert rows[0]["attempts"] == 2
    assert sorted(str(m.message["Message-ID"]) for m in smtp_server.messages) == \
        sorted(r["message_id_header"] for r in rows)  # each reply exactly once


def test_smtp_permanent_answer_fails_with_the_answer_recorded(dovecot, smtp_server, tmp_path):
    (msgid, raw), = small_mails("p550", 1)
    dovecot.deliver(raw)
    config = write_crash_config(tmp_path, imap=dovecot, smtp=smtp_server)
    smtp_server.fail_next(550, "5.1.1 User unknown")
    first = in_process(config, "poll", "--once")
    assert first.code == 0, first.stderr
    assert "失敗 1" in first.stdout
    row, = reply_rows(tmp_path)
    assert row["status"] == "failed" and row["smtp_response"] == "550 5.1.1 User unknown"
    make_due(tmp_path)
    assert in_process(config, "poll", "--once").code == 0
    assert reply_rows(tmp_path)[0]["status"] == "failed"  # waits for staff, never resent
    assert smtp_server.messages == []


def create_sent_folder(dovecot) -> None:  # noqa: ANN001 - the DovecotServer fixture
    dovecot._imap().create_folder("Sent")


def test_smtp_dropped_during_data_is_never_resent_blindly(dovecot, smtp_server, tmp_path):
    """The link dies while the mail is being handed over: the program cannot know whether the
    server took it. Without a Sent folder the row waits for staff (`unknown`); with one, the
    next pass looks the Message-ID up there and, not finding it, still leaves it to staff:
    no second copy is ever sent without a person deciding."""
    (msgid, raw), = small_mails("data", 1)
    dovecot.deliver(raw)
    with FaultProxy(smtp_server.host, smtp_server.port) as proxy:
        config = write_crash_config(tmp_path, imap=dovecot, smtp=smtp_server,
                                    smtp_port=proxy.port, timeout=60)  # a drop closes at once; 60 s spares a busy box
        # EHLO, MAIL, RCPT and DATA take about 150 bytes up; 1500 is inside the mail itself.
        proxy.plan(Fault(drop_after=1500, direction="up"))
        first = in_process(config, "poll", "--once")
        assert proxy.reached.is_set()
        assert first.code == 0, first.stderr
        row, = reply_rows(tmp_path)
        assert row["status"] == "sending" and row["attempts"] == 1
        assert events(tmp_path, row["id"])[-1] == "outcome_unknown"
        second = in_process(config, "poll", "--once")
        assert second.code == 0, second.stderr
        row, = reply_rows(tmp_path)
        assert row["status"] == "unknown"  # staff decide; never sent twice blindly
        assert in_process(config, "poll", "--once").code == 0
        assert reply_rows(tmp_path)[0]["status"] == "unknown"
        assert smtp_server.messages == []

        # The same with a Sent folder to ask: not there, and still nothing goes out by itself.
        with sqlite3.connect(tmp_path / "ledger.db") as db:
            db.execute("UPDATE replies SET status = 'queued'")
        create_sent_folder(dovecot)
        config.write_text(config.read_text().replace("batch_size = 20",
                                                     'batch_size = 20\nsent_folder = "Sent"'))
        proxy.plan(Fault(drop_after=1500, direction="up"))
        assert in_process(config, "poll", "--once").code == 0
        assert reply_rows(tmp_path)[0]["status"] == "sending"
        assert in_process(config, "poll", "--once").code == 0
        assert reply_rows(tmp_path)[0]["status"] == "unknown"
        assert smtp_server.messages == []
        # Staff decide to send it: it goes out once.
        row, = reply_rows(tmp_path)
        assert in_process(config, "outbox", "approve", str(row["id"]), "--by", "tanaka").code == 0
        assert in_process(config, "poll", "--once").code == 0
    row, = reply_rows(tmp_path)
    assert row["status"] == "sent"
    assert [str(m.message["Message-ID"]) for m in smtp_server.messages] == \
        [row["message_id_header"]]


def test_smtp_connection_dropped_at_greeting_retries_later(dovecot, smtp_server, tmp_path):
    (msgid, raw), = small_mails("greet", 1)
    dovecot.deliver(raw)
    with FaultProxy(smtp_server.host, smtp_server.port) as proxy:
        config = write_crash_config(tmp_path, imap=dovecot, smtp=smtp_server,
                                    smtp_port=proxy.port, timeout=60)  # a drop closes at once; 60 s spares a busy box
        proxy.plan(Fault(drop_after=0))
        first = in_process(config, "poll", "--once")
        assert first.code == 0, first.stderr
        assert "再試行待ち 1" in first.stdout
        row, = reply_rows(tmp_path)
        assert row["status"] == "queued" and row["next_attempt_at"] is not None
        assert "接続できません" in row["smtp_response"]
        make_due(tmp_path)
        assert in_process(config, "poll", "--once").code == 0
    row, = reply_rows(tmp_path)
    assert row["status"] == "sent"
    assert len(smtp_server.messages) == 1


def events(tmp_path: Path, reply: int) -> list[str]:
    with sqlite3.connect(tmp_path / "ledger.db") as db:
        return [r[0] for r in db.execute(
            "SELECT event FROM events WHERE entity = 'reply' AND entity_id = ? ORDER BY id",
            [reply])]


def test_locked_ledger_is_waited_for_then_a_clear_error(dovecot, tmp_path):
    """Another program holds an EXCLUSIVE transaction on the ledger. A hold shorter than the
    ledger's busy timeout is waited out; a longer one is a one-line error once the timeout has
    passed, and nothing of the mailbox is lost: the next run records it. Each run is seen at
    its commit point (its mail's blob durable, no row) before anything is asserted."""
    config = write_crash_config(tmp_path, imap=dovecot)
    assert in_process(config, "poll", "--once").code == 0  # the ledger exists
    ledger, blobs = tmp_path / "ledger.db", tmp_path / "blobs"
    mails = small_mails("lock", 3)
    dovecot.deliver(mails[0][1])

    def at_commit(proc: subprocess.Popen[bytes], n: int) -> None:
        """Wait until `proc` has its `n` fetched mails durable and waits to commit their rows."""
        deadline = time.monotonic() + SLOW
        while len(blob_files(blobs) - row_blobs(ledger)) < n:
            assert proc.poll() is None, finish(proc, kill=False).stderr
            assert time.monotonic() < deadline, "the run never reached its commit"
            time.sleep(0.02)

    with ledger_write_lock(ledger, "EXCLUSIVE"):
        proc = start_cli(config, "poll", "--once")  # the default busy timeout: 30 s
        at_commit(proc, 1)
        assert ledger_ids(tmp_path) == []
    run = finish(proc, kill=False)  # released well within the timeout: the run goes on
    assert run.code == 0, run.stderr
    assert ledger_ids(tmp_path) == [mails[0][0]]

    for _, raw in mails[1:]:
        dovecot.deliver(raw)
    busy = 2.0
    config.write_text(config.read_text() + f"[ledger]\nbusy_timeout_seconds = {busy}\n")
    with ledger_write_lock(ledger, "EXCLUSIVE"):
        proc = start_cli(config, "poll", "--once")
        at_commit(proc, 2)
        waiting = time.monotonic()
        blocked = finish_within(proc, SLOW)
        waited = time.monotonic() - waiting
    assert blocked.code == 2, blocked.stderr
    error = one_line_error(blocked.stderr)
    assert "台帳" in error and "ロック" in error
    # It waited for the lock (SQLite's busy handler sleeps up to the timeout in steps of at most
    # 0.1 s), it did not fail at once.
    assert waited >= busy - 0.2, waited
    assert ledger_ids(tmp_path) == [mails[0][0]]
    assert in_process(config, "poll", "--once").code == 0
    assert sorted(ledger_ids(tmp_path)) == sorted(m for m, _ in mails)


def row_blobs(ledger: Path) -> set[str]:
    with sqlite3.connect(f"file:{ledger}?mode=ro", uri=True) as db:
        return {r[0] for r in db.execute("SELECT sha256 FROM messages")}


def finish_within(proc: subprocess.Popen[bytes], timeout: float) -> Run:
    """Let `proc` end by itself; fail (killing it) when it hangs."""
    try:
        proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        raise AssertionError(f"the run did not end in {timeout} s: "
                             f"{finish(proc, kill=True).stderr}") from None
    return finish(proc, kill=False)


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    """A 2 MB tmpfs for the blob store; skipped where mounting is not permitted."""
    where = tmp_path / "small-disk"
    where.mkdir()
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=2m", "tmpfs", str(where)],
                             capture_output=True, text=True, check=False)
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a small tmpfs here: {mounted.stderr.strip()}")
    try:
        yield where
    finally:
        subprocess.run(["umount", "-l", str(where)], check=False)


def test_full_blob_disk_is_a_clear_error_and_the_mail_is_recorded_later(
        dovecot, tmp_path, small_disk):
    blobs = small_disk / "blobs"
    config = write_crash_config(tmp_path, imap=dovecot, blobs=blobs)
    big = mail(f"<容量コンソーシアム>{CORE}", "よろしくお願いします。\n", "big@faults.example.jp",
               "<big@faults.example.jp>", attachments={"a.pdf": os.urandom(600_000)})
    dovecot.deliver(big)
    blobs.mkdir()
    filler = small_disk / "filler"
    filler.write_bytes(b"\0" * (1_700_000))  # ~300 KB left: less than the mail (~800 KB)
    first = run_cli(config, "poll", "--once")
    assert first.code == 2, first.stderr
    error = one_line_error(first.stderr)
    assert str(blobs) in error and "空き" in error
    with sqlite3.connect(tmp_path / "ledger.db") as db:
        assert db.execute("SELECT count(*) FROM messages").fetchone()[0] == 0
        assert db.execute("SELECT count(*) FROM imap_seen").fetchone()[0] == 0  # not recorded
    assert not [p for p in blobs.rglob("*") if p.is_file()]  # no half-written blob left

    filler.unlink()  # the operator frees space
    second = in_process(config, "poll", "--once")
    assert second.code == 0, second.stderr
    assert ledger_ids(tmp_path) == ["<big@faults.example.jp>"]
    view = read_ledger(tmp_path / "ledger.db", blobs)
    assert view.blobs_missing == []


def test_smtp_server_that_never_greets_times_out_and_retries_later(dovecot, smtp_server,
                                                                   tmp_path):
    (msgid, raw), = small_mails("mute", 1)
    dovecot.deliver(raw)
    with FaultProxy(smtp_server.host, smtp_server.port) as proxy:
        config = write_crash_config(tmp_path, imap=dovecot, smtp=smtp_server,
                                    smtp_port=proxy.port, timeout=2)
        proxy.plan(Fault(stall_after=0))  # connected, but not a byte of greeting
        stalled = Since(proxy.reached)
        first = in_process(config, "poll", "--once")
        assert proxy.reached.is_set()
        assert first.code == 0, first.stderr
        # From the stall on: the 2 s timeout (the default is 60 s), not a hang.
        assert stalled.seconds() < 30
        row, = reply_rows(tmp_path)
        assert row["status"] == "queued" and row["next_attempt_at"] is not None
        assert "timed out" in row["smtp_response"]
        proxy.release()
        make_due(tmp_path)
        assert in_process(config, "poll", "--once").code == 0
    assert reply_rows(tmp_path)[0]["status"] == "sent"
    assert [str(m.message["Message-ID"]) for m in smtp_server.messages] == \
        [reply_rows(tmp_path)[0]["message_id_header"]]


def test_a_folder_without_uidvalidity_is_skipped_not_ingested_again(dovecot, tmp_path):
    """A UID means nothing without its UIDVALIDITY: when the server leaves it out of SELECT, the
    pass stops with one line and records nothing (neither the known mails again nor the new
    ones), `status` warns, and the next pass that sees it takes only the new mails."""
    mails = small_mails("novalidity", 5)
    for _, raw in mails[:3]:
        dovecot.deliver(raw)
    config = write_crash_config(tmp_path, imap=dovecot)
    assert in_process(config, "poll", "--once").code == 0
    assert len(ledger_ids(tmp_path)) == 3
    for _, raw in mails[3:]:
        dovecot.deliver(raw)
    with FaultProxy(dovecot.host, dovecot.port) as proxy:
        proxy.plan(*[Fault(rewrite=(b"UIDVALIDITY", b"UIDNEXTXXXX"))] * 4)
        config = write_crash_config(tmp_path, imap=dovecot, imap_port=proxy.port)
        blind = run_cli(config, "poll", "--once")
        assert blind.code == 2, blind.stderr
        assert "UIDVALIDITY" in one_line_error(blind.stderr)
        assert len(ledger_ids(tmp_path)) == 3
        status = in_process(config, "status")
        assert status.code == 1, status.stdout  # a cron job's failed poll is loud at once
        assert "取得エラー" in status.stdout and "UIDVALIDITY" in status.stdout
    config = write_crash_config(tmp_path, imap=dovecot)
    assert in_process(config, "poll", "--once").code == 0
    assert sorted(ledger_ids(tmp_path)) == sorted(m for m, _ in mails)
    assert in_process(config, "status").code == 0  # the good poll clears the warning
