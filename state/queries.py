"""Read-only questions staff and the CLI ask of the ledger."""

from __future__ import annotations

import json
import re
import unicodedata
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from state.display import statuses_of, submission_display
from state.labels import DISPLAY_STATE, OUTCOME, code_for
from state.ledger import Ledger, iso
from state.staff_views import REPLY_DONE_SQL as _DONE_SQL


def submissions(ledger: Ledger) -> Iterator[dict[str, Any]]:
    """One record per submission with its findings, replies and mail count."""
    db = ledger.db
    findings: dict[int, list[str]] = {}
    for row in db.query("SELECT submission_id, code FROM findings ORDER BY id"):
        findings.setdefault(row["submission_id"], []).append(row["code"])
    replies: dict[int, list[dict[str, Any]]] = {}
    for row in db.query("SELECT submission_id, kind, status, due_at, sent_at FROM replies "
                        "ORDER BY id"):
        replies.setdefault(row["submission_id"], []).append(
            {"kind": row["kind"], "status": row["status"], "due_at": row["due_at"],
             "sent_at": row["sent_at"]})
    for row in db.query(
        "SELECT s.*, (SELECT count(*) FROM messages m WHERE m.submission_id = s.id) AS messages, "
        "(SELECT min(received_at) FROM messages m WHERE m.submission_id = s.id) AS received_at, "
        "(SELECT subject FROM messages m WHERE m.submission_id = s.id ORDER BY id LIMIT 1) "
        "AS subject FROM submissions s ORDER BY s.id"
    ):
        yield {
            "id": row["id"],
            "consortium": row["consortium"],
            "consortium_key": row["consortium_key"],
            "version": row["version"],
            "lead_email": row["lead_email"],
            "status": row["state"],
            "outcome": row["outcome"],
            "kind": row["kind"],
            "received_at": row["received_at"],
            "subject": row["subject"],
            "messages": row["messages"],
            "findings": findings.get(row["id"], []),
            "replies": replies.get(row["id"], []),
            "display_state": submission_display(
                row["state"], statuses_of(replies.get(row["id"], []))),
        }


def status_counts(ledger: Ledger, now: datetime | None = None) -> dict[str, Any]:
    now = now or datetime.now(UTC)
    db = ledger.db

    def counts(sql: str) -> dict[str, int]:
        return {r[0]: r[1] for r in db.execute(sql)}

    return {
        "messages": counts("SELECT state, count(*) FROM messages GROUP BY state"),
        "submissions": counts("SELECT state, count(*) FROM submissions GROUP BY state"),
        "replies": counts("SELECT status, count(*) FROM replies GROUP BY status"),
        # Owed: every reply not yet delivered (held, unknown and failed ones included: the
        # applicant still waits for them), the same rule as the overdue_replies view.
        "replies_due": db.execute(
            f"SELECT count(*) FROM replies WHERE status NOT IN {_DONE_SQL}"
        ).fetchone()[0],
        "replies_overdue": db.execute(
            f"SELECT count(*) FROM replies WHERE status NOT IN {_DONE_SQL} AND due_at < ?",
            [iso(now)],
        ).fetchone()[0],
        "heartbeats": {r["name"]: r["at"] for r in db.query("SELECT name, at FROM heartbeat")},
    }


def display_counts(ledger: Ledger) -> dict[str, int]:
    """How many submissions are in each display state (state.display), for `status` and the
    web console's summary."""
    counts: dict[str, int] = {}
    for _, shown in _displays(ledger):
        counts[shown] = counts.get(shown, 0) + 1
    return counts


def display_ids(ledger: Ledger, display_state: str) -> list[int]:
    """The submissions whose display state is `display_state`."""
    return [sid for sid, shown in _displays(ledger) if shown == display_state]


def _displays(ledger: Ledger) -> Iterator[tuple[int, str]]:
    for row in ledger.db.execute(
            "SELECT s.id, s.state, (SELECT group_concat(r.status, ' ') FROM replies r "
            "WHERE r.submission_id = s.id) FROM submissions s"):
        yield row[0], submission_display(row[1], (row[2] or "").split())


# --- staff queries (views of migration 0004_staff_views) -------------------------------------

# Values of `submissions.state` and of `submissions.outcome` are disjoint, so one --status flag
# answers both "which are still open" and "which are deficient".
SUBMISSION_STATES = ("open", "checked", "replied", "needs_review")
SUBMISSION_OUTCOMES = ("complete", "deficient", "not_submission")


def status_code(text: str) -> str | None:
    """The `overview` status a staff member meant: a state, outcome or display-state code, or
    its Japanese name (不備あり, 要確認, 承認待ち: the words the listings show). The one reading
    of `ledger submissions --status` and of the console's filter."""
    return (code_for("submission_state", text) or code_for("outcome", text)
            or code_for("display_state", text))


def status_choices() -> list[tuple[str, str]]:
    """The statuses staff pick from, as (code, Japanese): what has happened to a submission
    (the listings' 状態 column), then the outcomes of its check."""
    return [*DISPLAY_STATE.items(), *((o, OUTCOME[o]) for o in SUBMISSION_OUTCOMES)]


@dataclass(frozen=True)
class Page:
    """Some rows of a listing and how many there are in all (a listing is capped by a limit)."""

    rows: list[dict[str, Any]]
    total: int


def overview(
    ledger: Ledger, *, status: str | None = None, missing: str | None = None,
    overdue: bool = False, limit: int | None = 100, now: datetime | None = None,
) -> Page:
    """Submissions newest first, from the `submissions_overview` view, filtered as staff ask.

    `status` is a state (open, checked, replied, needs_review), an outcome (complete,
    deficient, not_submission) or a display state (awaiting_approval, sent, … of
    state.display); `missing` a document key named in a DOCUMENT_MISSING finding of
    a current (not superseded) version; `overdue` keeps those with a reply past its due time.
    """
    # Each filter is a set of submission ids read from its own index; the overview rows (with
    # their per-submission counts) are computed only for the page that is shown.
    sets: list[str] = []
    params: list[Any] = []
    if status in DISPLAY_STATE and status not in SUBMISSION_STATES:
        # What happened to it (承認待ち, 送信済 …), as the listings show it.
        sets.append("SELECT value FROM json_each(?)")
        params.append(json.dumps(display_ids(ledger, status)))
    elif status:
        sets.append("SELECT id FROM submissions WHERE state = ? OR outcome = ?")
        params += [status, status]
    if missing:
        sets.append("SELECT f.submission_id FROM findings f "
                    "JOIN submissions s ON s.id = f.submission_id "
                    "WHERE f.code = 'DOCUMENT_MISSING' AND f.document = ? "
                    "AND s.superseded_by IS NULL")
        params.append(missing)
    if overdue:
        sets.append(f"SELECT submission_id FROM replies WHERE status NOT IN {_DONE_SQL} "
                    "AND due_at < ?")
        params.append(iso(now or datetime.now(UTC)))
    if not sets:
        total = ledger.db.execute("SELECT count(*) FROM submissions").fetchone()[0]
        rows = ledger.db.query(
            "SELECT * FROM submissions_overview ORDER BY id DESC" + _limit(limit))
        return Page(with_display(rows), total)
    ids = " INTERSECT ".join(sets) if len(sets) > 1 else sets[0].replace(
        "SELECT ", "SELECT DISTINCT ", 1)
    total = ledger.db.execute(f"SELECT count(*) FROM ({ids})", params).fetchone()[0]
    rows = ledger.db.query(
        f"SELECT * FROM submissions_overview WHERE id IN (SELECT * FROM ({ids}) "
        f"ORDER BY 1 DESC{_limit(limit)}) ORDER BY id DESC", params)
    return Page(with_display(rows), total)


def with_display(rows: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    """Overview rows with `display_state`, what has happened to each (state.display)."""
    return [{**row, "display_state": submission_display(row["status"], statuses_of(row["replies"]))}
            for row in rows]


def _limit(limit: int | None) -> str:
    return f" LIMIT {int(limit)}" if limit else ""


def missing_documents(
    ledger: Ledger, document: str | None = None, *, limit: int | None = None,
) -> list[dict[str, Any]]:
    sql = "SELECT * FROM missing_documents"
    params: list[Any] = []
    if document:
        sql += " WHERE document = ?"
        params.append(document)
    return list(ledger.db.query(sql + " ORDER BY submission_id, finding_id" + _limit(limit),
                                params))


def overdue_replies(
    ledger: Ledger, now: datetime | None = None, *, limit: int | None = None,
) -> list[dict[str, Any]]:
    """Replies owed past their due time. The view uses the clock; this takes `now` to test."""
    return list(ledger.db.query(
        "SELECT r.id AS reply_id, r.submission_id, s.consortium, r.kind, r.status, r.to_addr, "
        "r.due_at, datetime(r.due_at, '+9 hours') AS due_jst, r.attempts, r.smtp_response "
        f"FROM replies r JOIN submissions s ON s.id = r.submission_id "
        f"WHERE r.status NOT IN {_DONE_SQL} AND r.due_at < ? ORDER BY r.due_at, r.id"
        + _limit(limit),
        [iso(now or datetime.now(UTC))],
    ))


def daily_counts(ledger: Ledger) -> list[dict[str, Any]]:
    return list(ledger.db.query("SELECT * FROM daily_counts ORDER BY day"))


def submission_detail(ledger: Ledger, submission_id: int) -> dict[str, Any] | None:
    """Everything about one submission: its row, mails, files, findings, replies and events."""
    db = ledger.db
    rows = with_display(db.query("SELECT * FROM submissions_overview WHERE id = ?",
                                  [submission_id]))
    if not rows:
        return None
    mails = list(db.query(
        "SELECT id, received_at, datetime(received_at, '+9 hours') AS received_jst, "
        "received_at_source, from_addr, from_name, subject, state, problem, message_id_header, "
        "source_ref, size FROM messages WHERE submission_id = ? ORDER BY received_at, id",
        [submission_id]))
    files = list(db.query(
        "SELECT id, message, path, name, kind, size, document, encrypted, problem "
        "FROM attachments WHERE submission_id = ? ORDER BY id", [submission_id]))
    findings = list(db.query(
        "SELECT id, message, code, severity, member, document, detail FROM findings "
        "WHERE submission_id = ? ORDER BY id", [submission_id]))
    replies = list(db.query(
        "SELECT id, kind, status, to_addr, subject, due_at, sent_at, attempts, smtp_response, "
        "message_id_header, eml_path FROM replies WHERE submission_id = ? ORDER BY id",
        [submission_id]))
    return {
        "submission": rows[0], "mails": mails, "files": files, "findings": findings,
        "replies": replies,
        "events": _events(ledger, submission_id, [m["id"] for m in mails],
                          [r["id"] for r in replies]),
    }


def _events(ledger: Ledger, submission_id: int, mails: list[int],
            replies: list[int]) -> list[dict[str, Any]]:
    wanted = [("submission", [submission_id]), ("message", mails), ("reply", replies)]
    parts, params = [], []
    for entity, ids in wanted:
        if ids:
            parts.append(f"(entity = ? AND entity_id IN ({', '.join('?' * len(ids))}))")
            params += [entity, *ids]
    return list(ledger.db.query(
        f"SELECT at, entity, entity_id, event, detail, actor FROM events "
        f"WHERE {' OR '.join(parts)} ORDER BY at, id", params))


class SearchError(ValueError):
    """The search text cannot be looked up; the message says how to ask instead."""


SEARCH_COLUMNS = ("subject", "body", "files", "sender")
SNIPPET_BEFORE = 20  # characters of context before the first match
SNIPPET_LENGTH = 70  # characters of a snippet in all


def search(ledger: Ledger, text: str, *, limit: int = 50) -> Page:
    """Mails whose subject, body, file names or sender fields contain every word of `text`.

    The one search of the CLI and the web console. Words are separated by spaces (full-width
    spaces too) and ANDed; each is found in either width (０３ and 03) and any letter case.
    Each row has `snippet` (a short excerpt of the best-matching field) and `spans`, the
    (start, end) offsets of the matched words in it, for `highlight`.

    The index is trigram: a word of three or more characters is looked up as a phrase. A
    two-character word (二文字の姓 such as 山田, a place such as 大阪) is no trigram, so it is
    expanded into the trigrams that start with it, read from the index's own vocabulary; every
    indexed column ends in a space, so a word at the very end of a text is found too. A
    one-character word is matched with LIKE over the rows the other words found (or over all
    mails when it is alone).
    """
    words = [w for w in text.split() if w]
    if not words:
        raise SearchError("検索する語が空です。1文字以上の語を入力してください(空白で区切ると、"
                          "すべての語を含むメールを探します)")
    where: list[str] = []
    params: list[Any] = []
    long_words = [w for w in words if len(w) >= 2]
    if long_words:
        terms = [_width_term(ledger, w) for w in long_words]
        if None in terms:  # a two-character word that no indexed text contains
            return Page([], 0)
        where.append("message_search MATCH ?")
        params.append(" AND ".join(t for t in terms if t))
    everything = " || ' ' || ".join(SEARCH_COLUMNS)
    for word in words:
        if len(word) < 2:
            variants = _widths(word)
            where.append("(" + " OR ".join(
                f"({everything}) LIKE ? ESCAPE '\\'" for _ in variants) + ")")
            params += ["%" + v.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
                       + "%" for v in variants]
    condition = " AND ".join(where)
    total = ledger.db.execute(
        f"SELECT count(*) FROM message_search WHERE {condition}", params).fetchone()[0]
    # The newest hits by rowid (= message id, arrival order) first, then only those few joined.
    found = list(ledger.db.query(
        "SELECT f.rowid AS message, m.submission_id, s.consortium, m.received_at, "
        "datetime(m.received_at, '+9 hours') AS received_jst, m.state, m.from_addr, "
        "trim(f.subject) AS subject, trim(f.files) AS files, "
        "f.subject AS s_subject, f.body AS s_body, f.files AS s_files, f.sender AS s_sender "
        f"FROM (SELECT rowid, {', '.join(SEARCH_COLUMNS)} FROM message_search "
        f"      WHERE {condition} ORDER BY rowid DESC LIMIT {int(limit)}) f "
        "JOIN messages m ON m.id = f.rowid LEFT JOIN submissions s ON s.id = m.submission_id "
        "ORDER BY f.rowid DESC", params))
    pattern = _word_pattern(words)
    rows = []
    for row in found:
        fields = {c: row.pop(f"s_{c}") or "" for c in SEARCH_COLUMNS}
        row["matched_in"], row["snippet"], row["spans"] = _snippet(fields, pattern)
        rows.append(row)
    return Page(rows, total)


def highlight(text: str, spans: list[tuple[int, int]] | list[list[int]], before: str,
              after: str, escape: Any = None) -> str:
    """`text` with each span wrapped in `before`/`after` (【】 on a terminal, <mark> on the web);
    `escape` (html.escape, a control-character filter) is applied to the text, not the marks."""
    esc = escape or (lambda t: t)
    out, at = [], 0
    for start, end in spans:
        out += [esc(text[at:start]), before, esc(text[start:end]), after]
        at = end
    out.append(esc(text[at:]))
    return "".join(out)


def _widths(word: str) -> list[str]:
    plain = unicodedata.normalize("NFKC", word)
    wide = "".join(chr(ord(c) + 0xFEE0) if "!" <= c <= "~" else c for c in plain)
    return list(dict.fromkeys((word, plain, wide)))


def _word_pattern(words: list[str]) -> re.Pattern[str]:
    variants = sorted({v for w in words for v in _widths(w)}, key=len, reverse=True)
    return re.compile("|".join(re.escape(v) for v in variants), re.IGNORECASE)


def _snippet(fields: dict[str, str], pattern: re.Pattern[str]
             ) -> tuple[str, str, list[tuple[int, int]]]:
    """The field with the most distinct matched words (the subject first on a tie), cut around
    its first match, and the spans of every match inside the cut."""
    best, best_count = SEARCH_COLUMNS[0], -1
    for column in SEARCH_COLUMNS:
        count = len({m.group(0).casefold() for m in pattern.finditer(fields[column])})
        if count > best_count:
            best, best_count = column, count
    text = re.sub(r"[\r\n\t]", " ", fields[best]).rstrip()
    first = pattern.search(text)
    start = max(0, first.start() - SNIPPET_BEFORE) if first else 0
    cut = text[start:start + SNIPPET_LENGTH]
    prefix = "…" if start > 0 else ""
    suffix = "…" if start + SNIPPET_LENGTH < len(text) else ""
    spans = [(m.start() + len(prefix), m.end() + len(prefix)) for m in pattern.finditer(cut)]
    return best, prefix + cut + suffix, spans


def _width_term(ledger: Ledger, word: str) -> str | None:
    """A word in any of its widths: applicants write ０３ as often as 03, ＡＢＣ as ABC."""
    found = [t for v in _widths(word) if (t := _fts_term(ledger, v))]
    if not found:
        return None
    return found[0] if len(found) == 1 else "(" + " OR ".join(found) + ")"


def _fts_term(ledger: Ledger, word: str) -> str | None:
    if len(word) >= 3:
        return _fts_phrase(word)
    # The tokenizer folds case, so the vocabulary holds lower-case trigrams.
    prefix = word.lower()
    terms = [r[0] for r in ledger.db.execute(
        "SELECT term FROM message_search_terms WHERE term >= ? AND term < ?",
        [prefix, prefix + "\U0010ffff"])]
    if not terms:
        return None
    return "(" + " OR ".join(_fts_phrase(t) for t in terms) + ")"


def _fts_phrase(word: str) -> str:
    # Quoted, every character is literal for FTS5: no operator, column filter or syntax error.
    return '"' + word.replace('"', '""') + '"'


def quarantined(ledger: Ledger) -> list[dict[str, Any]]:
    return list(ledger.db.query(
        "SELECT id, received_at, datetime(received_at, '+9 hours') AS received_jst, from_addr, "
        "subject, size, source_ref, problem FROM messages WHERE state = 'quarantined' "
        "ORDER BY received_at, id"))
