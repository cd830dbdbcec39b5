"""Numbered schema migrations of the ledger (sqlite-utils Migrations)."""

from __future__ import annotations

import sqlite3

from sqlite_utils import Database
from sqlite_utils.migrations import Migrations

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


@migrations(name="0004_reply_tracking")
def m0004_reply_tracking(db: Database) -> None:
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
