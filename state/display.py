"""What has happened to a submission, in one word for staff: its state and its replies' statuses.

`submissions.state = 'replied'` only says that the replies were made; a deficiency notice that
waits for approval has not reached the applicant. Every face that shows a submission (CLI,
exports, web console) names it with `submission_display`, and the label from
`state.labels.DISPLAY_STATE`.
"""

from __future__ import annotations

from collections.abc import Iterable

from state.labels import label

# Checked in this order: what staff must act on first wins over what is merely waiting.
_BY_REPLY_STATUS = (
    ("awaiting_approval", "awaiting_approval"),
    ("held", "held"),
    ("failed", "send_failed"),
    ("unknown", "send_unknown"),
    ("bounced", "bounced"),
    ("queued", "reply_pending"),
    ("sending", "reply_pending"),
    ("sent", "sent"),
    ("written", "written"),
    ("cancelled", "cancelled"),
)


def submission_display(state: str | None, reply_statuses: Iterable[str]) -> str:
    """The display-state code (a key of labels.DISPLAY_STATE) of one submission.

    `state` is `submissions.state`; `reply_statuses` the `replies.status` of its replies.
    """
    if state == "open":
        return "receiving"
    if state == "needs_review":
        return "needs_review"
    statuses = set(reply_statuses)
    if state == "checked" and not statuses:
        return "reply_pending"
    for status, shown in _BY_REPLY_STATUS:
        if status in statuses:
            return shown
    return "no_reply"


def statuses_of(replies: str | Iterable[dict[str, str]] | None) -> list[str]:
    """Reply statuses from the overview's `replies` text ("kind:status kind:status") or from a
    list of reply records (`queries.submissions`)."""
    if not replies:
        return []
    if isinstance(replies, str):
        return [item.rpartition(":")[2] for item in replies.split()]
    return [r["status"] for r in replies]


def reply_labels(replies: str | None) -> list[str]:
    """The overview's `replies` text ("kind:status kind:status") as 不備連絡:承認待ち, one
    per reply."""
    out = []
    for item in (replies or "").split():
        kind, _, status = item.partition(":")
        out.append(f"{label('reply_kind', kind)}:{label('reply_status', status)}")
    return out
