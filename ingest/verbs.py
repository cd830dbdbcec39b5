"""Declaring CLI verbs the same way everywhere: help, description and an example on each."""

from __future__ import annotations

import argparse
import re
from collections.abc import Callable
from typing import Any

from ingest.config import Settings

Handler = Callable[[argparse.Namespace, Settings], int]


def add_verb(subparsers: Any, name: str, handler: Handler, help_text: str, example: str,
             *, description: str | None = None) -> argparse.ArgumentParser:
    parser = subparsers.add_parser(
        name, help=help_text, description=description or help_text, epilog=f"例: {example}",
        formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.set_defaults(handler=handler, verb_prog=parser.prog)  # whose help an error names
    return parser


def add_group(subparsers: Any, name: str, help_text: str, example: str, metavar: str,
              *, description: str | None = None) -> Any:
    """A verb with sub-verbs (`ledger show`, `outbox approve`); alone it prints its help."""
    parser = add_verb(subparsers, name, lambda args, settings: 0, help_text, example,
                      description=description)
    parser.set_defaults(handler=_print_help(parser))
    return parser.add_subparsers(metavar=metavar)


def _print_help(parser: argparse.ArgumentParser) -> Handler:
    def handler(args: argparse.Namespace, settings: Settings) -> int:
        parser.print_help()
        return 2
    return handler


# --- Japanese help and errors -----------------------------------------------------------------
# argparse writes its own words ("usage:", "options", "show this help message and exit", its
# error sentences) through gettext, in English unless a catalogue is installed. Staff read
# Japanese, so the parser sets every such word itself.

class JapaneseHelpFormatter(argparse.RawDescriptionHelpFormatter):
    def add_usage(self, usage: Any, actions: Any, groups: Any, prefix: str | None = None) -> None:
        super().add_usage(usage, actions, groups, prefix if prefix is not None else "使い方: ")


_ERRORS: tuple[tuple[str, str], ...] = (
    (r"the following arguments are required: (.+)", r"次の引数が必要です: \1"),
    (r"unrecognized arguments: (.+)", r"不明な引数です: \1"),
    (r"argument (\S+): invalid choice: '?(.*?)'? \(choose from (.+)\)",
     r"\1 に \2 は指定できません(指定できるもの: \3)"),
    (r"argument (\S+): invalid int value: '?(.*?)'?$", r"\1 には整数を指定してください(\2)"),
    (r"argument (\S+): invalid (\w+) value: '?(.*?)'?$", r"\1 の値が正しくありません(\3)"),
    (r"argument (\S+): expected one argument", r"\1 には値を1つ指定してください"),
    (r"argument (\S+): expected at least one argument", r"\1 には値を1つ以上指定してください"),
    (r"argument (\S+): not allowed with argument (\S+)", r"\1 と \2 は同時に指定できません"),
    (r"one of the arguments (.+) is required", r"\1 のどれか1つを指定してください"),
    (r"argument (\S+): ignored explicit argument '?(.*?)'?$", r"\1 は値をとりません(\2)"),
    (r"argument (\S+): (.+)", r"\1: \2"),
)


class JapaneseArgumentParser(argparse.ArgumentParser):
    """An ArgumentParser whose help and errors are in Japanese; sub-verbs inherit it."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs["formatter_class"] = JapaneseHelpFormatter
        kwargs["add_help"] = False
        super().__init__(*args, **kwargs)
        self._positionals.title = "引数"
        self._optionals.title = "オプション"
        self.add_argument("-h", "--help", action="help", default=argparse.SUPPRESS,
                          help="このヘルプを表示して終了する")

    def parse_args(self, args: Any = None, namespace: Any = None) -> Any:  # type: ignore[override]
        """An unknown argument of a verb points to that verb's help, not the program's."""
        parsed, extras = self.parse_known_args(args, namespace)
        if extras:
            prog = getattr(parsed, "verb_prog", self.prog)
            self.exit(2, f"{prog}: 不明な引数です: {' '.join(extras)}。"
                         f"使い方は {prog} --help で表示します\n")
        return parsed

    def error(self, message: str) -> Any:  # type: ignore[override]
        """One Japanese sentence and the command that shows the help, exit status 2."""
        for pattern, japanese in _ERRORS:
            if re.fullmatch(pattern, message):
                message = re.sub(pattern, japanese, message)
                break
        self.exit(2, f"{self.prog}: {message}。使い方は {self.prog} --help で表示します\n")
