"""What the web console shows for a code or a stored mail: Japanese words, JST times, and mail
text decoded for reading (an HTML body is turned into text, never rendered)."""

from __future__ import annotations

import html
import json
from datetime import datetime
from typing import Any

from markupsafe import Markup

from parsers.mime import parse_message
from rules.calendar import JST
from rules.findings import CATALOG
from state import queries

# A few words per finding code for listings; the full meaning and fix come from the catalogue.
FINDING_SHORT = {
    "SUBJECT_FORMAT": "件名の形式", "SENDER_DETAILS_MISSING": "差出人情報なし",
    "SENDER_NOT_LEAD": "幹事社以外から送信", "OUTSIDE_PERIOD": "期間外",
    "DOCUMENT_MISSING": "書類不足", "CHECKLIST_MISMATCH": "チェックリスト不一致",
    "ARCHIVE_PASSWORD_MISSING": "パスワード未着", "ARCHIVE_PASSWORD_WRONG": "パスワード誤り",
    "ATTACHMENT_UNREADABLE": "添付を開けない", "FORM_FIELD_MISSING": "必須項目の空欄",
    "CONSORTIUM_NAME_MISMATCH": "コンソーシアム名不一致", "CONSORTIUM_COMPOSITION": "構成要件",
    "SME_INELIGIBLE": "中小企業の要件", "CORPORATE_NUMBER_INVALID": "法人番号",
    "AMOUNT_OVER_CAP": "申請額が上限超", "AMOUNT_BELOW_MINIMUM": "申請額が下限未満",
    "SOFTWARE_CLOUD_OVER_HALF": "ソフト・クラウド費1/2超", "SME_PERSONNEL_OVER_THIRD": "人件費1/3超",
    "SUBCONTRACT_OVER_HALF": "下請1/2以上", "SUM_MISMATCH": "合計不一致",
    "DUPLICATE_SUBMISSION": "再提出", "NOT_A_SUBMISSION": "申請以外",
}

EVENT = {
    "received": "受信", "parsed": "解析", "checked": "確認", "quarantined": "隔離",
    "needs_review": "要確認", "filed": "申請に登録", "bounce_of_reply": "返信の不達通知",
    "released": "隔離から再処理", "created": "申請を作成", "evaluated": "判定",
    "evaluation_failed": "判定できず", "password_received": "パスワード受信",
    "part_received": "分割メール受信", "reprocessed": "再判定", "queued": "返信を作成",
    "held": "保留", "approved": "承認", "cancelled": "取消", "charset_fallback": "文字コード変更",
    "written": ".eml に書き出し", "requeued": "再送待ちに戻す", "unknown": "送信結果不明",
    "sent": "送信", "sending": "送信開始", "outcome_unknown": "送信結果不明", "failed": "送信失敗",
    "retry": "再試行待ち", "sent_copy": "送信済みフォルダに保存", "overdue": "期限超過",
    "bounced": "不達", "send_due": "送信を実行", "staff_added": "アカウント作成",
    "staff_disabled": "アカウント無効化", "signed_in": "サインイン",
}

ENTITY = {"message": "メール", "submission": "申請", "reply": "返信", "system": "システム",
          "staff": "職員"}
SYSTEM_ACTOR = "renkei-intake"


def jst(value: str | None) -> str:
    if not value:
        return ""
    try:
        return f"{datetime.fromisoformat(value).astimezone(JST):%Y-%m-%d %H:%M}"
    except ValueError:
        return value


def finding_short(code: str) -> str:
    info = CATALOG.get(code)
    return FINDING_SHORT.get(code) or (info.meaning if info else "その他の指摘")


def finding_badges(findings: list[dict[str, Any]]) -> list[tuple[str, str, int]]:
    """(short label, severity, how many) per code, in the order first found: a listing shows
    「書類不足 ×5」 once rather than five times."""
    counted: dict[str, list[Any]] = {}
    for finding in findings:
        entry = counted.setdefault(finding["code"], [finding_short(finding["code"]),
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


def event_label(code: str) -> str:
    return EVENT.get(code, "その他の記録")


def actor_label(actor: str | None) -> str:
    return "システム(自動)" if actor in (None, "", SYSTEM_ACTOR) else actor


def event_note(detail: str | None) -> str:
    """The part of an event's detail a person reads: a reason, a problem, findings."""
    if not detail:
        return ""
    try:
        data = json.loads(detail)
    except ValueError:
        return detail
    if isinstance(data, str):
        return data
    if not isinstance(data, dict):
        return ""
    notes = [str(data[k]) for k in ("reason", "problem", "error") if data.get(k)]
    for key, title in (("before", "前"), ("after", "後")):
        if isinstance(data.get(key), list):
            notes.append(f"{title}: " + ("、".join(finding_short(c) for c in data[key]) or "指摘なし"))
    if data.get("smtp"):
        notes.append(f"サーバーの応答: {data['smtp']}")
    return " / ".join(notes)


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
