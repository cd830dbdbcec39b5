"""Run a function on untrusted bytes in a child process with hard limits, and get back its result.

One worker process is forked on first use and reused for every task (a fresh interpreter per
attachment would cost more than reading most attachments). In the worker:
- RLIMIT_AS caps its address space at what it had when forked plus `max_memory`, so a file that
  would inflate to gigabytes fails its allocation instead of growing the machine's memory;
- before each task the soft RLIMIT_CPU is set to the CPU time used so far plus the task's
  budget: a task that spins past it is killed by the kernel (SIGXCPU), whatever C code it is in.
The parent waits at most `wall_seconds` for an answer and kills the worker when that passes (a
task that sleeps or is starved of CPU). A dead worker is replaced at the next task.

The parent receives only what the function returns (pickled); the worker never touches the
ledger. A breach is a value (`Outcome.breach`), not an exception: the caller turns it into a
finding for that one file and goes on.
"""

from __future__ import annotations

import atexit
import contextlib
import math
import os
import resource
import signal
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from multiprocessing.connection import Connection, Pipe
from typing import Any

TIME = "time"
MEMORY = "memory"
CRASH = "crash"
SPENT = "spent"  # not tried: the budget of its mail was used up by the files before it

# A task may take this many times its CPU budget in wall time (a busy machine) before the worker
# is killed; the floor covers forking a fresh worker and writing the blobs. The CPU limit is what
# bounds the work; the wall limit only ends a task that waits, and is generous so that a loaded
# machine never turns a file it could read into a finding.
_WALL_FACTOR = 4.0
_WALL_FLOOR = 20.0


class SandboxError(RuntimeError):
    """The function itself failed in the worker (a bug, not a property of the file)."""


@dataclass(frozen=True)
class Outcome:
    value: Any = None
    breach: str | None = None  # TIME | MEMORY | CRASH when the task did not finish
    cpu_seconds: float = 0.0  # CPU time the task used in the worker

    @property
    def ok(self) -> bool:
        return self.breach is None


class Sandbox:
    """A reusable worker process with an address-space cap of `max_memory` bytes."""

    def __init__(self, max_memory: int) -> None:
        self.max_memory = max_memory
        self._pid: int | None = None
        self._conn: Connection | None = None

    def run(self, fn: Callable[..., Any], *args: Any, cpu_seconds: float,
            wall_seconds: float, **kwargs: Any) -> Outcome:
        """`fn(*args, **kwargs)` in the worker; `fn` must be a module-level function."""
        conn = self._worker()
        try:
            conn.send((fn, args, kwargs, cpu_seconds))
        except (BrokenPipeError, ConnectionResetError, EOFError):  # died while idle: once more
            self.close()
            conn = self._worker()
            conn.send((fn, args, kwargs, cpu_seconds))
        if not conn.poll(wall_seconds):
            self.close()
            return Outcome(breach=TIME, cpu_seconds=cpu_seconds)
        try:
            status, value, used = conn.recv()
        except (EOFError, ConnectionResetError):
            breach = self._reap_breach()
            # Killed at its CPU limit it used the whole budget; a crash is charged nothing (the
            # caller's wall-time deadline still bounds a mail of many crashing files).
            return Outcome(breach=breach, cpu_seconds=cpu_seconds if breach == TIME else 0.0)
        if status == "error":
            raise SandboxError(value)
        if status != "ok":  # the worker exits after it: its state is no longer trusted
            self.close()
            return Outcome(breach=status, cpu_seconds=used)
        return Outcome(value, cpu_seconds=used)

    def close(self) -> None:
        """Stop the worker (if any) and reap it."""
        if self._conn is not None:
            self._conn.close()
            self._conn = None
        if self._pid is not None:
            with contextlib.suppress(ProcessLookupError):
                os.kill(self._pid, signal.SIGKILL)
            with contextlib.suppress(ChildProcessError):
                os.waitpid(self._pid, 0)
            self._pid = None

    def _reap_breach(self) -> str:
        """The worker died during a task: by SIGXCPU it ran out of CPU time; otherwise a
        library crashed (often an allocation refused under RLIMIT_AS that C code did not check)."""
        assert self._pid is not None
        _, status = os.waitpid(self._pid, 0)
        self._pid = None
        if self._conn is not None:
            self._conn.close()
            self._conn = None
        signum = os.WTERMSIG(status) if os.WIFSIGNALED(status) else None
        return TIME if signum == signal.SIGXCPU else CRASH

    def _worker(self) -> Connection:
        if self._conn is not None:
            return self._conn
        ours, theirs = Pipe()
        pid = os.fork()
        if pid == 0:  # the worker: never returns into the caller's code
            code = 0
            try:
                ours.close()
                _serve(theirs, self.max_memory)
            except BaseException:
                code = 1
            finally:
                os._exit(code)
        theirs.close()
        self._pid, self._conn = pid, ours
        return ours


def _serve(conn: Connection, max_memory: int) -> None:
    # No parent-death signal: Linux sends it when the *thread* that forked dies, and the daemon
    # forks from pool threads. The worker ends when its pipe reads EOF, i.e. when the parent is
    # gone, at the latest after the task in hand (which its limits bound).
    _close_inherited(keep=conn.fileno())
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent decides when to stop
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    signal.signal(signal.SIGXCPU, signal.SIG_DFL)
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    # A Rust reader (calamine) that runs out of memory here would, with backtraces switched on
    # in the environment, try to symbolise one with memory it cannot get and hang until the
    # wall-time backstop instead of dying at once.
    os.environ["RUST_BACKTRACE"] = "0"
    _, hard = resource.getrlimit(resource.RLIMIT_AS)
    cap = _address_space() + max_memory
    if hard != resource.RLIM_INFINITY:
        cap = min(cap, hard)
    resource.setrlimit(resource.RLIMIT_AS, (cap, hard))
    _, cpu_hard = resource.getrlimit(resource.RLIMIT_CPU)
    while True:
        try:
            fn, args, kwargs, budget = conn.recv()
        except (EOFError, OSError):
            return  # the parent is gone
        start = _cpu_used()
        limit = math.ceil(start + budget)
        if cpu_hard != resource.RLIM_INFINITY:
            limit = min(limit, cpu_hard)
        resource.setrlimit(resource.RLIMIT_CPU, (limit, cpu_hard))
        try:
            reply = ("ok", fn(*args, **kwargs))
        except MemoryError:
            reply = (MEMORY, None)
        except RecursionError:  # nesting built to exhaust the stack
            reply = (CRASH, None)
        except Exception:  # noqa: BLE001 - reported to the parent, which raises it
            reply = ("error", traceback.format_exc())
        resource.setrlimit(resource.RLIMIT_CPU, (cpu_hard, cpu_hard))
        used = _cpu_used() - start
        try:
            conn.send((*reply, used))
        except MemoryError:  # the result itself was too large to send
            reply = (MEMORY, None)
            conn.send((*reply, used))
        if reply[0] in (MEMORY, CRASH):
            return  # the parent replaces the worker: its state is no longer trusted


def _close_inherited(keep: int) -> None:
    """Close what the worker inherited (the ledger, its lock, mailbox sockets): a lock held
    through the worker's copy would outlive the command that took it. Its stdin and stdout
    become /dev/null, so a caller reading the command's output to its end never waits on it."""
    for name in os.listdir("/proc/self/fd"):
        fd = int(name)
        if fd > 2 and fd != keep:
            with contextlib.suppress(OSError):
                os.close(fd)
    null = os.open(os.devnull, os.O_RDWR)
    for fd in (0, 1):
        if fd != null:
            os.dup2(null, fd)
    if null > 1:
        os.close(null)


def _cpu_used() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _address_space() -> int:
    """This process's virtual size now (VmSize), in bytes."""
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmSize:"):
                return int(line.split()[1]) * 1024
    return 0


def wall_seconds(cpu_seconds: float) -> float:
    """The wall time allowed for work of `cpu_seconds` CPU time."""
    return _WALL_FLOOR + _WALL_FACTOR * cpu_seconds


def breach_detail(name: str, breach: str, cpu_seconds: float, max_memory: int) -> str:
    """The finding's text for the applicant and staff: what was not read, and what to do."""
    seconds = f"{cpu_seconds:g}"
    if breach == SPENT:
        why = f"このメールの添付ファイルを読む時間（{seconds}秒）を使い切ったため、読んでいません"
    elif breach == TIME:
        why = f"読み取りが時間の上限（{seconds}秒）を超えました"
    elif breach == MEMORY:
        why = f"読み取りがメモリの上限（{max_memory // (1024 * 1024)}MB）を超えました"
    else:
        why = "読み取り中に処理が異常終了しました"
    return (f"「{name}」は安全上の上限の範囲で読み取れませんでした（{why}）。"
            "ファイルを確認のうえ、作り直したものを送付してください。")


_shared: Sandbox | None = None


def shared(max_memory: int) -> Sandbox:
    """The process's one sandbox (replaced when the memory cap differs)."""
    global _shared
    if _shared is None or _shared.max_memory != max_memory:
        if _shared is not None:
            _shared.close()
        _shared = Sandbox(max_memory)
    return _shared


def close_shared() -> None:
    """Stop the process's worker, if any (it also ends by itself when this process ends)."""
    global _shared
    if _shared is not None:
        _shared.close()
        _shared = None


# Reaped by the process that forked it, not left to end alone: its CPU time and peak memory
# then count in this process's resource usage (what `time` and a supervisor see).
atexit.register(close_shared)
