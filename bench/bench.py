"""The benchmark: renkei-intake beside the tools a secretariat would otherwise use.

    .venv/bin/python bench/bench.py                  # the full run (~25 min on 2 cores)
    .venv/bin/python bench/bench.py --mails 50 --idle 5 --query-mails 10000   # a quick look

One run, one generated corpus (bench/corpus.py) delivered by IMAP APPEND into a local Dovecot
(tests/servers.py), then side by side:

1. fetch: renkei-intake's IMAP fetch + durable record (`ingest.imap_source.new_batches` and
   `Ledger.record_mails` in a child process: per FETCH batch, each blob fsynced, one fsync per
   directory, then one SQLite commit for the batch's rows; no parsing)
   vs `mbsync` pulling the same folder into a Maildir (fsync on, its default);
2. replay: `renkei-intake replay MAILDIR` (parse, unpack, check, record, replies written as .eml)
   vs two fact floors, the least work that sees the same facts (the MIME floor below, every zip
   member read, every cell of every workbook with openpyxl in read-only mode or with
   python-calamine, the text of every PDF page with pypdf), and vs the standard-library MIME
   floor (`email.message_from_bytes(policy=default)`, walking the parts, decoding every
   attachment payload), all over the same files;
3. IDLE: `renkei-intake run` with a 3600 s poll interval, so only IDLE brings mail in; the time
   from the start of the APPEND to the `messages` row, over N deliveries one at a time, and
   in a deadline rush (200 mails over 10 minutes while the daemon works on them);
4. peak RSS (`wait4` ru_maxrss) of `renkei-intake replay` of one 25 MiB mail, beside the floor's;
5. the staff views and search on a 100,000-mail ledger (bench/bench_queries.py).

Nothing is tuned per tool: each side runs as a fresh process with its shipped defaults, fetch
rounds alternate between the two tools after one unmeasured warm-up, and the load average of
this (shared) machine is printed beside each section.
"""

from __future__ import annotations

import argparse
import email
import json
import os
import platform
import shutil
import signal
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email import policy
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
BENCH = Path(__file__).resolve().parent
for _path in (REPO, BENCH):
    if str(_path) not in sys.path:
        sys.path.insert(0, str(_path))

PYTHON = sys.executable
RENKEI = str(Path(PYTHON).with_name("renkei-intake"))

# --------------------------------------------------------------------------------------------
# Child processes: each measured side runs in a process of its own (like mbsync does).


def worker_fetch(config: str) -> dict[str, Any]:
    """renkei-intake's fetch + durable record of every new mail of the configured folder."""
    from ingest.config import load_settings
    from ingest.imap_source import connect, new_batches
    from state.blobs import BlobStore
    from state.ledger import Ledger

    started = time.perf_counter()
    settings = load_settings(Path(config))
    assert settings.imap is not None
    ledger = Ledger(settings.ledger_path, BlobStore(settings.blobs_dir), actor="bench")
    client = connect(settings.imap)
    count = 0
    for batch in new_batches(client, settings.imap, ledger):
        ledger.record_mails([(mail.raw, mail.arrival) for mail in batch])
        count += len(batch)
    client.logout()
    ledger.close()
    return {"mails": count, "seconds": time.perf_counter() - started}


def worker_fetch_stage(stage: str, config: str) -> dict[str, Any]:
    """One slice of `worker_fetch`, to see where its time goes (--explain):

    - `imapclient`: the same UID FETCH batches through imapclient, nothing kept;
    - `new_batches`: `new_batches` (the body FETCH, the next batch read while this one is
      handled, Message-ID and content keys), nothing kept;
    - `no_fsync`: the whole fetch + record with fsync a no-op and SQLite synchronous=OFF.
    """
    from ingest.config import load_settings
    from ingest.imap_source import connect, new_batches
    from state.blobs import BlobStore
    from state.ledger import Ledger

    started = time.perf_counter()
    settings = load_settings(Path(config))
    server = settings.imap
    assert server is not None
    count = 0
    client = connect(server)
    if stage == "imapclient":
        client.select_folder(server.folder, readonly=True)
        uids = sorted(client.search(["ALL"]))
        for first in range(0, len(uids), server.batch_size):
            count += len(client.fetch(uids[first:first + server.batch_size],
                                      ["BODY.PEEK[]", "INTERNALDATE"]))
    else:
        if stage == "no_fsync":
            os.fsync = lambda fd: None  # this throwaway process only
        ledger = Ledger(settings.ledger_path, BlobStore(settings.blobs_dir), actor="bench")
        if stage == "no_fsync":
            ledger.db.execute("PRAGMA synchronous=OFF")
        for batch in new_batches(client, server, ledger):
            if stage == "no_fsync":
                ledger.record_mails([(mail.raw, mail.arrival) for mail in batch])
            count += len(batch)
        ledger.close()
    client.logout()
    return {"mails": count, "seconds": time.perf_counter() - started}


def worker_floor(paths: list[str]) -> dict[str, Any]:
    """The parse floor: what any Python program must do at least to read these mails."""
    started = time.perf_counter()
    files = _mail_files([Path(p) for p in paths])
    count = decoded = 0
    for path in files:
        msg = email.message_from_bytes(path.read_bytes(), policy=policy.default)
        str(msg["subject"]), str(msg["from"])  # decoded headers (RFC 2047)
        for part in msg.walk():
            if part.is_multipart():
                continue
            if part.get_content_maintype() == "text" and not part.is_attachment():
                decoded += len(part.get_content())  # the body, decoded to str
            else:
                decoded += len(part.get_payload(decode=True) or b"")  # the attachment bytes
                part.get_filename()
        count += 1
    return {"mails": count, "decoded_bytes": decoded, "seconds": time.perf_counter() - started}


FACT_READERS = ("openpyxl", "calamine")


def worker_fact_floor(reader: str, paths: list[str]) -> dict[str, Any]:
    """The fact floor: the least work that sees the facts a replay judges. The MIME floor's
    parse, then every zip member read, every cell of every workbook (`reader`: openpyxl in
    read-only mode, or python-calamine) and the text of every PDF page (pypdf)."""
    import io
    import zipfile

    from pypdf import PdfReader

    if reader == "calamine":
        from python_calamine import CalamineWorkbook

        def cells(data: bytes) -> int:
            book = CalamineWorkbook.from_filelike(io.BytesIO(data))
            return sum(len(row) for name in book.sheet_names
                       for row in book.get_sheet_by_name(name).to_python())
    else:
        from openpyxl import load_workbook

        def cells(data: bytes) -> int:
            book = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
            try:
                return sum(len(row) for sheet in book.worksheets
                           for row in sheet.iter_rows(values_only=True))
            finally:
                book.close()

    seen = {"cells": 0, "pdf_pages": 0, "pdf_chars": 0, "zip_members": 0, "files": 0}

    def read(name: str, data: bytes) -> None:
        lower = name.lower()
        seen["files"] += 1
        if lower.endswith(".zip"):
            with zipfile.ZipFile(io.BytesIO(data)) as archive:
                for info in archive.infolist():
                    if not info.is_dir():
                        seen["zip_members"] += 1
                        read(info.filename, archive.read(info))
        elif lower.endswith((".xlsx", ".xlsm")):
            seen["cells"] += cells(data)
        elif lower.endswith(".pdf"):
            for page in PdfReader(io.BytesIO(data)).pages:
                seen["pdf_pages"] += 1
                seen["pdf_chars"] += len(page.extract_text() or "")

    started = time.perf_counter()
    count = 0
    for path in _mail_files([Path(p) for p in paths]):
        msg = email.message_from_bytes(path.read_bytes(), policy=policy.default)
        str(msg["subject"]), str(msg["from"])
        for part in msg.walk():
            if part.is_multipart():
                continue
            if part.get_content_maintype() == "text" and not part.is_attachment():
                part.get_content()
            else:
                read(part.get_filename() or "", part.get_payload(decode=True) or b"")
        count += 1
    return {"mails": count, **seen, "seconds": time.perf_counter() - started}


def _mail_files(paths: list[Path]) -> list[Path]:
    """The files of Maildirs (new/ and cur/, by name, as renkei-intake reads them) or .eml."""
    files: list[Path] = []
    for path in paths:
        if path.is_dir():
            files += sorted((p for sub in ("new", "cur") if (path / sub).is_dir()
                             for p in (path / sub).iterdir() if p.is_file()), key=lambda p: p.name)
        else:
            files.append(path)
    return files


# --------------------------------------------------------------------------------------------
# Running and timing processes


@dataclass
class Run:
    seconds: float  # wall clock of the whole process
    maxrss_mb: float  # peak resident set of that process (wait4)
    stdout: str
    stderr: str
    returncode: int


def run_process(argv: list[str], *, cwd: Path | None = None, timeout: float = 1800) -> Run:
    """Run `argv` under a small measuring parent (`--worker-measure`) and return its wall time
    and peak RSS.

    Why the extra parent: Linux keeps a process's RSS high-water mark across exec, so a child
    forked straight from this script (which holds the whole corpus in memory) would report
    this script's size. The measuring parent is a bare interpreter (~10 MB); it times the
    command from spawn to exit and reads getrusage(RUSAGE_CHILDREN).ru_maxrss afterwards.
    """
    with tempfile.TemporaryDirectory() as tmp:
        report = Path(tmp) / "measure.json"
        out_path, err_path = Path(tmp) / "out", Path(tmp) / "err"
        measure = [PYTHON, "-I", __file__, "--worker-measure", str(report), str(out_path),
                   str(err_path), *argv]
        done = subprocess.run(measure, cwd=cwd, timeout=timeout, check=False,
                              stdin=subprocess.DEVNULL)
        if not report.exists():
            raise RuntimeError(f"the measuring process failed ({done.returncode}) for {argv[:3]}")
        figures = json.loads(report.read_text())
        return Run(figures["seconds"], figures["maxrss_kb"] / 1024,
                   out_path.read_text(errors="replace"), err_path.read_text(errors="replace"),
                   figures["returncode"])


def worker_measure(report: str, out: str, err: str, argv: list[str]) -> None:
    """The measuring parent of `run_process`: imports nothing heavy on purpose."""
    import resource

    with open(out, "wb") as stdout, open(err, "wb") as stderr:
        started = time.perf_counter()
        code = subprocess.call(argv, stdout=stdout, stderr=stderr, stdin=subprocess.DEVNULL)
        seconds = time.perf_counter() - started
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    Path(report).write_text(json.dumps(
        {"seconds": seconds, "maxrss_kb": usage.ru_maxrss, "returncode": code}))


def checked(run: Run, what: str) -> Run:
    if run.returncode != 0:
        raise RuntimeError(f"{what} failed ({run.returncode}):\n{run.stdout[-2000:]}\n"
                           f"{run.stderr[-2000:]}")
    return run


def worker(name: str, *args: str) -> tuple[Run, dict[str, Any]]:
    run = checked(run_process([PYTHON, __file__, f"--worker-{name}", *args]), f"worker {name}")
    return run, json.loads(run.stdout.strip().splitlines()[-1])


def load() -> str:
    one, five, _ = os.getloadavg()
    return f"{one:.2f}/{five:.2f}"


# --------------------------------------------------------------------------------------------
# Results


@dataclass
class Row:
    what: str
    ours: str
    reference: str
    target: str
    met: bool | None  # None: informational
    load: str = ""


@dataclass
class Results:
    rows: list[Row] = field(default_factory=list)
    details: dict[str, Any] = field(default_factory=dict)

    def add(self, row: Row) -> None:
        self.rows.append(row)
        mark = {True: "met", False: "MISSED", None: "-"}[row.met]
        print(f"  => {row.what}: {row.ours} | reference {row.reference} | target {row.target}"
              f" | {mark}", flush=True)

    def table(self) -> str:
        head = ("measurement", "renkei-intake", "reference", "target", "result", "load 1/5 min")
        lines = [head] + [(r.what, r.ours, r.reference, r.target,
                           {True: "met", False: "MISSED", None: "-"}[r.met], r.load)
                          for r in self.rows]
        widths = [max(_width(line[i]) for line in lines) for i in range(len(head))]
        out = []
        for index, line in enumerate(lines):
            out.append(" | ".join(cell + " " * (w - _width(cell)) for cell, w in zip(line, widths, strict=True)))
            if index == 0:
                out.append("-+-".join("-" * w for w in widths))
        return "\n".join(out)


def _width(text: str) -> int:
    """Terminal columns: CJK characters take two."""
    return sum(2 if ord(ch) > 0x2E80 else 1 for ch in text)


# --------------------------------------------------------------------------------------------
# Set-up: machine, corpus, Dovecot


def machine() -> dict[str, str]:
    cpu = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                if line.startswith("model name")), platform.processor())
    mem_kb = next(int(line.split()[1]) for line in Path("/proc/meminfo").read_text().splitlines()
                  if line.startswith("MemTotal"))

    def version(argv: list[str]) -> str:
        try:
            done = subprocess.run(argv, capture_output=True, text=True, timeout=10, check=False)
        except OSError:
            return "missing"
        return (done.stdout or done.stderr).strip().splitlines()[0]

    from tests.servers import dovecot_binary

    return {
        "cpu": f"{cpu}, {os.cpu_count()} cores", "memory": f"{mem_kb / 1024 / 1024:.1f} GiB",
        "os": f"{platform.system()} {platform.release()}, Debian {_debian()}",
        "python": platform.python_version(), "sqlite": sqlite3.sqlite_version,
        "dovecot": version([dovecot_binary() or "dovecot", "--version"]),
        "mbsync": version(["mbsync", "--version"]),
        "filesystem": version(["findmnt", "-no", "FSTYPE", "-T", tempfile.gettempdir()]),
    }


def _debian() -> str:
    path = Path("/etc/debian_version")
    return path.read_text().strip() if path.exists() else "?"


def make_corpus(work: Path, mails: int, seed: int) -> list[Any]:
    """The corpus, cached in `work` (generating 1,000 mails takes a minute or two)."""
    import pickle

    import corpus

    cache = work / f"corpus-{mails}-{seed}.pickle"
    if cache.exists():
        return pickle.loads(cache.read_bytes())
    generated = corpus.generate(mails, seed)
    cache.write_bytes(pickle.dumps(generated))
    return generated


def write_config(directory: Path, *, port: int | None = None, user: str = "",
                 password: str = "", poll_interval: int = 60, extra: str = "") -> Path:
    """A config.toml in `directory`: ledger, blobs and outbox beside it, no SMTP (replies are
    written as .eml files), and optionally plain IMAP on loopback with a password file."""
    directory.mkdir(parents=True, exist_ok=True)
    text = ('[paths]\nledger = "ledger.db"\nblobs = "blobs"\noutbox = "outbox"\n\n'
            f"[daemon]\npoll_interval_seconds = {poll_interval}\n")
    if port is not None:
        secret = directory / "imap.pass"
        secret.write_text(password)
        secret.chmod(0o600)
        text += (f'\n[imap]\nhost = "127.0.0.1"\nport = {port}\ntls = "none"\n'
                 f'user = "{user}"\npassword_file = "imap.pass"\nfolder = "INBOX"\n')
    path = directory / "config.toml"
    path.write_text(text + ("\n" + extra if extra else ""))
    return path


def ledger_count(path: Path, sql: str = "SELECT count(*) FROM messages",
                 args: tuple[Any, ...] = ()) -> int:
    with sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=5) as conn:
        return int(conn.execute(sql, args).fetchone()[0])


# --------------------------------------------------------------------------------------------
# 1. IMAP fetch + record vs mbsync


def mbsync_config(directory: Path, port: int, user: str, password: str,
                  fsync: bool = True) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    secret = directory / "imap.pass"
    secret.write_text(password)
    secret.chmod(0o600)
    (directory / "mail").mkdir()  # mbsync creates the folder, not the store's root
    rc = directory / "mbsyncrc"
    rc.write_text(f"""\
FSync {"yes" if fsync else "no"}

IMAPAccount bench
Host 127.0.0.1
Port {port}
User {user}
PassCmd "cat {secret}"
SSLType None
AuthMechs LOGIN

IMAPStore remote
Account bench

MaildirStore local
Path {directory}/mail/
Inbox {directory}/mail/INBOX

Channel bench
Far :remote:INBOX
Near :local:INBOX
Sync Pull
Create Near
SyncState *
""")
    return rc


def fetch_round_mbsync(base: Path, port: int, user: str, password: str, mails: int,
                       fsync: bool = True) -> float:
    shutil.rmtree(base, ignore_errors=True)
    rc = mbsync_config(base, port, user, password, fsync)
    run = checked(run_process(["mbsync", "-q", "-c", str(rc), "bench"]), "mbsync")
    got = len(_mail_files([base / "mail" / "INBOX"]))
    if got != mails:
        raise RuntimeError(f"mbsync fetched {got} mails, expected {mails}:\n{run.stderr}")
    return run.seconds


def fetch_round_renkei(base: Path, port: int, user: str, password: str,
                       mails: int) -> tuple[float, float]:
    shutil.rmtree(base, ignore_errors=True)
    config = write_config(base, port=port, user=user, password=password)
    run, inner = worker("fetch", str(config))
    got = ledger_count(base / "ledger.db")
    if inner["mails"] != mails or got != mails:
        raise RuntimeError(f"renkei-intake recorded {got} mails, expected {mails}")
    return run.seconds, inner["seconds"]


def bench_fetch(results: Results, work: Path, port: int, user: str, password: str,
                mails: int, rounds: int, explain: bool = False) -> None:
    print(f"[fetch] {rounds} rounds after a warm-up, load {load()}", flush=True)
    fetch_round_mbsync(work / "fetch-mbsync", port, user, password, mails)  # warm-up
    theirs, ours, ours_inner = [], [], []
    for index in range(rounds):
        # Alternate who goes first, so neither profits from the other's cache work.
        order = ("mbsync", "renkei") if index % 2 == 0 else ("renkei", "mbsync")
        for tool in order:
            if tool == "mbsync":
                theirs.append(fetch_round_mbsync(work / "fetch-mbsync", port, user, password,
                                                 mails))
            else:
                wall, inner = fetch_round_renkei(work / "fetch-renkei", port, user, password,
                                                 mails)
                ours.append(wall)
                ours_inner.append(inner)
        print(f"  round {index + 1}: mbsync {theirs[-1]:.2f} s, renkei-intake {ours[-1]:.2f} s",
              flush=True)
    mine, ref = statistics.median(ours), statistics.median(theirs)
    results.details["fetch"] = {"mbsync_s": theirs, "renkei_s": ours, "renkei_inner_s": ours_inner}
    results.add(Row(
        f"IMAP fetch + durable record, {mails} mails",
        f"{mine:.2f} s ({mails / mine:.0f} mails/s)",
        f"mbsync {ref:.2f} s ({mails / ref:.0f} mails/s)",
        "≤ 1.5× mbsync", mine <= 1.5 * ref, load()))
    results.rows[-1].ours += f" = {mine / ref:.2f}×"
    if explain:
        explain_fetch(results, work, port, user, password, mails)


def explain_fetch(results: Results, work: Path, port: int, user: str, password: str,
                  mails: int) -> None:
    """Where renkei-intake's fetch time goes: each slice once, in a fresh process."""
    print("[fetch, explained] one run of each slice", flush=True)
    base = work / "fetch-stage"
    slices: dict[str, float] = {}
    for stage in ("imapclient", "new_batches", "no_fsync"):
        shutil.rmtree(base, ignore_errors=True)
        config = write_config(base, port=port, user=user, password=password)
        run, inner = worker("fetch-stage", stage, str(config))
        if inner["mails"] != mails:
            raise RuntimeError(f"slice {stage} saw {inner['mails']} of {mails} mails")
        slices[f"renkei {stage}"] = run.seconds
    slices["mbsync FSync no"] = fetch_round_mbsync(work / "fetch-mbsync", port, user, password,
                                                   mails, fsync=False)
    slices["python -c pass (interpreter start)"] = checked(
        run_process([PYTHON, "-c", "pass"]), "python").seconds
    for name, seconds in slices.items():
        print(f"  {name:<40} {seconds:6.2f} s", flush=True)
    results.details["fetch_explained"] = slices


# --------------------------------------------------------------------------------------------
# 2. replay vs the standard-library parse floor


def bench_replay(results: Results, work: Path, corpus_mails: list[Any]) -> None:
    import corpus

    maildir = work / "replay-maildir"
    if not maildir.exists():
        corpus.write_maildir(corpus_mails, maildir)
    mails = len(corpus_mails)
    print(f"[replay] {mails} mails, load {load()}", flush=True)
    # The MIME floor is short, so a moment of load on this shared machine moves it a lot: the
    # median of three runs. The fact floors and the replay run for a minute or more each and
    # average that out; they run back to back (floor, replay, floor) so that load drifting
    # during the section hits both sides alike.
    floors = []
    for _ in range(3):
        floor_run, floor = worker("floor", str(maildir))
        floors.append(floor_run.seconds)
        print(f"  MIME floor: {floor_run.seconds:.2f} s (loop {floor['seconds']:.2f} s)", flush=True)
    floor_seconds = statistics.median(floors)
    fact: dict[str, dict[str, Any]] = {}

    def fact_floor(reader: str) -> None:
        try:
            run, inner = worker("fact-floor", reader, str(maildir))
        except RuntimeError as exc:  # python-calamine not installed: say so, measure the rest
            print(f"  fact floor ({reader}) not run: {str(exc).strip().splitlines()[-1]}", flush=True)
            return
        fact[reader] = {"seconds": run.seconds, "load": load(), **inner}
        print(f"  fact floor ({reader}): {run.seconds:.2f} s (loop {inner['seconds']:.2f} s; "
              f"{inner['cells']:,} cells, {inner['pdf_pages']:,} PDF pages, "
              f"{inner['zip_members']:,} zip members)", flush=True)

    fact_floor("openpyxl")
    base = work / "replay-renkei"
    shutil.rmtree(base, ignore_errors=True)
    config = write_config(base)
    replay_load = load()
    run = checked(run_process([RENKEI, "--config", str(config), "replay", str(maildir)]),
                  "renkei-intake replay")
    replay_load += f" → {load()}"
    recorded = ledger_count(base / "ledger.db")
    states = _group_counts(base / "ledger.db", "SELECT state, count(*) FROM messages GROUP BY 1")
    replies = _group_counts(base / "ledger.db", "SELECT kind, count(*) FROM replies GROUP BY 1")
    print(f"  renkei-intake replay: {run.seconds:.2f} s, {run.stdout.strip()}", flush=True)
    if recorded != mails:
        raise RuntimeError(f"replay recorded {recorded} of {mails} mails")
    fact_floor("calamine")
    ours = mails / run.seconds
    results.details["replay"] = {"renkei_s": run.seconds, "floor_s": floors, "states": states,
                                 "replies": replies, "renkei_maxrss_mb": run.maxrss_mb,
                                 "fact_floors": fact}
    head = f"full replay (parse, unpack, check, record), {mails} mails"
    mine = f"{run.seconds:.1f} s = {ours:.1f} mails/s"
    for reader, target in (("openpyxl", 0.8), ("calamine", None)):
        if reader not in fact:
            results.add(Row(f"{head}, vs the {reader} fact floor", mine, "not run (not installed)",
                            "≥ 80 %" if target else "reported", False if target else None,
                            replay_load))
            continue
        ref = mails / fact[reader]["seconds"]
        results.add(Row(
            f"{head}, vs the {reader} fact floor",
            f"{mine} = {ours / ref:.1%} of floor",
            f"MIME + zip members + every cell ({reader}) + PDF page text (pypdf): "
            f"{fact[reader]['seconds']:.1f} s = {ref:.1f} mails/s",
            f"≥ {target:.0%} of floor" if target else "reported",
            ours >= target * ref if target else None, f"{replay_load}; floor {fact[reader]['load']}"))
    ref = mails / floor_seconds
    results.add(Row(
        f"{head}, vs the MIME floor",
        f"{mine} = {ours / ref:.1%} of floor",
        f"stdlib MIME parse floor {floor_seconds:.1f} s = {ref:.1f} mails/s (median of 3)",
        "reported (reads no workbook or PDF)", None, replay_load))


# (indent, label, file suffix, function): a tree of the replay's costs in its main process, by
# cumulative time. The attachments are read in the sandbox worker, another process: its work
# (unpacking, calamine, pypdf, storing files) shows here as the time spent waiting for it.
REPLAY_COSTS = (
    (0, "record the raw mails, in batches (take_batch)", "ingest/pipeline.py", "take_batch"),
    (1, "durable record of a batch (record_mails)", "state/ledger.py", "record_mails"),
    (0, "file each mail (process_message)", "ingest/pipeline.py", "process_message"),
    (1, "read its attachments in the sandbox (read_part)", "ingest/reading.py", "read_part"),
    (0, "evaluate a submission", "ingest/evaluate.py", "evaluate"),
    (1, "check the documents (check_facts)", "ingest/check_cmd.py", "check_facts"),
    (2, "read each form (read_form)", "parsers/forms.py", "read_form"),
    (0, "record an evaluation (record_evaluation)", "ingest/evaluate.py", "record_evaluation"),
    (0, "answer (compose, queue)", "ingest/pipeline.py", "answer"),
    (0, "write the .eml files (write_files)", "replies/outbox.py", "write_files"),
    (0, "all MIME parses (parse_message)", "parsers/mime.py", "parse_message"),
    (0, "all fsync calls", "~", "<built-in method posix.fsync>"),
    (0, "all SQLite statements", "~", "<method 'execute' of 'sqlite3.Connection' objects>"),
)


def explain_replay(results: Results, work: Path, corpus_mails: list[Any], sample: int) -> None:
    """cProfile of `renkei-intake replay` over the first `sample` mails, summed by stage."""
    import pstats

    import corpus

    chosen = corpus_mails[:sample]
    base = work / "replay-explained"
    shutil.rmtree(base, ignore_errors=True)
    corpus.write_maildir(chosen, base / "maildir")
    config = write_config(base / "renkei")
    profile = base / "replay.prof"
    print(f"[replay, explained] cProfile over {len(chosen)} mails", flush=True)
    checked(run_process([PYTHON, "-m", "cProfile", "-o", str(profile), RENKEI, "--config",
                         str(config), "replay", str(base / "maildir")]), "profiled replay")
    stats = pstats.Stats(str(profile))
    total = stats.total_tt  # type: ignore[attr-defined]
    shares: dict[str, dict[str, float]] = {}
    for indent, label, suffix, function in REPLAY_COSTS:
        calls = cumulative = 0.0
        for (filename, _, name), row in stats.stats.items():  # type: ignore[attr-defined]
            if name == function and filename.endswith(suffix):
                calls += row[1]
                cumulative += row[3]
        shares[label] = {"calls": calls, "seconds": cumulative, "share": cumulative / total}
        shown = f"{cumulative:6.1f} s {cumulative / total:6.1%}" if calls else "   n/a"
        print(f"  {'  ' * indent}{label:<{48 - 2 * indent}} {shown}  calls {calls:,.0f}",
              flush=True)
    results.details["replay_explained"] = {"mails": len(chosen), "total_s": total,
                                           "stages": shares}


def _group_counts(path: Path, sql: str) -> dict[str, int]:
    with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as conn:
        return {str(k): int(v) for k, v in conn.execute(sql)}


# --------------------------------------------------------------------------------------------
# 3. IDLE: delivery to ledger row


ROW_SQL = "SELECT count(*) FROM messages WHERE message_id_header=?"
DONE_SQL = "SELECT count(*) FROM messages WHERE message_id_header=? AND state!='received'"
REPLIED_SQL = ("SELECT count(*) FROM replies r JOIN messages m ON m.submission_id = r.submission_id "
               "WHERE m.message_id_header=?")


IDLE_MODES = {
    # Each mail after the daemon finished the previous cycle; settle_minutes = 0, so no
    # submission stays open to be evaluated again: the IDLE path alone.
    "quiet": "the daemon idle in IDLE before each mail (settle_minutes = 0)",
    # Each mail 0.5 s after the previous one was parsed, shipped defaults: submissions wait
    # settle_minutes (30) before their answer, so they pile up as during a deadline rush.
    "busy": "next mail 0.5 s after the previous was parsed (defaults: settle 30 min)",
}


def bench_idle(results: Results, work: Path, daemon: Any, corpus_mails: list[Any],
               deliveries: int, mode: str, server: list[float]) -> None:
    from parsers.mime import message_id_of
    from tests.servers import DovecotServer

    account = DovecotServer(daemon, *daemon.new_user())
    base = work / f"idle-{mode}"
    shutil.rmtree(base, ignore_errors=True)
    config = write_config(base, port=daemon.port, user=account.user, password=account.password,
                          poll_interval=3600,
                          extra="[submissions]\nsettle_minutes = 0\n" if mode == "quiet" else "")
    ledger = base / "ledger.db"
    print(f"[idle, {mode}] {deliveries} deliveries: {IDLE_MODES[mode]}, load {load()}", flush=True)
    log_path = base / "daemon.log"
    log = log_path.open("wb")
    process = subprocess.Popen([RENKEI, "--config", str(config), "run"], stdout=log,
                               stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
    latencies: list[float] = []
    try:
        heartbeat = "SELECT count(*) FROM heartbeat WHERE name LIKE 'poll:%'"
        _wait(lambda: ledger.exists() and _quiet_count(ledger, heartbeat) > 0, 60, "first poll")
        time.sleep(2.0)  # the IDLE watcher connects beside the first cycle
        for index in range(deliveries):
            raw = corpus_mails[index % len(corpus_mails)].raw
            raw = raw.replace(b"Message-ID: <", f"Message-ID: <idle{index}.".encode(), 1)
            wanted = message_id_of(raw)
            started = time.perf_counter()
            account.deliver(raw)  # INTERNALDATE now: an ordinary arrival
            _wait(lambda w=wanted: _quiet_count(ledger, ROW_SQL, (w,)) > 0, 60, "ledger row",
                  step=0.002)
            latencies.append(time.perf_counter() - started)
            if mode == "quiet":  # settle_minutes = 0: the cycle answers it, then idles
                _wait(lambda w=wanted: _quiet_count(ledger, REPLIED_SQL, (w,)) > 0, 120,
                      "its reply")
            else:
                _wait(lambda w=wanted: _quiet_count(ledger, DONE_SQL, (w,)) > 0, 60, "parsed")
            time.sleep(0.5)
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log.close()
        account.close()
    median = statistics.median(latencies)
    results.details[f"idle_{mode}"] = {"latencies_s": latencies, "server_exists_s": server}
    results.add(Row(
        f"IDLE: APPEND → ledger row, {len(latencies)} deliveries, {mode}: {IDLE_MODES[mode]}",
        f"median {median * 1000:.0f} ms (min {min(latencies) * 1000:.0f}, "
        f"max {max(latencies) * 1000:.0f})",
        f"Dovecot's EXISTS to a bare IDLE client: median {statistics.median(server) * 1000:.0f} ms",
        "median < 2 s", median < 2.0, load()))


def bench_rush(results: Results, work: Path, daemon: Any, corpus_mails: list[Any],
               count: int, minutes: float) -> None:
    """A deadline rush: `count` mails delivered at an even pace over `minutes` while the daemon
    works on the earlier ones (settle_minutes = 0: each submission is filed, evaluated and
    answered as soon as it is complete). The time from the start of each APPEND to its
    `messages` row, seen by a separate read-only connection polling every 2 ms."""
    import threading

    from parsers.mime import message_id_of
    from tests.servers import DovecotServer

    account = DovecotServer(daemon, *daemon.new_user())
    base = work / "idle-rush"
    shutil.rmtree(base, ignore_errors=True)
    config = write_config(base, port=daemon.port, user=account.user, password=account.password,
                          poll_interval=3600, extra="[submissions]\nsettle_minutes = 0\n")
    ledger = base / "ledger.db"
    interval = minutes * 60 / count
    print(f"[idle, rush] {count} mails, one every {interval:.1f} s, load {load()}", flush=True)
    log = (base / "daemon.log").open("wb")
    process = subprocess.Popen([RENKEI, "--config", str(config), "run"], stdout=log,
                               stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
    mails = []
    for index in range(count):
        raw = corpus_mails[index % len(corpus_mails)].raw
        raw = raw.replace(b"Message-ID: <", f"Message-ID: <rush{index}.".encode(), 1)
        mails.append((message_id_of(raw), raw))
    started: dict[str, float] = {}
    seen: dict[str, float] = {}
    loads: list[str] = []

    def deliver() -> None:
        first = time.perf_counter()
        for index, (wanted, raw) in enumerate(mails):
            pause = first + index * interval - time.perf_counter()
            if pause > 0:
                time.sleep(pause)
            started[wanted] = time.perf_counter()
            account.deliver(raw)
            if index % 20 == 0:
                loads.append(load())

    try:
        heartbeat = "SELECT count(*) FROM heartbeat WHERE name LIKE 'poll:%'"
        _wait(lambda: ledger.exists() and _quiet_count(ledger, heartbeat) > 0, 60, "first poll")
        time.sleep(2.0)  # the IDLE watcher connects beside the first cycle
        sender = threading.Thread(target=deliver, daemon=True)
        sender.start()
        deadline = time.monotonic() + minutes * 60 + 300
        while len(seen) < count and time.monotonic() < deadline:
            try:
                with sqlite3.connect(f"file:{ledger}?mode=ro", uri=True, timeout=1) as conn:
                    rows = conn.execute("SELECT message_id_header FROM messages").fetchall()
            except sqlite3.OperationalError:
                rows = []
            now = time.perf_counter()
            for (wanted,) in rows:
                if wanted in started and wanted not in seen:
                    seen[wanted] = now
            time.sleep(0.002)
        sender.join(60)
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(60)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log.close()
        account.close()
    latencies = sorted(seen[w] - started[w] for w in seen)
    missing = count - len(latencies)
    states = _group_counts(ledger, "SELECT state, count(*) FROM messages GROUP BY 1")
    replies = _group_counts(ledger, "SELECT kind, count(*) FROM replies GROUP BY 1")
    p95 = latencies[max(0, int(len(latencies) * 0.95 + 0.5) - 1)] if latencies else float("inf")
    results.details["idle_rush"] = {"latencies_s": latencies, "interval_s": interval,
                                    "missing": missing, "states": states, "replies": replies,
                                    "loads": loads}
    print(f"  states {states}, replies {replies}", flush=True)
    results.add(Row(
        f"IDLE under a deadline rush: {count} mails over {minutes:g} min (one every "
        f"{interval:.1f} s) while the daemon files, evaluates and answers them",
        f"APPEND → ledger row p95 {p95 * 1000:.0f} ms (median "
        f"{statistics.median(latencies) * 1000:.0f}, max {latencies[-1] * 1000:.0f})"
        + (f"; {missing} never recorded" if missing else ""),
        "Dovecot's EXISTS to a bare IDLE client: see the IDLE rows",
        "p95 < 2 s", not missing and p95 < 2.0, f"{loads[0] if loads else ''} … {load()}"))


def idle_floor(daemon: Any, corpus_mails: list[Any], deliveries: int) -> list[float]:
    """The server's share: APPEND until a bare imapclient IDLE session hears EXISTS."""
    from tests.servers import DovecotServer

    account = DovecotServer(daemon, *daemon.new_user())
    watcher = account.client()
    watcher.select_folder("INBOX", readonly=True)
    latencies = []
    try:
        for index in range(deliveries):
            watcher.idle()
            started = time.perf_counter()
            account.deliver(corpus_mails[index % len(corpus_mails)].raw)
            while not any(len(r) > 1 and r[1] == b"EXISTS" for r in watcher.idle_check(30)):
                pass
            latencies.append(time.perf_counter() - started)
            watcher.idle_done()
    finally:
        watcher.logout()
        account.close()
    return latencies


def _quiet_count(path: Path, sql: str, args: tuple[Any, ...] = ()) -> int:
    try:
        return ledger_count(path, sql, args)
    except sqlite3.OperationalError:  # not created yet, or locked for a moment
        return 0


def _wait(condition: Callable[[], bool], timeout: float, what: str, step: float = 0.05) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise RuntimeError(f"timed out after {timeout} s waiting for {what}")
        time.sleep(step)


# --------------------------------------------------------------------------------------------
# 4. peak RSS of one 25 MiB mail


def bench_rss(results: Results, work: Path) -> None:
    import corpus

    base = work / "rss"
    shutil.rmtree(base, ignore_errors=True)
    base.mkdir(parents=True)
    eml = base / "big.eml"
    eml.write_bytes(corpus.big_mail())
    size_mb = eml.stat().st_size / 1024 / 1024
    print(f"[rss] one mail of {size_mb:.1f} MiB, load {load()}", flush=True)
    config = write_config(base / "renkei")
    baseline = checked(run_process([RENKEI, "--config", str(config), "findings"]), "findings")
    run = checked(run_process([RENKEI, "--config", str(config), "replay", str(eml)]), "replay")
    states = _group_counts(base / "renkei" / "ledger.db",
                           "SELECT coalesce(state, '?') || ': ' || coalesce(problem, ''), count(*) "
                           "FROM messages GROUP BY 1")
    floor_run, _ = worker("floor", str(eml))
    results.details["rss"] = {"mail_mib": size_mb, "renkei_mb": run.maxrss_mb,
                              "renkei_seconds": run.seconds, "floor_mb": floor_run.maxrss_mb,
                              "idle_process_mb": baseline.maxrss_mb, "states": states}
    print(f"  renkei-intake {run.maxrss_mb:.0f} MB in {run.seconds:.1f} s ({states}); "
          f"floor {floor_run.maxrss_mb:.0f} MB", flush=True)
    results.add(Row(
        f"peak RSS, replay of one {size_mb:.0f} MiB mail",
        f"{run.maxrss_mb:.0f} MB ({run.seconds:.1f} s; the bare CLI {baseline.maxrss_mb:.0f} MB)",
        f"stdlib parse floor {floor_run.maxrss_mb:.0f} MB",
        "< 300 MB", run.maxrss_mb < 300, load()))


# --------------------------------------------------------------------------------------------
# 5. staff views and search (bench/bench_queries.py)


def bench_queries(results: Results, work: Path, mails: int) -> None:
    try:
        import bench_queries as bq
    except Exception as exc:  # noqa: BLE001 - a broken companion script is reported, not fatal
        results.add(Row("staff views and search", f"not run: bench_queries.py: {exc}", "-",
                        "< 100 ms each", None, load()))
        return
    base = work / "queries"
    shutil.rmtree(base, ignore_errors=True)
    base.mkdir(parents=True)
    print(f"[queries] building a ledger of {mails:,} mails, load {load()}", flush=True)
    started = time.perf_counter()
    ledger = bq.build(base / "ledger.db", mails)
    print(f"  built in {time.perf_counter() - started:.0f} s", flush=True)
    timings = {}
    pages, close = bq.console_cases(ledger, base)
    for name, call in [*bq.cases(ledger), *pages]:
        best, median = bq.measure(call)
        timings[name] = {"best_ms": best, "median_ms": median}
        print(f"  {name:<48} best {best:7.1f} ms  median {median:7.1f} ms", flush=True)
    close()
    ledger.close()
    worst_name = max(timings, key=lambda k: timings[k]["median_ms"])
    worst = timings[worst_name]["median_ms"]
    over = [k for k, v in timings.items() if v["median_ms"] >= bq.BUDGET_MS]
    results.details["queries"] = {"mails": mails, "timings": timings}
    results.add(Row(
        f"staff views, search and console pages, {len(timings)} queries/pages, {mails:,}-mail ledger",
        f"slowest median {worst:.1f} ms ({worst_name})" + (f"; over: {', '.join(over)}" if over else ""),
        "budget 100 ms each (median of 5)",
        "< 100 ms each", not over, load()))


# --------------------------------------------------------------------------------------------


SECTIONS = ("fetch", "replay", "idle", "rush", "rss", "queries")


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv and argv[0] == "--worker-measure":
        worker_measure(argv[1], argv[2], argv[3], argv[4:])
        return 0
    if argv and argv[0] == "--worker-fetch":
        print(json.dumps(worker_fetch(argv[1])))
        return 0
    if argv and argv[0] == "--worker-fetch-stage":
        print(json.dumps(worker_fetch_stage(argv[1], argv[2])))
        return 0
    if argv and argv[0] == "--worker-fact-floor":
        print(json.dumps(worker_fact_floor(argv[1], argv[2:])))
        return 0
    if argv and argv[0] == "--worker-floor":
        print(json.dumps(worker_floor(argv[1:])))
        return 0
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--mails", type=int, default=1000, help="corpus size (default 1000)")
    parser.add_argument("--seed", type=int, default=2022)
    parser.add_argument("--rounds", type=int, default=3, help="fetch rounds per tool")
    parser.add_argument("--idle", type=int, default=30, help="IDLE deliveries")
    parser.add_argument("--rush", type=int, default=200, help="mails of the deadline rush")
    parser.add_argument("--rush-minutes", type=float, default=10.0,
                        help="minutes the rush's mails are spread over")
    parser.add_argument("--query-mails", type=int, default=100_000, help="ledger size for queries")
    parser.add_argument("--only", default=",".join(SECTIONS), help="comma list of " + ", ".join(SECTIONS))
    parser.add_argument("--work", type=Path, help="work directory, kept (corpus cached there)")
    parser.add_argument("--explain", action="store_true",
                        help="also break the fetch and the replay down (slices, cProfile)")
    parser.add_argument("--json", type=Path, help="write every figure to this JSON file")
    args = parser.parse_args(argv)
    sections = [s.strip() for s in args.only.split(",") if s.strip()]
    unknown = set(sections) - set(SECTIONS)
    if unknown:
        parser.error(f"unknown sections: {', '.join(sorted(unknown))}")
    if not shutil.which("mbsync") and "fetch" in sections:
        parser.error("mbsync is missing: apt-get install -y isync")
    keep = args.work is not None
    work = args.work or Path(tempfile.mkdtemp(prefix="renkei-bench-"))
    work.mkdir(parents=True, exist_ok=True)
    try:
        return run_all(args, sections, work)
    finally:
        if not keep:
            shutil.rmtree(work, ignore_errors=True)


def run_all(args: argparse.Namespace, sections: list[str], work: Path) -> int:
    from tests.servers import DovecotDaemon, DovecotServer

    started = time.perf_counter()
    results = Results()
    info = machine()
    results.details["machine"] = info
    results.details["started"] = datetime.now(UTC).isoformat(timespec="seconds")
    results.details["command"] = " ".join([Path(sys.argv[0]).name, *sys.argv[1:]])
    for key, value in info.items():
        print(f"{key:>10}: {value}")
    print(f"[corpus] {args.mails} mails, load {load()}", flush=True)
    corpus_mails = make_corpus(work, args.mails, args.seed)
    sizes = [len(m.raw) for m in corpus_mails]
    results.details["corpus"] = {
        "mails": len(sizes), "mb": sum(sizes) / 1e6, "mean_kb": statistics.mean(sizes) / 1e3,
        "charsets": _tally(m.charset for m in corpus_mails),
        "packaging": _tally(m.packaging for m in corpus_mails)}
    print(f"  {results.details['corpus']}", flush=True)
    daemon = None
    try:
        if {"fetch", "idle", "rush"} & set(sections):
            daemon = DovecotDaemon(root=None)
            daemon.start()
        if "fetch" in sections:
            assert daemon is not None
            account = DovecotServer(daemon, *daemon.new_user())
            print(f"[deliver] APPEND {len(corpus_mails)} mails to Dovecot", flush=True)
            t0 = time.perf_counter()
            for m in corpus_mails:
                account.deliver(m.raw, internaldate=m.arrival)
            print(f"  delivered in {time.perf_counter() - t0:.1f} s", flush=True)
            account.close()
            bench_fetch(results, work, daemon.port, account.user, account.password,
                        len(corpus_mails), args.rounds, args.explain)
        if "replay" in sections:
            bench_replay(results, work, corpus_mails)
            if args.explain:
                explain_replay(results, work, corpus_mails, min(100, len(corpus_mails)))
        if "idle" in sections:
            server = idle_floor(daemon, corpus_mails, args.idle)
            for mode in IDLE_MODES:
                bench_idle(results, work, daemon, corpus_mails, args.idle, mode, server)
        if "rush" in sections:
            bench_rush(results, work, daemon, corpus_mails, args.rush, args.rush_minutes)
        if "rss" in sections:
            bench_rss(results, work)
        if "queries" in sections:
            bench_queries(results, work, args.query_mails)
    finally:
        if daemon is not None:
            daemon.close()
    total = time.perf_counter() - started
    results.details["total_seconds"] = total
    print(f"\nrenkei-intake benchmark, {results.details['started']}, {total / 60:.1f} min\n")
    print(results.table())
    if args.json:
        args.json.write_text(json.dumps(
            {"rows": [r.__dict__ for r in results.rows], **results.details},
            ensure_ascii=False, indent=2))
    return 0 if all(r.met is not False for r in results.rows) else 1


def _tally(values: Any) -> dict[str, int]:
    counts: dict[str, int] = {}
    for value in values:
        counts[value] = counts.get(value, 0) + 1
    return counts


if __name__ == "__main__":
    sys.exit(main())
