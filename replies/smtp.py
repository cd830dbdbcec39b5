"""SMTP delivery with TLS verified by default and the password read only when connecting."""

from __future__ import annotations

import smtplib
from collections.abc import Callable
from types import TracebackType

from replies.connection import ServerConfig, ServerUnavailable, connection_problem, tls_context
from replies.oauth2 import xoauth2_string


class DeliveryUnknown(Exception):
    """The connection broke after the mail was handed over with DATA and before the server's
    final answer: the server may have accepted it. The row stays `sending` and the next pass
    decides (Sent folder lookup, or staff), so a reply is never sent twice blindly."""


class SmtpSender:
    def __init__(self, server: ServerConfig) -> None:
        self.server = server
        self.conn: smtplib.SMTP | None = None

    def __enter__(self) -> SmtpSender:
        s = self.server
        try:
            self.conn = self._open(s)
        except smtplib.SMTPAuthenticationError as exc:
            raise ServerUnavailable(
                f"SMTP {s.account} にログインできません: {exc.smtp_code} {_text(exc.smtp_error)}"
            ) from None
        except (OSError, smtplib.SMTPException) as exc:
            raise ServerUnavailable(
                f"SMTP {s.host}:{s.port} に接続できません: {connection_problem(exc)}"
            ) from None
        return self

    @staticmethod
    def _open(s: ServerConfig) -> smtplib.SMTP:
        if s.tls == "implicit":
            conn: smtplib.SMTP = smtplib.SMTP_SSL(
                s.host, s.port, timeout=s.timeout, context=tls_context(s)
            )
        else:
            conn = smtplib.SMTP(s.host, s.port, timeout=s.timeout)
        try:
            if s.tls == "starttls":
                conn.starttls(context=tls_context(s))
            if s.oauth2:
                _xoauth2(conn, s)
            elif s.user:
                conn.login(s.user, s.password.read("smtp"))
        except BaseException:
            conn.close()
            raise
        return conn

    def send(self, from_addr: str, to_addr: str, raw: bytes,
             before_data: Callable[[], None] | None = None) -> str:
        """Send one mail and return the server's answer to DATA; raise on any refusal.

        The steps are spelled out (not sendmail()) to keep the final 250 text for the ledger,
        and so that `before_data` can record, durably, the moment after which the server may
        hold the mail: before it a crash can safely send again, after it it cannot.
        """
        conn = self.conn
        assert conn is not None
        conn.ehlo_or_helo_if_needed()
        code, resp = conn.mail(from_addr)
        if code != 250:
            conn.rset()
            raise smtplib.SMTPSenderRefused(code, resp, from_addr)
        code, resp = conn.rcpt(to_addr)
        if code not in (250, 251):
            conn.rset()
            raise smtplib.SMTPRecipientsRefused({to_addr: (code, resp)})
        if before_data is not None:
            before_data()
        try:
            code, resp = conn.data(raw)
        except smtplib.SMTPResponseException:
            raise  # DATA itself was refused: nothing was handed over
        except OSError as exc:  # timeout, reset, SMTPServerDisconnected
            raise DeliveryUnknown(f"{type(exc).__name__}: {exc}") from exc
        if code != 250:
            conn.rset()
            raise smtplib.SMTPDataError(code, resp)
        return f"{code} {resp.decode('utf-8', 'replace')}"

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        if self.conn is not None:
            try:
                self.conn.quit()
            except (smtplib.SMTPException, OSError):
                self.conn.close()


def _text(value: bytes | str) -> str:
    return value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value)


def _xoauth2(conn: smtplib.SMTP, s: ServerConfig) -> None:
    """AUTH XOAUTH2 with the initial response. A refusing server first sends a 334 challenge
    (its JSON error); the empty answer to it is what ends the exchange with the 535."""
    assert s.oauth2 is not None
    token = s.oauth2.access_token()

    def respond(challenge: bytes | None = None) -> str:
        return xoauth2_string(s.user, token) if challenge is None else ""

    # Unlike login(), auth() does not greet first, and it takes "503 send EHLO first" as done.
    conn.ehlo_or_helo_if_needed()
    try:
        conn.auth("XOAUTH2", respond, initial_response_ok=True)
    except smtplib.SMTPAuthenticationError:
        s.oauth2.forget_token()  # perhaps revoked early: refresh before the next try
        raise
