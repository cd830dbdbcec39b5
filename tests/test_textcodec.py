"""parsers/textcodec: charsets, header values and attachment names of real Japanese mail.

Every expected string in CORPUS_CASES was read by hand from the mail and cross-checked with a
different decoder (nkf --ic=CP50221 / iconv -f CP932|EUC-JP on the base64- or percent-decoded
bytes), never copied from textcodec's own output.
"""

from __future__ import annotations

import base64
import email
import email.header
import email.policy
from email.message import Message
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from parsers.charsetlabels import codec_for
from parsers.headerdecode import decode_header
from parsers.jiscodecs import MS_EUC, MS_JIS
from parsers.partnames import part_filename
from parsers.textcodec import Decoded, decode_bytes

# --------------------------------------------------------------------------------------------
# helpers


def _message(corpus_dir: Path, path: str) -> Message:
    owner, name, rest = path.split("/", 2)  # MANIFEST style: owner/name/path in repo
    raw = (corpus_dir / f"{owner}+{name}" / rest).read_bytes()
    return email.message_from_bytes(raw, policy=email.policy.compat32)


def _leaves(msg: Message) -> list[Message]:
    return [part for part in msg.walk() if not part.is_multipart()]


def _header(msg: Message, name: str, index: int) -> Decoded:
    """The index-th occurrence of a header across the message and its nested messages."""
    values = [v for part in msg.walk() for v in (part.get_all(name) or [])]
    return decode_header(values[index])


def _body(msg: Message, index: int) -> Decoded:
    part = _leaves(msg)[index]
    return decode_bytes(part.get_payload(decode=True) or b"", part.get_content_charset())


def _raw_part(headers: bytes) -> Message:
    return email.message_from_bytes(headers + b"\r\n\r\nbody\r\n", policy=email.policy.compat32)


def _b(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


# --------------------------------------------------------------------------------------------
# real mail: (corpus path, what, index, expected)
#   what = header name (index = occurrence across nested messages), "filename" (index = leaf
#   part), "body" (whole text of leaf part, stripped) or "body~" (a line of that text)

JORURI = "joruri/joruri-mail/test/fixtures/emails"
JPMOBILE = "jpmobile/jpmobile/spec/unit/email-fixtures"
FML = "fmlorg/fml8/regress"
SISIMAI = "sisimai/set-of-emails/maildir/bsd"
FURYUTEI = "furyutei/email_decoder/sample/email/サンプル mail 【試験用】_Gmail.eml"
ISSUE_410 = ("☆第132号\u3000「ガーデン&エクステリア」専門店のためのＱ&Ａサロン\u3000"
             "【月刊エクステリア・ワーク】")

CORPUS_CASES: list[tuple[str, str, int, str]] = [
    # subjects
    ("redmine/redmine/test/fixtures/mail_handler/subject_japanese_3.eml", "Subject", 0,
     "① 丸数字テスト"),  # NEC row 13 under an ISO-2022-JP label
    ("redmine/redmine/test/fixtures/mail_handler/subject_japanese_2.eml", "Subject", 0,
     "Re: テスト"),  # bad base64 padding and an encoded line break
    ("mikel/mail/spec/fixtures/emails/rfc2822/example14.eml", "Subject", 0,
     "Re: TEST \tテストテスト"),  # folded; the space between the two words goes
    (f"{JPMOBILE}/pc-mail-single.eml", "Subject", 0,
     "タイトルの長いメールの場合の対処を実装するためのテストケースとしての"
     "メールに含まれている件名であるサブジェクト部分"),
    (f"{JPMOBILE}/iphone-cp932.eml", "Subject", 0, "Re: 【NKSC】test"),
    (f"{JPMOBILE}/docomo-gmail-sjis.eml", "Subject", 0, "テスト\ue6ec"),  # docomo emoji F991
    (f"{FML}/testmails/text=plain.jp", "Subject", 0, "[elena:00300] カードキャプターさくら映画版"),
    (f"{SISIMAI}/lhost-exchange2007-04.eml", "Subject", 0,
     "Undeliverable: キジトラ・フラッシュ/ニャーン"),  # ャ split between two JIS words
    (f"{FML}/errormails/freeserve.ne.jp", "Subject", 0,
     "Subject: 【freeserve管理メール】メールを受け取ることが出来ませんでした。"),  # raw JIS
    (f"{FML}/errormails/lotus", "Subject", 0, "[XXXXXXX:08268] Re: ぼくルド"),  # raw JIS
    (f"{FML}/errormails/pakeo.ne.jp", "Subject", 0, "メールを送信できません"),  # raw JIS
    (f"{FML}/errormails/umin.ac.jp", "Subject", 0,
     "メール配信サーバ障害（２月２２日）のご連絡"),  # raw EUC-JP
    (f"{SISIMAI}/lhost-kddi-01.eml", "Subject", 0, "メールエラー通知"),  # raw UTF-8
    ("mikel/mail/spec/fixtures/emails/multi_charset/japanese_attachment_long_name.eml",
     "Subject", 0, "まみむめも" * 10),
    (f"{JORURI}/charset/euc-jp.eml", "Subject", 0, "エンコードテスト EUC-JP"),
    (f"{JORURI}/charset/iso-2022-jp-2.eml", "Subject", 0, "エンコードテスト ISO-2022-JP-2"),
    (f"{JORURI}/charset/iso-2022-jp_7bit.eml", "Subject", 0, "エンコードテスト ISO-2022-JP"),
    (f"{JORURI}/charset/shift-jis.eml", "Subject", 0, "エンコードテスト Shift-JIS"),
    (f"{JORURI}/charset/shift_jis.eml", "Subject", 0, "エンコードテスト Shift_JIS"),
    (f"{JORURI}/charset/gb2312.eml", "Subject", 0, "エンコードテスト GB2312字符串转GB2312"),
    ("Webklex/php-imap/tests/messages/issue-410.eml", "Subject", 0, ISSUE_410),
    (FURYUTEI, "Subject", 0, "サンプル mail 【試験用】"),
    (f"{JORURI}/attachment/rfc2231.eml", "Subject", 0, "添付ファイル RFC2231テスト"),
    # From display names
    (FURYUTEI, "From", 0, "風柳 <furyutei@gmail.com>"),
    ("shirasagi/shirasagi/spec/fixtures/mail_page/basic/ISO-2022-JP.eml", "From", 0,
     "伊藤悠 <sample@example.jp>"),
    ("shirasagi/shirasagi/spec/fixtures/webmail/space-separated-address-with-dn.eml", "From", 0,
     "あいうえお <user5@example.jp>"),
    (f"{SISIMAI}/lhost-x5-01.eml", "From", 0,
     '"Mail Delivery Subsystem" <MAILER-DAEMON@example.co.jp>'),  # encoded word in quotes
    (f"{SISIMAI}/lhost-x5-01.eml", "From", 2, "アドレス確認＜FIKT＞ <shironeko@cat.example.co.jp>"),
    (f"{JORURI}/charset/euc-jp.eml", "From", 0, "システム <admin@localhost>"),
    (f"{JORURI}/charset/shift_jis.eml", "From", 0, "システム <admin@localhost>"),
    (f"{JORURI}/charset/iso-2022-jp-2.eml", "From", 0, "システム <admin@localhost>"),
    # attachment names
    (f"{JORURI}/charset/euc-jp.eml", "filename", 1, "エンコードテスト.txt"),  # RFC 2047 EUC
    (f"{JORURI}/charset/euc-jp.eml", "filename", 2, "エンコードテスト.txt"),  # RFC 2231 EUC
    (f"{JORURI}/charset/shift-jis.eml", "filename", 1, "エンコードテスト.txt"),
    (f"{JORURI}/charset/shift-jis.eml", "filename", 2, "エンコードテスト.txt"),  # %5B = [
    (f"{JORURI}/charset/iso-2022-jp_7bit.eml", "filename", 1, "エンコードテスト.txt"),
    ("Webklex/php-imap/tests/messages/issue-410.eml", "filename", 0, ISSUE_410),
    ("mikel/mail/spec/fixtures/emails/multi_charset/japanese_attachment_long_name.eml",
     "filename", 0, "かきくけこ" * 5 + ".txt"),  # filename*0*/*1* cut between characters
    (f"{JORURI}/attachment/rfc2231.eml", "filename", 1, "テスト.txt"),
    (f"{JORURI}/attachment/rfc2231.eml", "filename", 3, "複数行テスト複数行テスト.txt"),  # mid-char
    ("shirasagi/shirasagi/spec/fixtures/webmail/inlined_content_disposition.eml", "filename", 1,
     "テストあいう.txt"),
    ("jhillyerd/enmime/testdata/mail/mime-bad-8bit-filename.raw", "filename", 1, "管理.doc"),
    (f"{JORURI}/attachment/invalid_charset_iso-2022-jp.eml", "filename", 1, "テスト"),  # raw JIS
    (FURYUTEI, "filename", 2, "風アイコン16.png"),
    (FURYUTEI, "filename", 3, "風アイコン32.zip"),
    (f"{JORURI}/attachment/invalid_quotation.eml", "filename", 1, "クオテーションなし"),
    (f"{JORURI}/attachment/invalid_quotation.eml", "filename", 2, "クオテーションが先頭に不足"),
    (f"{JORURI}/attachment/invalid_quotation.eml", "filename", 7,
     "一部のクオテーションが末尾に不足"),
    # bodies
    (f"{JORURI}/attachment/invalid_charset_iso-2022-jp.eml", "body", 0, "本文"),
    (f"{JORURI}/charset/iso-2022-jp_7bit.eml", "body", 0, "本文がISO-2022-JPです。"),
    ("mikoim/email2slack/tests/data/shift_jis.txt", "body", 0,
     "このメールはShift_JISでエンコードされています．"),
    ("mikoim/email2slack/tests/data/iso-2022-jp.txt", "body", 0,
     "このメールはISO-2022-JPでエンコードされています．"),
    (f"{JPMOBILE}/iphone-cp932.eml", "body", 0, "テストです。㈱"),
    ("shirasagi/shirasagi/spec/fixtures/webmail/inlined_content_disposition.eml", "body", 1,
     "あいうえお"),
    ("mikel/mail/spec/fixtures/emails/multi_charset/japanese_iso_2022.eml", "body", 0,
     "すみません。"),
    ("mikel/mail/spec/fixtures/emails/multi_charset/japanese_shift_jis.eml", "body~", 0,
     "このメールはテスト用のメールです。"),
    (f"{SISIMAI}/lhost-ezweb-03.eml", "body~", 0,  # EUC-JP labelled ISO-2022-JP
     "次のあて先へのメッセージはエラーのため送信できませんでした。"),
    (f"{SISIMAI}/lhost-kddi-01.eml", "body~", 0,  # UTF-8 labelled ISO-2022-JP
     "送信先のメールボックスが一杯のため、送信できませんでした。"),
]


@pytest.mark.parametrize(("path", "what", "index", "expected"), CORPUS_CASES)
def test_real_mail_decodes_to_hand_checked_text(
    corpus_dir: Path, path: str, what: str, index: int, expected: str
) -> None:
    msg = _message(corpus_dir, path)
    if what == "filename":
        decoded = part_filename(_leaves(msg)[index])
        assert decoded is not None
        assert decoded.text == expected
    elif what == "body":
        assert _body(msg, index).text.strip() == expected
    elif what == "body~":
        assert expected in _body(msg, index).text.splitlines()
    else:
        assert _header(msg, what, index).text == expected


def test_nec_and_ibm_rows_of_a_real_au_mail(corpus_dir: Path) -> None:
    """au-kigou.eml is every JIS symbol row plus NEC row 13, labelled plain ISO-2022-JP."""
    decoded = _body(_message(corpus_dir, f"{JPMOBILE}/au-kigou.eml"), 0)
    assert decoded.problem is None
    assert decoded.charset == MS_JIS
    for run in ("①②③④⑤⑥⑦⑧⑨⑩⑪⑫⑬⑭⑮⑯⑰⑱⑲⑳", "ⅠⅡⅢⅣⅤⅥⅦⅧⅨⅩ", "㊤㊥㊦㊧㊨㈱㈲㈹㍾㍽㍼",
                "〝〟№㏍℡", "／＼～∥｜…‥"):
        assert run in decoded.text


def test_mislabelled_parts_say_so(corpus_dir: Path) -> None:
    euc = _body(_message(corpus_dir, f"{SISIMAI}/lhost-ezweb-03.eml"), 0)
    assert euc.charset == MS_EUC
    assert euc.problem == "declared iso-2022-jp failed, decoded as euc_jp_ms"
    padding = _header(_message(corpus_dir, "redmine/redmine/test/fixtures/mail_handler/"
                                           "subject_japanese_2.eml"), "Subject", 0)
    assert padding.problem == "bad base64 in encoded word"
    clean = _header(_message(corpus_dir, f"{JORURI}/charset/euc-jp.eml"), "Subject", 0)
    assert clean.problem is None


def test_carrier_emoji_outside_cp932_become_one_replacement(corpus_dir: Path) -> None:
    """au emoji sit in JIS rows no Windows codec maps: the Japanese around them survives."""
    decoded = _header(_message(corpus_dir, f"{JPMOBILE}/au-emoji2.eml"), "Subject", 0)
    assert decoded.text == "題名\ufffd"
    assert decoded.problem is not None and "replacement" in decoded.problem


# --------------------------------------------------------------------------------------------
# made examples: the Microsoft extensions real mailers emit under an ISO-2022-JP label

# ① 0x2D21 "-!", ㈱ 0x2D6A "-j", Ⅲ 0x2D37 "-7", ～ 0x2141 "!A", 髙 0x7C62 "|b" (NEC-selected IBM)
MS_JIS_BYTES = b"\x1b$B-!-j-7!A|b\x1b(B"
MS_TEXT = "①㈱Ⅲ～髙"


def test_ms_extensions_in_an_iso_2022_jp_header() -> None:
    decoded = decode_header(f"=?ISO-2022-JP?B?{_b(MS_JIS_BYTES)}?= 株式会社")
    assert decoded == Decoded(f"{MS_TEXT} 株式会社", MS_JIS, None)


def test_ms_extensions_and_half_width_katakana_in_a_body() -> None:
    body = MS_JIS_BYTES + b"\r\n\x1b(I1\x1b(B\r\n"  # ESC ( I "1" is ｱ
    assert decode_bytes(body, "iso-2022-jp") == Decoded(f"{MS_TEXT}\r\nｱ\r\n", MS_JIS, None)


def test_so_si_half_width_katakana_and_iso_2022_jp_2_latin() -> None:
    # SO 1 2 SI is ｱｲ (CP50222 style); ESC . A + ESC N ü is ISO-2022-JP-2's Latin-1 G2
    assert decode_bytes(b"\x0e12\x0f!", "iso-2022-jp").text == "ｱｲ!"
    latin = b"Gr\x1b.A\x1bN\x7c\x1bN\x5fe \x1b$B%F%9%H\x1b(B"  # ü = 0x7C|0x80, ß = 0x5F|0x80
    assert decode_bytes(latin, "ISO-2022-JP-2") == Decoded("Grüße テスト", "iso2022_jp_2", None)
    # JIS X 0212 (ESC $ ( D), which Python writes for ü and ß, is read by the MS codec itself
    assert decode_bytes("Grüße".encode("iso2022_jp_2"), "iso-2022-jp").text == "Grüße"


def test_jis_without_a_declared_charset_is_detected() -> None:
    decoded = decode_bytes(MS_JIS_BYTES, None)
    assert decoded.text == MS_TEXT
    assert decoded.problem == "no charset declared, guessed iso2022_jp_ms"


def test_jis_labelled_us_ascii_is_still_read_as_jis() -> None:
    decoded = decode_bytes(MS_JIS_BYTES, "us-ascii")
    assert decoded.text == MS_TEXT
    assert decoded.problem == "declared us-ascii failed, decoded as iso2022_jp_ms"


def test_euc_jp_ms_reads_nec_row_13_and_half_width_katakana() -> None:
    # ① is row 13 (EUC AD A1), ｱ is SS2 + B1, 髙 is row 92 (EUC FC E2)
    assert decode_bytes(b"\xad\xa1\x8e\xb1\xfc\xe2", "EUC-JP") == Decoded("①ｱ髙", MS_EUC, None)


def test_cp932_labels_read_nec_and_ibm_rows() -> None:
    # ① 87 40, ㈱ 87 8A, Ⅲ 87 56, ～ 81 60, 髙 FB FC (IBM) as Windows writes them
    data = b"\x87\x40\x87\x8a\x87\x56\x81\x60\xfb\xfc"
    for label in ("Shift_JIS", "x-sjis", "shift-jis", "SJIS", "MS932", "windows-31j"):
        assert decode_bytes(data, label) == Decoded(MS_TEXT, "cp932", None)


def test_encoded_word_split_in_the_middle_of_a_character() -> None:
    # 髙 is E9 AB 99 in UTF-8, 山 E5 B1 B1: the first word stops after E9 AB
    value = "=?UTF-8?B?" + _b(b"\xe9\xab") + "?=\r\n =?utf-8?Q?=99=E5=B1=B1?="
    assert decode_header(value).text == "髙山"
    # テ is 83 65 in Shift_JIS; the label differs only in case between the words
    sjis = "=?SHIFT_JIS?B?" + _b(b"\x83") + "?= =?shift_jis?B?" + _b(b"\x65\x83\x58") + "?="
    assert decode_header(sjis) == Decoded("テス", "cp932", None)
    # a JIS run continued in the next word without a new escape sequence
    first, second = _b(b"\x1b$B%F"), _b(b"%9%H\x1b(B")
    jis = f"=?ISO-2022-JP?B?{first}?= =?ISO-2022-JP?B?{second}?="
    assert decode_header(jis).text == "テスト"


def test_words_of_different_charsets_are_not_joined() -> None:
    utf8, jis = _b("申請".encode()), _b(b"\x1b$B=q\x1b(B")
    value = f"=?UTF-8?B?{utf8}?= =?ISO-2022-JP?B?{jis}?="
    assert decode_header(value).text == "申請書"  # 書 is JIS 0x3D71 "=q"


def test_text_next_to_encoded_words_keeps_its_spaces() -> None:
    value = f"Re: =?UTF-8?B?{_b('応募'.encode())}?= 書類 =?UTF-8?Q?=E9=80=81=E4=BB=98?="
    assert decode_header(value).text == "Re: 応募 書類 送付"


def test_header_object_with_raw_shift_jis_from_compat32() -> None:
    msg = _raw_part(b"Subject: " + "応募書類送付".encode("cp932"))
    assert isinstance(msg["Subject"], email.header.Header)  # what compat32 hands the caller
    decoded = decode_header(msg["Subject"])
    assert decoded.text == "応募書類送付"
    assert decoded.problem == "no charset declared, guessed cp932"


def test_raw_utf8_header_is_clean_and_empty_values_are_empty() -> None:
    assert decode_header("事務局 <it-renkei@example.jp>".encode()).problem is None
    assert decode_header(None) == Decoded("", "ascii", None)
    assert decode_header("").text == ""
    assert decode_header("件名\ud800").text == "件名?"  # a lone surrogate is not raw bytes


def test_unknown_charset_in_an_encoded_word_is_guessed() -> None:
    decoded = decode_header(f"=?x-bogus?B?{_b('書類'.encode('cp932'))}?=")
    assert decoded.text == "書類"
    assert decoded.problem == "unknown charset 'x-bogus', decoded as cp932"


# --------------------------------------------------------------------------------------------
# made examples: attachment names


def test_rfc2231_iso_2022_jp_filename_with_continuations_split_mid_character() -> None:
    # テスト①.pdf = ESC $ B %F %9 %H -! ESC ( B .pdf ; section 0 stops inside %F
    part = _raw_part(
        b"Content-Type: application/pdf\r\n"
        b"Content-Disposition: attachment;\r\n"
        b" filename*0*=iso-2022-jp'ja'%1B%24B%25;\r\n"
        b" filename*1*=F%259%25H-%21%1B%28B;\r\n"
        b" filename*2=.pdf"
    )
    assert part_filename(part) == Decoded("テスト①.pdf", MS_JIS, None)


def test_rfc2231_shift_jis_filename_split_inside_a_character() -> None:
    part = _raw_part(b"Content-Disposition: attachment; filename*0*=shift_jis''%83;"
                     b" filename*1*=%65%83%58%83%67.xlsx")
    assert part_filename(part) == Decoded("テスト.xlsx", "cp932", None)


def test_rfc2047_iso_2022_jp_inside_quotes_and_name_fallback() -> None:
    word = "=?ISO-2022-JP?B?" + _b(b"\x1b$B?=@A=q\x1b(B.xlsx") + "?="  # 申請書 = ?= @A =q
    only_type = _raw_part(f'Content-Type: application/octet-stream; name="{word}"'.encode())
    assert part_filename(only_type) == Decoded("申請書.xlsx", MS_JIS, None)
    both = _raw_part(
        f'Content-Type: application/octet-stream; name="{word}"\r\n'
        'Content-Disposition: attachment; filename="checklist.xlsx"'.encode()
    )
    assert part_filename(both).text == "checklist.xlsx"  # Content-Disposition wins


def test_raw_shift_jis_name_with_a_backslash_trail_byte() -> None:
    # ソ is 83 5C: the 5C is not an escape, even right before the closing quote
    part = _raw_part(b'Content-Disposition: attachment; filename="\x83\x5c\x83\x74\x83\x67'
                     b'\x83\x5c"; size=10')
    decoded = part_filename(part)
    assert decoded is not None and decoded.text == "ソフトソ"


def test_raw_jis_name_containing_a_quote_byte() -> None:
    # あ is JIS 0x2422, i.e. the bytes $" : the quote inside the JIS run must not end the value
    part = _raw_part(b'Content-Type: text/plain; name="\x1b$B$"$$\x1b(B.txt"')
    decoded = part_filename(part)
    assert decoded is not None and decoded.text == "あい.txt"


def test_part_without_a_name_has_none() -> None:
    assert part_filename(_raw_part(b"Content-Type: text/plain; charset=utf-8")) is None
    assert part_filename(_raw_part(b'Content-Disposition: attachment; filename=""')) is None


# --------------------------------------------------------------------------------------------
# charset labels

LABELS = [
    ("ISO-2022-JP", MS_JIS), ("iso-2022-jp-2", MS_JIS), ("csISO2022JP", MS_JIS),
    ('"iso-2022-jp"', MS_JIS), ("Shift_JIS", "cp932"), ("x-sjis", "cp932"),
    ("Windows-31J", "cp932"), ("MS932", "cp932"), ("EUC-JP", MS_EUC), ("x-euc-jp", MS_EUC),
    ("utf8", "utf-8"), ("UTF-8*ja", "utf-8"), ("us-ascii", "ascii"), ("ks_c_5601-1987", "cp949"),
    ("x-mac-cyrillic", "mac-cyrillic"), ("ISO-8859-1", "iso8859-1"),
    ("unknown-8bit", None), ("x-unknown", None), ("UNKNOWN", None), ("base64", None),
    ("rot13", None), ("unicode_escape", None), ("undefined", None), ("", None), (None, None),
    ("bogus\x00", None),
]


@pytest.mark.parametrize(("label", "codec"), LABELS)
def test_codec_for(label: str | None, codec: str | None) -> None:
    assert codec_for(label) == codec


def test_x_labels_read_with_pythons_codec_whatever_else_is_imported() -> None:
    import extract_msg  # noqa: F401 - registers codecs of its own, some under "x-" names

    assert codec_for("x-mac-cyrillic") == "mac-cyrillic"


def test_codec_names_are_usable_by_python() -> None:
    assert MS_TEXT.encode(codec_for("iso-2022-jp") or "") == MS_JIS_BYTES
    assert b"\xad\xa1".decode(codec_for("euc-jp") or "") == "①"


def test_euc_read_as_cp932_would_give_half_width_kana_so_euc_wins() -> None:
    data = "申請書を送付します".encode("euc_jp")
    decoded = decode_bytes(data, None)
    assert decoded.text == "申請書を送付します"
    assert decoded.charset == MS_EUC


def test_latin1_raw_bytes_are_not_read_as_user_defined_cp932() -> None:
    assert decode_bytes("Frösche".encode("latin-1"), None).text == "Frösche"


def test_truncated_utf8_keeps_the_rest() -> None:
    decoded = decode_bytes("株式会社".encode()[:-1], "utf-8")
    assert decoded.text == "株式会\ufffd"
    assert decoded.problem is not None


# --------------------------------------------------------------------------------------------
# properties

# Python's iso2022_jp/euc_jp read six JIS codes the JIS-standard way; Windows mailers mean the
# CP932 characters, which is what this module returns.
JIS_STANDARD_TO_MS = str.maketrans("〜‖−¢£¬", "～∥－￠￡￢")
JAPANESE = st.text(
    st.sampled_from("あいうえおアイウエオ申請書類送付株式会社事務局〜‖−¢£¬ー・「」、。ABC 123-_.")
    | st.characters(min_codepoint=0x4E00, max_codepoint=0x9FA0).filter(
        lambda c: _encodable(c, "iso2022_jp")
    ),
    max_size=30,
)


def _encodable(text: str, codec: str) -> bool:
    try:
        text.encode(codec)
    except UnicodeEncodeError:
        return False
    return True


@settings(deadline=None)  # no wall-clock limit: a busy machine must not fail a round trip
@given(JAPANESE)
def test_python_jis_and_euc_encodings_read_back(text: str) -> None:
    expected = text.translate(JIS_STANDARD_TO_MS)
    assert decode_bytes(text.encode("iso2022_jp"), "iso-2022-jp").text == expected
    assert decode_bytes(text.encode("euc_jp"), "euc-jp").text == expected


# the look-alikes CP932 folds are wanted here, so they are named to silence hypothesis' warning
CP932_TEXT = st.text(st.characters(codec="cp932", exclude_categories=("Cc", "Co", "Cs"),
                                   include_characters="¢£¬‖−〜"), max_size=30)


@settings(deadline=None)  # no wall-clock limit: a busy machine must not fail a round trip
@given(CP932_TEXT)
def test_everything_cp932_has_round_trips_through_the_ms_codecs(text: str) -> None:
    # CP932 folds a few look-alikes (‖ and ∥ are both 81 61): compare with what Windows reads
    windows = text.encode("cp932").decode("cp932")
    for codec in (MS_JIS, MS_EUC):
        assert text.encode(codec).decode(codec) == windows


@settings(deadline=None)  # no wall-clock limit: a busy machine must not fail a round trip
@given(JAPANESE, st.sampled_from(["utf-8", "shift_jis", "iso-2022-jp"]), st.data())
def test_rfc2231_sections_cut_anywhere_read_back(text: str, label: str, data: st.DataObject
                                                 ) -> None:
    python_codec = {"shift_jis": "cp932", "iso-2022-jp": "iso2022_jp"}.get(label, label)
    raw = text.encode(python_codec)
    # what the sender meant: Python's own reading, with the six JIS codes read the Windows way
    expected = raw.decode(python_codec)
    if label == "iso-2022-jp":
        expected = expected.translate(JIS_STANDARD_TO_MS)
    cuts = sorted(data.draw(st.sets(st.integers(1, max(1, len(raw) - 1)), max_size=4)))
    pieces = [raw[a:b] for a, b in zip([0, *cuts], [*cuts, len(raw)], strict=True)]
    sections = [
        f"filename*{n}*=" + (f"{label}''" if n == 0 else "")
        + "".join(f"%{byte:02X}" for byte in piece)
        for n, piece in enumerate(pieces)
    ]
    part = _raw_part(("Content-Disposition: attachment;\r\n " + ";\r\n ".join(sections)).encode())
    decoded = part_filename(part)
    if expected.strip():
        assert decoded is not None and decoded.text == expected
    else:
        assert decoded is None  # a name of only spaces is no name


@settings(deadline=None)  # no wall-clock limit: a busy machine must not fail a round trip
@given(JAPANESE, st.data())
def test_encoded_words_cut_anywhere_read_back(text: str, data: st.DataObject) -> None:
    raw = text.encode()
    cuts = sorted(data.draw(st.sets(st.integers(1, max(1, len(raw) - 1)), max_size=4)))
    words = []
    for a, b in zip([0, *cuts], [*cuts, len(raw)], strict=True):
        if data.draw(st.booleans()):
            words.append(f"=?utf-8?B?{_b(raw[a:b])}?=")
        else:
            words.append("=?UTF-8?Q?" + "".join(f"={byte:02X}" for byte in raw[a:b]) + "?=")
    separator = data.draw(st.sampled_from([" ", "\r\n ", "\r\n\t", "  "]))
    assert decode_header(separator.join(words)).text == text


FRAGMENTS = st.lists(
    st.sampled_from([b"=?", b"?=", b"?B?", b"?Q?", b"?b?", b"iso-2022-jp", b"utf-8", b"x-bad",
                     b"shift_jis", b"GyRC", b"JUY", b"=", b"==", b"%", b"%1B", b"*0*", b"*1=",
                     b"'", b"''", b'"', b"\\", b";", b" ", b"\r\n ", b"\x1b$B", b"\x1b(B",
                     b"\x1b(I", b"\x1b$(D", b"\x0e", b"\x83\x5c", b"\xe3\x81", b"\xff"])
    | st.binary(max_size=6),
    max_size=25,
).map(b"".join)
SETTINGS = settings(max_examples=300, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow])


@SETTINGS
@given(st.binary(max_size=200) | FRAGMENTS,
       st.sampled_from([None, "iso-2022-jp", "shift_jis", "euc-jp", "utf-8", "us-ascii",
                        "unknown-8bit", "utf-7", "utf-16", "gb2312", "x-bogus"]))
def test_decode_bytes_never_raises(data: bytes, declared: str | None) -> None:
    decoded = decode_bytes(data, declared)
    assert isinstance(decoded.text, str) and isinstance(decoded.charset, str)
    if b"\x1b$B" in data or b"\x1b(I" in data:
        assert "\x1b" not in decoded.text or decoded.problem is not None


@SETTINGS
@given(st.text(max_size=120) | FRAGMENTS)
def test_decode_header_never_raises(value: str | bytes) -> None:
    decoded = decode_header(value)
    assert isinstance(decoded.text, str)
    assert "\n" not in decoded.text  # unfolded


@SETTINGS
@given(FRAGMENTS, FRAGMENTS)
def test_part_filename_never_raises(name: bytes, disposition: bytes) -> None:
    part = _raw_part(b"Content-Type: application/octet-stream; name=" + name.replace(b"\n", b"")
                     + b"\r\nContent-Disposition: attachment; " + disposition.replace(b"\n", b""))
    decoded = part_filename(part)
    assert decoded is None or isinstance(decoded.text, str)


# --------------------------------------------------------------------------------------------
# the whole corpus


def test_every_corpus_mail_decodes_without_exceptions(corpus_dir: Path) -> None:
    rows = [line.split("\t") for line in
            (corpus_dir / "MANIFEST.tsv").read_text(encoding="utf-8").splitlines()[1:]]
    mails = [corpus_dir / row[0].replace("/", "+") / row[2] for row in rows if row[3] == "eml"]
    assert len(mails) > 500
    names = 0
    for path in mails:
        msg = email.message_from_bytes(path.read_bytes(), policy=email.policy.compat32)
        decoded = [decode_header(msg.get(h)) for h in ("Subject", "From")]
        for part in msg.walk():
            name = part_filename(part)
            if name is not None:
                decoded.append(name)
                names += 1
        for item in decoded:
            assert isinstance(item, Decoded), path
            # a JIS escape left in the text means the JIS was not decoded
            assert "\x1b" not in item.text, (path, item)
    assert names > 100
