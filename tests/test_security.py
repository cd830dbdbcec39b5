"""Security: TLS verified by default (IMAP and SMTP, against the session's own CA), secrets
never written anywhere, and `serve` local and read-only.

The servers are real (Dovecot with ssl = required, aiosmtpd with STARTTLS and AUTH); the CA is
made for the test session by tests/servers.py, so an unconfigured client cannot trust it.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import signal
import socket
import sqlite3
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import pytest

from ingest.cli import main
from ingest.config import load_settings
from ingest.imap_source import MailboxError, connect
from replies.connection import ServerUnavailable
from replies.smtp import SmtpSender
from tests.browser import signed_in_opener
from tests.conftest import REPO
from tests.mails import CORE, JST, LEAD, complete_mail, mail
from tests.servers import DovecotServer, SmtpServer, free_port
from tests.test_staff_serve import serving

EXAMPLES = REPO / "examples" / "mailbox"
IMAP_SECRET = "h10-Imap-Secret-7Qx2Lw"
OUTGOING_SECRET = "h10-Smtp-Secret-9Rv4Kp"
WRONG_SECRET = "h10-Wrong-Secret-3Ht8Mz"
INTERNALDATE = datetime(2022, 8, 10, 10, 0, tzinfo=JST)


def write_config(root: Path, *, imap: tuple[str, int, str, str] | None = None,
                 smtp: tuple[str, int, str, str] | None = None, imap_trust: str = "",
                 smtp_trust: str = "", extra: str = "") -> Path:
    """`imap`/`smtp`: (host, port, tls, user); `*_trust`: extra lines (ca_file, verify_tls)."""
    root.mkdir(parents=True, exist_ok=True)
    lines = ["[paths]", 'ledger = "ledger.db"', 'blobs = "blobs"', 'outbox = "outbox"',
             "[replies]", "business_hours_only = false", "approve_deficiencies = false"]
    if imap:
        host, port, tls, user = imap
        lines += ["[imap]", f'host = "{host}"', f"port = {port}", f'tls = "{tls}"',
                  f'user = "{user}"', 'password_env = "H10_IMAP_PASSWORD"', "timeout_seconds = 10",
                  imap_trust]
    if smtp:
        host, port, tls, user = smtp
        lines += ["[smtp]", f'host = "{host}"', f"port = {port}", f'tls = "{tls}"',
                  f'user = "{user}"', 'password_env = "H10_OUTGOING_PASSWORD"', "timeout_seconds = 10",
                  smtp_trust]
    path = root / "config.toml"
    path.write_text("\n".join(lines) + "\n" + extra, encoding="utf-8")
    return path


def ca_line(ca_file: Path | None) -> str:
    return f'ca_file = "{ca_file}"'


def ledger_rows(root: Path, sql: str) -> list[tuple]:
    with sqlite3.connect(f"file:{root / 'ledger.db'}?mode=ro", uri=True) as db:
        return db.execute(sql).fetchall()


# --------------------------------------------------------------------------- (a) IMAP TLS


@pytest.mark.parametrize("tls", ["implicit", "starttls"])
def test_imap_certificate_is_verified_unless_configured(dovecot_tls, tmp_path, capsys,
                                                        monkeypatch, tls):
    monkeypatch.setenv("H10_IMAP_PASSWORD", dovecot_tls.password)
    dovecot_tls.deliver(complete_mail("<tls@minato-seiki.example.jp>"), internaldate=INTERNALDATE)
    port = dovecot_tls.tls_port if tls == "implicit" else dovecot_tls.port
    imap = (dovecot_tls.host, port, tls, dovecot_tls.user)

    untrusted = write_config(tmp_path / "untrusted", imap=imap)
    assert main(["--config", str(untrusted), "poll", "--once"]) == 2
    err = capsys.readouterr().err
    assert "証明書" in err and "ca_file" in err, err  # says what failed and what to set
    assert "CERTIFICATE_VERIFY_FAILED" in err
    assert ledger_rows(tmp_path / "untrusted", "SELECT count(*) FROM messages") == [(0,)]
    assert ledger_rows(tmp_path / "untrusted", "SELECT count(*) FROM imap_seen") == [(0,)]
    # no successful poll, and the failure is kept for `status`
    assert [r[0].split(":")[0] for r in ledger_rows(
        tmp_path / "untrusted", "SELECT name FROM heartbeat")] == ["poll-error"]

    for name, trust in (("with-ca", ca_line(dovecot_tls.ca_file)),
                        ("verify-off", "verify_tls = false")):
        config = write_config(tmp_path / name, imap=imap, imap_trust=trust)
        assert main(["--config", str(config), "poll", "--once"]) == 0, capsys.readouterr().err
        assert ledger_rows(tmp_path / name, "SELECT count(*) FROM messages") == [(1,)]


# --------------------------------------------------------------------------- (b) SMTP TLS


@pytest.fixture
def smtp_secret_server(local_ca) -> Iterator[SmtpServer]:
    """STARTTLS required, AUTH required, with a password we know."""
    server = SmtpServer(tls="starttls", ca=local_ca, user="sender", password=OUTGOING_SECRET)
    server.start()
    yield server
    server.stop()


def test_smtp_certificate_is_verified_and_the_reply_waits(dovecot, smtp_secret_server, tmp_path,
                                                          capsys, monkeypatch):
    monkeypatch.setenv("H10_IMAP_PASSWORD", dovecot.password)
    monkeypatch.setenv("H10_OUTGOING_PASSWORD", OUTGOING_SECRET)
    dovecot.deliver(complete_mail("<smtp-tls@minato-seiki.example.jp>"), internaldate=INTERNALDATE)
    imap = (dovecot.host, dovecot.port, "none", dovecot.user)
    smtp = (smtp_secret_server.host, smtp_secret_server.port, "starttls", "sender")

    untrusted = write_config(tmp_path / "untrusted", imap=imap, smtp=smtp)
    assert main(["--config", str(untrusted), "poll", "--once"]) == 0
    assert "再試行待ち 1" in capsys.readouterr().out
    [(status, attempts, answer, due)] = ledger_rows(
        tmp_path / "untrusted", "SELECT status, attempts, smtp_response, next_attempt_at "
                                "FROM replies")
    assert status == "queued" and attempts == 1 and due  # kept, retried later
    assert "証明書" in answer and "CERTIFICATE_VERIFY_FAILED" in answer, answer
    events = ledger_rows(tmp_path / "untrusted", "SELECT event, detail FROM events "
                                                 "WHERE entity = 'reply' ORDER BY id")
    names = [e for e, _ in events]
    assert names[:2] == ["queued", "retry"] and "sent" not in names, names
    assert "証明書" in json.loads(events[1][1])["smtp"]
    assert smtp_secret_server.messages == []

    trusted = write_config(tmp_path / "trusted", imap=imap, smtp=smtp,
                           smtp_trust=ca_line(smtp_secret_server.ca_file))
    assert main(["--config", str(trusted), "poll", "--once"]) == 0
    [(status, answer)] = ledger_rows(tmp_path / "trusted",
                                     "SELECT status, smtp_response FROM replies")
    assert status == "sent" and answer.startswith("250")
    [received] = smtp_secret_server.wait_for(1)
    assert received.rcpt_tos == [LEAD]


# --------------------------------------------------------------------------- (c) secrets


def secret_forms(secret: str, user: str) -> list[bytes]:
    """The secret as text, and as it would look base64'd alone or in AUTH PLAIN / XOAUTH."""
    raw = secret.encode()
    return [raw, base64.b64encode(raw), base64.b64encode(f"\0{user}\0{secret}".encode()),
            secret.encode("utf-16-le"), secret[::-1].encode()]


def run_cli(args: list[str], cwd: Path, env: dict[str, str], timeout: float = 120
            ) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run([sys.executable, "-m", "ingest.cli", *args], cwd=cwd, env=env,
                          capture_output=True, timeout=timeout, check=False)


def run_daemon(config: Path, env: dict[str, str], beat: str) -> bytes:
    """`renkei-intake run` until it writes the ledger's heartbeat `beat` (a poll done, or a poll
    failed), then stopped with SIGTERM; returns what it wrote (its log)."""
    out, err = config.parent / "daemon.out", config.parent / "daemon.err"
    ledger = config.parent / "ledger.db"
    with sqlite3.connect(ledger) as db:  # the beat of an earlier run is not this run's
        db.execute("DELETE FROM heartbeat WHERE name LIKE ?", (beat + "%",))
    with out.open("wb") as stdout, err.open("wb") as stderr:
        proc = subprocess.Popen(
            [sys.executable, "-m", "ingest.cli", "--config", str(config), "run"],
            cwd=config.parent, env=env, stdout=stdout, stderr=stderr)
    try:
        deadline = time.monotonic() + 120  # only a hung daemon takes this long
        while not beaten(ledger, beat):
            assert proc.poll() is None, err.read_bytes()[-2000:]
            assert time.monotonic() < deadline, err.read_bytes()[-2000:]
            time.sleep(0.05)
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=60)
    return out.read_bytes() + err.read_bytes()


def beaten(ledger: Path, prefix: str) -> bool:
    with sqlite3.connect(f"file:{ledger}?mode=ro", uri=True) as db:
        return bool(db.execute("SELECT 1 FROM heartbeat WHERE name LIKE ?",
                               (prefix + "%",)).fetchone())


def test_passwords_never_appear_anywhere(dovecot, smtp_secret_server, tmp_path):
    user = "h10secrets"
    dovecot.daemon.add_user(user, IMAP_SECRET)
    account = DovecotServer(dovecot.daemon, user, IMAP_SECRET)
    try:
        account.deliver(complete_mail("<secret-1@minato-seiki.example.jp>"),
                        internaldate=INTERNALDATE)
        account.deliver(mail(f"<不備コンソーシアム>{CORE}", "よろしく", "sato@fubi.example.jp",
                             "<secret-2@fubi.example.jp>"), internaldate=INTERNALDATE)
    finally:
        account.close()
    root = tmp_path / "run"
    config = write_config(
        root, imap=(dovecot.host, dovecot.port, "none", user),
        smtp=(smtp_secret_server.host, smtp_secret_server.port, "starttls", "sender"),
        smtp_trust=ca_line(smtp_secret_server.ca_file),
        extra="[daemon]\npoll_interval_seconds = 1\n")
    good = {**os.environ, "PYTHONPATH": str(REPO), "H10_IMAP_PASSWORD": IMAP_SECRET,
            "H10_OUTGOING_PASSWORD": OUTGOING_SECRET}
    wrong_imap = {**good, "H10_IMAP_PASSWORD": WRONG_SECRET}
    wrong_smtp = {**good, "H10_OUTGOING_PASSWORD": WRONG_SECRET}
    cfg = ["--config", str(config)]
    outputs: list[bytes] = []

    def cli(args: list[str], env: dict[str, str], expect: int) -> None:
        done = run_cli(cfg + args, root, env)
        outputs.extend([done.stdout, done.stderr])
        assert done.returncode == expect, (args, done.stderr[-2000:])

    cli(["poll", "--once"], good, 0)
    assert len(smtp_secret_server.wait_for(2)) == 2  # the passwords were used and worked
    cli(["poll", "--once"], wrong_imap, 2)  # a failing IMAP login
    assert b"\xe3\x83\xad\xe3\x82\xb0\xe3\x82\xa4\xe3\x83\xb3" in outputs[-1]  # "ログイン"
    cli(["replay", str(EXAMPLES)], wrong_smtp, 0)  # queues replies for the next send
    cli(["poll", "--once"], wrong_smtp, 0)  # a failing SMTP login: recorded on the rows
    assert ledger_rows(root, "SELECT count(*) FROM replies WHERE smtp_response LIKE '%535%'"
                       )[0][0] > 0
    for args in (["status"], ["status", "--json"], ["export", "submissions", "--format", "csv"],
                 ["export", "submissions", "--format", "jsonl"], ["outbox", "list", "--json"]):
        done = run_cli(cfg + args, root, good)
        outputs.extend([done.stdout, done.stderr])
    outputs.append(run_daemon(config, good, "poll:"))
    outputs.append(run_daemon(config, wrong_imap, "poll-error:"))  # a login error logged

    # Exception messages raised in-process by the connection code.
    settings = load_settings(config)
    os.environ["H10_IMAP_PASSWORD"], os.environ["H10_OUTGOING_PASSWORD"] = WRONG_SECRET, WRONG_SECRET
    try:
        assert settings.imap is not None and settings.smtp is not None
        with pytest.raises(MailboxError) as imap_error:
            connect(settings.imap)
        with pytest.raises(ServerUnavailable) as smtp_error, SmtpSender(settings.smtp):
            pass
    finally:
        del os.environ["H10_IMAP_PASSWORD"], os.environ["H10_OUTGOING_PASSWORD"]
    outputs += [str(imap_error.value).encode(), repr(imap_error.value).encode(),
                str(smtp_error.value).encode(), repr(smtp_error.value).encode()]

    with sqlite3.connect(root / "ledger.db") as db:  # every table, as text
        outputs.append("\n".join(db.iterdump()).encode())
    files = [p for p in tmp_path.rglob("*") if p.is_file()]
    assert any(p.suffix == ".eml" for p in files) or smtp_secret_server.messages
    assert len([p for p in files if "blobs" in p.parts]) > 5
    haystacks = [(f"output {n}", blob) for n, blob in enumerate(outputs)]
    haystacks += [(str(p), p.read_bytes()) for p in files]  # ledger, WAL, blobs, outbox, locks
    for secret, who in ((IMAP_SECRET, user), (OUTGOING_SECRET, "sender"), (WRONG_SECRET, user),
                        (WRONG_SECRET, "sender")):
        for form in secret_forms(secret, who):
            leaks = [name for name, blob in haystacks if form in blob]
            assert not leaks, (secret, form, leaks)


# --------------------------------------------------------------------------- (d) serve


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path, int]]:
    """`serve` on the example mailbox's ledger, in its own process: (base URL, ledger, port)."""
    root = tmp_path_factory.mktemp("serve")
    config = write_config(root)
    assert main(["--config", str(config), "replay", str(EXAMPLES)]) == 0
    port = free_port()
    with serving(config, port) as base:
        SIGNED_IN[base] = signed_in_opener(base)[1]  # the explorer is for signed-in staff only
        yield base, root / "ledger.db", port


def listening_addresses(port: int) -> set[str]:
    """Local addresses with a LISTEN socket on `port`, from /proc/net/tcp{,6}."""
    found = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        if not os.path.exists(table):
            continue
        for line in Path(table).read_text().splitlines()[1:]:
            local, state = line.split()[1], line.split()[3]
            address, hex_port = local.rsplit(":", 1)
            if state == "0A" and int(hex_port, 16) == port:
                found.add(address)
    return found


def other_local_address() -> str | None:
    """A non-loopback address of this machine, if it has one."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        try:
            probe.connect(("192.0.2.1", 9))  # TEST-NET-1: no packet is sent for UDP connect
            address = probe.getsockname()[0]
        except OSError:
            return None
    return None if address.startswith("127.") else address


def test_serve_listens_on_loopback_only(served):
    _, _, port = served
    assert listening_addresses(port) == {"0100007F"}  # 127.0.0.1, nothing else, no IPv6
    other = other_local_address()
    if other is not None:
        with pytest.raises(OSError), socket.create_connection((other, port), timeout=2):
            pass


SIGNED_IN: dict[str, urllib.request.OpenerDirector] = {}


def _status(request: urllib.request.Request | str) -> int:
    url = request if isinstance(request, str) else request.full_url
    opener = next(o for base, o in SIGNED_IN.items() if url.startswith(base))
    try:
        with opener.open(request, timeout=10) as answer:
            return answer.status
    except urllib.error.HTTPError as exc:
        return exc.code


WRITES = [
    "DELETE FROM messages",
    "UPDATE submissions SET consortium = 'x'",
    "INSERT INTO findings (submission_id, code, severity, detail) VALUES (1, 'X', 'notice', 'x')",
    "DROP TABLE replies",
    "PRAGMA journal_mode = DELETE",
    "ATTACH DATABASE '/tmp/h10-attached.db' AS a",
    "select 1; delete from messages",
    "WITH x AS (SELECT 1) DELETE FROM messages",
    "VACUUM",
]


@pytest.mark.parametrize("sql", WRITES)
def test_serve_refuses_writes_through_sql(served, sql):
    base, ledger, _ = served
    before = hashlib.sha256(ledger.read_bytes()).hexdigest()
    query = urllib.parse.urlencode({"sql": sql, "_shape": "array"})
    assert _status(f"{base}/ledger.json?{query}") >= 400
    assert _status(f"{base}/ledger?{query}") >= 400
    assert hashlib.sha256(ledger.read_bytes()).hexdigest() == before
    assert not Path("/tmp/h10-attached.db").exists()
    assert ledger_rows(ledger.parent, "SELECT count(*) FROM messages")[0][0] > 5


@pytest.mark.parametrize("path", ["/ledger/messages/-/insert", "/ledger/-/create",
                                  "/ledger/messages/1/-/delete", "/ledger/messages/1/-/update",
                                  "/ledger/messages/-/drop", "/ledger/-/query"])
def test_serve_refuses_writes_through_the_json_api(served, path):
    base, ledger, _ = served
    before = hashlib.sha256(ledger.read_bytes()).hexdigest()
    body = json.dumps({"row": {"sha256": "x", "size": 1}, "rows": [{"sha256": "y"}],
                       "update": {"subject": "x"}, "table": "evil", "sql": "DELETE FROM messages",
                       "columns": [{"name": "id"}]}).encode()
    request = urllib.request.Request(f"{base}{path}", data=body, method="POST",
                                     headers={"Content-Type": "application/json"})
    assert _status(request) >= 400
    assert hashlib.sha256(ledger.read_bytes()).hexdigest() == before
    assert ledger_rows(ledger.parent, "SELECT count(*) FROM sqlite_master WHERE name = 'evil'"
                       ) == [(0,)]
