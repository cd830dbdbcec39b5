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
    ('[imap]\nhost = "h"\ntls = "ssl"\n', "imap.tls"),
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
