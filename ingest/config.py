"""Configuration: config.toml (or the embedded defaults) into typed settings."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field, fields
from datetime import time, timedelta
from pathlib import Path
from typing import Any

from parsers.archives import Limits
from parsers.forms import FormMap, FormMapError, load_form_map
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
    secretariat_name: str = "令和4年度「共創型サービスIT連携支援事業」事務局"
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
    try:
        with path.open("rb") as handle:
            data = tomllib.load(handle)
    except FileNotFoundError:
        raise ConfigError(f"設定ファイル {path} がありません") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"設定ファイル {path} の書式が正しくありません: {exc}") from None
    return settings_from_toml(data, base=path.resolve().parent, source=path)


def settings_from_toml(data: dict[str, Any], *, base: Path, source: Path | None) -> Settings:
    tables = _Tables(data)
    paths = tables.take("paths")
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
        ledger_path=rel(paths.pop("ledger", str(defaults.ledger_path))),
        blobs_dir=rel(paths.pop("blobs", str(defaults.blobs_dir))),
        outbox_dir=rel(paths.pop("outbox", str(defaults.outbox_dir))),
        secretariat_address=secretariat.pop("address", defaults.secretariat_address),
        secretariat_name=secretariat.pop("name", defaults.secretariat_name),
        our_addresses=tuple(secretariat.pop("other_addresses", ())),
        approve_deficiencies=replies.pop("approve_deficiencies", True),
        reply_to_sender_block=bool(replies.pop("reply_to_sender_block", False)),
        max_replies_per_recipient_per_day=int(replies.pop("max_replies_per_recipient_per_day", 5)),
        reply_charset=replies.pop("charset", "utf-8"),
        templates_dir=rel(t) if (t := replies.pop("templates_dir", None)) else None,
        send_in_business_hours_only=replies.pop("business_hours_only", True),
        poll_interval_seconds=int(daemon.pop("poll_interval_seconds", 60)),
        stale_after=timedelta(minutes=float(daemon.pop("stale_after_minutes", 15))),
        backup_dir=rel(b) if (b := daemon.pop("backup_dir", None)) else None,
        backup_keep=int(daemon.pop("backup_keep", 14)),
        backup_at=_time(daemon.pop("backup_at", "02:00"), "daemon.backup_at"),
        split_window=timedelta(hours=float(windows.pop("split_window_hours", 24))),
        password_window=timedelta(hours=float(windows.pop("password_window_hours", 48))),
        settle_after=timedelta(minutes=float(windows.pop("settle_minutes", 30))),
        limits=_limits(limits),
        form_map=_form_map(rel(m) if (m := forms.pop("map", None)) else None),
        imap=_server(imap, "imap", rel) if imap else None,
        smtp=_server(smtp, "smtp", rel) if smtp else None,
        calendar=BusinessCalendar(
            closure_days=parse_days(cal.pop("closure_days", [])),
            open_at=_time(cal.pop("open", "09:30"), "calendar.open"),
            close_at=_time(cal.pop("close", "17:30"), "calendar.close"),
        ),
        program=_program(program),
        source=source,
    )
    for name, rest in (("paths", paths), ("secretariat", secretariat), ("replies", replies),
                       ("daemon", daemon), ("calendar", cal), ("submissions", windows),
                       ("forms", forms)):
        _no_leftovers(name, rest)
    if settings.reply_charset.lower() not in ("utf-8", "iso-2022-jp"):
        raise ConfigError("replies.charset は utf-8 か iso-2022-jp を指定してください")
    return settings


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
            host=table.pop("host"),
            port=int(table.pop("port", default_port)),
            tls=tls,
            user=table.pop("user", ""),
            password=secret,
            verify_tls=bool(table.pop("verify_tls", True)),
            ca_file=rel(c) if (c := table.pop("ca_file", None)) else None,
            timeout=float(table.pop("timeout_seconds", 60)),
            folder=table.pop("folder", "INBOX"),
            sent_folder=table.pop("sent_folder", None),
            batch_size=int(table.pop("batch_size", 50)),
            max_message_bytes=int(table.pop("max_message_bytes", 40 * 1024 * 1024)),
            oauth2=oauth2,
        )
    except KeyError as exc:
        raise ConfigError(f"{name}.{exc.args[0]} がありません") from None
    _no_leftovers(name, table)
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
    try:
        return program_from_toml(table)
    except (ValueError, TypeError) as exc:
        raise ConfigError(f"program: {exc}") from None


def _time(value: str, key: str) -> time:
    try:
        return time.fromisoformat(value)
    except ValueError:
        raise ConfigError(f"{key}: 時刻は HH:MM で指定してください ({value!r})") from None


def _no_leftovers(name: str, table: dict[str, Any]) -> None:
    if table:
        raise ConfigError(f"[{name}] に不明なキーがあります: {', '.join(sorted(table))}")


class _Tables:
    def __init__(self, data: dict[str, Any]) -> None:
        self.data = dict(data)

    def take(self, name: str) -> dict[str, Any]:
        value = self.data.pop(name, {})
        if not isinstance(value, dict):
            raise ConfigError(f"[{name}] は表(テーブル)でなければなりません")
        return dict(value)

    def done(self) -> None:
        if self.data:
            raise ConfigError(f"不明な設定項目: {', '.join(sorted(self.data))}")


