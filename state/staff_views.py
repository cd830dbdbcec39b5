"""The views, indexes and triggers behind what staff ask of the ledger (the CLI, the Excel
export and the console read the same views). Written by migration 0004."""

from __future__ import annotations

# Replies that still owe the applicant an answer: everything but a delivered mail or a mail the
# operator was handed as an .eml file. A status added later (held, …) counts as owing, which is
# the safe side for "overdue".
REPLY_DONE_STATUSES = ("sent", "written", "cancelled")
REPLY_DONE_SQL = "(" + ", ".join(f"'{status}'" for status in REPLY_DONE_STATUSES) + ")"
_DONE_SQL = REPLY_DONE_SQL


# A submission's day is the arrival of its first mail (not created_at: a replay creates every
# submission on the day of the replay). Kept on the row so the daily counts read one index.
FIRST_RECEIVED_SQL = """
    ALTER TABLE submissions ADD COLUMN first_received_at TEXT;
    UPDATE submissions SET first_received_at =
        (SELECT min(m.received_at) FROM messages m WHERE m.submission_id = submissions.id);
    CREATE INDEX messages_submission_received ON messages(submission_id, received_at);
    CREATE INDEX submissions_day
        ON submissions(date(first_received_at, '+9 hours'), kind, outcome);

    CREATE TRIGGER submissions_first_received_insert AFTER INSERT ON messages
    WHEN NEW.submission_id IS NOT NULL BEGIN
        UPDATE submissions SET first_received_at = (SELECT min(m.received_at) FROM messages m
            WHERE m.submission_id = NEW.submission_id) WHERE id = NEW.submission_id;
    END;

    CREATE TRIGGER submissions_first_received_update
    AFTER UPDATE OF submission_id, received_at ON messages BEGIN
        UPDATE submissions SET first_received_at = (SELECT min(m.received_at) FROM messages m
            WHERE m.submission_id = submissions.id)
        WHERE id IN (OLD.submission_id, NEW.submission_id);
    END;

    CREATE TRIGGER submissions_first_received_delete AFTER DELETE ON messages
    WHEN OLD.submission_id IS NOT NULL BEGIN
        UPDATE submissions SET first_received_at = (SELECT min(m.received_at) FROM messages m
            WHERE m.submission_id = OLD.submission_id) WHERE id = OLD.submission_id;
    END
"""

STAFF_VIEWS_SQL = f"""
    CREATE INDEX messages_day ON messages(date(received_at, '+9 hours'), state);
    CREATE INDEX submissions_state ON submissions(state);
    CREATE INDEX submissions_outcome ON submissions(outcome);
    CREATE INDEX findings_submission_code ON findings(submission_id, severity, code);
    CREATE INDEX findings_code_document ON findings(code, document, submission_id);
    CREATE INDEX replies_pending_due ON replies(due_at, submission_id)
        WHERE status NOT IN {_DONE_SQL};
    CREATE INDEX replies_sent_day ON replies(date(sent_at, '+9 hours'))
        WHERE sent_at IS NOT NULL;

    CREATE VIEW submissions_overview AS
    SELECT
        s.id, s.consortium, s.version, s.kind, s.state AS status, s.outcome, s.lead_email,
        s.superseded_by, s.first_received_at,
        datetime(s.first_received_at, '+9 hours') AS first_received_jst,
        (SELECT count(*) FROM messages m WHERE m.submission_id = s.id) AS mails,
        (SELECT count(*) FROM attachments a WHERE a.submission_id = s.id) AS files,
        (SELECT count(*) FROM findings f WHERE f.submission_id = s.id
            AND f.severity = 'deficiency') AS deficiencies,
        (SELECT group_concat(DISTINCT f.code) FROM findings f WHERE f.submission_id = s.id)
            AS finding_codes,
        (SELECT group_concat(r.kind || ':' || r.status, ' ') FROM replies r
            WHERE r.submission_id = s.id) AS replies,
        (SELECT min(r.due_at) FROM replies r WHERE r.submission_id = s.id
            AND r.status NOT IN {_DONE_SQL}) AS reply_due_at,
        s.created_at, s.updated_at
    FROM submissions s;

    CREATE VIEW missing_documents AS
    SELECT
        f.submission_id, s.consortium, s.version, s.lead_email, s.state AS status,
        f.document, f.member, f.detail, f.id AS finding_id
    FROM findings f JOIN submissions s ON s.id = f.submission_id
    WHERE f.code = 'DOCUMENT_MISSING' AND s.superseded_by IS NULL;

    CREATE VIEW overdue_replies AS
    SELECT
        r.id AS reply_id, r.submission_id, s.consortium, r.kind, r.status, r.to_addr,
        r.due_at, datetime(r.due_at, '+9 hours') AS due_jst, r.attempts, r.smtp_response
    FROM replies r JOIN submissions s ON s.id = r.submission_id
    WHERE r.status NOT IN {_DONE_SQL}
        AND r.due_at < strftime('%Y-%m-%dT%H:%M:%S+00:00', 'now');

    -- JST calendar days: mails by arrival, submissions by their first mail, replies by sending.
    CREATE VIEW daily_counts AS
    SELECT day, sum(mails) AS mails, sum(quarantined) AS quarantined,
        sum(submissions) AS submissions, sum(complete) AS complete,
        sum(deficient) AS deficient, sum(not_submission) AS not_submission,
        sum(replies_sent) AS replies_sent
    FROM (
        SELECT date(received_at, '+9 hours') AS day, count(*) AS mails,
            sum(state = 'quarantined') AS quarantined, 0 AS submissions, 0 AS complete,
            0 AS deficient, 0 AS not_submission, 0 AS replies_sent
        FROM messages GROUP BY date(received_at, '+9 hours')
        UNION ALL
        SELECT date(first_received_at, '+9 hours'), 0, 0, sum(kind = 'submission'),
            sum(outcome = 'complete'), sum(outcome = 'deficient'),
            sum(outcome = 'not_submission'), 0
        FROM submissions WHERE date(first_received_at, '+9 hours') IS NOT NULL
        GROUP BY date(first_received_at, '+9 hours')
        UNION ALL
        SELECT date(sent_at, '+9 hours'), 0, 0, 0, 0, 0, 0, count(*)
        FROM replies WHERE sent_at IS NOT NULL GROUP BY date(sent_at, '+9 hours')
    )
    GROUP BY day
"""
