"""Hostile mails through the real pipeline: each gets a finding or a quarantine, in bounded time
and memory, and the well-behaved mail that follows it is still answered.

Every case is replayed by its own `renkei-intake replay` subprocess (its peak RSS read with
wait4), a few at a time, in a folder holding the hostile mail and then a complete submission
(the canary). The outcome is read back with `export submissions --format jsonl` and from the
ledger tables.
"""

from __future__ import annotations

import base64
import io
import json
import multiprocessing
import os
import re
import sqlite3
import subprocess
import sys
import time
import traceback
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from contextlib import redirect_stderr, redirect_stdout
from dataclasses import dataclass, field
from datetime import datetime
from email import message_from_bytes
from email.policy import default as default_policy
from pathlib import Path, PurePosixPath
from typing import Any

import pytest

from ingest.cli import main
from tests import hostile_factory as hf
from tests.conftest import REPO
from tests.mails import JST, LEAD, VALID_CONSORTIUM, complete_mail
from tests.test_walking_skeleton import write_config

OUR_ADDRESS = "it-renkei@example.go.jp"  # Settings.secretariat_address, the embedded default
CANARY_ID = "<canary@minato-seiki.example.jp>"


# --------------------------------------------------------------------------- running


@dataclass
class Run:
    """One replay subprocess over [hostile mail, canary] and what it left behind."""

    root: Path
    returncode: int
    seconds: float
    peak_mb: float
    stdout: str
    stderr: str
    submissions: list[dict[str, Any]] = field(default_factory=list)

    def query(self, sql: str, params: tuple[Any, ...] = ()) -> list[dict[str, Any]]:
        with sqlite3.connect(f"file:{self.root / 'ledger.db'}?mode=ro", uri=True) as db:
            db.row_factory = sqlite3.Row
            return [dict(r) for r in db.execute(sql, params)]

    @property
    def hostile_message(self) -> dict[str, Any]:
        [row] = self.query("SELECT * FROM messages WHERE source_ref LIKE '%1-hostile.eml'")
        return row

    @property
    def hostile(self) -> dict[str, Any]:
        """The export record of the hostile mail's submission."""
        sub = self.hostile_message["submission_id"]
        [record] = [s for s in self.submissions if s["id"] == sub]
        return record

    def findings(self, code: str) -> list[dict[str, Any]]:
        return self.query("SELECT * FROM findings WHERE submission_id = ? AND code = ?",
                          (self.hostile_message["submission_id"], code))

    def attachments(self) -> list[dict[str, Any]]:
        return self.query("SELECT * FROM attachments WHERE submission_id = ?",
                          (self.hostile_message["submission_id"],))

    def reply_eml(self) -> bytes:
        [path] = (self.root / "outbox").glob(f"{self.hostile['id']:05d}-*.eml")
        return path.read_bytes()


# The CLI's own `main`, then its VmHWM: the peak RSS of this process image alone. (wait4's
# ru_maxrss would not do: Linux carries the parent's peak over fork and exec into the child.)
_RUNNER = """
import sys
from ingest.cli import main
try:
    code = main(sys.argv[1:])
finally:
    with open('/proc/self/status') as status:
        peak = [line.split()[1] for line in status if line.startswith('VmHWM:')][0]
    print(f'VmHWM {peak}', file=sys.stderr)
sys.exit(code)
"""


def run_cli(args: list[str], cwd: Path, timeout: float) -> tuple[int, float, float, str, str]:
    """Run the CLI as a subprocess: (exit status, seconds, peak RSS in MB, stdout, stderr)."""
    start = time.perf_counter()
    done = subprocess.run([sys.executable, "-c", _RUNNER, *args], cwd=cwd, capture_output=True,
                          text=True, errors="replace", timeout=timeout,
                          env={**os.environ, "PYTHONPATH": str(REPO)})
    seconds = time.perf_counter() - start
    peaks = re.findall(r"^VmHWM (\d+)$", done.stderr, re.MULTILINE)
    peak_mb = int(peaks[-1]) / 1024 if peaks else float("inf")
    return done.returncode, seconds, peak_mb, done.stdout, done.stderr


def _vm_hwm_mb() -> float:
    status = Path("/proc/self/status").read_text()
    return int(re.search(r"^VmHWM:\s+(\d+)", status, re.MULTILINE)[1]) / 1024


def _replay_in_child(config: str, folder: str) -> tuple[int, float, float, str, str]:
    """`replay` in a fresh process forked from a server that already imported the program
    (a whole interpreter start per case would double the file's run time). The peak RSS is
    this run's own: VmHWM is reset first (clear_refs 5, Linux >= 4.0). Its time is CPU time,
    not wall time, so a busy machine does not fail a case; the attachments themselves are read
    in the sandbox worker, whose CPU the product limits (max_parse_seconds)."""
    Path("/proc/self/clear_refs").write_text("5")
    out, err = io.StringIO(), io.StringIO()
    start = time.process_time()
    with redirect_stdout(out), redirect_stderr(err):
        try:
            code = main(["--config", config, "replay", folder])
        except BaseException:  # what the interpreter would do: traceback, exit status 1
            traceback.print_exc()
            code = 1
    return code, time.process_time() - start, _vm_hwm_mb(), out.getvalue(), err.getvalue()


def prepare_case(root: Path, hostile: bytes) -> tuple[str, str]:
    folder = root / "mails"
    folder.mkdir(parents=True)
    (folder / "1-hostile.eml").write_bytes(hostile)
    (folder / "2-canary.eml").write_bytes(complete_mail(CANARY_ID))
    return str(write_config(root)), str(folder)


def finish_case(root: Path, result: tuple[int, float, float, str, str]) -> Run:
    run = Run(root, *result)
    if run.returncode == 0:
        export = root / "export.jsonl"
        assert main(["--config", str(root / "config.toml"), "export", "submissions",
                     "--format", "jsonl", "--output", str(export)]) == 0
        run.submissions = [json.loads(line) for line in export.read_text().splitlines()]
    return run


# --------------------------------------------------------------------------- the cases


def _ew(text: str) -> str:
    return f"=?utf-8?b?{base64.b64encode(text.encode()).decode()}?="


def header_injection() -> bytes:
    """Encoded words that decode to CR LF and a Bcc: line, in Subject and From."""
    subject = f"{_ew('<注入' + chr(13) + chr(10) + 'Bcc: victim@example.com' + chr(10) + '>')} " \
              f"{_ew(hf.CORE)}"
    raw = hf.raw_mail("inject", hf.BODY.encode(), subject=subject.encode())
    forged = _ew(f"{hf.SENDER}\r\nBcc: victim@example.com")
    return raw.replace(b"From: ", f"From: {forged} <{hf.SENDER}>\r\nX-Old-From: ".encode(), 1)


def traversal_mail() -> bytes:
    raw = hf.hostile("traversal", {"../../../../tmp/renkei-escape/shinsei.zip":
                                   hf.traversal_zip()})
    return raw


def _expect_unreadable(*words: str) -> Callable[[Run], None]:
    def check(run: Run) -> None:
        details = [f["detail"] for f in run.findings("ATTACHMENT_UNREADABLE")]
        assert details, run.hostile["findings"]
        assert any(all(w in d for w in words) for d in details), details
        assert run.hostile["replies"][0]["kind"] == "deficiency"
        _nothing_big_stored(run)
    return check


def _nothing_big_stored(run: Run) -> None:
    """No bomb content reached the blob store: it holds the mails, the replies and small files."""
    mails = sum(p.stat().st_size for p in (run.root / "mails").iterdir())
    stored = sum(p.stat().st_size for p in (run.root / "blobs").rglob("*") if p.is_file())
    assert stored < 3 * mails + 2 * hf.MB, (stored, mails)


def _expect_traversal(run: Run) -> None:
    # The documents were read (nothing missing, nothing unreadable) under safe names only.
    assert not run.findings("DOCUMENT_MISSING") and not run.findings("ATTACHMENT_UNREADABLE")
    rows = run.attachments()
    assert len([r for r in rows if r["document"]]) >= 7, rows
    for row in rows:
        path = row["path"]
        parts = PurePosixPath(path).parts
        assert not path.startswith(("/", "\\")) and ":" not in path, path
        assert ".." not in parts and "\\" not in path, path
        assert path.startswith("tmp/renkei-escape/shinsei.zip/"), path
    assert not Path("/tmp/renkei-escape").exists()
    assert not any(p.name.endswith(".xlsx") for p in run.root.rglob("*"))  # nothing unpacked


def _expect_symlink(run: Run) -> None:
    details = [f["detail"] for f in run.findings("ATTACHMENT_UNREADABLE")]
    assert any("シンボリックリンク" in d and "4_koufu.xlsx" in d for d in details), details
    paths = {r["path"] for r in run.attachments()}
    assert "shinsei.zip/memo.txt" in paths  # the ordinary member is kept
    assert not any("4_koufu" in p or "link-dir" in p for p in paths), paths


def _expect_big(run: Run) -> None:
    assert run.hostile_message["size"] > 25 * 1000 * 1000
    assert run.hostile_message["state"] == "checked"
    assert [r["name"] for r in run.attachments()] == ["大容量資料.pdf"]
    assert "DOCUMENT_MISSING" in run.hostile["findings"]
    assert run.hostile["replies"][0]["kind"] == "deficiency"


def _expect_nested(run: Run) -> None:
    # The sender block sat in the innermost of 500 parts: it was found.
    assert "SENDER_DETAILS_MISSING" not in run.hostile["findings"]
    assert "DOCUMENT_MISSING" in run.hostile["findings"]
    assert run.hostile_message["state"] == "checked"


def _expect_parts_cut(run: Run) -> None:
    assert run.hostile_message["state"] == "checked"
    details = [f["detail"] for f in run.findings("ATTACHMENT_UNREADABLE")]
    assert any("パートが多すぎる" in d and "700" in d for d in details), details
    assert run.hostile["replies"][0]["kind"] == "deficiency"


def _expect_quarantine(*words: str) -> Callable[[Run], None]:
    def check(run: Run) -> None:
        message = run.hostile_message
        assert message["state"] == "quarantined"
        assert message["submission_id"] is None
        assert all(w in message["problem"] for w in words), message["problem"]
        assert "隔離 1" in run.stdout
    return check


def _expect_subject_format(run: Run) -> None:
    assert "SUBJECT_FORMAT" in run.hostile["findings"]
    assert len(run.hostile_message["subject"]) > 100_000  # kept whole for staff, not cut
    reply = message_from_bytes(run.reply_eml(), policy=default_policy)
    assert all(len(line) <= 998 for line in run.reply_eml().split(b"\r\n"))
    assert reply["To"] == hf.SENDER


def _expect_huge_header(run: Run) -> None:
    assert run.hostile_message["state"] == "checked"
    assert "DOCUMENT_MISSING" in run.hostile["findings"]
    assert "SENDER_DETAILS_MISSING" not in run.hostile["findings"]


def _expect_nul(run: Run) -> None:
    assert run.hostile_message["state"] == "checked"
    assert run.hostile["consortium"].startswith(hf.CONSORTIUM)
    assert run.hostile["replies"][0]["kind"] == "deficiency"
    raw = run.reply_eml()
    head = raw.split(b"\r\n\r\n", 1)[0]
    assert b"\x00" not in raw  # a NUL never reaches an outgoing mail
    assert message_from_bytes(raw, policy=default_policy)["To"] == hf.SENDER, head


def _expect_broken_base64(run: Run) -> None:
    details = [f["detail"] for f in run.findings("ATTACHMENT_UNREADABLE")]
    assert any("shinsei.zip" in d and "壊れ" in d for d in details), details
    problem = run.hostile_message["problem"] or ""
    assert "base64" in problem, problem  # the damage is recorded on the mail for staff
    # The text part lost only its last, cut quantum: the sender block is still read.
    assert "SENDER_DETAILS_MISSING" not in run.hostile["findings"], run.findings(
        "SENDER_DETAILS_MISSING")


def _expect_broken_qp(run: Run) -> None:
    assert "SENDER_DETAILS_MISSING" not in run.hostile["findings"]
    assert "replacement characters" in (run.hostile_message["problem"] or "")
    assert run.hostile["replies"][0]["kind"] == "deficiency"


def _expect_period_from(source: str, outside: bool) -> Callable[[Run], None]:
    def check(run: Run) -> None:
        message = run.hostile_message
        assert message["received_at_source"] == source
        assert ("OUTSIDE_PERIOD" in run.hostile["findings"]) is outside
        facts = json.loads(message["facts"])
        if source == "received":
            assert facts["date"] is None and message["date_header"].startswith("Thu, 99 Foo")
            assert not message["problem"]
        else:
            assert f"{source} の時刻で期間を判定" in message["problem"]
    return check


def _expect_not_answered(reason: str) -> Callable[[Run], None]:
    def check(run: Run) -> None:
        assert run.hostile["findings"] == ["NOT_A_SUBMISSION"]
        assert run.hostile["replies"] == []
        [finding] = run.findings("NOT_A_SUBMISSION")
        assert reason in finding["detail"]
        assert run.hostile_message["state"] == "needs_review"
        written = [p.name for p in (run.root / "outbox").glob("*.eml")]
        assert all(not n.startswith(f"{run.hostile['id']:05d}-") for n in written), written
    return check


def _expect_no_injection(run: Run) -> None:
    raw = run.reply_eml()
    reply = message_from_bytes(raw, policy=default_policy)
    head = raw.split(b"\r\n\r\n", 1)[0]
    assert reply["Bcc"] is None and reply["Cc"] is None
    assert not re.search(rb"(?im)^(bcc|cc):", head), head
    assert len(reply.get_all("To")) == 1 and "victim" not in reply["To"]
    assert "\n" not in str(reply["Subject"])


def _expect_answered_despite_colons(run: Run) -> None:
    # The address parser of the standard library recurses once per colon; the mail is still
    # read, filed and answered like any other.
    assert run.hostile_message["state"] == "checked"
    assert run.hostile["replies"][0]["kind"] == "deficiency"
    assert message_from_bytes(run.reply_eml(), policy=default_policy)["To"] == hf.SENDER


@dataclass(frozen=True)
class Case:
    name: str
    build: Callable[[], bytes]
    expect: Callable[[Run], None]
    max_mb: float = 128  # peak RSS of the replay process; Python and the program: ~64 MB
    max_seconds: float = 20


CASES = [
    Case("zip-ratio-bomb", lambda: hf.hostile("ratio", {"shinsei.zip": hf.ratio_bomb()}),
         _expect_unreadable("安全上の上限", "圧縮率")),
    Case("zip-bomb-lying-size", lambda: hf.hostile("lying", {"shinsei.zip": hf.lying_bomb()}),
         _expect_unreadable("data.pdf")),
    Case("zip-overlap-bomb", lambda: hf.hostile("overlap", {"shinsei.zip": hf.overlap_bomb()}),
         # 200 MB of extracted files is the configured total: memory stays near that.
         _expect_unreadable("安全上の上限", "合計"), max_mb=320),
    Case("zip-nesting-bomb", lambda: hf.hostile("nesting", {"shinsei.zip": hf.nesting_bomb()}),
         _expect_unreadable("安全上の上限", "入れ子")),
    Case("zip-wide-nesting-bomb",
         lambda: hf.hostile("wide", {"shinsei.zip": hf.wide_nesting_bomb()}),
         _expect_unreadable("安全上の上限")),
    Case("zip-path-traversal", traversal_mail, _expect_traversal),
    Case("zip-symlink-members", lambda: hf.hostile("sym", {"shinsei.zip": hf.symlink_zip()}),
         _expect_symlink),
    Case("zip-10000-members",
         lambda: hf.hostile("many", {"shinsei.zip": hf.many_members_zip()}),
         _expect_unreadable("ファイル数", "1000")),
    # The largest mail `max_message_bytes` admits (40 MiB) stays under 300 MB: the mail is fed
    # to the MIME parser in pieces and a large base64 body is decoded in one step (measured
    # ~180 MB at 25 MiB, ~250 MB at 40 MiB); its attachment is read in the worker process.
    Case("mail-25mb", hf.big_mail, _expect_big, max_mb=300, max_seconds=40),
    Case("mail-max-size", lambda: hf.big_mail(39 * hf.MB), _expect_big, max_mb=300,
         max_seconds=60),
    # Over `max_message_bytes` (40 MiB by default) from a file: kept, never parsed.
    Case("mail-over-max-size", lambda: hf.big_mail(41 * hf.MB),
         _expect_quarantine("サイズ上限超過"), max_mb=300),
    Case("mime-500-levels", lambda: hf.nested_mime(500), _expect_nested),
    # Only the first max_parts (700) parts are read: the nesting never reaches the depth that
    # would exhaust the parser's recursion, and the applicant is told the rest was not read.
    Case("mime-5000-levels", lambda: hf.nested_mime(5000), _expect_parts_cut),
    Case("subject-1mb", hf.huge_subject, _expect_subject_format),
    Case("header-1mb", hf.huge_header, _expect_huge_header),
    Case("nul-bytes", hf.nul_bytes, _expect_nul),
    Case("broken-base64", hf.broken_base64, _expect_broken_base64),
    Case("broken-quoted-printable", hf.broken_quoted_printable, _expect_broken_qp),
    Case("date-malformed", lambda: hf.dated(
        "baddate", date="Thu, 99 Foo 20222 25:61:61 +9999",
        received="Wed, 10 Aug 2022 10:00:00 +0900"), _expect_period_from("received", False)),
    Case("received-malformed", lambda: hf.dated(
        "badrecv", date="Wed, 10 Aug 2022 10:00:00 +0900", received="yesterday-ish"),
        _expect_period_from("date", False)),
    Case("no-dates-at-all", lambda: hf.dated("nodate", date=None, received=None),
         _expect_period_from("fetch", True)),
    Case("from-our-own-address", lambda: hf.from_ourselves(OUR_ADDRESS),
         _expect_not_answered("own-address")),
    Case("auto-submitted", hf.auto_replied, _expect_not_answered("auto-submitted")),
    Case("x-loop", lambda: hf.x_loop(OUR_ADDRESS), _expect_not_answered("x-loop")),
    Case("our-reply-looped-back", lambda: hf.our_reply_bounced_back(OUR_ADDRESS),
         _expect_not_answered("own-address")),
    Case("header-injection", header_injection, _expect_no_injection),
    Case("second-from-of-colons", hf.second_from_of_colons, _expect_answered_despite_colons),
    Case("to-of-colons", hf.to_of_colons, _expect_answered_despite_colons),
    Case("auto-reply-from-of-colons", hf.auto_reply_from_colons,
         _expect_not_answered("auto-submitted")),
]


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Run]:
    """Every case replayed once, each in its own process, two at a time. A process that dies
    fails its case (BrokenProcessPool), not the test session."""
    base = tmp_path_factory.mktemp("hostile")
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload(["ingest.cli", "tests.test_hostile"])
    results: dict[str, Run] = {}
    with ProcessPoolExecutor(2, mp_context=context, max_tasks_per_child=1) as pool:
        futures = {}
        for case in CASES:
            root = base / case.name
            futures[case.name] = (root, pool.submit(_replay_in_child,
                                                    *prepare_case(root, case.build())))
        for name, (root, future) in futures.items():
            results[name] = finish_case(root, future.result(timeout=300))
    return results


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_hostile_mail_gets_its_outcome_and_the_next_mail_is_answered(
        case: Case, runs: dict[str, Run]) -> None:
    run = runs[case.name]
    assert run.returncode == 0, run.stderr[-3000:]
    assert run.seconds < case.max_seconds, run.seconds
    assert run.peak_mb < case.max_mb, run.peak_mb
    assert "2 通を読み込み: 新規 2" in run.stdout, run.stdout
    case.expect(run)
    # The run went on: the complete submission after it was answered with a receipt.
    [canary] = [s for s in run.submissions if s["consortium"] == VALID_CONSORTIUM
                and s["lead_email"] == LEAD]
    assert canary["findings"] == [] and [r["kind"] for r in canary["replies"]] == ["receipt"]


# --------------------------------------------------------------------------- through IMAP


def test_hostile_mails_through_imap_poll_never_answer_a_robot(dovecot, smtp_server, tmp_path):
    """The same mails fetched by `poll --once` from Dovecot and answered over SMTP: every mail
    lands in the ledger, the loops get no answer, and memory stays bounded with a 25 MB mail."""
    mails = {
        "own": hf.from_ourselves(OUR_ADDRESS),
        "auto": hf.auto_replied(),
        "xloop": hf.x_loop(OUR_ADDRESS),
        "loop": hf.our_reply_bounced_back(OUR_ADDRESS),
        "nested": hf.nested_mime(5000),
        "b64": hf.broken_base64(),
        "big": hf.big_mail(),
        "canary": complete_mail(CANARY_ID),
    }
    for raw in mails.values():
        dovecot.deliver(raw, internaldate=datetime(2022, 8, 10, 10, 0, tzinfo=JST))
    config = write_config(tmp_path, imap=dovecot, smtp=smtp_server)
    code, _, peak, out, err = run_cli(["--config", str(config), "poll", "--once"],
                                      tmp_path, timeout=600)  # a hang guard only
    assert code == 0, err[-3000:]
    assert peak < 400, peak
    with sqlite3.connect(tmp_path / "ledger.db") as db:
        assert db.execute("SELECT count(*) FROM messages").fetchone()[0] == len(mails)
        assert db.execute("SELECT count(*) FROM imap_seen").fetchone()[0] == len(mails)
        # The poll finished every mail: none is left received or half-read.
        states = [r[0] for r in db.execute("SELECT state FROM messages")]
        assert all(s in ("checked", "needs_review") for s in states), states
        # 5000 nested parts are read up to max_parts, not quarantined: nothing is set aside.
        quarantined = db.execute("SELECT problem FROM messages WHERE state='quarantined'")
        assert list(quarantined) == []
        # The hostile mails ended on their bounds, each with its own finding.
        details = [r[0] for r in db.execute(
            "SELECT detail FROM findings WHERE code = 'ATTACHMENT_UNREADABLE'")]
        assert any("パートが多すぎる" in d for d in details), details
        assert any("shinsei.zip" in d and "壊れ" in d for d in details), details
        [size] = db.execute("SELECT max(size) FROM messages WHERE state = 'checked'").fetchone()
        assert size > 25 * 1000 * 1000  # the 25 MB mail was read, not set aside
    # Two answers only: the canary's receipt and the hostile (merged) submission's notice.
    # `poll --once` has returned, so every mail it sends is already in.
    received = smtp_server.wait_for(2)
    assert sorted(m.rcpt_tos[0] for m in smtp_server.messages) == sorted([LEAD, hf.SENDER])
    assert all(OUR_ADDRESS not in m.rcpt_tos for m in received)
    # A second poll fetches nothing again and answers nothing again.
    assert main(["--config", str(config), "poll", "--once"]) == 0
    assert len(smtp_server.messages) == 2
