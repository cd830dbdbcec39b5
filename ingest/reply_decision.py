"""承認/保留/取消 of replies: one function for the CLI (`outbox approve|hold|cancel`) and the web
console, so both refuse and record alike.

A decision that names a reply not in the ledger, or one in a state where it makes no sense
(approving a reply already sent, cancelling one already cancelled), is refused as a whole: one
Japanese sentence naming each such reply, and no reply is changed, so the operator can correct
the IDs and run it again. The check and the changes run under one write lock, so a colleague's
decision in between cannot turn half of a command into a refusal.
"""

from __future__ import annotations

from ingest.errors import OperatorError
from replies import staff
from state.labels import label
from state.ledger import Ledger


class DecisionRefused(OperatorError):
    """The decision was not made for any reply; the message says which and why (Japanese)."""


def decide(ledger: Ledger, action: str, reply_ids: list[int], actor: str,
           reason: str | None = None) -> list[staff.ActionResult]:
    """Apply `approve` / `hold` / `cancel` to every reply of `reply_ids`, or to none."""
    ids = list(dict.fromkeys(reply_ids))
    allowed = staff.ACTIONS[action][0]
    with ledger.transaction():
        status = {i: staff.status(ledger, i) for i in ids}
        unknown = [str(i) for i in ids if status[i] is None]
        if unknown:
            raise DecisionRefused(f"返信 {'、'.join(unknown)} はありません(outbox list で ID を確認"
                                  "してください。どの返信も変更していません)")
        wrong = [i for i in ids if status[i] not in allowed]
        if wrong:
            states = "、".join(f"{i} は{label('reply_status', status[i])}" for i in wrong)
            raise DecisionRefused(
                f"返信 {states}のため{staff.ACTION_NAMES[action]}できません"
                f"({'・'.join(label('reply_status', a) for a in allowed)}のときだけできます。"
                "どの返信も変更していません)")
        return staff.act(ledger, action, ids, actor, reason)
