"""The checking half of the configuration: each [table] of config.toml as it is read, every
value's type and range, and all problems of a file gathered into one ConfigError with the key
named as `[table] key`, what to write, and the nearest real key for one nobody asked for.
ingest.config reads the tables through these and builds the settings with their defaults."""

from __future__ import annotations

import difflib
import re
import tomllib
from collections.abc import Callable
from typing import Any

from replies.address import is_address


class ConfigError(Exception):
    """The configuration is missing, unreadable or wrong; the message names the key."""


class Table(dict[str, Any]):
    """One [table] of config.toml. Every key the code asks for is remembered, so that a key
    nobody asked for can be reported with the nearest real one ("approve_deficiency" →
    "approve_deficiencies")."""

    def __init__(self, name: str, data: dict[str, Any], unknown: list[str] | None = None,
                 problems: list[str] | None = None) -> None:
        super().__init__(data)
        self.name = name
        self.asked: set[str] = set()
        self.unknown = unknown if unknown is not None else []  # shared by all tables of a file
        self.problems = problems if problems is not None else []  # wrong values, likewise
        self.whole = False  # read as a whole by its own reader (known_only), checked there

    def known_only(self, known: list[str]) -> dict[str, Any]:
        """For a table read as a whole ([program], [limits]): its known keys; the others are
        reported with every other unknown key, not one at a time by the reader."""
        for key in sorted(k for k in self if k not in known):
            self.unknown.append(f"[{self.name}] {key}{suggest(key, known)}")
        self.whole = True
        return {k: v for k, v in self.items() if k in known}

    def pop(self, key: str, *default: Any) -> Any:  # type: ignore[override]
        self.asked.add(key)
        return super().pop(key, *default)

    def get(self, key: str, default: Any = None) -> Any:  # type: ignore[override]
        self.asked.add(key)
        return super().get(key, default)

    def typed(self, key: str, kind: type, default: Any, check: Check | None = None) -> Any:
        """The value of `key`, or `default` with the problem noted (key, the expected type or
        range, the value written) when it has another type (`approve_deficiencies = "yes"`) or
        fails `check`; an integer is taken where a number is expected."""
        value = self.pop(key, default)
        if value is None or value is default:
            return value
        ok = (isinstance(value, int | float) and not isinstance(value, bool) if kind is float
              else isinstance(value, int) and not isinstance(value, bool) if kind is int
              else isinstance(value, kind))
        wanted = None if ok else f"{_TYPE_NAMES[kind]}で指定してください"
        if ok and check is not None:
            wanted = check(value)
        if wanted:
            self.problems.append(f"[{self.name}] {key} は{wanted}"
                                 f"(書かれている値: {toml_value(value)})")
            return default
        return float(value) if kind is float else value


# A check of a value of the right type: None when it is fine, else what is expected, as the
# end of 「KEY は…」.
Check = Callable[[Any], str | None]


def at_least(low: int) -> Check:
    return lambda v: None if v >= low else f" {low} 以上の整数で指定してください"


def between(low: int, high: int) -> Check:
    return lambda v: None if low <= v <= high else f" {low}〜{high} の整数で指定してください"


def one_of(*choices: str) -> Check:
    quoted = [f'"{c}"' for c in choices]
    words = f"{quoted[0]} か {quoted[1]} を" if len(quoted) == 2 else \
        f"{' / '.join(quoted)} のどれかを"
    return lambda v: None if v.lower() in choices else f" {words}指定してください"


def POSITIVE(value: float) -> str | None:  # noqa: N802 - used like a constant
    return None if value > 0 else " 0 より大きい数で指定してください"


def NOT_NEGATIVE(value: float) -> str | None:  # noqa: N802
    return None if value >= 0 else " 0 以上の数で指定してください"


def NOT_EMPTY(value: str) -> str | None:  # noqa: N802
    return None if value.strip() else "空にできません(使わないときは行ごと消してください)"


def ADDRESS(value: str) -> str | None:  # noqa: N802
    return None if is_address(value) else \
        " it-renkei@example.go.jp のようなメールアドレスで指定してください"


def ADDRESSES(values: list[Any]) -> str | None:  # noqa: N802
    wrong = [v for v in values if not isinstance(v, str) or ADDRESS(v)]
    if not wrong:
        return None
    return (" [\"soumu@example.go.jp\"] のようなメールアドレス(文字列)の配列で指定してください。"
            f"アドレスでない要素: {'、'.join(toml_value(v) for v in wrong)}")


_TYPE_NAMES = {bool: " true か false(引用符なし)", int: "整数", float: "数値", str: "文字列(\"…\")",
               list: "配列([…])"}


def toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return f'"{value}"'
    if isinstance(value, list):
        return "[" + ", ".join(toml_value(v) for v in value) + "]"
    return str(value)


def suggest(key: str, known: Any) -> str:
    close = difflib.get_close_matches(key, sorted(set(known)), n=1, cutoff=0.6)
    return f"({close[0]} のことですか?)" if close else ""


class Tables:
    def __init__(self, data: dict[str, Any]) -> None:
        self.data = dict(data)
        self.taken: list[Table] = []
        self.unknown: list[str] = []
        self.problems: list[str] = []

    def take(self, name: str) -> Table:
        value = self.data.pop(name, {})
        if not isinstance(value, dict):
            self.problems.append(f"[{name}] は表(テーブル)で書いてください([{name}] の行の下に"
                                 f"キー = 値 を並べます。書かれている値: {toml_value(value)})")
            value = {}
        table = Table(name, value, self.unknown, self.problems)
        self.taken.append(table)
        return table

    def done(self) -> None:
        names = [t.name for t in self.taken]
        self.unknown += [f"[{key}]{suggest(key, names)}" for key in sorted(self.data)]
        self.data.clear()

    def check_unknown(self) -> None:
        """Every key nobody asked for, in every table at once, with the nearest real key."""
        for table in self.taken:
            if table.whole:
                continue
            for key in sorted(table):
                self.unknown.append(f"[{table.name}] {key}{suggest(key, table.asked)}")
        problems = list(self.problems)
        if self.unknown:
            problems.append(f"不明な設定項目があります: {'、'.join(self.unknown)}")
        if len(problems) == 1:
            raise ConfigError(problems[0])
        if problems:
            raise ConfigError(f"設定に {len(problems)} 件の誤りがあります: "
                              + "。".join(p.rstrip("。") for p in problems))


_TOML_MESSAGES = (
    ("Invalid value", "値が正しくありません(文字列は \"…\" で囲みます)"),
    ("Invalid statement", "行の書き方が正しくありません(キー = 値 の形にします)"),
    ("Expected '=' after a key in a key/value pair", "キーの後に = がありません"),
    ("Cannot declare", "同じ表やキーが2回書かれています"),
    ("Cannot overwrite a value", "同じキーが2回書かれています"),
    ("Unclosed array", "配列の ] がありません"),
    ("Unclosed inline table", "インラインテーブルの } がありません"),
    ("Unterminated string", "文字列の閉じる引用符がありません"),
    ("Illegal character", "使えない文字があります"),
    ("Invalid initial character for a key part", "キーに使えない文字があります"),
    ("Expected newline or end of document after a statement", "1行に2つ以上の項目があります"),
    ("Invalid date or datetime", "日付・時刻が正しくありません"),
)


def toml_error_text(exc: tomllib.TOMLDecodeError) -> str:
    """A tomllib error in Japanese with its line and column ("3 行目 7 文字目")."""
    text = str(exc)
    where = re.search(r"\(at line (\d+), column (\d+)\)", text)
    at = f"{where[1]} 行目 {where[2]} 文字目" if where else \
        ("ファイルの終わり" if "end of document" in text else "")
    what = next((ja for en, ja in _TOML_MESSAGES if text.startswith(en)), "書き方が正しくありません")
    return f"{at}: {what}" if at else what
