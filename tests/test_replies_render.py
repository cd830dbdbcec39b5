"""Reply templates: what each kind says, and a broken override failing at start-up."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from ingest.answering import reply_context, sample_context
from ingest.config import Settings
from replies.render import KINDS, Renderer, TemplateProblem
from rules.calendar import JST
from rules.findings import CATALOG, Finding, finding

FILES = ["4_交付申請書_テスト.xlsx", "5_補助事業概要書.pdf", "7_誓約書_㈱テスト.pdf"]


RECEIVED = datetime(2022, 8, 10, 10, 15, tzinfo=JST)
NAME = "港町DX連携コンソーシアム"


def context(findings: list[Finding], files: list[str] | None = None, *,
            consortium: str | None = NAME, received: datetime = RECEIVED,
            settings: Settings | None = None) -> dict[str, Any]:
    """The pipeline's own context (so the variable names and values are the real ones)."""
    return reply_context(
        settings or Settings(), {"id": 42, "consortium": consortium}, findings,
        {"sender": {"company": "株式会社テスト", "name": "山田 太郎"}}, received,
        FILES if files is None else files)


def test_receipt_lists_every_file_received_one_per_line():
    subject, body = Renderer().render("receipt", context([]))
    assert subject == f"【受付確認】<{NAME}>令和4年度「共創型サービスIT連携支援補助金」 応募書類送付"
    assert "受け付けました" in body and "山田 太郎 様" in body
    lines = body.splitlines()
    for number, name in enumerate(FILES, 1):
        assert f"  {number}. {name}" in lines
    assert f"受信したファイル({len(FILES)} 件)" in body
    assert "2022年8月10日(水) 10:15 に受信いたしました" in body


def test_receipt_without_attachments_says_so():
    _, body = Renderer().render("receipt", context([], files=[]))
    assert "(添付ファイルはありません)" in body


def test_deficiency_lists_each_finding_with_fix_and_deadline():
    findings = [
        finding("SENDER_DETAILS_MISSING", "メール本文に次の差出人情報の記載がありません：電話番号"),
        finding("DOCUMENT_MISSING", "誓約書がありません", member="株式会社テスト",
                document="pledge"),
        finding("DOCUMENT_MISSING", "納税証明書がありません", member="有限会社みなと",
                document="tax"),
    ]
    subject, body = Renderer().render("deficiency", context(findings))
    assert subject.startswith(f"【不備連絡】<{NAME}>")
    assert "不備がございました(2 項目)" in body
    for f in findings:
        assert f.detail in body
    # one heading and one fix per code, each finding under it with its member and document
    assert body.count("必要書類が添付されていません") == 1
    assert body.count(f"ご対応: {CATALOG['DOCUMENT_MISSING'].fix}") == 1
    assert "(対象: 株式会社テスト)(書類: 7. 誓約書)" in body
    assert body.count("期限: 2022年9月9日(金) 23:59") == 2
    assert "メール本文に会社名、役職、氏名、メールアドレス、電話番号をご記載ください。" in body
    assert f"件名: <{NAME}>令和4年度「共創型サービスIT連携支援補助金」 応募書類送付" in body


def test_password_request_and_out_of_period_say_what_happened():
    pw = [finding("ARCHIVE_PASSWORD_MISSING", "申請書類.zip のパスワードが届いていません")]
    subject, body = Renderer().render("password_request", context(pw))
    assert subject.startswith(f"【パスワード未着】<{NAME}>")
    assert "申請書類.zip のパスワードが届いていません" in body and "別のメール" in body
    late = [finding("OUTSIDE_PERIOD", "締切後です")]
    subject, body = Renderer().render(
        "out_of_period", context(late, received=datetime(2022, 9, 10, 0, 3, tzinfo=JST)))
    assert subject.startswith(f"【受付期間外】<{NAME}>")
    assert "2022年8月3日(水) 0:00〜2022年9月9日(金) 23:59)の締切後に届いた" in body


def test_builtin_templates_pass_the_start_up_check():
    Renderer().self_check(sample_context(Settings()))


def override(tmp_path: Path, name: str, text: str) -> Path:
    folder = tmp_path / "templates"
    folder.mkdir(exist_ok=True)
    (folder / name).write_text(text, encoding="utf-8")
    return folder


def check(folder: Path) -> None:
    Renderer(folder).self_check(sample_context(Settings()))


def test_override_is_used(tmp_path):
    folder = override(tmp_path, "receipt.j2",
                      "受付しました {{ submission.id }}\n{{ sender_salutation }}\n本文です\n")
    check(folder)
    subject, body = Renderer(folder).render("receipt", context([]))
    assert subject == "受付しました 42"
    assert body.endswith("本文です\n")


@pytest.mark.parametrize(("source", "expected"), [
    ("件名\n{{ sendr_salutation }}\n", ["receipt.j2", "2 行目", "sendr_salutation",
                                      "sender_salutation"]),
    # a typo inside a branch the sample might not take is still caught (static check)
    ("件名\n\n{% if notices %}{{ submission.consortum }}{% endif %}\n",
     ["3 行目", "consortum", "consortium"]),
    ("件名\n{% for f in deficiencies %}{{ f.meening }}{% endfor %}\n", ["meening", "meaning"]),
    ("件名\n{% for x in files %}{{ x }\n", ["2 行目", "書き方が正しくありません"]),
    ("件名\n{% include '_footr.j2' %}\n", ["_footr.j2", "見つかりません"]),
    ("\n本文だけ\n", ["1行目(件名)が空です"]),
])
def test_broken_override_fails_at_start_up_with_a_clear_message(tmp_path, source, expected):
    folder = override(tmp_path, "receipt.j2", source)
    with pytest.raises(TemplateProblem) as caught:
        check(folder)
    message = str(caught.value)
    assert str(folder / "receipt.j2") in message or "_footr.j2" in message
    for part in expected:
        assert part in message


def test_names_a_template_binds_itself_are_not_unknown(tmp_path):
    folder = override(tmp_path, "receipt.j2", (
        "件名 {{ submission.id }}\n"
        "{% set total = files | length %}{% with count = files | length %}{{ count }}{% endwith %}\n"
        "{% macro line(text) %}・{{ text }}{% endmacro %}{{ line(total) }}\n"
        "{% for group in deficiencies | by_code %}{{ group.meaning }}{% endfor %}\n"
        "{% for a, b in [(1, 2)] %}{{ a }}{{ b }}{% endfor %}\n"))
    check(folder)


def test_a_template_that_breaks_on_a_mail_without_files_fails_at_start_up(tmp_path):
    folder = override(tmp_path, "receipt.j2", "件名\n最初のファイル: {{ files[0] }}\n")
    with pytest.raises(TemplateProblem, match="2 行目"):
        check(folder)


def test_misnamed_override_file_is_refused(tmp_path):
    folder = override(tmp_path, "reciept.j2", "件名\n本文\n")
    with pytest.raises(TemplateProblem, match="reciept.j2 は使われません"):
        Renderer(folder)


def test_missing_override_folder_is_refused(tmp_path):
    with pytest.raises(TemplateProblem, match="ありません"):
        Renderer(tmp_path / "nowhere")


def test_a_broken_override_stops_the_cli_before_any_mail_is_read(tmp_path, capsys):
    from ingest.cli import main

    folder = override(tmp_path, "deficiency.j2", "件名\n{{ unknown_name }}\n")
    mails = tmp_path / "mails"
    mails.mkdir()
    config = tmp_path / "config.toml"
    config.write_text(f'[paths]\nledger = "l.db"\nblobs = "b"\noutbox = "o"\n'
                      f'[replies]\ntemplates_dir = "{folder}"\n', encoding="utf-8")
    assert main(["--config", str(config), "replay", str(mails)]) == 2
    err = capsys.readouterr().err
    assert "deficiency.j2" in err and "unknown_name" in err


def test_every_kind_has_a_template():
    for kind in KINDS:
        subject, body = Renderer().render(kind, sample_context(Settings()))
        assert subject and body
