"""The same mails give the same ledger in any order: grouping (split parts, password mails,
resubmission versions) is decided by receive time, never by the order a source lists the mails
in (an mbox written unsorted, IMAP UIDs of a mail moved into the folder later).

The mails are the sample mailbox (examples/mailbox, 13 mails from several mailers) and further
mails made with the standard library's email package the way mail programs make them: an
Outlook ISO-2022-JP submission, a three-part split, AES zips with their password sent after and
before the archive, a wrong password, two complete versions of one consortium, parts received in
the same second, a DSN bounce. Each ordering is replayed into a fresh ledger and compared through
a projection that leaves out ids (which do follow processing order).
"""

from __future__ import annotations

import mailbox
import os
import random
import re
import sqlite3
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ingest.cli import main
from parsers.mime import envelope
from tests.archive_factory import build_aes_zip
from tests.conftest import REPO
from tests.mails import BODY_OK, CORE, LEAD, documents, mail
from tests.test_grouping_acceptance import bounce, cp932_aes_zip, ms_jis_mail, plain

SAMPLE = REPO / "examples" / "mailbox"
DOMAIN = LEAD.split("@")[1]


def sample_mails() -> list[bytes]:
    return [p.read_bytes() for sub in ("cur", "new") for p in sorted((SAMPLE / sub).iterdir())]


def at(moment: datetime) -> str:
    return format_datetime(moment)


def extra_mails() -> list[bytes]:
    split = list(documents("三分割コンソーシアム").items())
    pair = list(documents("同時刻分割コンソーシアム").items())
    locked = list(documents("暗号分割コンソーシアム").items())
    resubmitted = documents("再提出コンソーシアム")
    day = datetime(2022, 8, 18, 9, 0, tzinfo=UTC)
    return [
        ms_jis_mail("㈱東海Ⅲ①連携コンソーシアム", 1),
        plain(f"<暗号化コンソーシアム>{CORE}", BODY_OK + "\nパスワードは別途お送りします。\n", "aes", 2,
              attachments={"申請書類.zip": cp932_aes_zip("暗号化コンソーシアム", b"Tokai#2022")}),
        plain("パスワードのご連絡", "先ほどの申請書類のパスワードです。\n\nパスワード：Tokai#2022\n",
              "aes-pw", 7),
        plain(f"<誤パスワードコンソーシアム>{CORE}", BODY_OK, "wrong", 10, sender=f"suzuki@{DOMAIN}",
              attachments={"書類.zip": cp932_aes_zip("誤パスワードコンソーシアム", b"right-one")}),
        plain("【パスワード】書類.zip", "パスワード: wrong-one\n", "wrong-pw", 12,
              sender=f"suzuki@{DOMAIN}"),
        plain(f"<三分割コンソーシアム>{CORE}(1/3)", BODY_OK, "split-1", 30, sender=f"ito@{DOMAIN}",
              attachments=dict(split[:5])),
        plain(f"<三分割コンソーシアム>{CORE}（2/3）", BODY_OK, "split-2", 31, sender=f"ito@{DOMAIN}",
              attachments=dict(split[5:10])),
        plain(f"<三分割コンソーシアム>{CORE}(3/3)", BODY_OK, "split-3", 33, sender=f"ito@{DOMAIN}",
              attachments=dict(split[10:])),
        bounce(40),
        # The password sent ahead of its archive.
        plain("解凍パスワード", "パスワード：early-bird\n", "early-pw", 41, sender=f"kato@{DOMAIN}"),
        plain(f"<先行パスワードコンソーシアム>{CORE}", BODY_OK, "early", 44, sender=f"kato@{DOMAIN}",
              attachments={"書類.zip": cp932_aes_zip("先行パスワードコンソーシアム", b"early-bird")}),
        # Two parts the server received in the same second.
        plain(f"<同時刻分割コンソーシアム>{CORE} その1", BODY_OK, "same-1", 50,
              sender=f"abe@{DOMAIN}", attachments=dict(pair[:6])),
        plain(f"<同時刻分割コンソーシアム>{CORE} その2", BODY_OK, "same-2", 50,
              sender=f"abe@{DOMAIN}", attachments=dict(pair[6:])),
        # A split whose second part carries the AES zip, its password sent between the parts.
        plain(f"<暗号分割コンソーシアム>{CORE}(1/2)", BODY_OK, "locked-1", 52,
              sender=f"sasaki@{DOMAIN}", attachments=dict(locked[:6])),
        plain("2通目の添付ファイルのパスワード", "パスワード：Split#Zip2\n", "locked-pw", 54,
              sender=f"sasaki@{DOMAIN}"),
        plain(f"<暗号分割コンソーシアム>{CORE}(2/2)", BODY_OK, "locked-2", 56,
              sender=f"sasaki@{DOMAIN}", attachments={"書類2.zip": build_aes_zip(
                  [(f"申請書類/{n}".encode("cp932"), d) for n, d in locked[6:]], b"Split#Zip2")}),
        # One consortium, two complete versions days apart: the later one wins.
        mail(f"<再提出コンソーシアム>{CORE}", BODY_OK, f"ueda@{DOMAIN}", f"<resub-1@{DOMAIN}>",
             attachments=resubmitted, received=at(day)),
        mail(f"Re: <再提出コンソーシアム>{CORE}", BODY_OK, f"ueda@{DOMAIN}", f"<resub-2@{DOMAIN}>",
             attachments=resubmitted, received=at(day + timedelta(days=4))),
    ]


@pytest.fixture(scope="module")
def mails() -> list[bytes]:
    return sample_mails() + extra_mails()


def received_at(raw: bytes) -> datetime:
    moment = envelope(raw).received
    assert moment is not None
    return moment


def write_config(tmp: Path, extra: str = "") -> Path:
    path = tmp / "config.toml"
    path.write_text("\n".join([
        "[paths]", 'ledger = "ledger.db"', 'blobs = "blobs"', 'outbox = "outbox"',
        "[replies]", "business_hours_only = false", "approve_deficiencies = false",
    ]) + "\n" + extra, encoding="utf-8")
    return path


def write_mbox(path: Path, mails: list[bytes]) -> Path:
    box = mailbox.mbox(path)
    for raw in mails:
        box.add(raw)
    box.flush()
    box.close()
    return path


def replay(tmp: Path, source: Path, config: Path | None = None) -> Path:
    config = config or write_config(tmp)
    assert main(["--config", str(config), "replay", str(source)]) == 0
    return tmp / "ledger.db"


_IDS = re.compile(r"\d+")


def projection(ledger: Path) -> list[tuple]:
    """The ledger without its ids: each submission by the Message-IDs of its mails, with its
    kind, consortium, version, state, outcome, findings, reply kinds and the mails of the version
    that superseded it; and every mail's state."""
    db = sqlite3.connect(f"file:{ledger}?mode=ro", uri=True)
    try:
        mails_of: dict[int, tuple[str, ...]] = {}
        for sub, msgid in db.execute("SELECT submission_id, message_id_header FROM messages"):
            mails_of[sub] = tuple(sorted((*mails_of.get(sub, ()), msgid)))
        out: list[tuple] = []
        for row in db.execute("SELECT id, kind, consortium, version, state, outcome, "
                              "superseded_by FROM submissions"):
            sub, *facts, superseded = row
            findings = sorted(
                (code, severity, member, document,
                 _IDS.sub("#", detail) if code == "DUPLICATE_SUBMISSION" else detail)
                for code, severity, member, document, detail in db.execute(
                    "SELECT code, severity, member, document, detail FROM findings "
                    "WHERE submission_id = ?", [sub]))
            kinds = sorted(r[0] for r in db.execute(
                "SELECT kind FROM replies WHERE submission_id = ?", [sub]))
            out.append((mails_of.get(sub, ()), *facts, tuple(findings), tuple(kinds),
                        mails_of.get(superseded) if superseded else None))
        out += [("mail", msgid, state) for msgid, state in db.execute(
            "SELECT message_id_header, state FROM messages")]
    finally:
        db.close()
    return sorted(out, key=repr)


@pytest.fixture(scope="module")
def in_arrival_order(mails, tmp_path_factory) -> list[tuple]:
    tmp = tmp_path_factory.mktemp("arrival")
    ordered = sorted(mails, key=received_at)
    result = projection(replay(tmp, write_mbox(tmp / "sorted.mbox", ordered)))
    # What the grouping must be: the split, password and version mails joined as they should.
    submissions = [r for r in result if r[0] != "mail"]
    # 31 mails: 2 sample mails, 4 further parts and 4 password mails join other submissions.
    assert len(submissions) == len(mails) - 2 - 4 - 4
    by_name = {r[2]: r for r in submissions if r[1] == "submission"}
    assert len(by_name["三分割コンソーシアム"][0]) == 3
    assert len(by_name["同時刻分割コンソーシアム"][0]) == 2
    assert by_name["先行パスワードコンソーシアム"][6:8] == ((), ("receipt",))
    assert len(by_name["先行パスワードコンソーシアム"][0]) == 2
    assert by_name["暗号化コンソーシアム"][6:8] == ((), ("receipt",))
    assert by_name["暗号分割コンソーシアム"][6:8] == ((), ("receipt",))
    assert len(by_name["暗号分割コンソーシアム"][0]) == 3
    versions = sorted(r[3:9] for r in submissions if r[2] == "再提出コンソーシアム")
    assert [(v[0], v[2], v[4]) for v in versions] == [(1, "complete", ("receipt",)),
                                                      (2, "complete", ("receipt",))]
    assert [f[0] for f in versions[1][3]] == ["DUPLICATE_SUBMISSION"]
    assert versions[0][5] == (f"<resub-2@{DOMAIN}>",) and versions[1][5] is None
    return result


def test_the_maildir_gives_what_the_sorted_mbox_gives(in_arrival_order, mails, tmp_path):
    folder = tmp_path / "maildir"
    for sub in ("cur", "new", "tmp"):
        (folder / sub).mkdir(parents=True)
    for raw in mails:
        (folder / "cur" / f"{int(received_at(raw).timestamp())}.M{hash(raw) & 0xffff}P1.x:2,S"
         ).write_bytes(raw)
    assert projection(replay(tmp_path, folder)) == in_arrival_order


def test_the_mbox_written_backwards_gives_the_same_ledger(in_arrival_order, mails, tmp_path):
    backwards = sorted(mails, key=received_at, reverse=True)
    assert projection(replay(tmp_path, write_mbox(tmp_path / "b.mbox", backwards))) \
        == in_arrival_order


@settings(max_examples=6, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(seed=st.integers(0, 2**32 - 1))
def test_any_permutation_of_the_mailbox_gives_the_same_ledger(in_arrival_order, mails,
                                                              tmp_path_factory, seed):
    tmp = tmp_path_factory.mktemp("perm")
    shuffled = random.Random(seed).sample(mails, len(mails))
    assert projection(replay(tmp, write_mbox(tmp / "p.mbox", shuffled))) == in_arrival_order


def test_imap_uid_order_is_not_arrival_order(in_arrival_order, mails, dovecot, tmp_path):
    """A folder whose mails were moved in out of order: UIDs follow the move, INTERNALDATE
    keeps the receive time."""
    for raw in random.Random(7).sample(mails, len(mails)):
        dovecot.deliver(raw, internaldate=received_at(raw))
    config = write_config(tmp_path, "\n".join([
        "[imap]", f'host = "{dovecot.host}"', f"port = {dovecot.port}", 'tls = "none"',
        f'user = "{dovecot.user}"', 'password_env = "ORDER_IMAP_PASSWORD"', ""]))
    os.environ["ORDER_IMAP_PASSWORD"] = dovecot.password
    assert main(["--config", str(config), "poll", "--once"]) == 0
    assert projection(tmp_path / "ledger.db") == in_arrival_order


def test_a_mail_received_earlier_but_read_in_a_later_pass_joins_as_in_order(tmp_path):
    """Windows still open (the mails came an hour ago): the later part and the password come in
    one pass, the first part and the archive in the next; the ledger is the one-pass ledger."""
    base = datetime.now(UTC) - timedelta(hours=1)
    files = documents("後着分割コンソーシアム")
    names = list(files)

    def made(subject: str, body: str, tag: str, minutes: int, **kw) -> bytes:
        return mail(subject, body, f"mori@{DOMAIN}", f"<{tag}@{DOMAIN}>",
                    received=at(base + timedelta(minutes=minutes)), **kw)

    first = [
        made(f"<後着分割コンソーシアム>{CORE}(1/2)", BODY_OK, "late-1", 0,
             attachments={n: files[n] for n in names[:6]}),
        made(f"<後着暗号コンソーシアム>{CORE}", BODY_OK, "late-zip", 5,
             attachments={"書類.zip": cp932_aes_zip("後着暗号コンソーシアム", b"Late#Pw1")}),
    ]
    later = [
        made(f"<後着分割コンソーシアム>{CORE}(2/2)", BODY_OK, "late-2", 2,
             attachments={n: files[n] for n in names[6:]}),
        made("パスワード", "パスワード：Late#Pw1\n", "late-pw", 9),
    ]
    extra = ("[submissions]\nsettle_minutes = 0\n[program]\n"
             'period_start = "2020-01-01T00:00:00+09:00"\nperiod_end = "2039-12-31T23:59:59+09:00"\n')

    def folder(name: str, raws: list[bytes]) -> Path:
        path = tmp_path / name
        path.mkdir()
        for n, raw in enumerate(raws):
            (path / f"{n}.eml").write_bytes(raw)
        return path

    one = tmp_path / "one"
    one.mkdir()
    replay(one, folder("all", first + later), write_config(one, extra))
    two = tmp_path / "two"
    two.mkdir()
    config = write_config(two, extra)
    replay(two, folder("later", later), config)
    replay(two, folder("first", first), config)
    expected = projection(one / "ledger.db")
    assert projection(two / "ledger.db") == expected
    subs = [r for r in expected if r[0] != "mail"]
    assert len(subs) == 2 and all(r[7] == ("receipt",) for r in subs), subs
