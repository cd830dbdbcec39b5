"""The console's pages (GET): 申請一覧, 申請の詳細, 承認待ち, 隔離, 日次集計, and the sign-in form.
Each reads through state/ (the same queries as the CLI) and renders a Jinja2 template with
Datasette's environment, which escapes every value."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote, urlsplit

from datasette.utils.asgi import Request, Response

from ingest import console_text as text
from ingest import screen
from ingest.console_plugin import CONSOLE_CSP, TEMPLATES, console_of
from ingest.quarantine_release import headline
from state import console_queries, display, labels, queries
from state.ledger import Ledger

PAGE_SIZE = 200
APPROVALS_PAGE = 50


async def render(datasette: Any, request: Any, template: str, context: dict[str, Any],
                 status: int = 200) -> Response:
    console = console_of(datasette)
    assert console is not None
    staff = request.scope.get("renkei_staff")
    waiting = await console.run(console_queries.count_awaiting_approval) if staff else 0
    body = await datasette.render_template(
        f"console/{template}", {**context, "staff": staff, "waiting": waiting, "t": text, "screen": screen,
                                "label": labels.label, "reply_labels": display.reply_labels,
                                "page": template.removesuffix(".html"),
                                "explorer": "/" + quote(console.settings.ledger_path.stem)}, request=request)
    return Response.html(body, status=status, headers={"content-security-policy": CONSOLE_CSP})


def search(ledger: Ledger, words: str) -> queries.Page:
    """The search `ledger search` runs, in one place for the console."""
    return queries.search(ledger, words, limit=PAGE_SIZE)


def _overview(ledger: Ledger, status: str | None, missing: str | None, overdue: bool,
              words: str) -> dict[str, Any]:
    if words:
        try:
            page = search(ledger, words)
        except queries.SearchError as exc:
            return {"error": str(exc), "hits": [], "total": 0}
        return {"hits": page.rows, "total": page.total}
    page = queries.overview(ledger, status=status or None, missing=missing or None,
                            overdue=overdue, limit=PAGE_SIZE)
    ids = [r["id"] for r in page.rows]
    return {"rows": page.rows, "total": page.total,
            "findings": console_queries.findings_by_submission(ledger, ids),
            "companies": console_queries.lead_companies(ledger, ids)}


async def submissions_page(datasette: Any, request: Any) -> Response:
    console = console_of(datasette)
    assert console is not None
    args = request.args
    status = queries.status_code(args.get("status") or "") or ""
    documents = list(console.settings.program.documents)
    missing = args.get("missing") or ""
    if missing not in {d.key for d in documents}:
        missing = ""
    overdue = args.get("overdue") == "1"
    words = (args.get("q") or "").strip()
    found = await console.run(_overview, status, missing, overdue, words)
    return await render(datasette, request, "submissions.html", {
        **found, "status": status, "missing": missing, "overdue": overdue, "q": words,
        "states": queries.status_choices(), "documents": [(d.key, d.title) for d in documents]})


def _detail(ledger: Ledger, submission_id: int) -> dict[str, Any] | None:
    found = queries.submission_detail(ledger, submission_id)
    if found is None:
        return None
    for mail in found["mails"]:
        mail.update(text.decoded_mail(ledger.raw(mail["id"])))
    for reply in found["replies"]:
        row = console_queries.reply(ledger, reply["id"])
        reply["held_reason"] = row["held_reason"] if row else None
        reply.update({"rendered": text.decoded_mail(ledger.blobs.get(row["raw_sha256"]))
                      if row else {"body": "", "headers": []}})
    found["versions"] = console_queries.versions(ledger, submission_id)
    found["company"] = console_queries.lead_companies(ledger, [submission_id]).get(submission_id)
    return found


async def submission_page(datasette: Any, request: Any) -> Response:
    console = console_of(datasette)
    assert console is not None
    submission_id = int(request.url_vars["id"])
    found = await console.run(_detail, submission_id)
    if found is None:
        return await render(datasette, request, "message.html", {
            "title": "申請が見つかりません",
            "message": f"申請 {submission_id} は台帳にありません。"}, status=404)
    program = console.settings.program
    return await render(datasette, request, "submission.html", {
        **found, "document_title": lambda key: program.document_title(key) if key else "判別できず"})


def _approvals(ledger: Ledger) -> dict[str, Any]:
    # Each reply is shown in full: the earliest due first, a page of them, so the page stays
    # quick however many wait (approving one brings the next).
    rows = console_queries.awaiting_approval(ledger, limit=APPROVALS_PAGE)
    for row in rows:
        row["rendered"] = text.decoded_mail(ledger.blobs.get(row["raw_sha256"]))
    findings = console_queries.findings_by_submission(ledger, [r["submission_id"] for r in rows])
    return {"rows": rows, "findings": findings}


async def approvals_page(datasette: Any, request: Any) -> Response:
    console = console_of(datasette)
    assert console is not None
    return await render(datasette, request, "approvals.html", await console.run(_approvals))


def _quarantine(ledger: Ledger) -> list[dict[str, Any]]:
    rows = queries.quarantined(ledger)
    for row in rows:
        row.update(headline(ledger, row))
    return rows


async def quarantine_page(datasette: Any, request: Any) -> Response:
    console = console_of(datasette)
    assert console is not None
    return await render(datasette, request, "quarantine.html",
                        {"rows": await console.run(_quarantine)})


async def daily_page(datasette: Any, request: Any) -> Response:
    console = console_of(datasette)
    assert console is not None
    rows = await console.run(queries.daily_counts)
    return await render(datasette, request, "daily.html", {"rows": list(reversed(rows))})


async def login_page(datasette: Any, request: Any) -> Response:
    if request.method == "POST":
        from ingest.console_actions import login

        return await login(datasette, request)
    return await render(datasette, request, "login.html", {
        "next": safe_next(request.args.get("next")), "error": None})


async def form_expired_page(datasette: Any, scope: dict[str, Any]) -> str:
    """The page for a POST whose form is no longer valid (its CSRF cookie expired): links back
    to the page the form was on (from the Referer, a path on this site only) and to sign-in."""
    referer = next((v.decode("latin-1") for k, v in scope.get("headers", [])
                    if k == b"referer"), "")
    where = urlsplit(referer)
    back = safe_next(where.path + (f"?{where.query}" if where.query else ""))
    sign_in = back if back.startswith("/login") else "/login?next=" + quote(back)
    return await datasette.render_template(
        "console/form_expired.html",
        {"back": back, "sign_in": sign_in, "staff": None, "page": "form_expired"},
        request=Request({**scope, "csrftoken": lambda: ""}, None))  # outside the CSRF layer


def safe_next(value: str | None) -> str:
    """Only a path on this site: never `//other.example` or `https://…` after signing in."""
    if value and value.startswith("/") and not value.startswith(("//", "/\\")):
        return value
    return "/"


async def stylesheet(datasette: Any, request: Any) -> Response:
    css = (TEMPLATES / "console" / "console.css").read_text(encoding="utf-8")
    return Response(css, content_type="text/css; charset=utf-8",
                    headers={"cache-control": "max-age=3600"})


ROUTES = [
    (r"^/$", submissions_page),
    (r"^/submissions/(?P<id>[0-9]{1,12})$", submission_page),
    (r"^/approvals$", approvals_page),
    (r"^/quarantine$", quarantine_page),
    (r"^/daily$", daily_page),
    (r"^/login$", login_page),
    (r"^/-/console\.css$", stylesheet),
]
