"""The reply to an evaluated submission: who it goes to, what it says, the mail itself, and
its place in the outbox together with the submission's new state."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from ingest.config import Settings
from ingest.consortium_name import consortium_for_reply, printable
from ingest.correlate import (
    hold_unsent_receipt,
    mark_superseded,
    receipt_given,
    withdraw_stale_notices,
)
from replies.address import choose_recipient
from replies.compose import compose, reply_message_id
from replies.outbox import QueuedReply, queue, reply_about, reply_kind
from replies.render import Renderer
from rules.calendar import JST
from rules.findings import CATALOG, Finding, finding
from state.ledger import Ledger, utcnow


@dataclass(frozen=True)
class Draft:
    kind: str  # receipt | deficiency (replies.outbox.reply_kind)
    to_addr: str
    subject: str
    message_id: str
    raw: bytes
    received_at: datetime  # of the mail that answers for the submission: the reply's due time
    consortium_key: str | None
    recipient_note: str | None  # why the sender block's address was chosen, for the history
    about: str = ""  # replies.outbox.reply_about: the mails a notice answers


def draft_reply(ledger: Ledger, settings: Settings, renderer: Renderer, submission: int,
                findings: list[Finding]) -> Draft | None:
    """The reply these findings call for, rendered and composed; None when none is due."""
    kind = reply_kind(findings)
    if kind is None:
        return None
    sub = ledger.db["submissions"].get(submission)
    # The first part answers for the submission (a password mail sent ahead of its archive
    # is not what the applicant submitted).
    message = ledger.db.execute(
        "SELECT facts, received_at FROM messages WHERE submission_id = ? "
        "ORDER BY json_extract(facts, '$.role') IS NOT 'part', received_at, id LIMIT 1",
        [submission]).fetchone()
    facts = json.loads(message[0] or "{}")
    received_at = datetime.fromisoformat(message[1])
    files = [r[0] for r in ledger.db.execute(
        "SELECT path FROM attachments WHERE submission_id = ? ORDER BY id", [submission])]
    consortium, where = consortium_for_reply(ledger, settings, sub)
    subject, body = renderer.render(kind, reply_context(
        settings, {**sub, "consortium": consortium}, findings, facts, received_at,
        files, consortium_from=where))
    mails = [r[0] for r in ledger.db.execute(
        "SELECT id FROM messages WHERE submission_id = ?", [submission])]
    about = reply_about(kind, mails)
    # Numbered after the replies of this kind the submission already has (a later notice).
    earlier = ledger.db.execute(
        "SELECT count(*), count(*) FILTER (WHERE about = ?) FROM replies "
        "WHERE submission_id = ? AND kind = ?", [about, submission, kind]).fetchone()
    number = earlier[0] + 1 if not earlier[1] else 1
    message_id = reply_message_id(submission, kind, settings.secretariat_address, number)
    to_addr, note = choose_recipient(
        sub["lead_email"], facts.get("sender", {}).get("email"),
        prefer_sender_block=settings.reply_to_sender_block)
    to_addr = to_addr or (sub["lead_email"] or "")
    raw = compose(
        from_addr=settings.secretariat_address, from_name=settings.secretariat_name,
        to_addr=to_addr, subject=subject, body=body, message_id=message_id,
        in_reply_to=facts.get("message_id"), references=tuple(facts.get("references", ())),
        date=datetime.now(UTC), charset=settings.reply_charset,
    )
    return Draft(kind, to_addr, subject, message_id, raw, received_at, sub["consortium_key"],
                 note, about)


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


def auth_hold(findings: list[Finding]) -> str | None:
    if any(f.code == "SENDER_AUTH_FAILED" for f in findings):
        return ("差出人ドメインの送信ドメイン認証に失敗したため(なりすましの可能性)、"
                "事務局が確認するまで送信を保留しました")
    return None


# A notice that a judgement after the receipt calls for (a mail that joined later, or a
# reprocess after a rule change) waits for staff: the applicant was told it was complete.
LATE_HOLD = ("受付確認を送った後の再判定(受付確認の後に届いたメール、または再処理)で返信が必要に"
             "なりました。申請者には受付済みと伝えてあるため、内容を確認のうえ outbox approve で"
             "送信するか、outbox cancel で取り消してください")


def queue_draft(ledger: Ledger, settings: Settings, submission: int, draft: Draft,
                findings: list[Finding]) -> int | None:
    """Queue the reply with the submission's new state, in one transaction; its outbox id, or
    None when the outbox already holds it."""
    forged = auth_hold(findings)
    late = draft.kind != "receipt" and receipt_given(ledger, submission)
    hold = forged or (LATE_HOLD if late else None)
    with ledger.transaction():  # the reply and the submission's state together
        if draft.recipient_note:
            ledger.event("submission", submission, "reply_to_sender",
                         {"note": draft.recipient_note})
        queued = queue(ledger, QueuedReply(
            submission_id=submission, kind=draft.kind, to_addr=draft.to_addr,
            subject=draft.subject, message_id=draft.message_id, raw=draft.raw,
            due_at=settings.calendar.reply_due(draft.received_at),
            needs_approval=draft.kind == "deficiency" and settings.approve_deficiencies,
            charset=settings.reply_charset, hold_reason=hold, about=draft.about,
        ), own_addresses=settings.own_addresses,
           max_per_recipient_per_day=settings.max_replies_per_recipient_per_day)
        withdraw_stale_notices(ledger, submission, draft.kind, draft.about)
        late = late and queued is not None  # not again for a notice staff already saw
        if late:
            hold_unsent_receipt(ledger, submission, LATE_HOLD)
        # A forged-looking sender, a notice after the receipt: staff release the held reply
        # (`outbox approve`).
        ledger.db.execute(
            "UPDATE submissions SET state = ?, updated_at = ? WHERE id = ?",
            ["needs_review" if forged or late else "replied", utcnow(), submission])
        mark_superseded(ledger, draft.consortium_key)  # the latest complete one wins
    return queued
