"""parse_sender_block against the sender blocks applicants really write."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from parsers.sender import SenderDetails, normalise_phone, parse_sender_block

GREETING = (
    "令和4年度「共創型サービスIT連携支援事業」事務局 御中\n\n"
    "お世話になっております。\n応募書類を送付いたします。\n\n"
)

# (body, expected company, title, name, email, phone); None means "must be missing".
BLOCKS: list[tuple[str, tuple[str | None, ...]]] = [
    (
        GREETING + "会社名：株式会社ABCシステムズ\n役職：代表取締役\n氏名：山田 太郎\n"
        "メールアドレス：yamada@abc.co.jp\n電話番号：03-1234-5678\n",
        ("株式会社ABCシステムズ", "代表取締役", "山田 太郎", "yamada@abc.co.jp", "03-1234-5678"),
    ),
    (   # full-width everything, including ＠ and digits
        GREETING + "会社名：株式会社ＡＢＣ\n役職：部長\n氏名：山田太郎\n"
        "メールアドレス：ｙａｍａｄａ＠ａｂｃ．ｃｏ．ｊｐ\n電話番号：０３－１２３４－５６７８\n",
        ("株式会社ＡＢＣ", "部長", "山田太郎", "yamada@abc.co.jp", "03-1234-5678"),
    ),
    (   # 【label】 style, katakana long-vowel mark used as a dash
        "【社名】㈱テスト商事\n【役職名】営業課長\n【担当者名】佐藤花子\n【E-mail】sato@test.jp\n"
        "【TEL】03ー9876ー5432\n",
        ("㈱テスト商事", "営業課長", "佐藤花子", "sato@test.jp", "03-9876-5432"),
    ),
    (   # ASCII colons, Tel/Email labels, tab separators
        "企業名:合同会社ミライ\n役職:CEO\n名前:John Smith\nEmail:\tjohn@mirai.example\n"
        "Tel:\t+81-3-1111-2222\n",
        ("合同会社ミライ", "CEO", "John Smith", "john@mirai.example", "+81-3-1111-2222"),
    ),
    (   # label alone, value on the next line
        "■会社名\n株式会社ZZZ\n■役職\n課長\n■氏名\n田中 一\n■メール\ntanaka@zzz.com\n■電話\n"
        "090-1234-5678\n",
        ("株式会社ZZZ", "課長", "田中 一", "tanaka@zzz.com", "090-1234-5678"),
    ),
    (   # unlabelled signature at the bottom
        GREETING + "以上、よろしくお願いいたします。\n\n--\n株式会社サンプル\n営業部 部長\n鈴木 一郎\n"
        "TEL 06-1111-2222 / FAX 06-1111-3333\nMail: suzuki@sample.co.jp\n",
        ("株式会社サンプル", "部長", "鈴木 一郎", "suzuki@sample.co.jp", "06-1111-2222"),
    ),
    (   # decorated signature, company and name on one line
        GREETING + "━━━━━━━━━━━━━━━━\n一般社団法人 地域DX推進協会\n事務局長 高橋 花\n"
        "〒100-0001 東京都千代田区1-1-1\nTEL：０３（５５５５）１２３４\nE-mail：takahashi@dx.or.jp\n"
        "━━━━━━━━━━━━━━━━\n",
        ("一般社団法人 地域DX推進協会", "事務局長", "高橋 花", "takahashi@dx.or.jp",
         "03(5555)1234"),
    ),
    (   # 所属 only fills 会社名 when no better label exists; 担当 as the name label
        "所属：有限会社まるいち 総務部\n役職：主任\n担当：伊藤\nE-mail：ito@maruichi.jp\n"
        "電話：048-222-3333\n",
        ("有限会社まるいち 総務部", "主任", "伊藤", "ito@maruichi.jp", "048-222-3333"),
    ),
    (
        "会社名：株式会社アルファ\n所属：開発部\n役職：係長\n氏名：中村\nメール：n@alpha.jp\n"
        "TEL：011-000-1111\n",
        ("株式会社アルファ", "係長", "中村", "n@alpha.jp", "011-000-1111"),
    ),
    (   # FAX must not be read as the phone; phone missing
        "会社名：株式会社ベータ\n役職：部長\n氏名：小林\nメールアドレス：k@beta.jp\n"
        "FAX：03-2222-3333\n",
        ("株式会社ベータ", "部長", "小林", "k@beta.jp", None),
    ),
    (   # missing title and phone
        GREETING + "会社名：株式会社ガンマ\n氏名：加藤 次郎\nメールアドレス：kato@gamma.jp\n",
        ("株式会社ガンマ", None, "加藤 次郎", "kato@gamma.jp", None),
    ),
    (   # quoted earlier mail holds a complete block, the new text has only the name
        "氏名：渡辺\n\n> 会社名：株式会社引用\n> 役職：部長\n> メール：q@quoted.jp\n"
        "> 電話：03-0000-0000\n",
        (None, None, "渡辺", None, None),
    ),
    (   # Outlook reply: everything after -----Original Message----- is ignored
        "ご確認ください。\n氏名：松本\n\n-----Original Message-----\nFrom: 事務局\n"
        "会社名：株式会社オリジナル\n電話番号：03-1111-1111\n",
        (None, None, "松本", None, None),
    ),
    (   # Gmail-style reply header
        "役職：取締役\n\n2022年8月10日(水) 10:00 事務局 <it-renkei@example.go.jp>:\n\n"
        "On Wed, Aug 10, 2022 at 10:00 AM 事務局 <it-renkei@example.go.jp> wrote:\n"
        "会社名：株式会社ウソ\n",
        (None, "取締役", None, None, None),
    ),
    (   # Japanese mailer reply marker
        "会社名：株式会社デルタ\n\n山田さんは書きました:\n役職：部長\n",
        ("株式会社デルタ", None, None, None, None),
    ),
    (   # Outlook (Japanese) header block of the quoted mail
        "電話番号：03-4444-5555\n\n差出人: 事務局 <it-renkei@example.go.jp>\n"
        "送信日時: 2022年8月10日 10:00\n宛先: 山田\n会社名：株式会社ウソ\n",
        (None, None, None, None, "03-4444-5555"),
    ),
    (   # numbered list and dashes of every kind
        "1. 会社名：株式会社イプシロン\n2. 役職：マネージャー\n3. 氏名：林 三郎\n"
        "4. メールアドレス：hayashi@eps.co.jp\n5. 電話番号：06‐7777－8888\n",
        ("株式会社イプシロン", "マネージャー", "林 三郎", "hayashi@eps.co.jp", "06-7777-8888"),
    ),
    (   # one contact line with both, the generic 連絡先 label
        "会社名：株式会社ゼータ\n役職：主任\n氏名：森\n連絡先：03-5555-6666 / mori@zeta.co.jp\n",
        ("株式会社ゼータ", "主任", "森", "mori@zeta.co.jp", "03-5555-6666"),
    ),
    (   # TEL and Mail on one line, full-width
        "会社名：株式会社イータ\n役職：課長\n氏名：原\n"
        "ＴＥＬ：０６－１２３４－５６７８　Ｍａｉｌ：ｈａｒａ＠ｅｔａ．ｊｐ\n",
        ("株式会社イータ", "課長", "原", "hara@eta.jp", "06-1234-5678"),
    ),
    ("", (None, None, None, None, None)),
    ("添付の通りです。", (None, None, None, None, None)),
]


@pytest.mark.parametrize(("body", "expected"), BLOCKS)
def test_sender_blocks(body: str, expected: tuple[str | None, ...]) -> None:
    details = parse_sender_block(body)
    got = (details.company, details.title, details.name, details.email, details.phone)
    assert got == expected


def test_enough_blocks_for_the_brief() -> None:
    assert len(BLOCKS) >= 15


def test_missing_names_fields_in_program_page_order() -> None:
    details = SenderDetails(company="A", title=None, name="B", email=None, phone=None)
    assert details.missing == ("役職", "メールアドレス", "電話番号")
    assert SenderDetails("A", "B", "C", "d@e.jp", "03-0000-0000").missing == ()


def test_missing_from_a_parsed_body() -> None:
    details = parse_sender_block("会社名：株式会社X\n氏名：山田\n")
    assert details.missing == ("役職", "メールアドレス", "電話番号")


def test_crlf_bodies_read_like_lf() -> None:
    body = BLOCKS[0][0]
    assert parse_sender_block(body.replace("\n", "\r\n")) == parse_sender_block(body)


@pytest.mark.parametrize(
    ("raw", "phone"),
    [("０３－１２３４－５６７８", "03-1234-5678"), ("03―1234―5678", "03-1234-5678"),
     ("03 1234 5678", "03-1234-5678"), ("(03)1234-5678", "(03)1234-5678"),
     ("内線なし 090ｰ1234ｰ5678", "090-1234-5678"), ("123", None), ("なし", None)],
)
def test_phone_normalisation(raw: str, phone: str | None) -> None:
    assert normalise_phone(raw) == phone


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=400))
def test_never_raises_on_arbitrary_text(text: str) -> None:
    details = parse_sender_block(text)
    assert len(details.missing) <= 5


@settings(max_examples=100, deadline=None)
@given(st.lists(st.sampled_from(["会社名：", "【TEL】", "メール：", "> ", "役職", "\n", "＠", "0",
                                 "-----Original Message-----", "氏名\t", "株式会社", "部長", " "]),
                max_size=40))
def test_never_raises_on_label_soup(parts: list[str]) -> None:
    parse_sender_block("".join(parts))
