"""Server connection settings shared by IMAP (ingest) and SMTP (replies), and their TLS context."""

from __future__ import annotations

import contextlib
import logging
import os
import ssl
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from imapclient import IMAPClient
from imapclient.exceptions import IMAPClientError, LoginError

if TYPE_CHECKING:  # replies.oauth2 imports this module
    from replies.oauth2 import OAuth2Settings


class SecretError(Exception):
    """A password could not be read from where the configuration says it is."""


@dataclass(frozen=True)
class Secret:
    """Where a password comes from. The value itself is never stored in config or logged."""

    env: str | None = None
    file: Path | None = None

    def read(self, what: str) -> str:
        if self.env:
            value = os.environ.get(self.env)
            if value is None:
                raise SecretError(f"{what}: 環境変数 {self.env} が設定されていません")
            return value
        if self.file:
            try:
                return self.file.read_text(encoding="utf-8").strip()
            except OSError as exc:
                raise SecretError(
                    f"{what}: パスワードファイル {self.file} を読めません: {exc.strerror}"
                ) from None
        raise SecretError(f"{what}: password_env か password_file を設定してください")


@dataclass(frozen=True)
class ServerConfig:
    host: str
    port: int
    tls: str  # "implicit" | "starttls" | "none"
    user: str
    password: Secret
    verify_tls: bool = True
    ca_file: Path | None = None
    timeout: float = 60.0
    folder: str = "INBOX"  # IMAP only
    sent_folder: str | None = None  # IMAP only
    batch_size: int = 50  # IMAP only
    max_message_bytes: int = 40 * 1024 * 1024  # IMAP only: larger mails are quarantined unread
    oauth2: OAuth2Settings | None = None  # set: XOAUTH2 with a refreshed token, not `password`

    @property
    def account(self) -> str:
        return f"{self.user}@{self.host}"


def tls_context(server: ServerConfig) -> ssl.SSLContext:
    """Certificate verification is on unless the configuration explicitly turns it off."""
    context = ssl.create_default_context(cafile=str(server.ca_file) if server.ca_file else None)
    if not server.verify_tls:
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    return context


class ServerUnavailable(Exception):
    """An IMAP or SMTP server cannot be reached or refuses the login; the message says which."""


def imap_connect(server: ServerConfig) -> IMAPClient:
    """A logged-in IMAPClient, TLS verified as configured.

    Lives here (not in ingest/) because the outbox needs IMAP too, for the Sent folder, and
    replies/ must not import ingest/.
    """
    # The token first: a refused refresh must not leave a connection open behind it.
    token = server.oauth2.access_token() if server.oauth2 else None
    client: IMAPClient | None = None
    try:
        client = IMAPClient(
            server.host, port=server.port, ssl=server.tls == "implicit",
            ssl_context=tls_context(server) if server.tls != "none" else None,
            timeout=server.timeout,
        )
        if not logging.getLogger("imapclient.imaplib").isEnabledFor(logging.DEBUG):
            # imapclient sets imaplib's debug level to 5 to trace the protocol to that logger,
            # and imaplib then formats the repr() of every fetched mail, twice, even when the
            # logger drops it: bench/ measured 80 % of a FETCH spent there (5x slower).
            client._imap.debug = 0
        if server.tls == "starttls":
            client.starttls(tls_context(server))
        client.normalise_times = False  # keep INTERNALDATE's zone: deadlines are judged on it
        if token is not None:
            client.oauth2_login(server.user, token)
        else:
            client.login(server.user, server.password.read("imap"))
    except LoginError as exc:
        _close(client)
        if server.oauth2:
            server.oauth2.forget_token()  # perhaps revoked early: refresh before the next try
        raise ServerUnavailable(f"IMAP {server.account} にログインできません: {_text(exc)}") from None
    except (OSError, IMAPClientError) as exc:
        _close(client)
        raise ServerUnavailable(
            f"IMAP {server.host}:{server.port} に接続できません: {connection_problem(exc)}"
        ) from None
    return client


def connection_problem(exc: BaseException) -> str:
    """The error in one line; for an untrusted certificate, also what to set in the config."""
    text = f"{type(exc).__name__}: {exc}"
    if isinstance(exc, ssl.SSLCertVerificationError):
        return (f"サーバー証明書を検証できません({text})。自己署名や社内 CA の証明書であれば、"
                "その CA 証明書のファイルを設定の ca_file に指定してください")
    return text


def _close(client: IMAPClient | None) -> None:
    """Drop a connection that failed before login completed; nothing else to keep."""
    if client is not None:
        with contextlib.suppress(Exception):
            client.shutdown()


def _text(exc: Exception) -> str:
    value = exc.args[0] if exc.args else exc
    return value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value)
