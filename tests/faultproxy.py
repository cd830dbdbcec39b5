"""A TCP proxy on a free loopback port that puts faults between the program and a real server
(Dovecot, aiosmtpd): drop a connection mid-response, stall it, or let it trickle slowly.

    with FaultProxy(dovecot.host, dovecot.port) as proxy:
        proxy.plan(Fault(drop_after=5000))   # the next connection dies after 5000 bytes down
        ... point the program at proxy.port ...

Faults are planned per connection: each new connection takes the next planned `Fault` (then
passes traffic untouched once the plan is used up). A `Fault` counts bytes in one direction
("down": server → client, "up": client → server) and acts when the count reaches its limit,
so the fault lands inside a response at a chosen byte, not at a lucky moment. `reached` is set
when a planned fault fired, so a test can wait for it.
"""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass
from types import TracebackType
from typing import Literal

import pytest

HOST = "127.0.0.1"
Direction = Literal["down", "up"]


@dataclass(frozen=True)
class Fault:
    """What happens to one connection. Limits count bytes in `direction`.

    drop_after: close both sides once this many bytes were forwarded (0: at once).
    stall_after: forward this many bytes, then forward nothing more (the sockets stay open)
        until `FaultProxy.release()`; the other direction keeps flowing.
    delay: seconds to sleep before forwarding each chunk of at most `chunk` bytes (slow link).
    """

    drop_after: int | None = None
    stall_after: int | None = None
    delay: float = 0.0
    chunk: int = 4096
    direction: Direction = "down"
    # (old, new): every line going down has `old` replaced by `new` (a server that leaves out a
    # response item); lines are held until their CRLF, so a token never straddles two reads.
    rewrite: tuple[bytes, bytes] | None = None


PASS = Fault()


class FaultProxy:
    def __init__(self, target_host: str, target_port: int) -> None:
        self.target = (target_host, target_port)
        self.host = HOST
        self._listener = socket.create_server((HOST, 0))
        self.port: int = self._listener.getsockname()[1]
        self._plans: deque[Fault] = deque()
        self._lock = threading.Lock()
        self._closing = threading.Event()
        self._released = threading.Event()
        self._sockets: list[socket.socket] = []
        self.reached = threading.Event()  # a planned drop or stall fired
        self.connections = 0
        self.bytes = {"down": 0, "up": 0}  # forwarded so far, all connections
        self._thread = threading.Thread(target=self._accept, name="faultproxy", daemon=True)
        self._thread.start()

    def __repr__(self) -> str:
        return f"<FaultProxy {self.host}:{self.port} → {self.target[0]}:{self.target[1]}>"

    # -- control ---------------------------------------------------------------------------

    def plan(self, *faults: Fault) -> None:
        """The next connections take these faults, one each, in order."""
        with self._lock:
            self._plans.extend(faults)
            self.reached.clear()
            self._released.clear()

    def release(self) -> None:
        """Let stalled connections flow again."""
        self._released.set()

    def close(self) -> None:
        self._closing.set()
        self._released.set()
        with contextlib.suppress(OSError):
            # Closing alone does not wake a thread blocked in accept() (Linux): shutdown does,
            # so the accept thread ends now instead of at the join's timeout.
            self._listener.shutdown(socket.SHUT_RDWR)
        with contextlib.suppress(OSError):
            self._listener.close()
        with self._lock:
            sockets, self._sockets = self._sockets, []
        for sock in sockets:
            _close(sock)
        self._thread.join(timeout=5)

    def __enter__(self) -> FaultProxy:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()

    # -- plumbing --------------------------------------------------------------------------

    def _accept(self) -> None:
        while not self._closing.is_set():
            try:
                client, _ = self._listener.accept()
            except OSError:
                return  # closed
            with self._lock:
                fault = self._plans.popleft() if self._plans else PASS
                self.connections += 1
            threading.Thread(target=self._serve, args=(client, fault), daemon=True).start()

    def _serve(self, client: socket.socket, fault: Fault) -> None:
        try:
            upstream = socket.create_connection(self.target, timeout=10)
        except OSError:
            _close(client)
            return
        upstream.settimeout(None)
        with self._lock:
            self._sockets += [client, upstream]
        if fault.drop_after == 0:
            self.reached.set()
            _close(client)
            _close(upstream)
            return
        pairs = {"down": (upstream, client), "up": (client, upstream)}
        for direction, (source, sink) in pairs.items():
            active = fault if direction == fault.direction else PASS
            threading.Thread(target=self._pump, args=(source, sink, client, upstream, active,
                                                      direction), daemon=True).start()

    def _pump(self, source: socket.socket, sink: socket.socket, client: socket.socket,
              upstream: socket.socket, fault: Fault, direction: Direction) -> None:
        sent = 0
        held = b""
        try:
            while True:
                data = source.recv(fault.chunk)
                if not data:
                    break
                if fault.rewrite is not None:
                    held += data
                    cut = held.rfind(b"\n") + 1
                    data, held = held[:cut].replace(*fault.rewrite), held[cut:]
                    if not data:
                        continue
                while data:
                    if fault.delay:
                        time.sleep(fault.delay)
                    limit = _next_limit(fault, sent)
                    if limit is not None and sent + len(data) >= limit:
                        head, data = data[:limit - sent], data[limit - sent:]
                        sink.sendall(head)
                        sent += len(head)
                        self._count(direction, len(head))
                        if fault.drop_after is not None and sent >= fault.drop_after:
                            self.reached.set()
                            raise ConnectionAbortedError("planned drop")
                        self._stall()
                        fault = PASS if fault.drop_after is None else \
                            Fault(drop_after=fault.drop_after, direction=fault.direction)
                        continue
                    sink.sendall(data)
                    sent += len(data)
                    self._count(direction, len(data))
                    data = b""
        except OSError:
            pass
        _close(client)
        _close(upstream)

    def _stall(self) -> None:
        self.reached.set()
        self._released.wait()

    def _count(self, direction: Direction, n: int) -> None:
        with self._lock:
            self.bytes[direction] += n


def _next_limit(fault: Fault, sent: int) -> int | None:
    limits = [x for x in (fault.drop_after, fault.stall_after) if x is not None and x >= sent]
    return min(limits) if limits else None


def _close(sock: socket.socket) -> None:
    with contextlib.suppress(OSError):
        sock.shutdown(socket.SHUT_RDWR)
    with contextlib.suppress(OSError):
        sock.close()


@pytest.fixture
def fault_proxy() -> Iterator[type[FaultProxy]]:
    """A factory: `fault_proxy(host, port)` gives a started proxy, closed after the test."""
    made: list[FaultProxy] = []

    class _Tracked(FaultProxy):
        def __init__(self, target_host: str, target_port: int) -> None:
            super().__init__(target_host, target_port)
            made.append(self)

    yield _Tracked
    for proxy in made:
        proxy.close()
