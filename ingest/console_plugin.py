"""The staff console as a Datasette plugin: its routes, its templates, who the actor is, and an
ASGI layer in front of everything Datasette serves.

That layer lets no request through without a live session except the sign-in page and the
stylesheet (a GET is sent to /login, anything else gets 403 and changes nothing), and puts a
Content-Security-Policy and the other protective headers on every response, Datasette's own
pages included. Datasette's CSRF protection (asgi-csrf) checks every POST behind it.
"""

from __future__ import annotations

import asyncio
import sys
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from http.cookies import SimpleCookie
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import quote

from datasette import hookimpl

from ingest import app
from ingest.config import Settings
from ingest.console_auth import SESSION_COOKIE, LoginThrottle, Sessions
from state import staff_accounts
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
    user_throttle: LoginThrottle = field(default_factory=LoginThrottle)
    client_throttle: LoginThrottle = field(default_factory=lambda: LoginThrottle(free=10))
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


def guard(asgi: Any, console: Console) -> Any:
    async def guarded(scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await asgi(scope, receive, send)
            return
        path = scope.get("path", "")
        token = cookie(scope, SESSION_COOKIE)
        staff = console.sessions.touch(token)
        if staff is not None and not await console.run(staff_accounts.is_active, staff):
            console.sessions.end_all(staff)  # disabled while signed in
            staff = None
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
            await _plain(send, 403, "フォームの有効期限が切れました。ページを開き直してください")
            return
        scope = {**scope, "renkei_staff": staff}

        async def secured(event: dict[str, Any]) -> None:
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
    return (lambda asgi: guard(asgi, console)) if console else (lambda asgi: asgi)


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
