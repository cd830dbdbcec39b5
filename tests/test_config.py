"""config.example.toml is a working configuration, and mistakes in a config name their key."""

from __future__ import annotations

from pathlib import Path

import pytest

from ingest.config import ConfigError, load_settings
from tests.conftest import REPO


def test_the_example_config_loads_as_documented(monkeypatch):
    monkeypatch.setenv("RENKEI_IMAP_PASSWORD", "x")
    settings = load_settings(REPO / "config.example.toml")
    assert settings.imap is not None and settings.imap.port == 993
    assert settings.smtp is not None and settings.smtp.tls == "starttls"
    assert settings.program.cap_max == 110_000_000
    assert str(settings.program.subsidy_rate) == "2/3"
    assert settings.limits.max_depth == 3
    assert settings.split_window.total_seconds() == 24 * 3600


@pytest.mark.parametrize(("text", "named"), [
    ('[paths]\nledgr = "x"\n', "ledgr"),
    ('[program]\ncap_maxx = 1\n', "cap_maxx"),
    ('[limits]\nmax_depht = 2\n', "[limits]"),
    ('[calendar]\nopen = "9時"\n', "[calendar] open"),
    ('[imap]\nhost = "h"\ntls = "ssl"\n', "[imap] tls"),
    ('[replies]\ncharset = "shift_jis"\n', "[replies] charset"),
    ('[nonsense]\n', "nonsense"),
])
def test_a_wrong_key_or_value_is_named(tmp_path: Path, text: str, named: str):
    path = tmp_path / "config.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError) as error:
        load_settings(path)
    assert named in str(error.value)


def test_parse_limits_are_read_and_must_be_positive(tmp_path):
    path = tmp_path / "config.toml"
    path.write_text("[limits]\nmax_parse_seconds = 4\nmax_parse_memory = 134217728\n")
    limits = load_settings(path).limits
    assert (limits.max_parse_seconds, limits.max_parse_memory) == (4, 128 * 1024 * 1024)
    path.write_text("[limits]\nmax_parse_seconds = 0\n")
    with pytest.raises(ConfigError, match="max_parse_seconds"):
        load_settings(path)


@pytest.mark.parametrize(("text", "named"), [
    ('[secretariat]\nother_addresses = ["a", 5]\n', '[secretariat] other_addresses'),
    ('[secretariat]\nother_addresses = "soumu@example.go.jp"\n', "配列"),
    ('[secretariat]\naddress = "事務局"\n', "[secretariat] address"),
    ('[program]\nmin_vendors = -1\n', "[program] min_vendors は 1 以上"),
    ('[program]\nmin_sme_users = 0\n', "[program] min_sme_users は 1 以上"),
    ('[program]\nsubsidy_rate = "3/2"\n', "[program] subsidy_rate は 0 より大きく 1 以下"),
    ('[program]\nsubcontract_steps = ["3"]\n', "[program] subcontract_steps"),
    ('[program]\nsme_personnel_steps = [9]\n', "1〜4"),
    ('[program]\nperiod_start = 2022-09-10\nperiod_end = 2022-08-01\n', "period_start は period_end"),
    ('[program]\nsme_lines = [{key = "x", label = "X", capital_max = -5}]\n', "capital_max は 1 以上"),
    ('[program]\nsme_lines = [{key = "x", label = "X", aliases = [3]}]\n', "aliases は業種名"),
    ('[program]\ndocuments = [{key = 7, title = "誓約書"}]\n', "documents の key は空でない文字列"),
    ('[replies]\nmax_replies_per_recipient_per_day = 0\n', "1 以上の整数"),
    ('[daemon]\npoll_interval_seconds = -5\n', "[daemon] poll_interval_seconds は 1 以上"),
    ('[daemon]\nbackup_keep = 0\n', "[daemon] backup_keep は 1 以上"),
    ('[daemon]\nstale_after_minutes = 0\n', "0 より大きい数"),
    ('[submissions]\nsplit_window_hours = -1\n', "[submissions] split_window_hours"),
    ('[submissions]\nsettle_minutes = -30\n', "0 以上の数"),
    ('[limits]\nmax_depth = 0\n', "[limits] max_depth は 1 以上"),
    ('[limits]\nmax_ratio = -2.5\n', "[limits] max_ratio は 0 より大きい"),
    ('[paths]\nledger = ""\n', "[paths] ledger は空にできません"),
    ('[calendar]\nopen = "18:00"\n', "[calendar] open(18:00)は close(17:30)より前"),
    ('[calendar]\nclosure_days = ["8月15日"]\n', "[calendar] closure_days"),
    ('[imap]\nhost = "h"\npassword_env = "X"\nport = 0\n', "[imap] port は 1〜65535"),
    ('[imap]\nhost = "h"\npassword_env = "X"\nbatch_size = 0\n', "[imap] batch_size は 1 以上"),
    ('[smtp]\nhost = "h"\ntls = "ssl"\n', '[smtp] tls は "implicit" / "starttls" / "none"'),
    ('[smtp]\npassword_env = "X"\n', "[smtp] host がありません"),
    ('[smtp]\nhost = "h"\npassword = "secret"\n', "[smtp] password"),
    ('paths = "var"\n', "[paths] は表"),
])
def test_a_value_of_the_right_type_out_of_its_range_is_refused(tmp_path: Path, text: str,
                                                                named: str):
    path = tmp_path / "config.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError) as error:
        load_settings(path)
    assert named in str(error.value)
    assert "書かれている値" in str(error.value) or "がありません" in str(error.value) \
        or "より前" in str(error.value) or "書かないで" in str(error.value)
    assert "." + named.split("] ")[-1].split(" ")[0] not in str(error.value)  # no imap.tls form


def test_every_problem_of_a_file_is_reported_at_once(tmp_path: Path):
    path = tmp_path / "config.toml"
    path.write_text('[secretariat]\nother_addresses = ["a", 5]\n'
                    '[program]\nmin_vendors = -1\n'
                    '[imap]\nhost = "h"\ntls = "ssl"\npassword_env = "X"\n'
                    '[replies]\napprove_deficiency = true\ncharset = "sjis"\n', encoding="utf-8")
    with pytest.raises(ConfigError) as error:
        load_settings(path)
    text = str(error.value)
    assert text.startswith("設定に 5 件の誤りがあります")
    for named in ('"a"、5', "[program] min_vendors", "[imap] tls", '[replies] charset',
                  "approve_deficiencies のことですか"):
        assert named in text, (named, text)
    assert "\n" not in text


def test_the_ledger_busy_timeout_is_read_and_must_be_positive(tmp_path):
    path = tmp_path / "config.toml"
    path.write_text("[paths]\nledger = \"l.db\"\n")
    assert load_settings(path).ledger_busy_timeout_seconds == 30
    path.write_text("[ledger]\nbusy_timeout_seconds = 2.5\n")
    assert load_settings(path).ledger_busy_timeout_seconds == 2.5
    for wrong in ("0", "-1", '"30"'):
        path.write_text(f"[ledger]\nbusy_timeout_seconds = {wrong}\n")
        with pytest.raises(ConfigError, match=r"\[ledger\] busy_timeout_seconds"):
            load_settings(path)



def test_a_mailbox_key_written_under_smtp_is_an_unknown_key(tmp_path: Path):
    """`folder`, `sent_folder`, `batch_size` and `max_message_bytes` belong to [imap]: under
    [smtp] they would do nothing, so they are named like any other unknown key."""
    path = tmp_path / "config.toml"
    path.write_text('[smtp]\nhost = "h"\nfolder = "Sent"\nbatch_size = 10\n', encoding="utf-8")
    with pytest.raises(ConfigError) as error:
        load_settings(path)
    assert "[smtp] batch_size" in str(error.value) and "[smtp] folder" in str(error.value)
    path.write_text('[imap]\nhost = "h"\nfolder = "Apps"\nbatch_size = 10\n', encoding="utf-8")
    assert load_settings(path).imap.folder == "Apps"


def test_the_yearly_closure_replaces_the_default_new_year_days(tmp_path: Path):
    """年末年始 (12/29–1/3) is a default: a secretariat open on 1/3 writes its own days, and the
    replies are due by them; a day that is not MM-DD is refused with its key."""
    from datetime import datetime

    from rules.calendar import JST
    path = tmp_path / "config.toml"
    thursday = datetime(2023, 12, 28, 12, 0, tzinfo=JST)
    assert load_settings(None).calendar.reply_due(thursday) == datetime(2024, 1, 4, 17, 30,
                                                                        tzinfo=JST)
    path.write_text('[calendar]\nyearly_closure = ["12-29", "12-30", "12-31", "01-01", "01-02"]\n',
                    encoding="utf-8")
    assert load_settings(path).calendar.reply_due(thursday) == datetime(2024, 1, 3, 17, 30,
                                                                        tzinfo=JST)
    path.write_text('[calendar]\nyearly_closure = ["12月29日"]\n', encoding="utf-8")
    with pytest.raises(ConfigError, match=r"\[calendar\] yearly_closure は"):
        load_settings(path)
