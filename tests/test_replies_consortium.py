"""Replies from real mails (replay --dry-run): the consortium is named in every reply, from
the subject, else the forms, else the file names; every reply decodes in Python's email
package without a replacement character, in UTF-8 and in ISO-2022-JP."""

from __future__ import annotations

import io
import re
import zipfile
from pathlib import Path

import pytest

from ingest.cli import main
from tests.mail_readers import read, rfc2047, shown_text
from tests.mails import CORE, LEAD, VALID_CONSORTIUM, VALID_ZIP, documents, mail

IN_PERIOD = "Wed, 10 Aug 2022 10:15:00 +0900"
BODY = ("令和4年度「共創型サービスIT連携支援補助金」事務局 御中\n\n"
        "会社名：㈱髙橋製作所\n役職：代表取締役\n氏名：髙橋 一郎\n"
        f"メールアドレス：{LEAD}\n電話番号：045-123-4567\n")


def zipped(files: dict[str, bytes]) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        for name, data in files.items():
            archive.writestr(name, data)
    return out.getvalue()


def replies(tmp_path: Path, mails: dict[str, bytes], charset: str = "utf-8") -> dict[str, bytes]:
    """Replay `mails` with --dry-run; the rendered replies by the name of the mail."""
    folder = tmp_path / "mails"
    folder.mkdir()
    for name, raw in mails.items():
        (folder / f"{name}.eml").write_bytes(raw)
    config = tmp_path / "config.toml"
    config.write_text('[paths]\nledger = "l.db"\nblobs = "b"\noutbox = "o"\n'
                      f'[replies]\ncharset = "{charset}"\n', encoding="utf-8")
    assert main(["--config", str(config), "replay", str(folder), "--dry-run"]) == 0
    rendered = sorted((tmp_path / "o" / "dry-run").glob("*.eml"))
    by_mail = {}
    for path in rendered:
        raw = path.read_bytes()
        in_reply_to = read(raw).raw_headers["In-Reply-To"]
        by_mail[re.sub(r"[<>]|@test", "", in_reply_to)] = raw
    return by_mail


def the_mails() -> dict[str, bytes]:
    named_forms = {f"書類{i}.{name.rsplit('.', 1)[1]}": data for i, (name, data) in enumerate(
        documents("フォーム記載連携コンソーシアム").items())}
    return {
        "subject": mail(f"<{VALID_CONSORTIUM}>{CORE}", BODY, LEAD, "<subject@test>",
                        attachments={"申請書類.zip": VALID_ZIP.read_bytes()}, received=IN_PERIOD),
        "forms": mail(CORE, BODY, "forms@forms.example.jp", "<forms@test>",
                      attachments={"申請.zip": zipped(named_forms)}, received=IN_PERIOD),
        "files": mail(CORE, BODY, "files@files.example.jp", "<files@test>",
                      attachments={"4_交付申請書_ファイル名連携コンソーシアム.pdf": b"%PDF-1.4 broken",
                                   "5_補助事業概要書_ファイル名連携コンソーシアム.pdf": b"%PDF-1.4 x"},
                      received=IN_PERIOD),
        "none": mail(CORE, BODY, "none@none.example.jp", "<none@test>",
                     attachments={"申請書.pdf": b"%PDF-1.4 x"}, received=IN_PERIOD),
        "late": mail(f"<遅延連携コンソーシアム>{CORE}", BODY, "late@late.example.jp", "<late@test>",
                     attachments={"申請書類.zip": VALID_ZIP.read_bytes()},
                     received="Sat, 10 Sep 2022 00:03:00 +0900"),
    }


EXPECTED = {
    "subject": VALID_CONSORTIUM,
    "forms": "フォーム記載連携コンソーシアム",
    "files": "ファイル名連携コンソーシアム",
    "none": None,
    "late": "遅延連携コンソーシアム",
}


@pytest.mark.parametrize("charset", ["utf-8", "iso-2022-jp"])
def test_every_reply_names_the_consortium_and_decodes_cleanly(tmp_path, charset):
    got = replies(tmp_path, the_mails(), charset)
    assert set(got) == set(EXPECTED)
    for name, consortium in EXPECTED.items():
        raw = got[name]
        mail_read = read(raw)
        text = shown_text(raw)
        for part in (*mail_read.texts, mail_read.subject, mail_read.display_name):
            assert "\ufffd" not in part, (name, part)
        assert mail_read.display_name == "令和4年度「共創型サービスIT連携支援補助金」事務局"
        assert rfc2047(mail_read.raw_headers["Subject"]) == mail_read.subject
        if consortium:
            assert f"■ コンソーシアム名: {consortium}\n" in text, (name, text)
            assert f"<{consortium}>令和4年度「共創型サービスIT連携支援補助金」 応募書類送付" in mail_read.subject
        else:
            assert "■ コンソーシアム名: (件名・様式・ファイル名から読み取れませんでした)" in text
        assert "お世話になっております。" in text and "何卒よろしくお願いいたします。" in text
        assert "髙橋 一郎 様" in text  # the UTF-8 alternative keeps the name as written
        if charset == "iso-2022-jp":
            assert mail_read.texts[0].startswith("(株)高橋製作所\n高橋 一郎 様\n")  # JIS part
    assert "【受付期間外】" in read(got["late"]).subject
    assert "受付番号" not in shown_text(got["late"])
    assert "【受付確認】" in read(got["subject"]).subject


def test_a_notice_for_a_nameless_subject_offers_the_forms_name_for_the_new_subject(tmp_path):
    got = replies(tmp_path, {"forms": the_mails()["forms"]})
    text = shown_text(got["forms"])
    assert "件名: <フォーム記載連携コンソーシアム>令和4年度「共創型サービスIT連携支援補助金」 応募書類送付" in text
    assert "同じ件名" not in text
