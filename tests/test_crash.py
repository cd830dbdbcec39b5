"""SIGKILL the real `renkei-intake` (poll --once, run, replay, reprocess) at seeded random and
at aimed moments, restart it until it is done, and prove that nothing was lost or doubled:

- the ledger holds every delivered mail exactly once (by Message-ID), and every row's blob;
  blobs without a row (written just before a kill) are allowed;
- every reply reached the SMTP server at most once per (recipient, Message-ID), every
  submission has at most one reply of each kind, and every submission was answered.

Aimed moments: during the IMAP fetch (the proxy slows Dovecot), between the blobs of a FETCH
batch being durable and the batch's rows being committed (another connection holds the
ledger's write lock, the kill comes once every blob of the batch is on disk), during SMTP
DATA (the SMTP server holds its answer), and between send and mark (the server has the mail
and then holds the ledger lock so the 250 cannot be recorded).
"""

from __future__ import annotations

import random
import sqlite3
import threading
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.crash_helpers import (
    BoxMail,
    HoldingSmtp,
    blob_files,
    finish,
    kill_after,
    kill_when,
    message_count,
    mixed_mailbox,
    read_ledger,
    run_cli,
    smtp_counts,
    start_cli,
    write_crash_config,
)
from tests.faultproxy import Fault, FaultProxy
from tests.mails import CORE, mail

SEED = 20220803
SLOW = 600  # s: only a hung program takes this long, however busy the machine


@pytest.fixture(scope="module")
def poll_mailbox() -> list[BoxMail]:
    return mixed_mailbox("poll")


@pytest.fixture
def smtp() -> Iterator[HoldingSmtp]:
    server = HoldingSmtp()
    server.start()
    yield server
    server.release()
    server.stop()


def unfinished(ledger: Path) -> dict[str, int]:
    """What a further run would still have to do (empty when the ledger is settled)."""
    with sqlite3.connect(f"file:{ledger}?mode=ro", uri=True) as db:
        left = {
            "received": db.execute(
                "SELECT count(*) FROM messages WHERE state = 'received'").fetchone()[0],
            "open": db.execute(
                "SELECT count(*) FROM submissions WHERE state = 'open'").fetchone()[0],
            "unsent": db.execute(
                "SELECT count(*) FROM replies WHERE status IN ('queued', 'sending')").fetchone()[0],
        }
    return {k: v for k, v in left.items() if v}


def settle(config: Path, ledger: Path, runs: int = 4) -> None:
    """Run `poll --once` without interference until nothing is left to do."""
    for _ in range(runs):
        done = run_cli(config, "poll", "--once", timeout=SLOW)
        assert done.code == 0, done.stderr
        if not unfinished(ledger):
            return
    raise AssertionError(f"still unfinished after {runs} clean runs: {unfinished(ledger)}")


def assert_exactly_once(tmp_path: Path, mails: list[BoxMail], smtp: HoldingSmtp,
                        random_kills: int) -> None:
    ledger, blobs = tmp_path / "ledger.db", tmp_path / "blobs"
    view = read_ledger(ledger, blobs)
    assert view.messages == Counter({m.message_id: 1 for m in mails})
    assert view.blobs_missing == []  # orphan blobs are fine, rows without blobs are not
    assert set(view.states) <= {"checked", "needs_review"}, view.states
    # The SMTP server got each reply once; every reply the ledger calls sent is among them.
    counts = smtp_counts(smtp)
    assert counts and max(counts.values()) == 1, counts.most_common(3)
    sent = {(r["to_addr"].lower(), r["message_id_header"]) for r in view.replies
            if r["status"] == "sent"}
    assert sent == set(counts)
    # A random kill after DATA began and before the server had the whole mail leaves a reply
    # nobody can know was delivered: it waits for staff (`unknown`), never sent again. Such a
    # reply never reached the server; one that did is found in Sent and is `sent`. (How often
    # a random kill lands there depends on the machine's speed.)
    unknown = {(r["to_addr"].lower(), r["message_id_header"]) for r in view.replies
               if r["status"] == "unknown"}
    assert not unknown & set(counts), unknown & set(counts)
    assert {r["status"] for r in view.replies} <= {"sent", "unknown"}
    assert len(unknown) <= random_kills, unknown  # a killed run has one reply in flight
    # One reply per submission (kind unique per submission), none for the bounces.
    per_submission = Counter(r["submission_id"] for r in view.replies)
    assert max(per_submission.values()) == 1
    assert max(view.receipts_per_submission.values()) == 1
    submissions = [s for s in view.submissions if s["kind"] == "submission"]
    assert {s["id"] for s in submissions} == set(per_submission)  # every one was answered
    not_submissions = [s for s in view.submissions if s["kind"] != "submission"]
    assert len(not_submissions) == sum(m.kind == "bounce" for m in mails)
    assert not any("mailer-daemon" in rcpt for rcpt, _ in counts)
    kinds = Counter(r["kind"] for r in view.replies)
    assert kinds["deficiency"] == sum(m.kind == "deficient" for m in mails)
    distinct_complete = sum(m.kind == "complete" and "sample" not in m.message_id for m in mails)
    whole = (distinct_complete + 1 + sum(m.kind == "split" for m in mails) // 2
             + sum(m.kind == "encrypted" for m in mails))
    # The sample consortium's repeats are one version per run that took some of them.
    assert whole <= kinds["receipt"] <= whole + 3, kinds


class FilingSmtp:
    """Makes the SMTP server file each accepted mail in the account's Sent folder before its
    250, as Exchange and Gmail do: after a kill the outbox finds every mail that went out."""

    def __init__(self, smtp: HoldingSmtp, dovecot) -> None:  # noqa: ANN001 - the fixture
        self.dovecot = dovecot
        self.lock_next = threading.Event()  # the next accepted mail takes the ledger lock
        self.locked = threading.Event()
        self.ledger: Path | None = None
        self._held: sqlite3.Connection | None = None
        smtp.on_accept = self.accepted
        self.smtp = smtp

    def accepted(self) -> None:
        raw = self.smtp.messages[-1].data
        client = self.dovecot.client()
        try:
            client.append("Sent", raw)
        finally:
            client.logout()
        self.lock_only()

    def lock_only(self) -> None:
        if self.lock_next.is_set() and self.ledger is not None:
            self.lock_next.clear()
            # The 250 goes out after this returns; the program can then not record it.
            db = sqlite3.connect(self.ledger, timeout=30, isolation_level=None,
                                 check_same_thread=False)
            db.execute("BEGIN IMMEDIATE")
            self._held = db
            self.locked.set()

    def unlock(self) -> None:
        db, self._held = self._held, None
        if db is not None:
            db.execute("ROLLBACK")
            db.close()
        self.locked.clear()


def test_poll_and_daemon_killed_at_random_and_aimed_moments(dovecot, smtp, tmp_path,
                                                            poll_mailbox):
    # Four waves of 50, delivered as the runs go on, so kills land while mails are fetched,
    # recorded, evaluated and answered, not only in the first run that finds them all.
    # The last 20 are held back for the aimed SMTP kills: on a fast machine the random runs
    # answer everything delivered so far, and an aimed kill needs a reply still to send.
    waves = [poll_mailbox[i:i + 45] for i in range(0, len(poll_mailbox) - 20, 45)]
    aimed = poll_mailbox[-20:]

    def deliver_wave() -> None:
        for m in waves.pop(0):
            dovecot.deliver(m.raw)

    deliver_wave()
    dovecot._imap().create_folder("Sent")
    ledger, blobs = tmp_path / "ledger.db", tmp_path / "blobs"
    filing = FilingSmtp(smtp, dovecot)
    filing.ledger = ledger
    rng = random.Random(SEED)
    kills: Counter[str] = Counter()
    with FaultProxy(dovecot.host, dovecot.port) as proxy:
        config = write_crash_config(tmp_path, imap=dovecot, smtp=smtp, imap_port=proxy.port,
                                    extra="")
        config.write_text(config.read_text().replace(
            "batch_size = 20", 'batch_size = 20\nsent_folder = "Sent"'))
        poll = ("poll", "--once")

        # 1. During the fetch: Dovecot slowed to a trickle, killed inside the FETCH answers.
        proxy.plan(Fault(delay=0.002, chunk=2048))
        start = proxy.bytes["down"]
        kill_when(config, poll, lambda: proxy.bytes["down"] - start > 150_000, timeout=SLOW)
        kills["fetch"] += 1
        assert 0 <= message_count(ledger) < 50

        # 2. Between "blobs durable" and "batch committed": the ledger is write-locked from
        # the start, the kill comes once every blob of the first FETCH batch (batch_size 20)
        # is on disk; its rows can never commit. Blobs without a row are that batch's mails,
        # those a kill in step 1 left included, so their number says the batch is whole.
        with _held_lock(ledger):
            counted = message_count(ledger)
            batch = min(20, 45 - counted)
            kill_when(config, poll,
                      lambda: len(blob_files(blobs) - _row_blobs(ledger)) >= batch, timeout=SLOW)
        kills["blobs-before-batch-row"] += 1
        assert message_count(ledger) == counted  # not one row of the batch
        assert len(blob_files(blobs) - _row_blobs(ledger)) == batch  # every blob, no row

        # 3. Seeded random moments, poll and the daemon taking turns.
        for n in range(16):
            if n % 4 == 0 and waves:
                deliver_wave()
            args = ("run",) if n % 4 == 3 else poll
            kill_after(config, args, rng.uniform(0.7, 3.0))
            kills[f"random-{args[0]}"] += 1
            if n == 5:
                # 4. During SMTP DATA: the server has stored the whole mail and holds its
                # answer; the program dies waiting for it.
                for m in aimed[:10]:
                    dovecot.deliver(m.raw)
                smtp.hold()
                proc = start_cli(config, *poll)
                entered = _wait(smtp.entered, proc, SLOW)
                killed = finish(proc, kill=True).code is None
                smtp.release()
                kills["smtp-data"] += entered and killed
                assert _count(ledger, SENDING) == 1  # the cut-off reply, left `sending`
                # 5. Between send and mark: the mail is accepted (and filed), then the ledger
                # is locked before the 250 leaves, so the program dies with the row `sending`.
                for m in aimed[10:]:
                    dovecot.deliver(m.raw)
                filing.lock_next.set()
                proc = start_cli(config, *poll)
                locked = _wait(filing.locked, proc, SLOW)
                time.sleep(0.3)
                killed = finish(proc, kill=True).code is None
                filing.unlock()
                filing.lock_next.clear()
                kills["send-before-mark"] += locked and killed
                assert _count(ledger, SENDING) == 1  # accepted by the server, not marked sent
        assert not waves
        settle(config, ledger)
    assert sum(kills.values()) >= 20 and kills["smtp-data"] and kills["send-before-mark"], kills
    assert_exactly_once(tmp_path, poll_mailbox, smtp,
                        sum(n for kind, n in kills.items() if kind.startswith("random")))
    with sqlite3.connect(ledger) as db:
        found = db.execute("SELECT count(*) FROM events WHERE entity = 'reply' AND event = 'sent' "
                           "AND detail LIKE '%送信済みフォルダで見つかりました%'").fetchone()[0]
    assert found >= 2  # the DATA and the send-before-mark kills were resolved via Sent


def _row_blobs(ledger: Path) -> set[str]:
    with sqlite3.connect(f"file:{ledger}?mode=ro", uri=True) as db:
        return {r[0] for r in db.execute("SELECT sha256 FROM messages")}


def _wait(event: threading.Event, proc, timeout: float) -> bool:  # noqa: ANN001 - a Popen
    """Wait for `event` while `proc` runs; False when the process ended first."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if event.wait(0.02):
            return True
        if proc.poll() is not None:
            return False
    return False


class _held_lock:  # noqa: N801 - used like a function
    def __init__(self, ledger: Path) -> None:
        self.ledger = ledger

    def __enter__(self) -> sqlite3.Connection:
        self.db = sqlite3.connect(self.ledger, timeout=30, isolation_level=None)
        self.db.execute("BEGIN IMMEDIATE")
        return self.db

    def __exit__(self, *exc: object) -> None:
        self.db.execute("ROLLBACK")
        self.db.close()


def test_smtp_kills_without_a_sent_folder_leave_replies_for_staff(dovecot, smtp, tmp_path):
    """No Sent folder to ask: a reply whose send was cut off (during DATA, or after the 250
    but before the ledger recorded it) becomes `unknown` for staff and is never sent again."""
    mails = [BoxMail(raw, msgid, "deficient") for msgid, raw in (
        (f"<nosent{n}@crash.example.jp>",
         mail(f"<未送{n}コンソーシアム>{CORE}", "よろしくお願いします。\n",
              f"nosent{n}@fubi.example.jp", f"<nosent{n}@crash.example.jp>",
              attachments={"a.pdf": b"%PDF-1.4\n"})) for n in range(4))]
    for m in mails:
        dovecot.deliver(m.raw)
    ledger = tmp_path / "ledger.db"
    config = write_crash_config(tmp_path, imap=dovecot, smtp=smtp)
    smtp.hold()
    proc = start_cli(config, "poll", "--once")
    assert _wait(smtp.entered, proc, SLOW)
    finish(proc, kill=True)
    smtp.release()
    assert len(smtp.messages) == 1  # the server kept the mail; the client never heard so

    filing = FilingSmtp(smtp, dovecot)
    filing.ledger = ledger
    filing.dovecot = None  # this server files nothing
    smtp.on_accept = filing.lock_only
    filing.lock_next.set()
    proc = start_cli(config, "poll", "--once")
    assert _wait(filing.locked, proc, SLOW)
    time.sleep(0.3)
    finish(proc, kill=True)
    filing.unlock()
    smtp.on_accept = None
    settle(config, ledger)

    view = read_ledger(ledger, tmp_path / "blobs")
    statuses = Counter(r["status"] for r in view.replies)
    assert statuses == Counter({"unknown": 2, "sent": 2}), statuses
    counts = smtp_counts(smtp)
    assert len(counts) == 4 and set(counts.values()) == {1}  # each reply reached it once
    assert run_cli(config, "poll", "--once", timeout=SLOW).code == 0
    assert smtp_counts(smtp) == counts  # and an `unknown` row is never sent by itself


def write_maildir(root: Path, mails: list[BoxMail]) -> Path:
    """A Maildir whose file names say the mails arrived during the last hour (so the split
    and password windows are still open when they are replayed)."""
    first = int(time.time()) - 3600
    for sub in ("cur", "new", "tmp"):
        (root / sub).mkdir(parents=True)
    for n, m in enumerate(mails):
        (root / "cur" / f"{first + n}.M{n}P1.crash:2,S").write_bytes(m.raw)
    return root


SENDING = "SELECT count(*) FROM replies WHERE status = 'sending'"


def _count(ledger: Path, query: str) -> int:
    try:
        with sqlite3.connect(f"file:{ledger}?mode=ro", uri=True, timeout=0.1) as db:
            return int(db.execute(query).fetchone()[0])
    except sqlite3.OperationalError:
        return 0  # busy for a moment: ask again


def _outside_and_unanswered(ledger: Path) -> tuple[int, int]:
    """In one snapshot: submissions found outside the period, and how many of them lack their
    out-of-period notice."""
    with sqlite3.connect(f"file:{ledger}?mode=ro", uri=True, timeout=SLOW) as db:
        return db.execute(
            "SELECT count(*), count(*) - count(r.id) FROM "
            "(SELECT DISTINCT submission_id FROM findings WHERE code = 'OUTSIDE_PERIOD') f "
            "LEFT JOIN replies r ON r.submission_id = f.submission_id "
            "AND r.kind = 'out_of_period'").fetchone()


FILED = "SELECT count(*) FROM messages WHERE state != 'received'"
EVALUATED = "SELECT count(*) FROM events WHERE entity = 'submission' AND event = 'evaluated'"
REPLIES = "SELECT count(*) FROM replies"
OUT_OF_PERIOD = "SELECT count(*) FROM replies WHERE kind = 'out_of_period'"


def _kill_at(config: Path, args: tuple[str, ...], ledger: Path, query: str, more: int) -> None:
    """Kill the run once `query` counts `more` beyond what the ledger holds now: the moment is
    set by the work done, never by the clock, so a slow machine kills at the same places."""
    target = _count(ledger, query) + more
    kill_when(config, args, lambda: _count(ledger, query) >= target, timeout=SLOW)


def test_replay_and_reprocess_killed_at_random_moments(tmp_path):
    """No SMTP: replies become .eml files in the outbox. Kills during each phase of `replay`
    of a 200-mail Maildir (recording, filing, judging, answering), then during `reprocess
    --all` after a rule change (the period moved into the past, so every submission now needs
    an out-of-period notice)."""
    mails = mixed_mailbox("replay")
    maildir = write_maildir(tmp_path / "maildir", mails)
    ledger, blobs = tmp_path / "ledger.db", tmp_path / "blobs"
    config = write_crash_config(tmp_path)
    rng = random.Random(SEED + 1)
    replay = ("replay", str(maildir))
    recorded = rng.randint(20, 120)
    kill_when(config, replay, lambda: message_count(ledger) >= recorded, timeout=SLOW)
    for query, most in ((FILED, 60), (EVALUATED, 40), (REPLIES, 40)):
        _kill_at(config, replay, ledger, query, rng.randint(5, most))
    done = run_cli(config, *replay, timeout=SLOW)
    assert done.code == 0, done.stderr
    view = read_ledger(ledger, blobs)
    assert view.messages == Counter({m.message_id: 1 for m in mails})
    assert view.blobs_missing == []
    assert not unfinished(ledger)
    per_submission = Counter(r["submission_id"] for r in view.replies)
    answered = {s["id"] for s in view.submissions if s["kind"] == "submission"}
    assert set(per_submission) == answered and max(per_submission.values()) == 1
    assert {r["status"] for r in view.replies} == {"written"}
    files = sorted(p.name for p in (tmp_path / "outbox").glob("*.eml"))
    assert files == sorted(f"{r['submission_id']:05d}-{r['kind']}.eml" for r in view.replies)

    # The rule change: the application period ended long ago.
    config.write_text(config.read_text().replace(
        'period_end = "2039-12-31T23:59:59+09:00"', 'period_end = "2020-12-31T23:59:59+09:00"'))
    # Aimed: as soon as the first new findings are committed. Every look at the ledger on the
    # way must find each new finding's notice queued with it, never one without the other.
    unanswered: list[int] = []

    def first_findings() -> bool:
        outside, without_notice = _outside_and_unanswered(ledger)
        unanswered.append(without_notice)
        return outside > 0

    kill_when(config, ("reprocess", "--all"), first_findings, timeout=SLOW)
    outside, without_notice = _outside_and_unanswered(ledger)
    assert max(unanswered) == 0 and outside >= 1 and without_notice == 0
    for _ in range(3):
        _kill_at(config, ("reprocess", "--all"), ledger, OUT_OF_PERIOD, rng.randint(3, 30))
    done = run_cli(config, "reprocess", "--all", timeout=SLOW)
    assert done.code == 0, done.stderr
    view = read_ledger(ledger, blobs)
    notices = Counter(r["submission_id"] for r in view.replies if r["kind"] == "out_of_period")
    assert set(notices) == answered and max(notices.values()) == 1  # each exactly once
    with sqlite3.connect(ledger) as db:
        findings = Counter(db.execute(
            "SELECT submission_id, code, detail, member, document FROM findings "
            "WHERE submission_id IS NOT NULL"))
        outside = {r[0] for r in db.execute(
            "SELECT submission_id FROM findings WHERE code = 'OUTSIDE_PERIOD'")}
    assert max(findings.values()) == 1  # no finding doubled by a half-done evaluation
    assert outside == answered
    assert view.messages == Counter({m.message_id: 1 for m in mails})


@pytest.mark.parametrize("kind", ["split", "encrypted"])
def test_a_mail_left_unfiled_by_a_killed_run_is_grouped_as_in_order(tmp_path, kind):
    """A run killed after recording a mail and before filing it leaves it `received`. The next
    run reads the later mails of the group too: the earlier one must still be filed first, or a
    split becomes two halves waiting for each other (and a password finds no archive), and the
    submissions stay open until their windows run out."""
    from ingest import app
    from ingest.config import load_settings
    from ingest.sources import open_source

    group = [m for m in mixed_mailbox(f"unfiled-{kind}", complete=0, same_consortium=0,
                                      deficient=0, bounces=0, splits=1, encrypted=1)
             if m.kind in (kind, "password" if kind == "encrypted" else kind)]
    assert len(group) == 2
    maildir = write_maildir(tmp_path / "maildir", group)
    settings = load_settings(write_crash_config(tmp_path))
    ledger = app.open_ledger(settings)
    first = next(open_source(str(maildir)).mails())
    ledger.record_mail(first.raw, first.arrival)  # what the killed run left
    report = app.replay(app.make_pipeline(settings, ledger), open_source(str(maildir)))
    ledger.close()
    assert not unfinished(tmp_path / "ledger.db")
    view = read_ledger(tmp_path / "ledger.db", tmp_path / "blobs")
    assert len(view.submissions) == 1 and report.replies == {"receipt": 1}, view.submissions
