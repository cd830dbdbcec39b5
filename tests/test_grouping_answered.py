"""A mail that joins a submission that was already answered, replayed as the daemon meets it:
each mail arrives in the Maildir after the run that answered the mails before it.

The mails are what the people at an applicant send: the 幹事社 contact's Outlook set
(ISO-2022-JP, RFC 2231 names), then a colleague's or the contact's own Thunderbird reply to our
notice (`Re:` subject, In-Reply-To/References naming it, the sender block in the body) with the
files it asks for or one more file. What the secretariat expects (README, "Grouping"):

- deficiency → the missing documents → judged again → its receipt;
- a partial fix → a notice of what is still missing (never silence); the same mails judged again
  (a reprocess, a replay of the same folder) never repeat a notice;
- a notice not yet sent when a further mail changes the answer is withdrawn;
- after a receipt: never a second receipt; the late mail is recorded and shown to staff, and a
  notice it calls for waits for them.
"""

from __future__ import annotations

import email.policy
import os
import signal
import sqlite3
from datetime import UTC, datetime, timedelta
from email import message_from_bytes
from email.message import EmailMessage
from email.utils import format_datetime
from pathlib import Path

import pytest
from sqlite_utils import Database

from ingest.cli import main
from parsers.mime import parse_message
from state.ledger import Ledger
from state.schema import migrations
from tests.mails import CORE, documents
from tests.test_daemon import start_daemon
from tests.test_grouping_versions import (
    DAY,
    PEOPLE,
    SATO,
    TANAKA,
    _wait,
    body,
    outlook,
    write_config,
)

NAME = "追加送付コンソーシアム"
SUBJECT = f"<{NAME}>{CORE}"
FILES = documents(NAME)
# Two documents the first mail forgets (two members' certificates of registration).
FIRST_MISSING = next(n for n in FILES if n.startswith("履歴事項全部証明書_株式会社みなと精機"))
SECOND_MISSING = next(n for n in FILES if n.startswith("履歴事項全部証明書_有限会社さくら商店"))


class Mailbox:
    """A Maildir the secretariat's server delivers to, replayed after each delivery."""

    def __init__(self, tmp: Path) -> None:
        self.tmp = tmp
        self.config = write_config(tmp)
        self.box = tmp / "Maildir"
        for sub in ("cur", "new", "tmp"):
            (self.box / sub).mkdir(parents=True)
        self.count = 0

    def deliver(self, raw: bytes) -> None:
        self.count += 1
        (self.box / "new" / f"{1660780800 + self.count}.M{self.count}P7.mx:2,S").write_bytes(raw)

    def replay(self) -> None:
        assert main(["--config", str(self.config), "replay", str(self.box)]) == 0

    def cli(self, *args: str) -> int:
        return main(["--config", str(self.config), *args])

    def replies(self) -> list[tuple[str, str, str]]:
        """(kind, status, Message-ID) of the one submission's replies, in the order made."""
        with sqlite3.connect(f"file:{self.tmp / 'ledger.db'}?mode=ro", uri=True) as db:
            return db.execute("SELECT kind, status, message_id_header FROM replies "
                              "ORDER BY id").fetchall()

    def one_submission(self) -> tuple[int, str, str, list[str]]:
        """(mails, state, outcome, finding codes) of the consortium's only submission."""
        with sqlite3.connect(f"file:{self.tmp / 'ledger.db'}?mode=ro", uri=True) as db:
            rows = db.execute("SELECT id, state, outcome FROM submissions").fetchall()
            assert len(rows) == 1, rows
            sub, state, outcome = rows[0]
            mails = db.execute("SELECT count(*) FROM messages WHERE submission_id = ?",
                               [sub]).fetchone()[0]
            codes = sorted(r[0] for r in db.execute(
                "SELECT code FROM findings WHERE submission_id = ?", [sub]))
        return mails, state, outcome, codes

    def written(self) -> list[str]:
        return sorted(p.name for p in (self.tmp / "outbox").glob("*.eml"))


def at(minutes: int):  # noqa: ANN201
    return DAY + timedelta(minutes=minutes)


def reply_to_notice(sender: str, text: str, minutes: int, tag: str, notice_id: str,
                    files: dict[str, bytes]) -> bytes:
    """Thunderbird's reply to our notice: `Re:` subject, threaded, UTF-8, files attached."""
    msg = EmailMessage()
    domain = sender.split("@")[1]
    msg["Received"] = f"from mx.{domain} by mx.example.go.jp; {format_datetime(at(minutes))}"
    msg["From"] = f"{PEOPLE[sender][0]} <{sender}>"
    msg["To"] = "it-renkei@example.go.jp"
    msg["Subject"] = "Re: 【不備連絡】" + SUBJECT
    msg["Message-ID"] = f"<{tag}@{domain}>"
    msg["In-Reply-To"] = notice_id
    msg["References"] = f"<first@{domain}> {notice_id}"
    msg["Date"] = format_datetime(at(minutes))
    msg.set_content(text + "\n\n" + body(sender))
    for name, data in files.items():
        msg.add_attachment(data, maintype="application", subtype="octet-stream", filename=name)
    return msg.as_bytes()


def without(*names: str) -> dict[str, bytes]:
    return {n: d for n, d in FILES.items() if n not in names}


def test_missing_documents_sent_after_the_notice_get_the_receipt(tmp_path):
    box = Mailbox(tmp_path)
    box.deliver(outlook(SUBJECT, TANAKA, without(FIRST_MISSING, SECOND_MISSING), at(0), "first"))
    box.replay()
    assert box.replies() == [("deficiency", "written", "<renkei-intake.1.deficiency@example.go.jp>")]
    box.deliver(reply_to_notice(SATO, "不足しておりました書類をお送りします。", 180, "fix",
                                "<renkei-intake.1.deficiency@example.go.jp>",
                                {FIRST_MISSING: FILES[FIRST_MISSING],
                                 SECOND_MISSING: FILES[SECOND_MISSING]}))
    box.replay()
    assert box.one_submission() == (2, "replied", "complete", [])
    assert [r[:2] for r in box.replies()] == [("deficiency", "written"), ("receipt", "written")]
    assert box.written() == ["00001-deficiency.eml", "00001-receipt.eml"]


def test_missing_documents_sent_days_later_in_a_new_mail_complete_the_submission(tmp_path):
    """A certificate takes days to obtain: the contact sends it in a fresh Outlook mail with the
    usual subject, long after the split window. It joins the latest version, not a new one
    judged alone (which would lack every other document)."""
    box = Mailbox(tmp_path)
    box.deliver(outlook(SUBJECT, TANAKA, without(FIRST_MISSING, SECOND_MISSING), at(0), "first"))
    box.replay()
    box.deliver(outlook(SUBJECT, TANAKA, {FIRST_MISSING: FILES[FIRST_MISSING],
                                          SECOND_MISSING: FILES[SECOND_MISSING]},
                        at(3 * 24 * 60), "days-later"))
    box.replay()
    assert box.one_submission() == (2, "replied", "complete", [])
    assert [r[:2] for r in box.replies()] == [("deficiency", "written"), ("receipt", "written")]


def test_a_full_set_days_later_is_still_a_new_version(tmp_path):
    box = Mailbox(tmp_path)
    box.deliver(outlook(SUBJECT, TANAKA, without(FIRST_MISSING), at(0), "first"))
    box.replay()
    box.deliver(outlook(SUBJECT, SATO, FILES, at(4 * 24 * 60), "again"))
    box.replay()
    with sqlite3.connect(tmp_path / "ledger.db") as db:
        assert db.execute("SELECT version, outcome, superseded_by FROM submissions "
                          "ORDER BY version").fetchall() == [(1, "deficient", 2),
                                                             (2, "complete", None)]
    assert [r[:2] for r in box.replies()] == [("deficiency", "written"), ("receipt", "written")]


def test_a_partial_fix_is_answered_with_what_is_still_missing(tmp_path, capsys):
    box = Mailbox(tmp_path)
    box.deliver(outlook(SUBJECT, TANAKA, without(FIRST_MISSING, SECOND_MISSING), at(0), "first"))
    box.replay()
    first = (tmp_path / "outbox" / "00001-deficiency.eml").read_bytes()
    box.deliver(reply_to_notice(TANAKA, "1点お送りします。残りは取り寄せ中です。", 120, "fix-1",
                                "<renkei-intake.1.deficiency@example.go.jp>",
                                {FIRST_MISSING: FILES[FIRST_MISSING]}))
    box.replay()
    assert box.one_submission() == (2, "replied", "deficient", ["DOCUMENT_MISSING"])
    assert box.replies() == [
        ("deficiency", "written", "<renkei-intake.1.deficiency@example.go.jp>"),
        ("deficiency", "written", "<renkei-intake.1.deficiency.2@example.go.jp>")]
    # A file of its own: the first notice's file is left as it was.
    assert box.written() == ["00001-deficiency-2.eml", "00001-deficiency.eml"]
    assert (tmp_path / "outbox" / "00001-deficiency.eml").read_bytes() == first
    second = _text(tmp_path / "outbox" / "00001-deficiency-2.eml")
    assert "有限会社さくら商店" in second and "株式会社みなと精機の「履歴事項" not in second

    # The same mails judged again never repeat a notice.
    box.replay()
    assert box.cli("reprocess", "--all") == 0
    assert "新たに作成した返信 0 通" in capsys.readouterr().out
    assert len(box.replies()) == 2

    box.deliver(reply_to_notice(TANAKA, "残りの1点をお送りします。", 300, "fix-2",
                                "<renkei-intake.1.deficiency.2@example.go.jp>",
                                {SECOND_MISSING: FILES[SECOND_MISSING]}))
    box.replay()
    assert box.one_submission() == (3, "replied", "complete", [])
    assert [r[:2] for r in box.replies()] == [
        ("deficiency", "written"), ("deficiency", "written"), ("receipt", "written")]
    assert box.cli("reprocess", "--all") == 0
    assert "新たに作成した返信 0 通" in capsys.readouterr().out


def test_a_notice_not_yet_sent_is_withdrawn_when_a_further_mail_changes_the_answer(tmp_path):
    box = Mailbox(tmp_path)
    box.config.write_text(box.config.read_text(encoding="utf-8").replace(
        "approve_deficiencies = false", "approve_deficiencies = true"), encoding="utf-8")
    box.deliver(outlook(SUBJECT, TANAKA, without(FIRST_MISSING, SECOND_MISSING), at(0), "first"))
    box.replay()
    assert [r[:2] for r in box.replies()] == [("deficiency", "awaiting_approval")]
    box.deliver(reply_to_notice(TANAKA, "1点お送りします。", 60, "fix-1", "<x@example.go.jp>",
                                {FIRST_MISSING: FILES[FIRST_MISSING]}))
    box.replay()
    assert [r[:2] for r in box.replies()] == [("deficiency", "cancelled"),
                                              ("deficiency", "awaiting_approval")]
    box.deliver(reply_to_notice(SATO, "残りです。", 90, "fix-2", "<x@example.go.jp>",
                                {SECOND_MISSING: FILES[SECOND_MISSING]}))
    box.replay()
    assert [r[:2] for r in box.replies()] == [
        ("deficiency", "cancelled"), ("deficiency", "cancelled"), ("receipt", "written")]
    assert box.written() == ["00001-receipt.eml"]


def test_a_further_file_after_the_receipt_is_recorded_for_staff_without_a_second_receipt(
        tmp_path, capsys):
    box = Mailbox(tmp_path)
    box.deliver(outlook(SUBJECT, TANAKA, FILES, at(0), "first"))
    box.replay()
    box.deliver(reply_to_notice(TANAKA, "追加で送ります。会社案内です。", 120, "more",
                                "<renkei-intake.1.receipt@example.go.jp>",
                                {"参考_会社案内.pdf": b"%PDF-1.4\n% brochure\n%%EOF\n"}))
    box.replay()
    assert box.one_submission() == (2, "replied", "complete", [])
    assert box.replies() == [("receipt", "written", "<renkei-intake.1.receipt@example.go.jp>")]
    capsys.readouterr()
    assert box.cli("ledger", "show", "1") == 0
    shown = capsys.readouterr().out
    assert "受付確認の後に届いたメール" in shown
    assert "受付確認の後に追加のメールを受信" in shown


def test_a_deficiency_found_after_the_receipt_waits_for_staff(tmp_path, capsys):
    box = Mailbox(tmp_path)
    box.deliver(outlook(SUBJECT, TANAKA, FILES, at(0), "first"))
    box.replay()
    form = next(n for n in FILES if n.startswith("4_"))
    box.deliver(reply_to_notice(SATO, "交付申請書を差し替えます。", 240, "swap",
                                "<renkei-intake.1.receipt@example.go.jp>",
                                {form: b"PK\x03\x04 not a workbook"}))
    box.replay()
    mails, state, outcome, codes = box.one_submission()
    assert (mails, state, outcome) == (2, "needs_review", "deficient")
    assert "ATTACHMENT_UNREADABLE" in codes
    assert [r[:2] for r in box.replies()] == [("receipt", "written"), ("deficiency", "held")]
    assert box.written() == ["00001-receipt.eml"]  # nothing went out by itself
    capsys.readouterr()
    assert box.cli("outbox", "list", "--status", "保留") == 0
    assert "受付確認を送った後の再判定" in capsys.readouterr().out


def test_a_reprocess_after_a_rule_change_holds_a_notice_after_the_receipt(tmp_path, capsys):
    box = Mailbox(tmp_path)
    box.deliver(outlook(SUBJECT, TANAKA, FILES, at(0), "first"))
    box.replay()
    # The deadline moved before the mail's receive time (08-18 10:00 JST).
    box.config.write_text(box.config.read_text(encoding="utf-8") + '[program]\n'
                          'period_end = "2022-08-15T23:59:59+09:00"\n', encoding="utf-8")
    assert box.cli("reprocess", "--all") == 0
    assert [r[:2] for r in box.replies()] == [("receipt", "written"), ("out_of_period", "held")]
    assert box.one_submission()[1:3] == ("needs_review", "deficient")
    assert box.cli("reprocess", "--all") == 0
    assert "新たに作成した返信 0 通" in capsys.readouterr().out
    assert len(box.replies()) == 2


def test_a_receipt_not_yet_sent_is_held_with_the_deficiency_a_later_mail_brings(tmp_path):
    """With SMTP, a receipt waits for business hours; a mail that comes before it went out
    and makes the submission deficient holds both for staff."""
    box = Mailbox(tmp_path)
    box.deliver(outlook(SUBJECT, TANAKA, FILES, at(0), "first"))
    box.replay()
    with sqlite3.connect(tmp_path / "ledger.db") as db:  # as an SMTP outbox leaves it
        db.execute("UPDATE replies SET status = 'queued', eml_path = NULL")
    form = next(n for n in FILES if n.startswith("4_"))
    box.deliver(reply_to_notice(SATO, "交付申請書を差し替えます。", 240, "swap", "<x@example.go.jp>",
                                {form: b"PK\x03\x04 not a workbook"}))
    box.replay()
    assert [r[:2] for r in box.replies()] == [("receipt", "held"), ("deficiency", "held")]


def test_the_migration_keys_existing_notices_by_the_mails_they_answered(tmp_path):
    path = tmp_path / "ledger.db"
    old = Database(path)  # a ledger as the migrations before this one left it
    migrations.apply(old, stop_before="0014_reply_about")
    old.executescript("""
        INSERT INTO submissions (id, consortium, consortium_key, lead_email, kind, state, outcome,
            created_at, updated_at) VALUES (1, 'X', 'x', 'a@x.jp', 'submission', 'replied',
            'deficient', '2022-08-18T01:00:00+00:00', '2022-08-18T01:00:00+00:00');
        INSERT INTO messages (id, sha256, size, received_at, received_at_source, fetched_at,
            source_kind, source_ref, state, submission_id) VALUES
            (1, 'a', 1, '2022-08-18T01:00:00+00:00', 'received', 'f', 'eml', 'a', 'checked', 1),
            (2, 'b', 1, '2022-08-18T03:00:00+00:00', 'received', 'f', 'eml', 'b', 'checked', 1);
        INSERT INTO events (at, entity, entity_id, event, actor) VALUES
            ('2022-08-18T01:05:00+00:00', 'message', 1, 'filed', 't'),
            ('2022-08-18T03:05:00+00:00', 'message', 2, 'filed', 't');
        -- the notice made after the first mail, the receipt after the second joined
        INSERT INTO replies (submission_id, kind, status, to_addr, subject, message_id_header,
            raw_sha256, due_at, created_at) VALUES
            (1, 'deficiency', 'sent', 'a@x.jp', 's', '<d@x>', 'h', 'd', '2022-08-18T02:00:00+00:00'),
            (1, 'receipt', 'sent', 'a@x.jp', 's', '<r@x>', 'h', 'd', '2022-08-18T04:00:00+00:00');
    """)
    old.close()
    Ledger(path, tmp_path / "blobs").close()  # opening it applies the migration
    db = sqlite3.connect(path)
    assert db.execute("SELECT kind, about FROM replies ORDER BY id").fetchall() == [
        ("deficiency", "1"), ("receipt", "")]
    assert [r[0] for r in db.execute("SELECT replies FROM submissions_overview")] == [
        "deficiency:sent receipt:sent"]
    insert = ("INSERT INTO replies (submission_id, kind, status, to_addr, subject, "
              "message_id_header, raw_sha256, due_at, created_at, about) "
              "VALUES (1, ?, 'queued', 'a@x.jp', 's', ?, 'h', 'd', 'c', ?)")
    db.execute(insert, ["deficiency", "<d2@x>", "1,2"])  # a notice for the mails since
    with pytest.raises(sqlite3.IntegrityError):
        db.execute(insert, ["receipt", "<r2@x>", ""])  # never a second receipt
    names = {r[0] for r in db.execute(
        "SELECT name FROM sqlite_master WHERE tbl_name = 'replies' AND type = 'index'")}
    assert {"replies_status", "replies_to_addr", "replies_pending_due",
            "replies_sent_day"} <= names
    db.close()


def _text(path: Path) -> str:
    return parse_message(path.read_bytes()).body


def test_the_daemon_answers_each_mail_of_a_fix_in_turn(dovecot, smtp_server, tmp_path):
    """Live, by IMAP and SMTP: each mail is answered before the next arrives. Two notices go
    out (the second with its own Message-ID, threaded to the first mail), then the receipt;
    one more file after the receipt sends nothing."""
    now = datetime.now(UTC).replace(microsecond=0)
    start = now - timedelta(hours=6)

    def when(minutes: int) -> datetime:
        return start + timedelta(minutes=minutes)

    config = write_config(tmp_path, "\n".join([
        "[imap]", f'host = "{dovecot.host}"', f"port = {dovecot.port}", 'tls = "none"',
        f'user = "{dovecot.user}"', 'password_env = "ANSWERED_IMAP_PASSWORD"',
        "[smtp]", f'host = "{smtp_server.host}"', f"port = {smtp_server.port}", 'tls = "none"',
        'user = ""', "[submissions]", "settle_minutes = 0", "[daemon]",
        "poll_interval_seconds = 2", "[program]",
        'period_start = "2020-01-01T00:00:00+09:00"', 'period_end = "2039-12-31T23:59:59+09:00"',
        ""]))
    os.environ["ANSWERED_IMAP_PASSWORD"] = dovecot.password
    ledger, log = tmp_path / "ledger.db", tmp_path / "daemon.log"
    first = outlook(SUBJECT, TANAKA, without(FIRST_MISSING, SECOND_MISSING), when(0), "live-1")
    fix1 = _dated(reply_to_notice(TANAKA, "1点お送りします。", 0, "live-2",
                                  "<renkei-intake.1.deficiency@example.go.jp>",
                                  {FIRST_MISSING: FILES[FIRST_MISSING]}), when(60))
    fix2 = _dated(reply_to_notice(SATO, "残りの1点です。", 0, "live-3",
                                  "<renkei-intake.1.deficiency.2@example.go.jp>",
                                  {SECOND_MISSING: FILES[SECOND_MISSING]}), when(120))
    more = _dated(reply_to_notice(TANAKA, "追加で送ります。", 0, "live-4",
                                  "<renkei-intake.1.receipt@example.go.jp>",
                                  {"参考_会社案内.pdf": b"%PDF-1.4\n% brochure\n%%EOF\n"}),
                  when(180))
    daemon = start_daemon(config, log)
    try:
        for n, (raw, moment) in enumerate(((first, when(0)), (fix1, when(60)),
                                           (fix2, when(120))), start=1):
            dovecot.deliver(raw, internaldate=moment)
            _wait(lambda n=n: len(smtp_server.messages) >= n, f"reply {n}", log)
        dovecot.deliver(more, internaldate=when(180))
        _wait(lambda: _late_judged(ledger), "the late mail judged", log)
    finally:
        daemon.send_signal(signal.SIGTERM)
        assert daemon.wait(timeout=60) == 0, log.read_text()[-3000:]
    sent = [(m.message["Message-ID"], m.message["In-Reply-To"]) for m in smtp_server.messages]
    assert sent == [("<renkei-intake.1.deficiency@example.go.jp>", "<live-1@minato-seiki.example.jp>"),
                    ("<renkei-intake.1.deficiency.2@example.go.jp>",
                     "<live-1@minato-seiki.example.jp>"),
                    ("<renkei-intake.1.receipt@example.go.jp>", "<live-1@minato-seiki.example.jp>")]
    with sqlite3.connect(ledger) as db:
        assert db.execute("SELECT kind, status FROM replies ORDER BY id").fetchall() == [
            ("deficiency", "sent"), ("deficiency", "sent"), ("receipt", "sent")]
        assert db.execute("SELECT state, outcome FROM submissions").fetchall() == [
            ("replied", "complete")]


def _dated(raw: bytes, moment: datetime) -> bytes:
    """The mail as received at `moment` (its Received: and Date: say so)."""
    msg = message_from_bytes(raw, policy=email.policy.default)
    del msg["Received"], msg["Date"]
    msg["Received"] = f"from mx.minato-seiki.example.jp by mx.example.go.jp; {format_datetime(moment)}"
    msg["Date"] = format_datetime(moment)
    return msg.as_bytes()


def _late_judged(ledger: Path) -> bool:
    """The mail after the receipt is filed and its submission judged again."""
    try:
        with sqlite3.connect(ledger) as db:
            return db.execute(
                "SELECT count(*) FROM events WHERE event = 'late_addition'").fetchone()[0] > 0 \
                and db.execute("SELECT state FROM submissions").fetchone()[0] != "open"
    except sqlite3.OperationalError:
        return False
