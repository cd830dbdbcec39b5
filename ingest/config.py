"""Configuration: config.toml (or the embedded defaults) into typed settings."""

from __future__ import annotations

import difflib
import re
import tomllib
from collections.abc import Callable
from dataclasses import dataclass, field, fields, replace
from datetime import time, timedelta
from pathlib import Path
from typing import Any

from ingest.screen import os_reason
from parsers.forms import FormMap, FormMapError, load_form_map
from parsers.limits import Limits
from replies.address import is_address
from replies.connection import Secret, ServerConfig
from replies.oauth2 import OAuth2Settings, token_url_problem
from rules.calendar import BusinessCalendar, parse_days
from rules.program import Program, ProgramSettingsError, program_from_toml


class ConfigError(Exception):
    """The configuration is missing, unreadable or wrong; the message names the key."""


@dataclass(frozen=True)
class Settings:
    ledger_path: Path = Path("var/ledger.db")
    blobs_dir: Path = Path("var/blobs")
    outbox_dir: Path = Path("var/outbox")
    secretariat_address: str = "it-renkei@example.go.jp"
    secretariat_name: str = ""  # empty: 「<year_label>「<subsidy_name>」事務局」 from [program]
    our_addresses: tuple[str, ...] = ()
    approve_deficiencies: bool = True
    reply_to_sender_block: bool = False  # To: the sender block's address instead of From:
    max_replies_per_recipient_per_day: int = 5  # more to one address in a day are held
    reply_charset: str = "utf-8"
    templates_dir: Path | None = None
    send_in_business_hours_only: bool = True
    poll_interval_seconds: int = 60
    stale_after: timedelta = timedelta(minutes=15)  # `status` warns when fetching stopped this long
    backup_dir: Path | None = None  # the daemon's nightly ledger backup goes here (None: off)
    backup_keep: int = 14
    backup_at: time = time(2, 0)  # JST
    # Correlation windows: how long a submission waits for its further parts, for the password
    # of an encrypted archive, and for quiet before it is answered.
    split_window: timedelta = timedelta(hours=24)
    password_window: timedelta = timedelta(hours=48)
    settle_after: timedelta = timedelta(minutes=30)
    limits: Limits = field(default_factory=Limits)
    form_map: FormMap = field(default_factory=load_form_map)
    imap: ServerConfig | None = None
    smtp: ServerConfig | None = None
    calendar: BusinessCalendar = field(default_factory=BusinessCalendar)
    program: Program = field(default_factory=Program)
    source: Path | None = None  # the file these settings came from, None for embedded defaults
    # Where applicants ask questions, printed in every reply (default: secretariat_address).
    inquiry_email: str = ""
    inquiry_phone: str | None = None
    # The authserv-id our own receiving server writes in Authentication-Results; None: not read.
    authserv_id: str | None = None
    paths_given: frozenset[str] = frozenset()  # keys of [paths] the config file sets itself
    # How long a ledger write waits for another program's lock before it gives up.
    ledger_busy_timeout_seconds: float = 30.0

    def __post_init__(self) -> None:
        # The program's name is written once, in [program]; the signature is built from it.
        if not self.secretariat_name:
            program = self.program
            object.__setattr__(self, "secretariat_name",
                               f"{program.year_label}「{program.subsidy_name}」事務局")
        if not self.inquiry_email:
            object.__setattr__(self, "inquiry_email", self.secretariat_address)

    @property
    def own_addresses(self) -> frozenset[str]:
        return frozenset(a.lower() for a in (self.secretariat_address, *self.our_addresses))


def load_settings(path: Path | None) -> Settings:
    """Read `path`, else ./config.toml when present, else the embedded defaults."""
    if path is None:
        default = Path("config.toml")
        if not default.is_file():
            return Settings()
        path = default
    if path.is_dir():
        raise ConfigError(f"--config にフォルダが指定されました: {path}"
                          "(config.toml などの設定ファイルを指定してください)")
    try:
        # utf-8-sig: Notepad's 「UTF-8 (BOM 付き)」 is UTF-8 too
        data = tomllib.loads(path.read_bytes().decode("utf-8-sig"))
    except FileNotFoundError:
        raise ConfigError(f"設定ファイル {path} がありません") from None
    except OSError as exc:
        raise ConfigError(f"設定ファイル {path} を読めません: {os_reason(exc)}") from None
    except UnicodeDecodeError:
        raise ConfigError(f"設定ファイル {path} は UTF-8 で保存してください"
                          "(メモ帳なら「UTF-8」を選んで保存)") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"設定ファイル {path} の書式が正しくありません: "
                          f"{toml_error_text(exc)}") from None
    return settings_from_toml(data, base=path.resolve().parent, source=path)


def settings_from_toml(data: dict[str, Any], *, base: Path, source: Path | None) -> Settings:
    tables = _Tables(data)
    paths = tables.take("paths")
    paths_given = frozenset(paths)
    secretariat = tables.take("secretariat")
    replies = tables.take("replies")
    daemon = tables.take("daemon")
    cal = tables.take("calendar")
    program = tables.take("program")
    windows = tables.take("submissions")
    limits = tables.take("limits")
    forms = tables.take("forms")
    imap = tables.take("imap")
    smtp = tables.take("smtp")
    ledger = tables.take("ledger")
    tables.done()

    def rel(value: str) -> Path:
        p = Path(value).expanduser()
        return p if p.is_absolute() else base / p

    defaults = Settings()
    settings = Settings(
        ledger_path=rel(paths.typed("ledger", str, str(defaults.ledger_path), _NOT_EMPTY)),
        blobs_dir=rel(paths.typed("blobs", str, str(defaults.blobs_dir), _NOT_EMPTY)),
        outbox_dir=rel(paths.typed("outbox", str, str(defaults.outbox_dir), _NOT_EMPTY)),
        secretariat_address=secretariat.typed("address", str, defaults.secretariat_address,
                                              _ADDRESS),
        secretariat_name=secretariat.typed("name", str, ""),
        our_addresses=tuple(secretariat.typed("other_addresses", list, [], _ADDRESSES)),
        approve_deficiencies=replies.typed("approve_deficiencies", bool, True),
        reply_to_sender_block=replies.typed("reply_to_sender_block", bool, False),
        max_replies_per_recipient_per_day=replies.typed("max_replies_per_recipient_per_day", int, 5,
                                                        _at_least(1)),
        reply_charset=replies.typed("charset", str, "utf-8", _one_of("utf-8", "iso-2022-jp")),
        templates_dir=rel(t) if (t := replies.typed("templates_dir", str, None, _NOT_EMPTY)) else None,
        send_in_business_hours_only=replies.typed("business_hours_only", bool, True),
        poll_interval_seconds=daemon.typed("poll_interval_seconds", int, 60, _at_least(1)),
        stale_after=timedelta(minutes=daemon.typed("stale_after_minutes", float, 15, _POSITIVE)),
        backup_dir=rel(b) if (b := daemon.typed("backup_dir", str, None, _NOT_EMPTY)) else None,
        backup_keep=daemon.typed("backup_keep", int, 14, _at_least(1)),
        backup_at=_time(daemon, "backup_at", "02:00"),
        split_window=timedelta(hours=windows.typed("split_window_hours", float, 24, _POSITIVE)),
        password_window=timedelta(hours=windows.typed("password_window_hours", float, 48,
                                                      _POSITIVE)),
        settle_after=timedelta(minutes=windows.typed("settle_minutes", float, 30, _NOT_NEGATIVE)),
        limits=_limits(limits),
        form_map=_form_map(rel(m) if (m := forms.typed("map", str, None, _NOT_EMPTY)) else None,
                           tables),
        imap=_server(imap, "imap", rel) if imap else None,
        smtp=_server(smtp, "smtp", rel) if smtp else None,
        calendar=_calendar(cal),
        program=_program(program),
        source=source,
        inquiry_email=secretariat.typed("inquiry_email", str, "", _ADDRESS),
        inquiry_phone=secretariat.typed("inquiry_phone", str, None, _NOT_EMPTY),
        authserv_id=(secretariat.typed("authserv_id", str, "") or "").strip() or None,
        paths_given=paths_given,
        ledger_busy_timeout_seconds=ledger.typed("busy_timeout_seconds", float, 30.0, _POSITIVE),
    )
    if not tables.problems:  # the name is compared only once its parts are known to be right
        _check_secretariat(settings, tables)
    tables.check_unknown()
    return settings


def _check_secretariat(settings: Settings, tables: _Tables) -> None:
    """The signature must name the program as [program] does, so a reply never calls it by
    two names."""
    subsidy = settings.program.subsidy_name
    if subsidy not in settings.secretariat_name:
        tables.problems.append(
            f"[secretariat] name「{settings.secretariat_name}」に補助金の名称「{subsidy}」"
            "([program] subsidy_name)がありません。返信の署名と差出人名には同じ名称を使います。"
            "[secretariat] name を消すと [program] から「"
            f"{settings.program.year_label}「{subsidy}」事務局」になります"
        )


def _server(table: _Table, name: str, rel: Any) -> ServerConfig | None:
    """[imap] / [smtp]. Every problem of the table is noted; None when there is one."""
    before = len(table.problems)
    if "password" in table:
        table.pop("password")
        table.problems.append(
            f"[{name}] password: パスワードを設定ファイルに書かないでください。"
            f"[{name}] password_env(環境変数名)か password_file を使ってください"
        )
    tls = table.typed("tls", str, "implicit", _one_of("implicit", "starttls", "none")).lower()
    default_port = {"imap": {"implicit": 993, "starttls": 143, "none": 143},
                    "smtp": {"implicit": 465, "starttls": 587, "none": 25}}[name][tls]
    host = table.typed("host", str, None, _NOT_EMPTY)
    if host is None:
        table.problems.append(f"[{name}] host がありません(サーバーの名前を指定してください)")
    secret = Secret(
        env=table.typed("password_env", str, None, _NOT_EMPTY),
        file=rel(f) if (f := table.typed("password_file", str, None, _NOT_EMPTY)) else None,
    )
    oauth2 = _oauth2(table, name, rel)
    values = dict(
        port=table.typed("port", int, default_port, _between(1, 65535)),
        user=table.typed("user", str, ""),
        verify_tls=table.typed("verify_tls", bool, True),
        ca_file=rel(c) if (c := table.typed("ca_file", str, None, _NOT_EMPTY)) else None,
        timeout=table.typed("timeout_seconds", float, 60, _POSITIVE),
        folder=table.typed("folder", str, "INBOX", _NOT_EMPTY),
        sent_folder=table.typed("sent_folder", str, None, _NOT_EMPTY),
        batch_size=table.typed("batch_size", int, 50, _at_least(1)),
        max_message_bytes=table.typed("max_message_bytes", int, 40 * 1024 * 1024, _at_least(1)),
    )
    if len(table.problems) > before:
        return None
    return ServerConfig(host=host, tls=tls, password=secret, oauth2=oauth2, **values)


def _oauth2(table: _Table, name: str, rel: Any) -> OAuth2Settings | None:
    """`auth = "oauth2"`: XOAUTH2 with a token refreshed from `oauth2_refresh_token_file`."""
    auth = table.typed("auth", str, "password", _one_of("password", "oauth2")).lower()
    if auth != "oauth2":
        if auth == "password" and (extra := sorted(k for k in table if k.startswith("oauth2_"))):
            for key in extra:
                table.pop(key)
            table.problems.append(f"[{name}] {'、'.join(extra)} は [{name}] auth = \"oauth2\" "
                                  "のときだけ使います")
        return None
    if not table.get("user"):
        table.problems.append(f"[{name}] user がありません(OAuth2 ではメールアドレスを指定します)")
    if "oauth2_client_secret" in table:
        table.pop("oauth2_client_secret")
        table.problems.append(
            f"[{name}] oauth2_client_secret: シークレットを設定ファイルに書かないでください。"
            f"[{name}] oauth2_client_secret_env か oauth2_client_secret_file を使ってください"
        )
    env = table.typed("oauth2_client_secret_env", str, None, _NOT_EMPTY)
    secret_file = table.typed("oauth2_client_secret_file", str, None, _NOT_EMPTY)
    required = {key: table.typed(key, str, None, _NOT_EMPTY) for key in (
        "oauth2_token_url", "oauth2_client_id", "oauth2_scope", "oauth2_refresh_token_file")}
    for key, value in required.items():
        if value is None and key in table.asked:
            table.problems.append(f"[{name}] {key} がありません(auth = \"oauth2\" では必要です)")
    token_url = required["oauth2_token_url"]
    if token_url is not None and (problem := token_url_problem(token_url)):
        table.problems.append(f"[{name}] oauth2_token_url: {problem}")
    if any(value is None for value in required.values()):
        return None
    return OAuth2Settings(
        token_url=str(token_url),
        client_id=str(required["oauth2_client_id"]),
        scope=str(required["oauth2_scope"]),
        refresh_token_file=rel(str(required["oauth2_refresh_token_file"])),
        client_secret=(Secret(env=env, file=rel(secret_file) if secret_file else None)
                       if env or secret_file else None),
    )


def _form_map(path: Path | None, tables: _Tables) -> FormMap:
    try:
        return load_form_map(path)
    except (FormMapError, OSError) as exc:
        why = os_reason(exc) if isinstance(exc, OSError) else str(exc)
        tables.problems.append(f"[forms] map: 様式マップ {path} を読めません({why})")
        return load_form_map()


def _limits(table: _Table) -> Limits:
    known = {f.name: f for f in fields(Limits)}
    values = table.known_only(list(known))
    defaults = Limits()
    checked: dict[str, Any] = {}
    for key in values:
        kind = type(getattr(defaults, key))
        value = table.typed(key, kind, None, _POSITIVE if kind is float else _at_least(1))
        if value is not None and value > 0:
            checked[key] = value
    return replace(defaults, **checked)


def _program(table: _Table) -> Program:
    try:
        return program_from_toml(table.known_only([f.name for f in fields(Program)]))
    except ProgramSettingsError as exc:
        table.problems.extend(exc.problems)
        return Program()


def _calendar(table: _Table) -> BusinessCalendar:
    days = table.typed("closure_days", list, [])
    try:
        closure = parse_days(str(v) for v in days)
    except ValueError:
        closure = frozenset()
        table.problems.append(
            "[calendar] closure_days は [\"2022-08-15\"] のように YYYY-MM-DD の日付の配列で"
            f"指定してください(書かれている値: {_toml_value(days)})")
    open_at, close_at = _time(table, "open", "09:30"), _time(table, "close", "17:30")
    if open_at >= close_at:
        table.problems.append(f"[calendar] open({open_at:%H:%M})は close({close_at:%H:%M})より"
                              "前の時刻にしてください")
    return BusinessCalendar(closure_days=closure, open_at=open_at, close_at=close_at)


def _time(table: _Table, key: str, default: str) -> time:
    value = table.typed(key, str, default)
    try:
        return time.fromisoformat(value)
    except ValueError:
        table.problems.append(f"[{table.name}] {key} は \"09:30\" のように HH:MM で指定してください"
                              f"(書かれている値: {_toml_value(value)})")
        return time.fromisoformat(default)


class _Table(dict[str, Any]):
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
            self.unknown.append(f"[{self.name}] {key}{_suggest(key, known)}")
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
                                 f"(書かれている値: {_toml_value(value)})")
            return default
        return float(value) if kind is float else value


# A check of a value of the right type: None when it is fine, else what is expected, as the
# end of 「KEY は…」.
Check = Callable[[Any], str | None]


def _at_least(low: int) -> Check:
    return lambda v: None if v >= low else f" {low} 以上の整数で指定してください"


def _between(low: int, high: int) -> Check:
    return lambda v: None if low <= v <= high else f" {low}〜{high} の整数で指定してください"


def _one_of(*choices: str) -> Check:
    quoted = [f'"{c}"' for c in choices]
    words = f"{quoted[0]} か {quoted[1]} を" if len(quoted) == 2 else \
        f"{' / '.join(quoted)} のどれかを"
    return lambda v: None if v.lower() in choices else f" {words}指定してください"


def _POSITIVE(value: float) -> str | None:  # noqa: N802 - used like the constants beside it
    return None if value > 0 else " 0 より大きい数で指定してください"


def _NOT_NEGATIVE(value: float) -> str | None:  # noqa: N802
    return None if value >= 0 else " 0 以上の数で指定してください"


def _NOT_EMPTY(value: str) -> str | None:  # noqa: N802
    return None if value.strip() else "空にできません(使わないときは行ごと消してください)"


def _ADDRESS(value: str) -> str | None:  # noqa: N802
    return None if is_address(value) else \
        " it-renkei@example.go.jp のようなメールアドレスで指定してください"


def _ADDRESSES(values: list[Any]) -> str | None:  # noqa: N802
    wrong = [v for v in values if not isinstance(v, str) or _ADDRESS(v)]
    if not wrong:
        return None
    return (" [\"soumu@example.go.jp\"] のようなメールアドレス(文字列)の配列で指定してください。"
            f"アドレスでない要素: {'、'.join(_toml_value(v) for v in wrong)}")


_TYPE_NAMES = {bool: " true か false(引用符なし)", int: "整数", float: "数値", str: "文字列(\"…\")",
               list: "配列([…])"}


def _toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return f'"{value}"'
    if isinstance(value, list):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    return str(value)


def _suggest(key: str, known: Any) -> str:
    close = difflib.get_close_matches(key, sorted(set(known)), n=1, cutoff=0.6)
    return f"({close[0]} のことですか?)" if close else ""


class _Tables:
    def __init__(self, data: dict[str, Any]) -> None:
        self.data = dict(data)
        self.taken: list[_Table] = []
        self.unknown: list[str] = []
        self.problems: list[str] = []

    def take(self, name: str) -> _Table:
        value = self.data.pop(name, {})
        if not isinstance(value, dict):
            self.problems.append(f"[{name}] は表(テーブル)で書いてください([{name}] の行の下に"
                                 f"キー = 値 を並べます。書かれている値: {_toml_value(value)})")
            value = {}
        table = _Table(name, value, self.unknown, self.problems)
        self.taken.append(table)
        return table

    def done(self) -> None:
        names = [t.name for t in self.taken]
        self.unknown += [f"[{key}]{_suggest(key, names)}" for key in sorted(self.data)]
        self.data.clear()

    def check_unknown(self) -> None:
        """Every key nobody asked for, in every table at once, with the nearest real key."""
        for table in self.taken:
            if table.whole:
                continue
            for key in sorted(table):
                self.unknown.append(f"[{table.name}] {key}{_suggest(key, table.asked)}")
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
