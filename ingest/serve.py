"""`serve`: the ledger in the browser, read-only, through Datasette.

Datasette opens the ledger with `?mode=ro` (not `immutable=1`: the daemon keeps writing while
staff browse, and an immutable open would ignore the WAL and show stale or torn pages). It is
bound to 127.0.0.1 unless told otherwise, because the ledger holds applicants' personal data.
The metadata gives every table and view a Japanese title and description and adds canned
queries for what staff ask (the same views the `ledger` verbs read). Mails are searched in the
console's 申請一覧 only, with `ledger search`'s words-ANDed search: the explorer has no search
of its own that would answer differently.
"""

from __future__ import annotations

import argparse
import errno
import ipaddress
import socket
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from ingest import app
from ingest.config import Settings
from ingest.screen import os_reason
from state import labels

TITLE = "連携補助金 受付台帳"
IDLE_MINUTES = 30.0

def metadata(database: str) -> dict[str, Any]:
    """Datasette metadata for a ledger served under the name `database`."""
    return {
        "title": TITLE,
        "description": "令和4年度「共創型サービスIT連携支援補助金」事務局メールボックスの受付記録"
                       "(読み取り専用)。時刻の列は UTC、名前が _jst で終わる列は日本時間です。",
        "databases": {database: {
            "title": TITLE,
            "tables": _tables(),
            "queries": _queries(),
        }},
    }


def _tables() -> dict[str, Any]:
    return {
        "submissions_overview": {
            "title": "申請一覧",
            "description": "申請(版)ごとに1行、新しい順。status=処理状態 "
                           f"({_legend(labels.SUBMISSION_STATE)})、outcome=結果 "
                           f"({_legend(labels.OUTCOME)})、"
                           "mails=メール数、files=添付ファイル数、deficiencies=不備の数、"
                           "finding_codes=指摘コード、replies=返信(種類:状態)、"
                           "superseded_by=この版を置き換えた新しい版、first_received_jst="
                           "最初のメールの受信日時(日本時間)。",
            "sort_desc": "id",
        },
        "missing_documents": {
            "title": "不足書類",
            "description": "最新版の申請で添付されていない必要書類(DOCUMENT_MISSING の指摘)。"
                           "document=書類キー、member=構成員、detail=内容。",
        },
        "overdue_replies": {
            "title": "返信期限超過",
            "description": "返信期限(受信の翌営業日の終わり)を過ぎても送信されていない返信。"
                           "due_jst=期限(日本時間)、attempts=送信試行回数。",
        },
        "daily_counts": {
            "title": "日別件数",
            "description": "日本時間の日付ごとの受信メール数、隔離数、申請数(最初のメールの日)、"
                           "結果別の数、送信した返信の数。",
        },
        "submissions": {"title": "申請(表)", "description": "申請の版ごとの行。",
                        "label_column": "consortium"},
        "messages": {"title": "メール", "description": "受信したすべてのメール。state=状態 "
                     f"({_legend(labels.MESSAGE_STATE)})。メールの検索は申請一覧(/)の検索欄で"
                     "(ledger search と同じ検索)。",
                     "label_column": "subject"},
        "attachments": {"title": "添付ファイル", "description": "メールと圧縮ファイルの中のファイル。"},
        "findings": {"title": "指摘", "description": "チェックの結果(SPEC §4 のコード)。severity="
                     f"区分 ({_legend(labels.SEVERITY)})。"},
        "replies": {"title": "返信", "description": "受付確認・不備連絡などの返信と送信状況。kind=種類 "
                    f"({_legend(labels.REPLY_KIND)})、status=状態 "
                    f"({_legend(labels.REPLY_STATUS)})。"},
        "events": {"title": "履歴", "description": "状態の変化と操作の記録。"},
        "heartbeat": {"title": "取得状況", "description": "メールボックスごとの最終取得時刻。"},
        "imap_seen": {"title": "IMAP 取得記録", "hidden": True},
        "archive_passwords": {"title": "圧縮ファイルのパスワード", "hidden": True},
        "message_search": {"hidden": True},
        "message_search_terms": {"hidden": True},
        "message_search_source": {"hidden": True},
        "_sqlite_migrations": {"hidden": True},
        "console_sessions": {"hidden": True},
        "console_sign_in_failures": {"hidden": True},
    }


def _legend(vocabulary: Mapping[str, str]) -> str:
    """"complete=不備なし / deficient=不備あり": the Japanese of each code shown in a column."""
    return " / ".join(f"{code}={text}" for code, text in vocabulary.items())


def _queries() -> dict[str, Any]:
    return {
        "overview": {
            "title": "申請一覧(新しい順)",
            "sql": "SELECT * FROM submissions_overview ORDER BY id DESC",
            "description": "すべての申請を新しい順に。",
        },
        "by_status": {
            "title": "状態・結果で絞り込み",
            "sql": "SELECT * FROM submissions_overview WHERE status = :status "
                   "OR outcome = :status ORDER BY id DESC",
            "description": f"処理状態 ({_legend(labels.SUBMISSION_STATE)}) または結果 "
                           f"({_legend(labels.OUTCOME)}) の英語のコードを入力。",
        },
        "missing": {
            "title": "この書類が不足している申請",
            "sql": "SELECT * FROM missing_documents WHERE document = :document "
                   "ORDER BY submission_id DESC",
            "description": "書類キー(application, overview, member_info, pledge, checklist, "
                           "registry, tax)を入力。",
        },
        "overdue": {
            "title": "返信期限超過",
            "sql": "SELECT * FROM overdue_replies ORDER BY due_at",
            "description": "期限を過ぎた未送信の返信。",
        },
        "daily": {
            "title": "日別件数",
            "sql": "SELECT * FROM daily_counts ORDER BY day DESC",
            "description": "日本時間の日付ごと。",
        },
        "quarantine": {
            "title": "隔離中のメール",
            "sql": "SELECT id, datetime(received_at, '+9 hours') AS received_jst, from_addr, "
                   "subject, size, problem FROM messages WHERE state = 'quarantined' "
                   "ORDER BY received_at",
            "description": "処理できなかったメール。renkei-intake quarantine release ID で再処理。",
        },
    }


def make_datasette(ledger_path: Path) -> Any:
    """A Datasette app on the ledger file, opened read-only (mode=ro), with our metadata."""
    from datasette.app import Datasette

    from ingest.console_plugin import TEMPLATES

    return Datasette(
        files=[str(ledger_path)],
        metadata=metadata(ledger_path.stem),
        template_dir=str(TEMPLATES),
        settings={"default_page_size": 100, "sql_time_limit_ms": 3000,
                  "allow_download": False, "suggest_facets": False},
    )


def make_console(settings: Settings, *, idle_minutes: float = IDLE_MINUTES) -> Any:
    """The staff console: Datasette with the console plugin, every page behind a sign-in."""
    from ingest.console_plugin import install

    datasette = make_datasette(settings.ledger_path)
    install(datasette, settings, idle_minutes=idle_minutes)
    return datasette


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def add_parser(verbs: Any) -> None:
    """Add the `serve` verb to the CLI's subparsers action."""
    serve = verbs.add_parser(
        "serve", help="台帳を読み取り専用の Web 画面(Datasette)で開く",
        description="台帳を読み取り専用の Web 画面(Datasette)で開く。"
                    "既定では このコンピューター(127.0.0.1)からのみ接続できます",
        epilog="例: renkei-intake serve --port 8001  → http://127.0.0.1:8001/",
        formatter_class=argparse.RawDescriptionHelpFormatter)
    serve.add_argument("--host", default="127.0.0.1", metavar="ADDRESS",
                       help="待ち受けるアドレス(既定 127.0.0.1。他のPCに公開する場合のみ変更)")
    serve.add_argument("--port", type=_port, default=8001, metavar="PORT", help="ポート番号(既定 8001)")
    serve.add_argument("--allow-remote", action="store_true",
                       help="127.0.0.1 以外のアドレスで待ち受けることを許す(TLS のリバースプロキシの"
                            "内側でだけ使ってください。README 参照)")
    serve.add_argument("--idle-minutes", type=_minutes, default=IDLE_MINUTES, metavar="MINUTES",
                       help=f"操作がないままこの分数が過ぎたらサインアウトする(既定 {IDLE_MINUTES})")
    serve.set_defaults(handler=cmd_serve)


def _minutes(value: str) -> float:
    try:
        minutes = float(value)
    except ValueError:
        minutes = 0.0
    if not 0 < minutes <= 24 * 60:  # nan fails too
        raise argparse.ArgumentTypeError(f"分数は 0 より大きく 1440 以下で指定してください: {value}")
    return minutes


def _port(value: str) -> int:
    try:
        port = int(value)
    except ValueError:
        port = 0
    if not 1 <= port <= 65535:
        raise argparse.ArgumentTypeError(f"ポート番号は 1〜65535 の整数で指定してください: {value}")
    return port


def cmd_serve(args: argparse.Namespace, settings: Settings) -> int:
    try:
        import uvicorn
    except ImportError:
        print("renkei-intake: serve には datasette が必要です: pip install datasette",
              file=sys.stderr)
        return 2
    if not is_loopback(args.host) and not args.allow_remote:
        print(f"renkei-intake: {args.host} で待ち受けると他のコンピューターから台帳(個人情報)に"
              "接続できてしまいます。TLS のリバースプロキシの内側で使う場合だけ --allow-remote を"
              "付けてください(README の「Staff on other machines: behind a TLS reverse proxy」"
              "を参照)", file=sys.stderr)
        return 2
    # Open once with the application so the migrations (the views) are in place; the explorer
    # only ever reads, the console writes through the same functions as the CLI. A missing
    # ledger is an error: serve never creates one.
    ledger = app.open_existing_ledger(settings)
    has_accounts = bool(ledger.db["staff_accounts"].count)
    ledger.close()
    if problem := port_problem(args.host, args.port):
        print(f"renkei-intake: {problem}", file=sys.stderr)
        return 2
    datasette = make_console(settings, idle_minutes=args.idle_minutes)
    print(f"台帳 {settings.ledger_path} の事務局画面を http://{args.host}:{args.port}/ で開きます"
          "(職員アカウントでサインイン、Ctrl-C で終了)", file=sys.stderr)
    if not has_accounts:
        print("renkei-intake: 職員アカウントがまだありません。renkei-intake staff add 名前 で"
              "作成してください", file=sys.stderr)
    # proxy_headers: behind the reverse proxy on this host, the client address and https come
    # from X-Forwarded-For/-Proto (trusted from 127.0.0.1 only, uvicorn's default).
    uvicorn.run(datasette.app(), host=args.host, port=args.port, log_level="warning",
                proxy_headers=True)
    return 0


def port_problem(host: str, port: int) -> str | None:
    """Why the web server could not listen on host:port (in use, no permission, unknown
    address), asked before the address is announced; None when it can."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError, OverflowError):
        return f"アドレス {host} が見つかりません。--host を確認してください"
    family, kind, proto, _, address = infos[0]
    with socket.socket(family, kind, proto) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as uvicorn binds
        try:
            probe.bind(address)
        except OSError as exc:
            if exc.errno == errno.EADDRINUSE:
                return (f"ポート {port} は他のプログラムが使用中です。--port で別の番号"
                        "(例: --port 8002)を指定してください")
            return f"{host}:{port} で待ち受けできません: {os_reason(exc)}"
    return None
