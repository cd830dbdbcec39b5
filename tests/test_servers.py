"""The test servers themselves: real Dovecot and aiosmtpd behave as the other tests assume."""

from __future__ import annotations

import smtplib
import socket
import ssl
import time
from datetime import UTC, datetime, timedelta, timezone
from email.message import EmailMessage
from pathlib import Path

import imapclient
import pytest
from imapclient.exceptions import LoginError

from tests.servers import (
    DovecotDaemon,
    DovecotServer,
    LocalCA,
    SmtpServer,
    _children,
    _group_alive,
    _group_members,
)

JST = timezone(timedelta(hours=9))


def _mail(n: int) -> bytes:
    # CRLF line endings: Dovecot serves CRLF, so the fetched bytes equal these exactly.
    return (f"From: applicant{n}@example.co.jp\r\nTo: it-renkei@example.jp\r\n"
            f"Subject: test {n}\r\nMessage-ID: <m{n}@example.co.jp>\r\n\r\nbody {n}\r\n").encode()


def _fetch_all(server: DovecotServer, folder: str = "INBOX") -> dict[int, dict[bytes, object]]:
    with server.client() as imap:
        imap.select_folder(folder, readonly=True)
        uids = imap.search("ALL")
        return imap.fetch(uids, [b"BODY.PEEK[]", b"INTERNALDATE", b"FLAGS"]) if uids else {}


def test_deliver_then_fetch_by_uid_with_internaldate(dovecot: DovecotServer) -> None:
    dates = [datetime(2022, 8, 3, 0, 0, 5, tzinfo=JST), datetime(2022, 9, 9, 23, 59, tzinfo=JST),
             datetime(2022, 9, 10, 0, 0, 1, tzinfo=UTC)]
    uids = [dovecot.deliver(_mail(i), internaldate=d, flags=["\\Seen"] if i == 1 else ())
            for i, d in enumerate(dates)]
    assert uids == sorted(uids) and len(set(uids)) == 3

    fetched = _fetch_all(dovecot)
    assert sorted(fetched) == uids
    for i, (uid, date) in enumerate(zip(uids, dates, strict=True)):
        assert fetched[uid][b"BODY[]"] == _mail(i)
        assert fetched[uid][b"INTERNALDATE"] == date  # aware datetimes: same instant
    assert b"\\Seen" in fetched[uids[1]][b"FLAGS"]
    assert b"\\Seen" not in fetched[uids[0]][b"FLAGS"]


def test_deliver_refuses_naive_internaldate(dovecot: DovecotServer) -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        dovecot.deliver(_mail(0), internaldate=datetime(2022, 8, 3))


def test_deliver_creates_missing_folder(dovecot: DovecotServer) -> None:
    uid = dovecot.deliver(_mail(7), folder="処理済み")
    assert list(_fetch_all(dovecot, "処理済み")) == [uid]


def test_each_test_gets_its_own_empty_account(dovecot: DovecotServer) -> None:
    assert _fetch_all(dovecot) == {}
    with dovecot.client() as imap:
        assert imap.list_folders() == [((b"\\HasNoChildren",), b".", "INBOX")]


def test_wrong_password_is_refused(dovecot: DovecotServer) -> None:
    imap = imapclient.IMAPClient(dovecot.host, dovecot.port, ssl=False, timeout=5)
    try:
        with pytest.raises(LoginError):
            imap.login(dovecot.user, dovecot.password + "x")
    finally:
        imap.shutdown()


def test_restart_keeps_mail_and_uidvalidity(dovecot: DovecotServer) -> None:
    uids = [dovecot.deliver(_mail(i)) for i in range(3)]
    validity = dovecot.uidvalidity()
    dovecot.restart()
    assert sorted(_fetch_all(dovecot)) == uids
    assert dovecot.uidvalidity() == validity


def test_stop_leaves_no_process_and_start_serves_again(dovecot: DovecotServer) -> None:
    uid = dovecot.deliver(_mail(1))
    master = dovecot.daemon._process
    assert master is not None and _children(master.pid)
    dovecot.stop()
    assert _group_members(master.pid, live_only=True) == {}
    with pytest.raises(OSError):
        imapclient.IMAPClient(dovecot.host, dovecot.port, ssl=False, timeout=2)
    dovecot.start()
    assert list(_fetch_all(dovecot)) == [uid]


def test_missing_dovecot_fails_with_the_install_hint(tmp_path: Path) -> None:
    with pytest.raises(pytest.fail.Exception, match=r"not installed.*README\.md"):
        DovecotDaemon(tmp_path, binary=str(tmp_path / "no-such-dovecot"))


def test_first_start_moves_off_a_port_someone_else_took() -> None:
    daemon = DovecotDaemon()
    with socket.socket() as squatter:
        squatter.bind((daemon.host, 0))
        squatter.listen()
        daemon.port = squatter.getsockname()[1]
        daemon.conf_path.write_text(daemon._config())
        try:
            daemon.start()
            assert daemon.port != squatter.getsockname()[1]
            server = DovecotServer(daemon, *daemon.new_user())
            assert server.deliver(_mail(1)) == 1
            server.close()
        finally:
            daemon.close()


def test_daemon_close_leaves_no_process_and_no_files(tmp_path: Path) -> None:
    # A daemon of its own, so the session's server keeps running for the other tests.
    daemon = DovecotDaemon()
    daemon.start()
    server = DovecotServer(daemon, *daemon.new_user())
    server.deliver(_mail(1))
    assert daemon._process is not None
    group = daemon._process.pid
    server.close()
    daemon.close(keep_log_in=tmp_path)
    assert not _group_alive(group)
    assert not daemon.running
    assert not daemon.root.exists()
    assert f"user=<{server.user}>" in (tmp_path / "dovecot.log").read_text()


@pytest.mark.parametrize("folder", ["INBOX", "Archive"])
def test_recreate_folder_changes_uidvalidity_and_keeps_messages(
        dovecot: DovecotServer, folder: str) -> None:
    date = datetime(2022, 8, 20, 10, 30, tzinfo=JST)
    for i in range(3):
        dovecot.deliver(_mail(i), folder=folder, internaldate=date + timedelta(minutes=i),
                        flags=["\\Seen"] if i == 2 else ())
    before = dovecot.uidvalidity(folder)

    dovecot.recreate_folder(folder)

    assert dovecot.uidvalidity(folder) != before
    fetched = _fetch_all(dovecot, folder)
    assert sorted(fetched) == [1, 2, 3]  # a new mailbox numbers from 1 again
    for i, uid in enumerate(sorted(fetched)):
        assert fetched[uid][b"BODY[]"] == _mail(i)
        assert fetched[uid][b"INTERNALDATE"] == date + timedelta(minutes=i)
    assert b"\\Seen" in fetched[3][b"FLAGS"]
    assert dovecot.deliver(_mail(9), folder=folder) == 4


def test_recreate_inbox_leaves_other_folders_alone(dovecot: DovecotServer) -> None:
    archived = dovecot.deliver(_mail(1), folder="Archive")
    archive_validity = dovecot.uidvalidity("Archive")
    dovecot.deliver(_mail(2))
    dovecot.recreate_folder("INBOX")
    assert dovecot.uidvalidity("Archive") == archive_validity
    assert list(_fetch_all(dovecot, "Archive")) == [archived]


def _email(subject: str) -> EmailMessage:
    message = EmailMessage()
    message["From"] = "it-renkei@example.jp"
    message["To"] = "applicant@example.co.jp"
    message["Subject"] = subject
    message.set_content("受付確認です。")
    return message


def test_smtp_receives_mail_sent_with_smtplib(smtp_server: SmtpServer) -> None:
    with smtplib.SMTP(smtp_server.host, smtp_server.port, timeout=5) as smtp:
        smtp.send_message(_email("受付確認"))
    (received,) = smtp_server.wait_for(1)
    assert received.mail_from == "it-renkei@example.jp"
    assert received.rcpt_tos == ["applicant@example.co.jp"]
    assert received.message["Subject"] == "受付確認"
    assert "受付確認です。" in received.message.get_content()
    assert received.data.startswith(b"From: it-renkei@example.jp")


def test_fail_next_451_then_next_send_succeeds(smtp_server: SmtpServer) -> None:
    smtp_server.fail_next(451, "4.3.0 try again later")
    with smtplib.SMTP(smtp_server.host, smtp_server.port, timeout=5) as smtp:
        with pytest.raises(smtplib.SMTPDataError) as refused:
            smtp.send_message(_email("first"))
        assert refused.value.smtp_code == 451
        assert b"try again later" in refused.value.smtp_error
        smtp.send_message(_email("second"))
    assert [m.message["Subject"] for m in smtp_server.wait_for(1)] == ["second"]


def test_fail_next_count_and_permanent_code(smtp_server: SmtpServer) -> None:
    smtp_server.fail_next(550, "5.7.1 rejected", count=2)
    with smtplib.SMTP(smtp_server.host, smtp_server.port, timeout=5) as smtp:
        for _ in range(2):
            with pytest.raises(smtplib.SMTPDataError) as refused:
                smtp.send_message(_email("x"))
            assert refused.value.smtp_code == 550
        smtp.send_message(_email("third"))
    assert len(smtp_server.wait_for(1)) == 1


def test_wait_for_times_out_with_a_clear_message(smtp_server: SmtpServer) -> None:
    started = time.monotonic()
    with pytest.raises(AssertionError, match="expected 1 mails within 0.2 s, got 0"):
        smtp_server.wait_for(1, timeout=0.2)
    assert time.monotonic() - started < 30  # it gave up, it did not hang


# -- TLS ------------------------------------------------------------------------------------


def test_imap_tls_refuses_client_without_the_ca(dovecot_tls: DovecotServer) -> None:
    assert dovecot_tls.tls_port is not None
    with pytest.raises(ssl.SSLCertVerificationError):
        imapclient.IMAPClient(dovecot_tls.host, dovecot_tls.tls_port, ssl=True,
                              ssl_context=ssl.create_default_context(), timeout=5)


def test_imap_tls_accepts_client_trusting_the_ca(dovecot_tls: DovecotServer) -> None:
    assert dovecot_tls.ca_file is not None and dovecot_tls.tls_port is not None
    uid = dovecot_tls.deliver(_mail(1))
    context = ssl.create_default_context(cafile=str(dovecot_tls.ca_file))
    with imapclient.IMAPClient(dovecot_tls.host, dovecot_tls.tls_port, ssl=True,
                               ssl_context=context, timeout=5) as imap:
        imap.login(dovecot_tls.user, dovecot_tls.password)
        imap.select_folder("INBOX")
        assert imap.search("ALL") == [uid]


def test_imap_starttls_verifies_the_certificate(dovecot_tls: DovecotServer) -> None:
    assert dovecot_tls.ca_file is not None
    with imapclient.IMAPClient(dovecot_tls.host, dovecot_tls.port, ssl=False, timeout=5) as imap:
        assert b"STARTTLS" in imap.capabilities()
        with pytest.raises(ssl.SSLCertVerificationError):
            imap.starttls(ssl.create_default_context())
    with imapclient.IMAPClient(dovecot_tls.host, dovecot_tls.port, ssl=False, timeout=5) as imap:
        imap.starttls(ssl.create_default_context(cafile=str(dovecot_tls.ca_file)))
        imap.login(dovecot_tls.user, dovecot_tls.password)
        assert imap.select_folder("INBOX")[b"EXISTS"] == 0


def test_smtp_starttls_refuses_untrusted_and_accepts_trusted(smtp_tls_server: SmtpServer) -> None:
    with (smtplib.SMTP(smtp_tls_server.host, smtp_tls_server.port, timeout=5) as smtp,
          pytest.raises(ssl.SSLCertVerificationError)):
        smtp.starttls(context=ssl.create_default_context())
    with smtplib.SMTP(smtp_tls_server.host, smtp_tls_server.port, timeout=5) as smtp:
        smtp.starttls(context=smtp_tls_server.client_context())
        smtp.login(smtp_tls_server.user or "", smtp_tls_server.password or "")
        smtp.send_message(_email("over tls"))
    assert smtp_tls_server.wait_for(1)[0].message["Subject"] == "over tls"


def test_smtp_tls_server_requires_auth(smtp_tls_server: SmtpServer) -> None:
    with smtplib.SMTP(smtp_tls_server.host, smtp_tls_server.port, timeout=5) as smtp:
        smtp.starttls(context=smtp_tls_server.client_context())
        with pytest.raises(smtplib.SMTPAuthenticationError):
            smtp.login(smtp_tls_server.user or "", "wrong")
        with pytest.raises(smtplib.SMTPSenderRefused):
            smtp.send_message(_email("no auth"))
    assert smtp_tls_server.messages == []


def test_implicit_tls_smtp(local_ca: LocalCA) -> None:
    server = SmtpServer(tls="implicit", ca=local_ca)
    server.start()
    try:
        with smtplib.SMTP_SSL(server.host, server.port, timeout=5,
                              context=server.client_context()) as smtp:
            smtp.send_message(_email("implicit"))
        assert server.wait_for(1)[0].message["Subject"] == "implicit"
    finally:
        server.stop()
