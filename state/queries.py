"""Read-only questions staff and the CLI ask of the ledger."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

from state.ledger import Ledger, iso


def submissions(ledger: Ledger) -> Iterator[dict[str, Any]]:
    """One record per submission with its findings, replies and mail count."""
    db = ledger.db
    findings: dict[int, list[str]] = {}
    for row in db.query("SELECT submission_id, code FROM findings ORDER BY id"):
        findings.setdefault(row["submission_id"], []).append(row["code"])
    replies: dict[int, list[dict[str, Any]]] = {}
    for row in db.query("SELECT submission_id, kind, status, due_at, sent_at FROM replies "
                        "ORDER BY id"):
        replies.setdefault(row["submission_id"], []).append(
            {"kind": row["kind"], "status": row["status"], "due_at": row["due_at"],
             "sent_at": row["sent_at"]})
    for row in db.query(
        "SELECT s.*, (SELECT count(*) FROM messages m WHERE m.submission_id = s.id) AS messages, "
        "(SELECT min(received_at) FROM messages m WHERE m.submission_id = s.id) AS received_at, "
        "(SELECT subject FROM messages m WHERE m.submission_id = s.id ORDER BY id LIMIT 1) "
        "AS subject FROM submissions s ORDER BY s.id"
    ):
        yield {
            "id": row["id"],
            "consortium": row["consortium"],
            "consortium_key": row["consortium_key"],
            "version": row["version"],
            "lead_email": row["lead_email"],
            "status": row["state"],
            "outcome": row["outcome"],
            "kind": row["kind"],
            "received_at": row["received_at"],
            "subject": row["subject"],
            "messages": row["messages"],
            "findings": findings.get(row["id"], []),
            "replies": replies.get(row["id"], []),
        }


def status_counts(ledger: Ledger, now: datetime | None = None) -> dict[str, Any]:
    now = now or datetime.now(UTC)
    db = ledger.db

    def counts(sql: str) -> dict[str, int]:
        return {r[0]: r[1] for r in db.execute(sql)}

    return {
        "messages": counts("SELECT state, count(*) FROM messages GROUP BY state"),
        "submissions": counts("SELECT state, count(*) FROM submissions GROUP BY state"),
        "replies": counts("SELECT status, count(*) FROM replies GROUP BY status"),
        "replies_due": db.execute(
            "SELECT count(*) FROM replies WHERE status IN ('queued','awaiting_approval','sending')"
        ).fetchone()[0],
        "replies_overdue": db.execute(
            "SELECT count(*) FROM replies WHERE status IN ('queued','awaiting_approval','sending') "
            "AND due_at < ?", [iso(now)]
        ).fetchone()[0],
        "heartbeats": {r["name"]: r["at"] for r in db.query("SELECT name, at FROM heartbeat")},
    }
