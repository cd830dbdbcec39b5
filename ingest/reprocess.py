"""`reprocess`: evaluate submissions again from their stored raw mails after a rule change."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime

from ingest.correlate import FIRST_RECEIVED
from ingest.pipeline import Pipeline
from replies.outbox import reply_kind
from state.blobs import BlobDamaged


@dataclass
class ReprocessReport:
    examined: int = 0
    changed: list[tuple[int, list[str], list[str]]] = field(default_factory=list)
    new_replies: int = 0
    set_aside: list[tuple[int, str]] = field(default_factory=list)  # (submission, why)

    def summary(self) -> str:
        text = (f"{self.examined} 件を再判定: 結果が変わったもの {len(self.changed)} 件, "
                f"新たに作成した返信 {self.new_replies} 通")
        for submission, why in self.set_aside:
            text += f"\n申請 {submission} は再判定できず、事務局の確認待ちにしました: {why}"
        return text


def select(pipeline: Pipeline, *, submission: int | None, since: datetime | None) -> list[int]:
    where, params = "kind = 'submission'", []
    if submission is not None:
        where += " AND id = ?"
        params.append(submission)
    if since is not None:
        # By when the secretariat received it (its first mail), not when the row was made: a
        # ledger rebuilt by replay today holds last month's submissions.
        where += " AND first_received_at >= ?"
        params.append(since.astimezone(UTC).isoformat(timespec="seconds"))
    # In the order they began, so an earlier version's outcome is current when a later one
    # is judged against it (DUPLICATE_SUBMISSION).
    first = FIRST_RECEIVED.format(s="submissions")
    return [r[0] for r in pipeline.ledger.db.execute(
        f"SELECT id FROM submissions WHERE {where} ORDER BY {first}, id", params)]


def reprocess(pipeline: Pipeline, submissions: list[int],
              now: datetime | None = None) -> ReprocessReport:
    """Re-run parse and rules on each submission; a new reply is queued only where the kind of
    answer changed (the outbox keeps one reply per submission, kind and the mails a notice
    answers, and a reprocess brings no new mail, so none repeats)."""
    now = now or datetime.now(UTC)
    ledger = pipeline.ledger
    report = ReprocessReport()
    for submission in submissions:
        report.examined += 1
        before = _codes(pipeline, submission)
        replies_before = ledger.db["replies"].count_where("submission_id = ?", [submission])
        state = ledger.db["submissions"].get(submission)["state"]
        try:
            result = pipeline.evaluate(submission, now)
        except BlobDamaged as exc:
            # A stored mail deleted or altered behind the ledger's back: judging what is left
            # (or what replaced it) would give a wrong verdict. This one waits for staff.
            pipeline._set_aside(submission, exc)  # noqa: SLF001
            report.set_aside.append((submission, str(exc)))
            continue
        with ledger.transaction():  # new findings and the reply they call for, never one alone
            pipeline.record_and_answer(submission, result, answer=state == "open")
            after = _codes(pipeline, submission)
            if state != "open" and (after != before or _reply_missing(pipeline, submission)):
                pipeline.answer(submission, pipeline.stored_findings(submission))
            if after != before:
                ledger.event("submission", submission, "reprocessed",
                             {"before": before, "after": after})
        if after != before:
            report.changed.append((submission, before, after))
        report.new_replies += (
            ledger.db["replies"].count_where("submission_id = ?", [submission]) - replies_before)
    return report


def _reply_missing(pipeline: Pipeline, submission: int) -> bool:
    """The stored findings call for a reply the outbox lacks (a ledger written by an earlier
    version, which committed findings and their reply apart, may hold such a submission)."""
    kind = reply_kind(pipeline.stored_findings(submission))
    return kind is not None and not pipeline.ledger.db["replies"].count_where(
        "submission_id = ? AND kind = ?", [submission, kind])


def _codes(pipeline: Pipeline, submission: int) -> list[str]:
    return sorted(r[0] for r in pipeline.ledger.db.execute(
        "SELECT code FROM findings WHERE submission_id = ?", [submission]))
