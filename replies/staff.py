"""What staff do with the outbox: list, read, approve, hold, cancel. Every action is an event
row naming the person (`outbox ... --by NAME`), so the ledger says who let which mail go."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from replies.outbox import transition
from state.labels import label
from state.ledger import Ledger

# status → (allowed from, event name)
ACTIONS: dict[str, tuple[tuple[str, ...], str]] = {
    "approve": (("awaiting_approval", "held", "unknown", "failed"), "approved"),
    "hold": (("awaiting_approval", "queued", "unknown", "failed"), "held"),
    "cancel": (("awaiting_approval", "queued", "held", "unknown", "failed"), "cancelled"),
}
TARGET = {"approve": "queued", "hold": "held", "cancel": "cancelled"}
ACTION_NAMES = {"approve": "承認", "hold": "保留", "cancel": "取消"}
STATUSES = ("awaiting_approval", "queued", "sending", "sent", "held", "unknown", "failed",
            "cancelled", "written", "bounced")


@dataclass(frozen=True)
class ActionResult:
    reply_id: int
    done: bool
    message: str  # Japanese, one line, for the staff member who typed the command


def act(ledger: Ledger, action: str, reply_ids: list[int], actor: str,
        reason: str | None = None) -> list[ActionResult]:
    """Apply `approve` / `hold` / `cancel` to each id; a row in the wrong status is left alone
    and said so (e.g. approving a reply that was already sent)."""
    allowed, event = ACTIONS[action]
    target = TARGET[action]
    results = []
    for reply_id in reply_ids:
        row = ledger.db.execute("SELECT status FROM replies WHERE id=?", [reply_id]).fetchone()
        if row is None:
            results.append(ActionResult(reply_id, False, f"返信 {reply_id} はありません"))
            continue
        fields: dict[str, Any] = {}
        if action == "approve":
            fields = {"next_attempt_at": None, "held_reason": None}
        elif action == "hold":
            fields = {"held_reason": reason or f"{actor} が保留しました"}
        detail = {"from": row[0], **({"reason": reason} if reason else {})}
        if transition(ledger, reply_id, target, event, detail, from_status=allowed, actor=actor,
                 **fields):
            if action == "approve":
                _released(ledger, reply_id, actor)
            results.append(ActionResult(
                reply_id, True, f"返信 {reply_id}: {label('reply_status', row[0])} → "
                                f"{label('reply_status', target)}"))
        else:
            results.append(ActionResult(
                reply_id, False,
                f"返信 {reply_id} は{label('reply_status', row[0])}のため{ACTION_NAMES[action]}"
                f"できません({'・'.join(label('reply_status', a) for a in allowed)}"
                "のときだけできます)"))
    return results


# Who last approved, held or cancelled the reply, and when: the staff member a script reading
# `outbox list --json` asks about (the full story is in the events).
_DECIDED = ", ".join(
    f"(SELECT e.{column} FROM events e WHERE e.entity = 'reply' AND e.entity_id = r.id "
    f"AND e.event IN ('approved', 'held', 'cancelled') ORDER BY e.id DESC LIMIT 1) AS {name}"
    for column, name in (("actor", "decided_by"), ("at", "decided_at"), ("event", "decision")))


def _released(ledger: Ledger, reply_id: int, actor: str) -> None:
    """A submission held for review only for its reply (a sender that failed authentication)
    is answered once staff approve that reply."""
    with ledger.transaction():
        cursor = ledger.db.execute(
            "UPDATE submissions SET state = 'replied' WHERE state = 'needs_review' "
            "AND outcome != 'error' AND id = (SELECT submission_id FROM replies WHERE id = ?)",
            [reply_id])
        if cursor.rowcount:
            submission = ledger.db.execute("SELECT submission_id FROM replies WHERE id = ?",
                                           [reply_id]).fetchone()[0]
            ledger.event("submission", submission, "released", {"reply": reply_id}, actor=actor)


def rows(ledger: Ledger, status: str | None = None) -> list[dict[str, Any]]:
    where, params = ("WHERE r.status=?", [status]) if status else ("", [])
    return list(ledger.db.query(
        "SELECT r.id, r.submission_id, r.kind, r.status, r.to_addr, r.subject, r.due_at, "
        "r.sent_at, r.attempts, r.held_reason, r.overdue_at, r.smtp_response, r.charset, "
        f"s.consortium, {_DECIDED} "
        f"FROM replies r LEFT JOIN submissions s ON s.id = r.submission_id {where} "
        "ORDER BY r.due_at, r.id", params))


def status(ledger: Ledger, reply_id: int) -> str | None:
    found = ledger.db.execute("SELECT status FROM replies WHERE id=?", [reply_id]).fetchone()
    return found[0] if found else None


def row(ledger: Ledger, reply_id: int) -> dict[str, Any] | None:
    found = list(ledger.db.query("SELECT * FROM replies WHERE id=?", [reply_id]))
    return found[0] if found else None


def events(ledger: Ledger, reply_id: int) -> list[dict[str, Any]]:
    return list(ledger.db.query(
        "SELECT at, event, actor, detail FROM events WHERE entity='reply' AND entity_id=? "
        "ORDER BY id", [reply_id]))
