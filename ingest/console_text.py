"""What the web console shows for a code or a stored mail: Japanese words, JST times, and mail
text decoded for reading (an HTML body is turned into text, never rendered)."""

from __future__ import annotations

import html
from typing import Any

from markupsafe import Markup

from parsers.mime import parse_message
from rules.findings import CATALOG, short_label
from state import queries

SYSTEM_ACTOR = "renkei-intake"


def finding_badges(findings: list[dict[str, Any]]) -> list[tuple[str, str, int]]:
    """(short label, severity, how many) per code, in the order first found: a listing shows
    「書類不足 ×5」 once rather than five times."""
    counted: dict[str, list[Any]] = {}
    for finding in findings:
        entry = counted.setdefault(finding["code"], [short_label(finding["code"]),
                                                     finding["severity"], 0])
        entry[2] += 1
    return [(label, severity, count) for label, severity, count in counted.values()]


def highlighted(hit: dict[str, Any]) -> Markup:
    """A search hit's snippet with its matched words in <mark>: the mail's text is escaped
    first, so our <mark> is the only markup that reaches the page."""
    return Markup(queries.highlight(hit["snippet"], hit["spans"], "<mark>", "</mark>",
                                    escape=html.escape))


def finding_meaning(code: str) -> str:
    info = CATALOG.get(code)
    return info.meaning if info else "その他の指摘"


def finding_fix(code: str) -> str:
    info = CATALOG.get(code)
    return info.fix if info else ""


def actor_label(actor: str | None) -> str:
    return "システム(自動)" if actor in (None, "", SYSTEM_ACTOR) else actor


def decoded_mail(raw: bytes) -> dict[str, Any]:
    """Headers and text of a stored mail as staff read it; never raises (a broken mail is
    exactly what staff must be able to look at)."""
    try:
        record = parse_message(raw)
    except Exception as exc:  # shown, not raised: the page still opens
        return {"headers": [], "body": "", "problem": f"メールを読めません({type(exc).__name__})"}
    wanted = ("from", "to", "cc", "subject", "date", "message-id")
    names = {"from": "差出人", "to": "宛先", "cc": "CC", "subject": "件名", "date": "日付",
             "message-id": "Message-ID"}
    headers = [(names[n.lower()], v) for n, v in record.headers if n.lower() in wanted]
    return {"headers": headers, "body": record.body, "subject": record.subject,
            "problem": "、".join(record.problems)}
