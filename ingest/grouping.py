"""Whether a mail with attachments joins a submission of its consortium or starts a new version.

Decided from the mails themselves (receive times, subjects, attachment contents), never from how
far the earlier mails have been judged or answered: the daemon, a replay, and a replay in any
order group alike. Who sent the mail does not decide it (a colleague, or another member
company, may send a part); the consortium name in the subject does. Without a readable name,
only mails from the same address are put together.

For a mail of a consortium that already has a submission with a mail within the split window
(the latest-begun such submission first):

1. The same files again (every attachment byte for byte one the submission already has): a
   resend, the same version.
2. A split marker ((2/3), その2, 2通目): joins the submission that lacks that part, an unmarked
   mail counting as part 1.
3. No marker, and every required document in this mail by itself: a new version (latest wins).
   An encrypted archive whose password has not come yet is taken for a full set.
4. No marker, not complete by itself (documents forgotten, a document replaced, one added): it
   joins the latest submission, which is judged again with it.

Rule 4 holds however long ago the latest version began: the documents a deficiency notice asks
for come days later (a certificate must be fetched first), and judged alone they would lack
everything else. With nothing of the consortium in the window, rules 1-3 do not apply: a marked
part or a full set begins a new submission.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from datetime import datetime, timedelta

from ingest.check_cmd import check_facts
from ingest.config import Settings
from ingest.reading import AttachmentRead, read_mail
from parsers.mime import Attachment, parse_message
from parsers.subject import SubjectInfo
from state.ledger import Ledger, iso


def submission_for_part(
    ledger: Ledger, settings: Settings, *, key: str | None, sender: str | None,
    received_at: datetime, subject: SubjectInfo, attachments: Sequence[Attachment],
    full_set: bool | None = None,
) -> int | None:
    """The submission this mail is a further part of, or None when it begins a new one.
    `full_set` is what `full_set_alone` said before the write lock was taken (read here if None)."""
    candidates = _candidates(ledger, key=key, sender=sender, received_at=received_at,
                             window=settings.split_window)
    if candidates:
        resent = _resent_to(ledger, settings, candidates, attachments)
        if resent is not None:  # rule 1
            return resent
        if subject.part is not None:  # rule 2: a marked part of a split
            for submission in candidates:
                have, total = _parts(ledger, submission)
                if subject.part not in have and (total is None or subject.parts_total is None
                                                  or total == subject.parts_total):
                    return submission
            return None
    else:  # nothing in the window: only rule 4 reaches back, to the latest version
        latest = _latest_before(ledger, key=key, sender=sender, received_at=received_at)
        if latest is None or subject.part is not None:
            return None
        candidates = [latest]
    if full_set is None:
        full_set = _complete(settings, _read(settings, attachments)) is not False
    if full_set:
        return None  # rule 3: a full set of its own
    return candidates[0]  # rule 4: documents added to the latest version


def full_set_alone(
    ledger: Ledger, settings: Settings, *, key: str | None, sender: str | None,
    received_at: datetime, subject: SubjectInfo, attachments: Sequence[Attachment],
    reads: Sequence[AttachmentRead] | None = None,
) -> bool | None:
    """Whether this mail alone holds every required document (an archive not yet opened counts
    as a full set), from `reads` (its attachments as read in the sandbox when it was filed) or
    read now; None when the grouping will not ask (no earlier mail of the consortium in the
    window, a split marker, the same files again)."""
    if subject.part is not None:
        return None
    candidates = _candidates(ledger, key=key, sender=sender, received_at=received_at,
                             window=settings.split_window)
    if not candidates and _latest_before(ledger, key=key, sender=sender,
                                         received_at=received_at) is None:
        return None
    if candidates and _resent_to(ledger, settings, candidates, attachments) is not None:
        return None
    return _complete(settings, _read(settings, attachments) if reads is None else reads) \
        is not False


def _resent_to(ledger: Ledger, settings: Settings, candidates: list[int],
               attachments: Sequence[Attachment]) -> int | None:
    """The submission that already has every one of these files, byte for byte."""
    mine = set(attachment_sha256(attachments))
    return next((s for s in candidates
                 if mine and mine <= _attachment_hashes(ledger, settings, s)), None)


def _candidates(ledger: Ledger, *, key: str | None, sender: str | None, received_at: datetime,
                window: timedelta) -> list[int]:
    if not key and not sender:
        return []
    return [r[0] for r in ledger.db.execute(
        """
        SELECT s.id FROM submissions s JOIN messages m ON m.submission_id = s.id
        WHERE s.kind = 'submission'
          AND (s.consortium_key = ? OR (? IS NULL AND s.lead_email = ?))
        GROUP BY s.id HAVING max(m.received_at) >= ? AND min(m.received_at) <= ?
        ORDER BY min(m.received_at) DESC, s.id DESC
        """,
        [key, key, sender, iso(received_at - window), iso(received_at + window)],
    )]


def _latest_before(ledger: Ledger, *, key: str | None, sender: str | None,
                   received_at: datetime) -> int | None:
    """The consortium's latest version begun before this mail, however long ago."""
    if not key and not sender:
        return None
    # One indexed column or the other (an OR of both would scan every submission).
    which, value = ("s.consortium_key", key) if key else ("s.lead_email", sender)
    row = ledger.db.execute(
        f"""
        SELECT s.id FROM submissions s JOIN messages m ON m.submission_id = s.id
        WHERE s.kind = 'submission' AND {which} = ?
        GROUP BY s.id HAVING min(m.received_at) < ?
        ORDER BY min(m.received_at) DESC, s.id DESC LIMIT 1
        """, [value, iso(received_at)]).fetchone()
    return row[0] if row else None


def _part_rows(ledger: Ledger, submission: int) -> list[tuple[int, dict]]:
    rows = ledger.db.execute(
        "SELECT id, facts FROM messages WHERE submission_id = ? ORDER BY received_at, id",
        [submission]).fetchall()
    facts = [(message, json.loads(text or "{}")) for message, text in rows]
    return [(message, f) for message, f in facts if f.get("role") == "part"]


def _parts(ledger: Ledger, submission: int) -> tuple[set[int], int | None]:
    """The part numbers a submission has (an unmarked mail is part 1) and its announced total."""
    have: set[int] = set()
    totals = set()
    for _message, facts in _part_rows(ledger, submission):
        have.add(facts.get("part") or 1)
        if facts.get("parts_total"):
            totals.add(facts["parts_total"])
    return have, max(totals) if totals else None


def _attachment_hashes(ledger: Ledger, settings: Settings, submission: int) -> set[str]:
    hashes: set[str] = set()
    for message, facts in _part_rows(ledger, submission):
        if "attachment_sha256" in facts:
            hashes.update(facts["attachment_sha256"])
        else:  # filed before the hashes were kept: read them from the stored mail
            hashes.update(_stored_attachment_hashes(ledger, settings, message))
    return hashes


def _stored_attachment_hashes(ledger: Ledger, settings: Settings, message: int) -> list[str]:
    try:
        record = parse_message(ledger.raw(message), max_parts=settings.limits.max_parts,
                               max_lines=settings.limits.max_mail_lines)
        return attachment_sha256(record.attachments)
    except Exception:  # noqa: BLE001 - a mail that cannot be read again matches nothing
        return []


def _read(settings: Settings, attachments: Sequence[Attachment]) -> list[AttachmentRead]:
    """One mail's attachments read in the sandbox without a password, nothing stored."""
    return read_mail([(a.name, a.data) for a in attachments], limits=settings.limits,
                     passwords=(), form_map=settings.form_map, blobs=None)


def _complete(settings: Settings, reads: Sequence[AttachmentRead]) -> bool | None:
    """Whether one mail's attachments hold every required document; None when an encrypted
    archive hides what they hold."""
    files = []
    for read in reads:
        if read.locked or any(p.code == "ARCHIVE_PASSWORD_WRONG" for p in read.problems):
            return None
        files += [(file.path, file.facts) for file in read.files]
    try:
        checked = check_facts(files, settings.program, settings.form_map)
    except Exception:  # noqa: BLE001 - judged on its own then, where the evaluation reports it
        return None
    return not any(f.code == "DOCUMENT_MISSING" for f in checked.findings)


def attachment_sha256(attachments: Sequence[Attachment]) -> list[str]:
    """Each attachment's content hash, kept in the mail's facts when it is filed."""
    return [hashlib.sha256(a.data).hexdigest() for a in attachments]
