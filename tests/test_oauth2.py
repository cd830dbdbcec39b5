"""OAuth2 (XOAUTH2) logins against real servers.

A local HTTP server plays the identity provider the way Microsoft does: `/token` rotates the
refresh token on every refresh (the old one is refused from then on), and `/introspect` tells
Dovecot (its oauth2 passdb) and the test SMTP server whether an access token is live.
"""

from __future__ import annotations

import base64
import json
import re
import secrets
import signal
import sqlite3
import stat
import threading
import time
import tomllib
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs

import pytest
from aiosmtpd.smtp import SMTP, AuthResult, Envelope, Session

from ingest.cli import main
from ingest.config import ConfigError, settings_from_toml
from replies.connection import Secret, ServerConfig, ServerUnavailable
from replies.oauth2 import OAuth2Error, OAuth2Settings, TokenSource
from replies.smtp import SmtpSender
from tests.mails import complete_mail
from tests.servers import DovecotDaemon, DovecotServer, _FreePortController, _require_dovecot
from tests.test_daemon import start_daemon

CLIENT_ID = "renkei-intake-test"
SCOPE = "https://outlook.office.com/IMAP.AccessAsUser.All offline_access"


# --------------------------------------------------------------------------------------------
# The identity provider


@dataclass
class IdentityProvider:
    """Token endpoint and introspection endpoint of a rotating provider, on 127.0.0.1."""

    client_secret: str | None = None
    expires_in: int = 3600
    echo_token_in_errors: bool = False  # a careless provider that repeats what it was sent
    rotate: bool = True  # Microsoft: a new refresh token on every refresh; Google: the same one
    refresh_tokens: dict[str, str] = field(default_factory=dict)  # live token -> user
    access_tokens: dict[str, str] = field(default_factory=dict)  # live token -> user
    issued: list[str] = field(default_factory=list)  # every token ever handed out
    token_requests: list[dict[str, str]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)
    port: int = 0

    @property
    def token_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/token"

    @property
    def introspection_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/introspect"

    def sign_in(self, user: str) -> str:
        """What the one-time interactive consent gives: a first refresh token."""
        with self.lock:
            return self._new(self.refresh_tokens, "rt", user)

    def revoke_access(self) -> None:
        with self.lock:
            self.access_tokens.clear()

    def introspect(self, token: str) -> dict[str, object]:
        with self.lock:
            user = self.access_tokens.get(token)
        return {"active": True, "username": user} if user else {"active": False}

    def refresh(self, form: dict[str, str]) -> tuple[int, dict[str, object]]:
        with self.lock:
            self.token_requests.append(form)
            if form.get("client_id") != CLIENT_ID or form.get("client_secret") != self.client_secret:
                return 401, {"error": "invalid_client",
                             "error_description": "AADSTS7000215: Invalid client secret provided."}
            if form.get("grant_type") != "refresh_token":
                return 400, {"error": "unsupported_grant_type"}
            old = form.get("refresh_token", "")
            user = self.refresh_tokens.pop(old, None) if self.rotate else self.refresh_tokens.get(old)
            if user is None:
                sent = form.get("refresh_token", "") if self.echo_token_in_errors else "(hidden)"
                return 400, {"error": "invalid_grant", "error_description":
                             f"AADSTS70000: The provided grant {sent} has expired or been revoked."
                             "\r\nTrace ID: 0000\r\nCorrelation ID: 1111\r\nTimestamp: 2022-08-10"}
            answer: dict[str, object] = {
                "token_type": "Bearer", "scope": form.get("scope", ""),
                "expires_in": self.expires_in,
                "access_token": self._new(self.access_tokens, "at", user)}
            if self.rotate:
                answer["refresh_token"] = self._new(self.refresh_tokens, "rt", user)
            return 200, answer

    def _new(self, table: dict[str, str], kind: str, user: str) -> str:
        token = f"{kind}-{secrets.token_urlsafe(24)}"
        table[token] = user
        self.issued.append(token)
        return token


class _ProviderHandler(BaseHTTPRequestHandler):
    provider: IdentityProvider

    def do_POST(self) -> None:  # noqa: N802 - http.server's name
        length = int(self.headers.get("Content-Length") or 0)
        form = {k: v[0] for k, v in parse_qs(self.rfile.read(length).decode()).items()}
        if self.path == "/token":
            status, answer = self.provider.refresh(form)
        elif self.path == "/introspect":  # RFC 7662, as Dovecot's introspection_mode = post
            status, answer = 200, self.provider.introspect(form.get("token", ""))
        else:
            status, answer = 404, {"error": "not_found"}
        body = json.dumps(answer).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002
        pass  # quiet test output


def start_provider(provider: IdentityProvider) -> ThreadingHTTPServer:
    handler = type("Handler", (_ProviderHandler,), {"provider": provider})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    provider.port = server.server_port
    threading.Thread(target=server.serve_forever, name="idp", daemon=True).start()
    return server


@pytest.fixture(scope="module")
def provider_server() -> Iterator[ThreadingHTTPServer]:
    server = start_provider(IdentityProvider())
    yield server
    server.shutdown()
    server.server_close()


@pytest.fixture
def provider(provider_server: ThreadingHTTPServer) -> IdentityProvider:
    """A fresh provider state per test on the module's HTTP port (Dovecot knows that port)."""
    fresh = IdentityProvider(port=provider_server.server_port)
    provider_server.RequestHandlerClass.provider = fresh  # type: ignore[attr-defined]
    return fresh


@pytest.fixture(scope="module")
def oauth2_dovecot_daemon(provider_server: ThreadingHTTPServer,
                          tmp_path_factory: pytest.TempPathFactory) -> Iterator[DovecotDaemon]:
    _require_dovecot()
    daemon = DovecotDaemon(
        oauth2_introspection_url=f"http://127.0.0.1:{provider_server.server_port}/introspect")
    daemon.start()
    yield daemon
    daemon.close(keep_log_in=tmp_path_factory.mktemp("dovecot-oauth2-log"))


@pytest.fixture
def mailbox(oauth2_dovecot_daemon: DovecotDaemon) -> Iterator[DovecotServer]:
    oauth2_dovecot_daemon.start()
    server = DovecotServer(oauth2_dovecot_daemon, *oauth2_dovecot_daemon.new_user())
    yield server
    server.close()


def write_oauth2_config(tmp: Path, imap: DovecotServer, provider: IdentityProvider) -> Path:
    token_file = tmp / "imap.refresh-token"
    token_file.write_text(provider.sign_in(imap.user) + "\n")
    token_file.chmod(0o600)
    lines = [
        "[paths]", 'ledger = "ledger.db"', 'blobs = "blobs"', 'outbox = "outbox"',
        "[replies]", "business_hours_only = false", "approve_deficiencies = false",
        "[imap]", f'host = "{imap.host}"', f"port = {imap.port}", 'tls = "none"',
        f'user = "{imap.user}"', 'auth = "oauth2"',
        f'oauth2_token_url = "{provider.token_url}"', f'oauth2_client_id = "{CLIENT_ID}"',
        f'oauth2_scope = "{SCOPE}"', f'oauth2_refresh_token_file = "{token_file.name}"',
    ]
    path = tmp / "config.toml"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def assert_no_token_in(provider: IdentityProvider, *texts: str | bytes) -> None:
    assert provider.issued, "the provider issued nothing: the check below would prove nothing"
    for text in texts:
        data = text.encode() if isinstance(text, str) else text
        leaked = [t for t in provider.issued if t.encode() in data]
        assert not leaked, f"a token leaked: {leaked[0][:6]}..."


def ledger_bytes(tmp: Path) -> bytes:
    with sqlite3.connect(tmp / "ledger.db") as db:
        db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    return b"".join(p.read_bytes() for p in tmp.rglob("*") if p.is_file()
                    and p.name != "imap.refresh-token" and p.suffix != ".toml")


def count_messages(tmp: Path) -> int:
    with sqlite3.connect(tmp / "ledger.db") as db:
        return int(db.execute("SELECT count(*) FROM messages").fetchone()[0])


# --------------------------------------------------------------------------------------------
# IMAP: poll --once and the daemon against Dovecot's oauth2 passdb


def test_poll_logs_in_with_xoauth2_and_keeps_the_rotated_refresh_token(
        mailbox, provider, tmp_path, capsys, caplog):
    mailbox.deliver(complete_mail("<oauth-1@example.jp>"))
    config = write_oauth2_config(tmp_path, mailbox, provider)
    token_file = tmp_path / "imap.refresh-token"
    first = token_file.read_text().strip()

    assert main(["--config", str(config), "poll", "--once"]) == 0
    assert count_messages(tmp_path) == 1
    assert f"user=<{mailbox.user}>, method=XOAUTH2" in mailbox.daemon.log_tail(200)

    stored = token_file.read_text().strip()
    assert stored != first and stored in provider.refresh_tokens  # the live, rotated one
    assert stat.S_IMODE(token_file.stat().st_mode) == 0o600
    assert [p.name for p in tmp_path.glob(".imap.refresh-token.*")] == []  # no temp file left
    request = provider.token_requests[-1]
    assert (request["grant_type"], request["client_id"], request["scope"]) == (
        "refresh_token", CLIENT_ID, SCOPE)
    assert "client_secret" not in request  # a public client sends none
    # The old refresh token is dead at the provider: losing the new one would lock us out.
    assert provider.refresh({"grant_type": "refresh_token", "client_id": CLIENT_ID,
                             "refresh_token": first})[1]["error"] == "invalid_grant"

    out = capsys.readouterr()
    assert_no_token_in(provider, out.out, out.err, caplog.text, ledger_bytes(tmp_path))


def test_refused_access_token_is_dropped_and_the_next_poll_refreshes(
        mailbox, provider, tmp_path, capsys):
    config = write_oauth2_config(tmp_path, mailbox, provider)
    assert main(["--config", str(config), "poll", "--once"]) == 0
    assert len(provider.token_requests) == 1
    assert main(["--config", str(config), "poll", "--once"]) == 0
    assert len(provider.token_requests) == 1  # the cached access token served again

    provider.revoke_access()  # e.g. an admin ended all sessions before the token expired
    capsys.readouterr()
    assert main(["--config", str(config), "poll", "--once"]) == 2
    assert "ログインできません" in capsys.readouterr().err
    mailbox.deliver(complete_mail("<oauth-2@example.jp>"))
    assert main(["--config", str(config), "poll", "--once"]) == 0
    assert len(provider.token_requests) == 2
    assert count_messages(tmp_path) == 1


def test_revoked_refresh_token_fails_loudly_in_poll_and_in_the_daemon(
        mailbox, provider, tmp_path, capsys):
    mailbox.deliver(complete_mail("<oauth-3@example.jp>"))
    config = write_oauth2_config(tmp_path, mailbox, provider)
    revoked = (tmp_path / "imap.refresh-token").read_text().strip()
    provider.refresh_tokens.clear()  # the user changed the password: every grant is revoked

    assert main(["--config", str(config), "poll", "--once"]) == 2
    out = capsys.readouterr()
    error_lines = out.err.strip().splitlines()
    assert len(error_lines) == 1, out.err
    assert "invalid_grant" in error_lines[0] and "AADSTS70000" in error_lines[0]
    assert (tmp_path / "imap.refresh-token").read_text().strip() == revoked  # left as it was
    assert main(["--config", str(config), "status"]) == 1  # the failed poll is a fetch error
    assert "取得エラー" in capsys.readouterr().out
    with sqlite3.connect(tmp_path / "ledger.db") as db:  # the daemon must find it out itself
        db.execute("DELETE FROM heartbeat WHERE name LIKE 'poll-error:%'")

    log = tmp_path / "daemon.log"
    daemon = start_daemon(config, log)
    try:
        assert wait_for_poll_error(tmp_path / "ledger.db"), log.read_text()
    finally:
        daemon.send_signal(signal.SIGTERM)
        assert daemon.wait(timeout=600) == 0, log.read_text()  # only a hung daemon
    assert "invalid_grant" in log.read_text()

    capsys.readouterr()
    assert main(["--config", str(config), "status"]) == 1
    status = capsys.readouterr().out
    assert "取得エラー" in status and "invalid_grant" in status
    assert count_messages(tmp_path) == 0
    assert_no_token_in(provider, out.out, out.err, status, log.read_bytes(),
                       ledger_bytes(tmp_path))


def wait_for_poll_error(ledger: Path, timeout: float = 600) -> bool:  # a bound, never waited out
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if ledger.exists():
            with sqlite3.connect(ledger) as db:
                try:
                    rows = db.execute(
                        "SELECT count(*) FROM heartbeat WHERE name LIKE 'poll-error:%'").fetchone()
                except sqlite3.OperationalError:
                    rows = (0,)
            if rows[0]:
                return True
        time.sleep(0.2)
    return False


# --------------------------------------------------------------------------------------------
# The token source on its own


def settings_for(tmp: Path, provider: IdentityProvider, user: str = "it-renkei@example.go.jp",
                 **kwargs: object) -> OAuth2Settings:
    token_file = tmp / "refresh-token"
    token_file.write_text(provider.sign_in(user) + "\n")
    return OAuth2Settings(token_url=provider.token_url, client_id=CLIENT_ID,
                          refresh_token_file=token_file, scope=SCOPE, **kwargs)  # type: ignore[arg-type]


def test_access_token_is_reused_until_shortly_before_it_expires(provider, tmp_path):
    provider.expires_in = 100
    now = [1000.0]
    source = TokenSource(settings_for(tmp_path, provider), clock=lambda: now[0])
    first = source.token()
    now[0] += 45
    assert source.token() == first and len(provider.token_requests) == 1
    now[0] += 10  # within the last minutes of its life: refresh instead of risking a login
    second = source.token()
    assert second != first and len(provider.token_requests) == 2
    assert provider.access_tokens[second] == "it-renkei@example.go.jp"
    assert (tmp_path / "refresh-token").read_text().strip() in provider.refresh_tokens


def test_client_secret_is_sent_and_never_shown(provider, tmp_path, monkeypatch):
    provider.client_secret = "s3cret-" + secrets.token_hex(8)
    monkeypatch.setenv("TEST_OAUTH2_SECRET", provider.client_secret)
    good = settings_for(tmp_path, provider, client_secret=Secret(env="TEST_OAUTH2_SECRET"))
    assert TokenSource(good).token() in provider.access_tokens

    monkeypatch.setenv("TEST_OAUTH2_SECRET", provider.client_secret + "-old")
    with pytest.raises(OAuth2Error) as refused:
        TokenSource(good).token()
    assert "invalid_client" in str(refused.value)
    assert provider.client_secret not in str(refused.value)
    assert isinstance(refused.value, ServerUnavailable)  # the daemon's heartbeat catches it


def test_a_provider_that_echoes_the_token_does_not_leak_it(provider, tmp_path):
    provider.echo_token_in_errors = True
    settings = settings_for(tmp_path, provider)
    provider.refresh_tokens.clear()
    with pytest.raises(OAuth2Error) as refused:
        TokenSource(settings).token()
    message = str(refused.value)
    assert "invalid_grant" in message and "\n" not in message and "\r" not in message
    assert_no_token_in(provider, message)


def test_unreachable_provider_and_unreadable_file_are_one_sentence(provider, tmp_path):
    settings = settings_for(tmp_path, provider)
    dead = replace(settings, token_url="http://127.0.0.1:9/token")  # discard port: refused
    with pytest.raises(OAuth2Error, match="接続できません"):
        TokenSource(dead).token()
    missing = replace(settings, refresh_token_file=tmp_path / "nowhere")
    with pytest.raises(OAuth2Error, match="nowhere"):
        TokenSource(missing).token()
    assert provider.token_requests == []


def test_new_refresh_token_is_saved_before_the_access_token_is_used(provider, tmp_path):
    settings = settings_for(tmp_path, provider)
    before = settings.refresh_token_file.read_text().strip()
    token = TokenSource(settings).token()
    # The access token exists only in memory; the file already holds its sibling refresh token.
    after = settings.refresh_token_file.read_text().strip()
    assert after != before and provider.refresh_tokens[after] == provider.access_tokens[token]
    # Written as a new file: owner-only even where the operator's copy was world-readable.
    assert stat.S_IMODE(settings.refresh_token_file.stat().st_mode) == 0o600
    assert sorted(p.name for p in tmp_path.iterdir()) == ["refresh-token"]


def test_a_provider_that_keeps_the_refresh_token_leaves_the_file_alone(provider, tmp_path):
    provider.rotate = False  # Google: the answer carries no refresh_token
    settings = settings_for(tmp_path, provider)
    settings.refresh_token_file.chmod(0o640)
    before = settings.refresh_token_file.stat()
    assert TokenSource(settings).token() in provider.access_tokens
    after = settings.refresh_token_file.stat()
    assert (after.st_ino, after.st_mtime_ns, stat.S_IMODE(after.st_mode)) == (
        before.st_ino, before.st_mtime_ns, 0o640)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["refresh-token"]  # temp file removed


# --------------------------------------------------------------------------------------------
# Configuration


def oauth2_table(**overrides: object) -> dict[str, object]:
    table: dict[str, object] = {
        "host": "outlook.office365.com", "user": "it-renkei@example.go.jp", "auth": "oauth2",
        "oauth2_token_url": "https://login.microsoftonline.com/common/oauth2/v2.0/token",
        "oauth2_client_id": CLIENT_ID, "oauth2_scope": SCOPE,
        "oauth2_refresh_token_file": "imap.refresh-token",
    }
    table.update(overrides)
    return {k: v for k, v in table.items() if v is not None}


def test_config_reads_oauth2_settings(tmp_path):
    settings = settings_from_toml(
        {"imap": oauth2_table(oauth2_client_secret_file="secret.txt")}, base=tmp_path, source=None)
    oauth2 = settings.imap.oauth2
    assert oauth2 is not None and oauth2.client_id == CLIENT_ID and oauth2.scope == SCOPE
    assert oauth2.refresh_token_file == tmp_path / "imap.refresh-token"
    assert oauth2.client_secret == Secret(file=tmp_path / "secret.txt")
    plain = settings_from_toml({"imap": {"host": "h", "password_env": "X"}}, base=tmp_path,
                               source=None)
    assert plain.imap.oauth2 is None


@pytest.mark.parametrize(("table", "named"), [
    (oauth2_table(oauth2_client_id=None), "[imap] oauth2_client_id"),
    (oauth2_table(oauth2_scope=None), "[imap] oauth2_scope"),
    (oauth2_table(oauth2_refresh_token_file=None), "[imap] oauth2_refresh_token_file"),
    (oauth2_table(oauth2_token_url=None), "[imap] oauth2_token_url"),
    (oauth2_table(oauth2_token_url="http://login.example.com/token"), "https://"),
    (oauth2_table(oauth2_client_secret="x"), "oauth2_client_secret_env"),
    (oauth2_table(user=None), "[imap] user"),
    (oauth2_table(auth="token"), "[imap] auth"),
    (oauth2_table(auth="password"), "[imap] oauth2_"),
])
def test_config_errors_name_the_key(tmp_path, table, named):
    with pytest.raises(ConfigError, match=re.escape(named)):
        settings_from_toml({"imap": table}, base=tmp_path, source=None)


# --------------------------------------------------------------------------------------------
# SMTP: AUTH XOAUTH2 against aiosmtpd


class _XOAuth2Handler:
    """aiosmtpd calls `auth_<MECHANISM>` on the handler for mechanisms it does not know."""

    def __init__(self, provider: IdentityProvider) -> None:
        self.provider = provider
        self.received: list[Envelope] = []

    async def auth_XOAUTH2(self, server: SMTP, args: list[str]) -> AuthResult:  # noqa: N802
        fields = dict(part.split("=", 1) for part in
                      base64.b64decode(args[1]).decode().split("\x01") if "=" in part)
        token = fields.get("auth", "").removeprefix("Bearer ")
        answer = self.provider.introspect(token)
        if answer["active"] and answer["username"] == fields.get("user"):
            return AuthResult(success=True)
        # As Google and Microsoft do: a JSON error as a challenge, then 535 after the empty reply.
        await server.challenge_auth(json.dumps({"status": "401", "schemes": "Bearer"}))
        return AuthResult(success=False, handled=False)

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        self.received.append(envelope)
        return "250 OK queued"


@pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS")  # loopback only
def test_smtp_xoauth2_sends_and_refreshes_after_a_refusal(provider, tmp_path):
    handler = _XOAuth2Handler(provider)
    controller = _FreePortController(handler, hostname="127.0.0.1", port=0,
                                     server_hostname="smtp.test.invalid", auth_required=True,
                                     auth_require_tls=False)
    controller.start()
    try:
        user = "it-renkei@example.go.jp"
        smtp = ServerConfig(host="127.0.0.1", port=controller.port, tls="none", user=user,
                            password=Secret(), timeout=10,
                            oauth2=settings_for(tmp_path, provider, user))
        raw = b"From: it-renkei@example.go.jp\r\nTo: a@example.jp\r\nSubject: t\r\n\r\nhi\r\n"
        with SmtpSender(smtp) as sender:
            assert sender.send(user, "a@example.jp", raw).startswith("250")
        assert len(handler.received) == 1

        provider.revoke_access()
        with pytest.raises(ServerUnavailable, match="535"), SmtpSender(smtp):
            pass
        with SmtpSender(smtp) as sender:  # the refused token was forgotten: a fresh one now
            sender.send(user, "a@example.jp", raw)
        assert len(handler.received) == 2 and len(provider.token_requests) == 2
    finally:
        controller.stop()


def test_the_commented_example_in_config_example_toml_is_valid(tmp_path):
    example = (Path(__file__).resolve().parents[1] / "config.example.toml").read_text("utf-8")
    enabled = re.sub(r"(?m)^# ((?:auth|oauth2_\w+) = )", r"\1", example)
    enabled = enabled.replace('auth = "password"', 'auth = "oauth2"', 1)
    assert enabled.count("oauth2_") > example.count("\noauth2_")  # something was uncommented
    imap = settings_from_toml(tomllib.loads(enabled), base=tmp_path, source=None).imap
    assert imap is not None and imap.oauth2 is not None
    assert imap.oauth2.token_url.startswith("https://login.microsoftonline.com/")
    assert imap.oauth2.client_secret == Secret(env="RENKEI_OAUTH2_CLIENT_SECRET")
