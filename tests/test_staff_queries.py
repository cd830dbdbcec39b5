"""Staff queries on a real ledger: the views, the `ledger` verbs, full-text search in Japanese.

A ledger is built the way an operator builds one (`replay` of a folder of .eml files through
the real pipeline); the view semantics that depend on exact dates (overdue, daily counts) are
also checked on rows written straight into a real SQLite ledger.
"""

from __future__ import annotations

import io
import json
import sqlite3
from contextlib import redirect_stderr, redirect_stdout
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from pathlib import Path

import pytest

from ingest import cli, ledger_cmd
from state import queries
from state.blobs import BlobStore
from state.ledger import Arrival, Ledger

CORE = "令和4年度「共創型サービスIT連携支援補助金」 応募書類送付"
JST_OFFSET = timedelta(hours=9)

# --- helpers shared by the tests/test_staff_*.py files --------------------------------------


staff_main = cli.main  # the staff verbs are part of the CLI; the name stays for the tests


def run_cli_bytes(argv: list[str]) -> tuple[int, bytes, str]:
    """staff_main with stdout captured as bytes (a verb may write raw mail) and stderr as text."""
    out = io.TextIOWrapper(io.BytesIO(), encoding="utf-8")
    err = io.StringIO()
    with redirect_stdout(out), redirect_stderr(err):
        code = staff_main(argv)
    out.flush()
    return code, out.buffer.getvalue(), err.getvalue()


def run_cli(argv: list[str]) -> tuple[int, str, str]:
    code, out, err = run_cli_bytes(argv)
    return code, out.decode("utf-8"), err


def write_config(tmp: Path) -> Path:
    path = tmp / "config.toml"
    path.write_text("\n".join([
        "[paths]", 'ledger = "ledger.db"', 'blobs = "blobs"', 'outbox = "outbox"',
        "[replies]", "business_hours_only = false", "approve_deficiencies = false",
    ]) + "\n", encoding="utf-8")
    return path


def body(company: str, name: str, email: str, phone: str = "03-1234-5678") -> str:
    return ("令和4年度「共創型サービスIT連携支援事業」事務局 御中\n\n"
            "応募書類を送付いたします。よろしくお願いいたします。\n\n"
            f"会社名：{company}\n役職：代表取締役\n氏名：{name}\n"
            f"メールアドレス：{email}\n電話番号：{phone}\n")


def mail(subject: str, text: str, sender: str, msgid: str, when: datetime,
         files: tuple[str, ...] = ()) -> bytes:
    msg = EmailMessage()
    msg["From"] = sender
    msg["To"] = "it-renkei@example.go.jp"
    msg["Subject"] = subject
    msg["Message-ID"] = msgid
    msg["Date"] = when.strftime("%a, %d %b %Y %H:%M:%S +0900")
    # The period is judged on the server's arrival: a Received header carries it for files.
    msg["Received"] = (f"from mx.example.jp by mail.example.go.jp; "
                       f"{when.strftime('%a, %d %b %Y %H:%M:%S +0900')}")
    msg.set_content(text)
    for name in files:
        msg.add_attachment(b"%PDF-1.4\n% test\n", maintype="application", subtype="pdf",
                           filename=name)
    return msg.as_bytes()


def jst(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2022, 8, day, hour, minute)


MAILS = {
    "01-yamada.eml": mail(
        f"<さくら連携コンソーシアム>{CORE}",
        body("株式会社テスト製作所", "山田太郎", "yamada@test-seisaku.example.jp"),
        "山田太郎 <yamada@test-seisaku.example.jp>", "<yamada-1@test-seisaku.example.jp>",
        jst(10, 10), ("7_誓約書.pdf",)),
    "02-sato.eml": mail(
        f"<みなと連携コンソーシアム>{CORE}", "よろしくお願いします。\n",
        "佐藤花子 <sato@minato.example.jp>", "<sato-1@minato.example.jp>", jst(10, 15),
        ("納税証明書_みなと.pdf",)),
    "03-question.eml": mail(
        "申請方法についての質問", "交付申請の締切はいつでしょうか。\n鈴木",
        "鈴木一郎 <suzuki@question.example.jp>", "<q-1@question.example.jp>", jst(11, 9)),
    "04-tanaka.eml": mail(
        f"<ひかりIT連携コンソーシアム>{CORE}",
        body("ひかりシステムズ株式会社", "田中美咲", "tanaka@hikari.example.jp",
             "06-9876-5432"),
        "田中美咲 <tanaka@hikari.example.jp>", "<tanaka-1@hikari.example.jp>", jst(12, 16, 30),
        ("履歴事項全部証明書.pdf", "5_補助事業概要書.pdf")),
}


@pytest.fixture(scope="module")
def replayed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A config whose ledger holds MAILS, replayed through the real pipeline."""
    tmp = tmp_path_factory.mktemp("staff")
    folder = tmp / "mails"
    folder.mkdir()
    for name, raw in MAILS.items():
        (folder / name).write_bytes(raw)
    config = write_config(tmp)
    with redirect_stdout(io.StringIO()), redirect_stderr(io.StringIO()):
        assert cli.main(["--config", str(config), "replay", str(folder)]) == 0
    return config


def open_ledger(config: Path) -> Ledger:
    return Ledger(config.parent / "ledger.db", BlobStore(config.parent / "blobs"))


def submission_of(ledger: Ledger, message_id_header: str) -> int:
    return ledger.db.execute("SELECT submission_id FROM messages WHERE message_id_header = ?",
                             [message_id_header]).fetchone()[0]


# --- the views on a replayed ledger ---------------------------------------------------------


def test_overview_has_one_row_per_submission_with_its_mails_files_and_findings(replayed):
    ledger = open_ledger(replayed)
    page = queries.overview(ledger, limit=None)
    assert page.total == len(page.rows) == ledger.db["submissions"].count
    by_name = {r["consortium"]: r for r in page.rows}
    assert {"さくら連携コンソーシアム", "みなと連携コンソーシアム",
            "ひかりIT連携コンソーシアム"} <= set(by_name)
    tanaka = by_name["ひかりIT連携コンソーシアム"]
    assert tanaka["mails"] == 1
    assert tanaka["lead_email"] == "tanaka@hikari.example.jp"
    # Arrival 2022-08-12 16:30 JST, as the Received header says; the _jst column shows it.
    assert tanaka["first_received_jst"] == "2022-08-12 16:30:00"
    sato = by_name["みなと連携コンソーシアム"]
    assert "SENDER_DETAILS_MISSING" in sato["finding_codes"].split(",")
    assert sato["deficiencies"] >= 1
    assert sato["outcome"] == "deficient"
    # Newest first.
    assert [r["id"] for r in page.rows] == sorted((r["id"] for r in page.rows), reverse=True)


def test_overview_counts_match_the_tables_they_summarise(replayed):
    ledger = open_ledger(replayed)
    for row in queries.overview(ledger, limit=None).rows:
        sid = row["id"]
        files = ledger.db.execute("SELECT count(*) FROM attachments WHERE submission_id = ?",
                                  [sid]).fetchone()[0]
        codes = {r[0] for r in ledger.db.execute(
            "SELECT code FROM findings WHERE submission_id = ?", [sid])}
        assert row["files"] == files
        assert set(filter(None, (row["finding_codes"] or "").split(","))) == codes


def test_status_filter_takes_states_and_outcomes(replayed):
    ledger = open_ledger(replayed)
    deficient = queries.overview(ledger, status="deficient", limit=None)
    assert deficient.rows and all(r["outcome"] == "deficient" for r in deficient.rows)
    review = queries.overview(ledger, status="needs_review", limit=None)
    assert [r["consortium"] for r in review.rows] == [None]  # the question mail
    assert review.rows[0]["outcome"] == "not_submission"


def test_missing_filter_matches_document_missing_findings_of_current_versions(replayed):
    ledger = open_ledger(replayed)
    expected: dict[str, set[int]] = {}
    for sid, document in ledger.db.execute(
        "SELECT f.submission_id, f.document FROM findings f JOIN submissions s "
        "ON s.id = f.submission_id WHERE f.code = 'DOCUMENT_MISSING' "
        "AND s.superseded_by IS NULL AND f.document IS NOT NULL"
    ):
        expected.setdefault(document, set()).add(sid)
    for document in ("application", "pledge", "tax", "registry"):
        page = queries.overview(ledger, missing=document, limit=None)
        assert {r["id"] for r in page.rows} == expected.get(document, set())
        assert page.total == len(expected.get(document, set()))
        listed = queries.missing_documents(ledger, document)
        assert {r["submission_id"] for r in listed} == expected.get(document, set())


def test_limit_caps_rows_but_not_the_total(replayed):
    ledger = open_ledger(replayed)
    page = queries.overview(ledger, limit=2)
    assert len(page.rows) == 2
    assert page.total == ledger.db["submissions"].count > 2


# --- search ---------------------------------------------------------------------------------


@pytest.mark.parametrize(("text", "expected"), [
    ("山田", "<yamada-1@test-seisaku.example.jp>"),             # two characters, body
    ("山田太郎", "<yamada-1@test-seisaku.example.jp>"),         # sender name
    ("誓約書", "<yamada-1@test-seisaku.example.jp>"),           # attachment name
    ("納税証明書", "<sato-1@minato.example.jp>"),
    ("みなと連携", "<sato-1@minato.example.jp>"),               # subject
    ("06-9876", "<tanaka-1@hikari.example.jp>"),               # phone in the sender block
    ("TANAKA@HIKARI", "<tanaka-1@hikari.example.jp>"),         # case folded
    ("締切", "<q-1@question.example.jp>"),                     # two characters at a line end
    ("鈴木", "<q-1@question.example.jp>"),                     # two characters at the very end
    ("概要書 ひかり", "<tanaka-1@hikari.example.jp>"),          # two words: both must occur
])
def test_search_finds_mails_by_subject_body_files_and_sender(replayed, text, expected):
    ledger = open_ledger(replayed)
    page = queries.search(ledger, text)
    found = {ledger.db["messages"].get(r["message"])["message_id_header"] for r in page.rows}
    assert found == {expected}
    assert page.total == 1


def test_search_words_are_literal_and_absent_words_find_nothing(replayed):
    ledger = open_ledger(replayed)
    for text in ('"誓約書', "OR AND", "subject:山田", "NEAR(山田 太郎)", "存在しない語", "ぬぬ"):
        assert queries.search(ledger, text).total == 0, text
    with pytest.raises(queries.SearchError):
        queries.search(ledger, "   ")
    with pytest.raises(queries.SearchError):
        queries.search(ledger, "\u3000")  # a full-width space alone is no word either


def test_search_index_follows_updates_and_new_files(tmp_path):
    ledger = Ledger(tmp_path / "ledger.db", BlobStore(tmp_path / "blobs"))
    recorded = ledger.record_mail(b"Subject: x\r\n\r\nbody\r\n", Arrival(
        "eml", "x.eml", datetime(2022, 8, 10, tzinfo=UTC), "received", "<x@example.jp>"))
    message = recorded.message
    assert queries.search(ledger, "青空工房").total == 0
    ledger.db["messages"].update(message, {
        "subject": "件名", "body_text": "本文に青空工房と書いた",
        "facts": json.dumps({"sender": {"company": "株式会社みどり商会", "phone": "011-222"}},
                            ensure_ascii=False)})
    assert queries.search(ledger, "青空工房").total == 1
    assert queries.search(ledger, "みどり商会").total == 1
    assert queries.search(ledger, "件名").total == 1  # a two-character word that is all the text
    ledger.db["attachments"].insert({"message": message, "path": "申請.zip/事業計画書.xlsx",
                                     "name": "事業計画書.xlsx", "kind": "xlsx", "size": 1})
    assert queries.search(ledger, "事業計画書").total == 1
    assert queries.search(ledger, "青空工房").total == 1  # the rest of the row stays indexed
    ledger.db.execute("DELETE FROM attachments WHERE message = ?", [message])
    assert queries.search(ledger, "事業計画書").total == 0
    ledger.db["messages"].update(message, {"facts": "not json {"})  # must not break the write
    assert queries.search(ledger, "みどり商会").total == 0
    assert queries.search(ledger, "青空工房").total == 1


# --- views whose answer depends on dates, on rows written directly -------------------------


def _dated_ledger(tmp_path: Path) -> tuple[Ledger, dict[str, int]]:
    """Three submissions with known arrival days and replies in known states."""
    ledger = Ledger(tmp_path / "ledger.db", BlobStore(tmp_path / "blobs"))
    ids: dict[str, int] = {}
    plan = [  # name, arrivals (UTC), outcome, reply status, due (UTC)
        ("A", ["2022-08-09T14:59:00+00:00"], "complete", "sent", "2022-08-10T08:30:00+00:00"),
        ("B", ["2022-08-09T15:00:00+00:00", "2022-08-11T01:00:00+00:00"], "deficient",
         "queued", "2022-08-11T08:30:00+00:00"),
        ("C", ["2022-08-12T03:00:00+00:00"], "deficient", "awaiting_approval",
         "2099-01-01T08:30:00+00:00"),
    ]
    for name, arrivals, outcome, status, due in plan:
        sid = ledger.db["submissions"].insert({
            "consortium": name, "consortium_key": name, "version": 1, "lead_email": "x@e.jp",
            "kind": "submission", "state": "replied", "outcome": outcome,
            "created_at": "2026-01-01T00:00:00+00:00", "updated_at": "2026-01-01T00:00:00+00:00",
        }).last_pk
        ids[name] = sid
        for n, at in enumerate(arrivals):
            recorded = ledger.record_mail(f"Subject: {name}{n}\r\n\r\n.\r\n".encode(), Arrival(
                "eml", f"{name}{n}.eml", datetime.fromisoformat(at), "received"))
            ledger.db["messages"].update(recorded.message, {"submission_id": sid,
                                                            "state": "checked"})
        ledger.db["replies"].insert({
            "submission_id": sid, "kind": "receipt" if outcome == "complete" else "deficiency",
            "status": status, "to_addr": "x@e.jp", "subject": "s",
            "message_id_header": f"<r-{name}@e.jp>", "raw_sha256": "0", "due_at": due,
            "created_at": arrivals[0],
            "sent_at": "2022-08-10T01:00:00+00:00" if status == "sent" else None,
        })
    return ledger, ids


def test_overdue_means_unsent_and_past_due(tmp_path):
    ledger, ids = _dated_ledger(tmp_path)
    at = datetime(2022, 8, 11, 9, 0, tzinfo=UTC)  # after B's due, before C's
    assert [r["submission_id"] for r in queries.overdue_replies(ledger, at)] == [ids["B"]]
    assert [r["id"] for r in queries.overview(ledger, overdue=True, now=at).rows] == [ids["B"]]
    # The view uses the real clock: in 2026 B is overdue, C (due 2099) and A (sent) are not.
    assert [r["submission_id"] for r in ledger.db.query("SELECT * FROM overdue_replies")] == [
        ids["B"]]
    before = datetime(2022, 8, 11, 8, 0, tzinfo=UTC)
    assert queries.overdue_replies(ledger, before) == []
    ledger.db.execute("UPDATE replies SET status = 'sent' WHERE submission_id = ?", [ids["B"]])
    assert queries.overdue_replies(ledger, at) == []


def test_daily_counts_use_jst_days_and_a_submissions_first_mail(tmp_path):
    ledger, ids = _dated_ledger(tmp_path)
    days = {r["day"]: r for r in queries.daily_counts(ledger)}
    # A arrived 23:59 JST on the 9th; B's first mail 00:00 JST on the 10th, its second the 11th.
    assert {d: (r["mails"], r["submissions"], r["complete"], r["deficient"])
            for d, r in days.items()} == {
        "2022-08-09": (1, 1, 1, 0),
        "2022-08-10": (1, 1, 0, 1),
        "2022-08-11": (1, 0, 0, 0),
        "2022-08-12": (1, 1, 0, 1),
    }
    assert days["2022-08-10"]["replies_sent"] == 1  # A's receipt, 10:00 JST on the 10th


def test_first_received_follows_mails_moving_between_submissions(tmp_path):
    ledger, ids = _dated_ledger(tmp_path)

    def first(name: str) -> str | None:
        return ledger.db["submissions"].get(ids[name])["first_received_at"]

    assert first("B") == "2022-08-09T15:00:00+00:00"
    earliest_b = ledger.db.execute(
        "SELECT id FROM messages WHERE submission_id = ? ORDER BY received_at LIMIT 1",
        [ids["B"]]).fetchone()[0]
    ledger.db["messages"].update(earliest_b, {"submission_id": ids["C"]})
    assert first("B") == "2022-08-11T01:00:00+00:00"
    assert first("C") == "2022-08-09T15:00:00+00:00"


# --- the verbs ------------------------------------------------------------------------------


def test_ledger_submissions_verb_lists_and_filters(replayed):
    code, out, _ = run_cli(["--config", str(replayed), "ledger", "submissions"])
    assert code == 0
    assert "さくら連携コンソーシアム" in out and "ひかりIT連携コンソーシアム" in out
    code, out, _ = run_cli(["--config", str(replayed), "ledger", "submissions", "--status",
                            "needs_review", "--json"])
    assert code == 0
    listing = json.loads(out)
    assert listing["total"] == 1 and listing["rows"][0]["outcome"] == "not_submission"
    code, _, err = run_cli(["--config", str(replayed), "ledger", "submissions", "--missing",
                            "hanko"])
    assert code == 2 and "pledge" in err  # unknown key: the known ones are listed
    code, out, _ = run_cli(["--config", str(replayed), "ledger", "submissions", "--limit", "1"])
    assert "全 4 件中 1 件を表示" in out


def test_ledger_show_verb_tells_everything_about_one_submission(replayed):
    ledger = open_ledger(replayed)
    sid = submission_of(ledger, "<tanaka-1@hikari.example.jp>")
    code, out, _ = run_cli(["--config", str(replayed), "ledger", "show", str(sid)])
    assert code == 0
    assert f"申請 {sid}: ひかりIT連携コンソーシアム" in out
    for section in ("■ メール", "■ 指摘", "■ 履歴"):
        assert section in out
    assert "tanaka@hikari.example.jp" in out
    code, out, _ = run_cli(["--config", str(replayed), "ledger", "show", str(sid), "--json"])
    detail = json.loads(out)
    assert [m["message_id_header"] for m in detail["mails"]] == ["<tanaka-1@hikari.example.jp>"]
    assert {e["event"] for e in detail["events"]} >= {"received"}
    code, _, err = run_cli(["--config", str(replayed), "ledger", "show", "99999"])
    assert code == 2 and "99999" in err


def test_ledger_search_verb(replayed):
    code, out, _ = run_cli(["--config", str(replayed), "ledger", "search", "山田"])
    assert code == 0 and "yamada@test-seisaku.example.jp" in out and "1 通" in out
    code, _, err = run_cli(["--config", str(replayed), "ledger", "search", "　"])
    assert code == 2 and "検索する語が空です" in err and "Traceback" not in err


def test_ledger_daily_verb(replayed):
    code, out, _ = run_cli(["--config", str(replayed), "ledger", "daily", "--json"])
    rows = json.loads(out)
    assert code == 0
    assert {r["day"]: r["mails"] for r in rows} == {"2022-08-10": 2, "2022-08-11": 1,
                                                    "2022-08-12": 1}


def test_text_table_lines_up_japanese_columns():
    rows = [("山田", "x"), ("abc", "y"), ("ｶﾅ", "z")]  # double, single and half-width kana
    lines = ledger_cmd.table(("名前", "列"), rows).splitlines()
    starts = {ledger_cmd.display_width(line[:line.rindex(last)])
              for line, last in zip(lines, ("列", "x", "y", "z"), strict=True)}
    assert starts == {6}  # widest first column is 4 (名前, 山田) plus the two-space gap


def test_migration_fills_search_and_first_received_for_existing_rows(tmp_path):
    """A ledger made before the staff views gets them filled for the mails it already has."""
    from state.schema import migrations

    path = tmp_path / "old.db"
    ledger = Ledger(path, BlobStore(tmp_path / "blobs"))
    recorded = ledger.record_mail(b"Subject: x\r\n\r\n.\r\n", Arrival(
        "eml", "x.eml", datetime(2022, 8, 10, tzinfo=UTC), "received"))
    sid = ledger.db["submissions"].insert({
        "consortium": "古い台帳", "version": 1, "kind": "submission", "state": "checked",
        "created_at": "x", "updated_at": "x"}).last_pk
    ledger.db["messages"].update(recorded.message, {"submission_id": sid,
                                                    "subject": "古い台帳の件名です"})
    ledger.close()
    # Undo the staff migration as if it had never run, then open again.
    conn = sqlite3.connect(path)
    for kind, name in conn.execute(
        "SELECT type, name FROM sqlite_master WHERE type IN ('view', 'trigger') "
        "OR name LIKE 'message_search%'"
    ).fetchall():
        if kind in ("view", "trigger") or name in ("message_search", "message_search_terms"):
            conn.execute(f"DROP {kind.upper()} IF EXISTS [{name}]")
    index_names = [r[0] for r in conn.execute(
        "SELECT name FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL")]
    staff_migration = next(m for m in migrations._migrations if m.name.endswith("staff_views"))
    for name in index_names:
        if name in {"messages_submission_received", "messages_day", "submissions_day",
                    "submissions_state", "submissions_outcome", "findings_submission_code",
                    "findings_code_document", "replies_pending_due", "replies_sent_day"}:
            conn.execute(f"DROP INDEX [{name}]")
    conn.execute("ALTER TABLE submissions DROP COLUMN first_received_at")
    conn.execute("DELETE FROM _sqlite_migrations WHERE name = ?", [staff_migration.name])
    conn.commit()
    conn.close()
    ledger = Ledger(path, BlobStore(tmp_path / "blobs"))
    assert queries.search(ledger, "古い台帳の件名").total == 1
    assert ledger.db["submissions"].get(sid)["first_received_at"] == "2022-08-10T00:00:00+00:00"


def test_search_finds_a_word_written_in_the_other_width(tmp_path):
    from ingest import app
    from ingest.config import load_settings
    from tests.mails import CORE as SUBJECT_CORE
    from tests.mails import mail
    from tests.test_walking_skeleton import write_config

    folder = tmp_path / "mails"
    folder.mkdir()
    (folder / "a.eml").write_bytes(mail(f"<幅テスト>{SUBJECT_CORE}", "電話番号：０４５－９８７－６５４３\n",
                                        "wide@example.jp", "<wide@x>", attachments={"a.pdf": b"%PDF"}))
    (folder / "b.eml").write_bytes(mail(f"<半角テスト>{SUBJECT_CORE}", "TEL: 06-1111-2222 ABCD\n",
                                        "narrow@example.jp", "<narrow@x>", attachments={"a.pdf": b"%PDF"}))
    config = write_config(tmp_path)
    assert cli.main(["--config", str(config), "replay", str(folder)]) == 0
    ledger = app.open_ledger(load_settings(config))
    assert [r["from_addr"] for r in queries.search(ledger, "987").rows] == ["wide@example.jp"]
    assert [r["from_addr"] for r in queries.search(ledger, "０６－１１１１").rows] == \
        ["narrow@example.jp"]
    assert [r["from_addr"] for r in queries.search(ledger, "ａｂｃｄ").rows] == ["narrow@example.jp"]
