"""Correlate: which submission a password mail belongs to, and versions of one consortium.
(Which submission a further part joins is `ingest.grouping`.)

Every choice here is made by receive time, never by the order mails are processed in: a mailbox
read out of order (an mbox written unsorted, an IMAP folder whose UID order is not arrival order)
must give the same submissions as the same mails read in arrival order.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from replies.outbox import transition
from rules.application import FREE_MAIL_DOMAINS
from state.ledger import Ledger, iso

# When a submission began: its earliest mail. Versions and "the latest complete one wins" are
# ordered by it (then by id, only to break an exact tie).
FIRST_RECEIVED = ("(SELECT min(received_at) FROM messages WHERE submission_id = {s}.id)")

# The domain of an address column, lower-cased.
_DOMAIN = "lower(substr({a}, instr({a}, '@') + 1))"


def organisation(address: str | None) -> str | None:
    """The organisation an address speaks for: its domain, unless anyone can have an address
    there (a free-mail domain says nothing about the company)."""
    if not address or "@" not in address:
        return None
    domain = address.rsplit("@", 1)[1].strip().strip(">").casefold()
    return None if not domain or domain in FREE_MAIL_DOMAINS else domain


def submission_awaiting_password(
    ledger: Ledger, *, key: str | None, sender: str | None, received_at: datetime,
    window: timedelta,
) -> int | None:
    """The submission a password mail is for: one from the same sender (or for the same
    consortium) that came with an encrypted archive within `window` of it (before it, or after
    it when that archive was processed first though received later); failing that, when the
    password mail names no consortium, one a colleague at the same organisation sent that has no
    password yet. A password naming its consortium is not given to an archive of another
    consortium that already has its password: it waits for its own archive. When there are
    several, the one the password mail names by consortium wins, then one whose
    archive is still closed, then the sender's own, then the latest."""
    org = organisation(sender)
    row = ledger.db.execute(
        f"""
        SELECT s.id FROM submissions s JOIN messages m ON m.submission_id = s.id
        WHERE s.kind = 'submission'
          AND EXISTS (SELECT 1 FROM messages p WHERE p.submission_id = s.id
                      AND json_array_length(p.facts, '$.locked') > 0)
          AND ((s.lead_email = ? AND (? IS NULL OR s.consortium_key IS NULL
                                      OR s.consortium_key = ? OR NOT EXISTS (
                                          SELECT 1 FROM archive_passwords w
                                          WHERE w.submission_id = s.id)))
               OR (? IS NOT NULL AND s.consortium_key = ?)
               OR (? IS NULL AND ? IS NOT NULL AND {_DOMAIN.format(a='s.lead_email')} = ?
                   AND NOT EXISTS (SELECT 1 FROM archive_passwords w WHERE w.submission_id = s.id)))
        GROUP BY s.id HAVING min(m.received_at) >= ? AND min(m.received_at) <= ?
        ORDER BY s.consortium_key IS ? DESC,
                 (s.outcome IN ('pending', 'awaiting_password', 'awaiting_settle')
                  OR EXISTS (SELECT 1 FROM findings f WHERE f.submission_id = s.id
                             AND f.code LIKE 'ARCHIVE_PASSWORD_%')) DESC,
                 (s.lead_email IS ? OR s.consortium_key IS ?) DESC,
                 min(m.received_at) <= ? DESC, min(m.received_at) DESC
        LIMIT 1
        """,
        [sender, key, key, key, key, key, org, org, iso(received_at - window), iso(received_at + window),
         key, sender, key, iso(received_at)],
    ).fetchone()
    return row[0] if row else None


def claim_passwords(ledger: Ledger, submission: int, *, sender: str | None,
                    received_at: datetime, window: timedelta) -> list[int]:
    """Passwords from the same sender (or, when there is none, from colleagues at the same
    organisation, in mails that name no consortium) that are still unassigned and came within
    `window` after the archive's mail (processed earlier because they were read first) or before
    it (sent ahead of the archive): they are given to the submission the archive just started,
    and their mails join it. Returns the password mails' ids."""
    if not sender:
        return []
    org = organisation(sender)
    rows = ledger.db.execute(
        f"""
        SELECT p.id, p.message, m.from_addr FROM archive_passwords p JOIN messages m ON m.id = p.message
        WHERE p.submission_id IS NULL
          AND (m.from_addr = ? OR (? IS NOT NULL AND {_DOMAIN.format(a='m.from_addr')} = ?
                                   AND json_extract(m.facts, '$.consortium') IS NULL))
          AND m.received_at >= ? AND m.received_at <= ?
        ORDER BY m.from_addr IS ? DESC
        """,
        [sender, org, org, iso(received_at - window), iso(received_at + window), sender],
    ).fetchall()
    own = [row for row in rows if row[2] == sender]
    rows = own or rows
    for password, _message, _sender in rows:
        ledger.db.execute("UPDATE archive_passwords SET submission_id = ? WHERE id = ?",
                          [submission, password])
    return [message for _password, message, _sender in rows]


def renumber_versions(ledger: Ledger, key: str | None) -> None:
    """Versions of one consortium's submissions count up in the order they were received."""
    if not key:
        return
    first = FIRST_RECEIVED.format(s="s")
    rows = ledger.db.execute(
        f"SELECT s.id, s.version FROM submissions s WHERE s.consortium_key = ? "
        f"AND s.kind = 'submission' ORDER BY {first}, s.id", [key]).fetchall()
    for number, (submission, version) in enumerate(rows, start=1):
        if version != number:
            ledger.db.execute("UPDATE submissions SET version = ? WHERE id = ?",
                              [number, submission])


def earlier_complete(ledger: Ledger, key: str | None, submission: int) -> list[int]:
    """Earlier versions (by receive time) of the same consortium that were answered complete."""
    if not key:
        return []
    first = FIRST_RECEIVED.format(s="s")
    mine = FIRST_RECEIVED.format(s="me")
    return [r[0] for r in ledger.db.execute(
        f"SELECT s.id FROM submissions s, submissions me WHERE me.id = ? "
        f"AND s.consortium_key = ? AND s.kind = 'submission' AND s.outcome = 'complete' "
        f"AND s.id != me.id AND ({first}, s.id) < ({mine}, me.id) ORDER BY {first}, s.id",
        [submission, key],
    )]


def mark_superseded(ledger: Ledger, key: str | None) -> None:
    """The latest complete version (by receive time) wins: every earlier one points at it, and
    what an earlier one still owed its sender (a deficiency notice not yet sent) is withdrawn."""
    if not key:
        return
    first = FIRST_RECEIVED.format(s="s")
    latest = ledger.db.execute(
        f"SELECT s.id, {first} FROM submissions s WHERE s.consortium_key = ? "
        f"AND s.kind = 'submission' AND s.outcome = 'complete' AND s.state = 'replied' "
        f"ORDER BY {first} DESC, s.id DESC LIMIT 1", [key]).fetchone()
    if latest is None:
        return
    winner, began = latest
    ledger.db.execute(
        f"UPDATE submissions SET superseded_by = ? WHERE consortium_key = ? AND kind = 'submission' "
        f"AND id != ? AND ({FIRST_RECEIVED.format(s='submissions')}, id) < (?, ?)",
        [winner, key, winner, began, winner])
    ledger.db.execute(
        "UPDATE submissions SET superseded_by = NULL WHERE id = ? OR (consortium_key = ? "
        "AND superseded_by IS NOT NULL AND superseded_by != ?)", [winner, key, winner])
    _withdraw_notices(ledger, winner, began)


# What a superseded version may still owe its sender: a request to fix or to send a password.
_WITHDRAWN_KINDS = ("deficiency", "password_request")
_NOT_YET_SENT = ("awaiting_approval", "queued", "held", "failed")


def _withdraw_notices(ledger: Ledger, winner: int, began: str) -> None:
    """A notice not yet sent, and not yet due when the later complete version came, for a version
    that version replaced is cancelled: the applicant has already sent what it would ask for (a
    receipt of an earlier version stays; so does a notice that was due before the new set came)."""
    marks = ",".join("?" * len(_NOT_YET_SENT))
    kinds = ",".join("?" * len(_WITHDRAWN_KINDS))
    rows = ledger.db.execute(
        f"SELECT r.id FROM replies r JOIN submissions s ON s.id = r.submission_id "
        f"WHERE s.superseded_by = ? AND r.kind IN ({kinds}) AND r.status IN ({marks}) "
        f"AND r.due_at > ?",
        [winner, *_WITHDRAWN_KINDS, *_NOT_YET_SENT, began]).fetchall()
    for (reply,) in rows:
        transition(ledger, reply, "cancelled", "cancelled",
                   {"reason": f"後から届いた受付番号 {winner} の応募書類一式で置き換わったため"},
                   from_status=_NOT_YET_SENT)


def withdraw_stale_notices(ledger: Ledger, submission: int, kind: str, about: str) -> None:
    """A submission judged again (a further mail joined it) withdraws what an earlier judgement
    of it still owed and had not sent: a deficiency notice or password request that asks for what
    has since come, or that the reply of this judgement restates."""
    marks = ",".join("?" * len(_NOT_YET_SENT))
    kinds = ",".join("?" * len(_WITHDRAWN_KINDS))
    rows = ledger.db.execute(
        f"SELECT id FROM replies WHERE submission_id = ? AND kind IN ({kinds}) "
        f"AND status IN ({marks}) AND NOT (kind = ? AND about = ?)",
        [submission, *_WITHDRAWN_KINDS, *_NOT_YET_SENT, kind, about]).fetchall()
    for (reply,) in rows:
        transition(ledger, reply, "cancelled", "cancelled",
                   {"reason": "後から届いたメールを含めて判定し直した結果の返信に置き換わったため"},
                   from_status=_NOT_YET_SENT)


def hold_unsent_receipt(ledger: Ledger, submission: int, reason: str) -> None:
    """A receipt not sent yet, of a submission a later mail made deficient, waits for staff."""
    marks = ",".join("?" * len(_NOT_YET_SENT))
    for (reply,) in ledger.db.execute(
            f"SELECT id FROM replies WHERE submission_id = ? AND kind = 'receipt' "
            f"AND status IN ({marks}) AND status != 'held'",
            [submission, *_NOT_YET_SENT]).fetchall():
        transition(ledger, reply, "held", "held", {"reason": reason},
                   from_status=_NOT_YET_SENT, held_reason=reason)


def receipt_given(ledger: Ledger, submission: int) -> bool:
    """Whether the submission has a receipt (sent, or on its way): one per version, never two."""
    return ledger.db.execute(
        "SELECT 1 FROM replies WHERE submission_id = ? AND kind = 'receipt' "
        "AND status != 'cancelled'", [submission]).fetchone() is not None
