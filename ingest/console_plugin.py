"""The staff console as a Datasette plugin: its routes, its templates, who the actor is, and an
ASGI layer in front of everything Datasette serves.

That layer lets no request through without a live session except the sign-in page and the
stylesheet (a GET is sent to /login, anything else gets 403 and changes nothing), and puts a
Content-Security-Policy and the other protective headers on every response, Datasette's own
pages included. Datasette's CSRF protection (asgi-csrf) checks every POST behind it; its English
refusal is answered with a Japanese page that leads back to the form.
"""

from __future__ import annotations

import asyncio
import sqlite3
import sys
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from http.cookies import SimpleCookie
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import quote

import asgi_csrf
from datasette import hookimpl

from ingest import app
from ingest.config import Settings
from ingest.console_auth import SESSION_COOKIE, Sessions, SignInThrottle
from state.ledger import Ledger

T = TypeVar("T")
TEMPLATES = Path(__file__).with_name("templates")
PUBLIC = ("/login", "/-/console.css")

# Console pages run no script at all; Datasette's explorer needs its own script files.
CONSOLE_CSP = ("default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; "
               "base-uri 'none'; frame-ancestors 'none'")
EXPLORER_CSP = ("default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
                "img-src 'self' data:; object-src 'none'; base-uri 'none'; form-action 'self'; "
                "frame-ancestors 'none'")
SAFE_HEADERS = ((b"x-content-type-options", b"nosniff"), (b"x-frame-options", b"DENY"),
                (b"referrer-policy", b"same-origin"))


@dataclass
class Console:
    """What the console's handlers share: settings, sessions, sign-in throttles, the ledger."""

    settings: Settings
    sessions: Sessions
    throttle: SignInThrottle = field(default_factory=SignInThrottle)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    _ledger: Ledger | None = None

    async def run(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """`fn(ledger, *args)` on a worker thread, one at a time (SQLite has one writer). The
        console keeps one connection: opening one per request would run the migration check
        and checkpoint the WAL each time."""
        def call() -> T:
            with self._lock:
                if self._ledger is None:
                    self._ledger = app.open_ledger(self.settings)
                return fn(self._ledger, *args, **kwargs)
        return await asyncio.to_thread(call)


def console_of(datasette: Any) -> Console | None:
    return getattr(datasette, "renkei_console", None)


def cookie(scope: dict[str, Any], name: str) -> str | None:
    for key, value in scope.get("headers", []):
        if key == b"cookie":
            jar: SimpleCookie = SimpleCookie()
            try:
                jar.load(value.decode("latin-1"))
            except Exception:  # a malformed cookie header is as good as none
                continue
            if name in jar:
                return jar[name].value
    return None


def guard(asgi: Any, console: Console, datasette: Any) -> Any:
    async def guarded(scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await asgi(scope, receive, send)
            return
        path = scope.get("path", "")
        token = cookie(scope, SESSION_COOKIE)
        # None for no session, an ended one, or one whose account was disabled meanwhile
        staff = await console.run(console.sessions.touch, token) if token else None
        method = scope.get("method", "GET")
        if staff is None and path not in PUBLIC:
            if method in ("GET", "HEAD"):
                target = path + (("?" + scope["query_string"].decode("latin-1"))
                                 if scope.get("query_string") else "")
                await _plain(send, 303, "サインインしてください",
                             [(b"location", b"/login?next=" + quote(target).encode("ascii"))])
            else:
                await _plain(send, 403, "サインインしていないため、この操作は行えません")
            return
        if method == "POST" and not any(k == b"cookie" for k, _ in scope.get("headers", [])):
            # asgi-csrf lets a POST without any cookie through; none of ours comes without one.
            await _form_expired(datasette, scope, send)
            return
        scope = {**scope, "renkei_staff": staff}
        refused: list[dict[str, Any]] = []  # a 403 held back until its body says whose it is

        async def secured(event: dict[str, Any]) -> None:
            if refused:  # asgi-csrf's own refusal is one English sentence: say it in Japanese
                start = refused.pop()
                if event.get("body", b"").decode("utf-8", "replace") in CSRF_REFUSALS \
                        and not event.get("more_body"):
                    await _form_expired(datasette, scope, send)
                    return
                await secured_send(start)
            elif event["type"] == "http.response.start" and event.get("status") == 403:
                refused.append(event)
                return
            await secured_send(event)

        async def secured_send(event: dict[str, Any]) -> None:
            if event["type"] == "http.response.start":
                headers = [(k, v) for k, v in event.get("headers", [])
                           if k.lower() not in {h for h, _ in SAFE_HEADERS}]
                if not any(k.lower() == b"content-security-policy" for k, _ in headers):
                    headers.append((b"content-security-policy", EXPLORER_CSP.encode("ascii")))
                headers += list(SAFE_HEADERS)
                if not path.startswith("/-/static/") and path != "/-/console.css":
                    headers = [(k, v) for k, v in headers if k.lower() != b"cache-control"]
                    headers.append((b"cache-control", b"no-store"))
                event = {**event, "headers": headers}
            await send(event)

        await asgi(scope, receive, secured)
    return guarded


# What asgi-csrf answers when the form's token does not match its cookie (the cookie expired,
# or the form came from elsewhere).
CSRF_REFUSALS = frozenset({*asgi_csrf.error_messages.values(), "CSRF validation failed"})


async def _form_expired(datasette: Any, scope: dict[str, Any], send: Any) -> None:
    """The refusal of a POST whose form is no longer valid: a Japanese page with the ways back
    (open the form again, sign in again). Nothing was changed."""
    from ingest.console_pages import form_expired_page

    body = await form_expired_page(datasette, scope)
    await send({"type": "http.response.start", "status": 403, "headers": [
        (b"content-type", b"text/html; charset=utf-8"),
        (b"content-security-policy", CONSOLE_CSP.encode("ascii")), *SAFE_HEADERS,
        (b"cache-control", b"no-store")]})
    await send({"type": "http.response.body", "body": body.encode("utf-8")})


async def _plain(send: Any, status: int, text: str,
                 extra: list[tuple[bytes, bytes]] | None = None) -> None:
    await send({"type": "http.response.start", "status": status, "headers": [
        (b"content-type", b"text/plain; charset=utf-8"),
        (b"content-security-policy", CONSOLE_CSP.encode("ascii")), *SAFE_HEADERS,
        (b"cache-control", b"no-store"), *(extra or [])]})
    await send({"type": "http.response.body", "body": text.encode("utf-8")})


# Datasette hook implementations (this module is the plugin); each does nothing for a Datasette
# without a console, such as one a test builds beside it.


@hookimpl
def register_routes(datasette: Any) -> list[tuple[str, Any]]:
    if console_of(datasette) is None:
        return []
    from ingest import console_actions, console_pages

    return [*console_pages.ROUTES, *console_actions.ROUTES]


@hookimpl
def actor_from_request(datasette: Any, request: Any) -> dict[str, str] | None:
    staff = request.scope.get("renkei_staff")
    return {"id": staff} if staff and console_of(datasette) else None


@hookimpl
def asgi_wrapper(datasette: Any) -> Callable[[Any], Any]:
    console = console_of(datasette)
    return (lambda asgi: guard(asgi, console, datasette)) if console else (lambda asgi: asgi)


# Columns that give a way in if read: staff password hashes and session token hashes. The
# explorer's ad-hoc SQL reads them as NULL (the console checks them on its own connection).
SECRET_COLUMNS = frozenset({("staff_accounts", "password_hash"),
                            ("console_sessions", "token_sha256")})


def _hide_secret_columns(action: int, table: str | None, column: str | None,
                         _db: str | None, _trigger: str | None) -> int:
    if action == sqlite3.SQLITE_READ and (table, column) in SECRET_COLUMNS:
        return sqlite3.SQLITE_IGNORE
    return sqlite3.SQLITE_OK


@hookimpl
def prepare_connection(conn: sqlite3.Connection, database: str, datasette: Any) -> None:
    if console_of(datasette):
        conn.set_authorizer(_hide_secret_columns)


@hookimpl
def permission_allowed(datasette: Any, actor: Any, action: str, resource: Any) -> bool | None:
    # The explorer is for reading; its debugging pages are not for staff.
    if console_of(datasette) and action in ("permissions-debug", "debug-menu"):
        return False
    return None


def install(datasette: Any, settings: Settings, *, idle_minutes: float) -> Console:
    """Attach a console to `datasette` and register the hooks (once per process)."""
    from datasette.plugins import pm

    if pm.get_plugin("renkei_console") is None:
        pm.register(sys.modules[__name__], name="renkei_console")
    console = Console(settings, Sessions(idle_minutes * 60))
    datasette.renkei_console = console
    return console
