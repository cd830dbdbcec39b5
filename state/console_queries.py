"""Read-only questions only the web console asks: what waits for approval, the versions of a
consortium's submission, one stored file. The listings shared with the CLI stay in
state.queries."""

from __future__ import annotations

from typing import Any

from state.ledger import Ledger
from state.queries import with_display


def awaiting_approval(ledger: Ledger, limit: int | None = None) -> list[dict[str, Any]]:
    """Replies waiting for a staff member's 承認, earliest due first, with their submission
    (the first `limit` of them)."""
    return list(ledger.db.query(
        "SELECT r.id, r.submission_id, r.kind, r.status, r.to_addr, r.subject, r.due_at, "
        "r.raw_sha256, r.held_reason, s.consortium, s.version, s.lead_email "
        "FROM replies r JOIN submissions s ON s.id = r.submission_id "
        "WHERE r.status = 'awaiting_approval' ORDER BY r.due_at, r.id LIMIT ?",
        [-1 if limit is None else limit]))


def count_awaiting_approval(ledger: Ledger) -> int:
    return ledger.db.execute(
        "SELECT count(*) FROM replies WHERE status = 'awaiting_approval'").fetchone()[0]


def findings_by_submission(ledger: Ledger, ids: list[int]) -> dict[int, list[dict[str, Any]]]:
    found: dict[int, list[dict[str, Any]]] = {i: [] for i in ids}
    if not ids:
        return found
    for row in ledger.db.query(
        "SELECT id, submission_id, code, severity, member, document, detail FROM findings "
        f"WHERE submission_id IN ({', '.join('?' * len(ids))}) ORDER BY id", ids):
        found[row["submission_id"]].append(row)
    return found


def lead_companies(ledger: Ledger, ids: list[int]) -> dict[int, str]:
    """The company the first mail of each submission names in its sender block (幹事社)."""
    if not ids:
        return {}
    rows = ledger.db.execute(
        "SELECT m.submission_id, json_extract(m.facts, '$.sender.company') FROM messages m "
        f"WHERE m.submission_id IN ({', '.join('?' * len(ids))}) AND json_valid(m.facts) "
        "ORDER BY m.received_at DESC, m.id DESC", ids)
    return {sid: company for sid, company in rows if company}


def versions(ledger: Ledger, submission_id: int) -> list[dict[str, Any]]:
    """Every version of the consortium's submission this one belongs to, oldest first."""
    return with_display(ledger.db.query(
        "SELECT id, version, status, outcome, superseded_by, first_received_at, replies "
        "FROM submissions_overview WHERE id IN (SELECT id FROM submissions "
        "WHERE consortium_key IS NOT NULL AND consortium_key = "
        "(SELECT consortium_key FROM submissions WHERE id = ?)) ORDER BY version, id",
        [submission_id]))


def reply(ledger: Ledger, reply_id: int) -> dict[str, Any] | None:
    rows = list(ledger.db.query("SELECT * FROM replies WHERE id = ?", [reply_id]))
    return rows[0] if rows else None


def attachment(ledger: Ledger, attachment_id: int) -> dict[str, Any] | None:
    rows = list(ledger.db.query(
        "SELECT id, message, submission_id, path, name, kind, size, sha256 FROM attachments "
        "WHERE id = ?", [attachment_id]))
    return rows[0] if rows else None


def message(ledger: Ledger, message_id: int) -> dict[str, Any] | None:
    rows = list(ledger.db.query(
        "SELECT id, sha256, submission_id, state, subject, from_addr, received_at, problem, "
        "body_text FROM messages WHERE id = ?", [message_id]))
    return rows[0] if rows else None
