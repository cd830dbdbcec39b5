"""The path of one mail: record → parse → correlate → evaluate → queue a reply.

Every stage is restartable from the ledger alone: a mail left in state `received` is parsed
again on the next pass, and an `open` submission is evaluated again until it is answered
(the outbox row is unique per submission and kind, so a reply is never queued twice).
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from ingest.config import Settings
from ingest.consortium_name import consortium_for_reply, printable
from ingest.correlate import (
    FIRST_RECEIVED,
    claim_passwords,
    mark_superseded,
    renumber_versions,
    submission_awaiting_password,
)
from ingest.evaluate import evaluate
from ingest.grouping import attachment_sha256, full_set_alone, submission_for_part
from ingest.progress import Progress
from ingest.reading import locked_attachments
from ingest.sources import RawMail
from parsers.authresults import trusted_results
from parsers.mime import MessageRecord, parse_message
from parsers.password import find_password
from parsers.sender import SenderDetails, parse_sender_block
from parsers.subject import SubjectInfo, parse_subject
from replies.address import choose_recipient
from replies.bounces import bounced_reply
from replies.compose import compose, reply_message_id
from replies.connection import ServerConfig
from replies.outbox import QueuedReply, queue, record_bounce, reply_kind, write_eml, write_files
from replies.render import Renderer, TemplateProblem
from rules.calendar import JST
from rules.findings import CATALOG, Finding, finding
from rules.mail_checks import automatic_reason, sender_auth_failure
from state.blobs import BlobDamaged
from state.labels import label
from state.ledger import Ledger, Recorded, iso, utcnow


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
            record = parse_message(raw, max_parts=self.settings.limits.max_parts)
            kind = self.classify(record)
            ours = bounced_reply(raw) if kind.role == "automatic" else None
            facts = _facts(record, kind,
                           locked_attachments(record.attachments, self.settings.limits))
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
        row = self.ledger.db["messages"].get(message)
        received_at = datetime.fromisoformat(row["received_at"])
        # Read before the write lock is taken, and only when the grouping will ask.
        full = full_set_alone(
            self.ledger, self.settings, key=kind.subject.consortium_key, sender=record.from_addr,
            received_at=received_at, subject=kind.subject, attachments=record.attachments,
        ) if kind.role == "part" else None
        with self.ledger.transaction():
            submission = self._file(message, record, kind, received_at,
                                    locked=bool(facts["locked"]), full_set=full)
            self.ledger.db["messages"].update(message, {
                "state": "checked" if kind.role in ("part", "password")
                and not facts.get("sender_auth_failed") else "needs_review",
                "subject": record.subject, "from_addr": record.from_addr,
                "from_name": record.from_name, "date_header": record.date_header,
                "submission_id": submission, "body_text": record.body,
                "facts": json.dumps(facts, ensure_ascii=False),
                "problem": "; ".join(_notes(record, row, facts)) or None,
            })
            self.ledger.event("message", message, "filed",
                              {"role": kind.role, "submission": submission})
            # Versions count in receive order: this mail may have come before others filed.
            renumber_versions(self.ledger, kind.subject.consortium_key)

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
        submission = self.ledger.db["submissions"].insert({
            "consortium": kind.subject.consortium if is_part else None, "consortium_key": key,
            "version": 1, "lead_email": record.from_addr,
            "kind": "submission" if is_part else "not_submission",
            "state": "open" if is_part else "needs_review",
            "outcome": "pending" if is_part else "not_submission",
            "created_at": now, "updated_at": now,
        }).last_pk
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
        self.ledger.db["submissions"].update(
            submission, {"state": "open", "evaluate_after": None, "updated_at": utcnow()})
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
        result = evaluate(self.ledger, self.settings, submission, now)
        deficient = any(f.severity == "deficiency" for f in result.findings)
        # awaiting_parts / awaiting_password / awaiting_settle until it can be answered
        outcome = f"awaiting_{result.waiting_for}" if result.waiting_for \
            else "deficient" if deficient else "complete"
        with self.ledger.transaction():
            self.ledger.db.execute("DELETE FROM findings WHERE submission_id = ?", [submission])
            self.ledger.db["findings"].insert_all(
                {**asdict(f), "submission_id": submission} for f in result.findings)
            self.ledger.db["submissions"].update(submission, {
                "outcome": outcome, "updated_at": utcnow(),
                "evaluate_after": iso(result.wake_at) if result.wake_at else None})
            self.ledger.event("submission", submission, "evaluated", {
                "findings": [f.code for f in result.findings], "waiting_for": result.waiting_for,
            })
        if answer and result.waiting_for is None:
            self.answer(submission, result.findings)

    def stored_findings(self, submission: int) -> list[Finding]:
        return [Finding(r["code"], r["severity"], r["detail"], r["member"], r["document"])
                for r in self.ledger.db["findings"].rows_where(
                    "submission_id = ?", [submission], order_by="id")]

    def answer(self, submission: int, findings: list[Finding]) -> None:
        """Render and queue the reply of an evaluated submission (or only render it, dry-run)."""
        kind = reply_kind(findings)
        if kind is None:
            return
        sub = self.ledger.db["submissions"].get(submission)
        # The first part answers for the submission (a password mail sent ahead of its archive
        # is not what the applicant submitted).
        message = next(self.ledger.db["messages"].rows_where(
            "submission_id = ?", [submission],
            order_by="json_extract(facts, '$.role') IS NOT 'part', received_at, id", limit=1))
        facts = json.loads(message["facts"] or "{}")
        received_at = datetime.fromisoformat(message["received_at"])
        files = [r[0] for r in self.ledger.db.execute(
            "SELECT path FROM attachments WHERE submission_id = ? ORDER BY id", [submission])]
        consortium, where = consortium_for_reply(self.ledger, self.settings, sub)
        subject, body = self.renderer.render(kind, reply_context(
            self.settings, {**sub, "consortium": consortium}, findings, facts, received_at,
            files, consortium_from=where))
        message_id = reply_message_id(submission, kind, self.settings.secretariat_address)
        to_addr, note = choose_recipient(
            sub["lead_email"], facts.get("sender", {}).get("email"),
            prefer_sender_block=self.settings.reply_to_sender_block)
        to_addr = to_addr or (sub["lead_email"] or "")
        if note and not self.dry_run:
            self.ledger.event("submission", submission, "reply_to_sender", {"note": note})
        raw = compose(
            from_addr=self.settings.secretariat_address, from_name=self.settings.secretariat_name,
            to_addr=to_addr, subject=subject, body=body, message_id=message_id,
            in_reply_to=facts.get("message_id"), references=tuple(facts.get("references", ())),
            date=datetime.now(UTC), charset=self.settings.reply_charset,
        )
        if self.dry_run:
            self.report.files.append(write_eml(
                self.settings.outbox_dir / "dry-run", f"{submission:05d}-{kind}.eml", raw))
            self._count(kind)
            return
        queued = queue(self.ledger, QueuedReply(
            submission_id=submission, kind=kind, to_addr=to_addr, subject=subject,
            message_id=message_id, raw=raw, due_at=self.settings.calendar.reply_due(received_at),
            needs_approval=kind == "deficiency" and self.settings.approve_deficiencies,
            charset=self.settings.reply_charset, hold_reason=_auth_hold(findings),
        ), own_addresses=self.settings.own_addresses,
           max_per_recipient_per_day=self.settings.max_replies_per_recipient_per_day)
        if queued is not None:
            self._count(kind)
        with self.ledger.transaction():
            # A forged-looking sender: staff release the held reply (`outbox approve`).
            state = "needs_review" if _auth_hold(findings) else "replied"
            self.ledger.db["submissions"].update(submission, {"state": state,
                                                              "updated_at": utcnow()})
            mark_superseded(self.ledger, sub["consortium_key"])  # the latest complete one wins
        if submission not in self.created:
            self.report.resumed += 1

    def _count(self, kind: str) -> None:
        self.report.replies[kind] = self.report.replies.get(kind, 0) + 1


def reply_context(
    settings: Settings, submission: dict[str, Any], findings: list[Finding],
    facts: dict[str, Any], received_at: datetime, files: list[str],
    consortium_from: str | None = "subject",
) -> dict[str, Any]:
    program = settings.program
    sender = facts.get("sender", {})
    company, name = printable(sender.get("company")), printable(sender.get("name"))
    salutation = "\n".join(x for x in (company, f"{name} 様" if name else "ご担当者 様") if x)
    consortium = printable(submission["consortium"])
    calendar = settings.calendar

    def item(f: Finding) -> dict[str, Any]:
        info = CATALOG[f.code]
        return {"code": f.code, "meaning": info.meaning, "fix": info.fix, "detail": f.detail,
                "member": f.member, "document": f.document}

    return {
        # consortium: from the subject, else the forms, else the file names (consortium_from)
        "submission": {"id": submission["id"], "consortium": consortium,
                       "consortium_from": consortium_from if consortium else None},
        "program": program,
        "secretariat_name": settings.secretariat_name,
        "secretariat_address": settings.secretariat_address,
        "contact": {"email": settings.inquiry_email, "phone": settings.inquiry_phone,
                    "hours": f"平日 {calendar.open_at.hour}:{calendar.open_at.minute:02d}〜"
                             f"{calendar.close_at.hour}:{calendar.close_at.minute:02d}"},
        "sender_salutation": salutation,
        "received_at": jst_text(received_at),
        "fix_by": jst_text(program.period_end),
        # the reply may reach the applicant only after fix_by: a sentence then says what to do
        "fix_by_may_pass": calendar.reply_due(received_at) > program.period_end,
        "period": f"{jst_text(program.period_start)}〜{jst_text(program.period_end)}",
        # where the receive time lies: "受付開始前" | "締切後" | None (inside the period)
        "timing": ("受付開始前" if received_at < program.period_start
                   else "締切後" if received_at > program.period_end else None),
        # deficiency codes, each once: templates make a sentence depend on them
        "codes": list(dict.fromkeys(f.code for f in findings if f.severity == "deficiency")),
        "files": [printable(f) or "" for f in files],
        "deficiencies": [item(f) for f in findings if f.severity == "deficiency"],
        "notices": [item(f) for f in findings if f.severity == "notice"],
    }


def sample_context(settings: Settings) -> dict[str, Any]:
    """A context with every variable filled, for checking templates at start-up."""
    sample = [finding("SENDER_DETAILS_MISSING", "電話番号", member="例", document="例"),
              finding("DUPLICATE_SUBMISSION", "例")]
    return reply_context(settings, {"id": 1, "consortium": "例"}, sample,
                         {"sender": {"company": "例", "name": "例"}}, datetime.now(UTC),
                         ["例.xlsx"])


_WEEKDAYS = "月火水木金土日"


def jst_text(moment: datetime) -> str:
    """「2022年9月9日(金) 23:59」: the one way replies write a time (JST)."""
    local = moment.astimezone(JST)
    return (f"{local.year}年{local.month}月{local.day}日({_WEEKDAYS[local.weekday()]}) "
            f"{local.hour}:{local.minute:02d}")


def _auth_hold(findings: list[Finding]) -> str | None:
    if any(f.code == "SENDER_AUTH_FAILED" for f in findings):
        return ("差出人ドメインの送信ドメイン認証に失敗したため(なりすましの可能性)、"
                "事務局が確認するまで送信を保留しました")
    return None


def _notes(record: MessageRecord, row: dict[str, Any], facts: dict[str, Any]) -> list[str]:
    notes = list(record.problems)
    if facts.get("sender_auth_failed"):
        notes.append(facts["sender_auth_failed"])
    if row["received_at_source"] in ("date", "fetch"):
        # No server receive time came with this mail: the period was judged on a weaker time.
        notes.append(f"受信時刻の記録がないため {row['received_at_source']} の時刻で期間を判定")
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
