"""Configuration: config.toml (or the embedded defaults) into typed settings. The checks of
each value (type, range, unknown keys) are in ingest.config_checks."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field, fields, replace
from datetime import date, time, timedelta
from pathlib import Path
from typing import Any

# The value checks, under the names this module reads its tables with.
from ingest.config_checks import (
    ADDRESS,
    ADDRESSES,
    NOT_EMPTY,
    NOT_NEGATIVE,
    POSITIVE,
    ConfigError,
    Table,
    Tables,
    at_least,
    between,
    one_of,
    toml_error_text,
    toml_value,
)
from ingest.screen import os_reason
from parsers.forms import FormMap, FormMapError, load_form_map
from parsers.limits import Limits
from replies.connection import Secret, ServerConfig
from replies.oauth2 import OAuth2Settings, token_url_problem
from rules.calendar import BusinessCalendar, parse_days
from rules.program import Program, ProgramSettingsError, program_from_toml


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
    tables = Tables(data)
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
        ledger_path=rel(paths.typed("ledger", str, str(defaults.ledger_path), NOT_EMPTY)),
        blobs_dir=rel(paths.typed("blobs", str, str(defaults.blobs_dir), NOT_EMPTY)),
        outbox_dir=rel(paths.typed("outbox", str, str(defaults.outbox_dir), NOT_EMPTY)),
        secretariat_address=secretariat.typed("address", str, defaults.secretariat_address,
                                              ADDRESS),
        secretariat_name=secretariat.typed("name", str, ""),
        our_addresses=tuple(secretariat.typed("other_addresses", list, [], ADDRESSES)),
        approve_deficiencies=replies.typed("approve_deficiencies", bool, True),
        reply_to_sender_block=replies.typed("reply_to_sender_block", bool, False),
        max_replies_per_recipient_per_day=replies.typed("max_replies_per_recipient_per_day", int, 5,
                                                        at_least(1)),
        reply_charset=replies.typed("charset", str, "utf-8", one_of("utf-8", "iso-2022-jp")),
        templates_dir=rel(t) if (t := replies.typed("templates_dir", str, None, NOT_EMPTY)) else None,
        send_in_business_hours_only=replies.typed("business_hours_only", bool, True),
        poll_interval_seconds=daemon.typed("poll_interval_seconds", int, 60, at_least(1)),
        stale_after=timedelta(minutes=daemon.typed("stale_after_minutes", float, 15, POSITIVE)),
        backup_dir=rel(b) if (b := daemon.typed("backup_dir", str, None, NOT_EMPTY)) else None,
        backup_keep=daemon.typed("backup_keep", int, 14, at_least(1)),
        backup_at=_time(daemon, "backup_at", "02:00"),
        split_window=timedelta(hours=windows.typed("split_window_hours", float, 24, POSITIVE)),
        password_window=timedelta(hours=windows.typed("password_window_hours", float, 48,
                                                      POSITIVE)),
        settle_after=timedelta(minutes=windows.typed("settle_minutes", float, 30, NOT_NEGATIVE)),
        limits=_limits(limits),
        form_map=_form_map(rel(m) if (m := forms.typed("map", str, None, NOT_EMPTY)) else None,
                           tables),
        imap=_server(imap, "imap", rel) if imap else None,
        smtp=_server(smtp, "smtp", rel) if smtp else None,
        calendar=_calendar(cal),
        program=_program(program),
        source=source,
        inquiry_email=secretariat.typed("inquiry_email", str, "", ADDRESS),
        inquiry_phone=secretariat.typed("inquiry_phone", str, None, NOT_EMPTY),
        authserv_id=(secretariat.typed("authserv_id", str, "") or "").strip() or None,
        paths_given=paths_given,
        ledger_busy_timeout_seconds=ledger.typed("busy_timeout_seconds", float, 30.0, POSITIVE),
    )
    if not tables.problems:  # the name is compared only once its parts are known to be right
        _check_secretariat(settings, tables)
    tables.check_unknown()
    return settings


def _check_secretariat(settings: Settings, tables: Tables) -> None:
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


def _server(table: Table, name: str, rel: Any) -> ServerConfig | None:
    """[imap] / [smtp]. Every problem of the table is noted; None when there is one."""
    before = len(table.problems)
    if "password" in table:
        table.pop("password")
        table.problems.append(
            f"[{name}] password: パスワードを設定ファイルに書かないでください。"
            f"[{name}] password_env(環境変数名)か password_file を使ってください"
        )
    tls = table.typed("tls", str, "implicit", one_of("implicit", "starttls", "none")).lower()
    default_port = {"imap": {"implicit": 993, "starttls": 143, "none": 143},
                    "smtp": {"implicit": 465, "starttls": 587, "none": 25}}[name][tls]
    host = table.typed("host", str, None, NOT_EMPTY)
    if host is None:
        table.problems.append(f"[{name}] host がありません(サーバーの名前を指定してください)")
    secret = Secret(
        env=table.typed("password_env", str, None, NOT_EMPTY),
        file=rel(f) if (f := table.typed("password_file", str, None, NOT_EMPTY)) else None,
    )
    oauth2 = _oauth2(table, name, rel)
    values = dict(
        port=table.typed("port", int, default_port, between(1, 65535)),
        user=table.typed("user", str, ""),
        verify_tls=table.typed("verify_tls", bool, True),
        ca_file=rel(c) if (c := table.typed("ca_file", str, None, NOT_EMPTY)) else None,
        timeout=table.typed("timeout_seconds", float, 60, POSITIVE),
    )
    if name == "imap":  # the mailbox's own keys: written under [smtp] they are unknown keys
        values.update(
            folder=table.typed("folder", str, "INBOX", NOT_EMPTY),
            sent_folder=table.typed("sent_folder", str, None, NOT_EMPTY),
            batch_size=table.typed("batch_size", int, 50, at_least(1)),
            max_message_bytes=table.typed("max_message_bytes", int, 40 * 1024 * 1024,
                                          at_least(1)),
        )
    if len(table.problems) > before:
        return None
    return ServerConfig(host=host, tls=tls, password=secret, oauth2=oauth2, **values)


def _oauth2(table: Table, name: str, rel: Any) -> OAuth2Settings | None:
    """`auth = "oauth2"`: XOAUTH2 with a token refreshed from `oauth2_refresh_token_file`."""
    auth = table.typed("auth", str, "password", one_of("password", "oauth2")).lower()
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
    env = table.typed("oauth2_client_secret_env", str, None, NOT_EMPTY)
    secret_file = table.typed("oauth2_client_secret_file", str, None, NOT_EMPTY)
    required = {key: table.typed(key, str, None, NOT_EMPTY) for key in (
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


def _form_map(path: Path | None, tables: Tables) -> FormMap:
    try:
        return load_form_map(path)
    except (FormMapError, OSError) as exc:
        why = os_reason(exc) if isinstance(exc, OSError) else str(exc)
        tables.problems.append(f"[forms] map: 様式マップ {path} を読めません({why})")
        return load_form_map()


def _limits(table: Table) -> Limits:
    known = {f.name: f for f in fields(Limits)}
    values = table.known_only(list(known))
    defaults = Limits()
    checked: dict[str, Any] = {}
    for key in values:
        kind = type(getattr(defaults, key))
        value = table.typed(key, kind, None, POSITIVE if kind is float else at_least(1))
        if value is not None and value > 0:
            checked[key] = value
    return replace(defaults, **checked)


def _program(table: Table) -> Program:
    try:
        return program_from_toml(table.known_only([f.name for f in fields(Program)]))
    except ProgramSettingsError as exc:
        table.problems.extend(exc.problems)
        return Program()


def _calendar(table: Table) -> BusinessCalendar:
    days = table.typed("closure_days", list, [])
    try:
        closure = parse_days(str(v) for v in days)
    except ValueError:
        closure = frozenset()
        table.problems.append(
            "[calendar] closure_days は [\"2022-08-15\"] のように YYYY-MM-DD の日付の配列で"
            f"指定してください(書かれている値: {toml_value(days)})")
    open_at, close_at = _time(table, "open", "09:30"), _time(table, "close", "17:30")
    if open_at >= close_at:
        table.problems.append(f"[calendar] open({open_at:%H:%M})は close({close_at:%H:%M})より"
                              "前の時刻にしてください")
    yearly = _yearly_closure(table)
    return BusinessCalendar(closure_days=closure, open_at=open_at, close_at=close_at,
                            **({"year_end_closure": yearly} if yearly is not None else {}))


def _yearly_closure(table: Table) -> tuple[tuple[int, int], ...] | None:
    """`yearly_closure = ["12-29", …, "01-03"]`: the days closed every year (年末年始 by
    default); a secretariat that opens on 1/4 or closes from 12/28 says so here."""
    days = table.typed("yearly_closure", list, None)
    if days is None:
        return None
    try:  # 2000 is a leap year, so "02-29" is a day too
        return tuple((d.month, d.day) for d in (date.fromisoformat(f"2000-{v}") for v in days))
    except (TypeError, ValueError):
        table.problems.append(
            "[calendar] yearly_closure は [\"12-29\", \"01-03\"] のように MM-DD の配列で"
            f"指定してください(書かれている値: {toml_value(days)})")
        return None


def _time(table: Table, key: str, default: str) -> time:
    value = table.typed(key, str, default)
    try:
        return time.fromisoformat(value)
    except ValueError:
        table.problems.append(f"[{table.name}] {key} は \"09:30\" のように HH:MM で指定してください"
                              f"(書かれている値: {toml_value(value)})")
        return time.fromisoformat(default)

