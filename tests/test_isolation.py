"""Bounded work per mail: every untrusted attachment is read in a child process under hard
limits, and a mail built to hold the reader for long or grow it large ends with a finding while
the next mail of the same replay is answered.

The hostile mails are made like an attacker makes them (tests/isolation_factory.py writes the
bytes of each format directly). Assertions are about behaviour (the finding, what was stored,
the canary's receipt, the memory cap of the child), never about how fast this machine is.
"""

from __future__ import annotations

import fcntl
import io
import multiprocessing
import resource
import threading
import time
import traceback
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from contextlib import redirect_stderr, redirect_stdout
from dataclasses import dataclass
from pathlib import Path

import pytest

from ingest import sandbox
from ingest.cli import main
from parsers.limits import Limits
from tests import hostile_factory as hf
from tests import isolation_factory as isf
from tests.mails import LEAD, VALID_CONSORTIUM
from tests.test_hostile import Run, _nothing_big_stored, _vm_hwm_mb, finish_case, prepare_case

MB = 1024 * 1024
CAP = 64 * MB


# --------------------------------------------------------------------------- the sandbox alone


def _allocate(size: int) -> int:
    return len(bytearray(size))


def _spin() -> None:
    while True:
        pass


def _block() -> None:
    threading.Event().wait()


def _fail() -> None:
    raise ValueError("a bug in our own reader")


def _pid() -> int:
    import os

    return os.getpid()


@pytest.fixture
def box():
    worker = sandbox.Sandbox(CAP)
    yield worker
    worker.close()


def test_a_task_past_the_memory_cap_is_a_breach_and_the_next_task_runs(box):
    assert box.run(_allocate, MB, cpu_seconds=60, wall_seconds=600).value == MB
    outcome = box.run(_allocate, 4 * CAP, cpu_seconds=60, wall_seconds=600)
    assert outcome.breach == sandbox.MEMORY and outcome.value is None
    assert box.run(_allocate, MB, cpu_seconds=60, wall_seconds=600).value == MB


def test_a_task_past_its_cpu_budget_is_killed_and_the_worker_replaced(box):
    first = box.run(_pid, cpu_seconds=60, wall_seconds=600).value
    outcome = box.run(_spin, cpu_seconds=1, wall_seconds=600)  # only the CPU limit can end it
    assert outcome.breach == sandbox.TIME
    second = box.run(_pid, cpu_seconds=60, wall_seconds=600).value
    assert second != first


def test_a_task_that_never_answers_is_killed_at_the_wall_limit(box):
    outcome = box.run(_block, cpu_seconds=60, wall_seconds=1)
    assert outcome.breach == sandbox.TIME
    assert box.run(_allocate, 1, cpu_seconds=60, wall_seconds=600).value == 1


def test_the_worker_is_reused_across_tasks(box):
    pids = {box.run(_pid, cpu_seconds=60, wall_seconds=600).value for _ in range(5)}
    assert len(pids) == 1


def test_a_bug_in_the_task_is_an_error_not_a_breach(box):
    with pytest.raises(sandbox.SandboxError, match="a bug in our own reader"):
        box.run(_fail, cpu_seconds=60, wall_seconds=600)
    assert box.run(_allocate, 1, cpu_seconds=60, wall_seconds=600).value == 1


def test_the_worker_holds_no_lock_of_its_parent(box, tmp_path):
    """The ledger lock is an flock on an inherited descriptor: a worker forked while it is
    held must not keep it once the command that took it has let go."""
    path = tmp_path / "ledger.lock"
    held = path.open("w")
    fcntl.flock(held, fcntl.LOCK_EX | fcntl.LOCK_NB)
    assert box.run(_pid, cpu_seconds=60, wall_seconds=600).ok  # forked while held
    held.close()
    with path.open("w") as again:
        fcntl.flock(again, fcntl.LOCK_EX | fcntl.LOCK_NB)  # raises if the worker kept it


# --------------------------------------------------------------------------- whole mails


@dataclass
class Measured:
    run: Run
    child_peak_mb: float  # the largest peak RSS of the workers this replay used


def _replay_measured(config: str, folder: str, then: list[str]) -> tuple[tuple, float]:
    """`replay` (and then `then`, e.g. reprocess) in a process forked from a server that
    imported the program; its own peak RSS and its workers' (reaped, so counted in
    RUSAGE_CHILDREN)."""
    Path("/proc/self/clear_refs").write_text("5")
    out, err = io.StringIO(), io.StringIO()
    start = time.perf_counter()
    with redirect_stdout(out), redirect_stderr(err):
        try:
            code = main(["--config", config, "replay", folder])
            if then and code == 0:
                code = main(["--config", config, *then])
        except BaseException:
            traceback.print_exc()
            code = 1
    seconds = time.perf_counter() - start
    sandbox.close_shared()
    children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    return (code, seconds, _vm_hwm_mb(), out.getvalue(), err.getvalue()), children


def _unreadable(*words: str) -> Callable[[Run], None]:
    def check(run: Run) -> None:
        details = [f["detail"] for f in run.findings("ATTACHMENT_UNREADABLE")]
        assert any(all(w in d for w in words) for d in details), (details, run.hostile)
        assert run.hostile["replies"][0]["kind"] == "deficiency"
        _nothing_big_stored(run)
    return check


def _parts_cut(run: Run) -> None:
    _unreadable("パートが多すぎる", str(Limits().max_parts))(run)
    assert len(run.attachments()) <= Limits().max_parts
    assert "SENDER_DETAILS_MISSING" not in run.hostile["findings"]  # the text part was read


def _xlsx_mail(msgid: str, build: Callable[[], bytes]) -> Callable[[], bytes]:
    return lambda: hf.hostile(msgid, {"4_交付申請書.xlsx": build()})


@dataclass(frozen=True)
class Case:
    name: str
    build: Callable[[], bytes]
    expect: Callable[[Run], None]
    then: tuple[str, ...] = ()


CASES = [
    Case("xlsx-500mb-shared-string", _xlsx_mail("sst500", isf.xlsx_huge_shared_string),
         _unreadable("4_交付申請書.xlsx", "上限")),
    Case("xlsx-10m-shared-strings", _xlsx_mail("sst10m", isf.xlsx_many_shared_strings),
         _unreadable("4_交付申請書.xlsx", "文字列の数")),
    Case("xlsx-1m-rows", _xlsx_mail("rows1m", isf.xlsx_many_rows),
         _unreadable("4_交付申請書.xlsx", "セル・行の数")),
    # Evaluated twice (replay, then reprocess): the same finding again, not a second hang.
    Case("tnef-2^32-properties",
         lambda: hf.hostile("tnef", {"winmail.dat": isf.tnef_endless_properties()}),
         _unreadable("winmail.dat", "上限", "データの大きさを超えて宣言"), then=("reprocess", "--all")),
    Case("mail-10000-parts", lambda: isf.many_parts(10_000, "parts10k"), _parts_cut),
    Case("mail-30000-parts", lambda: isf.many_parts(30_000, "parts30k"), _parts_cut),
    Case("zip-199-members-under-the-floor",
         lambda: hf.hostile("floor", {"shinsei.zip": isf.zip_under_the_floor()}),
         _unreadable("shinsei.zip", "圧縮率")),
    Case("five-zips-under-the-floor",
         lambda: hf.hostile("floor5", {f"shinsei{i}.zip": isf.zip_under_the_floor()
                                       for i in range(5)}),
         _unreadable("安全上の上限")),
]


@pytest.fixture(scope="module")
def measured(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Measured]:
    base = tmp_path_factory.mktemp("isolation")
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload(["ingest.cli", "tests.test_isolation"])
    results: dict[str, Measured] = {}
    with ProcessPoolExecutor(2, mp_context=context, max_tasks_per_child=1) as pool:
        futures = {}
        for case in CASES:
            root = base / case.name
            config, folder = prepare_case(root, case.build())
            futures[case.name] = (root, pool.submit(
                _replay_measured, config, folder, list(case.then)))
        for name, (root, future) in futures.items():
            result, children = future.result(timeout=900)
            results[name] = Measured(finish_case(root, result), children)
    for name, m in results.items():  # the figures, for whoever reads the log
        print(f"{name}: {m.run.seconds:.1f} s, replay peak {m.run.peak_mb:.0f} MB, "
              f"worker peak {m.child_peak_mb:.0f} MB")
    return results


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_hostile_attachment_ends_with_a_finding_and_the_next_mail_is_answered(
        case: Case, measured: dict[str, Measured]) -> None:
    m = measured[case.name]
    run = m.run
    assert run.returncode == 0, run.stderr[-3000:]
    assert "2 通を読み込み: 新規 2" in run.stdout, run.stdout
    case.expect(run)
    [canary] = [s for s in run.submissions if s["consortium"] == VALID_CONSORTIUM
                and s["lead_email"] == LEAD]
    assert canary["findings"] == [] and [r["kind"] for r in canary["replies"]] == ["receipt"]
    # Memory: the replay never holds what the attachments inflate to, and the worker is held
    # to its address-space cap (256 MiB beyond what it was forked with) by the kernel.
    assert run.peak_mb < 300, run.peak_mb
    assert m.child_peak_mb < run.peak_mb + 256 + 16, (m.child_peak_mb, run.peak_mb)


# --------------------------------------------------------------------------- the parts around


def test_a_large_base64_body_is_decoded_as_the_standard_library_does():
    import base64
    import email
    import os
    from email.policy import compat32

    from parsers.mime import parse_message

    payload = os.urandom(3 * MB)
    raw = hf.hostile("b64big", {"資料.pdf": b"%PDF-1.4\n" + payload})
    [attachment] = parse_message(raw).attachments
    standard = [p for p in email.message_from_bytes(raw, policy=compat32).walk()
                if p.get_filename()][0]
    assert attachment.data == standard.get_payload(decode=True) == b"%PDF-1.4\n" + payload
    # Damaged (a stray character, a cut quantum): the standard path, which notes the damage.
    text = base64.encodebytes(payload).replace(b"\n", b"\r\n")
    body = (b"--s\r\nContent-Type: text/plain\r\n\r\nhi\r\n--s\r\nContent-Type: application/pdf\r\n"
            b"Content-Transfer-Encoding: base64\r\n"
            b'Content-Disposition: attachment; filename="a.pdf"\r\n\r\n'
            + text[:-7] + b"!\r\n--s--\r\n")
    record = parse_message(hf.raw_mail("b64bad", body, cte=b"7bit",
                                       content_type=b'multipart/mixed; boundary="s"'))
    assert any("base64" in p for p in record.problems), record.problems
    assert record.attachments[0].data[:MB] == payload[:MB]


def test_only_the_first_max_parts_are_read():
    from parsers.mime import parse_message

    raw = isf.many_parts(600, "cut")
    record = parse_message(raw, max_parts=100)
    assert record.parts_cut == 100 and len(record.attachments) < 100
    assert "試験 太郎" in record.body  # the text part before the attachments is read
    assert parse_message(raw).parts_cut is None and len(parse_message(raw).attachments) == 600


def test_files_written_together_are_searchable_and_indexed_once_per_message(tmp_path):
    from datetime import UTC, datetime

    from state import queries
    from state.blobs import BlobStore
    from state.ledger import Arrival, Ledger
    from state.search_index import search_rebuilt_once

    ledger = Ledger(tmp_path / "ledger.db", BlobStore(tmp_path / "blobs"))
    message = ledger.record_mail(b"Subject: x\r\n\r\nbody\r\n", Arrival(
        "eml", "x.eml", datetime(2022, 8, 10, tzinfo=UTC), "received")).message
    rows = [{"message": message, "path": f"申請.zip/添付{i:05d}.pdf", "name": f"添付{i:05d}.pdf",
             "kind": "pdf", "size": 1} for i in range(3000)]
    writes: list[str] = []
    ledger.db.conn.set_trace_callback(writes.append)  # FTS5's own statements included
    with ledger.transaction(), search_rebuilt_once(ledger.db):
        ledger.db["attachments"].insert_all(rows)
    ledger.db.conn.set_trace_callback(None)
    rows_written = [w for w in writes if "INSERT INTO 'main'.'message_search_content'" in w]
    assert len(rows_written) == 1, len(rows_written)  # the message's row, once for 3000 files
    assert queries.search(ledger, "添付02999").total == 1
    assert ledger.db.execute("SELECT count(*) FROM message_search_stale").fetchone()[0] == 0


def test_the_worker_serves_a_pool_thread_and_outlives_the_thread_that_forked_it(box):
    """The daemon evaluates on scheduler threads: a worker forked from one thread serves the
    next task from another, after the first thread has ended."""
    first: list[sandbox.Outcome] = []
    thread = threading.Thread(target=lambda: first.append(
        box.run(_pid, cpu_seconds=60, wall_seconds=600)))
    thread.start()
    thread.join()
    assert first[0].ok
    assert box.run(_pid, cpu_seconds=60, wall_seconds=600).value == first[0].value


def test_check_reads_each_file_in_the_sandbox_and_goes_on_after_a_breach(tmp_path):
    from ingest.check_cmd import run_check
    from parsers.forms import load_form_map
    from rules.program import Program

    hostile = tmp_path / "winmail.dat"
    hostile.write_bytes(isf.tnef_endless_properties())
    workbook = tmp_path / "4_交付申請書.xlsx"
    workbook.write_bytes(isf.xlsx_many_rows())
    valid = Path(__file__).parent.parent / "examples" / "forms" / "valid-application.xlsx"
    out = io.StringIO()
    status = run_check([hostile, workbook, valid], Program(), load_form_map(), out,
                       limits=Limits())
    text = out.getvalue()
    assert status == 1
    first, second, third = text.split("■ ")[1:]
    assert "ATTACHMENT_UNREADABLE" in first and "宣言されています" in first, first
    assert "ATTACHMENT_UNREADABLE" in second and "セル・行の数" in second, second
    assert "不備なし" in third, third
