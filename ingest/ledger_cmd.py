"""`ledger …`: what staff ask of the ledger (listings, one submission, search) and its backup."""

from __future__ import annotations

import argparse
import json
import re
import sqlite3
import sys
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from ingest import app
from ingest.config import Settings
from ingest.errors import OperatorError
from ingest.screen import (  # noqa: F401  (table and display_width are used by other verbs)
    cell,
    clip,
    display_width,
    event_detail,
    event_name,
    os_reason,
    reason,
    replies_text,
    table,
    visible,
)
from ingest.screen import jst as _jst
from ingest.verbs import add_group, add_verb
from rules.findings import short_label
from state import labels, queries
from state.ledger import Ledger, LedgerError

BACKUP_PREFIX = "ledger-"
BACKUP_SUFFIX = ".db"


class BackupError(LedgerError):
    """A backup could not be written or did not verify; the message says what to do."""


# --- argparse -------------------------------------------------------------------------------

def add_parser(verbs: Any) -> None:
    """Add the `ledger` verb and its questions to the CLI's subparsers action."""
    questions = add_group(
        verbs, "ledger", "台帳への問い合わせ(申請一覧・1件の詳細・全文検索・バックアップ)",
        "renkei-intake ledger submissions --status 不備あり", "SUBCOMMAND")

    def question(name: str, handler: Any, help_text: str, example: str) -> argparse.ArgumentParser:
        return add_verb(questions, name, handler, help_text, example)

    listing = question(
        "submissions", cmd_submissions, "申請の一覧(新しい順)。条件で絞り込めます",
        "renkei-intake ledger submissions --missing pledge")
    listing.add_argument(
        "--status", metavar="STATUS",
        help="一覧の「状態」(承認待ち、受付済・返信待ち、送信済、要確認 など)、結果 (不備なし、"
             "不備あり、申請以外)。スクリプト向けの英語のコードでも指定できます")
    listing.add_argument("--missing", metavar="DOC",
                         help="この書類が不足している申請(最新版のみ)。例: pledge, 誓約書, tax")
    listing.add_argument("--overdue", action="store_true",
                         help="返信期限を過ぎても返信が送られていない申請")
    _common(listing, limit=100)

    show = question("show", cmd_show, "1件の申請のすべて(メール・添付・指摘・返信・履歴)",
                    "renkei-intake ledger show 12")
    show.add_argument("id", type=int, metavar="ID", help="申請 ID (ledger submissions の ID 列)")
    show.add_argument("--json", action="store_true", help="JSON で出力する")

    search = question(
        "search", cmd_search, "件名・本文・添付ファイル名・差出人で全文検索(すべての語を含むメール)",
        "renkei-intake ledger search 山田 製作所")
    search.add_argument("text", nargs="+", metavar="TEXT",
                        help="検索語(空白で区切ると、すべての語を含むメールを探します)")
    _common(search, limit=50)

    daily = question("daily", cmd_daily, "日別(日本時間)の受信メール・申請・返信の件数",
                     "renkei-intake ledger daily")
    daily.add_argument("--json", action="store_true", help="JSON で出力する")

    backup_cmd = question(
        "backup", cmd_backup, "稼働中でも安全な台帳のバックアップ(SQLite オンラインバックアップ+検証)",
        "renkei-intake ledger backup /var/backups/renkei-intake/")
    backup_cmd.add_argument(
        "dest", type=Path, metavar="DEST",
        help="バックアップ先のファイル、または既存のディレクトリ(ledger-日時.db を作成)")
    backup_cmd.add_argument("--keep", type=int, metavar="N",
                            help="DEST がディレクトリのとき、新しい N 個だけ残して古いものを削除")


def _common(parser: argparse.ArgumentParser, *, limit: int) -> None:
    parser.add_argument("--limit", type=_count, default=limit, metavar="N",
                        help=f"表示する最大件数(既定 {limit}、0 で全件)")
    parser.add_argument("--json", action="store_true", help="JSON で出力する")


def _count(value: str) -> int:
    try:
        number = int(value)
    except ValueError:
        number = -1
    if number < 0:
        raise argparse.ArgumentTypeError(f"0 以上の整数を指定してください(0 で全件): {value}")
    return number


# --- handlers -------------------------------------------------------------------------------

def cmd_submissions(args: argparse.Namespace, settings: Settings) -> int:
    missing = None
    if args.missing:
        missing = document_key(settings, args.missing)
        if missing is None:
            names = "、".join(f"{d.key}({_short_title(d.title)})"
                             for d in settings.program.documents)
            print(f"renkei-intake: 書類 {args.missing!r} はありません。使える書類: {names}",
                  file=sys.stderr)
            return 2
    status = None
    if args.status:
        status = queries.status_code(args.status)
        if status is None:
            names = "、".join(dict.fromkeys(
                [*(name for _, name in queries.status_choices()),
                 *labels.SUBMISSION_STATE.values()]))
            print(f"renkei-intake: 状態「{args.status}」はありません。使える状態: {names}",
                  file=sys.stderr)
            return 2
    ledger = app.open_existing_ledger(settings)
    page = queries.overview(ledger, status=status, missing=missing,
                            overdue=args.overdue, limit=args.limit or None)
    if args.json:
        _print_json({"total": page.total, "rows": page.rows})
        return 0
    if not page.rows:
        print("条件に合う申請はありません")
        return 0
    print(table(
        ("ID", "版", "状態", "結果", "受信(JST)", "通", "添付", "不備", "コンソーシアム",
         "幹事社メール", "指摘", "返信"),
        [(r["id"], r["version"], labels.label("display_state", r["display_state"]),
          labels.label("outcome", r["outcome"]), _minute(r["first_received_jst"]),
          r["mails"], r["files"], r["deficiencies"], r["consortium"], r["lead_email"],
          _finding_words(r["finding_codes"]), replies_text(r["replies"])) for r in page.rows]))
    print(_shown(len(page.rows), page.total))
    return 0


def _finding_words(codes: str | None) -> str:
    """The short Japanese name of each finding, as the web console lists them (codes: --json)."""
    return "・".join(short_label(code) for code in (codes or "").split(",") if code)


def document_key(settings: Settings, text: str) -> str | None:
    """A document key from its key or its Japanese name: 誓約書 finds "7. 誓約書"."""
    documents = settings.program.documents
    for doc in documents:
        if text in (doc.key, doc.title, _short_title(doc.title)):
            return doc.key
    found = [doc.key for doc in documents if text and text in doc.title]
    return found[0] if len(found) == 1 else None


def _short_title(title: str) -> str:
    return re.sub(r"^\d+\.\s*", "", title)


def cmd_show(args: argparse.Namespace, settings: Settings) -> int:
    ledger = app.open_existing_ledger(settings)
    detail = queries.submission_detail(ledger, args.id)
    if detail is None:
        raise OperatorError(f"申請 ID {args.id} は台帳にありません"
                            "(ledger submissions で ID を確認してください)")
    if args.json:
        _print_json(detail)
        return 0
    print(render_detail(detail, settings))
    return 0


def cmd_search(args: argparse.Namespace, settings: Settings) -> int:
    ledger = app.open_existing_ledger(settings)
    try:
        page = queries.search(ledger, " ".join(args.text), limit=args.limit or 1_000_000)
    except queries.SearchError as exc:
        print(f"renkei-intake: {exc}", file=sys.stderr)
        return 2
    if args.json:
        _print_json({"total": page.total, "rows": page.rows})
        return 0
    print(table(("メール", "申請", "受信(JST)", "状態", "差出人", "件名", "一致箇所"),
                [(r["message"], r["submission_id"], _minute(r["received_jst"]),
                  labels.label("message_state", r["state"]), r["from_addr"],
                  clip(r["subject"], 40),
                  queries.highlight(r["snippet"], r["spans"], "【", "】", escape=visible))
                 for r in page.rows]))
    print(_shown(len(page.rows), page.total, unit="通"))
    return 0


def cmd_daily(args: argparse.Namespace, settings: Settings) -> int:
    rows = queries.daily_counts(app.open_existing_ledger(settings))
    if args.json:
        _print_json(rows)
        return 0
    print(table(("日付", "受信メール", "隔離", "申請", *(labels.label("outcome", o) for o in (
        "complete", "deficient", "not_submission")), "返信送信"),
                [(r["day"], r["mails"], r["quarantined"], r["submissions"], r["complete"],
                  r["deficient"], r["not_submission"], r["replies_sent"]) for r in rows]))
    return 0


def cmd_backup(args: argparse.Namespace, settings: Settings) -> int:
    if args.keep is not None and args.keep < 1:
        print("renkei-intake: --keep は 1 以上を指定してください", file=sys.stderr)
        return 2
    ledger = app.open_existing_ledger(settings)
    written = backup(ledger, args.dest)
    print(f"台帳を {written} にバックアップし、整合性を確認しました", file=sys.stderr)
    if args.keep and args.dest.is_dir():
        for old in prune_backups(args.dest, args.keep):
            print(f"古いバックアップ {old} を削除しました", file=sys.stderr)
    print(written)
    return 0


# --- backup ---------------------------------------------------------------------------------

def backup(ledger: Ledger, dest: Path) -> Path:
    """Copy the ledger to `dest` with SQLite's online backup, then verify the copy.

    Safe while the daemon writes (the backup API copies a consistent snapshot). When `dest`
    is an existing directory the copy is named ledger-YYYYmmdd-HHMMSS.db inside it. The copy is
    written beside its final name and renamed only after `PRAGMA integrity_check` says ok, so
    a failed backup never leaves a file that looks like a good one. The blob store (raw mails
    and attachments) is not inside the ledger: back up its directory with the file tools.
    """
    target = dest / _backup_name(datetime.now(UTC)) if dest.is_dir() else dest
    if target.resolve() == ledger.path.resolve():
        raise BackupError(f"バックアップ先 {target} は台帳そのものです。別の場所を指定してください")
    if target.parent.exists() and not target.parent.is_dir():
        raise BackupError(f"バックアップ先 {target.parent} はフォルダではなくファイルです。別の場所を指定してください")
    if not target.parent.is_dir():
        raise BackupError(f"バックアップ先のフォルダ {target.parent} がありません。作成してから再実行してください")
    partial = target.with_name(target.name + ".partial")
    partial.unlink(missing_ok=True)
    try:
        # A connection of its own: the job may run on a scheduler thread, and the ledger's own
        # connection may be inside a transaction of the pipeline.
        source = sqlite3.connect(ledger.path, timeout=ledger.busy_timeout)
        copy = sqlite3.connect(partial)
        try:
            source.backup(copy)
            copy.execute("PRAGMA journal_mode=DELETE")  # one self-contained file, no -wal beside
        finally:
            copy.close()
            source.close()
        _verify(partial)
        partial.replace(target)
    except (sqlite3.Error, OSError) as exc:
        partial.unlink(missing_ok=True)
        why = os_reason(exc) if isinstance(exc, OSError) else (
            "ファイルを作成できません" if "unable to open" in str(exc) else str(exc))
        raise BackupError(f"{target} へのバックアップに失敗しました({why})。"
                          "空き容量と書き込み権限を確認してください") from exc
    return target


def _verify(path: Path) -> None:
    check = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        answer = [row[0] for row in check.execute("PRAGMA integrity_check")]
        tables = check.execute(
            "SELECT count(*) FROM sqlite_master WHERE name IN ('messages', 'submissions')"
        ).fetchone()[0]
    except sqlite3.DatabaseError as exc:  # so damaged that SQLite cannot even check it
        answer, tables = [str(exc)], 0
    finally:
        check.close()
    if answer != ["ok"] or tables != 2:
        path.unlink(missing_ok=True)
        raise BackupError(f"バックアップ {path} の検証に失敗しました: {'; '.join(answer)[:300]}")


def _backup_name(moment: datetime) -> str:
    return f"{BACKUP_PREFIX}{moment.strftime('%Y%m%d-%H%M%S')}{BACKUP_SUFFIX}"


def prune_backups(directory: Path, keep: int) -> list[Path]:
    """Delete all but the newest `keep` backups (ledger-YYYYmmdd-HHMMSS.db) in `directory`.

    Only files with backup()'s own naming are considered, so other files are never touched;
    the timestamp in the name orders them, not the file time. Returns the deleted paths.
    """
    if keep < 1:
        raise ValueError("keep must be at least 1")
    found = sorted(p for p in directory.glob(f"{BACKUP_PREFIX}*{BACKUP_SUFFIX}")
                   if _is_backup_name(p.name))
    removed = found[:-keep]
    for path in removed:
        path.unlink(missing_ok=True)
    return removed


def _is_backup_name(name: str) -> bool:
    stamp = name[len(BACKUP_PREFIX):-len(BACKUP_SUFFIX)]
    try:
        datetime.strptime(stamp, "%Y%m%d-%H%M%S")
    except ValueError:
        return False
    return True


# --- text output ----------------------------------------------------------------------------

def render_detail(detail: dict[str, Any], settings: Settings) -> str:
    sub = detail["submission"]
    title = settings.program.document_title
    lines = [
        f"申請 {sub['id']}: {cell(sub['consortium']) or '(コンソーシアム名なし)'} "
        f"第{sub['version']}版",
        f"  状態 {labels.label('display_state', sub['display_state'])} / 結果 "
        f"{labels.label('outcome', sub['outcome']) or '未判定'} / 種別 "
        f"{labels.label('submission_kind', sub['kind'])}",
        f"  幹事社メール {cell(sub['lead_email'])} / 最初の受信 "
        f"{_minute(sub['first_received_jst'])} (JST)",
    ]
    if sub["superseded_by"]:
        lines.append(f"  申請 {sub['superseded_by']} (新しい版) に置き換えられています")
    lines += _section("メール", ("ID", "受信(JST)", "差出人", "件名", "状態", "注記"), (
        (m["id"], _minute(m["received_jst"]), m["from_addr"], m["subject"],
         labels.label("message_state", m["state"]), reason(m["problem"]))
        for m in detail["mails"]))
    lines += _section("添付ファイル", ("ID", "メール", "パス", "種類", "サイズ", "書類", "注記"), (
        (f["id"], f["message"], f["path"], f["kind"], f["size"],
         title(f["document"]) if f["document"] else "", _file_note(f))
        for f in detail["files"]))
    lines += _section("指摘", ("指摘", "区分", "構成員", "書類", "内容"), (
        (short_label(f["code"]), labels.label("severity", f["severity"]), f["member"],
         title(f["document"]) if f["document"] else "", reason(f["detail"]))
        for f in detail["findings"]))
    lines += _section("返信", ("ID", "種類", "状態", "宛先", "期限(JST)", "送信(JST)", "試行", "応答"), (
        (r["id"], labels.label("reply_kind", r["kind"]), labels.label("reply_status", r["status"]),
         r["to_addr"], _jst(r["due_at"]), _jst(r["sent_at"]), r["attempts"], r["smtp_response"])
        for r in detail["replies"]))
    lines += _section("履歴", ("日時(JST)", "対象", "出来事", "詳細", "実行者"), (
        (_jst(e["at"]), f"{labels.label('entity', e['entity'])} {e['entity_id'] or ''}",
         event_name(e["event"]), clip(event_detail(e["detail"]), 60), e["actor"])
        for e in detail["events"]))
    return "\n".join(lines)


def _file_note(row: dict[str, Any]) -> str:
    note = "暗号化" if row["encrypted"] else ""
    return "; ".join(x for x in (note, reason(row["problem"])) if x)


def _section(title: str, headers: Sequence[str], rows: Iterable[Sequence[Any]]) -> list[str]:
    rows = list(rows)
    if not rows:
        return ["", f"■ {title}: なし"]
    return ["", f"■ {title} ({len(rows)})", table(headers, rows, indent="  ")]


def _minute(jst: str | None) -> str:
    return jst[:16] if jst else ""


def _shown(shown: int, total: int, unit: str = "件") -> str:
    if shown == total:
        return f"{total} {unit}"
    return f"全 {total} {unit}中 {shown} {unit}を表示(--limit 0 で全件)"


def _print_json(value: Any) -> None:
    print(json.dumps(value, ensure_ascii=False, indent=2))
