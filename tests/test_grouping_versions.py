"""Versions and parts when more than one person at the applicant sends: the mails of one
consortium from the 幹事社 contact and a colleague at the same company, made with the standard
library's email package the way Outlook (multipart, ISO-2022-JP, RFC 2231 names) and Thunderbird
(UTF-8) make them, replayed from a Maildir, from Dovecot, in shuffled order, and taken by the
daemon as they arrive.

What the secretariat expects (README, "Grouping"):
- a later full set is a new version whoever sends it (DUPLICATE_SUBMISSION when an earlier one
  was complete; the latest complete version wins), answered to the one who sent it;
- a marked part ((2/2), その2) or the documents an incomplete submission lacked join it, from a
  colleague too; the same files sent twice are one version; a colleague's password opens the
  archive;
- one receipt per version, never two.
"""

from __future__ import annotations

import io
import os
import random
import signal
import sqlite3
import time
import zipfile
from datetime import UTC, datetime, timedelta
from email.header import Header
from email.message import EmailMessage
from email.mime.application import MIMEApplication
from email.mime.multipart import MIMEMultipart
from email.mime.text import MIMEText
from email.utils import format_datetime, formataddr
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ingest.cli import main
from tests.archive_factory import build_aes_zip
from tests.mails import CORE, LEAD, documents
from tests.test_daemon import start_daemon
from tests.test_order import projection, write_mbox

DOMAIN = LEAD.split("@")[1]
TANAKA = LEAD  # the 幹事社 contact named in the forms
SATO = f"sato@{DOMAIN}"  # a colleague at the same company
PEOPLE = {TANAKA: ("港 一郎", "代表取締役"), SATO: ("佐藤 花子", "総務部 主任")}
DAY = datetime(2022, 8, 18, 1, 0, tzinfo=UTC)  # 10:00 JST, inside the default period


def body(sender: str) -> str:
    name, role = PEOPLE[sender]
    return ("令和4年度「共創型サービスIT連携支援事業」事務局 御中\n\n"
            f"会社名：株式会社みなと精機\n役職：{role}\n氏名：{name}\n"
            f"メールアドレス：{sender}\n電話番号：045-123-4567\n")


def outlook(subject: str, sender: str, files: dict[str, bytes], moment: datetime,
            tag: str) -> bytes:
    """Outlook: multipart/mixed, the body in ISO-2022-JP, file names in RFC 2231."""
    outer = MIMEMultipart()
    outer["Received"] = f"from mx.{DOMAIN} by mx.example.go.jp; {format_datetime(moment)}"
    outer["From"] = formataddr((PEOPLE[sender][0], sender), charset="iso-2022-jp")
    outer["To"] = formataddr(("令和4年度「共創型サービスIT連携支援事業」事務局",
                              "it-renkei@example.go.jp"), charset="iso-2022-jp")
    outer["Subject"] = Header(subject, "iso-2022-jp").encode()
    outer["Message-ID"] = f"<{tag}@{DOMAIN}>"
    outer["Date"] = format_datetime(moment)
    outer.attach(MIMEText(body(sender), "plain", "iso-2022-jp"))
    for name, data in files.items():
        part = MIMEApplication(data)
        part.add_header("Content-Disposition", "attachment", filename=("utf-8", "", name))
        outer.attach(part)
    return outer.as_bytes()


def thunderbird(subject: str, sender: str, text: str, moment: datetime, tag: str,
                files: dict[str, bytes] | None = None) -> bytes:
    """Thunderbird: UTF-8 throughout, attachments added to the message."""
    msg = EmailMessage()
    msg["Received"] = f"from mx.{DOMAIN} by mx.example.go.jp; {format_datetime(moment)}"
    msg["From"] = f"{PEOPLE[sender][0]} <{sender}>"
    msg["To"] = "it-renkei@example.go.jp"
    msg["Subject"] = subject
    msg["Message-ID"] = f"<{tag}@{DOMAIN}>"
    msg["Date"] = format_datetime(moment)
    msg.set_content(text)
    for name, data in (files or {}).items():
        msg.add_attachment(data, maintype="application", subtype="octet-stream", filename=name)
    return msg.as_bytes()


def zipped(files: dict[str, bytes]) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in files.items():
            archive.writestr(f"申請書類/{name}", data)
    return out.getvalue()


def split(files: dict[str, bytes], at: int) -> tuple[dict[str, bytes], dict[str, bytes]]:
    names = list(files)
    return {n: files[n] for n in names[:at]}, {n: files[n] for n in names[at:]}


def season(start: datetime) -> dict[str, list[bytes]]:
    """Each consortium's mails, in the order they were received (minutes after `start`)."""

    def at(minutes: int) -> datetime:
        return start + timedelta(minutes=minutes)

    def subject(name: str, extra: str = "") -> str:
        return f"<{name}>{CORE}{extra}"

    mails: dict[str, list[bytes]] = {}
    # A full set, then a revised full set (zipped) from a colleague three hours later.
    name = "別アドレス再提出コンソーシアム"
    files = documents(name)
    mails[name] = [outlook(subject(name), TANAKA, files, at(0), "again-1"),
                   outlook(subject(name), SATO, {"申請書類一式.zip": zipped(files)}, at(180),
                           "again-2")]
    # A two-part split, the second part sent by the colleague.
    name = "同僚分割コンソーシアム"
    first, second = split(documents(name), 7)
    mails[name] = [outlook(subject(name, "(1/2)"), TANAKA, first, at(5), "pair-1"),
                   outlook(subject(name, "(2/2)"), SATO, second, at(25), "pair-2")]
    # The first mail unmarked, the second 「その2」 from the colleague.
    name = "続き送付コンソーシアム"
    first, second = split(documents(name), 4)
    mails[name] = [thunderbird(subject(name), TANAKA, body(TANAKA), at(10), "sono-1", first),
                   thunderbird(subject(name, " その2"), SATO, body(SATO), at(14), "sono-2", second)]
    # Three documents forgotten; the colleague sends just those two hours later.
    name = "追送コンソーシアム"
    first, second = split(documents(name), 13)
    mails[name] = [outlook(subject(name), TANAKA, first, at(15), "late-1"),
                   thunderbird("Re: " + subject(name), SATO,
                               "先ほど添付が漏れておりました書類をお送りします。\n\n" + body(SATO),
                               at(135), "late-2", second)]
    # Three documents forgotten; an hour later the colleague sends the whole set again.
    name = "一式再送コンソーシアム"
    files = documents(name)
    first, _rest = split(files, 13)
    mails[name] = [outlook(subject(name), TANAKA, first, at(20), "whole-1"),
                   outlook(subject(name), SATO, {"申請書類一式.zip": zipped(files)}, at(80),
                           "whole-2")]
    # An encrypted archive; the colleague sends its password.
    name = "同僚パスワードコンソーシアム"
    archive = build_aes_zip([(f"申請書類/{n}".encode("cp932"), d)
                             for n, d in documents(name).items()], b"Minato#0818")
    mails[name] = [outlook(subject(name), TANAKA, {"申請書類.zip": archive}, at(30), "locked"),
                   thunderbird("パスワードのご連絡", SATO,
                               "弊社港より送付いたしました申請書類のパスワードです。\n\n"
                               "パスワード：Minato#0818\n", at(33), "locked-pw")]
    # The same files sent twice, by both, a few minutes apart.
    name = "二重送信コンソーシアム"
    files = documents(name)
    mails[name] = [outlook(subject(name), TANAKA, files, at(40), "twice-1"),
                   outlook(subject(name), SATO, files, at(44), "twice-2")]
    # A full set; an hour later the colleague replaces one document.
    name = "差し替えコンソーシアム"
    files = documents(name)
    summary = next(n for n in files if n.startswith("5_"))
    mails[name] = [outlook(subject(name), TANAKA, files, at(50), "swap-1"),
                   thunderbird("Re: " + subject(name), SATO,
                               "補助事業概要書を差し替えさせてください。\n\n" + body(SATO), at(110),
                               "swap-2", {summary: files[summary] + b"% revised\n"})]
    # The colleague sends the password before the archive goes out.
    name = "先行同僚パスワードコンソーシアム"
    archive = build_aes_zip([(f"申請書類/{n}".encode("cp932"), d)
                             for n, d in documents(name).items()], b"Early#0818")
    mails[name] = [thunderbird("【パスワード】申請書類.zip", SATO, "パスワード：Early#0818\n", at(60),
                               "early-pw"),
                   outlook(subject(name), TANAKA, {"申請書類.zip": archive}, at(62), "early")]
    # The colleague's archive waits for its password while the contact sends the password of
    # another consortium's archive a minute ahead of it: each password opens its own archive.
    name, other = "名指しパスワードコンソーシアム", "同僚暗号コンソーシアム"
    mails[other] = [
        outlook(subject(other), SATO, {"申請書類.zip": build_aes_zip(
            [(f"申請書類/{n}".encode("cp932"), d) for n, d in documents(other).items()],
            b"Sato#0818")}, at(70), "sato-zip"),
        thunderbird("【パスワード】" + subject(other), SATO, "パスワード：Sato#0818\n", at(75),
                    "sato-pw")]
    mails[name] = [
        thunderbird("【パスワード】" + subject(name), TANAKA, "パスワード：Named#0818\n", at(71),
                    "named-pw"),
        outlook(subject(name), TANAKA, {"申請書類.zip": build_aes_zip(
            [(f"申請書類/{n}".encode("cp932"), d) for n, d in documents(name).items()],
            b"Named#0818")}, at(72), "named-zip")]
    return mails


def everything(start: datetime = DAY) -> list[bytes]:
    return [raw for group in season(start).values() for raw in group]


def replies(ledger: Path) -> dict[str, list[tuple[int, str, str, str]]]:
    """Per consortium: (version, reply kind, recipient, status), in version order."""
    db = sqlite3.connect(f"file:{ledger}?mode=ro", uri=True)
    try:
        out: dict[str, list[tuple[int, str, str, str]]] = {}
        for consortium, version, kind, to, status in db.execute(
                "SELECT s.consortium, s.version, r.kind, lower(r.to_addr), r.status "
                "FROM replies r JOIN submissions s ON s.id = r.submission_id "
                "ORDER BY s.consortium, s.version, r.id"):
            out.setdefault(consortium, []).append((version, kind, to, status))
        return out
    finally:
        db.close()


def versions(ledger: Path) -> dict[str, list[tuple[int, tuple[str, ...], str, list[str], int | None]]]:
    """Per consortium: (version, Message-IDs of its mails, outcome, finding codes, the version
    that superseded it)."""
    db = sqlite3.connect(f"file:{ledger}?mode=ro", uri=True)
    try:
        out: dict[str, list] = {}
        for sub, consortium, version, outcome, winner in db.execute(
                "SELECT s.id, s.consortium, s.version, s.outcome, w.version FROM submissions s "
                "LEFT JOIN submissions w ON w.id = s.superseded_by "
                "WHERE s.kind = 'submission' ORDER BY s.consortium, s.version"):
            mails = tuple(sorted(r[0].strip("<>").split("@")[0] for r in db.execute(
                "SELECT message_id_header FROM messages WHERE submission_id = ?", [sub])))
            codes = sorted({r[0] for r in db.execute(
                "SELECT code FROM findings WHERE submission_id = ?", [sub])})
            out.setdefault(consortium, []).append((version, mails, outcome, codes, winner))
        return out
    finally:
        db.close()


def assert_grouping(ledger: Path) -> None:
    """The grouping a secretariat expects from `season`."""
    got = versions(ledger)
    assert got["別アドレス再提出コンソーシアム"] == [
        (1, ("again-1",), "complete", [], 2),
        (2, ("again-2",), "complete", ["DUPLICATE_SUBMISSION"], None)]
    assert got["同僚分割コンソーシアム"] == [(1, ("pair-1", "pair-2"), "complete", [], None)]
    assert got["続き送付コンソーシアム"] == [(1, ("sono-1", "sono-2"), "complete", [], None)]
    assert got["追送コンソーシアム"] == [(1, ("late-1", "late-2"), "complete", [], None)]
    whole = got["一式再送コンソーシアム"]
    assert [(v[0], v[1], v[2], v[4]) for v in whole] == [
        (1, ("whole-1",), "deficient", 2), (2, ("whole-2",), "complete", None)]
    assert "DOCUMENT_MISSING" in whole[0][3] and whole[1][3] == []
    assert got["同僚パスワードコンソーシアム"] == [
        (1, ("locked", "locked-pw"), "complete", [], None)]
    assert got["二重送信コンソーシアム"] == [(1, ("twice-1", "twice-2"), "complete", [], None)]
    assert got["差し替えコンソーシアム"] == [(1, ("swap-1", "swap-2"), "complete", [], None)]
    assert got["先行同僚パスワードコンソーシアム"] == [
        (1, ("early", "early-pw"), "complete", [], None)]
    assert got["名指しパスワードコンソーシアム"] == [
        (1, ("named-pw", "named-zip"), "complete", [], None)]
    assert got["同僚暗号コンソーシアム"] == [(1, ("sato-pw", "sato-zip"), "complete", [], None)]


def assert_replies(ledger: Path, done: str) -> None:
    """Each version answered once, to the one who sent it; the notice a later full set made
    needless is withdrawn before it goes out."""
    got = replies(ledger)
    assert got["別アドレス再提出コンソーシアム"] == [(1, "receipt", TANAKA, done),
                                            (2, "receipt", SATO, done)]
    for name in ("同僚分割コンソーシアム", "続き送付コンソーシアム", "追送コンソーシアム",
                 "同僚パスワードコンソーシアム", "二重送信コンソーシアム", "差し替えコンソーシアム",
                 "先行同僚パスワードコンソーシアム"):
        assert got[name] == [(1, "receipt", TANAKA, done)], (name, got[name])
    assert got["名指しパスワードコンソーシアム"] == [(1, "receipt", TANAKA, done)]
    assert got["同僚暗号コンソーシアム"] == [(1, "receipt", SATO, done)]
    assert got["一式再送コンソーシアム"] == [(1, "deficiency", TANAKA, "cancelled"),
                                      (2, "receipt", SATO, done)]


def write_config(tmp: Path, extra: str = "") -> Path:
    """Send at any hour, no approval step; more than five replies a day may go to the 幹事社
    contact, who started most of these submissions."""
    path = tmp / "config.toml"
    path.write_text("\n".join([
        "[paths]", 'ledger = "ledger.db"', 'blobs = "blobs"', 'outbox = "outbox"',
        "[replies]", "business_hours_only = false", "approve_deficiencies = false",
        "max_replies_per_recipient_per_day = 50",
    ]) + "\n" + extra, encoding="utf-8")
    return path


def replay(tmp: Path, source: Path) -> Path:
    config = write_config(tmp)
    assert main(["--config", str(config), "replay", str(source)]) == 0
    return tmp / "ledger.db"


def maildir(path: Path, mails: list[bytes]) -> Path:
    for sub in ("cur", "new", "tmp"):
        (path / sub).mkdir(parents=True)
    for n, raw in enumerate(mails):
        (path / ("new" if n % 3 else "cur") / f"{1660780800 + n}.M{n}P7.mx:2,S").write_bytes(raw)
    return path


@pytest.fixture(scope="module")
def maildir_ledger(tmp_path_factory: pytest.TempPathFactory) -> Path:
    tmp = tmp_path_factory.mktemp("versions")
    return replay(tmp, maildir(tmp / "Maildir", everything()))


def test_a_maildir_replay_groups_as_the_secretariat_expects(maildir_ledger):
    assert_grouping(maildir_ledger)
    assert_replies(maildir_ledger, "written")
    files = sorted(p.name for p in (maildir_ledger.parent / "outbox").glob("*.eml"))
    assert len(files) == 12 and not any("deficiency" in f for f in files), files


def test_the_later_version_is_answered_to_its_own_sender(maildir_ledger):
    from email import message_from_bytes
    from email.policy import default

    db = sqlite3.connect(f"file:{maildir_ledger}?mode=ro", uri=True)
    try:
        path, = db.execute(
            "SELECT r.message_id_header FROM replies r JOIN submissions s ON s.id = r.submission_id "
            "WHERE s.consortium = '別アドレス再提出コンソーシアム' AND s.version = 2").fetchone()
    finally:
        db.close()
    sent = next(message_from_bytes(p.read_bytes(), policy=default)
                for p in (maildir_ledger.parent / "outbox").glob("*.eml")
                if path in p.read_text(errors="replace"))
    assert sent["To"].addresses[0].addr_spec == SATO
    assert sent["In-Reply-To"] == f"<again-2@{DOMAIN}>"
    text = sent.get_body(("plain",)).get_content()
    assert "佐藤 花子 様" in text and "以前のご提出" in text


@settings(max_examples=3, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(seed=st.integers(0, 2**32 - 1))
def test_any_order_of_the_mailbox_gives_the_same_ledger(maildir_ledger, tmp_path_factory, seed):
    tmp = tmp_path_factory.mktemp("shuffled")
    mails = everything()
    shuffled = random.Random(seed).sample(mails, len(mails))
    assert projection(replay(tmp, write_mbox(tmp / "m.mbox", shuffled))) == \
        projection(maildir_ledger)


def test_imap_folder_in_any_uid_order_gives_the_same_ledger(maildir_ledger, dovecot, tmp_path):
    from parsers.mime import envelope

    mails = everything()
    for raw in random.Random(3).sample(mails, len(mails)):
        dovecot.deliver(raw, internaldate=envelope(raw).received)
    config = write_config(tmp_path, "\n".join([
        "[imap]", f'host = "{dovecot.host}"', f"port = {dovecot.port}", 'tls = "none"',
        f'user = "{dovecot.user}"', 'password_env = "VERSIONS_IMAP_PASSWORD"', ""]))
    os.environ["VERSIONS_IMAP_PASSWORD"] = dovecot.password
    assert main(["--config", str(config), "poll", "--once"]) == 0
    assert projection(tmp_path / "ledger.db") == projection(maildir_ledger)


def _wait(condition, what: str, log: Path, timeout: float = 600) -> None:  # noqa: ANN001
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.3)
    raise AssertionError(f"{what} did not happen; daemon log:\n{log.read_text()[-3000:]}")


def _answered(ledger: Path, n: int) -> bool:
    if not ledger.exists():
        return False
    try:
        with sqlite3.connect(ledger) as db:
            return db.execute("SELECT count(*) FROM replies WHERE status = 'sent'"
                              ).fetchone()[0] >= n
    except sqlite3.OperationalError:
        return False


def test_the_daemon_groups_mails_as_they_arrive_like_the_replay(dovecot, smtp_server, tmp_path):
    """Live: each consortium's first mail is answered before its second arrives (the
    submission is no longer open), and the grouping is still the replay's."""
    now = datetime.now(UTC).replace(microsecond=0)
    groups = season(now - timedelta(hours=4))
    config = write_config(tmp_path, "\n".join([
        "[imap]", f'host = "{dovecot.host}"', f"port = {dovecot.port}", 'tls = "none"',
        f'user = "{dovecot.user}"', 'password_env = "VERSIONS_IMAP_PASSWORD"',
        "[smtp]", f'host = "{smtp_server.host}"', f"port = {smtp_server.port}", 'tls = "none"',
        'user = ""', "[submissions]", "settle_minutes = 0", "[daemon]",
        "poll_interval_seconds = 2", "[program]",
        'period_start = "2020-01-01T00:00:00+09:00"', 'period_end = "2039-12-31T23:59:59+09:00"',
        ""]))
    os.environ["VERSIONS_IMAP_PASSWORD"] = dovecot.password
    ledger, log = tmp_path / "ledger.db", tmp_path / "daemon.log"
    from parsers.mime import envelope

    firsts = ("別アドレス再提出コンソーシアム", "追送コンソーシアム", "一式再送コンソーシアム")
    daemon = start_daemon(config, log)
    try:
        for name in firsts:  # each answered: a receipt, a deficiency, a deficiency
            raw = groups[name][0]
            dovecot.deliver(raw, internaldate=envelope(raw).received)
        _wait(lambda: _answered(ledger, 3), "the first mails' replies", log)
        for name in firsts:
            raw = groups[name][1]
            dovecot.deliver(raw, internaldate=envelope(raw).received)
        _wait(lambda: _answered(ledger, 6), "the second mails' replies", log)
    finally:
        daemon.send_signal(signal.SIGTERM)
        assert daemon.wait(timeout=600) == 0, log.read_text()[-3000:]
    got = versions(ledger)
    assert got["別アドレス再提出コンソーシアム"] == [
        (1, ("again-1",), "complete", [], 2),
        (2, ("again-2",), "complete", ["DUPLICATE_SUBMISSION"], None)]
    # The forgotten documents join the submission already answered with a deficiency notice.
    assert got["追送コンソーシアム"] == [(1, ("late-1", "late-2"), "complete", [], None)]
    whole = got["一式再送コンソーシアム"]
    assert [(v[0], v[1], v[2], v[4]) for v in whole] == [
        (1, ("whole-1",), "deficient", 2), (2, ("whole-2",), "complete", None)]
    sent = replies(ledger)
    assert sent["別アドレス再提出コンソーシアム"] == [(1, "receipt", TANAKA, "sent"),
                                             (2, "receipt", SATO, "sent")]
    # The notice had gone out before the rest came: then the receipt, to the same person.
    assert sent["追送コンソーシアム"] == [(1, "deficiency", TANAKA, "sent"),
                                    (1, "receipt", TANAKA, "sent")]
    assert sent["一式再送コンソーシアム"] == [(1, "deficiency", TANAKA, "sent"),
                                      (2, "receipt", SATO, "sent")]
    received = [(m.rcpt_tos[0].lower(), str(m.message["Subject"])) for m in smtp_server.messages]
    assert len(received) == len(set(received)) == 6, received  # nobody got a mail twice


def test_a_resend_joins_a_mail_filed_before_attachment_hashes_were_kept(tmp_path):
    """A ledger from before the attachment hashes were kept in each mail's facts: the same files
    sent again by a colleague are still recognised (from the stored mail) as the same version."""
    name = "二重送信コンソーシアム"
    files = documents(name)
    subject = f"<{name}>{CORE}"
    first = outlook(subject, TANAKA, files, DAY, "upgrade-1")
    again = outlook(subject, SATO, files, DAY + timedelta(minutes=4), "upgrade-2")
    ledger = replay(tmp_path / "one", maildir(tmp_path / "one" / "Maildir", [first]))
    with sqlite3.connect(ledger) as db:
        db.execute("UPDATE messages SET facts = json_remove(facts, '$.attachment_sha256')")
    config = tmp_path / "one" / "config.toml"
    assert main(["--config", str(config), "replay",
                 str(maildir(tmp_path / "two" / "Maildir", [again]))]) == 0
    with sqlite3.connect(ledger) as db:
        submissions = db.execute(
            "SELECT count(*) FROM submissions WHERE kind = 'submission'").fetchone()[0]
        receipts = db.execute("SELECT count(*) FROM replies WHERE kind = 'receipt'").fetchone()[0]
        joined = db.execute("SELECT count(DISTINCT submission_id) FROM messages "
                            "WHERE message_id_header LIKE '<upgrade-%'").fetchone()[0]
    assert (submissions, receipts, joined) == (1, 1, 1)


def test_a_part_grouped_without_an_earlier_reading_is_read_then(tmp_path):
    """When the grouping was not asked before the write lock (another process filed a mail of
    the consortium in between), it reads the mail's attachments itself."""
    from ingest.app import open_ledger
    from ingest.config import load_settings
    from ingest.grouping import submission_for_part
    from parsers.mime import Attachment
    from parsers.subject import parse_subject

    name = "二重送信コンソーシアム"
    subject = f"<{name}>{CORE}"
    ledger_path = replay(tmp_path, maildir(tmp_path / "Maildir", [
        outlook(subject, TANAKA, documents(name), DAY, "race-1")]))
    settings = load_settings(tmp_path / "config.toml")
    ledger = open_ledger(settings)
    try:
        first = ledger.db.execute("SELECT submission_id FROM messages").fetchone()[0]
        added = [Attachment("追加資料.pdf", "application/pdf", b"%PDF-1.4\n%%EOF\n")]
        chosen = submission_for_part(
            ledger, settings, key=parse_subject(subject, settings.program.subject_core)
            .consortium_key, sender=SATO, received_at=DAY + timedelta(minutes=5),
            subject=parse_subject(subject, settings.program.subject_core), attachments=added)
    finally:
        ledger.close()
    assert ledger_path.exists() and chosen == first  # documents added to the latest version
