"""Is fetching alive? The heartbeat rows turned into warnings (PEER-LESSONS #5: silence is
the most common failure)."""

from __future__ import annotations

import contextlib
import fcntl
import json
import sqlite3
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from imapclient.exceptions import IMAPClientError

from ingest.config import Settings
from ingest.imap_source import MailboxError
from replies.connection import SecretError, ServerConfig
from state.labels import label
from state.ledger import Ledger, iso


def poll_beat(server: ServerConfig) -> str:
    """Heartbeat name of the last successful poll of a mailbox folder."""
    return f"poll:{server.account}/{server.folder}"


def poll_error_beat(server: ServerConfig) -> str:
    """Heartbeat name of the last failed poll, removed again by the next success."""
    return f"poll-error:{server.account}/{server.folder}"


# What ends a poll as a failed fetch (the mailbox, its login, the network, the ledger).
POLL_FAILURES = (MailboxError, SecretError, OSError, IMAPClientError, sqlite3.Error)


def poll_failed(ledger: Ledger, server: ServerConfig | None, error: Exception,
                **detail: Any) -> None:
    """Record a failed poll for `status` (removed again by the next good poll)."""
    if server is not None:
        with contextlib.suppress(sqlite3.Error):  # the ledger itself may be what failed
            ledger.beat(poll_error_beat(server), {"error": str(error), **detail})


def warnings(settings: Settings, ledger: Ledger, now: datetime | None = None) -> list[str]:
    now = now or datetime.now(UTC)
    beats = {r["name"]: r for r in ledger.db["heartbeat"].rows}
    found = []
    if settings.imap:
        name = f"{settings.imap.account}/{settings.imap.folder}"
        last = beats.get(poll_beat(settings.imap))
        if last is None:
            found.append(f"{name}: まだ一度も取得に成功していません(デーモンは起動していますか)")
        else:
            age = now - datetime.fromisoformat(last["at"])
            if age > settings.stale_after:
                minutes = int(age.total_seconds() // 60)
                found.append(f"{name}: 最後に取得に成功してから {minutes} 分経過しています"
                             f"(しきい値 {int(settings.stale_after.total_seconds() // 60)} 分)")
        error = beats.get(poll_error_beat(settings.imap))
        if error is not None:
            detail = json.loads(error["detail"] or "{}")
            found.append(f"{name}: 取得エラー({error['at']}): {detail.get('error', '')}")
    send_error = beats.get("send-error")
    if send_error is not None:  # the last send pass delivered nothing and failed
        detail = json.loads(send_error["detail"] or "{}")
        found.append(f"返信の送信エラー({send_error['at']}): {detail.get('error', '')}")
    return found + unfinished(settings, ledger, now)


def lock_path(ledger_path: Path) -> Path:
    """The file a run holds while it works on the ledger (one process at a time)."""
    return ledger_path.with_name(ledger_path.name + ".lock")


def _someone_working(ledger_path: Path) -> bool:
    try:
        with open(lock_path(ledger_path), "rb") as handle:  # read access is enough for flock
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                return True
            fcntl.flock(handle, fcntl.LOCK_UN)
    except OSError:
        pass  # no lock file (no run yet), or not ours to read: no run we can see
    return False


def unfinished(settings: Settings, ledger: Ledger, now: datetime) -> list[str]:
    """Work a run should have finished: submissions whose wait is over but still open, mails
    never filed (a run was stopped; the next one finishes them), and replies that bounced.
    While a run holds the ledger, only what it has left for longer than `stale_after`."""
    cutoff = now - settings.stale_after if _someone_working(settings.ledger_path) else now
    db, found = ledger.db, []
    late = db.execute(
        "SELECT count(*) FROM submissions WHERE state = 'open' "
        "AND coalesce(evaluate_after, updated_at) <= ?", [iso(cutoff)]).fetchone()[0]
    if late:
        found.append(f"待ち時間が過ぎても「{label('submission_state', 'open')}」のままの申請が "
                     f"{late} 件あります(replay か poll --once を実行すると判定して返信します)")
    received = db.execute(
        "SELECT count(*) FROM messages WHERE state = 'received' AND fetched_at <= ?",
        [iso(cutoff)]).fetchone()[0]
    if received:
        found.append(f"「{label('message_state', 'received')}」のメールが {received} 通あります"
                     "(前回の実行が途中で止まりました。replay か poll --once で続きを処理します)")
    bounced = db.execute("SELECT count(*) FROM replies WHERE status = 'bounced'").fetchone()[0]
    if bounced:
        found.append(f"「{label('reply_status', 'bounced')}」の返信が {bounced} 通あります"
                     f"(outbox list --status {label('reply_status', 'bounced')} で宛先を確認してください)")
    return found

