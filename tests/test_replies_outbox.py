"""The outbox against a real SMTP server (aiosmtpd) and a real IMAP Sent folder (Dovecot):
one reply per row, never two, whatever fails in between."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta, timezone
from email import message_from_bytes
from pathlib import Path

import pytest

from replies import staff
from replies.compose import compose, reply_message_id
from replies.connection import Secret, ServerConfig
from replies.outbox import (
    QueuedReply,
    SendReport,
    flag_overdue,
    overdue_count,
    queue,
    send_due,
    write_files,
)
from rules.calendar import BusinessCalendar
from state.blobs import BlobStore
from state.ledger import Ledger
from tests.servers import SmtpServer, free_port

JST = timezone(timedelta(hours=9))
OURS = "it-renkei@example.go.jp"
IN_HOURS = datetime(2022, 8, 10, 10, 0, tzinfo=JST)  # a Wednesday morning
CAL = BusinessCalendar()


# --- helpers -----------------------------------------------------------------------------------


def open_ledger(tmp_path: Path) -> Ledger:
    return Ledger(tmp_path / "ledger.db", BlobStore(tmp_path / "blobs"))


def add_reply(ledger: Ledger, *, kind: str = "receipt", to: str = "yamada@test.example.jp",
              needs_approval: bool = False, due: datetime | None = None,
              own: tuple[str, ...] = (OURS,), cap: int = 5, now: datetime | None = None,
              body: str = "受付しました。\n") -> int | None:
    now = now or IN_HOURS
    submission = ledger.db["submissions"].insert({
        "consortium": "テスト", "consortium_key": "テスト", "version": 1, "lead_email": to,
        "kind": "submission", "state": "checked", "outcome": "complete",
        "created_at": now.isoformat(), "updated_at": now.isoformat(),
    }).last_pk
    message_id = reply_message_id(submission, kind, OURS)
    raw = compose(from_addr=OURS, from_name="事務局", to_addr=to, subject=f"【{kind}】テスト",
                  body=body, message_id=message_id, in_reply_to=f"<orig-{submission}@test>",
                  references=(), date=now)
    return queue(ledger, QueuedReply(
        submission_id=submission, kind=kind, to_addr=to, subject=f"【{kind}】テスト",
        message_id=message_id, raw=raw, due_at=due or CAL.reply_due(now),
        needs_approval=needs_approval,
    ), own_addresses=own, max_per_recipient_per_day=cap, now=now)


def smtp_config(server: SmtpServer, **changes: object) -> ServerConfig:
    settings: dict[str, object] = {"host": server.host, "port": server.port, "tls": "none",
                                   "user": "", "password": Secret(), "timeout": 60.0}  # a bound only
    settings.update(changes)
    return ServerConfig(**settings)  # type: ignore[arg-type]


@pytest.fixture
def imap_config(dovecot, monkeypatch) -> ServerConfig:
    monkeypatch.setenv("H4_IMAP_PASSWORD", dovecot.password)
    return ServerConfig(host=dovecot.host, port=dovecot.port, tls="none", user=dovecot.user,
                        password=Secret(env="H4_IMAP_PASSWORD"), timeout=60.0,
                        sent_folder="Sent")


def send(ledger: Ledger, smtp: ServerConfig, *, now: datetime = IN_HOURS,
         imap: ServerConfig | None = None, hours_only: bool = True) -> SendReport:
    return send_due(ledger, smtp, from_addr=OURS, calendar=CAL, business_hours_only=hours_only,
                    now=now, imap=imap)


def status(ledger: Ledger, reply: int | None) -> str:
    return ledger.db["replies"].get(reply)["status"]


def events(ledger: Ledger, reply: int | None) -> list[str]:
    return [e["event"] for e in staff.events(ledger, reply)]  # type: ignore[arg-type]


def sent_folder(dovecot) -> dict[str, set[bytes]]:
    """Message-ID → flags of every mail in the account's Sent folder."""
    client = dovecot.client()
    try:
        client.select_folder("Sent", readonly=True)
        uids = client.search(["ALL"])
        data = client.fetch(uids, ["FLAGS", "BODY.PEEK[HEADER.FIELDS (MESSAGE-ID)]"])
    finally:
        client.logout()
    found = {}
    for item in data.values():
        head = item[b"BODY[HEADER.FIELDS (MESSAGE-ID)]"]
        found[message_from_bytes(head)["Message-ID"]] = set(item[b"FLAGS"])
    return found


def raw_of(ledger: Ledger, reply: int | None) -> bytes:
    return ledger.blobs.get(ledger.db["replies"].get(reply)["raw_sha256"])


# --- plain sending -----------------------------------------------------------------------------


def test_a_queued_reply_is_sent_once(tmp_path, smtp_server):
    ledger = open_ledger(tmp_path)
    reply = add_reply(ledger)
    report = send(ledger, smtp_config(smtp_server))
    assert report.sent == 1
    (mail,) = smtp_server.wait_for(1)
    assert mail.rcpt_tos == ["yamada@test.example.jp"] and mail.mail_from == OURS
    assert mail.message["Message-ID"] == reply_message_id(1, "receipt", OURS)
    assert send(ledger, smtp_config(smtp_server)).sent == 0
    assert len(smtp_server.messages) == 1
    row = ledger.db["replies"].get(reply)
    assert row["status"] == "sent" and row["smtp_response"].startswith("250")
    assert events(ledger, reply) == ["queued", "sending", "sent"]


def test_4xx_then_250_sends_exactly_once(tmp_path, smtp_server):
    ledger = open_ledger(tmp_path)
    reply = add_reply(ledger)
    smtp_server.fail_next(451, "4.3.0 try again later")
    first = send(ledger, smtp_config(smtp_server))
    assert (first.sent, first.retrying) == (0, 1)
    row = ledger.db["replies"].get(reply)
    assert row["status"] == "queued" and row["smtp_response"] == "451 4.3.0 try again later"
    assert datetime.fromisoformat(row["next_attempt_at"]) == IN_HOURS + timedelta(seconds=60)
    # before the backoff is over nothing is tried
    assert send(ledger, smtp_config(smtp_server), now=IN_HOURS + timedelta(seconds=30)).sent == 0
    later = send(ledger, smtp_config(smtp_server), now=IN_HOURS + timedelta(seconds=61))
    assert later.sent == 1
    assert len(smtp_server.wait_for(1)) == 1
    assert send(ledger, smtp_config(smtp_server), now=IN_HOURS + timedelta(hours=1)).sent == 0
    assert len(smtp_server.messages) == 1
    assert ledger.db["replies"].get(reply)["attempts"] == 2
    assert events(ledger, reply).count("retry") == 1


def test_5xx_is_recorded_for_staff_and_not_retried(tmp_path, smtp_server):
    ledger = open_ledger(tmp_path)
    reply = add_reply(ledger)
    smtp_server.fail_next(550, "5.1.1 <yamada@test.example.jp>: user unknown")
    report = send(ledger, smtp_config(smtp_server))
    assert report.failed == 1 and "550 5.1.1" in report.errors[0]
    row = ledger.db["replies"].get(reply)
    assert row["status"] == "failed"
    assert row["smtp_response"] == "550 5.1.1 <yamada@test.example.jp>: user unknown"
    send(ledger, smtp_config(smtp_server), now=IN_HOURS + timedelta(days=1))
    assert smtp_server.messages == []


def test_unreachable_server_leaves_the_reply_queued_for_a_later_pass(tmp_path):
    ledger = open_ledger(tmp_path)
    reply = add_reply(ledger)
    closed = ServerConfig(host="127.0.0.1", port=free_port(), tls="none", user="",
                          password=Secret(), timeout=2.0)
    report = send(ledger, closed)
    assert report.retrying == 1 and "接続できません" in report.errors[0]
    row = ledger.db["replies"].get(reply)
    assert row["status"] == "queued" and row["next_attempt_at"]


def test_nothing_is_sent_outside_business_hours(tmp_path, smtp_server):
    ledger = open_ledger(tmp_path)
    add_reply(ledger)
    saturday = datetime(2022, 8, 13, 10, 0, tzinfo=JST)
    report = send(ledger, smtp_config(smtp_server), now=saturday)
    assert report.skipped_outside_hours and report.sent == 0
    assert smtp_server.messages == []
    assert send(ledger, smtp_config(smtp_server), now=saturday, hours_only=False).sent == 1


def test_unapproved_held_and_cancelled_replies_never_go_out(tmp_path, smtp_server):
    ledger = open_ledger(tmp_path)
    waiting = add_reply(ledger, kind="deficiency", needs_approval=True)
    held = add_reply(ledger, to="b@test.example.jp")
    cancelled = add_reply(ledger, to="c@test.example.jp")
    assert staff.act(ledger, "hold", [held], "suzuki")[0].done  # type: ignore[list-item]
    assert staff.act(ledger, "cancel", [cancelled], "suzuki")[0].done  # type: ignore[list-item]
    assert send(ledger, smtp_config(smtp_server)).sent == 0
    assert smtp_server.messages == []
    assert (status(ledger, waiting), status(ledger, held), status(ledger, cancelled)) == (
        "awaiting_approval", "held", "cancelled")
    assert not staff.act(ledger, "approve", [cancelled], "suzuki")[0].done  # type: ignore[list-item]
    staff.act(ledger, "approve", [waiting, held], "suzuki")  # type: ignore[list-item]
    assert send(ledger, smtp_config(smtp_server)).sent == 2
    approvals = [e for e in staff.events(ledger, waiting) if e["event"] == "approved"]  # type: ignore[arg-type]
    assert approvals[0]["actor"] == "suzuki"


def test_without_smtp_only_approved_replies_become_files(tmp_path):
    ledger = open_ledger(tmp_path)
    ready = add_reply(ledger)
    waiting = add_reply(ledger, kind="deficiency", needs_approval=True, to="b@test.example.jp")
    files = write_files(ledger, tmp_path / "outbox")
    assert [p.name for p in files] == ["00001-receipt.eml"]
    assert files[0].read_bytes() == raw_of(ledger, ready)
    assert status(ledger, waiting) == "awaiting_approval"


# --- who may be answered -----------------------------------------------------------------------


def test_replies_to_ourselves_or_robots_are_held_with_a_reason(tmp_path, smtp_server):
    ledger = open_ledger(tmp_path)
    own = add_reply(ledger, to=OURS)
    robot = add_reply(ledger, to="MAILER-DAEMON@mx.example.jp")
    for reply, words in ((own, "事務局自身"), (robot, "自動送信")):
        row = ledger.db["replies"].get(reply)
        assert row["status"] == "held" and words in row["held_reason"]
    send(ledger, smtp_config(smtp_server))
    assert smtp_server.messages == []


def test_more_than_the_daily_cap_per_recipient_is_held(tmp_path):
    ledger = open_ledger(tmp_path)
    rows = [add_reply(ledger, kind=kind, to="Loop@Example.jp", cap=3)
            for kind in ("receipt", "deficiency", "password_request", "out_of_period")]
    assert [status(ledger, r) for r in rows] == ["queued", "queued", "queued", "held"]
    assert "上限(3 通)" in ledger.db["replies"].get(rows[3])["held_reason"]
    # the next day starts a new count
    tomorrow = add_reply(ledger, to="loop@example.jp", cap=3, now=IN_HOURS + timedelta(days=1))
    assert status(ledger, tomorrow) == "queued"


def test_one_row_per_submission_and_kind(tmp_path):
    ledger = open_ledger(tmp_path)
    add_reply(ledger)
    raw = raw_of(ledger, 1)
    again = queue(ledger, QueuedReply(1, "receipt", "yamada@test.example.jp", "x",
                                      reply_message_id(1, "receipt", OURS), raw, IN_HOURS, False))
    assert again is None
    assert ledger.db["replies"].count == 1


# --- overdue -----------------------------------------------------------------------------------


def test_a_reply_past_its_due_time_is_flagged_overdue_once(tmp_path, smtp_server):
    ledger = open_ledger(tmp_path)
    late = add_reply(ledger, kind="deficiency", needs_approval=True)
    on_time = add_reply(ledger, to="b@test.example.jp", due=IN_HOURS + timedelta(days=3))
    due = ledger.db["replies"].get(late)["due_at"]
    after = datetime.fromisoformat(due) + timedelta(minutes=1)
    assert flag_overdue(ledger, datetime.fromisoformat(due) - timedelta(minutes=1)) == 0
    assert flag_overdue(ledger, after) == 1
    assert flag_overdue(ledger, after + timedelta(hours=1)) == 0
    assert events(ledger, late).count("overdue") == 1
    assert "overdue" not in events(ledger, on_time)
    assert overdue_count(ledger) == 1
    staff.act(ledger, "approve", [late], "suzuki")  # type: ignore[list-item]
    report = send(ledger, smtp_config(smtp_server), now=after, hours_only=False)
    assert report.sent == 2
    assert overdue_count(ledger) == 0  # sent late, but no longer owed
    assert ledger.db["replies"].get(late)["overdue_at"]  # the ledger remembers it was late


# --- exactly once across a crash between DATA and the ledger update -------------------------------


def crash_after_data(ledger: Ledger, reply: int | None) -> None:
    """What a SIGKILL right after the server's 250 leaves behind: the row still `sending`,
    marked as having begun DATA."""
    ledger.db.execute("UPDATE replies SET status='sending', attempts=1, "
                      "data_started_at='2022-08-10T01:00:00+00:00' WHERE id=?", [reply])


def crash_before_data(ledger: Ledger, reply: int | None) -> None:
    """A SIGKILL after the row was claimed but before DATA: the server never had the mail."""
    ledger.db.execute("UPDATE replies SET status='sending', attempts=1 WHERE id=?", [reply])


def test_crashed_send_found_in_sent_folder_is_marked_sent_not_resent(
        tmp_path, smtp_server, dovecot, imap_config):
    ledger = open_ledger(tmp_path)
    reply = add_reply(ledger)
    crash_after_data(ledger, reply)
    dovecot.deliver(raw_of(ledger, reply), folder="Sent")  # the server filed what it accepted
    report = send(ledger, smtp_config(smtp_server), imap=imap_config)
    assert report.found_in_sent == 1 and report.sent == 0
    assert status(ledger, reply) == "sent"
    assert smtp_server.messages == []
    assert report.copies == 0 and len(sent_folder(dovecot)) == 1  # no second copy filed
    assert send(ledger, smtp_config(smtp_server), imap=imap_config).sent == 0
    assert smtp_server.messages == []


def test_crashed_send_missing_from_sent_folder_waits_for_staff(
        tmp_path, smtp_server, dovecot, imap_config):
    """Not filed is no proof of not sent (an SMTP server need not file what it accepts, and our
    own copy is made after the 250): never a second copy without a person deciding."""
    ledger = open_ledger(tmp_path)
    other = add_reply(ledger, to="b@test.example.jp")
    reply = add_reply(ledger)
    dovecot.deliver(raw_of(ledger, other), folder="Sent")  # the folder exists, holds another mail
    crash_after_data(ledger, reply)
    ledger.db["replies"].update(other, {"status": "sent", "sent_at": IN_HOURS.isoformat(),
                                        "sent_copy_at": IN_HOURS.isoformat()})
    report = send(ledger, smtp_config(smtp_server), imap=imap_config)
    assert (report.unknown, report.sent) == (1, 0)
    assert status(ledger, reply) == "unknown"
    assert smtp_server.messages == []
    staff.act(ledger, "approve", [reply], "tanaka")  # type: ignore[list-item]
    assert send(ledger, smtp_config(smtp_server), imap=imap_config).sent == 1
    (mail,) = smtp_server.wait_for(1)
    assert mail.message["Message-ID"] == reply_message_id(2, "receipt", OURS)


def test_crash_before_data_is_sent_again_once_even_without_a_sent_folder(tmp_path, smtp_server):
    ledger = open_ledger(tmp_path)
    reply = add_reply(ledger)
    crash_before_data(ledger, reply)
    report = send(ledger, smtp_config(smtp_server))
    assert (report.resent, report.sent, report.unknown) == (1, 1, 0)
    assert status(ledger, reply) == "sent"
    assert len(smtp_server.wait_for(1)) == 1
    assert send(ledger, smtp_config(smtp_server)).sent == 0


def test_crashed_send_without_sent_folder_waits_for_staff(tmp_path, smtp_server):
    ledger = open_ledger(tmp_path)
    reply = add_reply(ledger)
    crash_after_data(ledger, reply)
    report = send(ledger, smtp_config(smtp_server))
    assert report.unknown == 1 and report.sent == 0
    assert status(ledger, reply) == "unknown"
    assert smtp_server.messages == []
    assert send(ledger, smtp_config(smtp_server)).sent == 0  # still not resent by itself
    result = staff.act(ledger, "approve", [reply], "tanaka")  # type: ignore[list-item]
    assert result[0].done
    assert send(ledger, smtp_config(smtp_server)).sent == 1
    assert len(smtp_server.wait_for(1)) == 1


def test_misnamed_sent_folder_resends_nothing(tmp_path, smtp_server, dovecot, imap_config):
    ledger = open_ledger(tmp_path)
    reply = add_reply(ledger)
    crash_after_data(ledger, reply)
    report = send(ledger, smtp_config(smtp_server), imap=imap_config)  # no "Sent" folder yet
    assert status(ledger, reply) == "sending"
    assert any("Sent" in e and "ありません" in e for e in report.errors)
    assert smtp_server.messages == []


class _DropAfterData:
    """A real TCP server speaking just enough SMTP to take a mail, then dropping the connection
    instead of answering the final dot: the client cannot know whether the mail was accepted."""

    def __init__(self) -> None:
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        self.received = 0
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self) -> None:
        conn, _ = self.sock.accept()
        with conn, conn.makefile("rb") as lines:
            conn.sendall(b"220 drop.test ESMTP\r\n")
            for line in lines:
                verb = line[:4].upper()
                if verb in (b"EHLO", b"HELO"):
                    conn.sendall(b"250 drop.test\r\n")
                elif verb in (b"MAIL", b"RCPT"):
                    conn.sendall(b"250 OK\r\n")
                elif verb == b"DATA":
                    conn.sendall(b"354 go ahead\r\n")
                    for body_line in lines:
                        if body_line == b".\r\n":
                            self.received += 1
                            return  # hang up: no 250, no 4xx
                else:
                    conn.sendall(b"250 OK\r\n")

    def close(self) -> None:
        self.sock.close()


@pytest.fixture
def dropping_server() -> Iterator[_DropAfterData]:
    server = _DropAfterData()
    yield server
    server.close()


def test_connection_lost_after_data_is_never_retried_blindly(tmp_path, dropping_server):
    ledger = open_ledger(tmp_path)
    reply = add_reply(ledger)
    # The hang-up comes at once; the timeout only bounds a wedged test server.
    config = ServerConfig(host="127.0.0.1", port=dropping_server.port, tls="none", user="",
                          password=Secret(), timeout=60.0)
    report = send(ledger, config)
    assert dropping_server.received == 1
    assert report.sent == 0 and report.retrying == 0
    assert status(ledger, reply) == "sending"
    assert "outcome_unknown" in events(ledger, reply)
    # next pass, no Sent folder to ask: staff decide
    assert send(ledger, config).unknown == 1
    assert status(ledger, reply) == "unknown"


# --- Sent folder copies ------------------------------------------------------------------------


def test_every_sent_reply_is_filed_in_the_sent_folder_as_read(
        tmp_path, smtp_server, dovecot, imap_config):
    ledger = open_ledger(tmp_path)
    first = add_reply(ledger, body="①㈱ の入った本文\n")
    second = add_reply(ledger, to="b@test.example.jp")
    report = send(ledger, smtp_config(smtp_server), imap=imap_config)
    assert (report.sent, report.copies) == (2, 2)
    filed = sent_folder(dovecot)
    for reply in (first, second):
        message_id = ledger.db["replies"].get(reply)["message_id_header"]
        assert b"\\Seen" in filed[message_id]
        assert ledger.db["replies"].get(reply)["sent_copy_at"]
    assert send(ledger, smtp_config(smtp_server), imap=imap_config).copies == 0
    assert len(sent_folder(dovecot)) == 2


# --- TLS -----------------------------------------------------------------------------------------


def test_starttls_with_verified_certificate_and_auth(tmp_path, smtp_tls_server, monkeypatch):
    monkeypatch.setenv("H4_OUTGOING_PASSWORD", smtp_tls_server.password)
    ledger = open_ledger(tmp_path)
    add_reply(ledger)
    config = smtp_config(smtp_tls_server, tls="starttls", ca_file=smtp_tls_server.ca_file,
                         user="sender", password=Secret(env="H4_OUTGOING_PASSWORD"))
    assert send(ledger, config).sent == 1
    assert len(smtp_tls_server.wait_for(1)) == 1


def test_implicit_tls(tmp_path, local_ca):
    server = SmtpServer(tls="implicit", ca=local_ca)
    server.start()
    try:
        ledger = open_ledger(tmp_path)
        add_reply(ledger)
        assert send(ledger, smtp_config(server, tls="implicit", ca_file=local_ca.ca_file)).sent == 1
        assert len(server.wait_for(1)) == 1
    finally:
        server.stop()


def test_an_untrusted_certificate_is_refused_by_default(tmp_path, smtp_tls_server, monkeypatch):
    monkeypatch.setenv("H4_OUTGOING_PASSWORD", smtp_tls_server.password)
    ledger = open_ledger(tmp_path)
    reply = add_reply(ledger)
    config = smtp_config(smtp_tls_server, tls="starttls", user="sender",
                         password=Secret(env="H4_OUTGOING_PASSWORD"))  # no ca_file: system CAs only
    report = send(ledger, config)
    assert report.sent == 0 and "CERTIFICATE_VERIFY_FAILED" in report.errors[0]
    assert status(ledger, reply) == "queued"
    assert smtp_tls_server.messages == []


def test_wrong_password_is_reported_and_nothing_is_lost(tmp_path, smtp_tls_server, monkeypatch):
    monkeypatch.setenv("H4_OUTGOING_PASSWORD", "wrong")
    ledger = open_ledger(tmp_path)
    reply = add_reply(ledger)
    config = smtp_config(smtp_tls_server, tls="starttls", ca_file=smtp_tls_server.ca_file,
                         user="sender", password=Secret(env="H4_OUTGOING_PASSWORD"))
    report = send(ledger, config)
    assert "ログインできません" in report.errors[0]
    assert status(ledger, reply) == "queued"


def test_iso_2022_jp_reply_arrives_as_written(tmp_path, smtp_server):

    ledger = open_ledger(tmp_path)
    body = "①番の書類を受け付けました。㈱テスト\n"
    raw = compose(from_addr=OURS, from_name="事務局", to_addr="a@test.example.jp",
                  subject="【受付確認】①", body=body, message_id="<renkei-intake.9.receipt@x>",
                  in_reply_to=None, references=(), date=datetime.now(UTC), charset="iso-2022-jp")
    submission = ledger.db["submissions"].insert({
        "kind": "submission", "state": "checked", "created_at": "x", "updated_at": "x"}).last_pk
    queue(ledger, QueuedReply(submission, "receipt", "a@test.example.jp", "【受付確認】①",
                              "<renkei-intake.9.receipt@x>", raw, IN_HOURS, False,
                              charset="iso-2022-jp"))
    assert send(ledger, smtp_config(smtp_server)).sent == 1
    (mail,) = smtp_server.wait_for(1)
    jis, original = (p for p in mail.message.walk() if p.get_content_maintype() == "text")
    assert jis.get_content_charset() == "iso-2022-jp"
    assert jis.get_payload(decode=True).decode("iso2022_jp") == "(1)番の書類を受け付けました。(株)テスト\r\n"
    assert original.get_payload(decode=True).decode("utf-8").replace("\r\n", "\n") == body
    assert ledger.db["replies"].get(1)["charset"] == "iso-2022-jp"
