"""Helpers for the crash and fault tests: a mixed mailbox, the CLI as a killable subprocess,
an SMTP server whose DATA can be held, and the ledger invariants read back with sqlite3.

Nothing here imports the product: the crash tests must look at the ledger the way an operator
would (sqlite3 on the file), so a bug in the product's own queries cannot hide a lost mail.
"""

from __future__ import annotations

import asyncio
import io
import os
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from email.utils import make_msgid
from functools import cache
from pathlib import Path
from typing import Any

import pyzipper
from aiosmtpd.smtp import SMTP, Envelope, Session

from tests.conftest import REPO
from tests.mails import BODY_OK, CORE, complete_mail, documents, mail, make_forms
from tests.servers import SmtpServer

# --- the mailbox ---------------------------------------------------------------------------


@dataclass(frozen=True)
class BoxMail:
    raw: bytes
    message_id: str
    kind: str  # complete | deficient | bounce | split | encrypted | password


# The valid sample forms filled in for a consortium (lead: the 幹事社 of tests.mails), cached.
document_set = cache(documents)


def zip_of(files: dict[str, bytes]) -> bytes:
    return make_forms().zip_bytes(files)


def aes_zip(files: dict[str, bytes], password: str) -> bytes:
    out = io.BytesIO()
    with pyzipper.AESZipFile(out, "w", compression=pyzipper.ZIP_DEFLATED,
                             encryption=pyzipper.WZ_AES) as archive:
        archive.setpassword(password.encode())
        for name, data in files.items():
            archive.writestr(name, data)
    return out.getvalue()


def bounce_mail(message_id: str, n: int) -> bytes:
    """A DSN (multipart/report, null Return-Path): recorded, routed to staff, never answered."""
    return (
        "Return-Path: <>\r\n"
        "From: Mail Delivery System <MAILER-DAEMON@mx1.example.go.jp>\r\n"
        "To: it-renkei@example.go.jp\r\n"
        "Subject: Undelivered Mail Returned to Sender\r\n"
        f"Message-ID: {message_id}\r\n"
        "Date: Wed, 10 Aug 2022 10:00:00 +0900\r\n"
        "Auto-Submitted: auto-replied\r\n"
        "MIME-Version: 1.0\r\n"
        'Content-Type: multipart/report; report-type=delivery-status; boundary="b"\r\n'
        "\r\n--b\r\nContent-Type: text/plain; charset=us-ascii\r\n\r\n"
        f"<nobody{n}@gone.example.jp.invalid>: Host or domain name not found.\r\n"
        "\r\n--b\r\nContent-Type: message/delivery-status\r\n\r\n"
        "Reporting-MTA: dns; mx1.example.go.jp\r\n\r\n"
        f"Final-Recipient: rfc822; nobody{n}@gone.example.jp.invalid\r\n"
        "Action: failed\r\nStatus: 5.4.4\r\n\r\n--b--\r\n"
    ).encode()


def lead_address(kind: str, n: int) -> str:
    """A 幹事社 address of the sample forms' domain (so it passes as the lead), one per
    submission: the outbox holds replies beyond five a day to one address (a loop guard)."""
    return f"{kind}{n}@minato-seiki.example.jp"


def mixed_mailbox(tag: str, *, complete: int = 40, same_consortium: int = 4,
                  deficient: int = 70, bounces: int = 40, splits: int = 15,
                  encrypted: int = 8) -> list[BoxMail]:
    """About 200 mails (with the defaults exactly 200): distinct complete submissions, a few
    repeats of the sample consortium (later versions of one submission), deficient ones, DSN
    bounces, split pairs `(1/2)`/`(2/2)`, and AES zips each followed by its password mail.
    `tag` keeps the Message-IDs apart between tests that share the session's Dovecot."""
    mails: list[BoxMail] = []

    def mid(kind: str, n: int, extra: str = "") -> str:
        return f"<{kind}{n}{extra}.{tag}@crash.example.jp>"

    for n in range(complete):
        name = f"試験{n:03d}連携コンソーシアム"
        msgid = mid("complete", n)
        raw = mail(f"<{name}>{CORE}", BODY_OK, lead_address("complete", n), msgid,
                   attachments={"申請書類.zip": zip_of(document_set(name))})
        mails.append(BoxMail(raw, msgid, "complete"))
    for n in range(same_consortium):
        msgid = mid("sample", n)
        mails.append(BoxMail(complete_mail(msgid), msgid, "complete"))
    for n in range(deficient):
        msgid = mid("deficient", n)
        raw = mail(f"<不備{n:03d}コンソーシアム>{CORE}", "よろしくお願いします。\n",
                   f"sato{n}@fubi.example.jp", msgid, attachments={"a.pdf": b"%PDF-1.4\n"})
        mails.append(BoxMail(raw, msgid, "deficient"))
    for n in range(bounces):
        msgid = mid("bounce", n)
        mails.append(BoxMail(bounce_mail(msgid, n), msgid, "bounce"))
    for n in range(splits):
        name = f"分割{n:03d}連携コンソーシアム"
        files = document_set(name)
        first = {k: v for k, v in files.items() if k.startswith(("4_", "5_", "6_"))}
        second = {k: v for k, v in files.items() if k not in first}
        for index, chunk in ((1, first), (2, second)):
            msgid = mid("split", n, f"-{index}")
            raw = mail(f"<{name}>{CORE}({index}/2)", BODY_OK, lead_address("split", n), msgid,
                       attachments={f"申請書類{index}.zip": zip_of(chunk)})
            mails.append(BoxMail(raw, msgid, "split"))
    for n in range(encrypted):
        name = f"暗号{n:03d}連携コンソーシアム"
        password = f"Crash#{n:03d}-Renkei"
        sender = lead_address("encrypted", n)
        msgid = mid("encrypted", n)
        raw = mail(f"<{name}>{CORE}", BODY_OK + "パスワードは別途お送りします。\n", sender, msgid,
                   attachments={"応募書類一式.zip": aes_zip(document_set(name), password)})
        mails.append(BoxMail(raw, msgid, "encrypted"))
        msgid = mid("password", n)
        raw = mail(f"【パスワード】<{name}>{CORE}",
                   f"先ほどのzipファイルのパスワードです。\n\nパスワード：{password}\n\n{BODY_OK}",
                   sender, msgid)
        mails.append(BoxMail(raw, msgid, "password"))
    return mails


# --- configuration ---------------------------------------------------------------------------


def write_crash_config(tmp: Path, *, imap: Any = None, smtp: Any = None,
                       imap_port: int | None = None, smtp_port: int | None = None,
                       timeout: float | None = None, blobs: Path | None = None,
                       extra: str = "") -> Path:
    """A config for the crash runs: send at any hour, no approval, answer at once, and a period
    around today (the mails are delivered with INTERNALDATE = now)."""
    lines = [
        "[paths]", 'ledger = "ledger.db"', f'blobs = "{blobs or "blobs"}"', 'outbox = "outbox"',
        "[replies]", "business_hours_only = false", "approve_deficiencies = false",
        "[submissions]", "settle_minutes = 0",
        "[program]", 'period_start = "2020-01-01T00:00:00+09:00"',
        'period_end = "2039-12-31T23:59:59+09:00"',
    ]
    if imap is not None:
        lines += ["[imap]", f'host = "{imap.host}"', f"port = {imap_port or imap.port}",
                  'tls = "none"', f'user = "{imap.user}"', 'password_env = "CRASH_IMAP_PASSWORD"',
                  "batch_size = 20"]
        if timeout is not None:
            lines.append(f"timeout_seconds = {timeout}")
        os.environ["CRASH_IMAP_PASSWORD"] = imap.password
    if smtp is not None:
        lines += ["[smtp]", f'host = "{smtp.host}"', f"port = {smtp_port or smtp.port}",
                  'tls = "none"', 'user = ""']
        if timeout is not None:
            lines.append(f"timeout_seconds = {timeout}")
    path = tmp / "config.toml"
    path.write_text("\n".join(lines) + "\n" + extra, encoding="utf-8")
    return path


# --- the CLI as a subprocess -----------------------------------------------------------------


@dataclass
class Run:
    code: int | None  # None: killed by us
    stdout: str
    stderr: str


def start_cli(config: Path, *args: str) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "ingest.cli", "--config", str(config), *args],
        cwd=config.parent, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        env={**os.environ, "PYTHONPATH": str(REPO)},
    )


def finish(proc: subprocess.Popen[bytes], *, kill: bool) -> Run:
    """SIGKILL `proc` if asked (and still running), then collect its output."""
    killed = False
    if kill and proc.poll() is None:
        proc.send_signal(signal.SIGKILL)
        killed = True
    out, err = proc.communicate(timeout=60)
    return Run(None if killed else proc.returncode, out.decode(errors="replace"),
               err.decode(errors="replace"))


def run_cli(config: Path, *args: str, timeout: float = 600) -> Run:  # a hang guard only
    proc = start_cli(config, *args)
    try:
        out, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        out, err = proc.communicate()
        raise AssertionError(f"renkei-intake {' '.join(args)} did not end in {timeout} s:\n"
                             f"{err.decode(errors='replace')}") from None
    return Run(proc.returncode, out.decode(errors="replace"), err.decode(errors="replace"))


def kill_after(config: Path, args: tuple[str, ...], delay: float) -> Run:
    proc = start_cli(config, *args)
    with suppress(subprocess.TimeoutExpired):
        proc.wait(timeout=delay)
    return finish(proc, kill=True)


def kill_when(config: Path, args: tuple[str, ...], ready: Callable[[], bool],
              timeout: float = 600, settle: float = 0.0) -> Run:
    """Start the CLI and SIGKILL it as soon as `ready()` holds (then after `settle` s). Fails
    when the process ends first or the moment never comes: an aimed kill must land."""
    proc = start_cli(config, *args)
    deadline = time.monotonic() + timeout
    while not ready():
        if proc.poll() is not None:
            run = finish(proc, kill=False)
            raise AssertionError(f"ended ({run.code}) before the moment to kill: {run.stderr}")
        if time.monotonic() > deadline:
            finish(proc, kill=True)
            raise AssertionError("the moment to kill never came")
        time.sleep(0.005)
    if settle:
        time.sleep(settle)
    run = finish(proc, kill=True)
    assert run.code is None, "the process ended by itself just before the kill"
    return run


# --- holding the ledger ----------------------------------------------------------------------


@contextmanager
def ledger_write_lock(ledger: Path, mode: str = "IMMEDIATE") -> Iterator[sqlite3.Connection]:
    """Hold a write (IMMEDIATE) or EXCLUSIVE transaction on the ledger from another connection:
    every write of the product blocks at its next commit point until this ends."""
    db = sqlite3.connect(ledger, timeout=30, isolation_level=None)
    try:
        db.execute(f"BEGIN {mode}")
        yield db
    finally:
        db.execute("ROLLBACK")
        db.close()


# --- an SMTP server whose DATA can be held -----------------------------------------------------


class HoldingSmtp(SmtpServer):
    """aiosmtpd that can pause in DATA: after `hold()` the next DATA stores the whole mail, then
    holds its answer until `release()`; `entered` is set when it holds. `on_accept` runs (in the
    server's thread) after a mail is stored and before the answer goes out."""

    def __init__(self) -> None:
        super().__init__()
        self.entered = threading.Event()
        self._gate: threading.Event | None = None
        self.on_accept: Callable[[], None] | None = None
        self.accepted = threading.Event()

    def hold(self) -> None:
        self.entered.clear()
        self._gate = threading.Event()

    def release(self) -> None:
        if self._gate is not None:
            self._gate.set()
        self._gate = None

    def start(self) -> None:
        super().start()
        assert self._controller is not None
        owner = self

        class Handler:
            async def handle_DATA(self, server: SMTP, session: Session,  # noqa: N802
                                  envelope: Envelope) -> str:
                # Stored first: a kill while the answer is held leaves the mail with the
                # server and the client not knowing (aiosmtpd cancels this on a lost client).
                answer = owner._receive(envelope)
                if owner.on_accept is not None and answer.startswith("250"):
                    owner.on_accept()
                owner.accepted.set()
                gate = owner._gate
                if gate is not None:
                    owner.entered.set()
                    while not gate.is_set():  # hold the answer, keep the loop free
                        await asyncio.sleep(0.01)
                return answer

        self._controller.handler = Handler()  # each new connection builds its SMTP with it


# --- the ledger, read back --------------------------------------------------------------------


@dataclass
class LedgerView:
    messages: Counter[str] = field(default_factory=Counter)  # Message-ID → rows
    blobs_missing: list[str] = field(default_factory=list)
    states: Counter[str] = field(default_factory=Counter)
    submissions_open: int = 0
    replies: list[dict[str, Any]] = field(default_factory=list)
    receipts_per_submission: Counter[int] = field(default_factory=Counter)
    answered_submissions: set[int] = field(default_factory=set)
    submissions: list[dict[str, Any]] = field(default_factory=list)


def read_ledger(ledger: Path, blobs: Path) -> LedgerView:
    view = LedgerView()
    db = sqlite3.connect(f"file:{ledger}?mode=ro", uri=True)
    db.row_factory = sqlite3.Row
    try:
        for row in db.execute("SELECT message_id_header, sha256, state FROM messages"):
            view.messages[row["message_id_header"]] += 1
            view.states[row["state"]] += 1
            if not (blobs / row["sha256"][:2] / row["sha256"]).is_file():
                view.blobs_missing.append(row["sha256"])
        view.submissions = [dict(r) for r in db.execute("SELECT * FROM submissions")]
        view.submissions_open = sum(1 for s in view.submissions if s["state"] == "open")
        view.replies = [dict(r) for r in db.execute("SELECT * FROM replies ORDER BY id")]
        for reply in view.replies:
            view.answered_submissions.add(reply["submission_id"])
            if reply["kind"] == "receipt":
                view.receipts_per_submission[reply["submission_id"]] += 1
            sha = reply["raw_sha256"]
            if not (blobs / sha[:2] / sha).is_file():
                view.blobs_missing.append(sha)
    finally:
        db.close()
    return view


def message_count(ledger: Path) -> int:
    if not ledger.exists():
        return 0
    try:
        db = sqlite3.connect(f"file:{ledger}?mode=ro", uri=True, timeout=1)
        try:
            return int(db.execute("SELECT count(*) FROM messages").fetchone()[0])
        finally:
            db.close()
    except sqlite3.OperationalError:
        return 0  # not created yet, or the schema is being written


def blob_files(blobs: Path) -> set[str]:
    if not blobs.is_dir():
        return set()
    return {p.name for p in blobs.glob("*/*") if not p.name.startswith(".")}


def smtp_counts(server: SmtpServer) -> Counter[tuple[str, str]]:
    """How often each (recipient, Message-ID) reached the SMTP server."""
    counts: Counter[tuple[str, str]] = Counter()
    for received in list(server.messages):
        message_id = str(received.message["Message-ID"]).strip()
        for rcpt in received.rcpt_tos:
            counts[(rcpt.lower(), message_id)] += 1
    return counts


def unique_id(tag: str) -> str:
    return make_msgid(tag, "crash.example.jp")
