"""The outbox: one reply row per (submission version, kind), delivered to a file or by SMTP."""

from __future__ import annotations

import smtplib
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

from replies.connection import ServerConfig
from replies.smtp import SmtpSender
from rules.calendar import BusinessCalendar
from rules.findings import Finding
from state.ledger import Ledger, iso, utcnow

RETRY_BACKOFF = (60, 300, 900, 3600, 3 * 3600)  # seconds between transient-failure retries


def reply_kind(findings: Iterable[Finding]) -> str | None:
    """Which reply a checked submission gets; None means staff handle it (never auto-answered)."""
    findings = list(findings)
    codes = {f.code for f in findings if f.severity == "deficiency"}
    if any(f.code == "NOT_A_SUBMISSION" for f in findings):
        return None
    if "OUTSIDE_PERIOD" in codes:
        return "out_of_period"
    if "ARCHIVE_PASSWORD_MISSING" in codes:
        # The documents cannot be judged before the archive opens: ask for the password first
        # (the notice lists any other deficiency too).
        return "password_request"
    return "deficiency" if codes else "receipt"


@dataclass(frozen=True)
class QueuedReply:
    submission_id: int
    kind: str
    to_addr: str
    subject: str
    message_id: str
    raw: bytes
    due_at: datetime
    needs_approval: bool


def queue(ledger: Ledger, reply: QueuedReply) -> int | None:
    """Insert the outbox row unless this (submission, kind) already has one; returns its id."""
    sha = ledger.blobs.put(reply.raw)
    with ledger.transaction():
        cursor = ledger.db.execute(
            "INSERT OR IGNORE INTO replies (submission_id, kind, status, to_addr, subject, "
            "message_id_header, raw_sha256, due_at, created_at) VALUES (?,?,?,?,?,?,?,?,?)",
            [reply.submission_id, reply.kind,
             "awaiting_approval" if reply.needs_approval else "queued",
             reply.to_addr, reply.subject, reply.message_id, sha, iso(reply.due_at), utcnow()],
        )
        if cursor.rowcount == 0:
            return None
        row_id = cursor.lastrowid
        ledger.event("reply", row_id, "queued", {"kind": reply.kind, "to": reply.to_addr})
    return row_id


def write_files(ledger: Ledger, outbox_dir: Path) -> list[Path]:
    """No SMTP configured: every new reply becomes one .eml file in the outbox directory."""
    written = []
    rows = list(ledger.db.query(
        "SELECT id, submission_id, kind, raw_sha256 FROM replies "
        "WHERE status IN ('queued', 'awaiting_approval') ORDER BY id"
    ))
    for row in rows:
        path = write_eml(outbox_dir, f"{row['submission_id']:05d}-{row['kind']}.eml",
                         ledger.blobs.get(row["raw_sha256"]))
        with ledger.transaction():
            ledger.db["replies"].update(row["id"], {"status": "written", "eml_path": str(path)})
            ledger.event("reply", row["id"], "written", {"path": str(path)})
        written.append(path)
    return written


def write_eml(directory: Path, name: str, raw: bytes) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / name
    tmp = path.with_suffix(".tmp")
    tmp.write_bytes(raw)
    tmp.replace(path)
    return path


@dataclass
class SendReport:
    sent: int = 0
    retrying: int = 0
    failed: int = 0
    skipped_outside_hours: bool = False
    errors: list[str] = field(default_factory=list)


def send_due(
    ledger: Ledger,
    smtp: ServerConfig,
    *,
    from_addr: str,
    calendar: BusinessCalendar,
    business_hours_only: bool,
    now: datetime | None = None,
) -> SendReport:
    """Send queued replies. A row is marked `sending` before the SMTP transaction and `sent`
    after the server's 250, so a crash in between never leads to a blind second send."""
    now = now or datetime.now(UTC)
    report = SendReport()
    if business_hours_only and not calendar.in_business_hours(now):
        report.skipped_outside_hours = True
        return report
    rows = list(ledger.db.query(
        "SELECT id, to_addr, raw_sha256, attempts FROM replies WHERE status='queued' "
        "AND (next_attempt_at IS NULL OR next_attempt_at <= ?) ORDER BY due_at, id",
        [iso(now)],
    ))
    if not rows:
        return report
    with SmtpSender(smtp) as sender:
        for row in rows:
            with ledger.transaction():
                ledger.db["replies"].update(row["id"], {"status": "sending"})
            try:
                answer = sender.send(from_addr, row["to_addr"], ledger.blobs.get(row["raw_sha256"]))
            except smtplib.SMTPResponseException as exc:
                _failed(ledger, row, now, exc.smtp_code, _text(exc.smtp_error), report)
                continue
            except smtplib.SMTPRecipientsRefused as exc:
                code, text = next(iter(exc.recipients.values()))
                _failed(ledger, row, now, code, _text(text), report)
                continue
            except (TimeoutError, OSError, smtplib.SMTPException) as exc:
                _failed(ledger, row, now, 0, str(exc), report)
                break  # the connection is gone; the rest wait for the next pass
            with ledger.transaction():
                ledger.db["replies"].update(row["id"], {
                    "status": "sent", "sent_at": utcnow(), "smtp_response": answer,
                    "attempts": row["attempts"] + 1,
                })
                ledger.event("reply", row["id"], "sent", {"smtp": answer})
            report.sent += 1
    return report


def _failed(ledger: Ledger, row: dict, now: datetime, code: int, text: str,
            report: SendReport) -> None:
    attempts = row["attempts"] + 1
    permanent = 500 <= code < 600
    answer = f"{code} {text}".strip()
    with ledger.transaction():
        if permanent:
            ledger.db["replies"].update(row["id"], {
                "status": "failed", "attempts": attempts, "smtp_response": answer,
            })
            ledger.event("reply", row["id"], "failed", {"smtp": answer})
            report.failed += 1
        else:
            delay = RETRY_BACKOFF[min(attempts - 1, len(RETRY_BACKOFF) - 1)]
            ledger.db["replies"].update(row["id"], {
                "status": "queued", "attempts": attempts, "smtp_response": answer,
                "next_attempt_at": iso(now + timedelta(seconds=delay)),
            })
            ledger.event("reply", row["id"], "retry", {"smtp": answer, "in_seconds": delay})
            report.retrying += 1
    report.errors.append(answer)


def _text(value: bytes | str) -> str:
    return value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value)
