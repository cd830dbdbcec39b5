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
    "discarded": "破棄",
}

SUBMISSION_STATE: Mapping[str, str] = {
    "open": "受付処理中",
    "checked": "確認済・返信待ち",
    "replied": "返信作成済",
    "needs_review": "要確認",
}

OUTCOME: Mapping[str, str] = {
    "complete": "不備なし",
    "deficient": "不備あり",
    "not_submission": "申請以外",
    "awaiting_parts": "分割メールの到着待ち",
    "awaiting_password": "パスワードの到着待ち",
    "awaiting_settle": "続きのメール待ち",
    "error": "確認できず(要確認)",
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
    "notice": "お知らせ",
}

WAITING_FOR: Mapping[str, str] = {
    "parts": "分割メールの到着待ち",
    "password": "パスワードの到着待ち",
    "settle": "続きのメール待ち",
}

# What has happened to a submission as staff see it (state.display.submission_display): its
# own state together with the statuses of its replies. "Replied" alone would hide a notice that
# still waits for approval.
DISPLAY_STATE: Mapping[str, str] = {
    "receiving": "受付処理中",
    "needs_review": "要確認",
    "reply_pending": "受付済・返信待ち",
    "awaiting_approval": "承認待ち",
    "held": "返信保留中",
    "send_failed": "送信失敗",
    "send_unknown": "送信結果不明",
    "bounced": "返信不達",
    "sent": "送信済",
    "written": "返信作成済(.eml)",
    "cancelled": "返信取消",
    "no_reply": "返信なし",
}

# The history of a mail, submission or reply (the `events` table).
EVENT: Mapping[str, str] = {
    "received": "受信",
    "parsed": "解析",
    "checked": "確認",
    "quarantined": "隔離",
    "needs_review": "要確認に設定",
    "released": "隔離から戻す",
    "discarded": "破棄",
    "filed": "申請に振り分け",
    "created": "申請を作成",
    "evaluated": "判定",
    "evaluation_failed": "判定できず",
    "reprocessed": "再判定",
    "password_received": "パスワードを受信",
    "part_received": "続きのメールを受信",
    "late_addition": "受付確認の後に追加のメールを受信",
    "bounce_of_reply": "返信の不達通知",
    "queued": "返信を作成",  # its first state (承認待ち, 送信待ち) is in the detail
    "requeued": "送信待ちに戻す",
    "held": "保留",
    "approved": "承認",
    "cancelled": "取消",
    "charset_fallback": "文字コードを UTF-8 に変更",
    "written": ".eml を書き出し",
    "sending": "送信開始",
    "sent": "送信",
    "sent_copy": "送信済みフォルダに保存",
    "unknown": "送信結果不明",
    "outcome_unknown": "送信結果不明",
    "failed": "送信失敗",
    "retry": "再送信を予定",
    "overdue": "返信期限超過",
    "bounced": "不達",
    "send_due": "手動送信",
    "reply_to_sender": "返信先を差出人に変更",
    "staff_added": "アカウント作成",
    "staff_disabled": "アカウント無効化",
    "signed_in": "サインイン",
}

# Keys of an event's detail, as staff read them.
EVENT_DETAIL: Mapping[str, str] = {
    "source": "取得元",
    "received_at_source": "受信時刻の根拠",
    "role": "役割",
    "submission": "申請",
    "findings": "指摘",
    "waiting_for": "待ち",
    "error": "エラー",
    "reply": "返信",
    "kind": "種類",
    "to": "宛先",
    "reason": "理由",
    "path": "ファイル",
    "smtp": "サーバーの応答",
    "in_seconds": "秒後",
    "folder": "フォルダ",
    "from": "元の状態",
    "problem": "理由",
    "bounce_message": "不達通知メール",
    "ignore_hours": "業務時間外も送信",
    "due_at": "期限",
    "status": "状態",
    "note": "注記",
    "name": "名前",
    "before": "変更前の指摘",
    "after": "変更後の指摘",
}

# What an event is about (the `events.entity` column).
ENTITY: Mapping[str, str] = {
    "message": "メール",
    "submission": "申請",
    "reply": "返信",
    "system": "システム",
    "staff": "職員",
}

# Where a mail's receive time was read from (messages.received_at_source).
RECEIVED_AT_SOURCE: Mapping[str, str] = {
    "received": "Received ヘッダー",
    "internaldate": "IMAP の受信日時",
    "maildir": "Maildir の配信時刻",
    "mbox": "mbox の区切り行",
    "date": "Date ヘッダー(差出人の時計)",
    "fetch": "取り込んだ時刻",
}

# Message roles (how a mail was filed).
ROLE: Mapping[str, str] = {
    "part": "申請メール",
    "password": "パスワード通知",
    "automatic": "自動送信メール",
    "question": "問い合わせ等",
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
    "display_state": DISPLAY_STATE,
    "event": EVENT,
    "event_detail": EVENT_DETAIL,
    "role": ROLE,
    "received_at_source": RECEIVED_AT_SOURCE,
    "entity": ENTITY,
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
