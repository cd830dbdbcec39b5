"""`staff add | list | disable`: the accounts that may sign in to the web console (`serve`).

A password is never taken on the command line (it would stay in the shell history and the
process list): it comes from a file, from a terminal prompt typed twice, or from the first
line of standard input when that is not a terminal (for scripts).
"""

from __future__ import annotations

import argparse
import getpass
import json
import sys
from pathlib import Path
from typing import Any

from ingest import app
from ingest.config import Settings
from ingest.screen import jst, os_reason
from ingest.verbs import add_group, add_verb
from state import staff_accounts
from state.staff_accounts import StaffAccountError


def add_parser(verbs: Any) -> None:
    """Add the `staff` verb and its actions to the CLI's subparsers action."""
    actions = add_group(verbs, "staff", "Web 画面(serve)にサインインできる職員アカウントの管理",
                        "renkei-intake staff add yamada", "ACTION")
    add = add_verb(actions, "add", cmd_add, "職員アカウントを作る(パスワードは2回入力)",
                   "renkei-intake staff add yamada --password-file ~/pw.txt")
    add.add_argument("name", metavar="NAME", help="アカウント名(サインイン名。履歴に残ります)")
    add.add_argument("--password-file", type=Path, metavar="F",
                     help="パスワードを書いたファイル(1行目)。省略時は端末で入力、"
                          "端末でなければ標準入力の1行目")
    listing = add_verb(actions, "list", cmd_list, "職員アカウントの一覧", "renkei-intake staff list")
    listing.add_argument("--json", action="store_true", help="JSON Lines で出力する")
    disable = add_verb(actions, "disable", cmd_disable,
                       "職員アカウントを無効にする(サインイン中の画面も次の操作で締め出されます)",
                       "renkei-intake staff disable yamada")
    disable.add_argument("name", metavar="NAME", help="アカウント名")


def cmd_add(args: argparse.Namespace, settings: Settings) -> int:
    try:
        password = _read_password(args.password_file)
        account = staff_accounts.add(app.open_ledger(settings), args.name, password)
    except StaffAccountError as exc:
        print(f"renkei-intake: {exc}", file=sys.stderr)
        return 2
    print(f"職員アカウント {account.name} を作成しました")
    return 0


def cmd_list(args: argparse.Namespace, settings: Settings) -> int:
    found = staff_accounts.accounts(app.open_ledger(settings))
    if args.json:
        for account in found:
            print(json.dumps({"name": account.name, "enabled": account.enabled,
                              "created_at": account.created_at,
                              "disabled_at": account.disabled_at,
                              "last_login_at": account.last_login_at}, ensure_ascii=False))
        return 0
    if not found:
        print("職員アカウントはありません(renkei-intake staff add NAME で作成します)")
        return 0
    print("名前\t状態\t作成(JST)\t最終サインイン(JST)")
    for account in found:
        state = "有効" if account.enabled else f"無効({jst(account.disabled_at)}から)"
        print(f"{account.name}\t{state}\t{jst(account.created_at)}\t"
              f"{jst(account.last_login_at) or 'なし'}")
    return 0


def cmd_disable(args: argparse.Namespace, settings: Settings) -> int:
    try:
        account = staff_accounts.disable(app.open_ledger(settings), args.name)
    except StaffAccountError as exc:
        print(f"renkei-intake: {exc}", file=sys.stderr)
        return 2
    print(f"職員アカウント {account.name} を無効にしました")
    return 0


def _read_password(path: Path | None) -> str:
    if path is not None:
        try:
            lines = path.read_text(encoding="utf-8").splitlines()
        except OSError as exc:
            raise StaffAccountError(f"パスワードファイル {path} を読めません({os_reason(exc)})") from exc
        except UnicodeDecodeError:
            raise StaffAccountError(f"パスワードファイル {path} を読めません(UTF-8 で保存してください)") from None
        return lines[0] if lines else ""
    if not sys.stdin.isatty():
        return sys.stdin.readline().rstrip("\r\n")
    first = getpass.getpass("パスワード: ")
    staff_accounts.check_new_password(first)
    if getpass.getpass("もう一度: ") != first:
        raise StaffAccountError("2回入力したパスワードが一致しません。もう一度やり直してください")
    return first
