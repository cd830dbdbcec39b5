"""The program's name is written once: the signature and From: name follow [program], a
[secretariat] name that calls the program otherwise is refused at start-up; the inquiry
contact printed in every reply comes from [secretariat]."""

from __future__ import annotations

from pathlib import Path

import pytest

from ingest.answering import reply_context, sample_context
from ingest.cli import main
from ingest.config import ConfigError, load_settings
from replies.render import Renderer
from tests.conftest import REPO


def settings_from(tmp_path: Path, text: str):
    path = tmp_path / "config.toml"
    path.write_text(text, encoding="utf-8")
    return load_settings(path)


def test_the_signature_is_built_from_the_program(tmp_path):
    settings = settings_from(tmp_path, '[program]\nyear_label = "令和5年度"\n'
                                       'subsidy_name = "共創型サービスIT連携支援補助金(二次公募)"\n')
    assert settings.secretariat_name == "令和5年度「共創型サービスIT連携支援補助金(二次公募)」事務局"
    subject, body = Renderer().render("receipt", sample_context(settings))
    assert body.count("令和5年度「共創型サービスIT連携支援補助金(二次公募)」事務局") == 2  # greeting, signature
    assert "令和5年度「共創型サービスIT連携支援補助金(二次公募)」 応募書類送付" in subject
    assert "事業」事務局" not in body


def test_the_example_config_names_the_program_once():
    settings = load_settings(REPO / "config.example.toml")
    assert settings.secretariat_name == "令和4年度「共創型サービスIT連携支援補助金」事務局"
    assert settings.inquiry_email == "it-renkei@example.go.jp"


def test_a_secretariat_name_that_calls_the_program_otherwise_is_refused(tmp_path):
    with pytest.raises(ConfigError) as error:
        settings_from(tmp_path, '[secretariat]\nname = "令和4年度「共創型サービスIT連携支援事業」事務局"\n')
    assert "[secretariat] name" in str(error.value)
    assert "共創型サービスIT連携支援補助金" in str(error.value)


def test_the_refusal_is_one_sentence_and_exit_2(tmp_path, capsys):
    path = tmp_path / "config.toml"
    path.write_text('[secretariat]\nname = "支援事業事務局"\n', encoding="utf-8")
    assert main(["--config", str(path), "replay", str(tmp_path), "--dry-run"]) == 2
    err = capsys.readouterr().err
    assert "[secretariat] name" in err and "Traceback" not in err


def test_a_name_that_contains_the_program_name_is_kept(tmp_path):
    settings = settings_from(tmp_path, '[secretariat]\nname = '
                                       '"令和4年度「共創型サービスIT連携支援補助金」事務局(デロイト)"\n')
    assert settings.secretariat_name.endswith("(デロイト)")


def test_the_inquiry_contact_is_printed_in_every_kind(tmp_path):
    settings = settings_from(tmp_path, '[secretariat]\ninquiry_email = "toiawase@example.go.jp"\n'
                                       'inquiry_phone = "03-1234-5678"\n'
                                       '[calendar]\nopen = "10:00"\nclose = "17:00"\n')
    for kind in ("receipt", "deficiency", "out_of_period", "password_request"):
        _, body = Renderer().render(kind, sample_context(settings))
        assert "メール: toiawase@example.go.jp" in body
        assert "電話: 03-1234-5678(受付時間: 平日 10:00〜17:00)" in body


def test_without_a_phone_no_phone_line(tmp_path):
    _, body = Renderer().render("receipt", sample_context(settings_from(tmp_path, "")))
    assert "電話" not in body and "メール: it-renkei@example.go.jp" in body


def test_an_inquiry_address_that_is_not_an_address_is_refused(tmp_path):
    with pytest.raises(ConfigError, match=r"\[secretariat\] inquiry_email"):
        settings_from(tmp_path, '[secretariat]\ninquiry_email = "電話でお問い合わせください"\n')


def test_context_names_the_time_relative_to_the_period():
    from datetime import datetime

    from ingest.config import Settings
    from rules.calendar import JST

    def timing(moment):
        return reply_context(Settings(), {"id": 1, "consortium": None}, [], {}, moment,
                             [])["timing"]

    assert timing(datetime(2022, 8, 2, 23, 59, tzinfo=JST)) == "受付開始前"
    assert timing(datetime(2022, 8, 3, 0, 0, tzinfo=JST)) is None
    assert timing(datetime(2022, 9, 9, 23, 59, 59, tzinfo=JST)) is None
    assert timing(datetime(2022, 9, 10, 0, 0, tzinfo=JST)) == "締切後"
