"""Declaring CLI verbs the same way everywhere: help, description and an example on each."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from typing import Any

from ingest.config import Settings

Handler = Callable[[argparse.Namespace, Settings], int]


def add_verb(subparsers: Any, name: str, handler: Handler, help_text: str, example: str,
             *, description: str | None = None) -> argparse.ArgumentParser:
    parser = subparsers.add_parser(
        name, help=help_text, description=description or help_text, epilog=f"例: {example}",
        formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.set_defaults(handler=handler)
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
