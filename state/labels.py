"""The one Japanese label of every code staff can see: states, outcomes, reply kinds and statuses,
severities. Every human-readable face (CLI tables, replay summary, exports, web console) takes
its words from here; JSON output and the `*_code` columns of exports keep the English codes for
scripts."""

from __future__ import annotations

from collections.abc import Mapping

MESSAGE_STATE: Mapping[str, str] = {
    "received": "受信済・未処理",
    "parsed": "解析済",
    "checked": "確認済",
    "quarantined": "隔離",
    "needs_review": "要確認",
}

SUBMISSION_STATE: Mapping[str, str] = {
    "open": "受付処理中",
    "checked": "確認済・返信待ち",
    "replied": "返信済",
    "needs_review": "要確認",
}

OUTCOME: Mapping[str, str] = {
    "complete": "不備なし",
    "deficient": "不備あり",
    "not_submission": "申請以外",
}

SUBMISSION_KIND: Mapping[str, str] = {
    "submission": "申請",
    "not_submission": "申請以外",
}

REPLY_KIND: Mapping[str, str] = {
    "receipt": "受付確認",
    "deficiency": "不備連絡",
    "password_request": "パスワード未着連絡",
    "out_of_period": "期間外受信連絡",
}

REPLY_STATUS: Mapping[str, str] = {
    "awaiting_approval": "承認待ち",
    "queued": "送信待ち",
    "sending": "送信中",
    "sent": "送信済",
    "written": "作成済(.eml)",
    "held": "保留",
    "unknown": "送信結果不明",
    "failed": "送信失敗",
    "cancelled": "取消",
    "bounced": "不達",
}

SEVERITY: Mapping[str, str] = {
    "deficiency": "不備",
    "notice": "連絡事項",
}

WAITING_FOR: Mapping[str, str] = {
    "parts": "分割メールの到着待ち",
    "password": "パスワードの到着待ち",
    "settle": "続きのメール待ち",
}

VOCABULARIES: Mapping[str, Mapping[str, str]] = {
    "message_state": MESSAGE_STATE,
    "submission_state": SUBMISSION_STATE,
    "outcome": OUTCOME,
    "submission_kind": SUBMISSION_KIND,
    "reply_kind": REPLY_KIND,
    "reply_status": REPLY_STATUS,
    "severity": SEVERITY,
    "waiting_for": WAITING_FOR,
}


def label(vocabulary: str, code: str | None) -> str:
    """The Japanese label of `code`; an unknown code is shown as it is rather than hidden."""
    if code is None:
        return ""
    return VOCABULARIES[vocabulary].get(code, code)


def code_for(vocabulary: str, text: str) -> str | None:
    """The code a staff member meant by `text`, given as the code or as its Japanese label."""
    table = VOCABULARIES[vocabulary]
    if text in table:
        return text
    for code, japanese in table.items():
        if japanese == text:
            return code
    return None
