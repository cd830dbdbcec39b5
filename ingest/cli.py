"""The renkei-intake command line. Verbs and flags are a contract with staff scripts."""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import sqlite3
import sys
from datetime import date, datetime, time
from pathlib import Path

from ingest import app, health, ledger_cmd, outbox_cmd, quarantine_cmd, serve
from ingest.check_cmd import print_catalog, run_check
from ingest.config import ConfigError, Settings, load_settings
from ingest.export import write_csv, write_jsonl
from ingest.export_xlsx import write_xlsx
from ingest.imap_source import MailboxError, server_from_url
from ingest.sources import SourceError, open_source
from ingest.verbs import Handler, add_verb
from replies.connection import SecretError, ServerUnavailable
from replies.outbox import write_files
from replies.render import TemplateProblem
from rules.calendar import JST
from state import queries
from state.blobs import BlobStoreError
from state.ledger import LedgerError

# Errors an operator can act on: printed as one sentence, exit status 2, no traceback.
OPERATOR_ERRORS = (ConfigError, SourceError, MailboxError, LedgerError, SecretError,
                   TemplateProblem, app.BusyError, ServerUnavailable, BlobStoreError)


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not hasattr(args, "handler"):
        parser.print_help()
        return 2
    try:
        settings = load_settings(args.config)
        return args.handler(args, settings)
    except OPERATOR_ERRORS as exc:
        print(f"renkei-intake: {exc}", file=sys.stderr)
        return 2
    except sqlite3.OperationalError as exc:
        if "locked" not in str(exc):
            raise
        # Another program kept the ledger locked longer than the busy timeout (30 s).
        print("renkei-intake: 台帳が他のプログラムにロックされたままのため書き込めませんでした"
              f"({exc})。台帳を開いている別のプログラムを終了してから再実行してください"
              "(記録できなかったメールは次回の実行で取り込みます)", file=sys.stderr)
        return 2
    except BrokenPipeError:
        # The reader (head, less) went away; that is not an error of ours.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    except KeyboardInterrupt:
        print("renkei-intake: 中断しました(処理済みのメールは台帳に記録済みです)", file=sys.stderr)
        return 130


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="renkei-intake",
        description="共創型サービスIT連携支援補助金 事務局メールボックスの受付処理",
    )
    parser.add_argument("--config", type=Path, default=None,
                        help="設定ファイル(省略時は ./config.toml、なければ組み込みの既定値)")
    verbs = parser.add_subparsers(metavar="VERB")

    def verb(name: str, handler: Handler, help_text: str, example: str) -> argparse.ArgumentParser:
        return add_verb(verbs, name, handler, help_text, example)

    replay = verb("replay", cmd_replay, "Maildir / mbox / .eml(フォルダ)を台帳に取り込む",
                  "renkei-intake replay examples/mailbox --dry-run")
    replay.add_argument("source", help="Maildir、mbox ファイル、.eml ファイルまたはそのフォルダ、"
                        "または imap://ユーザー@ホスト/フォルダ")
    replay.add_argument("--ledger", type=Path, help="台帳ファイル(設定の paths.ledger より優先)")
    replay.add_argument("--dry-run", action="store_true",
                        help="返信を outbox/dry-run/ に .eml で描画するだけで、送信キューに入れない")

    poll = verb("poll", cmd_poll, "設定した IMAP フォルダを1回取り込み、期限の来た返信を送信",
                "renkei-intake --config config.toml poll --once")
    poll.add_argument("--once", action="store_true", required=True, help="1回だけ実行する")

    verb("run", cmd_run, "常駐して定期的に取り込み・送信する(APScheduler)",
         "renkei-intake --config /etc/renkei-intake/config.toml run")

    export = verb("export", cmd_export, "台帳の内容を書き出す",
                  "renkei-intake export submissions --format jsonl --output subs.jsonl")
    export.add_argument("what", choices=["submissions"])
    export.add_argument("--format", choices=["jsonl", "csv", "xlsx"], default="jsonl")
    export.add_argument("--output", type=Path, help="出力ファイル(省略時は標準出力)")

    reprocess = verb("reprocess", cmd_reprocess, "規則や様式マップの変更後、保存済みのメールから再判定する",
                     "renkei-intake reprocess --since 2022-08-20")
    which = reprocess.add_mutually_exclusive_group(required=True)
    which.add_argument("--submission", type=int, metavar="ID", help="この申請だけ")
    which.add_argument("--since", type=_date_arg, metavar="DATE", help="この日(JST)以降に受け付けた申請")
    which.add_argument("--all", action="store_true", help="すべての申請")

    check = verb("check", cmd_check, "様式・zip・.eml を台帳なしで規則に照らして確認する(不備があれば終了コード 1)",
                 "renkei-intake check examples/forms/*.xlsx")
    check.add_argument("files", nargs="+", type=Path, metavar="FILE")
    check.add_argument("--json", action="store_true",
                       help="1ファイル1行の JSON で出力する(file, codes, findings)")

    verb("findings", cmd_findings, "指摘コードの一覧と意味", "renkei-intake findings")

    status = verb("status", cmd_status, "状態ごとの件数、最終取得時刻、返信期限",
                  "renkei-intake status")
    status.add_argument("--json", action="store_true", help="JSON で出力する")
    outbox_cmd.add_parser(verbs)
    ledger_cmd.add_parser(verbs)
    quarantine_cmd.add_parser(verbs)
    serve.add_parser(verbs)
    return parser


def cmd_replay(args: argparse.Namespace, settings: Settings) -> int:
    if args.ledger:
        settings = dataclasses.replace(settings, ledger_path=args.ledger)
    imap = args.source.startswith(("imap://", "imaps://"))
    server = server_from_url(args.source, settings.imap) if imap else None
    source = None if imap else open_source(args.source)
    with app.exclusive(settings.ledger_path):
        ledger = app.open_ledger(settings)
        pipeline = app.make_pipeline(settings, ledger, dry_run=args.dry_run)
        what = f"IMAP {args.source}" if imap else source.description
        print(f"{what} を {settings.ledger_path} に取り込みます(送信はしません)", file=sys.stderr)
        report = app.fetch_pass(pipeline, server) if server else app.replay(pipeline, source)
    print(f"replay: {report.summary()}")
    if report.files:
        where = settings.outbox_dir / "dry-run" if args.dry_run else settings.outbox_dir
        print(f"返信 {len(report.files)} 通を {where} に .eml で書き出しました")
    return 0


def cmd_poll(args: argparse.Namespace, settings: Settings) -> int:
    with app.exclusive(settings.ledger_path):
        ledger = app.open_ledger(settings)
        pipeline = app.make_pipeline(settings, ledger)
        report = app.poll_once(pipeline)
        sent = app.send_pass(settings, ledger)
    print(f"poll: {report.summary()}")
    if sent is not None:
        print(outbox_cmd.summary(sent))
    return 0


def cmd_run(args: argparse.Namespace, settings: Settings) -> int:
    from ingest.daemon import run_daemon

    return run_daemon(settings)


def cmd_export(args: argparse.Namespace, settings: Settings) -> int:
    ledger = app.open_ledger(settings)
    if args.format == "xlsx":
        if args.output is None:
            print("renkei-intake: --format xlsx には --output FILE が必要です", file=sys.stderr)
            return 2
        count = write_xlsx(ledger, args.output)
        print(f"{count} 件を {args.output} に書き出しました", file=sys.stderr)
        return 0
    rows = queries.submissions(ledger)
    writer = write_jsonl if args.format == "jsonl" else write_csv
    if args.output:
        with args.output.open("w", encoding="utf-8", newline="") as out:
            count = writer(rows, out)
        print(f"{count} 件を {args.output} に書き出しました", file=sys.stderr)
    else:
        writer(rows, sys.stdout)
    return 0


def cmd_reprocess(args: argparse.Namespace, settings: Settings) -> int:
    from ingest.reprocess import reprocess, select

    with app.exclusive(settings.ledger_path):
        ledger = app.open_ledger(settings)
        pipeline = app.make_pipeline(settings, ledger)
        chosen = select(pipeline, submission=args.submission, since=args.since)
        if args.submission is not None and not chosen:
            print(f"renkei-intake: 申請 {args.submission} はありません", file=sys.stderr)
            return 2
        report = reprocess(pipeline, chosen)
        if settings.smtp is None:
            write_files(ledger, settings.outbox_dir)
    for submission, before, after in report.changed:
        print(f"申請 {submission}: {' '.join(before) or '(指摘なし)'} → {' '.join(after) or '(指摘なし)'}")
    print(f"reprocess: {report.summary()}")
    return 0


def _date_arg(value: str) -> datetime:
    try:
        return datetime.combine(date.fromisoformat(value), time(0), tzinfo=JST)
    except ValueError:
        raise argparse.ArgumentTypeError(f"日付は YYYY-MM-DD で指定してください: {value}") from None


def cmd_check(args: argparse.Namespace, settings: Settings) -> int:
    return run_check(args.files, settings.program, settings.form_map, sys.stdout,
                     as_json=args.json)


def cmd_findings(args: argparse.Namespace, settings: Settings) -> int:
    print_catalog(sys.stdout)
    return 0


def cmd_status(args: argparse.Namespace, settings: Settings) -> int:
    ledger = app.open_ledger(settings)
    counts = queries.status_counts(ledger)
    if args.json:
        alarms = health.warnings(settings, ledger)
        print(json.dumps({**counts, "warnings": alarms}, ensure_ascii=False, indent=2))
        return 1 if alarms else 0
    print(f"台帳: {settings.ledger_path}")
    for title, key in (("メール", "messages"), ("申請", "submissions"), ("返信", "replies")):
        parts = ", ".join(f"{k} {v}" for k, v in sorted(counts[key].items())) or "なし"
        print(f"{title}: {parts}")
    print(f"返信待ち: {counts['replies_due']} (うち期限超過 {counts['replies_overdue']})")
    beats = counts["heartbeats"]
    for name, at in sorted(beats.items()):
        print(f"最終取得 {name}: {at}")
    if not beats:
        print("最終取得: まだ IMAP から取得していません")
    alarms = health.warnings(settings, ledger)
    for alarm in alarms:
        print(f"警告: {alarm}")
    return 1 if alarms else 0  # monitoring scripts alarm on a non-zero status


if __name__ == "__main__":
    sys.exit(main())
