"""Japanese text with no charset declared: EUC-JP from old Unix mailers and scripts, CP932 from
Windows ones. The bytes are made by glibc's iconv, as those systems made them, never by the
product's own codecs; the mails are written by hand, 8-bit, the way such a mailer sends them."""

from __future__ import annotations

import subprocess

import pytest

from parsers.headerdecode import decode_header
from parsers.mime import parse_message
from parsers.textcodec import decode_bytes

# Kanji alone: no kana to tell EUC-JP from CP932 by. Names, subjects and words of the forms.
EUC_KANJI_ONLY = [
    "山田太郎", "田中", "佐藤", "渡辺", "山本", "高橋", "吉田", "松本", "木村", "林", "森",
    "池田", "橋本", "前田", "青木", "西村", "原田", "田村", "丸山", "片山", "宮本", "柴田",
    "申請", "申請書", "電話", "確認", "承認", "提出", "交付申請書", "申請書類提出", "交付決定通知",
    "事業計画書", "経費明細表", "補助金交付申請", "連携事業", "令和六年度", "代表取締役社長",
    "法人番号", "所在地", "東京都千代田区", "見積書", "請求書", "領収書",
]
# Windows text that is also valid EUC-JP, or close to it: these must stay CP932.
CP932_SHORT = [
    "ﾃｽﾄ", "ｱﾝｹｰﾄ", "ｲｹﾀﾞ", "ﾏﾂﾀﾞ", "ﾃﾞｰﾀ", "ｼﾝｾｲｼｮ", "ﾀﾅｶ ﾀﾛｳ", "ｶﾌﾞｼｷｶﾞｲｼｬ ﾐﾅﾄ", "ｶﾀｶﾅ",
    "ｱｲｳｴ", "ﾁｪｯｸ", "ｼｮｳﾋﾝ", "ﾃﾞｰﾀ送付", "申請書", "テスト", "山田太郎", "交付申請書",
    "株式会社みなと精機", "①誓約書（㈱テスト）",
    # Also "valid" UTF-8 (Thaana, Greek, combining marks) or UTF-8 with one broken byte.
    "ﾔﾏｻﾞｷ", "ﾌｼﾞｲ", "ｵﾈｶﾞｲ",
]


def iconv(text: str, charset: str) -> bytes:
    return subprocess.run(["iconv", "-f", "UTF-8", "-t", charset], input=text.encode(),
                          capture_output=True, check=True).stdout


def unix_mail(subject: bytes, name: bytes, body: bytes) -> bytes:
    """A mail as an old Unix script sends it: raw 8-bit headers and body, no MIME labels."""
    return (b"From: " + name + b" <yamada@example.co.jp>\nTo: it-renkei@example.go.jp\n"
            b"Subject: " + subject + b"\nDate: Mon, 1 Jul 2024 10:00:00 +0900\n"
            b"Message-ID: <euc-1@example.co.jp>\n\n" + body + b"\n")


@pytest.mark.parametrize("text", EUC_KANJI_ONLY)
def test_undeclared_euc_jp_kanji_reads_as_euc_jp(text: str) -> None:
    raw = iconv(text, "EUC-JP")
    assert decode_header(raw).text == text
    assert decode_bytes(raw, None).text == text


def test_a_raw_euc_jp_mail_of_kanji_alone() -> None:
    record = parse_message(unix_mail(iconv("交付申請書類提出", "EUC-JP"),
                                     iconv("山田太郎", "EUC-JP"),
                                     iconv("申請書類\n提出期限\n連携事業計画", "EUC-JP")))
    assert record.subject == "交付申請書類提出"
    assert record.from_name == "山田太郎"
    assert record.body.split() == ["申請書類", "提出期限", "連携事業計画"]


def test_a_text_part_without_charset_in_euc_jp() -> None:
    raw = (b"From: a@example.co.jp\nSubject: test\nMIME-Version: 1.0\n"
           b"Content-Type: text/plain\nContent-Transfer-Encoding: 8bit\n\n"
           + iconv("事業者名\n法人番号\n所在地\n", "EUC-JP"))
    assert parse_message(raw).body.split() == ["事業者名", "法人番号", "所在地"]


@pytest.mark.parametrize("text", CP932_SHORT)
def test_short_cp932_texts_stay_cp932(text: str) -> None:
    raw = iconv(text, "CP932")
    assert decode_header(raw).text == text
    assert decode_bytes(raw, None).text == text


def test_euc_jp_with_kana_still_reads_as_euc_jp() -> None:
    for text in ("申請書類の送付", "株式会社みなと精機", "テストです"):
        assert decode_bytes(iconv(text, "EUC-JP"), None).text == text


@pytest.mark.parametrize("text", ["niño", "über", "São Paulo", "Ελλάδα", "Привет", "±5", "25°C",
                                  "¡Hola!", "café crème"])
def test_undeclared_utf8_of_other_languages_stays_utf8(text: str) -> None:
    assert decode_bytes(text.encode("utf-8"), None).text == text
