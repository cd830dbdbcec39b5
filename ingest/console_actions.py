"""What the console changes or hands out: sign in and out, 承認/保留/取消 of a reply, 再処理 of a
quarantined mail (each the same function the CLI verb calls, with the signed-in staff member as
the actor), and downloads of stored files and the Excel export.

Every change is a POST behind Datasette's CSRF check; downloads are always attachments of type
application/octet-stream, so nothing an applicant sent is ever opened inside a staff browser.
"""

from __future__ import annotations

import math
import tempfile
import unicodedata
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote

from datasette.utils.asgi import Response

from ingest.app import BusyError
from ingest.console_auth import SESSION_COOKIE
from ingest.console_pages import render, safe_next
from ingest.console_plugin import console_of, cookie
from ingest.errors import OperatorError
from ingest.export_xlsx import write_xlsx
from ingest.quarantine_release import release_and_process
from ingest.reply_decision import decide
from rules.calendar import JST
from state import console_queries, staff_accounts
from state.ledger import Ledger

ACTION_WORDS = {"approve": "承認", "hold": "保留", "cancel": "取消"}


async def login(datasette: Any, request: Any) -> Response:
    console = console_of(datasette)
    assert console is not None
    form = await request.post_vars()
    name = unicodedata.normalize("NFKC", form.get("username") or "").strip()
    password = form.get("password") or ""
    target = safe_next(form.get("next"))
    client = (request.scope.get("client") or ("?", 0))[0]
    wait = await console.run(console.throttle.wait_for, name, client)
    if wait > 0:
        return await render(datasette, request, "login.html", {
            "next": target, "error": f"サインインの失敗が続いたため、{_duration(wait)}ほど"
                                     "待ってからもう一度お試しください。"}, status=429)
    account = await console.run(staff_accounts.authenticate, name, password) if name else None
    if account is None:
        await console.run(console.throttle.failed, name, client)
        return await render(datasette, request, "login.html", {
            "next": target, "error": "アカウント名またはパスワードが違います。"}, status=401)
    await console.run(console.throttle.succeeded, name, client)
    # never keep a token planted before sign-in
    await console.run(console.sessions.end, cookie(request.scope, SESSION_COOKIE))
    response = Response.redirect(target)
    response.status = 303
    token = await console.run(console.sessions.start, account.name)
    response.set_cookie(SESSION_COOKIE, token, httponly=True,
                        samesite="lax", secure=request.scope.get("scheme") == "https")
    return response


def _duration(seconds: float) -> str:
    """A wait as staff read it: 「30 秒」 under a minute, else whole minutes rounded up."""
    return f"{int(seconds) + 1} 秒" if seconds < 60 else f"{math.ceil(seconds / 60)} 分"


async def logout(datasette: Any, request: Any) -> Response:
    console = console_of(datasette)
    assert console is not None
    await console.run(console.sessions.end, cookie(request.scope, SESSION_COOKIE))
    response = Response.redirect("/login")
    response.status = 303
    response.set_cookie(SESSION_COOKIE, "", max_age=0, httponly=True, samesite="lax")
    return response


async def reply_action(datasette: Any, request: Any) -> Response:
    console = console_of(datasette)
    assert console is not None
    reply_id = int(request.url_vars["id"])
    action = request.url_vars["action"]
    form = await request.post_vars()
    reason = (form.get("reason") or "").strip() or None
    back = safe_next(form.get("back") or "/approvals")
    if action in ("hold", "cancel") and not reason:
        datasette.add_message(request, f"返信 {reply_id} を{ACTION_WORDS[action]}するには理由を"
                                       "入力してください。", datasette.ERROR)
        return _back(back)
    actor = request.scope["renkei_staff"]
    try:
        await console.run(decide, action, [reply_id], actor, reason)
    except OperatorError as exc:  # already sent, cancelled meanwhile…: the CLI's sentence
        datasette.add_message(request, str(exc), datasette.WARNING)
        return _back(back)
    datasette.add_message(request, f"返信 {reply_id} を{ACTION_WORDS[action]}しました"
                                   f"(操作: {actor})。", datasette.INFO)
    return _back(back)


async def release_action(datasette: Any, request: Any) -> Response:
    console = console_of(datasette)
    assert console is not None
    message = int(request.url_vars["id"])
    actor = request.scope["renkei_staff"]
    try:
        done = await console.run(lambda ledger: release_and_process(
            console.settings, message, actor=actor))
    except (OperatorError, BusyError) as exc:
        datasette.add_message(request, str(exc), datasette.ERROR)
        return _back("/quarantine")
    level = datasette.WARNING if done.state == "quarantined" else datasette.INFO
    datasette.add_message(request, done.summary(), level)
    return _back(f"/submissions/{done.submission_id}" if done.submission_id and
                 done.state != "quarantined" else "/quarantine")


def _back(path: str) -> Response:
    response = Response.redirect(path)
    response.status = 303
    return response


def _file(ledger: Ledger, attachment_id: int) -> tuple[str, bytes] | None:
    row = console_queries.attachment(ledger, attachment_id)
    if row is None or not row["sha256"]:
        return None
    return row["name"], ledger.blobs.get(row["sha256"])


def _raw_mail(ledger: Ledger, message_id: int) -> tuple[str, bytes] | None:
    row = console_queries.message(ledger, message_id)
    if row is None:
        return None
    return f"mail{message_id}.eml", ledger.blobs.get(row["sha256"])


def _xlsx(ledger: Ledger) -> tuple[str, bytes]:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "ledger.xlsx"
        write_xlsx(ledger, path)
        data = path.read_bytes()
    return f"受付台帳_{datetime.now(JST):%Y%m%d_%H%M}.xlsx", data


def download(name: str, data: bytes) -> Response:
    ascii_name = "".join(c if c.isascii() and c.isalnum() or c in "._-" else "_" for c in name)
    return Response(data, content_type="application/octet-stream", headers={
        "content-disposition": f"attachment; filename=\"{ascii_name or 'file'}\"; "
                               f"filename*=UTF-8''{quote(name, safe='')}",
        "x-content-type-options": "nosniff",
        "content-security-policy": "default-src 'none'; sandbox",
    })


async def _serve(datasette: Any, request: Any, fn: Any, *args: Any) -> Response:
    console = console_of(datasette)
    assert console is not None
    found = await console.run(fn, *args)
    if found is None:
        return await render(datasette, request, "message.html", {
            "title": "ファイルが見つかりません",
            "message": "このファイルは台帳にないか、中身を保存していません。"}, status=404)
    return download(*found)


async def attachment_download(datasette: Any, request: Any) -> Response:
    return await _serve(datasette, request, _file, int(request.url_vars["id"]))


async def mail_download(datasette: Any, request: Any) -> Response:
    return await _serve(datasette, request, _raw_mail, int(request.url_vars["id"]))


async def export_download(datasette: Any, request: Any) -> Response:
    return await _serve(datasette, request, _xlsx)


async def post_only(datasette: Any, request: Any) -> Response:
    return Response.text("この操作はページのボタンから行ってください", status=405)


def _post(handler: Any) -> Any:
    async def view(datasette: Any, request: Any) -> Response:
        if request.method != "POST":
            return await post_only(datasette, request)
        return await handler(datasette, request)
    return view


ROUTES = [
    (r"^/logout$", _post(logout)),
    (r"^/replies/(?P<id>[0-9]{1,12})/(?P<action>approve|hold|cancel)$", _post(reply_action)),
    (r"^/quarantine/(?P<id>[0-9]{1,12})/release$", _post(release_action)),
    (r"^/files/(?P<id>[0-9]{1,12})$", attachment_download),
    (r"^/mails/(?P<id>[0-9]{1,12})\.eml$", mail_download),
    (r"^/export\.xlsx$", export_download),
]
