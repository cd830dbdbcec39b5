"""The path of one mail: record → parse → correlate → evaluate → queue a reply.

Every stage is restartable from the ledger alone: a mail left in state `received` is parsed
again on the next pass, and an `open` submission is evaluated again until it is answered
(the outbox row is unique per submission, kind and the mails a notice answers, so a reply is
never queued twice).
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from ingest.answering import draft_reply, queue_draft
from ingest.config import Settings
from ingest.correlate import (
    FIRST_RECEIVED,
    claim_passwords,
    receipt_given,
    renumber_versions,
    submission_awaiting_password,
)
from ingest.evaluate import Evaluation, evaluate, record_evaluation
from ingest.grouping import attachment_sha256, full_set_alone, submission_for_part
from ingest.progress import Progress
from ingest.reading import MailRead, ReadCache, locked_attachments, read_part
from ingest.sources import RawMail
from parsers.authresults import trusted_results
from parsers.mime import MessageRecord, parse_message
from parsers.password import find_password
from parsers.sender import SenderDetails, parse_sender_block
from parsers.subject import SubjectInfo, parse_subject
from replies.bounces import bounced_reply
from replies.connection import ServerConfig
from replies.outbox import record_bounce, write_eml, write_files
from replies.render import Renderer, TemplateProblem
from rules.findings import Finding, finding
from rules.mail_checks import automatic_reason, sender_auth_failure
from state.blobs import BlobDamaged
from state.labels import label
from state.ledger import Ledger, Recorded, iso, utcnow

# What the reads of one pass may keep between filing and evaluation (pickled bytes); past
# it, the evaluation reads a mail again.
READ_CACHE_BYTES = 128 * 1024 * 1024

# A mail that joins a submission after its receipt: recorded and judged with the rest, shown
# to staff (a notice it calls for waits for them: ingest.answering.queue_draft).
LATE_NOTE = "受付確認の後に届いたメール(同じ申請の追加分として記録し、再判定しました)"


@dataclass
class PassReport:
    read: int = 0
    new: int = 0
    known: int = 0
    quarantined: int = 0
    submissions: int = 0
    resumed: int = 0  # submissions of earlier runs (stopped, or waiting) answered by this one
    replies: dict[str, int] = field(default_factory=dict)
    files: list[Path] = field(default_factory=list)
    skipped: dict[str, int] = field(default_factory=dict)  # files that are not mail, by reason
    skipped_files: list[tuple[str, str]] = field(default_factory=list)  # (file, reason)

    def summary(self) -> str:
        kinds = "、".join(f"{label('reply_kind', k)} {n} 通"
                         for k, n in sorted(self.replies.items())) or "なし"
        text = (f"{self.read} 通を読み込み: 新規 {self.new}, 既知 {self.known}, "
                f"隔離 {self.quarantined}; 申請 {self.submissions} 件")
        if self.resumed:
            text += f"(ほかに前回までの実行から引き継いで判定を終えた申請 {self.resumed} 件)"
        text += f"; 返信 {kinds}"
        if self.skipped:
            reasons = ", ".join(f"{why} {n}" for why, n in sorted(self.skipped.items()))
            text += f"; メールでないため取り込まなかったファイル {sum(self.skipped.values())} 件({reasons})"
        return text


@dataclass(frozen=True)
class Classified:
    role: str  # part | password | automatic | question
    subject: SubjectInfo
    sender: SenderDetails
    reason: str | None = None  # why it is not a submission
    password: str | None = None


@dataclass
class Pipeline:
    settings: Settings
    ledger: Ledger
    renderer: Renderer
    dry_run: bool = False
    report: PassReport = field(default_factory=PassReport)
    created: set[int] = field(default_factory=set)  # submissions this run started
    # A part's attachments, read when it is filed, wait here for its evaluation in this pass.
    reads: ReadCache = field(init=False)

    def __post_init__(self) -> None:
        self.reads = ReadCache(READ_CACHE_BYTES, self.ledger.blobs)

    # --- entry points -------------------------------------------------------------------------

    def take_batch(self, mails: list[RawMail]) -> None:
        """`take` for the mails of one IMAP FETCH: recorded together (every blob durable, then
        the rows in one transaction)."""
        wanted = [mail for mail in mails if not mail.not_mail]
        recorded = iter(self.ledger.record_mails([(mail.raw, mail.arrival) for mail in wanted]))
        for mail in mails:
            self.take(mail, None if mail.not_mail else next(recorded))

    def take(self, mail: RawMail, recorded: Recorded | None = None) -> None:
        """Record one mail durably (unless `take_batch` did). Parsing and filing wait for
        `advance`, which takes the pass's mails in receive order: the order a source lists them
        in (an unsorted mbox, IMAP UIDs of a mail moved in later) must not change how they are
        grouped."""
        if mail.not_mail:
            self.report.skipped[mail.not_mail] = self.report.skipped.get(mail.not_mail, 0) + 1
            self.report.skipped_files.append((mail.arrival.source_ref, mail.not_mail))
            return
        self.report.read += 1
        recorded = recorded or self.ledger.record_mail(mail.raw, mail.arrival)
        quarantine = mail.quarantine or self._over_size(mail.raw)
        if recorded.new and quarantine:
            self.report.new += 1
            self.report.quarantined += 1
            self.ledger.set_message_state(recorded.message, "quarantined", problem=quarantine)
        elif recorded.new:
            self.report.new += 1
        else:
            self.report.known += 1

    def _over_size(self, raw: bytes) -> str | None:
        """A mail larger than IMAP would fetch (a file in a replayed folder) is kept, not parsed:
        reading it could cost more memory than the limits allow."""
        limit = (self.settings.imap or ServerConfig).max_message_bytes
        if len(raw) <= limit:
            return None
        return (f"サイズ上限超過: {len(raw) / 1e6:.1f} MB(上限 {limit / 1e6:.1f} MB)。"
                "記録のみで、解析していません")

    def advance(self, now: datetime | None = None, *, progress: bool = False) -> None:
        """Finish every stage left open, by this pass or by an earlier one that stopped:
        file the recorded mails in receive order, then judge and answer the open submissions
        in the order they began."""
        now = now or datetime.now(UTC)
        received = self._received_in_order()
        shown = Progress(len(received), "通", "解析済み") if progress and received else None
        for message in received:
            self.process_message(message)
            if shown:
                shown.step()
        if shown:
            shown.close()
        self.reads.sync()  # the files read while filing, durable before rows point at them
        due = self._open_submissions(now)
        shown = Progress(len(due), "件", "判定済み") if progress and due else None
        for submission in due:
            try:
                self.evaluate_and_answer(submission, now)
            except TemplateProblem:
                raise  # a broken template is the operator's to fix, for every submission alike
            except Exception as exc:  # one submission that cannot be judged must not block the rest
                self._set_aside(submission, exc)
            if shown:
                shown.step()
        if shown:
            shown.close()
        if self.settings.smtp is None and not self.dry_run:
            self.report.files += write_files(self.ledger, self.settings.outbox_dir)
        self._match_bounces()

    def _received_in_order(self) -> list[int]:
        # By receive time; mails received in the same second by their content hash, so a tie
        # is broken the same way whatever order they were recorded in.
        return [r[0] for r in self.ledger.db.execute(
            "SELECT id FROM messages WHERE state = 'received' ORDER BY received_at, sha256")]

    def _match_bounces(self) -> None:
        """Link each bounce of one of our replies to it, so staff see which did not arrive.
        Done here, not when the bounce is filed: in a replayed folder the reply it answers is
        only made at the end of the pass."""
        for row in self.ledger.db.query(
            "SELECT id, json_extract(facts, '$.bounce_of') AS ours FROM messages m "
            "WHERE json_extract(facts, '$.bounce_of') IS NOT NULL "
            "AND NOT EXISTS (SELECT 1 FROM replies r WHERE r.bounce_message = m.id)"
        ):
            reply = record_bounce(self.ledger, row["ours"], row["id"])
            if reply is not None:
                self.ledger.event("message", row["id"], "bounce_of_reply", {"reply": reply})

    # --- stages -------------------------------------------------------------------------------

    def process_message(self, message: int) -> None:
        try:
            raw = self.ledger.raw(message)
        except BlobDamaged as exc:  # deleted or altered behind the ledger's back: staff decide
            self.ledger.set_message_state(message, "quarantined", problem=f"元のメールを読めません: {exc}")
            self.report.quarantined += 1
            return
        try:
            # Everything that only reads the mail: a failure here is this mail's, and must not
            # stop the run (nor the next ones, which would find it 'received' again).
            record = parse_message(raw, max_parts=self.settings.limits.max_parts,
                                       max_lines=self.settings.limits.max_mail_lines)
            kind = self.classify(record)
            ours = bounced_reply(raw, self.settings.limits.max_mail_lines) \
                if kind.role == "automatic" else None
            read = self._read_part(record) if kind.role == "part" else None
            locked = read.locked if read is not None else \
                locked_attachments(record.attachments, self.settings.limits)
            facts = _facts(record, kind, locked)
            forged = sender_auth_failure(
                trusted_results(record.headers, self.settings.authserv_id), record.from_addr)
            if forged:  # judged with the rest, but no reply leaves before staff look at it
                facts["sender_auth_failed"] = forged
            if ours is not None:
                facts["bounce_of"] = ours  # matched to our reply in advance(), once it exists
        except Exception as exc:  # one bad mail must never stop the mailbox
            reason = ("解析できません: MIME の入れ子が深すぎます" if isinstance(exc, RecursionError)
                      else f"解析できません: {type(exc).__name__}: {exc}")
            self.ledger.set_message_state(message, "quarantined", problem=reason)
            self.report.quarantined += 1
            return
        received, source = self.ledger.db.execute(
            "SELECT received_at, received_at_source FROM messages WHERE id = ?",
            [message]).fetchone()
        received_at = datetime.fromisoformat(received)
        # Asked before the write lock is taken, of the reading already made, and only when the
        # grouping needs it.
        full = full_set_alone(
            self.ledger, self.settings, key=kind.subject.consortium_key, sender=record.from_addr,
            received_at=received_at, subject=kind.subject, attachments=record.attachments,
            reads=read.reads if read is not None else None,
        ) if kind.role == "part" else None
        with self.ledger.transaction():
            submission = self._file(message, record, kind, received_at,
                                    locked=bool(facts["locked"]), full_set=full)
            notes = _notes(record, source, facts)
            if receipt_given(self.ledger, submission):
                notes.append(LATE_NOTE)
                self.ledger.event("submission", submission, "late_addition", {"message": message})
            self.ledger.db.execute(
                "UPDATE messages SET state = ?, subject = ?, from_addr = ?, from_name = ?, "
                "date_header = ?, submission_id = ?, body_text = ?, facts = ?, problem = ? "
                "WHERE id = ?",
                ["checked" if kind.role in ("part", "password")
                 and not facts.get("sender_auth_failed") else "needs_review",
                 record.subject, record.from_addr, record.from_name, record.date_header,
                 submission, record.body, json.dumps(facts, ensure_ascii=False),
                 "; ".join(notes) or None, message])
            self.ledger.event("message", message, "filed",
                              {"role": kind.role, "submission": submission})
            # Versions count in receive order: this mail may have come before others filed.
            renumber_versions(self.ledger, kind.subject.consortium_key)
        if read is not None:
            self.reads.keep(message, read, durable=False)

    def _read_part(self, record: MessageRecord) -> MailRead | None:
        """A part's attachments, read whole now (in the sandbox, under the mail's limits): the
        check for encrypted archives that filing needs, and everything its evaluation needs.
        Read without passwords: the few mails with an encrypted file are read again then."""
        if not record.attachments:
            return None
        limits = self.settings.limits
        try:
            return read_part(record.attachments, record.parts_cut, limits=limits, passwords=(),
                             form_map=self.settings.form_map, blobs=self.ledger.blobs.root,
                             durable=False)
        except Exception:  # noqa: BLE001 - a fault in the reader is reported by the evaluation
            return None

    def classify(self, record: MessageRecord) -> Classified:
        settings = self.settings
        subject = parse_subject(record.subject, settings.program.subject_core)
        sender = parse_sender_block(record.body)
        automatic = automatic_reason(
            record.headers, return_path=record.return_path, from_addr=record.from_addr,
            content_type=record.content_type, our_addresses=settings.own_addresses,
        )
        if automatic:
            return Classified("automatic", subject, sender, f"自動送信メール: {automatic}")
        password = None if record.attachments else find_password(record.body)
        if password:
            return Classified("password", subject, sender, password=password)
        if not subject.matches and not record.attachments:
            return Classified("question", subject, sender,
                              "件名が応募書類送付の形式ではなく添付ファイルもないため、"
                              "お問い合わせ等として事務局で確認します")
        return Classified("part", subject, sender)

    def _file(self, message: int, record: MessageRecord, kind: Classified,
              received_at: datetime, *, locked: bool, full_set: bool | None = None) -> int:
        """Attach the mail to its submission (an existing one, or a new one) and return its id."""
        settings, ledger = self.settings, self.ledger
        key, sender = kind.subject.consortium_key, record.from_addr
        if kind.role == "password":
            target = submission_awaiting_password(
                ledger, key=key, sender=sender, received_at=received_at,
                window=settings.password_window)
            ledger.db["archive_passwords"].insert({
                "message": message, "submission_id": target, "password": kind.password,
                "created_at": utcnow(),
            })
            if target is not None:
                self._reopen(target, "password_received")
                return target
            # Kept unassigned: an archive from the same sender arriving later claims it.
            kind = Classified("question", kind.subject, kind.sender,
                              "パスワードの記載がありますが、対応する暗号化ファイルがまだ届いていません"
                              "(後から届いた場合は自動で照合します)")
        target = None
        if kind.role == "part":
            target = submission_for_part(
                ledger, settings, key=key, sender=sender, received_at=received_at,
                subject=kind.subject, attachments=record.attachments, full_set=full_set)
            if target is not None:
                self._reopen(target, "part_received")
        submission = target if target is not None else \
            self._new_submission(message, record, kind)
        if kind.role == "part" and locked:  # the archive may come in any part of a split
            for password_mail in claim_passwords(ledger, submission, sender=sender,
                                                 received_at=received_at,
                                                 window=settings.password_window):
                self._move_to(password_mail, submission)
        return submission

    def _move_to(self, message: int, submission: int) -> None:
        """A password mail filed before its archive joins the archive's submission, as it would
        have had it been read after it; the placeholder it was filed under goes away."""
        ledger = self.ledger
        old = ledger.db["messages"].get(message)["submission_id"]
        ledger.db["messages"].update(message, {"submission_id": submission,
                                               "state": "checked"})
        ledger.event("message", message, "joined", {"submission": submission, "was": old})
        if old is None or old == submission:
            return
        left = ledger.db["messages"].count_where("submission_id = ?", [old])
        answered = ledger.db["replies"].count_where("submission_id = ?", [old])
        placeholder = ledger.db["submissions"].get(old)["kind"] == "not_submission"
        if not left and not answered and placeholder:
            ledger.db.execute("DELETE FROM findings WHERE submission_id = ?", [old])
            ledger.db.execute("DELETE FROM submissions WHERE id = ?", [old])
            ledger.event("submission", old, "merged", {"into": submission})
            if old in self.created:
                self.created.discard(old)
                self.report.submissions -= 1

    def _new_submission(self, message: int, record: MessageRecord, kind: Classified) -> int:
        now = utcnow()
        is_part = kind.role == "part"
        key = kind.subject.consortium_key if is_part else None
        submission = self.ledger.db.execute(
            "INSERT INTO submissions (consortium, consortium_key, version, lead_email, kind, "
            "state, outcome, created_at, updated_at) VALUES (?, ?, 1, ?, ?, ?, ?, ?, ?)",
            [kind.subject.consortium if is_part else None, key, record.from_addr,
             "submission" if is_part else "not_submission",
             "open" if is_part else "needs_review",
             "pending" if is_part else "not_submission", now, now]).lastrowid
        if not is_part:
            self.ledger.db["findings"].insert(
                {**asdict(finding("NOT_A_SUBMISSION", kind.reason or "")),
                 "submission_id": submission, "message": message})
        self.ledger.event("submission", submission, "created", {"role": kind.role})
        self.report.submissions += 1
        self.created.add(submission)
        return submission

    def _set_aside(self, submission: int, exc: Exception) -> None:
        """Hand a submission the checks failed on to staff, with the reason, instead of
        evaluating it again on every pass."""
        with self.ledger.transaction():
            self.ledger.db["submissions"].update(submission, {
                "state": "needs_review", "outcome": "error", "updated_at": utcnow()})
            self.ledger.event("submission", submission, "evaluation_failed",
                              {"error": f"{type(exc).__name__}: {exc}"[:2000]})

    def _reopen(self, submission: int, why: str) -> None:
        self.ledger.db.execute(
            "UPDATE submissions SET state = 'open', evaluate_after = NULL, updated_at = ? "
            "WHERE id = ?", [utcnow(), submission])
        self.ledger.event("submission", submission, why)

    def _open_submissions(self, now: datetime) -> list[int]:
        # In the order they began, so an earlier version is judged before a later one refers
        # to it (DUPLICATE_SUBMISSION), whatever order they were filed in.
        first = FIRST_RECEIVED.format(s="submissions")
        return [r[0] for r in self.ledger.db.execute(
            "SELECT id FROM submissions WHERE state = 'open' "
            f"AND (evaluate_after IS NULL OR evaluate_after <= ?) ORDER BY {first}, id",
            [iso(now)])]

    def evaluate_and_answer(self, submission: int, now: datetime, *, answer: bool = True) -> None:
        self.record_and_answer(submission, self.evaluate(submission, now), answer=answer)

    def evaluate(self, submission: int, now: datetime) -> Evaluation:
        """Read and judge, writing nothing to the ledger (the reading may take seconds, and no
        write lock is held meanwhile)."""
        return evaluate(self.ledger, self.settings, submission, now, self.reads)

    def record_and_answer(self, submission: int, result: Evaluation, *,
                          answer: bool = True) -> None:
        """The findings and the reply they call for, in one transaction: a kill never leaves
        new findings committed without their reply queued."""
        deficient = any(f.severity == "deficiency" for f in result.findings)
        # awaiting_parts / awaiting_password / awaiting_settle until it can be answered
        outcome = f"awaiting_{result.waiting_for}" if result.waiting_for \
            else "deficient" if deficient else "complete"
        with self.ledger.transaction():
            record_evaluation(self.ledger, submission, result, outcome)
            if answer and result.waiting_for is None:
                self.answer(submission, result.findings)

    def stored_findings(self, submission: int) -> list[Finding]:
        return [Finding(r["code"], r["severity"], r["detail"], r["member"], r["document"])
                for r in self.ledger.db["findings"].rows_where(
                    "submission_id = ?", [submission], order_by="id")]

    def answer(self, submission: int, findings: list[Finding]) -> None:
        """Render and queue the reply of an evaluated submission (or only render it, dry-run)."""
        draft = draft_reply(self.ledger, self.settings, self.renderer, submission, findings)
        if draft is None:
            return
        if self.dry_run:
            self.report.files.append(write_eml(
                self.settings.outbox_dir / "dry-run", f"{submission:05d}-{draft.kind}.eml",
                draft.raw))
            self._count(draft.kind)
            return
        queued = queue_draft(self.ledger, self.settings, submission, draft, findings)
        if queued is not None:
            self._count(draft.kind)
        if submission not in self.created:
            self.report.resumed += 1

    def _count(self, kind: str) -> None:
        self.report.replies[kind] = self.report.replies.get(kind, 0) + 1


def _notes(record: MessageRecord, received_at_source: str, facts: dict[str, Any]) -> list[str]:
    notes = list(record.problems)
    if facts.get("sender_auth_failed"):
        notes.append(facts["sender_auth_failed"])
    if received_at_source in ("date", "fetch"):
        # No server receive time came with this mail: the period was judged on a weaker time.
        notes.append(f"受信時刻の記録がないため {received_at_source} の時刻で期間を判定")
    return notes


def _facts(record: MessageRecord, kind: Classified, locked: list[str]) -> dict[str, Any]:
    sender = kind.sender
    return {
        "role": kind.role,
        "subject": record.subject,
        "consortium": kind.subject.consortium,
        "part": kind.subject.part,
        "parts_total": kind.subject.parts_total,
        "message_id": record.message_id,
        "references": list(record.references),
        "to": list(record.to),
        "date": record.date.isoformat() if record.date else None,
        "sender": asdict(sender),
        "attachments": [a.name for a in record.attachments],
        # What each attachment is, byte for byte: the same files sent again are one version.
        "attachment_sha256": attachment_sha256(record.attachments),
        # Encrypted archives, found now so that a later password mail can find its submission.
        "locked": locked,
    }
