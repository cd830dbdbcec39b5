"""The renkei-intake command line. Verbs and flags are a contract with staff scripts."""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import sqlite3
import sys
from datetime import date, datetime, time
from importlib import metadata
from pathlib import Path

from ingest import app, health, ledger_cmd, outbox_cmd, quarantine_cmd, serve, staff_cmd
from ingest.check_cmd import run_check
from ingest.config import ConfigError, Settings, load_settings
from ingest.errors import OperatorError
from ingest.export import ExportError, csv_bytes, write_atomically, write_jsonl
from ingest.export_xlsx import write_xlsx
from ingest.imap_source import MailboxError, server_from_url
from ingest.screen import cell, jst, os_error_sentence, table
from ingest.sources import SourceError, open_source
from ingest.verbs import Handler, JapaneseArgumentParser, add_verb
from replies.connection import SecretError, ServerUnavailable
from replies.outbox import write_files
from replies.render import TemplateProblem
from rules.calendar import JST
from rules.findings import CATALOG
from state import queries
from state.blobs import BlobStoreError
from state.labels import VOCABULARIES, label
from state.ledger import LedgerError
from state.staff_accounts import StaffAccountError

# Errors an operator can act on: printed as one sentence, exit status 2, no traceback.
OPERATOR_ERRORS = (ConfigError, SourceError, MailboxError, LedgerError, SecretError,
                   TemplateProblem, app.BusyError, ServerUnavailable, BlobStoreError,
                   ExportError, OperatorError, StaffAccountError)


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not hasattr(args, "handler"):
        parser.print_help()
        return 2
    try:
        settings = load_settings(args.config)
        if args.handler is cmd_run:  # the daemon stops between mails on SIGTERM by itself
            return args.handler(args, settings)
        with app.stop_on_sigterm():
            return args.handler(args, settings)
    except OPERATOR_ERRORS as exc:
        print(f"renkei-intake: {exc}", file=sys.stderr)
        return 2
    except sqlite3.OperationalError as exc:
        if "locked" not in str(exc):
            raise
        # Another program kept the ledger locked longer than [ledger] busy_timeout_seconds.
        print("renkei-intake: 台帳が他のプログラムにロックされたままのため書き込めませんでした"
              f"({exc})。台帳を開いている別のプログラムを終了してから再実行してください"
              "(記録できなかったメールは次回の実行で取り込みます)", file=sys.stderr)
        return 2
    except BrokenPipeError:
        # The reader (head, less) went away; that is not an error of ours.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    except app.Stopped:
        print("renkei-intake: 停止の指示(SIGTERM)を受けて途中で終了しました(記録・判定を終えた分は台帳にあり、"
              "残りは次回の実行で続きから処理します)", file=sys.stderr)
        return app.STOPPED_EXIT
    except OSError as exc:
        # A path the operator gave (or configured) that cannot be used: a folder where a file
        # belongs, no permission, a full disk. The path and the reason, in one sentence.
        print(f"renkei-intake: 書き込み・読み込みができません({os_error_sentence(exc)})。"
              "パスと権限を確認してください", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("renkei-intake: 中断しました(処理済みのメールは台帳に記録済みです)", file=sys.stderr)
        return 130


def build_parser() -> argparse.ArgumentParser:
    parser = JapaneseArgumentParser(
        prog="renkei-intake",
        description="共創型サービスIT連携支援補助金 事務局メールボックスの受付処理",
        epilog="各コマンドの使い方: renkei-intake VERB --help",
    )
    parser.add_argument("--config", type=Path, default=None, metavar="FILE",
                        help="設定ファイル(省略時は ./config.toml、なければ組み込みの既定値)")
    parser.add_argument("--version", action="version", version=f"%(prog)s {_version()}",
                        help="バージョンを表示して終了する")
    verbs = parser.add_subparsers(metavar="VERB", title="コマンド")

    def verb(name: str, handler: Handler, help_text: str, example: str) -> argparse.ArgumentParser:
        return add_verb(verbs, name, handler, help_text, example)

    replay = verb("replay", cmd_replay, "Maildir / mbox / .eml(フォルダ)を台帳に取り込む",
                  "renkei-intake replay examples/mailbox --dry-run")
    replay.add_argument("source", metavar="SOURCE", help="Maildir、mbox ファイル、.eml ファイルまたはそのフォルダ、"
                        "または imap://ユーザー@ホスト/フォルダ")
    replay.add_argument("--ledger", type=Path, metavar="FILE",
                        help="台帳ファイル(設定の paths.ledger より優先)。設定ファイルに paths.blobs / "
                             "paths.outbox がなければ、保存領域と outbox もこの台帳の隣"
                             "(名前-blobs/、名前-outbox/)に置きます")
    replay.add_argument("--dry-run", action="store_true",
                        help="返信を outbox/dry-run/ に .eml で描画するだけで、送信キューに入れない")

    poll = verb("poll", cmd_poll, "設定した IMAP フォルダを1回取り込み、期限の来た返信を送信",
                "renkei-intake --config config.toml poll --once")
    poll.add_argument("--once", action="store_true",
                      help="1回だけ取り込み・送信して終了する(必須。常駐させるときは run)")

    verb("run", cmd_run, "常駐して定期的に取り込み・送信する(APScheduler)",
         "renkei-intake --config /etc/renkei-intake/config.toml run")

    export = verb("export", cmd_export, "台帳の内容を書き出す",
                  "renkei-intake export submissions --format jsonl --output subs.jsonl")
    export.add_argument("what", choices=["submissions"], metavar="WHAT",
                        help="書き出す内容(submissions: 申請)")
    export.add_argument("--format", choices=["jsonl", "csv", "xlsx"], default="jsonl",
                        metavar="FORMAT", help="jsonl(既定、スクリプト向け)、csv、xlsx(Excel)")
    export.add_argument("--output", type=Path, metavar="FILE", help="出力ファイル(省略時は標準出力)")
    export.add_argument("--encoding", choices=["utf-8", "cp932"], default="utf-8", metavar="ENCODING",
                        help="CSV の文字コード: utf-8(既定、BOM 付きで Excel がそのまま開けます)"
                             "または cp932(Shift_JIS)")
    export.add_argument("--header", choices=["japanese", "codes"], default="japanese",
                        metavar="HEADER",
                        help="CSV の見出しと値: japanese(既定、日本語の見出し・日本時間)または codes"
                             "(英語のキーとコード、スクリプト向け)")

    reprocess = verb("reprocess", cmd_reprocess, "規則や様式マップの変更後、保存済みのメールから再判定する",
                     "renkei-intake reprocess --since 2022-08-20")
    which = reprocess.add_mutually_exclusive_group(required=True)
    which.add_argument("--submission", type=int, metavar="ID", help="この申請だけ")
    which.add_argument("--since", type=_date_arg, metavar="DATE",
                       help="この日(JST、YYYY-MM-DD)以降に受信したメールの申請")
    which.add_argument("--all", action="store_true", help="すべての申請")

    check = verb("check", cmd_check, "様式・zip・.eml を台帳なしで規則に照らして確認する(不備があれば終了コード 1)",
                 "renkei-intake check examples/forms/*.xlsx")
    check.add_argument("files", nargs="+", type=Path, metavar="FILE",
                       help="確認するファイル。フォルダを指定するとその中のファイルを1つずつ確認します")
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
    staff_cmd.add_parser(verbs)
    return parser


def cmd_replay(args: argparse.Namespace, settings: Settings) -> int:
    if args.ledger:
        settings = with_ledger(settings, args.ledger)
    imap = args.source.startswith(("imap://", "imaps://"))
    server = server_from_url(args.source, settings.imap) if imap else None
    source = None if imap else open_source(args.source)
    with app.exclusive(settings.ledger_path):
        ledger = app.open_ledger(settings)
        pipeline = app.make_pipeline(settings, ledger, dry_run=args.dry_run)
        what = f"IMAP {args.source}" if imap else source.description
        print(f"{what} を {settings.ledger_path} に取り込みます(送信はしません)", file=sys.stderr)
        report = app.fetch_pass(pipeline, server) if server else app.replay(pipeline, source)
        waiting = app.waiting_for_staff(settings, ledger)
    for ref, reason in report.skipped_files:
        print(f"取り込まなかったファイル: {ref}({reason})", file=sys.stderr)
    print(f"replay: {report.summary()}")
    if report.files:
        where = settings.outbox_dir / "dry-run" if args.dry_run else settings.outbox_dir
        print(f"返信 {len(report.files)} 通を {where} に .eml で書き出しました")
    for line in waiting:
        print(line)
    return 0


def with_ledger(settings: Settings, ledger: Path) -> Settings:
    """`--ledger PATH`: the blobs and the outbox go beside that ledger (PATH-blobs/,
    PATH-outbox/) unless the config names them, so two ledgers never share outbox files."""
    if ledger.resolve() == settings.ledger_path.resolve():
        return settings
    stem = ledger.with_suffix("") if ledger.suffix else ledger
    return dataclasses.replace(
        settings, ledger_path=ledger,
        blobs_dir=settings.blobs_dir if "blobs" in settings.paths_given
        else stem.with_name(stem.name + "-blobs"),
        outbox_dir=settings.outbox_dir if "outbox" in settings.paths_given
        else stem.with_name(stem.name + "-outbox"))


def cmd_poll(args: argparse.Namespace, settings: Settings) -> int:
    if not args.once:
        print("renkei-intake: poll は --once を付けて使います(renkei-intake poll --once: IMAP から"
              "1回取り込み、期限の来た返信を送信して終了)。常駐させるときは renkei-intake run "
              "を使います", file=sys.stderr)
        return 2
    with app.exclusive(settings.ledger_path):
        ledger = app.open_ledger(settings)
        pipeline = app.make_pipeline(settings, ledger)
        try:
            report = app.poll_once(pipeline)
        except health.POLL_FAILURES as exc:  # a cron job's failed poll is a warning too
            health.poll_failed(ledger, settings.imap, exc)
            raise
        sent = app.send_pass(settings, ledger)
        waiting = app.waiting_for_staff(settings, ledger)
    print(f"poll: {report.summary()}")
    if sent is not None:
        print(outbox_cmd.summary(sent))
    for line in waiting:
        print(line)
    return 0


def cmd_run(args: argparse.Namespace, settings: Settings) -> int:
    from ingest.daemon import run_daemon

    if settings.imap is None:  # as poll --once: a daemon with no mailbox would only idle
        raise MailboxError("[imap] が設定されていないため常駐できません(config.example.toml を参照)")
    return run_daemon(settings)


def cmd_export(args: argparse.Namespace, settings: Settings) -> int:
    if args.format == "xlsx" and args.output is None:
        print("renkei-intake: --format xlsx には --output FILE が必要です", file=sys.stderr)
        return 2
    ledger = app.open_existing_ledger(settings)
    if args.format == "xlsx":
        count = write_xlsx(ledger, args.output, settings.program)
        print(f"{count} 件を {args.output} に書き出しました", file=sys.stderr)
        return 0
    rows = queries.submissions(ledger)
    if args.format == "jsonl":
        if args.output:
            with args.output.open("w", encoding="utf-8", newline="") as out:
                count = write_jsonl(rows, out)
            print(f"{count} 件を {args.output} に書き出しました", file=sys.stderr)
        else:
            write_jsonl(rows, sys.stdout)
        return 0
    data = csv_bytes(list(rows), encoding=args.encoding, codes=args.header == "codes")
    if args.output:
        write_atomically(args.output, data.content)
        print(f"{data.count_rows} 件を {args.output} に書き出しました"
              f"({data.encoding_name})", file=sys.stderr)
    else:
        sys.stdout.flush()
        sys.stdout.buffer.write(data.content)
        sys.stdout.buffer.flush()
    return 0


def cmd_reprocess(args: argparse.Namespace, settings: Settings) -> int:
    from ingest.reprocess import reprocess, select

    app.require_ledger(settings)  # nothing to do on a ledger that is not there
    with app.exclusive(settings.ledger_path):
        ledger = app.open_ledger(settings)
        pipeline = app.make_pipeline(settings, ledger)
        chosen = select(pipeline, submission=args.submission, since=args.since)
        if args.since is not None and not chosen:
            print(f"{args.since:%Y-%m-%d} 以降に受信したメールの申請はありません")
        if args.submission is not None and not chosen:
            print(f"renkei-intake: 申請 {args.submission} はありません", file=sys.stderr)
            return 2
        report = reprocess(pipeline, chosen)
        if settings.smtp is None:
            write_files(ledger, settings.outbox_dir)
        waiting = app.waiting_for_staff(settings, ledger)
    for submission, before, after in report.changed:
        print(f"申請 {submission}: {' '.join(before) or '(指摘なし)'} → {' '.join(after) or '(指摘なし)'}")
    print(f"reprocess: {report.summary()}")
    for line in waiting:
        print(line)
    return 1 if report.set_aside else 0


def _date_arg(value: str) -> datetime:
    try:
        return datetime.combine(date.fromisoformat(value.replace("/", "-")), time(0), tzinfo=JST)
    except ValueError:
        raise argparse.ArgumentTypeError(f"日付は YYYY-MM-DD で指定してください: {value}") from None


def cmd_check(args: argparse.Namespace, settings: Settings) -> int:
    return run_check(args.files, settings.program, settings.form_map, sys.stdout,
                     limits=settings.limits, as_json=args.json)


def cmd_findings(args: argparse.Namespace, settings: Settings) -> int:
    """Every finding code with its severity (the same words as the ledger), meaning and fix."""
    print(table(("コード", "区分", "意味", "申請者の対応"), (
        (code, label("severity", info.severity), info.meaning, info.fix)
        for code, info in CATALOG.items())))
    return 0


def cmd_status(args: argparse.Namespace, settings: Settings) -> int:
    ledger = app.open_existing_ledger(settings)
    counts = queries.status_counts(ledger)
    if args.json:
        alarms = health.warnings(settings, ledger)
        print(json.dumps({**counts, "display_states": queries.display_counts(ledger),
                          "warnings": alarms}, ensure_ascii=False, indent=2))
        return 1 if alarms else 0
    print(f"台帳: {settings.ledger_path}")
    displayed = queries.display_counts(ledger)
    for title, vocabulary, found in (("メール", "message_state", counts["messages"]),
                                     ("申請", "display_state", displayed),
                                     ("返信", "reply_status", counts["replies"])):
        order = list(VOCABULARIES[vocabulary])
        parts = "、".join(f"{label(vocabulary, k)} {v}" for k, v in sorted(
            found.items(), key=lambda kv: order.index(kv[0]) if kv[0] in order else 99)) or "なし"
        print(f"{title}: {parts}")
    print(f"未送信の返信: {counts['replies_due']} 通(うち期限超過 {counts['replies_overdue']} 通)")
    beats = counts["heartbeats"]
    for name, at in sorted(beats.items()):
        print(f"最終取得 {cell(name)}: {jst(at)} (JST)")
    if not beats:
        print("最終取得: まだ IMAP から取得していません")
    for line in app.waiting_for_staff(settings, ledger):
        print(line)
    alarms = health.warnings(settings, ledger)
    for alarm in alarms:
        print(f"警告: {alarm}")
    return 1 if alarms else 0  # monitoring scripts alarm on a non-zero status


def _version() -> str:
    try:
        return metadata.version("renkei-intake")
    except metadata.PackageNotFoundError:
        return "(開発版)"


if __name__ == "__main__":
    sys.exit(main())
