"""`quarantine list | show ID [--raw] | release ID`: the mails that could not be processed.

A quarantined mail keeps its raw bytes in the blob store and the reason in `messages.problem`.
Staff list them, read one (or take its raw bytes to open in a mail program), and release it
once the cause is fixed: release puts it back to `received` and runs the pipeline once, so it
goes through exactly as a new mail would. Nothing is retried by itself (PEER-LESSONS #3).
"""

from __future__ import annotations

import argparse
import getpass
import sys
from typing import Any

from ingest import app
from ingest.config import Settings
from ingest.errors import OperatorError
from ingest.quarantine_release import (
    HEADERS_ONLY_MARK,
    discard,
    headline,
    release,
    release_and_process,
)
from ingest.screen import cell, event_detail, event_name, os_reason, reason, table
from ingest.verbs import add_group, add_verb
from state import labels, queries
from state.blobs import BlobDamaged
from state.ledger import Ledger

__all__ = ["HEADERS_ONLY_MARK", "headline", "release"]  # kept importable from here for scripts



def add_parser(verbs: Any) -> None:
    """Add the `quarantine` verb and its actions to the CLI's subparsers action."""
    actions = add_group(
        verbs, "quarantine", "隔離されたメール(処理できなかったメール)の一覧・表示・再処理",
        "renkei-intake quarantine list", "SUBCOMMAND")

    def action(name: str, handler: Any, help_text: str, example: str) -> argparse.ArgumentParser:
        return add_verb(actions, name, handler, help_text, example)

    action("list", cmd_list, "隔離中のメールの一覧(受信順)", "renkei-intake quarantine list")

    show = action("show", cmd_show, "隔離されたメール1通の詳細と履歴。--raw で元のメールそのもの",
                  "renkei-intake quarantine show 42 --raw > mail42.eml")
    show.add_argument("id", type=int, metavar="ID", help="メール ID (quarantine list の ID 列)")
    show.add_argument("--raw", action="store_true",
                      help="受信したままのメール(.eml)を標準出力に書き出す")

    release = action("release", cmd_release,
                     "原因を取り除いたメールを「受信済み」に戻し、もう一度処理する",
                     "renkei-intake quarantine release 42")
    release.add_argument("id", type=int, metavar="ID", help="メール ID")
    release.add_argument("--force", action="store_true",
                         help="ヘッダーのみ記録したメール(サイズ上限超過)も再処理する")

    discard_verb = action("discard", cmd_discard,
                          "隔離されたメールを破棄する(返信せず一覧から外す。記録と元データは残り、"
                          "同じメールを再び取り込むこともない)",
                          "renkei-intake quarantine discard 42 --reason 迷惑メール")
    discard_verb.add_argument("id", type=int, metavar="ID", help="メール ID")
    discard_verb.add_argument("--reason", metavar="TEXT", help="破棄する理由(履歴に残る)")


def cmd_list(args: argparse.Namespace, settings: Settings) -> int:
    ledger = app.open_existing_ledger(settings)
    rows = queries.quarantined(ledger)
    if not rows:
        print("隔離中のメールはありません")
        return 0
    heads = [headline(ledger, r) for r in rows]
    print(table(("ID", "受信(JST)", "差出人", "件名", "サイズ", "理由"), (
        (r["id"], (r["received_jst"] or "")[:16], h["from"], h["subject"], r["size"],
         reason(r["problem"])) for r, h in zip(rows, heads, strict=True))))
    print(f"{len(rows)} 通")
    return 0


def cmd_show(args: argparse.Namespace, settings: Settings) -> int:
    ledger = app.open_existing_ledger(settings)
    row = _message(ledger, args.id)
    if args.raw:
        if sys.stdout.isatty():
            # The raw bytes may hold escape sequences meant for a terminal: only to a file.
            print(f"renkei-intake: 元のメールは端末には表示しません。ファイルに保存してください"
                  f"(renkei-intake quarantine show {args.id} --raw > mail{args.id}.eml)",
                  file=sys.stderr)
            return 2
        try:
            raw = ledger.raw(args.id)
        except (OSError, BlobDamaged) as exc:
            why = os_reason(exc) if isinstance(exc, OSError) else str(exc)
            raise OperatorError(f"メール {args.id} の元データを読めません: {why}") from None
        sys.stdout.buffer.write(raw)
        sys.stdout.flush()
        return 0
    head = headline(ledger, row)
    print(f"メール {row['id']}: 状態 {labels.label('message_state', row['state'])}")
    if row["state"] != "quarantined":
        print("  (このメールは隔離されていません)")
    for label, value in (
        ("受信(JST)", row["received_jst"]),
        ("受信時刻の根拠", labels.label("received_at_source", row["received_at_source"])),
        ("取得元", row["source_ref"]), ("Message-ID", row["message_id_header"]),
        ("差出人", head["from"]), ("件名", head["subject"]), ("日付ヘッダー", head["date"]),
        ("サイズ", f"{row['size']} バイト"), ("元データ", row["sha256"]),
        ("理由", reason(row["problem"])),
    ):
        print(f"  {label}: {cell(value)}")
    events = list(ledger.db.query(
        "SELECT datetime(at, '+9 hours') AS at, event, detail, actor FROM events "
        "WHERE entity = 'message' AND entity_id = ? ORDER BY at, id", [args.id]))
    print("\n■ 履歴")
    print(table(("日時(JST)", "出来事", "詳細", "実行者"),
                ((e["at"], event_name(e["event"]), event_detail(e["detail"]), e["actor"])
                 for e in events), indent="  "))
    print(f"\n元のメールを取り出す: renkei-intake quarantine show {args.id} --raw > mail{args.id}.eml")
    return 0


def cmd_release(args: argparse.Namespace, settings: Settings) -> int:
    app.require_ledger(settings)  # nothing to do on a ledger that is not there
    done = release_and_process(settings, args.id, actor=_os_user(), force=args.force)
    if done.state == "quarantined":
        print(f"メール {args.id} は再び隔離されました: {cell(reason(done.problem))}")
        return 1
    where = f"(申請 {done.submission_id})" if done.submission_id else ""
    print(f"メール {args.id} を再処理しました: 状態 "
          f"{labels.label('message_state', done.state)}{where}")
    return 0


def cmd_discard(args: argparse.Namespace, settings: Settings) -> int:
    app.require_ledger(settings)
    discard(settings, args.id, actor=_os_user(), why=args.reason)
    print(f"メール {args.id} を破棄しました(quarantine show {args.id} で履歴と元データを"
          "確認できます)")
    return 0


def _message(ledger: Ledger, message: int) -> dict[str, Any]:
    rows = list(ledger.db.query(
        "SELECT *, datetime(received_at, '+9 hours') AS received_jst FROM messages WHERE id = ?",
        [message]))
    if not rows:
        raise OperatorError(f"メール ID {message} は台帳にありません"
                            "(quarantine list で ID を確認してください)")
    return rows[0]


def _os_user() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "unknown"
