"""OAuth2 access tokens for XOAUTH2 logins to Microsoft 365 and Google mailboxes.

The refresh token lives in a file only this program reads (mode 0600). Each refresh POSTs it
to the provider's token endpoint (RFC 6749 §6) and gets a short-lived access token, kept in
memory until shortly before it expires. Microsoft answers every refresh with a NEW refresh
token and retires the old one (PEER-LESSONS #6), so a new one is written to the file, durably,
before the access token is used: a crash right after a refresh must not leave the mailbox
locked out. A failed refresh raises `OAuth2Error` at once with the provider's own `error`, so
the daemon records it in its heartbeat and `status` shows it; no token ever enters a message.
"""

from __future__ import annotations

import contextlib
import json
import os
import ssl
import tempfile
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlencode, urlsplit

from replies.connection import Secret, SecretError, ServerUnavailable
from state.blobs import fsync_dir

# Well-known endpoints, for config.example.toml and error hints; not applied automatically.
MICROSOFT_TOKEN_URL = "https://login.microsoftonline.com/{tenant}/oauth2/v2.0/token"
MICROSOFT_IMAP_SCOPE = "https://outlook.office.com/IMAP.AccessAsUser.All offline_access"
MICROSOFT_SMTP_SCOPE = "https://outlook.office.com/SMTP.Send offline_access"
GOOGLE_TOKEN_URL = "https://oauth2.googleapis.com/token"
GOOGLE_SCOPE = "https://mail.google.com/"

REQUEST_TIMEOUT = 30.0
# Refresh this long before the provider's expiry, so a token never dies between the check and
# the login, nor in the middle of a long IMAP session start.
EXPIRY_MARGIN_SECONDS = 120.0
DEFAULT_EXPIRES_IN = 3600  # RFC 6749 makes expires_in optional; both providers send it
_MAX_DETAIL = 300
_LOOPBACK = {"127.0.0.1", "::1", "localhost"}


class OAuth2Error(ServerUnavailable):
    """The token endpoint refused the refresh or could not be reached, or the refresh-token
    file cannot be read or written. The message names the provider's `error` (for example
    `invalid_grant`: the refresh token was revoked or expired; sign in again and store a new
    one) and never contains a token or secret."""


@dataclass(frozen=True)
class OAuth2Settings:
    """Where and how to refresh. Equal settings share one cached access token."""

    token_url: str
    client_id: str
    refresh_token_file: Path
    scope: str = ""
    client_secret: Secret | None = None

    def access_token(self) -> str:
        return access_token(self)

    def forget_token(self) -> None:
        """The server refused the token: the next login refreshes first."""
        forget(self)


def token_url_problem(url: str) -> str | None:
    """Why `url` cannot be a token endpoint, or None. Plain http only to this machine (tests):
    the refresh token must never cross a network unencrypted."""
    parts = urlsplit(url)
    if parts.scheme == "https" and parts.hostname:
        return None
    if parts.scheme == "http" and parts.hostname in _LOOPBACK:
        return None
    return f"トークン URL は https:// で始めてください({_where(url)})"


@dataclass
class _Cached:
    token: str
    valid_until: float  # on the source's clock


class TokenSource:
    """Hands out access tokens, refreshing through the token endpoint when needed.

    `clock` is monotonic seconds; a test passes its own to step over the expiry.
    """

    def __init__(self, settings: OAuth2Settings,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.settings = settings
        self.clock = clock
        self._cached: _Cached | None = None

    def token(self) -> str:
        # One refresh at a time across every source: IMAP and SMTP may share one refresh-token
        # file, and a rotating provider accepts each refresh token only once.
        with _REFRESH_LOCK:
            cached = self._cached
            if cached is not None and self.clock() < cached.valid_until:
                return cached.token
            self._cached = self._refresh()
            return self._cached.token

    def forget(self) -> None:
        """Drop the cached access token (the server refused it): the next call refreshes."""
        with _REFRESH_LOCK:
            self._cached = None

    def _refresh(self) -> _Cached:
        s = self.settings
        problem = token_url_problem(s.token_url)
        if problem:
            raise OAuth2Error(f"OAuth2: {problem}")
        refresh_token = read_refresh_token(s.refresh_token_file)
        form = {"grant_type": "refresh_token", "refresh_token": refresh_token,
                "client_id": s.client_id}
        secrets_ = [refresh_token]
        if s.client_secret is not None:
            try:
                form["client_secret"] = s.client_secret.read("OAuth2 client_secret")
            except SecretError as exc:
                raise OAuth2Error(f"OAuth2: {exc}") from None
            secrets_.append(form["client_secret"])
        if s.scope:
            form["scope"] = s.scope
        started = self.clock()
        # The temp file is made before the provider is asked: once it has rotated the token,
        # an unwritable directory would lose the only live one.
        with RefreshTokenWriter(s.refresh_token_file) as writer:
            answer = _post(s.token_url, form, secrets_)
            access = answer.get("access_token")
            if not isinstance(access, str) or not access:
                raise OAuth2Error(f"OAuth2 {_where(s.token_url)}: 応答に access_token がありません")
            new_refresh = answer.get("refresh_token")
            if isinstance(new_refresh, str) and new_refresh and new_refresh != refresh_token:
                # Before the access token is used: the old one may be retired already.
                writer.commit(new_refresh)
        expires_in = _seconds(answer.get("expires_in"))
        margin = min(EXPIRY_MARGIN_SECONDS, expires_in / 2)
        return _Cached(access, started + expires_in - margin)


_REFRESH_LOCK = threading.RLock()
_SOURCES: dict[OAuth2Settings, TokenSource] = {}


def source_for(settings: OAuth2Settings) -> TokenSource:
    """The process-wide source for these settings, so every connection reuses its token."""
    with _REFRESH_LOCK:
        source = _SOURCES.get(settings)
        if source is None:
            source = _SOURCES[settings] = TokenSource(settings)
        return source


def access_token(settings: OAuth2Settings) -> str:
    return source_for(settings).token()


def forget(settings: OAuth2Settings) -> None:
    source_for(settings).forget()


def xoauth2_string(user: str, token: str) -> str:
    """The SASL XOAUTH2 initial response (before base64), as Google and Microsoft define it."""
    return f"user={user}\x01auth=Bearer {token}\x01\x01"


# -- the refresh-token file -----------------------------------------------------------------


def read_refresh_token(path: Path) -> str:
    try:
        value = path.read_text(encoding="utf-8").strip()
    except OSError as exc:
        raise OAuth2Error(
            f"OAuth2: リフレッシュトークンファイル {path} を読めません: {exc.strerror}"
        ) from None
    if not value:
        raise OAuth2Error(f"OAuth2: リフレッシュトークンファイル {path} が空です")
    return value


def write_refresh_token(path: Path, token: str) -> None:
    """Replace the file atomically: a crash leaves either the old or the new token, whole."""
    with RefreshTokenWriter(path) as writer:
        writer.commit(token)


class RefreshTokenWriter:
    """A temp file (mode 0600) beside `path`, made on entry; `commit` fsyncs it and renames it
    over `path`; leaving without a commit removes it."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.tmp: str | None = None
        self.descriptor = -1

    def __enter__(self) -> RefreshTokenWriter:
        try:
            self.descriptor, self.tmp = tempfile.mkstemp(prefix=f".{self.path.name}.",
                                                         dir=self.path.parent)
        except OSError as exc:
            raise OAuth2Error(f"OAuth2: {self.path.parent} に新しいリフレッシュトークンを"
                              f"保存できません(書き込み権限を確認してください): {exc.strerror}"
                              ) from None
        return self

    def commit(self, token: str) -> None:
        assert self.tmp is not None
        try:
            with os.fdopen(self.descriptor, "w", encoding="utf-8") as handle:
                self.descriptor = -1
                handle.write(token + "\n")
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(self.tmp, self.path)
            self.tmp = None
            fsync_dir(self.path.parent)
        except OSError as exc:
            raise OAuth2Error(
                f"OAuth2: 新しいリフレッシュトークンを {self.path} に保存できませんでした"
                f"({exc.strerror})。サインインし直してトークンを保存してください"
            ) from None

    def __exit__(self, *exc_info: object) -> None:
        if self.descriptor >= 0:
            os.close(self.descriptor)
        if self.tmp is not None:
            with contextlib.suppress(OSError):
                os.unlink(self.tmp)


# -- HTTP -----------------------------------------------------------------------------------


def _post(url: str, form: dict[str, str], secrets_: list[str]) -> dict[str, object]:
    request = urllib.request.Request(
        url, data=urlencode(form).encode("ascii"), method="POST",
        headers={"Content-Type": "application/x-www-form-urlencoded",
                 "Accept": "application/json"},
    )
    where = _where(url)
    try:
        with urllib.request.urlopen(request, timeout=REQUEST_TIMEOUT,
                                    context=ssl.create_default_context()) as response:
            body = response.read()
    except urllib.error.HTTPError as exc:
        raise OAuth2Error(_refusal(where, exc.code, exc.read(), secrets_)) from None
    except (OSError, ValueError) as exc:  # URLError, timeout, TLS failure, malformed URL
        reason = getattr(exc, "reason", exc)
        raise OAuth2Error(
            f"OAuth2 {where} に接続できません: {_scrub(str(reason), secrets_)}"
        ) from None
    answer = _json_object(body)
    if answer is None:
        raise OAuth2Error(f"OAuth2 {where}: 応答が JSON ではありません")
    if "error" in answer:  # a 200 with an error body: treat it as the refusal it is
        raise OAuth2Error(_refusal(where, 200, body, secrets_))
    return answer


def _refusal(where: str, status: int, body: bytes, secrets_: list[str]) -> str:
    answer = _json_object(body) or {}
    error = str(answer.get("error") or f"HTTP {status}")
    # Microsoft's descriptions run over several lines (trace and correlation ids): the first
    # line says what happened.
    description = str(answer.get("error_description") or "").strip().splitlines()
    text = f"OAuth2 トークンの更新を {where} が拒否しました: {error}"
    if description:
        text += f": {description[0][:_MAX_DETAIL]}"
    if error == "invalid_grant":
        text += "(リフレッシュトークンが無効です。サインインし直して新しいトークンを保存してください)"
    return _scrub(text, secrets_)


def _json_object(body: bytes) -> dict[str, object] | None:
    try:
        value = json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        return None
    return value if isinstance(value, dict) else None


def _scrub(text: str, secrets_: list[str]) -> str:
    """A provider might echo what it was sent; the message must not carry it on."""
    for secret in secrets_:
        if secret:
            text = text.replace(secret, "***")
    return " ".join(text.split())


def _where(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc.rpartition('@')[2]}{parts.path}"


def _seconds(value: object) -> float:
    try:
        seconds = float(value)  # type: ignore[arg-type]  # Microsoft once sent it as a string
    except (TypeError, ValueError):
        return DEFAULT_EXPIRES_IN
    return seconds if seconds > 0 else DEFAULT_EXPIRES_IN
