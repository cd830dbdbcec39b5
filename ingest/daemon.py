"""`renkei-intake run`: the secretariat daemon.

APScheduler runs one cycle (fetch, evaluate, send) every poll interval; an IMAP IDLE watcher
records new mail as soon as the server announces it and wakes the cycle to file and answer
it. Failures are logged, recorded in the heartbeat table (so `status` shows them) and retried
with backoff; SIGTERM lets the running cycle finish. The mails of each FETCH batch are
committed before anything acts on them, so a stop at any moment loses nothing.
"""

from __future__ import annotations

import contextlib
import logging
import signal
import sqlite3
import threading
import time
from datetime import UTC, datetime, timedelta
from types import FrameType

from apscheduler.schedulers.background import BackgroundScheduler
from imapclient.exceptions import IMAPClientError

from ingest import app
from ingest.config import Settings
from ingest.health import poll_error_beat
from ingest.imap_source import MailboxError, connect, new_batches
from ingest.ledger_cmd import BackupError, backup, prune_backups
from ingest.logs import setup_logging
from replies.connection import SecretError
from state.ledger import Ledger

log = logging.getLogger("renkei_intake.daemon")
IDLE_RENEW_SECONDS = 25 * 60  # RFC 2177: re-issue IDLE before the server's 30-minute timeout
MAX_BACKOFF_SECONDS = 15 * 60
IDLE_CHECK_SECONDS = 5.0  # how often the IDLE watcher looks up to notice a shutdown


class Backoff:
    """Doubling wait after consecutive failures, reset by a success."""

    def __init__(self, first: float, limit: float = MAX_BACKOFF_SECONDS) -> None:
        self.first, self.limit, self.failures = first, limit, 0
        self.not_before = datetime.min.replace(tzinfo=UTC)

    def ready(self, now: datetime) -> bool:
        return now >= self.not_before

    def failed(self, now: datetime) -> float:
        self.failures += 1
        delay = min(self.first * 2 ** (self.failures - 1), self.limit)
        self.not_before = now + timedelta(seconds=delay)
        return delay

    def succeeded(self) -> None:
        self.failures = 0
        self.not_before = datetime.min.replace(tzinfo=UTC)


class Daemon:
    def __init__(self, settings: Settings, ledger: Ledger, stopping: threading.Event) -> None:
        self.settings = settings
        self.ledger = ledger
        self.stopping = stopping
        self.wake = threading.Event()  # set by the IDLE watcher: new mail is waiting
        self.lock = threading.Lock()  # one cycle at a time, whoever triggers it
        self.recording = threading.Lock()  # held while the IDLE watcher records new mail
        self.fetch_backoff = Backoff(first=10)
        self.scheduler = BackgroundScheduler(timezone="Asia/Tokyo")

    def cycle(self) -> None:
        """Fetch and evaluate, then send. Runs again at once if IDLE announced mail meanwhile."""
        if not self.lock.acquire(blocking=False):
            return  # the running cycle re-runs itself when `wake` is set
        try:
            while not self.stopping.is_set():
                self.wake.clear()
                self._fetch()
                self._send()
                if not self.wake.is_set():
                    break
        finally:
            self.lock.release()

    def _fetch(self) -> None:
        now = datetime.now(UTC)
        if not self.settings.imap:
            app.make_pipeline(self.settings, self.ledger).advance()
            return
        if not self.fetch_backoff.ready(now):
            return
        server = self.settings.imap
        try:
            report = app.poll_once(app.make_pipeline(self.settings, self.ledger),
                                  stop=self.stopping.is_set)
        except (MailboxError, SecretError, OSError, IMAPClientError, sqlite3.Error) as exc:
            delay = self.fetch_backoff.failed(now)
            with contextlib.suppress(sqlite3.Error):  # the ledger itself may be what failed
                self.ledger.beat(poll_error_beat(server),
                                 {"error": str(exc), "retry_in_seconds": delay})
            log.error("mailbox: %s (retry in %.0f s)", exc, delay,
                      extra={"ctx_event": "poll_failed", "ctx_retry_in": delay})
            return
        if self.fetch_backoff.failures:
            log.info("mailbox reachable again", extra={"ctx_event": "poll_recovered"})
        self.fetch_backoff.succeeded()
        self.ledger.db["heartbeat"].delete_where("name = ?",
                                                 [poll_error_beat(server)])
        if report.new or report.submissions or report.replies:  # mail the watcher recorded too
            log.info("poll: %s", report.summary(),
                     extra={"ctx_event": "poll", "ctx_new": report.new})

    def _send(self) -> None:
        try:
            sent = app.send_pass(self.settings, self.ledger)
        except (OSError, SecretError) as exc:
            log.error("smtp: %s", exc, extra={"ctx_event": "send_failed"})
            with contextlib.suppress(sqlite3.Error):
                self.ledger.beat("send-error", {"error": str(exc)})
            return
        if sent and (sent.sent or sent.retrying or sent.failed):
            log.info("send: sent=%d retrying=%d failed=%d", sent.sent, sent.retrying,
                     sent.failed, extra={"ctx_event": "send", "ctx_sent": sent.sent})
        for error in sent.errors if sent else ():
            # A refused SMTP login or an expired OAuth2 grant must be loud, not just a count.
            log.error("smtp: %s", error, extra={"ctx_event": "send_error"})
        if sent and sent.errors and not sent.sent:
            self.ledger.beat("send-error", {"error": sent.errors[-1]})  # `status` warns
        elif sent and sent.sent:
            self.ledger.db["heartbeat"].delete_where("name = ?", ["send-error"])

    def watch_idle(self) -> None:
        """Hold an IDLE session; on new mail record it at once and wake the cycle to file and
        answer it. Reconnect with backoff."""
        server = self.settings.imap
        assert server is not None
        backoff = Backoff(first=5)
        # Its own connection, as SQLite opens one (app.open_ledger reads the file's header with
        # a descriptor of its own, and closing that would drop the cycle's locks on it).
        ledger = Ledger(self.ledger.path, self.ledger.blobs, busy_timeout=self.ledger.busy_timeout)
        try:
            while not self.stopping.is_set():
                try:
                    client = connect(server)
                except (MailboxError, SecretError) as exc:
                    delay = backoff.failed(datetime.now(UTC))
                    log.warning("idle: %s (reconnect in %.0f s)", exc, delay)
                    self.stopping.wait(delay)
                    continue
                try:
                    if b"IDLE" not in client.capabilities():
                        log.info("idle: the server has no IDLE; polling every %d s",
                                 self.settings.poll_interval_seconds)
                        return
                    # Mail that came while the watcher was away (or connecting) raises no
                    # EXISTS in the IDLE to come: record it first.
                    if self._record_new(client, ledger) or backoff.failures:
                        self._wake()
                    backoff.succeeded()
                    self._idle_loop(client, ledger)
                except (OSError, IMAPClientError) as exc:
                    delay = backoff.failed(datetime.now(UTC))
                    log.warning("idle: connection lost: %s (reconnect in %.0f s)", exc, delay)
                    self.stopping.wait(delay)
                finally:
                    with contextlib.suppress(Exception):  # already gone; nothing to clean up
                        client.logout()
        finally:
            ledger.close()

    def _idle_loop(self, client, ledger: Ledger) -> None:  # noqa: ANN001 - an IMAPClient
        started = datetime.now(UTC)
        while not self.stopping.is_set():
            client.idle()
            try:
                news = self._wait_for_news(client, started)
            finally:
                with contextlib.suppress(Exception):  # a dead connection cannot end IDLE politely
                    client.idle_done()
            if not news:
                return  # time to renew the IDLE session
            try:
                self._record_new(client, ledger)
            finally:
                self._wake()  # to file and answer them (or fetch them, if recording failed)

    def _wait_for_news(self, client, started: datetime) -> bool:  # noqa: ANN001 - an IMAPClient
        """True when the server announces new mail; False when the session is due for renewal
        or the daemon stops."""
        while not self.stopping.is_set():
            asked = time.monotonic()
            responses = client.idle_check(timeout=IDLE_CHECK_SECONDS)
            if any(r and r[0] == b"BYE" for r in responses):
                raise ConnectionError("the server ended the IDLE session (BYE)")
            if not responses and time.monotonic() - asked < IDLE_CHECK_SECONDS / 2:
                # imapclient returns at once with nothing when the socket is at EOF.
                raise ConnectionError("the IDLE connection was closed")
            if any(r[1] in (b"EXISTS", b"RECENT") for r in responses if len(r) > 1):
                return True
            if (datetime.now(UTC) - started).total_seconds() > IDLE_RENEW_SECONDS:
                return False
        return False

    def _record_new(self, client, ledger: Ledger) -> int:  # noqa: ANN001 - an IMAPClient
        """Record the mails IDLE announced, on the watcher's own connection and ledger, so a
        mail's row is committed within a moment of its arrival even while the cycle evaluates
        or sends (a deadline rush). Recording is all it does: the cycle it wakes files,
        judges and answers them. A mail over the size limit is left to the cycle, which
        records its headers and quarantines it. Should the cycle fetch the same mail at the
        same moment, the ledger recognises it by its sha256 and only one row is kept."""
        server = self.settings.imap
        assert server is not None
        recorded = 0
        try:
            with self.recording:
                for batch in new_batches(client, server, ledger):  # selects the folder
                    mails = [m for m in batch if not m.quarantine]
                    if mails:
                        recorded += len(ledger.record_mails([(m.raw, m.arrival) for m in mails]))
        except MailboxError as exc:
            raise ConnectionError(str(exc)) from None  # reconnect; the cycle fetches the rest
        except (sqlite3.Error, OSError) as exc:  # the cycle meets it too, and reports it
            log.warning("idle: new mail not recorded yet (%s); the cycle fetches it", exc)
        return recorded

    def nightly_backup(self) -> None:
        directory = self.settings.backup_dir
        assert directory is not None
        with self.lock, self.recording:  # not in the middle of a cycle's or the watcher's writes
            try:
                directory.mkdir(parents=True, exist_ok=True)
                copy = backup(self.ledger, directory)
                removed = prune_backups(directory, self.settings.backup_keep)
            except (BackupError, OSError) as exc:
                self.ledger.beat("backup-error", {"error": str(exc)})
                log.error("backup: %s", exc, extra={"ctx_event": "backup_failed"})
                return
        self.ledger.beat("backup", {"file": str(copy), "removed": len(removed)})
        log.info("backup: %s (%d old copies removed)", copy, len(removed),
                 extra={"ctx_event": "backup"})

    def _wake(self) -> None:
        if self.stopping.is_set():
            return  # the scheduler may already be shut down
        self.wake.set()
        self.scheduler.modify_job("cycle", next_run_time=datetime.now(UTC))

    def run(self) -> None:
        if self.stopping.is_set():
            return
        interval = self.settings.poll_interval_seconds
        self.scheduler.add_job(self.cycle, "interval", id="cycle", seconds=interval,
                               max_instances=2, coalesce=True, next_run_time=datetime.now(UTC))
        if self.settings.imap:
            threading.Thread(target=self.watch_idle, name="imap-idle", daemon=True).start()
        if self.settings.backup_dir:
            at = self.settings.backup_at
            self.scheduler.add_job(self.nightly_backup, "cron", id="backup", hour=at.hour,
                                   minute=at.minute, coalesce=True, misfire_grace_time=3600)
        self.scheduler.start()
        log.info("started: polling every %d s", interval, extra={"ctx_event": "started"})
        self.stopping.wait()
        log.info("stopping after the current mail", extra={"ctx_event": "stopping"})
        self.scheduler.shutdown(wait=True)  # a running cycle ends at the next mail boundary
        log.info("stopped", extra={"ctx_event": "stopped"})


def run_daemon(settings: Settings) -> int:
    setup_logging()
    stopping = threading.Event()

    def stop(signum: int, frame: FrameType | None) -> None:
        stopping.set()  # the cycle stops between mails; nothing is cut off mid-commit

    # Installed first, so a SIGTERM that comes during start-up is a clean stop too.
    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    with app.exclusive(settings.ledger_path):
        ledger = app.open_ledger(settings)
        app.make_pipeline(settings, ledger)  # templates are checked before the first cycle
        Daemon(settings, ledger, stopping).run()
    return 0
