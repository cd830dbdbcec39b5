"""Evaluate one submission from all its mails: unpack, check, and say whether to wait.

A submission is judged as a whole (every split part, every password that arrived), from the
raw mails in the blob store, so a later part or password simply means evaluating again.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, field, fields
from datetime import datetime

from ingest.check_cmd import FileFacts, check_facts
from ingest.config import Settings
from ingest.correlate import earlier_complete
from ingest.reading import ReadCache, read_part
from parsers.mime import parse_message
from parsers.sender import SenderDetails
from parsers.subject import parse_subject
from rules.findings import Finding, finding
from rules.mail_checks import check_period, check_sender, check_sender_auth, check_subject
from state.ledger import Ledger, iso, utcnow
from state.search_index import search_rebuilt_once

SENDER_FIELDS = tuple(f.name for f in fields(SenderDetails))
ATTACHMENT_COLUMNS = ("message", "submission_id", "path", "name", "kind", "size", "sha256",
                      "document", "encrypted", "problem")


@dataclass
class Evaluation:
    findings: list[Finding] = field(default_factory=list)
    waiting_for: str | None = None  # "parts" | "password" | "settle": not yet time to answer
    files: list[tuple[str, FileFacts]] = field(default_factory=list)  # (path, what it says)
    locked: list[str] = field(default_factory=list)  # archives still without a working password
    wake_at: datetime | None = None  # while waiting: when evaluating again can change anything
    attachments: list[dict] = field(default_factory=list)  # its `attachments` rows, to write

    def wait(self, reason: str, until: datetime) -> None:
        self.waiting_for = self.waiting_for or reason
        self.wake_at = until if self.wake_at is None else min(self.wake_at, until)

    def add(self, items: Iterable[Finding]) -> None:
        for item in items:
            if item not in self.findings:  # the same fact found in two parts is one finding
                self.findings.append(item)


def evaluate(ledger: Ledger, settings: Settings, submission: int, now: datetime,
             reads: ReadCache | None = None) -> Evaluation:
    result = Evaluation()
    sub = ledger.db["submissions"].get(submission)
    rows = list(ledger.db.query(
        "SELECT id, received_at, facts FROM messages WHERE submission_id = ? "
        "ORDER BY received_at, id", [submission],
    ))
    parts = [r for r in rows if json.loads(r["facts"] or "{}").get("role") == "part"]
    passwords = [r[0] for r in ledger.db.execute(
        "SELECT password FROM archive_passwords WHERE submission_id = ? ORDER BY id", [submission]
    )]
    result.attachments = _unpack_parts(ledger, settings, submission, parts, passwords, result,
                                       reads)
    _check_mails(settings, parts, result)
    _check_split(settings, parts, now, result)
    _check_password(settings, parts, passwords, now, result)
    if parts and not result.locked:  # a locked archive hides the documents: judge them later
        _check_documents(settings, sub, parts, result)
    _check_duplicate(ledger, sub, result)
    if parts and now < _time(parts[-1]) + settings.settle_after:
        result.wait("settle", _time(parts[-1]) + settings.settle_after)
    return result


def record_evaluation(ledger: Ledger, submission: int, result: Evaluation, outcome: str) -> None:
    """What one evaluation found, written in one transaction: its files (with the document
    each was recognised as), its findings and the submission's outcome."""
    with ledger.transaction():
        with search_rebuilt_once(ledger.db):
            ledger.db.execute("DELETE FROM attachments WHERE submission_id = ?", [submission])
            ledger.db.conn.executemany(
                f"INSERT INTO attachments ({', '.join(ATTACHMENT_COLUMNS)}) "
                f"VALUES ({', '.join('?' * len(ATTACHMENT_COLUMNS))})",
                [[row[c] for c in ATTACHMENT_COLUMNS] for row in result.attachments])
        ledger.db.execute("DELETE FROM findings WHERE submission_id = ?", [submission])
        ledger.db.conn.executemany(
            "INSERT INTO findings (submission_id, code, severity, detail, member, document) "
            "VALUES (?, ?, ?, ?, ?, ?)",
            [[submission, f.code, f.severity, f.detail, f.member, f.document]
             for f in result.findings])
        ledger.db.execute(
            "UPDATE submissions SET outcome = ?, updated_at = ?, evaluate_after = ? WHERE id = ?",
            [outcome, utcnow(), iso(result.wake_at) if result.wake_at else None, submission])
        ledger.event("submission", submission, "evaluated", {
            "findings": [f.code for f in result.findings], "waiting_for": result.waiting_for,
        })


def _unpack_parts(ledger: Ledger, settings: Settings, submission: int, parts: list[dict],
                  passwords: list[str], result: Evaluation,
                  reads: ReadCache | None) -> list[dict]:
    """Read every attachment of the submission's mails (in the sandbox, one budget per mail),
    or take what filing read in this pass; return their `attachments` rows (contents already
    durable in the blob store)."""
    rows: list[dict] = []
    limits = settings.limits

    def row(message: int, path: str, name: str, kind: str, size: int, sha256: str | None, *,
            encrypted: bool = False, problem: str | None = None) -> None:
        rows.append({
            "message": message, "submission_id": submission, "path": path, "name": name,
            "kind": kind, "size": size, "sha256": sha256, "document": None,
            "encrypted": int(encrypted), "problem": problem,
        })

    for part in parts:
        mail = reads.take(part["id"], passwords) if reads is not None else None
        if mail is None:
            record = parse_message(ledger.raw(part["id"]), max_parts=limits.max_parts,
                                   max_lines=limits.max_mail_lines)
            mail = read_part(record.attachments, record.parts_cut, limits=limits,
                             passwords=passwords, form_map=settings.form_map,
                             blobs=ledger.blobs.root)
        if mail.parts_cut is not None:
            result.add([finding("ATTACHMENT_UNREADABLE", (
                f"添付ファイル等のパートが多すぎるため（上限 {mail.parts_cut} 個）、以降は読んでいません。"
                "必要な書類だけを添付して送付してください。"))])
        for read in mail.reads:
            for file in read.files:
                row(part["id"], file.path, file.name, file.kind, file.size, file.sha256)
                result.files.append((file.path, file.facts))
            for locked in read.locked:
                row(part["id"], locked.path, locked.path.rsplit("/", 1)[-1], "zip", locked.size,
                    locked.sha256, encrypted=True,
                    problem="暗号化: " + ", ".join(locked.member_names))
                result.locked.append(locked.path)
            for problem in read.problems:
                result.add([finding(problem.code, problem.detail, document=problem.path)])
                if problem.code == "ARCHIVE_PASSWORD_WRONG":
                    result.locked.append(problem.path)  # still closed: its documents are unseen
    return rows


def _check_mails(settings: Settings, parts: list[dict], result: Evaluation) -> None:
    merged: dict[str, str | None] = dict.fromkeys(SENDER_FIELDS)
    for row in parts:
        facts = json.loads(row["facts"])
        result.add(check_subject(parse_subject(facts["subject"], settings.program.subject_core)))
        result.add(check_period(_time(row), settings.program))
        result.add(check_sender_auth(facts.get("sender_auth_failed")))
        for key in SENDER_FIELDS:  # a field given in any part counts
            merged[key] = merged[key] or facts["sender"].get(key)
    if parts:
        result.add(check_sender(SenderDetails(**merged)))


def _check_documents(settings: Settings, sub: dict, parts: list[dict],
                     result: Evaluation) -> None:
    checked = check_facts(
        result.files, settings.program, settings.form_map,
        subject_consortium=json.loads(parts[0]["facts"]).get("consortium"),
        sender_email=sub["lead_email"],
    )
    result.add(checked.findings)
    documents = {path: recognised.key for path, recognised in checked.recognised
                 if recognised.key}
    for row in result.attachments:
        row["document"] = documents.get(row["path"], row["document"])


def _check_split(settings: Settings, parts: list[dict], now: datetime,
                 result: Evaluation) -> None:
    seen: set[int] = set()
    total = 0
    for row in parts:
        facts = json.loads(row["facts"])
        seen.add(facts.get("part") or 1)  # the unmarked first mail of 「その2」 and the like
        total = max(total, facts.get("parts_total") or 0)
    missing = sorted(set(range(1, total + 1)) - seen)
    if not missing:
        return
    if now < _time(parts[-1]) + settings.split_window:
        result.wait("parts", _time(parts[-1]) + settings.split_window)
        return
    listed = "、".join(f"{n}/{total}" for n in missing)
    result.add([finding("DOCUMENT_MISSING", f"分割送付のうち {listed} 通目のメールが届いていません")])


def _check_password(settings: Settings, parts: list[dict], passwords: list[str],
                    now: datetime, result: Evaluation) -> None:
    if not result.locked or passwords:
        return  # a password that did not open it is already ARCHIVE_PASSWORD_WRONG
    if now < _time(parts[0]) + settings.password_window:
        result.wait("password", _time(parts[0]) + settings.password_window)
        return
    names = "、".join(result.locked)
    result.add([finding("ARCHIVE_PASSWORD_MISSING",
                        f"暗号化されたファイル {names} のパスワードが届いていません")])


def _check_duplicate(ledger: Ledger, sub: dict, result: Evaluation) -> None:
    earlier = earlier_complete(ledger, sub["consortium_key"], sub["id"])
    if earlier:
        result.add([finding(
            "DUPLICATE_SUBMISSION",
            f"以前のご提出は受付番号 {'、'.join(map(str, earlier))} です。",
        )])


def _time(row: dict) -> datetime:
    return datetime.fromisoformat(row["received_at"])

