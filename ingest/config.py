"""Configuration: config.toml (or the embedded defaults) into typed settings."""

from __future__ import annotations

import difflib
import re
import tomllib
from dataclasses import dataclass, field, fields
from datetime import time, timedelta
from pathlib import Path
from typing import Any

from ingest.screen import os_reason
from parsers.forms import FormMap, FormMapError, load_form_map
from parsers.limits import Limits
from replies.connection import Secret, ServerConfig
from replies.oauth2 import OAuth2Settings, token_url_problem
from rules.calendar import BusinessCalendar, parse_days
from rules.program import Program, program_from_toml


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
    tables.done()

    def rel(value: str) -> Path:
        p = Path(value).expanduser()
        return p if p.is_absolute() else base / p

    defaults = Settings()
    settings = Settings(
        ledger_path=rel(paths.typed("ledger", str, str(defaults.ledger_path))),
        blobs_dir=rel(paths.typed("blobs", str, str(defaults.blobs_dir))),
        outbox_dir=rel(paths.typed("outbox", str, str(defaults.outbox_dir))),
        secretariat_address=secretariat.typed("address", str, defaults.secretariat_address),
        secretariat_name=secretariat.typed("name", str, ""),
        our_addresses=tuple(secretariat.typed("other_addresses", list, [])),
        approve_deficiencies=replies.typed("approve_deficiencies", bool, True),
        reply_to_sender_block=replies.typed("reply_to_sender_block", bool, False),
        max_replies_per_recipient_per_day=replies.typed("max_replies_per_recipient_per_day", int, 5),
        reply_charset=replies.typed("charset", str, "utf-8"),
        templates_dir=rel(t) if (t := replies.typed("templates_dir", str, None)) else None,
        send_in_business_hours_only=replies.typed("business_hours_only", bool, True),
        poll_interval_seconds=daemon.typed("poll_interval_seconds", int, 60),
        stale_after=timedelta(minutes=daemon.typed("stale_after_minutes", float, 15)),
        backup_dir=rel(b) if (b := daemon.typed("backup_dir", str, None)) else None,
        backup_keep=daemon.typed("backup_keep", int, 14),
        backup_at=_time(daemon.typed("backup_at", str, "02:00"), "daemon.backup_at"),
        split_window=timedelta(hours=windows.typed("split_window_hours", float, 24)),
        password_window=timedelta(hours=windows.typed("password_window_hours", float, 48)),
        settle_after=timedelta(minutes=windows.typed("settle_minutes", float, 30)),
        limits=_limits(limits),
        form_map=_form_map(rel(m) if (m := forms.typed("map", str, None)) else None),
        imap=_server(imap, "imap", rel) if imap else None,
        smtp=_server(smtp, "smtp", rel) if smtp else None,
        calendar=BusinessCalendar(
            closure_days=_closure_days(cal.typed("closure_days", list, [])),
            open_at=_time(cal.typed("open", str, "09:30"), "[calendar] open"),
            close_at=_time(cal.typed("close", str, "17:30"), "[calendar] close"),
        ),
        program=_program(program),
        source=source,
        inquiry_email=secretariat.typed("inquiry_email", str, ""),
        inquiry_phone=secretariat.typed("inquiry_phone", str, None),
        authserv_id=(secretariat.typed("authserv_id", str, "") or "").strip() or None,
        paths_given=paths_given,
    )
    tables.check_unknown()
    if settings.reply_charset.lower() not in ("utf-8", "iso-2022-jp"):
        raise ConfigError("[replies] charset は \"utf-8\" か \"iso-2022-jp\" を指定してください")
    _check_secretariat(settings)
    return settings


def _check_secretariat(settings: Settings) -> None:
    """The signature must name the program as [program] does, so a reply never calls it by
    two names; and applicants must have an address to ask at."""
    subsidy = settings.program.subsidy_name
    if subsidy not in settings.secretariat_name:
        raise ConfigError(
            f"secretariat.name「{settings.secretariat_name}」に補助金の名称「{subsidy}」"
            "(program.subsidy_name)がありません。返信の署名と差出人名には同じ名称を使います。"
            "secretariat.name を消すと program から「"
            f"{settings.program.year_label}「{subsidy}」事務局」になります"
        )
    if "@" not in settings.inquiry_email or any(c.isspace() for c in settings.inquiry_email):
        raise ConfigError(
            f"secretariat.inquiry_email「{settings.inquiry_email}」はメールアドレスではありません"
        )


def _server(table: dict[str, Any], name: str, rel: Any) -> ServerConfig:
    if "password" in table:
        raise ConfigError(
            f"{name}.password: パスワードを設定ファイルに書かないでください。"
            f"{name}.password_env(環境変数名)か {name}.password_file を使ってください"
        )
    try:
        tls = table.pop("tls", "implicit")
        if tls not in ("implicit", "starttls", "none"):
            raise ConfigError(f"{name}.tls は implicit / starttls / none のいずれかです")
        default_port = {"imap": {"implicit": 993, "starttls": 143, "none": 143},
                        "smtp": {"implicit": 465, "starttls": 587, "none": 25}}[name][tls]
        secret = Secret(
            env=table.pop("password_env", None),
            file=rel(f) if (f := table.pop("password_file", None)) else None,
        )
        oauth2 = _oauth2(table, name, rel)
        server = ServerConfig(
            host=table.typed("host", str, None) or table.pop("host"),
            port=table.typed("port", int, default_port),
            tls=tls,
            user=table.pop("user", ""),
            password=secret,
            verify_tls=table.typed("verify_tls", bool, True),
            ca_file=rel(c) if (c := table.pop("ca_file", None)) else None,
            timeout=table.typed("timeout_seconds", float, 60),
            folder=table.pop("folder", "INBOX"),
            sent_folder=table.pop("sent_folder", None),
            batch_size=table.typed("batch_size", int, 50),
            max_message_bytes=table.typed("max_message_bytes", int, 40 * 1024 * 1024),
            oauth2=oauth2,
        )
    except KeyError as exc:
        raise ConfigError(f"{name}.{exc.args[0]} がありません") from None
    return server


def _oauth2(table: dict[str, Any], name: str, rel: Any) -> OAuth2Settings | None:
    """`auth = "oauth2"`: XOAUTH2 with a token refreshed from `oauth2_refresh_token_file`."""
    auth = table.pop("auth", "password")
    if auth not in ("password", "oauth2"):
        raise ConfigError(f"{name}.auth は password か oauth2 です")
    if auth == "password":
        if extra := sorted(k for k in table if k.startswith("oauth2_")):
            raise ConfigError(f"{name}.{extra[0]} は {name}.auth = \"oauth2\" のときだけ使います")
        return None
    if not table.get("user"):
        raise ConfigError(f"{name}.user がありません(OAuth2 ではメールアドレスを指定します)")
    if "oauth2_client_secret" in table:
        raise ConfigError(
            f"{name}.oauth2_client_secret: シークレットを設定ファイルに書かないでください。"
            f"{name}.oauth2_client_secret_env か {name}.oauth2_client_secret_file を使ってください"
        )
    env = table.pop("oauth2_client_secret_env", None)
    secret_file = table.pop("oauth2_client_secret_file", None)
    token_url = str(table.pop("oauth2_token_url"))
    if problem := token_url_problem(token_url):
        raise ConfigError(f"{name}.oauth2_token_url: {problem}")
    return OAuth2Settings(
        token_url=token_url,
        client_id=str(table.pop("oauth2_client_id")),
        scope=str(table.pop("oauth2_scope")),
        refresh_token_file=rel(table.pop("oauth2_refresh_token_file")),
        client_secret=(Secret(env=env, file=rel(secret_file) if secret_file else None)
                       if env or secret_file else None),
    )


def _form_map(path: Path | None) -> FormMap:
    try:
        return load_form_map(path)
    except (FormMapError, OSError) as exc:
        raise ConfigError(f"forms.map: 様式マップを読めません: {exc}") from None


def _limits(table: dict[str, Any]) -> Limits:
    if isinstance(table, _Table):
        table = table.known_only([f.name for f in fields(Limits)])
    defaults = Limits()
    for key, value in table.items():
        kind = type(getattr(defaults, key))
        if kind in (int, float) and (isinstance(value, bool)
                                     or not isinstance(value, int if kind is int else int | float)):
            raise ConfigError(f"[limits] {key} は{_TYPE_NAMES[kind]}で指定してください"
                              f"(書かれている値: {_toml_value(value)})")
    try:
        limits = Limits(**table)
    except TypeError:
        known = ", ".join(f.name for f in fields(Limits))
        raise ConfigError(f"[limits] のキーは {known} です") from None
    for item in fields(Limits):
        value = getattr(limits, item.name)
        if isinstance(value, bool) or not isinstance(value, int | float) or value <= 0:
            raise ConfigError(f"[limits] {item.name} は正の数で指定してください ({value!r})")
    return limits


def _program(table: dict[str, Any]) -> Program:
    if isinstance(table, _Table):
        table = table.known_only([f.name for f in fields(Program)])
    try:
        return program_from_toml(table)
    except (ValueError, TypeError) as exc:
        text = str(exc)
        raise ConfigError(text if text.startswith("[program]") else f"[program] {text}") from None


def _time(value: str, key: str) -> time:
    try:
        return time.fromisoformat(value)
    except ValueError:
        raise ConfigError(f"{key} は \"09:30\" のように HH:MM で指定してください"
                          f"(書かれている値: {_toml_value(value)})") from None


def _no_leftovers(name: str, table: dict[str, Any]) -> None:
    """Refuse the keys left in a table nobody read (settings_from_toml reports them all at
    once through _Tables.check_unknown; this is for a reader that checks its own table)."""
    if table:
        raise ConfigError(f"[{name}] に不明なキーがあります: {', '.join(sorted(table))}")


class _Table(dict[str, Any]):
    """One [table] of config.toml. Every key the code asks for is remembered, so that a key
    nobody asked for can be reported with the nearest real one ("approve_deficiency" →
    "approve_deficiencies")."""

    def __init__(self, name: str, data: dict[str, Any], unknown: list[str] | None = None) -> None:
        super().__init__(data)
        self.name = name
        self.asked: set[str] = set()
        self.unknown = unknown if unknown is not None else []  # shared by all tables of a file
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

    def typed(self, key: str, kind: type, default: Any) -> Any:
        """The value of `key`, refused with its key and the expected type when it has another
        (`approve_deficiencies = "yes"`); an integer is taken where a number is expected."""
        value = self.pop(key, default)
        if value is None or value is default:
            return value
        ok = (isinstance(value, int | float) and not isinstance(value, bool) if kind is float
              else isinstance(value, int) and not isinstance(value, bool) if kind is int
              else isinstance(value, kind))
        if not ok:
            raise ConfigError(f"[{self.name}] {key} は{_TYPE_NAMES[kind]}で指定してください"
                              f"(書かれている値: {_toml_value(value)})")
        return float(value) if kind is float else value


_TYPE_NAMES = {bool: " true か false(引用符なし)", int: "整数", float: "数値", str: "文字列(\"…\")",
               list: "配列([…])"}


def _toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return f'"{value}"'
    return str(value)


def _suggest(key: str, known: Any) -> str:
    close = difflib.get_close_matches(key, sorted(set(known)), n=1, cutoff=0.6)
    return f"({close[0]} のことですか?)" if close else ""


class _Tables:
    def __init__(self, data: dict[str, Any]) -> None:
        self.data = dict(data)
        self.taken: list[_Table] = []
        self.unknown: list[str] = []

    def take(self, name: str) -> _Table:
        value = self.data.pop(name, {})
        if not isinstance(value, dict):
            raise ConfigError(f"[{name}] は表(テーブル)でなければなりません")
        table = _Table(name, value, self.unknown)
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
        if self.unknown:
            raise ConfigError(f"不明な設定項目があります: {'、'.join(self.unknown)}")


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


def _closure_days(values: list[Any]) -> frozenset:
    try:
        return parse_days(str(v) for v in values)
    except ValueError:
        raise ConfigError("[calendar] closure_days は [\"2022-08-15\"] のように YYYY-MM-DD の"
                          f"日付の配列で指定してください(書かれている値: {_toml_value(values)})") from None


def toml_error_text(exc: tomllib.TOMLDecodeError) -> str:
    """A tomllib error in Japanese with its line and column ("3 行目 7 文字目")."""
    text = str(exc)
    where = re.search(r"\(at line (\d+), column (\d+)\)", text)
    at = f"{where[1]} 行目 {where[2]} 文字目" if where else \
        ("ファイルの終わり" if "end of document" in text else "")
    what = next((ja for en, ja in _TOML_MESSAGES if text.startswith(en)), "書き方が正しくありません")
    return f"{at}: {what}" if at else what
