"""The outbox: one receipt per submission version, one notice per (version, kind, the mails it
answers), delivered to a file or by SMTP.

Status flow of a row (every change is an event row naming who made it):

    awaiting_approval ─approve→ queued ─send pass→ sending ─250→ sent (─bounce→ bounced)
    held ─approve→ queued            sending ─4xx / connection lost before DATA→ queued (retry)
    any unsent ─cancel→ cancelled    sending ─5xx→ failed ─approve→ queued
                                     sending ─crash before DATA→ (next pass) queued
                                     sending ─crash / lost after DATA began→ (next pass) sent
                                        if found in the Sent folder, else `unknown` for staff
                                        (never a blind second copy) ─approve→ queued
    no SMTP configured: queued ─→ written (an .eml file in the outbox folder)
"""

from __future__ import annotations

import smtplib
from collections.abc import Collection, Iterable
from contextlib import ExitStack, nullcontext
from dataclasses import dataclass, field
from datetime import UTC, datetime, time, timedelta
from email import message_from_bytes
from pathlib import Path
from typing import Any

from parsers.mime import parse_message
from replies.address import refusal
from replies.charset import choose
from replies.connection import ServerConfig, ServerUnavailable
from replies.sent_folder import SentFolder, SentFolderError
from replies.smtp import DeliveryUnknown, SmtpSender
from rules.calendar import JST, BusinessCalendar
from rules.findings import Finding
from state.blobs import BlobDamaged
from state.ledger import Ledger, iso, utcnow

RETRY_BACKOFF = (60, 300, 900, 3600, 3 * 3600)  # seconds between transient-failure retries
MAX_REPLIES_PER_RECIPIENT_PER_DAY = 5
# Rows that still owe the applicant a mail: they can go overdue.
UNSENT = ("awaiting_approval", "queued", "sending", "held", "unknown", "failed")
SYSTEM = "renkei-intake"  # actor of what the program decides by itself


def reply_kind(findings: Iterable[Finding]) -> str | None:
    """Which reply a checked submission gets; None means staff handle it (never auto-answered)."""
    codes = {f.code for f in findings if f.severity == "deficiency"}
    notices = {f.code for f in findings}
    if "NOT_A_SUBMISSION" in notices:
        return None
    if "OUTSIDE_PERIOD" in codes:
        return "out_of_period"
    if codes and codes <= {"ARCHIVE_PASSWORD_MISSING"}:
        return "password_request"
    return "deficiency" if codes else "receipt"


# Notices that answer the mails they were judged on: a further mail that leaves the submission
# still deficient (or still locked) gets one of its own. A receipt and an out-of-period reply
# are one per submission version, whatever joins it later.
PER_MAILS_KINDS = ("deficiency", "password_request")


def reply_about(kind: str, mails: Iterable[int]) -> str:
    """The outbox key beside (submission, kind): the ledger ids of the mails a notice answers,
    '' for a reply that is one per version. The same mails judged again (a reprocess, a restart)
    give the same key, so the notice is never queued twice."""
    return ",".join(map(str, sorted(mails))) if kind in PER_MAILS_KINDS else ""


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
    charset: str = "utf-8"  # the charset the configuration asked for (replies.charset)
    hold_reason: str | None = None  # the caller's reason to hold it for staff from the start
    about: str = ""  # reply_about: what makes it a reply of its own beside earlier ones


def queue(
    ledger: Ledger,
    reply: QueuedReply,
    *,
    own_addresses: Collection[str] = (),
    max_per_recipient_per_day: int = MAX_REPLIES_PER_RECIPIENT_PER_DAY,
    now: datetime | None = None,
) -> int | None:
    """Insert the outbox row unless this (submission, kind, about) already has one; returns
    its id.

    A reply to our own address, to a robot mailbox, to an unreadable address, or beyond the
    daily number of replies per recipient is stored `held` with the reason: staff see it and
    may approve it, but it never goes out by itself.
    """
    now = now or datetime.now(UTC)
    sha = ledger.blobs.put(reply.raw)
    written_in = _charset_of(reply.raw)
    with ledger.transaction():
        reason = reply.hold_reason or refusal(reply.to_addr, own_addresses) or _over_daily_cap(
            ledger, reply.to_addr, now, max_per_recipient_per_day)
        status = "held" if reason else (
            "awaiting_approval" if reply.needs_approval else "queued")
        cursor = ledger.db.execute(
            "INSERT OR IGNORE INTO replies (submission_id, kind, status, to_addr, subject, "
            "message_id_header, raw_sha256, due_at, created_at, held_reason, charset, "
            "updated_at, about) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)",
            [reply.submission_id, reply.kind, status, reply.to_addr, reply.subject,
             reply.message_id, sha, iso(reply.due_at), iso(now), reason, written_in, iso(now),
             reply.about],
        )
        if cursor.rowcount == 0:
            return None
        row_id = cursor.lastrowid
        ledger.event("reply", row_id, "queued", {"kind": reply.kind, "to": reply.to_addr,
                                                 "status": status}, actor=SYSTEM)
        if reason:
            ledger.event("reply", row_id, "held", {"reason": reason}, actor=SYSTEM)
        if written_in != reply.charset.lower():
            ledger.event("reply", row_id, "charset_fallback", {
                "requested": reply.charset, "used": written_in,
                "note": _fallback_note(reply.raw, reply.charset)}, actor=SYSTEM)
    return row_id


def _over_daily_cap(ledger: Ledger, to_addr: str, now: datetime, cap: int) -> str | None:
    day = now.astimezone(JST).date()
    start = datetime.combine(day, time(0), tzinfo=JST)
    count = ledger.db.execute(
        "SELECT count(*) FROM replies WHERE lower(to_addr)=lower(?) AND status != 'cancelled' "
        "AND created_at >= ? AND created_at < ?",
        [to_addr, iso(start), iso(start + timedelta(days=1))],
    ).fetchone()[0]
    if count < cap:
        return None
    return (f"{to_addr} への返信が本日すでに {count} 通あり、1日の上限({cap} 通)に達したため、"
            "送信を保留しました(自動返信の応酬を防ぐため)")


def _charset_of(raw: bytes) -> str:
    # The first text part: an ISO-2022-JP reply may carry a UTF-8 alternative after it.
    first = next((p for p in message_from_bytes(raw).walk() if p.get_content_maintype() == "text"),
                 None)
    return ((first.get_content_charset() if first else None) or "utf-8").lower()


def _fallback_note(raw: bytes, requested: str) -> str | None:
    record = parse_message(raw)
    return choose(requested, record.subject, record.body).note


# --- files (no SMTP) -------------------------------------------------------------------------


def write_files(ledger: Ledger, outbox_dir: Path) -> list[Path]:
    """No SMTP configured: every reply ready to go becomes one .eml file in the outbox folder.

    Rows waiting for approval or held are not written: a file in the outbox is a mail staff
    may send as it is, so it must have passed the same gate as an SMTP send.
    """
    written: list[tuple[int, Path]] = []
    rows = list(ledger.db.query(
        "SELECT id, submission_id, kind, raw_sha256, (SELECT count(*) FROM replies e "
        "WHERE e.submission_id = r.submission_id AND e.kind = r.kind AND e.id < r.id) AS earlier "
        "FROM replies r WHERE status='queued' ORDER BY id"
    ))
    for row in rows:
        raw = _verified(ledger, row["id"], row["raw_sha256"], from_status="queued")
        if raw is None:
            continue
        # A later notice of the same kind (a further mail left the submission deficient) is a
        # file of its own, numbered as its Message-ID is.
        number = f"-{row['earlier'] + 1}" if row["earlier"] else ""
        written.append((row["id"], write_eml(
            outbox_dir, f"{row['submission_id']:05d}-{row['kind']}{number}.eml", raw)))
    # Marked together once the files are there: a crash before leaves them `queued`, and the
    # next run writes the same files again under the same names.
    with ledger.transaction() if written else nullcontext():
        for row_id, path in written:
            ledger.db.execute(
                "UPDATE replies SET status = 'written', eml_path = ?, updated_at = ? WHERE id = ?",
                [str(path), utcnow(), row_id])
            ledger.event("reply", row_id, "written", {"path": str(path)}, actor=SYSTEM)
    return [path for _, path in written]


def _verified(ledger: Ledger, row_id: int, sha256: str, *, from_status: str) -> bytes | None:
    """The reply's stored bytes, or None after holding the row for staff: a blob deleted or
    altered since it was rendered (a `Bcc:` added, say) is never sent or written out."""
    try:
        return ledger.blobs.get(sha256)
    except BlobDamaged as exc:
        reason = f"返信の元データが失われたか改変されているため、送信を保留しました: {exc}"
        transition(ledger, row_id, "held", "held", {"reason": reason},
                   from_status=(from_status,), actor=SYSTEM, held_reason=reason)
        return None


def write_eml(directory: Path, name: str, raw: bytes) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / name
    tmp = path.with_suffix(".tmp")
    tmp.write_bytes(raw)
    tmp.replace(path)
    return path


# --- sending ---------------------------------------------------------------------------------


@dataclass
class SendReport:
    sent: int = 0
    retrying: int = 0
    failed: int = 0
    skipped_outside_hours: bool = False
    errors: list[str] = field(default_factory=list)
    found_in_sent: int = 0  # left `sending` by a crash, found in the Sent folder: marked sent
    resent: int = 0  # left `sending`, not in the Sent folder: queued again
    unknown: int = 0  # left `sending`, no Sent folder to ask: waiting for staff
    copies: int = 0  # copies APPENDed to the Sent folder
    overdue: int = 0  # rows newly flagged overdue in this pass


def send_due(
    ledger: Ledger,
    smtp: ServerConfig,
    *,
    from_addr: str,
    calendar: BusinessCalendar,
    business_hours_only: bool,
    now: datetime | None = None,
    imap: ServerConfig | None = None,
) -> SendReport:
    """One send pass: resolve rows a crash left `sending`, send what is queued and due for an
    attempt (inside business hours unless told otherwise), file copies in the Sent folder,
    and flag replies whose due time passed.

    `imap` is the mailbox account; its `sent_folder`, when set, is where a crashed send is
    looked up and where every sent reply is filed. Without it a crashed send becomes
    `unknown` for staff instead of being sent again blindly.
    """
    now = now or datetime.now(UTC)
    report = SendReport()
    sent_server = imap if imap is not None and imap.sent_folder else None
    _resolve_sending(ledger, sent_server, report)
    if business_hours_only and not calendar.in_business_hours(now):
        report.skipped_outside_hours = True
    else:
        _send_queued(ledger, smtp, from_addr, now, report)
    if sent_server is not None:
        _file_copies(ledger, sent_server, report)
    report.overdue = flag_overdue(ledger, now)
    return report


def _resolve_sending(ledger: Ledger, sent_server: ServerConfig | None,
                     report: SendReport) -> None:
    """A row still `sending` at the start of a pass was interrupted between DATA and the ledger
    update (crash, kill, lost connection): the server may have accepted it."""
    rows = list(ledger.db.query(
        "SELECT id, message_id_header, data_started_at FROM replies WHERE status='sending' "
        "ORDER BY id"))
    for row in rows:
        if row["data_started_at"] is None:  # stopped before DATA: the server never had it
            transition(ledger, row["id"], "queued", "requeued", {
                "reason": "DATA の前に中断したため、もう一度送信します"},
                from_status=("sending",), next_attempt_at=None)
            report.resent += 1
    rows = [row for row in rows if row["data_started_at"] is not None]
    if not rows:
        return
    if sent_server is None:
        for row in rows:
            transition(ledger, row["id"], "unknown", "unknown", {
                "reason": "送信中に中断しました。送信済みフォルダが設定されていないため、"
                          "届いたかどうか分かりません。確認のうえ outbox approve で再送するか、"
                          "outbox cancel で取り消してください"}, from_status=("sending",))
            report.unknown += 1
        return
    try:
        with SentFolder(sent_server) as sent:
            for row in rows:
                if sent.contains(row["message_id_header"]):
                    transition(ledger, row["id"], "sent", "sent", {
                        "reason": "送信中の中断後、送信済みフォルダで見つかりました"},
                        # the copy is already there: do not file a second one
                        from_status=("sending",), sent_at=utcnow(), sent_copy_at=utcnow())
                    report.found_in_sent += 1
                else:
                    # Not filed does not prove not sent (an SMTP server need not file it, and
                    # our own copy is made after the 250): never risk a second copy.
                    transition(ledger, row["id"], "unknown", "unknown", {
                        "reason": "送信中(DATA の後)に中断し、送信済みフォルダにも見つかりません。"
                                  "届いたかどうか確認のうえ outbox approve で再送するか、"
                                  "outbox cancel で取り消してください"}, from_status=("sending",))
                    report.unknown += 1
    except (ServerUnavailable, SentFolderError) as exc:
        # Cannot ask: leave the rows `sending`; the next pass asks again. Never guess.
        report.errors.append(str(exc))


def _send_queued(ledger: Ledger, smtp: ServerConfig, from_addr: str, now: datetime,
                 report: SendReport) -> None:
    rows = list(ledger.db.query(
        "SELECT id, to_addr, raw_sha256 FROM replies WHERE status='queued' "
        "AND (next_attempt_at IS NULL OR next_attempt_at <= ?) ORDER BY due_at, id",
        [iso(now)],
    ))
    if not rows:
        return
    with ExitStack() as stack:
        try:
            sender = stack.enter_context(SmtpSender(smtp))
        except ServerUnavailable as exc:
            for row in rows:  # nothing was handed over: every row may simply be tried again
                _retry_later(ledger, row["id"], _attempts(ledger, row["id"]) + 1, now, str(exc))
                report.retrying += 1
            report.errors.append(str(exc))
            return
        for row in rows:
            if not _claim(ledger, row["id"]):
                continue  # staff held or cancelled it meanwhile
            if not _send_one(ledger, sender, from_addr, row, now, report):
                break  # the connection is gone; the rest wait for the next pass


def _claim(ledger: Ledger, row_id: int) -> bool:
    """Mark the row `sending` before SMTP, only if it is still queued (atomic)."""
    with ledger.transaction():
        cursor = ledger.db.execute(
            "UPDATE replies SET status='sending', attempts=attempts+1, data_started_at=NULL, "
            "updated_at=? "
            "WHERE id=? AND status='queued'", [utcnow(), row_id])
        if cursor.rowcount:
            ledger.event("reply", row_id, "sending", None, actor=SYSTEM)
    return bool(cursor.rowcount)


def _send_one(ledger: Ledger, sender: SmtpSender, from_addr: str, row: dict[str, Any],
              now: datetime, report: SendReport) -> bool:
    """Send one claimed row; False when the connection can no longer be used."""
    attempts = _attempts(ledger, row["id"])
    raw = _verified(ledger, row["id"], row["raw_sha256"], from_status="sending")
    if raw is None:
        return True  # this row waits for staff; the connection is still good for the rest
    try:
        answer = sender.send(from_addr, row["to_addr"], raw,
                             before_data=lambda: _data_started(ledger, row["id"]))
    except smtplib.SMTPResponseException as exc:
        _answered(ledger, row["id"], attempts, now, exc.smtp_code, _text(exc.smtp_error), report)
        return exc.smtp_code != 421  # 421: the server is closing the connection
    except smtplib.SMTPRecipientsRefused as exc:
        code, text = next(iter(exc.recipients.values()))
        _answered(ledger, row["id"], attempts, now, code, _text(text), report)
        return True
    except DeliveryUnknown as exc:
        # Stays `sending`: the next pass looks it up in the Sent folder (or asks staff).
        ledger.event("reply", row["id"], "outcome_unknown", {"error": str(exc)}, actor=SYSTEM)
        report.errors.append(str(exc))
        return False
    except (OSError, smtplib.SMTPException) as exc:  # before DATA: nothing was handed over
        _retry_later(ledger, row["id"], attempts, now, f"{type(exc).__name__}: {exc}")
        report.retrying += 1
        report.errors.append(str(exc))
        return False
    transition(ledger, row["id"], "sent", "sent", {"smtp": answer}, from_status=("sending",),
          sent_at=utcnow(), smtp_response=answer)
    report.sent += 1
    return True


def _data_started(ledger: Ledger, row_id: int) -> None:
    with ledger.transaction():
        ledger.db.execute("UPDATE replies SET data_started_at = ? WHERE id = ?",
                          [utcnow(), row_id])


def _answered(ledger: Ledger, row_id: int, attempts: int, now: datetime, code: int, text: str,
              report: SendReport) -> None:
    answer = f"{code} {text}".strip()
    if 500 <= code < 600:  # permanent: staff read the server's answer and decide
        transition(ledger, row_id, "failed", "failed", {"smtp": answer}, from_status=("sending",),
              smtp_response=answer)
        report.failed += 1
    else:
        _retry_later(ledger, row_id, attempts, now, answer)
        report.retrying += 1
    report.errors.append(answer)


def _retry_later(ledger: Ledger, row_id: int, attempts: int, now: datetime, answer: str) -> None:
    delay = RETRY_BACKOFF[min(max(attempts, 1) - 1, len(RETRY_BACKOFF) - 1)]
    transition(ledger, row_id, "queued", "retry", {"smtp": answer, "in_seconds": delay},
          from_status=("sending", "queued"), smtp_response=answer, attempts=attempts,
          next_attempt_at=iso(now + timedelta(seconds=delay)))


def _attempts(ledger: Ledger, row_id: int) -> int:
    return int(ledger.db.execute("SELECT attempts FROM replies WHERE id=?",
                                 [row_id]).fetchone()[0])


def _file_copies(ledger: Ledger, sent_server: ServerConfig, report: SendReport) -> None:
    """APPEND each sent reply without a copy yet; a failure is retried by the next pass."""
    rows = list(ledger.db.query(
        "SELECT id, raw_sha256, sent_at FROM replies WHERE status IN ('sent', 'bounced') "
        "AND sent_copy_at IS NULL AND sent_at IS NOT NULL ORDER BY id"))
    if not rows:
        return
    try:
        with SentFolder(sent_server) as sent:
            for row in rows:
                try:
                    raw = ledger.blobs.get(row["raw_sha256"])
                except BlobDamaged as exc:  # already sent; only the copy is lost
                    report.errors.append(f"返信 {row['id']} の控え: {exc}")
                    continue
                sent.append(raw, datetime.fromisoformat(row["sent_at"]))
                with ledger.transaction():
                    ledger.db["replies"].update(row["id"], {"sent_copy_at": utcnow()})
                    ledger.event("reply", row["id"], "sent_copy", {"folder": sent.folder},
                                 actor=SYSTEM)
                report.copies += 1
    except (ServerUnavailable, SentFolderError) as exc:
        report.errors.append(str(exc))


def transition(ledger: Ledger, row_id: int, status: str, event: str, detail: Any, *,
          from_status: tuple[str, ...], actor: str = SYSTEM, **fields: Any) -> bool:
    """Change a row's status only if it is still in one of `from_status`; log the event."""
    values = {"status": status, "updated_at": utcnow(), **fields}
    assignments = ", ".join(f"{k}=?" for k in values)
    marks = ",".join("?" * len(from_status))
    with ledger.transaction():
        cursor = ledger.db.execute(
            f"UPDATE replies SET {assignments} WHERE id=? AND status IN ({marks})",
            [*values.values(), row_id, *from_status])
        if cursor.rowcount:
            ledger.event("reply", row_id, event, detail, actor=actor)
    return bool(cursor.rowcount)


def _text(value: bytes | str) -> str:
    return value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value)


# --- overdue, bounces ------------------------------------------------------------------------


def flag_overdue(ledger: Ledger, now: datetime | None = None) -> int:
    """Flag replies whose due time passed unsent: `overdue_at` and one `overdue` event per
    reply, ever. Returns how many were newly flagged. The daemon and `poll` call this."""
    now = now or datetime.now(UTC)
    marks = ",".join("?" * len(UNSENT))
    flagged = 0
    rows = list(ledger.db.query(
        f"SELECT id, status, due_at FROM replies WHERE status IN ({marks}) AND due_at < ? "
        "AND overdue_at IS NULL ORDER BY id", [*UNSENT, iso(now)]))
    for row in rows:
        with ledger.transaction():
            cursor = ledger.db.execute(
                "UPDATE replies SET overdue_at=? WHERE id=? AND overdue_at IS NULL",
                [iso(now), row["id"]])
            if cursor.rowcount:
                ledger.event("reply", row["id"], "overdue",
                             {"due_at": row["due_at"], "status": row["status"]}, actor=SYSTEM)
                flagged += 1
    return flagged


def overdue_count(ledger: Ledger) -> int:
    """Replies that went overdue and still owe the applicant a mail."""
    marks = ",".join("?" * len(UNSENT))
    return int(ledger.db.execute(
        f"SELECT count(*) FROM replies WHERE overdue_at IS NOT NULL AND status IN ({marks})",
        list(UNSENT)).fetchone()[0])


def record_bounce(ledger: Ledger, message_id: str, bounce_message: int | None = None) -> int | None:
    """Link a bounce (replies.bounces.bounced_reply) to our reply: status `bounced`, the bounce
    mail's ledger id, and an event for staff. Returns the reply id, None when not ours."""
    row = ledger.db.execute("SELECT id FROM replies WHERE message_id_header=?",
                            [message_id]).fetchone()
    if row is None:
        return None
    moved = transition(ledger, row[0], "bounced", "bounced", {"bounce_message": bounce_message},
                  from_status=("sent", "written", "unknown", "sending"),
                  bounced_at=utcnow(), bounce_message=bounce_message)
    return row[0] if moved else None
