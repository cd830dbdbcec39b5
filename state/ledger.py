"""The SQLite ledger: every mail, submission, finding, reply and event, in WAL mode."""

from __future__ import annotations

import getpass
import json
import os
import sqlite3
import tempfile
from collections import Counter
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlite_utils import Database

from state.blobs import BlobStore
from state.schema import migrations


def utcnow() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="seconds")


@dataclass(frozen=True)
class ImapRef:
    account: str
    folder: str
    uidvalidity: int
    uid: int


@dataclass(frozen=True)
class Arrival:
    """Where a raw mail came from and when the secretariat's server received it."""

    source_kind: str  # imap | maildir | mbox | eml
    source_ref: str
    received_at: datetime
    received_at_source: str
    message_id_header: str | None = None
    imap: ImapRef | None = None
    content_sha256: str | None = None  # parsers.mime.content_key: the same mail by any route


@dataclass(frozen=True)
class Recorded:
    message: int
    new: bool


class LedgerError(Exception):
    """The ledger cannot be opened or written; the message says what to do."""


class Ledger:
    def __init__(self, path: Path, blobs: BlobStore, actor: str | None = None,
                 busy_timeout: float = 30.0) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        _check_writable(path)  # before SQLite makes a -wal/-shm beside a file it cannot write
        try:
            # The daemon's scheduler runs cycles on a worker thread, one at a time (a lock in
            # ingest.daemon): the connection may move between threads, never be shared at once.
            # busy_timeout: how long a write waits for another program's lock on the file.
            conn = sqlite3.connect(path, timeout=busy_timeout, isolation_level=None,
                                   check_same_thread=False)
            self.db = Database(conn)
            self.db.execute("PRAGMA journal_mode=WAL")
            self.db.execute("PRAGMA foreign_keys=ON")
            self.db.execute("PRAGMA synchronous=FULL")
            migrations.apply(self.db)
        except sqlite3.DatabaseError as exc:
            raise LedgerError(f"台帳 {path} を開けません: {exc}. ファイルの場所と権限を確認してください。") from exc
        self.path = path
        self.blobs = blobs
        self.busy_timeout = busy_timeout
        self.actor = actor or _os_user()
        self._open_key: str | None = _key(path)
        _OPEN[self._open_key] += 1

    @contextmanager
    def transaction(self) -> Iterator[None]:
        if self.db.conn.in_transaction:
            with self.db.atomic():  # nested: a savepoint
                yield
            return
        # IMMEDIATE takes the write lock first, so a ledger another program is writing is
        # waited for (busy timeout). A deferred BEGIN that reads and then writes fails at once
        # with "database is locked": SQLite never waits to upgrade a read transaction.
        self.db.execute("BEGIN IMMEDIATE")
        try:
            yield
        except BaseException:
            if self.db.conn.in_transaction:
                self.db.execute("ROLLBACK")
            raise
        try:
            self.db.execute("COMMIT")
        except BaseException:
            if self.db.conn.in_transaction:
                self.db.execute("ROLLBACK")
            raise

    def close(self) -> None:
        if self._open_key is not None:
            _OPEN[self._open_key] -= 1
            self._open_key = None
        self.db.close()

    # --- events -------------------------------------------------------------------------------

    def event(
        self, entity: str, entity_id: int | None, event: str, detail: Any = None,
        actor: str | None = None,
    ) -> None:
        self.db.execute(
            "INSERT INTO events (at, entity, entity_id, event, detail, actor) "
            "VALUES (?, ?, ?, ?, ?, ?)",
            [utcnow(), entity, entity_id, event,
             json.dumps(detail, ensure_ascii=False) if detail is not None else None,
             actor or self.actor])

    def beat(self, name: str, detail: Any = None) -> None:
        self.db["heartbeat"].upsert(
            {"name": name, "at": utcnow(), "detail": json.dumps(detail, ensure_ascii=False)},
            pk="name",
        )

    # --- recording mails ----------------------------------------------------------------------

    def known_uids(self, account: str, folder: str, uidvalidity: int) -> set[int]:
        rows = self.db.execute(
            "SELECT uid FROM imap_seen WHERE account=? AND folder=? AND uidvalidity=?",
            [account, folder, uidvalidity],
        )
        return {row[0] for row in rows}

    def has_unlinked(self, account: str, folder: str, uidvalidity: int) -> bool:
        """Whether some mail of the ledger has no UID of this folder and UIDVALIDITY (the
        folder was recreated, or the mail came from a replayed folder): only then can a new
        UID be a mail the ledger already holds under another name."""
        total = self.db.execute("SELECT count(*) FROM messages").fetchone()[0]
        linked = self.db.execute(
            "SELECT count(DISTINCT message) FROM imap_seen "
            "WHERE account=? AND folder=? AND uidvalidity=?",
            [account, folder, uidvalidity]).fetchone()[0]
        return linked < total

    def find_same_mail(self, message_id: str | None, *, content_sha256: str | None = None,
                       size: int | None = None) -> int | None:
        """A known mail with this Message-ID that is also the same content (or, when only the
        headers were fetched, the same size): a Message-ID alone is not proof, some mailers
        reuse them."""
        if not message_id:
            return None
        row = self.db.execute(
            "SELECT id FROM messages WHERE message_id_header = ? "
            "AND (content_sha256 = ? OR size = ?) ORDER BY id LIMIT 1",
            [message_id, content_sha256, size],
        ).fetchone()
        return row[0] if row else None

    def link_imap(self, ref: ImapRef, message: int) -> None:
        self.db.execute(
            "INSERT OR IGNORE INTO imap_seen (account, folder, uidvalidity, uid, message) "
            "VALUES (?, ?, ?, ?, ?)",
            [ref.account, ref.folder, ref.uidvalidity, ref.uid, message],
        )

    def record_mail(self, raw: bytes, arrival: Arrival) -> Recorded:
        """Store raw bytes durably, then the message row in one transaction.

        A mail already known by sha256 or Message-ID adds nothing but its IMAP identity.
        """
        return self.record_mails([(raw, arrival)])[0]

    def record_mails(self, mails: Sequence[tuple[bytes, Arrival]]) -> list[Recorded]:
        """`record_mail` for a batch (one IMAP FETCH): every raw mail durable in the blob store
        first, then all their rows in one transaction. Nothing acts on a mail before its row is
        committed, so a crash in between only leaves blobs without rows: the next run fetches
        those mails again, and the blob store and the sha256 recognise them."""
        shas = self.blobs.put_all([raw for raw, _ in mails])  # durable before any row
        fetched = utcnow()
        recorded = []
        with self.transaction():
            for sha, (raw, arrival) in zip(shas, mails, strict=True):
                recorded.append(self._record_row(sha, raw, arrival, fetched))
        return recorded

    def _record_row(self, sha: str, raw: bytes, arrival: Arrival, fetched: str) -> Recorded:
        row = self.db.execute("SELECT id FROM messages WHERE sha256=?", [sha]).fetchone()
        existing = row[0] if row else self.find_same_mail(
            arrival.message_id_header, content_sha256=arrival.content_sha256)
        if existing is not None:
            if arrival.imap:
                self.link_imap(arrival.imap, existing)
            return Recorded(existing, new=False)
        message = self.db.execute(
            "INSERT INTO messages (sha256, message_id_header, content_sha256, size, received_at, "
            "received_at_source, fetched_at, source_kind, source_ref, state) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 'received')",
            [sha, arrival.message_id_header, arrival.content_sha256, len(raw),
             iso(arrival.received_at), arrival.received_at_source, fetched, arrival.source_kind,
             arrival.source_ref]).lastrowid
        if arrival.imap:
            self.link_imap(arrival.imap, message)
        self.event("message", message, "received", {
            "source": arrival.source_ref, "received_at_source": arrival.received_at_source,
        })
        return Recorded(message, new=True)

    def raw(self, message: int) -> bytes:
        row = self.db.execute("SELECT sha256 FROM messages WHERE id = ?", [message]).fetchone()
        if row is None:
            raise KeyError(message)
        return self.blobs.get(row[0])

    def set_message_state(self, message: int, state: str, **fields: Any) -> None:
        self.db["messages"].update(message, {"state": state, **fields})
        self.event("message", message, state, fields.get("problem"))


# Ledgers this process has open. A plain open()/close() of such a file would drop the POSIX
# locks SQLite holds on it for those connections (close() releases every lock of the process on
# that file): whoever wants to look at the file's bytes asks `is_open` first.
_OPEN: Counter[str] = Counter()


def _key(path: Path) -> str:
    return str(path.resolve())


def is_open(path: Path) -> bool:
    """Whether this process holds an open Ledger on `path`."""
    return _OPEN[_key(path)] > 0


def _check_writable(path: Path) -> None:
    """Refuse a ledger that cannot be written, in one sentence, before SQLite opens it.

    SQLite opens a read-only file without complaint, fails only at the first write, and leaves
    a -shm/-wal made with the file's read-only mode that breaks the next run.
    """
    where = path
    try:
        for where in (path, Path(f"{path}-wal"), Path(f"{path}-shm")):
            # access(), not open(): closing any descriptor of a database file drops every POSIX
            # lock this process holds on it, under another connection's feet. Linux's access()
            # also refuses root on an immutable file or a read-only mount.
            if where.exists() and not os.access(where, os.W_OK):
                raise PermissionError(13, "書き込みできません")
        # The -wal/-shm files are created in the directory: it must take new files too.
        where = path.parent
        fd, probe = tempfile.mkstemp(dir=where, prefix=".ledger-probe-")
        os.close(fd)
        os.unlink(probe)
    except OSError as exc:
        raise LedgerError(
            f"台帳 {path} に書き込めません({where}: {exc.strerror or exc})。ファイルと"
            "フォルダーの権限、読み取り専用の設定(chattr、読み取り専用マウント)を確かめてから"
            "再実行してください") from None


def _os_user() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "unknown"
