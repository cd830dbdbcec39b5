"""Real Dovecot (IMAP) and aiosmtpd (SMTP) servers for tests, on free loopback ports.

Loaded by `tests/conftest.py` (`pytest_plugins = ["tests.servers"]`), so every test can ask for:

- `dovecot`: a Dovecot 2.3 account (fresh user, empty mailbox) on a plain-text IMAP port.
- `dovecot_tls`: the same on a second Dovecot with `ssl = required`: `port` offers STARTTLS,
  `tls_port` implicit TLS; the certificate comes from a CA made for this test session (`ca_file`).
  (Dovecot counts loopback connections as secure, so it does not force STARTTLS on `port`.)
- `smtp_server`: aiosmtpd without TLS or AUTH; `smtp_tls_server`: STARTTLS + AUTH with that CA.
- `local_ca`: the session's CA, server certificate and key.

One Dovecot process serves the whole session and each test gets its own user, because a Dovecot
start costs tens of milliseconds but a clean stop about a second, while a new user costs nothing.
Tests run as root (CI and the dev machine do); Dovecot then needs its own config (never
/etc/dovecot), written with its mail into /tmp/renkei-dovecot-* (see `new_daemon_root`) and
removed at the end; its log is kept in the pytest temp dir (`dovecot-log*/dovecot.log`).
A missing Dovecot FAILS the fixture instead of skipping: the suite must not quietly lose its
real-server tests.
"""

from __future__ import annotations

import atexit
import contextlib
import email
import email.message
import email.policy
import os
import re
import secrets
import shutil
import signal
import socket
import ssl
import subprocess
import tempfile
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, Literal

import imapclient
import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, AuthResult, Envelope, LoginPassword, Session

HOST = "127.0.0.1"
INSTALL_HINT = (
    "Dovecot is not installed (no /usr/sbin/dovecot). The IMAP tests need a real Dovecot 2.3: "
    "run the test command from README.md, which installs it (apt-get install -y dovecot-imapd) "
    "before running pytest."
)
START_TIMEOUT = 120.0  # s: bounds only; a busy machine must never reach them
IMAP_TIMEOUT = 120.0
# Dovecot keeps per-mailbox state in these files; removing them (with the server stopped) is what
# makes a new INBOX: Dovecot must then hand out a new UIDVALIDITY and start UIDs again at 1.
# dovecot-uidvalidity* stays: it is the counter that keeps the new UIDVALIDITY unique.
_MAILBOX_STATE_GLOBS = ("dovecot-uidlist", "dovecot-keywords", "dovecot.index*", "dovecot.list.index*")


# --------------------------------------------------------------------------------------------
# Test certificate authority (openssl CLI, so no extra Python package is needed)


@dataclass(frozen=True)
class LocalCA:
    """A CA made for one test session, and a server certificate for 127.0.0.1 / localhost."""

    ca_file: Path
    cert_file: Path
    key_file: Path

    def client_context(self) -> ssl.SSLContext:
        """A verifying client context that trusts only this CA."""
        return ssl.create_default_context(cafile=str(self.ca_file))

    def server_context(self) -> ssl.SSLContext:
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(str(self.cert_file), str(self.key_file))
        return context


_SERVER_EXTENSIONS = """\
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature, keyEncipherment
extendedKeyUsage = serverAuth
subjectAltName = DNS:localhost, IP:127.0.0.1
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid, issuer
"""


def make_local_ca(directory: Path) -> LocalCA:
    """Create a CA and a server certificate (EC P-256, valid 7 days) in `directory`."""
    openssl = shutil.which("openssl")
    if openssl is None:
        pytest.fail("openssl CLI not found; the TLS test servers need it (apt-get install openssl)")
    directory.mkdir(parents=True, exist_ok=True)
    ca_key, ca_file = directory / "ca.key", directory / "ca.pem"
    key_file, csr, cert_file = directory / "server.key", directory / "server.csr", directory / "server.pem"
    extensions = directory / "server.ext"
    extensions.write_text(_SERVER_EXTENSIONS)
    new_ec_key = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]
    _run([openssl, "req", "-x509", *new_ec_key, "-keyout", ca_key, "-out", ca_file, "-days", "7",
          "-subj", "/CN=renkei-intake test CA",
          "-addext", "basicConstraints=critical,CA:TRUE",
          "-addext", "keyUsage=critical,keyCertSign,cRLSign"])
    _run([openssl, "req", "-new", *new_ec_key, "-keyout", key_file, "-out", csr,
          "-subj", "/CN=localhost"])
    _run([openssl, "x509", "-req", "-in", csr, "-CA", ca_file, "-CAkey", ca_key,
          "-set_serial", str(secrets.randbits(63)), "-days", "7", "-extfile", extensions,
          "-out", cert_file])
    return LocalCA(ca_file=ca_file, cert_file=cert_file, key_file=key_file)


def _run(argv: Sequence[str | Path]) -> None:
    done = subprocess.run([str(a) for a in argv], capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(map(str, argv[:3]))} failed: {done.stderr.strip()}")


# --------------------------------------------------------------------------------------------
# Dovecot


def dovecot_binary() -> str | None:
    """Path of the dovecot master binary; /usr/sbin is searched even when PATH lacks it."""
    path = os.pathsep.join([os.environ.get("PATH", ""), "/usr/sbin", "/usr/local/sbin", "/sbin"])
    return shutil.which("dovecot", path=path)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


def new_daemon_root() -> Path:
    """A fresh 0755 directory under /tmp for one Dovecot daemon.

    Not inside pytest's temp tree: Dovecot's login and mail processes run as dovenull/dovecot
    and must reach the sockets and mail dirs, but every pytest run that starts (another
    engineer's, a second CI job) resets /tmp/pytest-of-<user> to 0700, which would cut a
    running Dovecot off its own files. A short path also keeps the unix sockets under 108 bytes.
    """
    root = Path(tempfile.mkdtemp(prefix="renkei-dovecot-", dir="/tmp"))
    root.chmod(0o755)
    return root


def _proc_stats() -> Iterator[tuple[int, str, str, int, int]]:
    """(pid, name, state, ppid, pgrp) of every process, from /proc."""
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue  # the process ended while we looked
        name, rest = stat.split("(", 1)[1].rsplit(")", 1)
        state, ppid, pgrp = rest.split()[:3]
        yield int(entry.name), name, state, int(ppid), int(pgrp)


def _children(pid: int) -> dict[int, str]:
    """Live (non-zombie) child processes of `pid`, as {pid: command name}."""
    return {p: name for p, name, state, ppid, _ in _proc_stats() if ppid == pid and state != "Z"}


def _group_members(pgid: int, *, live_only: bool = False) -> dict[int, str]:
    return {p: name for p, name, state, _, pgrp in _proc_stats()
            if pgrp == pgid and not (live_only and state == "Z")}


class PortTakenError(RuntimeError):
    """Dovecot could not bind its port: another program took it first."""


def _wait_until(condition: Callable[[], bool], timeout: float = 60) -> bool:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.005)
    return True


def _group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    return True


class DovecotDaemon:
    """One Dovecot master process with its own config, run dir, log and users.

    The ports are chosen once and kept across restarts, so clients keep working after
    `restart()` like they would against a real server that came back.
    """

    def __init__(self, root: Path | None = None, *, ca: LocalCA | None = None,
                 binary: str | None = None, oauth2_introspection_url: str | None = None) -> None:
        self.binary = binary or dovecot_binary() or ""
        if not os.access(self.binary, os.X_OK):
            pytest.fail(INSTALL_HINT)  # fail, not skip: the real-server tests must not vanish
        self.host = HOST
        # A root we made is removed by close(); one given by the caller is left alone.
        self._owns_root = root is None
        self.root = root or new_daemon_root()
        self.ca = ca
        # With a URL, XOAUTH2/OAUTHBEARER logins are checked there (Dovecot's oauth2 passdb,
        # RFC 7662 introspection by POST); password logins keep using the passwd-file.
        self.oauth2_introspection_url = oauth2_introspection_url
        self.oauth2_conf = self.root / "dovecot-oauth2.conf.ext"
        self.port = free_port()
        self.tls_port: int | None = free_port() if ca else None
        self.conf_path = self.root / "dovecot.conf"
        self.log_path = self.root / "dovecot.log"
        self.users_file = self.root / "users"
        self.mail_root = self.root / "home"
        self.run_dir = self.root / "run"
        # Incremented on every start: a cached client from an older generation is dead.
        self.generation = 0
        self._process: subprocess.Popen[bytes] | None = None
        self._last_group: int | None = None  # process group (= master pid) of the last run
        self._user_count = 0
        self._pool: deque[tuple[str, str]] = deque()
        self._prepare()
        self._fill_pool()

    # -- files ---------------------------------------------------------------------------

    def _prepare(self) -> None:
        for directory in (self.root, self.mail_root, self.root / "state"):
            directory.mkdir(parents=True, exist_ok=True)
            directory.chmod(0o755)
        self.run_dir.mkdir(mode=0o755, exist_ok=True)
        shutil.chown(self.mail_root, "dovecot", "dovecot")
        self.users_file.touch()
        self.users_file.chmod(0o644)  # read by the auth process (user dovecot)
        if self.oauth2_introspection_url:
            self.oauth2_conf.write_text(
                "introspection_mode = post\n"
                f"introspection_url = {self.oauth2_introspection_url}\n"
                "username_attribute = username\n"
                "active_attribute = active\n"
                "active_value = true\n"
            )
            self.oauth2_conf.chmod(0o644)
        self.conf_path.write_text(self._config())

    def _config(self) -> str:
        tls = ""
        imaps = "  inet_listener imaps {\n    port = 0\n  }\n"
        if self.ca is not None:
            tls = (f"ssl_cert = <{self.ca.cert_file}\nssl_key = <{self.ca.key_file}\n"
                   "ssl_min_protocol = TLSv1.2\n")
            imaps = ("  inet_listener imaps {\n    address = 127.0.0.1\n"
                     f"    port = {self.tls_port}\n    ssl = yes\n  }}\n")
        mechanisms, password_only, oauth2_passdb = "plain login", "", ""
        if self.oauth2_introspection_url:
            mechanisms += " oauthbearer xoauth2"
            password_only = "  mechanisms = plain login\n"
            oauth2_passdb = ("passdb {\n  driver = oauth2\n  mechanisms = xoauth2 oauthbearer\n"
                             f"  args = {self.oauth2_conf}\n}}\n")
        return f"""\
# Written by tests/servers.py for one test session; not a production config.
protocols = imap
listen = {self.host}
base_dir = {self.run_dir}
state_dir = {self.root / "state"}
log_path = {self.log_path}
log_timestamp = "%Y-%m-%d %H:%M:%S "
default_login_user = dovenull
default_internal_user = dovecot
# Root runs the tests, so the mail uid (dovecot) is below Dovecot's default first_valid_uid.
first_valid_uid = 1
ssl = {"required" if self.ca else "no"}
{tls}disable_plaintext_auth = no
auth_mechanisms = {mechanisms}
auth_verbose = yes
# The imap process titles show each session's command (IDLE), which tests wait on.
verbose_proctitle = yes
# A wrong password should not cost a test two seconds (Dovecot still takes about 0.5 s).
auth_failure_delay = 0
mail_location = maildir:~/Maildir
mail_max_userip_connections = 200
passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {self.users_file}
{password_only}}}
{oauth2_passdb}userdb {{
  driver = static
  args = uid=dovecot gid=dovecot home={self.mail_root}/%u
}}
# No chroot: the chroot dirs would have to be root-owned paths outside the temp dir.
service imap-login {{
  chroot =
  inet_listener imap {{
    address = {self.host}
    port = {self.port}
  }}
{imaps}}}
service anvil {{
  chroot =
  # No penalty socket, so no auth penalty: after a wrong password Dovecot would otherwise
  # delay every later login from 127.0.0.1 by seconds, slowing unrelated tests.
  unix_listener anvil-auth-penalty {{
    mode = 0
  }}
}}
"""

    def add_user(self, user: str, password: str) -> Path:
        """Add an account with a chosen name; return its home.

        Dovecot re-reads the passwd-file only when its mtime (in whole seconds) changed and at
        most once per second, so this bumps the mtime and waits for the next second (< 1 s).
        Fixture accounts come from a pool written before start and cost nothing.
        """
        self._append_users([(user, password)])
        stamp = self.users_file.stat().st_mtime + 1
        os.utime(self.users_file, (stamp, stamp))
        time.sleep(1.02 - time.time() % 1.0)
        return self._home(user)

    def new_user(self) -> tuple[str, str]:
        """Take the next account of the pre-written pool (user1, user2, ...)."""
        if not self._pool:
            self._fill_pool()
            if self.running:  # Dovecot read the old file already: make it look again
                stamp = self.users_file.stat().st_mtime + 1
                os.utime(self.users_file, (stamp, stamp))
                time.sleep(1.02 - time.time() % 1.0)
        user, password = self._pool.popleft()
        self._home(user)
        return user, password

    def _fill_pool(self, size: int = 1000) -> None:
        accounts = [(f"user{self._user_count + i}", secrets.token_hex(8))
                    for i in range(1, size + 1)]
        self._user_count += size
        self._append_users(accounts)
        self._pool.extend(accounts)

    def _append_users(self, accounts: Sequence[tuple[str, str]]) -> None:
        for user, password in accounts:
            if any(c in user + password for c in ":\n/") or user in (".", ".."):
                raise ValueError(f"unusable test account name or password: {user!r}")
        with self.users_file.open("a") as users:
            users.writelines(f"{user}:{{PLAIN}}{password}\n" for user, password in accounts)

    def _home(self, user: str) -> Path:
        home = self.mail_root / user
        home.mkdir(exist_ok=True)
        shutil.chown(home, "dovecot", "dovecot")
        return home

    def log_tail(self, lines: int = 40) -> str:
        if not self.log_path.exists():
            return "(no dovecot.log)"
        return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])

    # -- process -------------------------------------------------------------------------

    @property
    def running(self) -> bool:
        return self._process is not None and self._process.poll() is None

    def start(self) -> None:
        if self.running:
            return
        for attempt in range(3):
            try:
                self._spawn()
                break
            except PortTakenError:
                # Another program took a port between free_port() and Dovecot's bind. Ports
                # that already served must stay (clients know them), so only a first start
                # moves on to new ones.
                if self.generation > 1 or attempt == 2:
                    raise
                self.generation = 0
                self.port = free_port()
                self.tls_port = free_port() if self.ca else None
                self.conf_path.write_text(self._config())
        atexit.register(self.close)

    def _spawn(self) -> None:
        stderr_path = self.root / "dovecot.stderr"
        with stderr_path.open("ab") as stderr:
            # Own session: the whole Dovecot process tree is one process group we can check/kill.
            self._process = subprocess.Popen(
                [self.binary, "-F", "-c", str(self.conf_path)],
                stdin=subprocess.DEVNULL, stdout=stderr, stderr=stderr, start_new_session=True,
            )
        self.generation += 1
        try:
            self._wait_ready()
        except Exception:
            self.stop()
            raise

    def _wait_ready(self) -> None:
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            assert self._process is not None
            if self._process.poll() is not None:
                errors = self._startup_errors()
                kind = PortTakenError if "Address already in use" in errors else RuntimeError
                raise kind(f"dovecot exited with {self._process.returncode}:\n{errors}")
            if _imap_greets(self.host, self.port):
                return
            time.sleep(0.005)
        raise RuntimeError(f"dovecot did not answer on port {self.port} within "
                           f"{START_TIMEOUT} s:\n{self._startup_errors()}")

    def _startup_errors(self) -> str:
        stderr = (self.root / "dovecot.stderr").read_text(errors="replace")[-2000:]
        return f"{stderr}\n--- dovecot.log ---\n{self.log_tail()}"

    def stop(self) -> None:
        """Stop Dovecot; when this returns, no process of it runs any more.

        After a plain SIGTERM the master and its log process idle about a second before they
        exit. So: SIGTERM, wait until every child except `log` has ended (sessions are closed
        and their log lines sent then), give the log process a moment to write them, SIGKILL
        the rest of the process group. Killed orphans may stay zombies until init reaps them
        (slowly in some sandboxes); they hold no port or file, so a restart need not wait.
        `close()` waits for them too.
        """
        process, self._process = self._process, None
        if process is None:
            return
        atexit.unregister(self.close)
        process.terminate()
        _wait_until(lambda: process.poll() is not None
                    or set(_children(process.pid).values()) <= {"log"}, timeout=5)  # then SIGKILL
        time.sleep(0.02)
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)  # start_new_session: pgid == master pid
        process.wait()
        self._last_group = process.pid
        if not _wait_until(lambda: not _group_members(process.pid, live_only=True)):
            raise RuntimeError(f"Dovecot process group {process.pid} survived SIGKILL")

    def restart(self) -> None:
        self.stop()
        self.start()

    def close(self, keep_log_in: Path | None = None) -> None:
        """Stop for good: wait until init has reaped every process of the last run (so `pgrep`
        finds nothing), copy the log to `keep_log_in` and remove a root this daemon made."""
        self.stop()
        if self._last_group is not None:
            _wait_until(lambda: not _group_alive(self._last_group or 0), timeout=10)
        if keep_log_in is not None and self.log_path.exists():
            shutil.copy2(self.log_path, keep_log_in / self.log_path.name)
        if self._owns_root:
            shutil.rmtree(self.root, ignore_errors=True)


def _imap_greets(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=1) as sock:
            return sock.recv(4).startswith(b"* OK")
    except OSError:
        return False


_APPENDUID = re.compile(rb"\[APPENDUID (\d+) (\d+)\]")


class DovecotServer:
    """One IMAP account on a running DovecotDaemon: the object the `dovecot` fixtures give.

    `root` is the daemon's directory (config, `dovecot.log`, `home/<user>/Maildir`).
    On the TLS daemon `tls_port` and `ca_file` are set, `port` offers STARTTLS, and
    `client()` connects with implicit TLS trusting `ca_file`.
    Note: Dovecot serves every stored line ending as CRLF, so deliver CRLF mail when a test
    compares the fetched bytes (or their hash) with what it delivered.
    """

    def __init__(self, daemon: DovecotDaemon, user: str, password: str) -> None:
        self.daemon = daemon
        self.host = daemon.host
        self.port = daemon.port
        self.tls_port = daemon.tls_port
        self.ca_file: Path | None = daemon.ca.ca_file if daemon.ca else None
        self.user = user
        self.password = password
        self.root = daemon.root
        self.home = daemon.mail_root / user
        self.maildir = self.home / "Maildir"
        self._session: imapclient.IMAPClient | None = None
        self._session_generation = -1

    def __repr__(self) -> str:
        return f"<DovecotServer {self.user}@{self.host}:{self.port} root={self.root}>"

    # -- server lifecycle (shared by every account of the daemon) -----------------------

    def start(self) -> None:
        self.daemon.start()

    def stop(self) -> None:
        self._drop_session()
        self.daemon.stop()

    def restart(self) -> None:
        self._drop_session()
        self.daemon.restart()

    # -- clients --------------------------------------------------------------------------

    def ssl_context(self) -> ssl.SSLContext:
        """A verifying client context trusting the test CA (TLS daemon only)."""
        if self.daemon.ca is None:
            raise RuntimeError("this Dovecot has no TLS; use the dovecot_tls fixture")
        return self.daemon.ca.client_context()

    def client(self) -> imapclient.IMAPClient:
        """A logged-in IMAPClient; the caller logs out / closes it."""
        if self.tls_port is not None:
            imap = imapclient.IMAPClient(self.host, self.tls_port, ssl=True,
                                         ssl_context=self.ssl_context(), timeout=IMAP_TIMEOUT)
        else:
            imap = imapclient.IMAPClient(self.host, self.port, ssl=False, timeout=IMAP_TIMEOUT)
        imap.login(self.user, self.password)
        # Aware datetimes: INTERNALDATE keeps its offset instead of becoming naive local time.
        imap.normalise_times = False
        return imap

    def _imap(self) -> imapclient.IMAPClient:
        """The fixture's own session, reused across calls; renewed after a restart."""
        if self._session is None or self._session_generation != self.daemon.generation:
            self._drop_session()
            self._session = self.client()
            self._session_generation = self.daemon.generation
        return self._session

    def _drop_session(self) -> None:
        session, self._session = self._session, None
        if session is not None:
            with contextlib.suppress(Exception):  # it may already be dead (server restarted)
                session.logout()
            with contextlib.suppress(Exception):
                session.shutdown()

    def close(self) -> None:
        self._drop_session()

    def idle_sessions(self) -> int:
        """How many of this account's IMAP sessions are in IDLE now, from the imap process
        titles of this Dovecot (verbose_proctitle: "dovecot/imap [user 127.0.0.1 IDLE]")."""
        process = self.daemon._process
        if process is None:
            return 0
        count = 0
        for pid in _group_members(process.pid, live_only=True):
            try:
                title = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
            except (OSError, UnicodeDecodeError):
                continue  # the process ended while we looked
            mine = title.startswith(f"dovecot/imap [{self.user} ")
            count += mine and title.rstrip().endswith(" IDLE]")
        return count

    # -- mailbox --------------------------------------------------------------------------

    def deliver(self, raw: bytes, *, folder: str = "INBOX", internaldate: datetime | None = None,
                flags: Sequence[str] = ()) -> int:
        """IMAP APPEND `raw` and return its UID. `internaldate` (timezone-aware) becomes the
        message's INTERNALDATE, i.e. the time the server "received" it. A missing folder is
        created first."""
        if internaldate is not None and internaldate.tzinfo is None:
            raise ValueError("internaldate must be timezone-aware (e.g. tzinfo=JST)")
        imap = self._imap()
        if folder.upper() != "INBOX" and not imap.folder_exists(folder):
            imap.create_folder(folder)
        answer = imap.append(folder, raw, flags=tuple(flags), msg_time=internaldate)
        match = _APPENDUID.search(answer or b"")
        if match is None:
            raise RuntimeError(f"APPEND answer without APPENDUID: {answer!r}")
        return int(match.group(2))

    def uidvalidity(self, folder: str = "INBOX") -> int:
        status = self._imap().folder_status(folder, [b"UIDVALIDITY"])
        return int(status[b"UIDVALIDITY"])

    def recreate_folder(self, folder: str = "INBOX") -> None:
        """Delete and recreate `folder` with the same messages (same bytes, flags and
        INTERNALDATE, same order): the folder gets a new UIDVALIDITY and UIDs restart at 1.

        INBOX cannot be deleted over IMAP, so for INBOX the daemon is stopped, the mailbox's
        index and message files are removed, and it is started again: every open session of
        every account is disconnected, as a real server rebuild would do.
        """
        saved = self._read_all(folder)
        before = self.uidvalidity(folder)
        if folder.upper() == "INBOX":
            self._wipe_inbox()
        else:
            imap = self._imap()
            imap.delete_folder(folder)
            imap.create_folder(folder)
        for raw, flags, internaldate in saved:
            self.deliver(raw, folder=folder, internaldate=internaldate, flags=flags)
        if self.uidvalidity(folder) == before:
            raise RuntimeError(f"UIDVALIDITY of {folder} did not change after recreation")

    def _read_all(self, folder: str) -> list[tuple[bytes, list[str], datetime]]:
        imap = self._imap()
        imap.select_folder(folder, readonly=True)
        try:
            uids = sorted(imap.search("ALL"))
            saved = []
            for start in range(0, len(uids), 200):
                batch = uids[start:start + 200]
                fetched = imap.fetch(batch, [b"BODY.PEEK[]", b"FLAGS", b"INTERNALDATE"])
                for uid in batch:
                    item = fetched[uid]
                    flags = [f.decode() for f in item[b"FLAGS"] if f != b"\\Recent"]
                    saved.append((item[b"BODY[]"], flags, item[b"INTERNALDATE"]))
            return saved
        finally:
            imap.unselect_folder()

    def _wipe_inbox(self) -> None:
        self.stop()
        for sub in ("cur", "new", "tmp"):
            shutil.rmtree(self.maildir / sub, ignore_errors=True)
        for pattern in _MAILBOX_STATE_GLOBS:
            for path in self.maildir.glob(pattern):
                path.unlink()
        self.start()


# --------------------------------------------------------------------------------------------
# SMTP (aiosmtpd)


@dataclass(frozen=True)
class ReceivedMail:
    mail_from: str
    rcpt_tos: list[str]
    data: bytes  # exactly what the client sent after DATA (dot-unstuffed)
    message: email.message.Message  # parsed with email.policy.default


class _FreePortController(Controller):
    """aiosmtpd Controller bound to port 0: the kernel picks a free port (no race), and we read
    it back before aiosmtpd's start-up probe connects to it."""

    def _trigger_server(self) -> None:
        assert self.server is not None
        self.port = self.server.sockets[0].getsockname()[1]
        super()._trigger_server()


class _Handler:
    def __init__(self, owner: SmtpServer) -> None:
        self.owner = owner

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        return self.owner._receive(envelope)


TlsMode = Literal["none", "starttls", "implicit"]


class SmtpServer:
    """A real SMTP server (aiosmtpd) in a thread on 127.0.0.1 and a free port.

    `tls`: "none", "starttls" (STARTTLS required before MAIL) or "implicit" (TLS from the first
    byte), with the session's LocalCA. With `user`/`password`, AUTH (PLAIN/LOGIN) is required.
    """

    def __init__(self, *, tls: TlsMode = "none", ca: LocalCA | None = None,
                 user: str | None = None, password: str | None = None) -> None:
        if tls != "none" and ca is None:
            raise ValueError("a TLS SMTP server needs the LocalCA (fixture local_ca)")
        self.host = HOST
        self.port = 0
        self.tls = tls
        self.ca = ca
        self.ca_file: Path | None = ca.ca_file if ca else None
        self.user = user
        self.password = password
        self.messages: list[ReceivedMail] = []
        self._failures: deque[tuple[int, str]] = deque()
        self._changed = threading.Condition()
        self._controller: _FreePortController | None = None

    def __repr__(self) -> str:
        return f"<SmtpServer {self.host}:{self.port} tls={self.tls}>"

    def start(self) -> None:
        kwargs: dict[str, Any] = {"hostname": self.host, "port": 0,
                                  # fixed name: the default getfqdn() can stall without DNS
                                  "server_hostname": "smtp.test.invalid"}
        if self.tls == "implicit":
            assert self.ca is not None
            kwargs["ssl_context"] = self.ca.server_context()
        elif self.tls == "starttls":
            assert self.ca is not None
            kwargs.update(tls_context=self.ca.server_context(), require_starttls=True)
        if self.user is not None:
            kwargs.update(authenticator=self._authenticate, auth_required=True,
                          auth_require_tls=self.tls != "none")
        self._controller = _FreePortController(_Handler(self), **kwargs)
        self._controller.start()
        self.port = self._controller.port

    def stop(self) -> None:
        controller, self._controller = self._controller, None
        if controller is not None:
            controller.stop()

    def client_context(self) -> ssl.SSLContext:
        if self.ca is None:
            raise RuntimeError("this SMTP server has no TLS")
        return self.ca.client_context()

    def fail_next(self, code: int, text: str, count: int = 1) -> None:
        """Answer the next `count` DATA commands with `code text` (e.g. 451 or 550)."""
        with self._changed:
            self._failures.extend([(code, text)] * count)

    def wait_for(self, n: int, timeout: float = 120) -> list[ReceivedMail]:
        """Wait until at least `n` mails arrived; return all received so far."""
        with self._changed:
            if not self._changed.wait_for(lambda: len(self.messages) >= n, timeout):
                raise AssertionError(f"expected {n} mails within {timeout} s, "
                                     f"got {len(self.messages)}")
            return list(self.messages)

    def _receive(self, envelope: Envelope) -> str:
        with self._changed:
            if self._failures:
                code, text = self._failures.popleft()
                return f"{code} {text}"
            data = envelope.content if isinstance(envelope.content, bytes) else b""
            self.messages.append(ReceivedMail(
                mail_from=envelope.mail_from or "",
                rcpt_tos=list(envelope.rcpt_tos),
                data=data,
                message=email.message_from_bytes(data, policy=email.policy.default),
            ))
            self._changed.notify_all()
        return "250 OK queued"

    def _authenticate(self, server: SMTP, session: Session, envelope: Envelope,
                      mechanism: str, auth_data: Any) -> AuthResult:
        ok = (isinstance(auth_data, LoginPassword)
              and auth_data.login == (self.user or "").encode()
              and auth_data.password == (self.password or "").encode())
        return AuthResult(success=ok, handled=False)  # handled=False: aiosmtpd answers 535


# --------------------------------------------------------------------------------------------
# Fixtures


def _require_dovecot() -> None:
    if dovecot_binary() is None:
        pytest.fail(INSTALL_HINT)
    if os.geteuid() != 0:
        pytest.fail("the Dovecot test server needs root (CI and the dev machine run tests as "
                    "root); run the test command from README.md")


@pytest.fixture(scope="session")
def local_ca(tmp_path_factory: pytest.TempPathFactory) -> LocalCA:
    return make_local_ca(tmp_path_factory.mktemp("ca"))


@pytest.fixture(scope="session")
def dovecot_daemon(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DovecotDaemon]:
    """The session's plain-text Dovecot; its log ends up in the pytest temp dir `dovecot-log*`."""
    _require_dovecot()
    daemon = DovecotDaemon()
    daemon.start()
    yield daemon
    daemon.close(keep_log_in=tmp_path_factory.mktemp("dovecot-log"))


@pytest.fixture(scope="session")
def dovecot_tls_daemon(tmp_path_factory: pytest.TempPathFactory,
                       local_ca: LocalCA) -> Iterator[DovecotDaemon]:
    _require_dovecot()
    daemon = DovecotDaemon(ca=local_ca)
    daemon.start()
    yield daemon
    daemon.close(keep_log_in=tmp_path_factory.mktemp("dovecot-tls-log"))


def _account(daemon: DovecotDaemon) -> Iterator[DovecotServer]:
    daemon.start()  # an earlier test may have stopped it
    server = DovecotServer(daemon, *daemon.new_user())
    yield server
    server.close()


@pytest.fixture
def dovecot(dovecot_daemon: DovecotDaemon) -> Iterator[DovecotServer]:
    """A fresh IMAP account (empty mailbox) on the session's plain-text Dovecot."""
    yield from _account(dovecot_daemon)


@pytest.fixture
def dovecot_tls(dovecot_tls_daemon: DovecotDaemon) -> Iterator[DovecotServer]:
    """A fresh IMAP account on the TLS Dovecot: `tls_port` implicit TLS, `port` STARTTLS,
    certificate signed by `ca_file`."""
    yield from _account(dovecot_tls_daemon)


@pytest.fixture
def smtp_server() -> Iterator[SmtpServer]:
    """Plain SMTP, no AUTH."""
    server = SmtpServer()
    server.start()
    yield server
    server.stop()


@pytest.fixture
def smtp_tls_server(local_ca: LocalCA) -> Iterator[SmtpServer]:
    """SMTP with STARTTLS required and AUTH (user `sender`, password in `.password`)."""
    server = SmtpServer(tls="starttls", ca=local_ca, user="sender", password=secrets.token_hex(8))
    server.start()
    yield server
    server.stop()
