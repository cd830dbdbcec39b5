"""Correlate: which submission a new mail belongs to (split parts, the later password mail)."""

from __future__ import annotations

from datetime import datetime, timedelta

from state.ledger import Ledger, iso


def open_submission_for_part(
    ledger: Ledger, *, key: str | None, sender: str | None, received_at: datetime,
    window: timedelta,
) -> int | None:
    """The still-open submission a further part joins: same consortium (or, without a readable
    name, same sender) whose latest mail came within `window` before this one."""
    if not key and not sender:
        return None
    row = ledger.db.execute(
        """
        SELECT s.id FROM submissions s JOIN messages m ON m.submission_id = s.id
        WHERE s.kind = 'submission' AND s.state = 'open'
          AND (s.consortium_key = ? OR (? IS NULL AND s.lead_email = ?))
        GROUP BY s.id HAVING max(m.received_at) >= ? AND max(m.received_at) <= ?
        ORDER BY max(m.received_at) DESC LIMIT 1
        """,
        [key, key, sender, iso(received_at - window), iso(received_at)],
    ).fetchone()
    return row[0] if row else None


def submission_awaiting_password(
    ledger: Ledger, *, key: str | None, sender: str | None, received_at: datetime,
    window: timedelta,
) -> int | None:
    """The submission a password mail is for: one from the same sender (or for the same
    consortium) that came with an encrypted archive within `window` before it. When there are
    several, the one the password mail names by consortium wins, then one whose archive is still
    closed, then the latest."""
    row = ledger.db.execute(
        """
        SELECT s.id FROM submissions s JOIN messages m ON m.submission_id = s.id
        WHERE s.kind = 'submission'
          AND EXISTS (SELECT 1 FROM messages p WHERE p.submission_id = s.id
                      AND json_array_length(p.facts, '$.locked') > 0)
          AND (s.lead_email = ? OR (? IS NOT NULL AND s.consortium_key = ?))
        GROUP BY s.id HAVING min(m.received_at) >= ? AND min(m.received_at) <= ?
        ORDER BY s.consortium_key IS ? DESC,
                 (s.outcome IN ('pending', 'awaiting_password', 'awaiting_settle')
                  OR EXISTS (SELECT 1 FROM findings f WHERE f.submission_id = s.id
                             AND f.code LIKE 'ARCHIVE_PASSWORD_%')) DESC,
                 min(m.received_at) DESC
        LIMIT 1
        """,
        [sender, key, key, iso(received_at - window), iso(received_at), key],
    ).fetchone()
    return row[0] if row else None


def claim_earlier_passwords(ledger: Ledger, submission: int, *, sender: str | None,
                            received_at: datetime, window: timedelta) -> int:
    """Passwords that came before their archive (from the same sender, within `window`) are
    given to the submission the archive just started; returns how many."""
    if not sender:
        return 0
    cursor = ledger.db.execute(
        """
        UPDATE archive_passwords SET submission_id = ?
        WHERE submission_id IS NULL AND message IN (
            SELECT id FROM messages WHERE from_addr = ? AND received_at >= ? AND received_at <= ?)
        """,
        [submission, sender, iso(received_at - window), iso(received_at)],
    )
    return cursor.rowcount


def next_version(ledger: Ledger, key: str | None) -> int:
    if not key:
        return 1
    return 1 + ledger.db.execute(
        "SELECT count(*) FROM submissions WHERE consortium_key = ? AND kind = 'submission'", [key]
    ).fetchone()[0]


def earlier_complete(ledger: Ledger, key: str | None, submission: int) -> list[int]:
    """Earlier versions of the same consortium that were answered complete."""
    if not key:
        return []
    return [r[0] for r in ledger.db.execute(
        "SELECT id FROM submissions WHERE consortium_key = ? AND kind = 'submission' "
        "AND outcome = 'complete' AND id < ? ORDER BY id", [key, submission],
    )]
