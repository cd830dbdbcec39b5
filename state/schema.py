"""Numbered schema migrations of the ledger (sqlite-utils Migrations)."""

from __future__ import annotations

import sqlite3

from sqlite_utils import Database
from sqlite_utils.migrations import Migrations

from state.search_index import SEARCH_DEFERRAL_SQL, SEARCH_INDEX_SQL
from state.staff_views import FIRST_RECEIVED_SQL, STAFF_VIEWS_SQL

migrations = Migrations("renkei-intake")


@migrations(name="0001_initial")
def m0001_initial(db: Database) -> None:
    _run(
        db,
        """
        CREATE TABLE messages (
            id INTEGER PRIMARY KEY,
            sha256 TEXT NOT NULL UNIQUE,
            message_id_header TEXT,
            size INTEGER NOT NULL,
            subject TEXT,
            from_addr TEXT,
            from_name TEXT,
            date_header TEXT,
            received_at TEXT NOT NULL,          -- server arrival (UTC ISO); deadlines use this
            received_at_source TEXT NOT NULL,   -- internaldate | received | maildir | mtime | date | fetch
            fetched_at TEXT NOT NULL,
            source_kind TEXT NOT NULL,          -- imap | maildir | mbox | eml
            source_ref TEXT NOT NULL,
            state TEXT NOT NULL,                -- received | parsed | checked | quarantined | needs_review
            problem TEXT,                       -- why it was quarantined, or parse notes
            facts TEXT,                         -- JSON of what the parser read
            submission_id INTEGER REFERENCES submissions(id)
        );
        CREATE INDEX messages_message_id ON messages(message_id_header);
        CREATE INDEX messages_state ON messages(state);
        CREATE INDEX messages_submission ON messages(submission_id);

        CREATE TABLE imap_seen (
            account TEXT NOT NULL,
            folder TEXT NOT NULL,
            uidvalidity INTEGER NOT NULL,
            uid INTEGER NOT NULL,
            message INTEGER NOT NULL REFERENCES messages(id),
            PRIMARY KEY (account, folder, uidvalidity, uid)
        );

        CREATE TABLE submissions (
            id INTEGER PRIMARY KEY,
            consortium TEXT,                    -- as the applicant wrote it
            consortium_key TEXT,                -- normalised, for matching
            version INTEGER NOT NULL DEFAULT 1,
            lead_email TEXT,
            kind TEXT NOT NULL,                 -- submission | not_submission
            state TEXT NOT NULL,                -- open | checked | replied | needs_review
            outcome TEXT,                       -- complete | deficient | not_submission
            created_at TEXT NOT NULL,
            updated_at TEXT NOT NULL
        );
        CREATE INDEX submissions_key ON submissions(consortium_key);

        CREATE TABLE findings (
            id INTEGER PRIMARY KEY,
            submission_id INTEGER NOT NULL REFERENCES submissions(id),
            message INTEGER REFERENCES messages(id),
            code TEXT NOT NULL,
            severity TEXT NOT NULL,
            member TEXT,
            document TEXT,
            detail TEXT NOT NULL
        );
        CREATE INDEX findings_submission ON findings(submission_id);

        CREATE TABLE replies (
            id INTEGER PRIMARY KEY,
            submission_id INTEGER NOT NULL REFERENCES submissions(id),
            kind TEXT NOT NULL,                 -- receipt | deficiency | password_request | out_of_period
            status TEXT NOT NULL,               -- awaiting_approval | queued | sending | sent | failed | written
            to_addr TEXT NOT NULL,
            subject TEXT NOT NULL,
            message_id_header TEXT NOT NULL UNIQUE,
            raw_sha256 TEXT NOT NULL,           -- rendered mail in the blob store
            due_at TEXT NOT NULL,               -- latest moment to send (end of next business day)
            created_at TEXT NOT NULL,
            attempts INTEGER NOT NULL DEFAULT 0,
            next_attempt_at TEXT,
            sent_at TEXT,
            smtp_response TEXT,
            eml_path TEXT,
            UNIQUE (submission_id, kind)        -- one reply per submission version and kind, ever
        );
        CREATE INDEX replies_status ON replies(status);

        CREATE TABLE events (
            id INTEGER PRIMARY KEY,
            at TEXT NOT NULL,
            entity TEXT NOT NULL,               -- message | submission | reply | system
            entity_id INTEGER,
            event TEXT NOT NULL,
            detail TEXT,
            actor TEXT NOT NULL
        );
        CREATE INDEX events_entity ON events(entity, entity_id);

        CREATE TABLE heartbeat (
            name TEXT PRIMARY KEY,              -- e.g. poll:<account>/<folder>
            at TEXT NOT NULL,
            detail TEXT
        );
        """
    )


def _run(db: Database, script: str) -> None:
    # executescript() would COMMIT first and escape the migration's transaction, so statements
    # run one by one; sqlite3.complete_statement knows about comments and string literals.
    statement = ""
    for line in script.splitlines(keepends=True):
        statement += line
        if sqlite3.complete_statement(statement):
            db.execute(statement)
            statement = ""
    if statement.strip():
        db.execute(statement)


@migrations(name="0002_attachments_passwords")
def m0002_attachments_passwords(db: Database) -> None:
    _run(
        db,
        """
        ALTER TABLE messages ADD COLUMN body_text TEXT;
        ALTER TABLE submissions ADD COLUMN superseded_by INTEGER REFERENCES submissions(id);

        CREATE TABLE attachments (
            id INTEGER PRIMARY KEY,
            message INTEGER NOT NULL REFERENCES messages(id),
            submission_id INTEGER REFERENCES submissions(id),
            path TEXT NOT NULL,                 -- display path, e.g. 申請書類.zip/4_交付申請書.xlsx
            name TEXT NOT NULL,
            kind TEXT NOT NULL,                 -- sniffed type: xlsx, pdf, zip ...
            size INTEGER NOT NULL,
            sha256 TEXT,                        -- content in the blob store, NULL when not readable
            document TEXT,                      -- SPEC §2 document key when recognised
            encrypted INTEGER NOT NULL DEFAULT 0,
            problem TEXT
        );
        CREATE INDEX attachments_message ON attachments(message);
        CREATE INDEX attachments_submission ON attachments(submission_id);

        CREATE TABLE archive_passwords (
            id INTEGER PRIMARY KEY,
            message INTEGER NOT NULL REFERENCES messages(id),   -- the mail that carried it
            submission_id INTEGER REFERENCES submissions(id),   -- the submission it opened
            password TEXT NOT NULL,             -- kept for staff; never logged
            opened INTEGER NOT NULL DEFAULT 0,
            created_at TEXT NOT NULL
        )
        """,
    )


@migrations(name="0003_reply_tracking")
def m0003_reply_tracking(db: Database) -> None:
    # Replies gain what the outbox needs to be a dependable mail office: why a row is held,
    # when it went overdue (flagged once), which charset it was written in, whether its copy
    # reached the Sent folder, and the bounce that came back for it.
    _run(
        db,
        """
        ALTER TABLE replies ADD COLUMN held_reason TEXT;
        ALTER TABLE replies ADD COLUMN overdue_at TEXT;      -- set once when due_at passed unsent
        ALTER TABLE replies ADD COLUMN charset TEXT;         -- utf-8 | iso-2022-jp, as written
        ALTER TABLE replies ADD COLUMN sent_copy_at TEXT;    -- APPENDed to the Sent folder
        ALTER TABLE replies ADD COLUMN bounced_at TEXT;
        ALTER TABLE replies ADD COLUMN bounce_message INTEGER REFERENCES messages(id);
        ALTER TABLE replies ADD COLUMN updated_at TEXT;
        CREATE INDEX replies_to_addr ON replies(to_addr, created_at)
        """,
    )


@migrations(name="0004_staff_views")
def m0004_staff_views(db: Database) -> None:
    # Staff questions as views (the CLI, the Excel export and Datasette all read the same ones),
    # indexes that keep each one under 100 ms on 100,000 mails (bench/bench_queries.py), and a
    # trigram full-text index over what staff type into a search box. Derived data is kept
    # current by triggers, so every writer (pipeline, reprocess, a hand repair) updates it
    # without knowing of it.
    _run(db, FIRST_RECEIVED_SQL)
    _run(db, STAFF_VIEWS_SQL)
    _run(db, SEARCH_INDEX_SQL)


@migrations(name="0005_content_key")
def m0005_content_key(db: Database) -> None:
    # What the sender wrote (parsers.mime.content_key): the same mail from two sources is one
    # row, two different mails that reuse a Message-ID stay two.
    _run(db, "ALTER TABLE messages ADD COLUMN content_sha256 TEXT")


@migrations(name="0006_reply_data_started")
def m0006_reply_data_started(db: Database) -> None:
    # Set just before SMTP DATA: a row a crash left `sending` without it never reached the
    # server's hands and may be sent again; with it, only the Sent folder can tell.
    _run(db, "ALTER TABLE replies ADD COLUMN data_started_at TEXT")


@migrations(name="0007_submission_evaluate_after")
def m0007_submission_evaluate_after(db: Database) -> None:
    # An open submission that waits (for parts, a password, quiet) is evaluated again only when
    # its wait ends or a new mail joins it, not on every pass (IDLE latency under load).
    _run(db, "ALTER TABLE submissions ADD COLUMN evaluate_after TEXT")


@migrations(name="0008_search_rebuilt_once_per_message")
def m0008_search_rebuilt_once_per_message(db: Database) -> None:
    # A message's search row holds the paths of all its files: rebuilding it on every file
    # written made a mail of n attachments cost n rebuilds of n paths (10,000 parts: minutes).
    # A writer of many files (`search_rebuilt_once`) now only marks the messages it touches,
    # and each is rebuilt once at its end; a single write elsewhere (a hand repair) still
    # rebuilds at once, without knowing of this.
    _run(db, SEARCH_DEFERRAL_SQL)


@migrations(name="0011_staff_accounts")
def m0011_staff_accounts(db: Database) -> None:
    # Who may sign in to the web console. Only a slow hash of the password is kept (see
    # state.staff_accounts); a disabled account stays so the history can still name it.
    _run(
        db,
        """
        CREATE TABLE staff_accounts (
            id INTEGER PRIMARY KEY,
            name TEXT NOT NULL UNIQUE,
            password_hash TEXT NOT NULL,        -- scrypt$N$r$p$salt$hash (base64)
            created_at TEXT NOT NULL,
            disabled_at TEXT,
            last_login_at TEXT
        )
        """,
    )


@migrations(name="0012_console_sessions")
def m0012_console_sessions(db: Database) -> None:
    # Signed-in sessions of the web console, so a restart of `serve` signs nobody out. Only the
    # SHA-256 of each session token is kept: the ledger (or a backup of it) cannot sign anyone in.
    _run(
        db,
        """
        CREATE TABLE console_sessions (
            token_sha256 TEXT PRIMARY KEY,
            name TEXT NOT NULL,                 -- staff_accounts.name
            started_at REAL NOT NULL,           -- seconds since the epoch (UTC)
            seen_at REAL NOT NULL               -- last request, written at most once a minute
        );
        CREATE INDEX console_sessions_name ON console_sessions(name);
        """,
    )


@migrations(name="0013_console_sign_in_failures")
def m0013_console_sign_in_failures(db: Database) -> None:
    # Failed console sign-ins, so the slowing down of a guesser survives a restart of `serve` and
    # is shared by every `serve` on the ledger. One row per (account, client address); the
    # account '' is the address's own count over every account. Rows are pruned once stale.
    _run(
        db,
        """
        CREATE TABLE console_sign_in_failures (
            account TEXT NOT NULL,              -- the name typed ('' = any account)
            client TEXT NOT NULL,               -- the client address
            failures INTEGER NOT NULL,
            last_at REAL NOT NULL,              -- seconds since the epoch (UTC)
            PRIMARY KEY (account, client)
        );
        CREATE INDEX console_sign_in_failures_last_at ON console_sign_in_failures(last_at);
        """,
    )


@migrations(name="0014_reply_about")
def m0014_reply_about(db: Database) -> None:
    # A deficiency notice or password request answers the mails it was judged on: a further mail
    # that joins the submission and still leaves it deficient gets a notice of its own, while a
    # judgement of the same mails again (a reprocess, a restart) finds its notice already there.
    # A receipt and an out-of-period reply stay one per submission version (`about` = '').
    # SQLite cannot change a table's UNIQUE constraint: the table is rebuilt (its indexes made
    # again; the views that read it name it and need no change).
    indexes = [r[0] for r in db.execute(
        "SELECT sql FROM sqlite_master WHERE type = 'index' AND tbl_name = 'replies' "
        "AND sql IS NOT NULL")]
    old = db.execute("SELECT sql FROM sqlite_master WHERE name = 'replies'").fetchone()[0]
    marker = "UNIQUE (submission_id, kind)"
    assert marker in old, old
    new = old.replace("CREATE TABLE replies", "CREATE TABLE replies_new", 1).replace(
        "-- one reply per submission version and kind, ever", "", 1).replace(
        marker, "about TEXT NOT NULL DEFAULT '',  -- the mails a notice answers: their ids\n"
                "            UNIQUE (submission_id, kind, about)  -- a receipt: one per version", 1)
    columns = ", ".join(r[1] for r in db.execute("PRAGMA table_info(replies)"))
    db.execute(new)
    db.execute(f"INSERT INTO replies_new ({columns}) SELECT {columns} FROM replies")
    db.execute("DROP TABLE replies")
    # Legacy renaming: the views that read `replies` are not parsed again mid-rebuild.
    db.execute("PRAGMA legacy_alter_table = ON")
    try:
        db.execute("ALTER TABLE replies_new RENAME TO replies")
    finally:
        db.execute("PRAGMA legacy_alter_table = OFF")
    for sql in indexes:
        db.execute(sql)
    # A notice already made answered the mails filed into its submission before it was made.
    notices = db.execute(
        "SELECT id, submission_id, created_at FROM replies "
        "WHERE kind IN ('deficiency', 'password_request')").fetchall()
    for reply, submission, created in notices:
        mails = [r[0] for r in db.execute(
            "SELECT m.id FROM messages m WHERE m.submission_id = ? AND coalesce("
            "(SELECT min(e.at) FROM events e WHERE e.entity = 'message' AND e.entity_id = m.id "
            "AND e.event IN ('filed', 'joined')), m.received_at) <= ? ORDER BY m.id",
            [submission, created])]
        db.execute("UPDATE replies SET about = ? WHERE id = ?",
                   [",".join(map(str, mails)), reply])
