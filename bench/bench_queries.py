"""Time every staff query, view, search and console page on a synthetic ledger of 100,000 mails.

    .venv/bin/python bench/bench_queries.py [--mails 100000] [--keep PATH]

The ledger is built with the real migrations (views, indexes, search triggers) and filled with
plausible rows in bulk: about 1.4 mails per submission (split parts), three files per mail,
findings on a third of the submissions, one reply each, three events per mail. Each query runs
five times; the table shows the best and the median, and marks those over the 100 ms budget.
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

for _path in (Path(__file__).resolve().parents[1], Path(__file__).resolve().parent):
    if str(_path) not in sys.path:
        sys.path.insert(0, str(_path))

from state import queries  # noqa: E402
from state.blobs import BlobStore  # noqa: E402
from state.ledger import Ledger  # noqa: E402

BUDGET_MS = 100.0
VIEWS = ("submissions_overview", "missing_documents", "overdue_replies", "daily_counts")
DOCUMENTS = ("application", "overview", "member_info", "pledge", "checklist", "registry", "tax")
FAMILY = ("山田", "佐藤", "鈴木", "高橋", "田中", "伊藤", "渡辺", "中村", "小林", "加藤")
GIVEN = ("太郎", "花子", "一郎", "美咲", "健太", "由美", "翔", "陽菜")
FIRM = ("製作所", "商事", "システムズ", "ソリューションズ", "工業", "情報サービス", "物産")
PLACE = ("東京", "大阪", "名古屋", "札幌", "福岡", "仙台", "広島", "神戸", "京都", "横浜")
CORE = "令和4年度「共創型サービスIT連携支援補助金」 応募書類送付"
START = datetime(2022, 8, 3, 0, 0, tzinfo=UTC) - timedelta(hours=9)


def iso(moment: datetime) -> str:
    return moment.isoformat(timespec="seconds")


def build(path: Path, mails: int, seed: int = 7) -> Ledger:
    """A ledger at `path` with `mails` synthetic mails, built through the real schema."""
    rng = random.Random(seed)
    ledger = Ledger(path, BlobStore(path.parent / "blobs"), actor="bench")
    db = ledger.db
    # A throwaway file: durability is not measured here, and one big transaction in a
    # rollback journal is much faster than in WAL.
    db.execute("PRAGMA journal_mode=DELETE")
    db.execute("PRAGMA synchronous=OFF")
    db.execute("PRAGMA cache_size=-500000")
    with ledger.transaction(), _bulk_search_index(db):
        message_id = 0
        submission_id = 0
        while message_id < mails:
            submission_id += 1
            parts = min(rng.choice((1, 1, 1, 2, 2, 3)), mails - message_id)
            firm = f"{rng.choice(PLACE)}{rng.choice(FIRM)}{submission_id}"
            consortium = f"{rng.choice(PLACE)}連携コンソーシアム{submission_id}"
            lead = f"user{submission_id}@firm{submission_id}.example.jp"
            arrival = START + timedelta(minutes=rng.randrange(38 * 24 * 60))
            outcome = rng.choices(("complete", "deficient", "not_submission"), (6, 3, 1))[0]
            kind = "not_submission" if outcome == "not_submission" else "submission"
            state = rng.choice(("replied", "replied", "checked", "open", "needs_review"))
            stamp = iso(arrival + timedelta(minutes=5))
            db.execute(
                "INSERT INTO submissions (id, consortium, consortium_key, version, lead_email, "
                "kind, state, outcome, created_at, updated_at) "
                "VALUES (?, ?, ?, 1, ?, ?, ?, ?, ?, ?)",
                [submission_id, consortium, consortium, lead, kind, state, outcome, stamp, stamp])
            db.conn.executemany(
                "INSERT INTO messages (id, sha256, message_id_header, size, subject, from_addr, "
                "from_name, received_at, received_at_source, fetched_at, source_kind, source_ref, "
                "state, facts, submission_id, body_text) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, 'internaldate', ?, 'imap', 'INBOX', ?, ?, ?, ?)",
                list(_mails(rng, message_id, parts, submission_id, consortium, firm, lead,
                            arrival)))
            db.conn.executemany(
                "INSERT INTO attachments (message, submission_id, path, name, kind, size, "
                "document) VALUES (?, ?, ?, ?, 'xlsx', 20000, ?)",
                [(message_id + p + 1, submission_id, f"申請書類{p + 1}.zip/{doc}_{firm}.xlsx",
                  f"{doc}_{firm}.xlsx", doc)
                 for p in range(parts) for doc in rng.sample(DOCUMENTS, 3)])
            _findings(db, rng, submission_id, message_id + 1, outcome)
            _reply(db, rng, submission_id, lead, arrival)
            db.conn.executemany(
                "INSERT INTO events (at, entity, entity_id, event, detail, actor) "
                "VALUES (?, 'message', ?, ?, NULL, 'bench')",
                [(stamp, message_id + p + 1, e) for p in range(parts)
                 for e in ("received", "parsed", "checked")])
            message_id += parts
        # One in twenty consortia sent a later version that replaced this one.
        db.execute("UPDATE submissions SET superseded_by = id + 1 WHERE id % 20 = 7 "
                   "AND id < (SELECT max(id) FROM submissions)")
    db.execute("ANALYZE")
    db.execute("PRAGMA journal_mode=WAL")  # as the application runs it
    return ledger


@contextmanager
def _bulk_search_index(db: Any) -> Iterator[None]:
    """Fill the search index once at the end instead of row by row (trigger by trigger).

    The same statement the migration runs for existing mails; the triggers come back after,
    exactly as the migration wrote them. The tests exercise the triggers themselves.
    """
    names = ("message_search_insert", "message_search_file_insert")
    saved = [db.execute("SELECT sql FROM sqlite_master WHERE type = 'trigger' AND name = ?",
                        [name]).fetchone()[0] for name in names]
    for name in names:
        db.execute(f"DROP TRIGGER {name}")
    yield
    db.execute("INSERT INTO message_search (rowid, subject, body, files, sender) "
               "SELECT * FROM message_search_source")
    for sql in saved:
        db.execute(sql)


def _mails(rng: random.Random, first: int, parts: int, submission: int, consortium: str,
           firm: str, lead: str, arrival: datetime) -> Iterator[tuple[Any, ...]]:
    name = rng.choice(FAMILY) + rng.choice(GIVEN)
    phone = f"03-{rng.randrange(1000, 9999)}-{rng.randrange(1000, 9999)}"
    for p in range(parts):
        mid = first + p + 1
        marker = f"({p + 1}/{parts})" if parts > 1 else ""
        subject = f"<{consortium}>{CORE}{marker}"
        body = (f"令和4年度「共創型サービスIT連携支援事業」事務局 御中\n\nお世話になっております。"
                f"{consortium}の幹事社、{firm}の{name}です。応募書類を送付いたします。"
                "ご確認のほどよろしくお願いいたします。\n" * 3
                + f"会社名：株式会社{firm}\n役職：部長\n氏名：{name}\n"
                  f"メールアドレス：{lead}\n電話番号：{phone}\n")
        facts = {"sender": {"company": f"株式会社{firm}", "title": "部長", "name": name,
                            "email": lead, "phone": phone},
                 "attachments": [f"申請書類{p + 1}.zip"], "body_excerpt": body[:200]}
        state = "quarantined" if rng.random() < 0.002 else "checked"
        yield (mid, f"{submission:032x}{mid:032x}", f"<m{mid}@bench>", 50_000 + mid % 977,
               subject, lead, name, iso(arrival + timedelta(minutes=p)),
               iso(arrival + timedelta(minutes=p + 1)), state,
               json.dumps(facts, ensure_ascii=False), submission, body)


def _findings(db: Any, rng: random.Random, submission: int, message: int, outcome: str) -> None:
    if outcome != "deficient":
        return
    rows = [(submission, message, "DOCUMENT_MISSING", "deficiency", None, doc,
             f"{doc} が添付されていません") for doc in rng.sample(DOCUMENTS, rng.randrange(1, 3))]
    rows.append((submission, message, "SENDER_DETAILS_MISSING", "deficiency", None, None,
                 "電話番号"))
    db.conn.executemany(
        "INSERT INTO findings (submission_id, message, code, severity, member, document, detail) "
        "VALUES (?, ?, ?, ?, ?, ?, ?)", rows)


def _reply(db: Any, rng: random.Random, submission: int, lead: str, arrival: datetime) -> None:
    status = rng.choices(("sent", "written", "queued", "awaiting_approval", "failed"),
                         (80, 5, 8, 5, 2))[0]
    due = arrival + timedelta(days=2)
    db.execute(
        "INSERT INTO replies (submission_id, kind, status, to_addr, subject, message_id_header, "
        "raw_sha256, due_at, created_at, sent_at) VALUES (?, 'receipt', ?, ?, '【受付確認】', ?, "
        "'0', ?, ?, ?)",
        [submission, status, lead, f"<r{submission}@bench>", iso(due), iso(arrival),
         iso(arrival + timedelta(hours=20)) if status == "sent" else None])


def cases(ledger: Ledger) -> list[tuple[str, Callable[[], object]]]:
    now = datetime(2022, 9, 30, tzinfo=UTC)
    sample = ledger.db.execute("SELECT max(id) / 2 FROM submissions").fetchone()[0]

    def view(sql: str) -> Callable[[], object]:
        return lambda: ledger.db.execute(sql).fetchall()

    return [
        ("ledger submissions (newest 100)", lambda: queries.overview(ledger)),
        ("ledger submissions --status deficient",
         lambda: queries.overview(ledger, status="deficient")),
        ("ledger submissions --status open", lambda: queries.overview(ledger, status="open")),
        ("ledger submissions --missing pledge",
         lambda: queries.overview(ledger, missing="pledge")),
        ("ledger submissions --overdue", lambda: queries.overview(ledger, overdue=True, now=now)),
        ("ledger show ID", lambda: queries.submission_detail(ledger, sample)),
        ("ledger search 連携コンソーシアム123", lambda: queries.search(ledger, "連携コンソーシアム123")),
        ("ledger search 山田 (2 chars)", lambda: queries.search(ledger, "山田")),
        ("ledger search user4711@", lambda: queries.search(ledger, "user4711@")),
        ("ledger search 大阪 製作所 (mixed)", lambda: queries.search(ledger, "大阪 製作所")),
        # What Datasette runs for a view: its first page of 100 rows, and the row count.
        *((f"view {name} (first 100)", view(f"SELECT * FROM {name} LIMIT 100"))
          for name in VIEWS),
        *((f"view {name} count(*)", view(f"SELECT count(*) FROM {name}")) for name in VIEWS),
        ("view missing_documents WHERE document=tax",
         lambda: queries.missing_documents(ledger, "tax")),
        ("overdue_replies(now)", lambda: queries.overdue_replies(ledger, now, limit=100)),
        ("daily_counts()", lambda: queries.daily_counts(ledger)),
        ("quarantine list", lambda: queries.quarantined(ledger)),
        ("status_counts", lambda: queries.status_counts(ledger, now)),
    ]


def console_cases(ledger: Ledger, directory: Path) -> tuple[list[tuple[str, Callable[[], object]]],
                                                             Callable[[], None]]:
    """The staff console's pages, each a signed-in GET through the whole ASGI app (session
    guard, page handler, queries, template), in this process: no network, no browser.

    The synthetic rows point at no stored mail, so the pages that show mails get real ones:
    one generated submission mail (bench/corpus.py) for each mail of the submission opened,
    and one rendered reply for every reply (the approval list shows each waiting one)."""
    import asyncio
    from urllib.parse import quote

    import corpus
    from datasette.app import DatasetteClient

    from ingest.config import load_settings
    from ingest.console_auth import SESSION_COOKIE
    from ingest.serve import make_console
    from replies.compose import compose
    from state import staff_accounts

    db = ledger.db
    sample = db.execute("SELECT o.id FROM submissions_overview o JOIN messages m "
                        "ON m.submission_id = o.id WHERE o.id >= (SELECT max(id) / 2 FROM "
                        "submissions) GROUP BY o.id HAVING count(*) = 2 ORDER BY o.id "
                        "LIMIT 1").fetchone()[0]
    raw = corpus.mail(1, random.Random(1), START).raw
    with ledger.transaction():
        for n, (message,) in enumerate(db.execute(
                "SELECT id FROM messages WHERE submission_id = ?", [sample]).fetchall()):
            sha = ledger.blobs.put(raw.replace(b"Message-ID: <", f"Message-ID: <{n}.".encode(), 1))
            db.execute("UPDATE messages SET sha256 = ? WHERE id = ?", [sha, message])
        reply = compose(
            from_addr="jimukyoku@example.jp", from_name="事務局", to_addr="user1@firm1.example.jp",
            subject="【不備のお知らせ】応募書類について",
            body="ご提出いただいた応募書類に不備がありました。\n" * 20,
            message_id="<r@bench>", in_reply_to=None, references=(),
            date=START, charset="ISO-2022-JP")
        db.execute("UPDATE replies SET raw_sha256 = ?", [ledger.blobs.put(reply)])
    config = directory / "console.toml"
    config.write_text(f'[paths]\nledger = "{ledger.path}"\nblobs = "{ledger.blobs.root}"\n'
                      f'outbox = "{directory / "outbox"}"\n')
    staff_accounts.add(ledger, "bench", "bench-password-0001")
    datasette = make_console(load_settings(config))
    client = DatasetteClient(datasette)  # on the app `serve` runs: console routes and guard
    token = datasette.renkei_console.sessions.start(ledger, "bench")
    loop = asyncio.new_event_loop()

    def page(path: str) -> Callable[[], object]:
        def get() -> object:
            answer = loop.run_until_complete(
                client.get(path, cookies={SESSION_COOKIE: token}))
            if answer.status_code != 200 or "申請" not in answer.text:
                raise RuntimeError(f"{path}: HTTP {answer.status_code}: {answer.text[-300:]}")
            return answer.text
        return get

    waiting = db.execute("SELECT count(*) FROM replies WHERE status = 'awaiting_approval'").fetchone()[0]
    quarantined = db.execute("SELECT count(*) FROM messages WHERE state = 'quarantined'").fetchone()[0]
    return [
        ("console / (申請一覧, newest 200)", page("/")),
        ("console /?status=deficient", page("/?status=deficient")),
        ("console /?q=連携コンソーシアム123 (search)", page("/?q=" + quote("連携コンソーシアム123"))),
        (f"console /submissions/{sample} (2 mails of ~200 KB)", page(f"/submissions/{sample}")),
        (f"console /approvals ({waiting:,} waiting)", page("/approvals")),
        (f"console /quarantine ({quarantined:,} mails)", page("/quarantine")),
        ("console /daily (日次集計)", page("/daily")),
    ], loop.close


def measure(run: Callable[[], object], repeat: int = 5) -> tuple[float, float]:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        run()
        times.append((time.perf_counter() - start) * 1000)
    return min(times), statistics.median(times)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mails", type=int, default=100_000)
    parser.add_argument("--keep", type=Path, help="build the ledger here and keep it")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        path = args.keep or Path(tmp) / "ledger.db"
        started = time.perf_counter()
        ledger = build(path, args.mails)
        counts = {t: ledger.db.execute(f"SELECT count(*) FROM {t}").fetchone()[0]
                  for t in ("messages", "submissions", "attachments", "findings", "replies")}
        print(f"built in {time.perf_counter() - started:.1f} s: "
              + ", ".join(f"{k} {v:,}" for k, v in counts.items()))
        print(f"{'query':<48} {'best ms':>8} {'median':>8}  budget")
        slow = 0
        pages, close = console_cases(ledger, path.parent)
        for name, run in [*cases(ledger), *pages]:
            best, median = measure(run)
            over = median > BUDGET_MS
            slow += over
            print(f"{name:<48} {best:8.1f} {median:8.1f}  {'OVER' if over else 'ok'}")
        close()
        ledger.close()
    return 1 if slow else 0


if __name__ == "__main__":
    sys.exit(main())
