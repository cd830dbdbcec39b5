"""Hostile mails no other test makes (tests/redteam_factory.py), replayed through the real CLI
one by one and then all together as one mbox: every mail lands in the ledger with a finding, a
state that is not `received`, or a quarantine; nothing crashes; the complete submission sent
after them is still receipted; and each run stays under the per-mail bounds the product enforces.

Each replay is a `python -m ingest.cli replay` process started by a small launcher that reports
the wall time and the peak RSS of the CLI and its sandbox workers (RUSAGE_CHILDREN after they
are reaped). Times are printed for whoever reads the log; the assertions are about behaviour and
memory, with time bounds far above what any mail takes, so that a busy machine does not fail it.
"""

from __future__ import annotations

import mailbox
import os
import random
import re
import sqlite3
import subprocess
import sys
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path
from typing import Any

import pytest

from tests import redteam_factory as rf
from tests.conftest import REPO
from tests.mails import VALID_CONSORTIUM, complete_mail
from tests.test_walking_skeleton import write_config

CANARY = "<canary@minato-seiki.example.jp>"
PER_MAIL_MB = 300  # the bound per mail with the shipped limits
GENEROUS_SECONDS = 240  # far above the 30 s a mail may take: a busy machine must not fail this

_LAUNCHER = """
import resource, subprocess, sys, time
start = time.perf_counter()
code = subprocess.call(sys.argv[1:])
seconds = time.perf_counter() - start
peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
print(f"REDTEAM-MEASURED {code} {seconds:.2f} {peak}", file=sys.stderr)
"""


@dataclass
class Replay:
    root: Path
    mails: int  # how many mails the source holds, the canary included
    code: int
    seconds: float
    peak_mb: float  # the CLI process and its workers, whichever peaked highest
    stdout: str
    stderr: str

    def query(self, sql: str, params: tuple[Any, ...] = ()) -> list[dict[str, Any]]:
        with sqlite3.connect(f"file:{self.root / 'ledger.db'}?mode=ro", uri=True) as db:
            db.row_factory = sqlite3.Row
            return [dict(r) for r in db.execute(sql, params)]


def replay(root: Path, source: Path, mails: int) -> Replay:
    config = write_config(root)
    cli = [sys.executable, "-m", "ingest.cli", "--config", str(config), "replay", str(source)]
    done = subprocess.run([sys.executable, "-c", _LAUNCHER, *cli], cwd=root, capture_output=True,
                          text=True, errors="replace", timeout=900,
                          env={**os.environ, "PYTHONPATH": str(REPO)})
    [(code, seconds, peak)] = re.findall(r"^REDTEAM-MEASURED (\d+) ([\d.]+) (\d+)$",
                                         done.stderr, re.MULTILINE)
    return Replay(root, mails, int(code), float(seconds), int(peak) / 1024, done.stdout,
                  done.stderr)


def _as_list(built: bytes | list[bytes]) -> list[bytes]:
    return built if isinstance(built, list) else [built]


def check_ledger(run: Replay) -> None:
    """Nothing lost, nothing crashed, nothing left unjudged, the canary answered."""
    assert run.code in (0, 1), run.stderr[-3000:]
    assert "Traceback" not in run.stderr, run.stderr[-3000:]
    messages = run.query("SELECT id, state, submission_id, problem, source_ref FROM messages")
    assert len(messages) == run.mails, (len(messages), run.mails, run.stdout)
    for m in messages:
        assert m["state"] != "received", m
        if m["state"] == "quarantined":
            assert m["problem"], m
            continue
        judged = run.query("SELECT s.state, (SELECT count(*) FROM findings f WHERE "
                           "f.submission_id = s.id) AS findings FROM submissions s "
                           "WHERE s.id = ?", (m["submission_id"],))
        assert judged and judged[0]["state"] != "open", (m, judged)
    [canary] = run.query("SELECT submission_id FROM messages WHERE message_id_header = ?",
                         (CANARY,))
    [sub] = run.query("SELECT * FROM submissions WHERE id = ?", (canary["submission_id"],))
    assert sub["consortium"] == VALID_CONSORTIUM and sub["outcome"] == "complete", sub
    kinds = [r["kind"] for r in run.query("SELECT kind FROM replies WHERE submission_id = ?",
                                          (sub["id"],))]
    assert kinds == ["receipt"], kinds


def hostile_findings(run: Replay) -> list[dict[str, Any]]:
    return run.query("SELECT DISTINCT f.code, f.detail FROM findings f JOIN messages m "
                     "ON m.submission_id = f.submission_id WHERE m.message_id_header IS NOT ?",
                     (CANARY,))


def _finding(code: str, *words: str) -> Callable[[Replay], None]:
    def check(run: Replay) -> None:
        found = [f["detail"] for f in hostile_findings(run) if f["code"] == code]
        assert any(all(w in d for w in words) for d in found), hostile_findings(run)
    return check


def _quarantined(words: str) -> Callable[[Replay], None]:
    def check(run: Replay) -> None:
        problems = [m["problem"] for m in run.query(
            "SELECT problem FROM messages WHERE state = 'quarantined'")]
        assert any(words in p for p in problems), problems
    return check


def _no_secret_read(run: Replay) -> None:
    """The external entity was never resolved: no line of /etc/passwd reached the ledger."""
    _finding("ATTACHMENT_UNREADABLE", "Excel")(run)
    dump = "\n".join(str(r) for r in run.query("SELECT * FROM findings"))
    dump += "\n".join(str(r) for r in run.query("SELECT * FROM attachments"))
    assert "root:" not in dump


def _no_escape(run: Replay) -> None:
    """Look-alike and Windows paths stay inside the archive's own folder."""
    assert not Path("/tmp/renkei-fw.txt").exists() and not Path("/etc/renkei-abs.txt").exists()
    paths = [a["path"] for a in run.query("SELECT path FROM attachments")]
    assert paths and all(".." not in p.replace("..／", "").split("/") and not p.startswith("/")
                         and "\x00" not in p and ":" not in p.split("/")[0] for p in paths), paths
    _finding("ATTACHMENT_UNREADABLE", "リンク")(run)
    assert not any(f["code"] == "DOCUMENT_MISSING" for f in hostile_findings(run))


def _header_cut(run: Replay) -> None:
    problems = [m["problem"] or "" for m in run.query(
        "SELECT problem FROM messages WHERE message_id_header IS NOT ?", (CANARY,))]
    assert any("ヘッダーが大きすぎる" in p for p in problems), problems


def _text_cut(run: Replay) -> None:
    problems = [m["problem"] or "" for m in run.query(
        "SELECT problem FROM messages WHERE message_id_header IS NOT ?", (CANARY,))]
    assert any("本文が大きすぎる" in p for p in problems), problems


def _any(run: Replay) -> None:
    """Only the common checks: every mail judged, the canary answered."""


EXPECT: dict[str, Callable[[Replay], None]] = {
    "xlsx-billion-laughs": _finding("ATTACHMENT_UNREADABLE", "Excel"),
    "xlsx-external-entity": _no_secret_read,
    "xlsx-100mb-inline-string": _finding("ATTACHMENT_UNREADABLE", "上限"),
    "docx-billion-laughs": _finding("DOCUMENT_MISSING"),
    "pptx-300mb-slide": _finding("DOCUMENT_MISSING"),
    "zip-directory-claims-65535": _finding("ATTACHMENT_UNREADABLE", "shinsei.zip"),
    "zip64-lying-sizes": _finding("ATTACHMENT_UNREADABLE", "keikaku.pdf"),
    "zip-unicode-traversal": _no_escape,
    "password-spray-100-mails": _finding("ARCHIVE_PASSWORD_WRONG", "書類.zip"),
    "pdf-flate-bomb": _finding("DOCUMENT_MISSING"),
    "pdf-page-tree-loop": _finding("DOCUMENT_MISSING"),
    "xlsx-encrypted-spincount": _finding("ATTACHMENT_UNREADABLE", "4_交付申請書.xlsx", "鍵の計算回数"),
    "ole-fat-loop": _finding("ATTACHMENT_UNREADABLE", "申請.msg"),
    "tnef-3000-attachments": _finding("ATTACHMENT_UNREADABLE", "winmail.dat"),
    "header-line-39mb": _header_cut,
    "headers-2600000": _header_cut,
    "subject-folded-39mb": _header_cut,
    "base64-39mb-one-byte": _finding("DOCUMENT_MISSING"),
    "uuencoded-part": _any,
    "rfc822-1000-deep": _quarantined("入れ子"),
    "multipart-100000-no-end": _finding("ATTACHMENT_UNREADABLE", "パートが多すぎる"),
    "rfc2231-10000-continuations": _finding("DOCUMENT_MISSING"),
    "subject-1mb-encoded-words": _any,
    "charset-10kb": _any,
    "filename-10000-japanese": _finding("SENDER_NOT_LEAD"),
    "html-unclosed-tags-2mb": _finding("DOCUMENT_MISSING"),
    "text-one-line-39mb": _text_cut,
    "text-many-lines-20mb": _finding("ATTACHMENT_UNREADABLE", "パートが多すぎる"),
}



@pytest.fixture(scope="module")
def built() -> dict[str, list[bytes]]:
    assert set(EXPECT) == set(rf.CASES)
    return {name: _as_list(make()) for name, make in rf.CASES.items()}


MBOX = "all-in-one-mbox"


@pytest.fixture(scope="module")
def replays(built: dict[str, list[bytes]],
            tmp_path_factory: pytest.TempPathFactory) -> dict[str, Replay]:
    """Each case in a folder of its own (its mails, then the canary), and every case in one
    mbox (the canary last), replayed two at a time, the mbox first."""
    base = tmp_path_factory.mktemp("redteam")
    canary = complete_mail(CANARY)

    def one(name: str) -> Replay:
        folder = base / name / "mails"
        folder.mkdir(parents=True)
        for i, raw in enumerate(built[name]):
            (folder / f"1-hostile-{i:04d}.eml").write_bytes(raw)
        (folder / "2-canary.eml").write_bytes(canary)
        return replay(base / name, folder, len(built[name]) + 1)

    def together() -> Replay:
        (base / MBOX).mkdir()
        box = mailbox.mbox(base / MBOX / "hostile.mbox")
        for mails in built.values():
            for raw in mails:
                box.add(raw)
        box.add(canary)
        box.flush()
        box.close()
        return replay(base / MBOX, base / MBOX / "hostile.mbox", len(box))

    with ThreadPoolExecutor(2) as pool:
        futures = {MBOX: pool.submit(together)}
        futures |= {name: pool.submit(one, name) for name in built}
        results = {name: future.result() for name, future in futures.items()}
    for name, r in results.items():  # the figures, for whoever reads the log
        print(f"{name}: {r.mails} mails, {r.seconds:.1f} s, peak {r.peak_mb:.0f} MB")
    return results


@pytest.mark.parametrize("name", list(rf.CASES))
def test_each_hostile_mail_is_judged_within_bounds_and_the_next_is_answered(
        name: str, replays: dict[str, Replay]) -> None:
    run = replays[name]
    check_ledger(run)
    EXPECT[name](run)
    assert run.peak_mb < PER_MAIL_MB, run.peak_mb
    assert run.seconds < GENEROUS_SECONDS, run.seconds


def test_all_hostile_mails_as_one_mbox_lose_none(replays: dict[str, Replay]) -> None:
    """One replay judges them all: the mailbox holds every case, no mail is lost or left
    unjudged, and memory is still bounded by the largest mail, not by the mailbox."""
    run = replays[MBOX]
    check_ledger(run)
    assert f"{run.mails} 通を読み込み" in run.stdout, run.stdout
    # Memory follows the largest mail, not the mailbox: what each mail took alone, plus the mbox
    # reader's copy of the mail in hand (each alone is held under PER_MAIL_MB above).
    largest = max(r.peak_mb for name, r in replays.items() if name != MBOX)
    assert run.peak_mb < largest + 40, (run.peak_mb, largest)
    assert run.seconds < GENEROUS_SECONDS * 4, run.seconds


# --------------------------------------------------------------------------- one ledger, any order


def _order_mailbox() -> list[bytes]:
    """A mailbox the way a season brings it, with the ties the other order tests avoid: parts,
    passwords and versions received in the same second, a wrong password then the right one,
    a full-width password in ISO-2022-JP, a part from another member company, a mail delivered
    twice, a mail without a Received: line (dated by its Date:), and a late resubmission."""
    from email.message import EmailMessage

    from tests.archive_factory import build_aes_zip
    from tests.mails import BODY_OK, CORE, LEAD, documents, mail

    day = datetime(2022, 8, 22, 9, 0, tzinfo=UTC)
    domain = LEAD.split("@")[1]  # the forms name the lead of this domain

    def sent(subject: str, body: str, tag: str, seconds: int, *, who: str = "ono",
             attachments: dict[str, bytes] | None = None) -> bytes:
        return mail(subject, body, f"{who}@{domain}", f"<{tag}@{domain}>",
                    attachments=attachments, received=format_datetime(day + timedelta(
                        seconds=seconds)))

    def locked(consortium: str, password: bytes) -> bytes:
        return build_aes_zip([(f"書類/{n}".encode("cp932"), d)
                              for n, d in documents(consortium).items()], password)

    split = list(documents("同秒分割コンソーシアム").items())
    twice = documents("同秒再送コンソーシアム")
    member = list(documents("構成員分割コンソーシアム").items())
    iso = EmailMessage()
    iso["Received"] = f"from mx by mx.example.go.jp; {format_datetime(day + timedelta(seconds=61))}"
    iso["From"] = f"ono@{domain}"
    iso["To"] = "it-renkei@example.go.jp"
    iso["Subject"] = "パスワード"
    iso["Message-ID"] = f"<iso-pw@{domain}>"
    iso["Date"] = format_datetime(day)
    iso.set_content("全角のパスワードです。\nパスワード：Ｚｅｎ＃１２３\n", charset="iso-2022-jp")
    dup = sent(f"<重複配送コンソーシアム>{CORE}", BODY_OK, "dup", 90,
               attachments=documents("重複配送コンソーシアム"))
    undated = mail(f"<受信記録なしコンソーシアム>{CORE}", BODY_OK, f"ono@{domain}",
                   f"<undated@{domain}>", attachments=documents("受信記録なしコンソーシアム"))
    return [
        # Parts 2/2 and 1/2 received in the same second.
        sent(f"<同秒分割コンソーシアム>{CORE}(2/2)", BODY_OK, "tie-2", 0, who="ito",
             attachments=dict(split[6:])),
        sent(f"<同秒分割コンソーシアム>{CORE}(1/2)", BODY_OK, "tie-1", 0, who="ito",
             attachments=dict(split[:6])),
        # An archive and its password in the same second.
        sent(f"<同秒暗号コンソーシアム>{CORE}", BODY_OK, "tie-zip", 30, who="sato",
             attachments={"書類.zip": locked("同秒暗号コンソーシアム", b"Same#Sec1")}),
        sent("パスワードのご連絡", "パスワード：Same#Sec1\n", "tie-pw", 30, who="sato"),
        # A wrong password, then the right one in ISO-2022-JP and full width.
        sent(f"<全角パスワードコンソーシアム>{CORE}", BODY_OK, "zen-zip", 40,
             attachments={"書類.zip": locked("全角パスワードコンソーシアム", b"Zen#123")}),
        sent("パスワード", "パスワード：zen-wrong\n", "zen-wrong", 50),
        iso.as_bytes(),
        # A part sent by another member company of the same consortium.
        sent(f"<構成員分割コンソーシアム>{CORE}(1/2)", BODY_OK, "member-1", 70, who="kudo",
             attachments=dict(member[:6])),
        mail(f"<構成員分割コンソーシアム>{CORE}(2/2)", BODY_OK, "yagi@member.example.jp",
             f"<member-2@{domain}>", attachments=dict(member[6:]),
             received=format_datetime(day + timedelta(seconds=75))),
        # Delivered twice: one mail.
        dup, dup,
        undated,
        # The same submission sent twice in one second, then once more two days later.
        sent(f"<同秒再送コンソーシアム>{CORE}", BODY_OK, "again-1", 120, who="abe",
             attachments=twice),
        sent(f"<同秒再送コンソーシアム>{CORE}", BODY_OK + "\n(再送)\n", "again-2", 120, who="abe",
             attachments=twice),
        sent(f"Re: <同秒再送コンソーシアム>{CORE}", BODY_OK, "again-3", 2 * 86400, who="abe",
             attachments=twice),
    ]


def test_a_mailbox_of_ties_gives_one_ledger_in_three_orders(tmp_path: Path) -> None:
    from tests.test_order import projection, write_mbox
    from tests.test_order import replay as replay_in_process

    mails = _order_mailbox()
    orders = {"as-listed": mails, "backwards": mails[::-1],
              "shuffled": random.Random(11).sample(mails, len(mails))}
    ledgers = {}
    for name, ordered in orders.items():
        (tmp_path / name).mkdir()
        ledger = replay_in_process(tmp_path / name, write_mbox(tmp_path / name / "m.mbox",
                                                               ordered))
        ledgers[name] = projection(ledger)
    first = ledgers["as-listed"]
    assert ledgers["backwards"] == first
    assert ledgers["shuffled"] == first
    subs = {r[2]: r for r in first if r[0] != "mail" and r[1] == "submission"}
    # The grouping the ties must give, whatever the order.
    assert len(subs["同秒分割コンソーシアム"][0]) == 2
    assert subs["同秒分割コンソーシアム"][7] == ("receipt",)
    assert subs["同秒暗号コンソーシアム"][7] == ("receipt",)
    assert subs["全角パスワードコンソーシアム"][7] == ("receipt",), subs["全角パスワードコンソーシアム"]
    assert len(subs["構成員分割コンソーシアム"][0]) == 2
    assert len([r for r in first if r[0] == "mail"]) == len(mails) - 1  # the duplicate is one
    # Sent twice in one second: one version (a resend is not a new version); two days later
    # the second version, which supersedes it.
    versions = sorted((r[3], len(r[0])) for r in first
                      if r[0] != "mail" and r[2] == "同秒再送コンソーシアム")
    assert versions == [(1, 2), (2, 1)], first
