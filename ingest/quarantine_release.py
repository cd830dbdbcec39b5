"""Releasing a quarantined mail and running it through the pipeline once: one function for the
CLI (`quarantine release`) and the web console (再処理), so both refuse and record alike."""

from __future__ import annotations

from dataclasses import dataclass
from email.parser import BytesHeaderParser
from email.policy import compat32
from typing import Any

from ingest import app
from ingest.config import Settings
from ingest.errors import OperatorError
from ingest.screen import reason
from parsers.headerdecode import decode_header
from state.blobs import BlobDamaged
from state.ledger import Ledger

# The IMAP source records only the headers of a mail over the size limit; its body is still on
# the server. Releasing such a row would check a mail without its attachments.
HEADERS_ONLY_MARK = "サイズ上限超過"


class ReleaseRefused(OperatorError):
    """The mail cannot be released as asked; the message says why and what to do (Japanese)."""


@dataclass(frozen=True)
class Released:
    message: int
    state: str  # the mail's state after its pass through the pipeline
    submission_id: int | None
    problem: str | None

    def summary(self) -> str:
        if self.state == "quarantined":
            return f"メール {self.message} は再び隔離されました: {reason(self.problem)}"
        where = f"(申請 {self.submission_id})" if self.submission_id else ""
        return f"メール {self.message} を再処理しました{where}"


def release_and_process(settings: Settings, message: int, *, actor: str,
                        force: bool = False) -> Released:
    """Put a quarantined mail back to `received` (an event naming `actor`) and run one pass."""
    with app.exclusive(settings.ledger_path):
        ledger = app.open_ledger(settings)
        try:
            row = ledger.db.execute(
                "SELECT state, problem, sha256 FROM messages WHERE id = ?", [message]).fetchone()
            if row is None:
                raise ReleaseRefused(f"メール ID {message} は台帳にありません"
                                     "(隔離の一覧で ID を確認してください)")
            state, problem, sha = row
            if state != "quarantined":
                raise ReleaseRefused(f"メール {message} は隔離されていません")
            if (problem or "").startswith(HEADERS_ONLY_MARK) and not force:
                raise ReleaseRefused(
                    f"メール {message} はヘッダーのみ記録されています(本文はメールサーバー上)。"
                    "サーバーから取り直してください。ヘッダーのみのまま再処理するのは CLI の "
                    "`quarantine release --force` だけです")
            try:  # a blob deleted or replaced behind the ledger's back must not be filed
                ledger.blobs.check(sha)
            except BlobDamaged as exc:
                raise ReleaseRefused(f"メール {message} は再処理できません: {exc}") from None
            release(ledger, message, actor=actor)
            app.make_pipeline(settings, ledger).advance()
            after = ledger.db["messages"].get(message)
        finally:
            ledger.close()
    return Released(message, after["state"], after["submission_id"], after["problem"])


def release(ledger: Ledger, message: int, *, actor: str | None = None) -> None:
    """Put a quarantined mail back to `received`, with an event saying who and why it was held."""
    with ledger.transaction():
        problem = ledger.db["messages"].get(message)["problem"]
        ledger.db["messages"].update(message, {"state": "received", "problem": None})
        ledger.event("message", message, "released", {"problem": problem}, actor=actor)


def headline(ledger: Ledger, row: dict[str, Any]) -> dict[str, str]:
    """From, Subject and Date of a mail: from its row, else read from its raw headers.

    A mail quarantined before parsing has no subject in its row; its headers are decoded here
    with the same Japanese-aware decoder the parser uses. Never raises: this is what staff
    look at when something already went wrong.
    """
    found = {"from": row.get("from_addr") or "", "subject": row.get("subject") or "",
             "date": row.get("date_header") or ""}
    if found["from"] and found["subject"]:
        return found
    try:
        raw = ledger.raw(row["id"])
        headers = BytesHeaderParser(policy=compat32).parsebytes(raw[:65536])
        for key, name in (("from", "From"), ("subject", "Subject"), ("date", "Date")):
            value = headers.get(name)
            if not found[key] and value is not None:
                found[key] = decode_header(value).text
    except Exception as exc:  # a broken mail is why it is here: show what can be shown
        found["subject"] = found["subject"] or f"(ヘッダーを読めません: {type(exc).__name__})"
    return found


def discard(settings: Settings, message: int, *, actor: str, why: str | None = None) -> None:
    """Set a quarantined mail aside for good (spam, a test mail, a mail handled by hand): it
    leaves the quarantine list and is never answered. Its row and raw bytes stay, so the same
    mail fetched or replayed again is known and not taken in a second time."""
    with app.exclusive(settings.ledger_path):
        ledger = app.open_ledger(settings)
        try:
            row = ledger.db.execute("SELECT state FROM messages WHERE id = ?", [message]).fetchone()
            if row is None:
                raise ReleaseRefused(f"メール ID {message} は台帳にありません"
                                     "(隔離の一覧で ID を確認してください)")
            if row[0] != "quarantined":
                raise ReleaseRefused(f"メール {message} は隔離されていません")
            with ledger.transaction():
                ledger.db["messages"].update(message, {"state": "discarded"})
                ledger.event("message", message, "discarded", {"reason": why}, actor=actor)
        finally:
            ledger.close()
