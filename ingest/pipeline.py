"""The path of one mail: record → parse → correlate → check → queue a reply.

Every stage is restartable from the ledger alone: a mail left in state `received` is parsed
again on the next pass, and a submission left `checked` gets its reply queued (at most once,
the outbox row is unique per submission and kind).
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from ingest.config import Settings
from ingest.sources import RawMail
from parsers.mime import MessageRecord, parse_message
from parsers.sender import SenderDetails, parse_sender_block
from parsers.subject import parse_subject
from replies.compose import compose, reply_message_id
from replies.outbox import QueuedReply, queue, reply_kind, write_eml, write_files
from replies.render import Renderer
from rules.calendar import JST
from rules.findings import CATALOG, Finding, finding
from rules.mail_checks import automatic_reason, check_period, check_sender, check_subject
from state.ledger import Ledger, utcnow


@dataclass
class PassReport:
    read: int = 0
    new: int = 0
    known: int = 0
    quarantined: int = 0
    submissions: int = 0
    replies: dict[str, int] = field(default_factory=dict)
    files: list[Path] = field(default_factory=list)

    def summary(self) -> str:
        kinds = ", ".join(f"{k} {n}" for k, n in sorted(self.replies.items())) or "なし"
        return (f"{self.read} 通を読み込み: 新規 {self.new}, 既知 {self.known}, 隔離 {self.quarantined}; "
                f"申請 {self.submissions} 件; 返信 {kinds}")


@dataclass
class Pipeline:
    settings: Settings
    ledger: Ledger
    renderer: Renderer
    dry_run: bool = False
    report: PassReport = field(default_factory=PassReport)

    # --- entry points -------------------------------------------------------------------------

    def take(self, mail: RawMail) -> None:
        """Record one mail durably, then carry it as far as it goes."""
        self.report.read += 1
        recorded = self.ledger.record_mail(mail.raw, mail.arrival)
        if recorded.new:
            self.report.new += 1
        else:
            self.report.known += 1
        self.advance()

    def advance(self) -> None:
        """Finish every stage left open, by this pass or by an earlier one that stopped."""
        for message in self.ledger.messages_in_state("received"):
            self.process_message(message)
        for submission in self._submissions_to_answer():
            self.answer(submission)
        if self.settings.smtp is None and not self.dry_run:
            self.report.files += write_files(self.ledger, self.settings.outbox_dir)

    # --- stages -------------------------------------------------------------------------------

    def process_message(self, message: int) -> None:
        raw = self.ledger.raw(message)
        try:
            record = parse_message(raw)
        except Exception as exc:  # one bad mail must never stop the mailbox
            self.ledger.set_message_state(
                message, "quarantined", problem=f"解析できません: {type(exc).__name__}: {exc}"
            )
            self.report.quarantined += 1
            return
        row = self.ledger.db["messages"].get(message)
        received_at = datetime.fromisoformat(row["received_at"])
        sender = parse_sender_block(record.body)
        findings, kind, consortium, key = self._check(record, sender, received_at)
        now = utcnow()
        with self.ledger.transaction():
            version = 1 + self.ledger.db.execute(
                "SELECT count(*) FROM submissions WHERE consortium_key=? AND kind='submission'",
                [key],
            ).fetchone()[0] if key else 1
            submission = self.ledger.db["submissions"].insert({
                "consortium": consortium, "consortium_key": key, "version": version,
                "lead_email": record.from_addr, "kind": kind,
                "state": "checked" if kind == "submission" else "needs_review",
                "outcome": _outcome(kind, findings), "created_at": now, "updated_at": now,
            }).last_pk
            self.ledger.db["findings"].insert_all(
                {**asdict(f), "submission_id": submission, "message": message} for f in findings
            )
            self.ledger.db["messages"].update(message, {
                "state": "checked" if kind == "submission" else "needs_review",
                "subject": record.subject, "from_addr": record.from_addr,
                "from_name": record.from_name, "date_header": record.date_header,
                "submission_id": submission, "facts": json.dumps(_facts(record, sender), ensure_ascii=False),
                "problem": "; ".join(_notes(record, row)) or None,
            })
            self.ledger.event("message", message, "checked", {"submission": submission})
            self.ledger.event("submission", submission, "created",
                              {"findings": [f.code for f in findings]})
        self.report.submissions += 1

    def _check(
        self, record: MessageRecord, sender: SenderDetails, received_at: datetime
    ) -> tuple[list[Finding], str, str | None, str | None]:
        settings = self.settings
        subject = parse_subject(record.subject, settings.program.subject_core)
        automatic = automatic_reason(
            record.headers, return_path=record.return_path, from_addr=record.from_addr,
            content_type=record.content_type, our_addresses=settings.own_addresses,
        )
        if automatic:
            return [finding("NOT_A_SUBMISSION", f"自動送信メール: {automatic}")], \
                "not_submission", None, None
        if not subject.matches and not record.attachments:
            return [finding("NOT_A_SUBMISSION",
                            "件名が応募書類送付の形式ではなく添付ファイルもないため、"
                            "お問い合わせ等として事務局で確認します")], "not_submission", None, None
        findings = [
            *check_subject(subject),
            *check_sender(sender),
            *check_period(received_at, settings.program),
        ]
        return findings, "submission", subject.consortium, subject.consortium_key

    def _submissions_to_answer(self) -> list[int]:
        return [r[0] for r in self.ledger.db.execute(
            "SELECT id FROM submissions WHERE state='checked' ORDER BY id"
        )]

    def answer(self, submission: int) -> None:
        """Decide, render and queue the reply of a checked submission (or render it, dry-run)."""
        sub = self.ledger.db["submissions"].get(submission)
        findings = [Finding(r["code"], r["severity"], r["detail"], r["member"], r["document"])
                    for r in self.ledger.db["findings"].rows_where("submission_id=?", [submission])]
        kind = reply_kind(findings)
        if kind is None:
            return
        message = next(self.ledger.db["messages"].rows_where(
            "submission_id=?", [submission], order_by="id", limit=1))
        facts = json.loads(message["facts"] or "{}")
        received_at = datetime.fromisoformat(message["received_at"])
        subject, body = self.renderer.render(kind, reply_context(
            self.settings, sub, findings, facts, received_at))
        message_id = reply_message_id(submission, kind, self.settings.secretariat_address)
        raw = compose(
            from_addr=self.settings.secretariat_address, from_name=self.settings.secretariat_name,
            to_addr=sub["lead_email"], subject=subject, body=body, message_id=message_id,
            in_reply_to=facts.get("message_id"), references=tuple(facts.get("references", ())),
            date=datetime.now(UTC),
        )
        self.report.replies[kind] = self.report.replies.get(kind, 0) + 1
        if self.dry_run:
            self.report.files.append(write_eml(
                self.settings.outbox_dir / "dry-run", f"{submission:05d}-{kind}.eml", raw))
            return
        queue(self.ledger, QueuedReply(
            submission_id=submission, kind=kind, to_addr=sub["lead_email"], subject=subject,
            message_id=message_id, raw=raw,
            due_at=self.settings.calendar.reply_due(received_at),
            needs_approval=kind == "deficiency" and self.settings.approve_deficiencies,
        ))
        with self.ledger.transaction():
            self.ledger.db["submissions"].update(submission, {"state": "replied",
                                                              "updated_at": utcnow()})


def reply_context(
    settings: Settings, submission: dict[str, Any], findings: list[Finding],
    facts: dict[str, Any], received_at: datetime,
) -> dict[str, Any]:
    program = settings.program
    sender = facts.get("sender", {})
    company, name = sender.get("company"), sender.get("name")
    salutation = "\n".join(x for x in (company, f"{name} 様" if name else "ご担当者 様") if x)

    def item(f: Finding) -> dict[str, Any]:
        info = CATALOG[f.code]
        return {"code": f.code, "meaning": info.meaning, "fix": info.fix, "detail": f.detail,
                "member": f.member, "document": f.document}

    return {
        "submission": {"id": submission["id"], "consortium": submission["consortium"]},
        "program": program,
        "secretariat_name": settings.secretariat_name,
        "secretariat_address": settings.secretariat_address,
        "sender_salutation": salutation,
        "received_at": jst_text(received_at),
        "fix_by": jst_text(program.period_end),
        "period": f"{jst_text(program.period_start)}〜{jst_text(program.period_end)}",
        "files": facts.get("attachments", []),
        "deficiencies": [item(f) for f in findings if f.severity == "deficiency"],
        "notices": [item(f) for f in findings if f.severity == "notice"],
    }


def sample_context(settings: Settings) -> dict[str, Any]:
    """A context with every variable filled, for checking templates at start-up."""
    sample = [finding("SENDER_DETAILS_MISSING", "電話番号", member="例", document="例"),
              finding("DUPLICATE_SUBMISSION", "例")]
    return reply_context(settings, {"id": 1, "consortium": "例"}, sample,
                         {"sender": {"company": "例", "name": "例"}, "attachments": ["例.xlsx"]},
                         datetime.now(UTC))


def jst_text(moment: datetime) -> str:
    local = moment.astimezone(JST)
    return f"{local.year}年{local.month}月{local.day}日 {local.hour}:{local.minute:02d}"


def _notes(record: MessageRecord, row: dict[str, Any]) -> list[str]:
    notes = list(record.problems)
    if row["received_at_source"] in ("date", "fetch"):
        # No server receive time was recorded with this mail: the period was judged on a weaker time.
        notes.append(f"受信時刻の記録がないため {row['received_at_source']} の時刻で期間を判定")
    return notes


def _outcome(kind: str, findings: list[Finding]) -> str:
    if kind != "submission":
        return "not_submission"
    return "deficient" if any(f.severity == "deficiency" for f in findings) else "complete"


def _facts(record: MessageRecord, sender: SenderDetails) -> dict[str, Any]:
    return {
        "message_id": record.message_id,
        "references": list(record.references),
        "to": list(record.to),
        "date": record.date.isoformat() if record.date else None,
        "sender": {k: getattr(sender, k) for k in ("company", "title", "name", "email", "phone")},
        "attachments": [a.name for a in record.attachments],
        "body_excerpt": record.body[:2000],
    }
