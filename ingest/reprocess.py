"""`reprocess`: evaluate submissions again from their stored raw mails after a rule change."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime

from ingest.correlate import FIRST_RECEIVED
from ingest.pipeline import Pipeline
from replies.outbox import reply_kind


@dataclass
class ReprocessReport:
    examined: int = 0
    changed: list[tuple[int, list[str], list[str]]] = field(default_factory=list)
    new_replies: int = 0

    def summary(self) -> str:
        return (f"{self.examined} 件を再判定: 結果が変わったもの {len(self.changed)} 件, "
                f"新たに作成した返信 {self.new_replies} 通")


def select(pipeline: Pipeline, *, submission: int | None, since: datetime | None) -> list[int]:
    where, params = "kind = 'submission'", []
    if submission is not None:
        where += " AND id = ?"
        params.append(submission)
    if since is not None:
        where += " AND created_at >= ?"
        params.append(since.astimezone(UTC).isoformat(timespec="seconds"))
    # In the order they began, so an earlier version's outcome is current when a later one
    # is judged against it (DUPLICATE_SUBMISSION).
    first = FIRST_RECEIVED.format(s="submissions")
    return [r[0] for r in pipeline.ledger.db.execute(
        f"SELECT id FROM submissions WHERE {where} ORDER BY {first}, id", params)]


def reprocess(pipeline: Pipeline, submissions: list[int],
              now: datetime | None = None) -> ReprocessReport:
    """Re-run parse and rules on each submission; a new reply is queued only where the kind of
    answer changed (the outbox keeps one reply per submission and kind, so none repeats)."""
    now = now or datetime.now(UTC)
    ledger = pipeline.ledger
    report = ReprocessReport()
    for submission in submissions:
        report.examined += 1
        before = _codes(pipeline, submission)
        replies_before = ledger.db["replies"].count_where("submission_id = ?", [submission])
        state = ledger.db["submissions"].get(submission)["state"]
        pipeline.evaluate_and_answer(submission, now, answer=state == "open")
        after = _codes(pipeline, submission)
        if state != "open" and (after != before or _reply_missing(pipeline, submission)):
            pipeline.answer(submission, pipeline.stored_findings(submission))
        if after != before:
            report.changed.append((submission, before, after))
            ledger.event("submission", submission, "reprocessed",
                         {"before": before, "after": after})
        report.new_replies += (
            ledger.db["replies"].count_where("submission_id = ?", [submission]) - replies_before)
    return report


def _reply_missing(pipeline: Pipeline, submission: int) -> bool:
    """The stored findings call for a reply the outbox lacks: an earlier run was killed after
    committing the new findings and before queueing their reply (so it sees no change now)."""
    kind = reply_kind(pipeline.stored_findings(submission))
    return kind is not None and not pipeline.ledger.db["replies"].count_where(
        "submission_id = ? AND kind = ?", [submission, kind])


def _codes(pipeline: Pipeline, submission: int) -> list[str]:
    return sorted(r[0] for r in pipeline.ledger.db.execute(
        "SELECT code FROM findings WHERE submission_id = ?", [submission]))
