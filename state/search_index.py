"""The trigram full-text index over what staff type into a search box, kept current by
triggers (migration 0004), and its deferral while one writer stores many files (0008)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlite_utils import Database

# What one message contributes to the search index; the triggers and the first fill read it,
# so the definition lives once. body_text is filled by the pipeline; older rows only have the
# excerpt in facts. facts is guarded by json_valid: a trigger that raised would fail the
# pipeline's own write. Each column ends in a space so that every two-character word is the
# start of some trigram: state.queries.search finds 山田 through the vocabulary of trigrams.
SEARCH_INDEX_SQL = """
    CREATE VIEW message_search_source AS
    SELECT
        m.id,
        coalesce(m.subject, '') || ' ' AS subject,
        coalesce(m.body_text,
            CASE WHEN json_valid(m.facts) THEN json_extract(m.facts, '$.body_excerpt') END,
            '') || ' ' AS body,
        coalesce((SELECT group_concat(a.path, ' ') FROM attachments a
                WHERE a.message = m.id), '') || ' ' ||
            coalesce(CASE WHEN json_valid(m.facts) THEN (SELECT group_concat(j.value, ' ')
                FROM json_each(m.facts, '$.attachments') j) END, '') || ' ' AS files,
        coalesce(m.from_name, '') || ' ' || coalesce(m.from_addr, '') || ' ' ||
            CASE WHEN json_valid(m.facts) THEN
                coalesce(json_extract(m.facts, '$.sender.company'), '') || ' ' ||
                coalesce(json_extract(m.facts, '$.sender.name'), '') || ' ' ||
                coalesce(json_extract(m.facts, '$.sender.email'), '') || ' ' ||
                coalesce(json_extract(m.facts, '$.sender.phone'), '')
            ELSE '' END || ' ' AS sender
    FROM messages m;

    CREATE VIRTUAL TABLE message_search USING fts5(
        subject, body, files, sender, tokenize = 'trigram'
    );
    CREATE VIRTUAL TABLE message_search_terms USING fts5vocab(message_search, 'row');

    CREATE TRIGGER message_search_insert AFTER INSERT ON messages BEGIN
        INSERT INTO message_search (rowid, subject, body, files, sender)
            SELECT * FROM message_search_source WHERE id = NEW.id;
    END;

    CREATE TRIGGER message_search_update
    AFTER UPDATE OF subject, body_text, facts, from_name, from_addr ON messages BEGIN
        DELETE FROM message_search WHERE rowid = OLD.id;
        INSERT INTO message_search (rowid, subject, body, files, sender)
            SELECT * FROM message_search_source WHERE id = NEW.id;
    END;

    CREATE TRIGGER message_search_delete AFTER DELETE ON messages BEGIN
        DELETE FROM message_search WHERE rowid = OLD.id;
    END;

    CREATE TRIGGER message_search_file_insert AFTER INSERT ON attachments BEGIN
        DELETE FROM message_search WHERE rowid = NEW.message;
        INSERT INTO message_search (rowid, subject, body, files, sender)
            SELECT * FROM message_search_source WHERE id = NEW.message;
    END;

    CREATE TRIGGER message_search_file_update
    AFTER UPDATE OF path, name, message ON attachments BEGIN
        DELETE FROM message_search WHERE rowid IN (OLD.message, NEW.message);
        INSERT INTO message_search (rowid, subject, body, files, sender)
            SELECT * FROM message_search_source WHERE id IN (OLD.message, NEW.message);
    END;

    CREATE TRIGGER message_search_file_delete AFTER DELETE ON attachments BEGIN
        DELETE FROM message_search WHERE rowid = OLD.message;
        INSERT INTO message_search (rowid, subject, body, files, sender)
            SELECT * FROM message_search_source WHERE id = OLD.message;
    END;

    INSERT INTO message_search (rowid, subject, body, files, sender)
        SELECT * FROM message_search_source
"""


def _deferral_sql() -> str:
    deferred = "EXISTS (SELECT 1 FROM message_search_deferred)"

    def rebuild(ids: str) -> str:
        return (f"DELETE FROM message_search WHERE rowid IN ({ids}); "
                "INSERT INTO message_search (rowid, subject, body, files, sender) "
                f"SELECT * FROM message_search_source WHERE id IN ({ids});")

    script = f"""
        DROP TRIGGER message_search_file_insert;
        DROP TRIGGER message_search_file_update;
        DROP TRIGGER message_search_file_delete;
        CREATE TABLE message_search_deferred (one INTEGER PRIMARY KEY CHECK (one = 1));
        CREATE TABLE message_search_stale (message INTEGER PRIMARY KEY);
        CREATE TRIGGER message_search_stale_flush AFTER DELETE ON message_search_stale BEGIN
            {rebuild("OLD.message")}
        END;
    """
    for name, event, ids in (("insert", "INSERT", ["NEW.message"]),
                             ("update", "UPDATE OF path, name, message",
                              ["OLD.message", "NEW.message"]),
                             ("delete", "DELETE", ["OLD.message"])):
        values = ", ".join(f"({i})" for i in ids)
        script += f"""
        CREATE TRIGGER message_search_file_{name} AFTER {event} ON attachments
        WHEN NOT {deferred} BEGIN
            {rebuild(", ".join(ids))}
        END;
        CREATE TRIGGER message_search_file_{name}_deferred AFTER {event} ON attachments
        WHEN {deferred} BEGIN
            INSERT OR IGNORE INTO message_search_stale (message) VALUES {values};
        END;
        """
    return script


SEARCH_DEFERRAL_SQL = _deferral_sql()


@contextmanager
def search_rebuilt_once(db: Database) -> Iterator[None]:
    """Inside a transaction: the files written in the block update the search index once per
    message, at the end of the block, instead of once per file."""
    db.execute("INSERT OR IGNORE INTO message_search_deferred (one) VALUES (1)")
    yield
    db.execute("DELETE FROM message_search_deferred")
    db.execute("DELETE FROM message_search_stale")  # its trigger rebuilds each message once
