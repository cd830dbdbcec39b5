"""`renkei-intake outbox ...`: staff read, approve, hold, cancel and send replies.

Each command opens the ledger, calls one function of replies/, and prints one line per reply.
Approve/hold/cancel change a row only from the statuses where that makes sense (an already
sent reply cannot be approved again), so two staff members typing at once cannot double-send;
a command naming a reply in another status changes no reply and exits 2.
"""

from __future__ import annotations

import argparse
import getpass
import json
import sys
from typing import Any

from ingest import app
from ingest.config import Settings
from ingest.errors import OperatorError
from ingest.reply_decision import decide
from ingest.screen import cell, event_detail, event_name, jst, reason, table, visible
from ingest.verbs import Handler, add_group, add_verb
from parsers.mime import parse_message
from replies import staff
from replies.outbox import UNSENT, SendReport, send_due, write_files
from state import labels
from state.blobs import BlobDamaged
from state.ledger import Ledger


def add_parser(verbs: Any) -> None:
    """Add the verb `outbox` with its subcommands to the CLI's subparsers (`verbs`)."""
    subs = add_group(
        verbs, "outbox", "返信の一覧・確認・承認・保留・取消・送信",
        "renkei-intake outbox list --status 承認待ち\n"
        "    renkei-intake outbox show 12\n"
        "    renkei-intake outbox approve 12 13 --by yamada", "SUBCOMMAND",
        description="返信(受付確認・不備連絡など)を確認し、承認・保留・取消・送信します。")

    def sub(name: str, handler: Handler, help_text: str, example: str) -> argparse.ArgumentParser:
        return add_verb(subs, name, handler, help_text, example)

    listing = sub("list", cmd_list, "返信の一覧(期限順)", "renkei-intake outbox list --status 保留")
    listing.add_argument("--status", metavar="STATUS",
                         help="この状態の返信だけを表示(承認待ち、保留、送信失敗 など。"
                              "スクリプト向けの英語のコードでも指定できます)")
    listing.add_argument("--json", action="store_true", help="JSON Lines で出力する")

    show = sub("show", cmd_show, "返信メールの内容(件名・宛先・本文)と履歴を表示",
               "renkei-intake outbox show 12")
    show.add_argument("id", type=int, metavar="ID", help="返信の番号(outbox list の ID)")

    for action, text in (("approve", "承認して送信待ちにする(保留・送信不明・失敗の再送も)"),
                         ("hold", "保留する(approve で再開)"),
                         ("cancel", "取り消す(送信しない)")):
        parser = sub(action, cmd_action, text, f"renkei-intake outbox {action} 12 13 --by yamada")
        parser.add_argument("ids", type=int, nargs="+", metavar="ID", help="返信の番号")
        parser.add_argument("--by", default=_os_user(), metavar="NAME",
                            help="操作した人(省略時は OS のユーザー名)")
        parser.set_defaults(action=action)
        if action == "hold":
            parser.add_argument("--reason", metavar="TEXT", help="保留の理由(履歴に残ります)")

    send = sub("send-due", cmd_send_due, "送信待ちの返信を今すぐ送信(SMTP がなければ .eml に書き出し)",
               "renkei-intake outbox send-due --by yamada")
    send.add_argument("--by", default=_os_user(), metavar="NAME", help="操作した人(省略時は OS のユーザー名)")
    send.add_argument("--ignore-hours", action="store_true",
                      help="業務時間外でも送信する(既定では業務時間内だけ送信)")


def cmd_list(args: argparse.Namespace, settings: Settings) -> int:
    status = None
    if args.status:
        status = labels.code_for("reply_status", args.status)
        if status is None or status not in staff.STATUSES:
            names = "、".join(labels.label("reply_status", s) for s in staff.STATUSES)
            print(f"renkei-intake: 状態「{args.status}」はありません。使える状態: {names}",
                  file=sys.stderr)
            return 2
    rows = staff.rows(app.open_existing_ledger(settings), status)
    if args.json:
        for row in rows:
            print(json.dumps(row, ensure_ascii=False))
        return 0
    if not rows:
        print("返信はありません" + (f"(状態 {labels.label('reply_status', status)})"
                                    if status else ""))
        return 0
    print(table(("ID", "状態", "種類", "受付番号", "期限(JST)", "宛先", "コンソーシアム", "備考"), (
        (row["id"], labels.label("reply_status", row["status"])
         + (" 期限超過" if row["overdue_at"] and row["status"] in UNSENT else ""),
         labels.label("reply_kind", row["kind"]), row["submission_id"], jst(row["due_at"]),
         row["to_addr"], row["consortium"], _note(row)) for row in rows)))
    print(f"{len(rows)} 通")
    return 0


def _note(row: dict[str, Any]) -> str:
    if row["held_reason"] and row["status"] == "held":
        return f"保留の理由: {reason(row['held_reason'])}"
    if row["smtp_response"] and row["status"] in ("failed", "queued", "unknown"):
        return f"サーバーの応答: {row['smtp_response']}"
    return ""


def cmd_show(args: argparse.Namespace, settings: Settings) -> int:
    ledger = app.open_existing_ledger(settings)
    row = staff.row(ledger, args.id)
    if row is None:
        raise OperatorError(f"返信 {args.id} はありません(outbox list で ID を確認してください)")
    print(describe(ledger, row))
    return 0


def describe(ledger: Ledger, row: dict[str, Any]) -> str:
    """The reply as staff read it: decoded headers, body, and what happened to it."""
    try:
        raw = ledger.blobs.get(row["raw_sha256"])
    except BlobDamaged as exc:  # still show the row and its history
        raw = f"Subject: (元データを読めません)\n\n{exc}\n".encode()
    record = parse_message(raw)
    headers = {name.lower(): value for name, value in reversed(record.headers)}
    lines = [
        f"返信 {row['id']}  種類 {labels.label('reply_kind', row['kind'])}  状態 "
        f"{labels.label('reply_status', row['status'])}  受付番号 {row['submission_id']}",
        f"期限: {jst(row['due_at'])}" + ("  (期限超過)" if row["overdue_at"] else ""),
    ]
    if row["sent_at"]:
        lines.append(f"送信: {jst(row['sent_at'])}  {cell(row['smtp_response'])}")
    if row["held_reason"]:
        lines.append(f"保留の理由: {cell(reason(row['held_reason']))}")
    lines += [
        f"From: {cell(headers.get('from', ''))}",
        f"To: {cell(headers.get('to', ''))}",
        f"Subject: {cell(record.subject)}",
        f"Message-ID: {cell(record.message_id)}",
        f"In-Reply-To: {cell(record.in_reply_to) or '(なし)'}",
        f"Auto-Submitted: {cell(headers.get('auto-submitted', '(なし)'))}",
        f"文字コード: {row['charset'] or ''}",
        "―――― 本文 ――――",
        visible(record.body.rstrip("\n"), lines=True),
        "―――― 履歴 ――――",
    ]
    for event in staff.events(ledger, row["id"]):
        detail = event_detail(event["detail"])
        lines.append(f"{jst(event['at'])}  {event_name(event['event'])}  {cell(event['actor'])}"
                     + (f"  {cell(detail)}" if detail else ""))
    return "\n".join(lines)


def cmd_action(args: argparse.Namespace, settings: Settings) -> int:
    ledger = app.open_existing_ledger(settings)
    # every reply or none: an unknown ID or one in the wrong state is refused (exit 2)
    results = decide(ledger, args.action, args.ids, args.by, getattr(args, "reason", None))
    for result in results:
        print(result.message)
    approved = [r.reply_id for r in results if args.action == "approve"]
    if approved:
        print(next_step(settings, ledger, approved))
    held = [str(r.reply_id) for r in results if args.action == "hold"]
    if held:
        print(f"保留した返信は送信されません。送るときは renkei-intake outbox approve {' '.join(held)}")
    return 0


def next_step(settings: Settings, ledger: Ledger, approved: list[int]) -> str:
    """What happens to approved replies: without [smtp] they are written as .eml at once
    (staff send them by hand); with it they go out on the next send pass."""
    if settings.smtp is None:
        try:
            with app.exclusive(settings.ledger_path):
                files = write_files(ledger, settings.outbox_dir)
        except app.BusyError:
            return (f"承認した返信は、動作中の renkei-intake が {settings.outbox_dir} に .eml で"
                    "書き出します(SMTP が設定されていないため)")
        names = "、".join(p.name for p in files)
        return (f"SMTP が設定されていないため、承認した返信を {settings.outbox_dir} に .eml で"
                f"書き出しました({names or 'なし'})。メールソフトで開いて送信してください")
    hours = ("業務時間内に" if settings.send_in_business_hours_only else "")
    return (f"承認した返信 {len(approved)} 通は送信待ちです。常駐中の renkei-intake run が次の"
            f"取得のときに{hours}送信します(今すぐ送るには renkei-intake outbox send-due)")


def cmd_send_due(args: argparse.Namespace, settings: Settings) -> int:
    app.require_ledger(settings)  # nothing to do on a ledger that is not there
    with app.exclusive(settings.ledger_path):  # never beside a running daemon's send pass
        ledger = app.open_ledger(settings)
        ledger.event("system", None, "send_due", {"ignore_hours": args.ignore_hours},
                     actor=args.by)
        if settings.smtp is None:
            files = write_files(ledger, settings.outbox_dir)
            print(f"SMTP が設定されていないため、{len(files)} 通を {settings.outbox_dir} に"
                  ".eml で書き出しました")
            return 0
        report = send_due(
            ledger, settings.smtp, from_addr=settings.secretariat_address,
            calendar=settings.calendar,
            business_hours_only=settings.send_in_business_hours_only and not args.ignore_hours,
            imap=settings.imap,
        )
    print(summary(report))
    return 0 if not report.failed else 1


def summary(report: SendReport) -> str:
    parts = [f"送信 {report.sent}", f"再試行待ち {report.retrying}", f"失敗 {report.failed}"]
    if report.found_in_sent:
        parts.append(f"送信済みフォルダで確認 {report.found_in_sent}")
    if report.resent:
        parts.append(f"再送待ち {report.resent}")
    if report.unknown:
        parts.append(f"送信不明(要確認) {report.unknown}")
    if report.copies:
        parts.append(f"送信済みフォルダに保存 {report.copies}")
    if report.overdue:
        parts.append(f"期限超過になった返信 {report.overdue}")
    note = " (業務時間外のため送信なし)" if report.skipped_outside_hours else ""
    errors = "".join(f"\n  {e}" for e in dict.fromkeys(report.errors))
    return "send: " + ", ".join(parts) + note + errors



def _os_user() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "unknown"


