"""Wiring: settings → ledger, renderer, pipeline; the passes the CLI and the daemon run."""

from __future__ import annotations

import fcntl
import logging
import os
import signal
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from types import FrameType

from ingest import health
from ingest.answering import sample_context
from ingest.config import Settings
from ingest.health import poll_beat, poll_error_beat
from ingest.imap_source import MailboxError, connect, new_batches
from ingest.pipeline import PassReport, Pipeline
from ingest.progress import Progress
from ingest.screen import os_error_sentence
from ingest.sources import MailSource, RawMail
from replies.connection import ServerConfig
from replies.outbox import SendReport, flag_overdue, send_due
from replies.render import Renderer
from state.blobs import BlobStore
from state.labels import label
from state.ledger import Ledger, LedgerError, is_open

log = logging.getLogger("renkei_intake")


class BusyError(Exception):
    """Another renkei-intake process is working on the same ledger."""


class Stopped(BaseException):  # noqa: N818 - like KeyboardInterrupt, not an error
    """SIGTERM asked a one-off run (replay, poll, reprocess) to stop. A BaseException, so the
    per-mail and per-submission `except Exception` guards let it through; open transactions
    roll back, and the next run finishes what this one left."""


# Exit status of a one-off run stopped by SIGTERM (143 would mean killed without a word).
STOPPED_EXIT = 3


@contextmanager
def stop_on_sigterm() -> Iterator[None]:
    """While a one-off verb runs, SIGTERM raises `Stopped` at the point it arrives."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def stop(signum: int, frame: FrameType | None) -> None:
        signal.signal(signal.SIGTERM, signal.SIG_IGN)  # one stop is enough while cleaning up
        raise Stopped

    previous = signal.signal(signal.SIGTERM, stop)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def open_ledger(settings: Settings) -> Ledger:
    """Open the ledger, creating it (and its folders) when it is not there yet."""
    if settings.ledger_path.is_dir():
        raise LedgerError(f"台帳のパスがフォルダです: {settings.ledger_path}"
                          "(台帳ファイルの名前まで指定してください。例: var/ledger.db)")
    _refuse_foreign_file(settings.ledger_path)
    try:
        return Ledger(settings.ledger_path, BlobStore(settings.blobs_dir),
                      busy_timeout=settings.ledger_busy_timeout_seconds)
    except OSError as exc:
        raise LedgerError(f"台帳 {settings.ledger_path} を作成できません({os_error_sentence(exc)})。"
                          "台帳と保存領域のパスと権限を確認してください") from exc


def open_existing_ledger(settings: Settings) -> Ledger:
    """For the verbs that only read (status, ledger, outbox list, export, serve): a missing
    ledger is an error, and no ledger, blob or outbox folder is created."""
    require_ledger(settings)
    path = settings.ledger_path
    try:
        return Ledger(path, BlobStore(settings.blobs_dir, create=False),
                      busy_timeout=settings.ledger_busy_timeout_seconds)
    except OSError as exc:
        raise LedgerError(f"台帳 {path} を開けません({os_error_sentence(exc)})。"
                          "パスと権限を確認してください") from exc


def require_ledger(settings: Settings) -> None:
    """Refuse a verb that works on an existing ledger (reprocess, release) when there is
    none, before anything (a lock file, a folder) is made for it."""
    path = settings.ledger_path
    if not path.is_file():
        if path.is_dir():
            raise LedgerError(f"台帳のパスがフォルダです: {path}(台帳ファイルを指定してください)")
        raise LedgerError(f"台帳がありません: {path}(replay または poll で作成されます。"
                          "--config の設定ファイルが正しいか確認してください)")
    _refuse_foreign_file(path)


def _refuse_foreign_file(path: Path) -> None:
    """A file that is not an SQLite database (a config, a CSV given as --ledger) is never
    opened as the ledger: SQLite would refuse it with an English message, or overwrite an
    empty one. A ledger this process has open is one, and is not opened again as a plain file
    (closing that would drop SQLite's locks on it)."""
    if is_open(path):
        return
    try:
        with path.open("rb") as handle:
            head = handle.read(16)
    except FileNotFoundError:
        return
    except OSError as exc:
        raise LedgerError(f"台帳 {path} を読めません({os_error_sentence(exc)})。"
                          "パスと権限を確認してください") from exc
    if head and head != b"SQLite format 3\x00":
        raise LedgerError(f"{path} は台帳(SQLite データベース)ではありません。"
                          "台帳ファイルのパスを確認してください")


def make_pipeline(settings: Settings, ledger: Ledger, *, dry_run: bool = False) -> Pipeline:
    renderer = Renderer(settings.templates_dir)
    renderer.self_check(sample_context(settings))  # a broken template fails now, not at send time
    return Pipeline(settings, ledger, renderer, dry_run=dry_run)


@contextmanager
def exclusive(ledger_path: Path) -> Iterator[None]:
    """One process at a time per ledger: two pollers must never process the same mailbox."""
    lock_path = health.lock_path(ledger_path)
    try:
        lock_path.parent.mkdir(parents=True, exist_ok=True)
        handle = open(lock_path, "a+")  # noqa: SIM115  (closed by the with below)
    except OSError as exc:
        raise LedgerError(f"台帳 {ledger_path} を置けません({os_error_sentence(exc)})。"
                          "パスと権限を確認してください") from exc
    with handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise BusyError(
                f"別の renkei-intake が台帳 {ledger_path} を使用中です(ロック {lock_path})。"
                "終わるのを待ってから再実行してください"
            ) from None
        handle.seek(0)
        handle.truncate()
        handle.write(str(os.getpid()))
        handle.flush()
        yield


# A replayed folder is recorded in batches like an IMAP FETCH: every raw mail of the batch
# durable, then their rows in one transaction (a crash in between leaves only blobs; the next
# run records those mails again and recognises them by sha256).
REPLAY_BATCH_MAILS = 50
REPLAY_BATCH_BYTES = 32 * 1024 * 1024


def replay(pipeline: Pipeline, source: MailSource) -> PassReport:
    progress = Progress(source.count(), "通", "記録済み")
    batch: list[RawMail] = []
    size = 0
    for mail in source.mails():
        batch.append(mail)
        size += len(mail.raw)
        if len(batch) >= REPLAY_BATCH_MAILS or size >= REPLAY_BATCH_BYTES:
            pipeline.take_batch(batch)
            progress.update(progress.done + len(batch), progress.total)
            batch, size = [], 0
    if batch:
        pipeline.take_batch(batch)
        progress.update(progress.done + len(batch), progress.total)
    progress.close()
    pipeline.advance(progress=True)  # file, evaluate and answer, with what a stopped run left
    return pipeline.report


def poll_once(pipeline: Pipeline, stop: Callable[[], bool] | None = None) -> PassReport:
    """One pass over the configured IMAP folder."""
    server = pipeline.settings.imap
    if server is None:
        raise MailboxError("[imap] が設定されていません(config.example.toml を参照)")
    report = fetch_pass(pipeline, server, stop)
    pipeline.ledger.beat(poll_beat(server), {"new": report.new})
    pipeline.ledger.db["heartbeat"].delete_where("name = ?", [poll_error_beat(server)])
    return report


def fetch_pass(pipeline: Pipeline, server: ServerConfig,
               stop: Callable[[], bool] | None = None) -> PassReport:
    """Take every mail of `server.folder` the ledger does not hold yet, then evaluate.
    `stop` is asked between FETCH batches, so a shutdown never waits for a whole backlog."""
    client = connect(server)
    try:
        progress = Progress(None, "通", "記録済み")
        for batch in new_batches(client, server, pipeline.ledger, progress.update):
            pipeline.take_batch(batch)
            if stop and stop():
                break
        progress.close()
    finally:
        try:
            client.logout()
        except Exception:  # the connection may already be gone; nothing to keep
            log.debug("IMAP logout failed", exc_info=True)
    pipeline.advance(progress=True)
    return pipeline.report


def send_pass(settings: Settings, ledger: Ledger) -> SendReport | None:
    if settings.smtp is None:
        flag_overdue(ledger)
        return None
    return send_due(
        ledger, settings.smtp, from_addr=settings.secretariat_address,
        calendar=settings.calendar, business_hours_only=settings.send_in_business_hours_only,
        imap=settings.imap,
    )


def waiting_for_staff(settings: Settings, ledger: Ledger) -> list[str]:
    """What only staff can move on, each with the command that shows it: notices waiting for
    approval, held or failed replies, submissions set aside, quarantined mails."""
    command = "renkei-intake" + (f" --config {settings.source}" if settings.source else "")
    lines = []
    for kind, count in ledger.db.execute(
            "SELECT kind, count(*) FROM replies WHERE status = 'awaiting_approval' "
            "GROUP BY kind ORDER BY kind"):
        lines.append(f"{label('reply_kind', kind)} {count} 通は承認待ちです: "
                     f"{command} outbox list")
    for status, count in ledger.db.execute(
            "SELECT status, count(*) FROM replies WHERE status IN ('held', 'failed', 'unknown') "
            "GROUP BY status ORDER BY status"):
        lines.append(f"返信 {count} 通が{label('reply_status', status)}です: "
                     f"{command} outbox list --status {label('reply_status', status)}")
    review = ledger.db.execute(
        "SELECT count(*) FROM submissions WHERE state = 'needs_review'").fetchone()[0]
    if review:
        lines.append(f"要確認の申請が {review} 件あります: "
                     f"{command} ledger submissions --status {label('submission_state', 'needs_review')}")
    held = ledger.db.execute(
        "SELECT count(*) FROM messages WHERE state = 'quarantined'").fetchone()[0]
    if held:
        lines.append(f"隔離したメールが {held} 通あります: {command} quarantine list")
    return lines
