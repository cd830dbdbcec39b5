"""The reply mail itself: charset, threading, RFC 3834 marks, recipient choice, due times."""

from __future__ import annotations

import email
import unicodedata
from datetime import UTC, date, datetime, timedelta, timezone
from email import message_from_bytes
from email.policy import default

import pytest

from parsers.mime import parse_message
from replies.address import choose_recipient, clean_address, refusal
from replies.charset import choose, jis_safe
from replies.compose import compose, reply_message_id
from rules.calendar import BusinessCalendar
from tests.mail_readers import read, rfc2047, shown_text

JST = timezone(timedelta(hours=9))
OURS = "it-renkei@example.go.jp"
SUBJECT = "【受付確認】さくら通り商店街①連携コンソーシアム令和4年度「共創型サービスIT連携支援補助金」 応募書類送付"
BODY = ("有限会社さくら商店\n桜井 花子 様\n\n受付番号 ①、㈱テスト、№12、Ⅲ期、"
        "期間 8月3日～9月9日\n" + "長い行" * 40 + "\n")


def build(body: str = BODY, subject: str = SUBJECT, charset: str = "utf-8",
          in_reply_to: str | None = "<orig-1@sakura.example.jp>") -> bytes:
    return compose(
        from_addr=OURS, from_name="令和4年度「共創型サービスIT連携支援事業」事務局",
        to_addr="sakurai@sakura.example.jp", subject=subject, body=body,
        message_id=reply_message_id(7, "receipt", OURS), in_reply_to=in_reply_to,
        references=("<older@sakura.example.jp>",), date=datetime(2022, 8, 19, tzinfo=UTC),
        charset=charset,
    )


NAME = "令和4年度「共創型サービスIT連携支援補助金」事務局"


def test_iso_2022_jp_reply_replaces_windows_only_characters_and_keeps_the_original_in_utf8():
    raw = build(charset="iso-2022-jp")
    assert raw.isascii()  # 7-bit, as ISO-2022-JP must be
    assert b"\x1b$B-" not in raw  # no NEC row 13 (①, ㈱, №, Ⅲ), which only Windows decodes
    got = read(raw)
    jis, original = got.texts
    assert jis == ("有限会社さくら商店\n桜井 花子 様\n\n受付番号 (1)、(株)テスト、No.12、III期、"
                   "期間 8月3日〜9月9日\n" + "長い行" * 40 + "\n")
    assert original == BODY  # the UTF-8 alternative: exactly as written
    assert "\ufffd" not in jis + original
    assert shown_text(raw) == BODY
    msg = email.message_from_bytes(raw)
    assert msg.get_content_type() == "multipart/alternative"
    assert [p.get_content_charset() for p in msg.get_payload()] == ["iso-2022-jp", "utf-8"]
    assert got.subject == SUBJECT  # ① in a header: UTF-8 words, read by every reader
    head, _, text = raw.partition(b"\r\n\r\n")
    assert all(len(line) <= 998 for line in raw.split(b"\r\n"))
    assert all(len(line) <= 78 for line in head.split(b"\r\n") if not line.startswith(b"From"))


def test_iso_2022_jp_reply_within_jis_x_0208_is_one_part_every_reader_decodes():
    body = "株式会社テスト\n山田 太郎 様\n\nお世話になっております。\n期間 8月3日～9月9日 －\n"
    raw = build(body=body, subject="【受付確認】<港町>令和4年度", charset="iso-2022-jp")
    msg = email.message_from_bytes(raw)
    assert msg.get_content_type() == "text/plain"
    assert msg.get_content_charset() == "iso-2022-jp"
    (text,) = read(raw).texts  # Python's own strict iso2022_jp codec
    assert "\ufffd" not in text
    # the same JIS code: Windows mailers show ～ and －, Python its 〜 and −
    assert text.translate(str.maketrans("〜−", "～－")) == body
    assert parse_message(raw).body == body
    assert "ISO-2022-JP" in read(raw).raw_headers["Subject"]
    assert rfc2047(read(raw).raw_headers["Subject"]) == "【受付確認】<港町>令和4年度"


@pytest.mark.parametrize("char, written", [
    ("①", "(1)"), ("⑳", "(20)"), ("㈱", "(株)"), ("Ⅲ", "III"), ("№", "No."), ("髙", "高"),
    ("﨑", "崎"), ("ｶ", "カ"), ("㍻", "平成"), ("\U0001F600", "〓"), ("～", "〜"), ("〜", "〜"),
])
def test_every_character_has_a_form_python_decodes_from_iso_2022_jp(char, written):
    raw = build(body=f"山{char}田\n", charset="iso-2022-jp")
    texts = read(raw).texts
    assert texts[0] == f"山{written}田\n"
    assert texts[-1].translate(str.maketrans("〜", "～")) == f"山{char}田\n".translate(
        str.maketrans("〜", "～"))
    assert jis_safe(char) == (len(texts) == 1)


def test_a_line_too_long_for_iso_2022_jp_goes_out_in_utf8_unchanged():
    body = "あ" * 600 + "\n"
    raw = build(body=body, charset="iso-2022-jp")
    assert email.message_from_bytes(raw).get_content_charset() == "utf-8"
    assert parse_message(raw).body == body
    assert choose("iso-2022-jp", body).charset == "utf-8"


def test_choice_says_what_was_replaced():
    choice = choose("iso-2022-jp", "髙橋 様\n﨑 ｶﾀｶﾅ ①\n")
    assert choice.charset == "iso-2022-jp" and "髙" in choice.note and "ｶ" in choice.note
    assert not jis_safe("髙") and not jis_safe("①") and not jis_safe("㈱") and jis_safe("高")
    assert choose("utf-8", "①").note is None


def test_utf8_is_the_default():
    raw = build()
    msg = email.message_from_bytes(raw, policy=default)
    assert msg.get_content_charset() == "utf-8"
    assert msg.get_content().replace("\r\n", "\n") == BODY
    assert str(msg["Subject"]) == SUBJECT


@pytest.mark.parametrize("charset", ["utf-8", "iso-2022-jp"])
@pytest.mark.parametrize("name", [NAME, "令和4年度「共創型サービスIT連携支援補助金」事務局(髙橋担当)",
                                  "事務局", "IT Renkei Secretariat"])
def test_from_display_name_reads_whole_in_every_decoder(charset, name):
    raw = compose(
        from_addr=OURS, from_name=name, to_addr="a@example.jp", subject="件名", body="本文\n",
        message_id="<x@y>", in_reply_to=None, references=(), date=datetime(2022, 8, 19, tzinfo=UTC),
        charset=charset)
    got = read(raw)
    assert got.display_name == name  # Python's address parser
    header = got.raw_headers["From"]
    for joined_with_space in (False, True):  # RFC 2047 §6.2, and as address parsers do
        decoded = rfc2047(header, space_between_words=joined_with_space)
        assert decoded.rsplit("<", 1)[0].strip().strip('"') == name
    assert email.utils.parseaddr(rfc2047(header))[1] == OURS
    assert raw.partition(b"\r\n")[0].startswith(b"From: ") and raw.partition(b"\r\n")[0] != b"From: "


@pytest.mark.parametrize("charset", ["utf-8", "iso-2022-jp"])
def test_reply_is_threaded_and_marked_auto_replied(charset):
    msg = email.message_from_bytes(build(charset=charset))
    assert msg["Message-ID"] == "<renkei-intake.7.receipt@example.go.jp>"
    assert msg["In-Reply-To"] == "<orig-1@sakura.example.jp>"
    assert msg["References"].split() == ["<older@sakura.example.jp>", "<orig-1@sakura.example.jp>"]
    assert msg["Auto-Submitted"] == "auto-replied"
    assert email.utils.parseaddr(msg["From"])[1] == OURS
    assert msg["To"] == "sakurai@sakura.example.jp"


def test_message_id_is_deterministic_per_submission_and_kind():
    assert reply_message_id(3, "receipt", OURS) == reply_message_id(3, "receipt", OURS)
    assert reply_message_id(3, "receipt", OURS) != reply_message_id(3, "deficiency", OURS)
    assert reply_message_id(3, "receipt", OURS) != reply_message_id(4, "receipt", OURS)


def test_recipient_is_the_sender_unless_config_prefers_the_sender_block():
    assert choose_recipient("Lead@Example.jp", "tanto@example.jp") == ("Lead@Example.jp", None)
    assert choose_recipient("lead@example.jp", "ｔａｎｔｏ＠ｅｘａｍｐｌｅ．ｊｐ",
                            prefer_sender_block=True) == ("tanto@example.jp", None)
    # an unreadable block address never replaces a good sender
    assert choose_recipient("lead@example.jp", "電話でお願いします",
                            prefer_sender_block=True) == ("lead@example.jp", None)
    assert clean_address("mailto:a.b@example.co.jp") == "a.b@example.co.jp"


@pytest.mark.parametrize("address", ["MAILER-DAEMON@example.jp", "postmaster@example.jp",
                                     "no-reply@example.jp", "noreply+x@example.jp",
                                     "it-renkei@example.go.jp", "not an address", ""])
def test_no_reply_to_robots_ourselves_or_garbage(address):
    assert refusal(address, {OURS}) is not None


def test_a_person_may_be_answered():
    assert refusal("yamada@test-seisaku.example.jp", {OURS}) is None


# --- due time: end of the next business day (JST) -------------------------------------------

CAL = BusinessCalendar()


@pytest.mark.parametrize(("received", "due"), [
    # Friday morning → Monday 17:30
    (datetime(2022, 8, 12, 10, 0, tzinfo=JST), datetime(2022, 8, 15, 17, 30, tzinfo=JST)),
    # Friday 23:59 JST (14:59 UTC) is still Friday → Monday
    (datetime(2022, 8, 12, 14, 59, tzinfo=UTC), datetime(2022, 8, 15, 17, 30, tzinfo=JST)),
    # Friday 16 Sep 2022, Monday 19 Sep 敬老の日 → Tuesday 20
    (datetime(2022, 9, 16, 12, 0, tzinfo=JST), datetime(2022, 9, 20, 17, 30, tzinfo=JST)),
    # Thursday 22 Sep 2022, Friday 23 Sep 秋分の日 → Monday 26
    (datetime(2022, 9, 22, 12, 0, tzinfo=JST), datetime(2022, 9, 26, 17, 30, tzinfo=JST)),
    # Friday 9 Feb 2024: Sunday 11 建国記念の日, Monday 12 振替休日 → Tuesday 13
    (datetime(2024, 2, 9, 9, 0, tzinfo=JST), datetime(2024, 2, 13, 17, 30, tzinfo=JST)),
    # 年末年始: Wednesday 28 Dec 2022 → 29 Dec–3 Jan closed (2 Jan also 振替休日) → Wed 4 Jan
    (datetime(2022, 12, 28, 17, 0, tzinfo=JST), datetime(2023, 1, 4, 17, 30, tzinfo=JST)),
    # received during the closure (Saturday 31 Dec) → the first business day after it
    (datetime(2022, 12, 31, 10, 0, tzinfo=JST), datetime(2023, 1, 4, 17, 30, tzinfo=JST)),
    # Saturday → Monday
    (datetime(2022, 8, 20, 10, 0, tzinfo=JST), datetime(2022, 8, 22, 17, 30, tzinfo=JST)),
])
def test_reply_due_end_of_next_business_day(received, due):
    assert CAL.reply_due(received) == due


def test_closure_days_from_config_move_the_due_day():
    calendar = BusinessCalendar(closure_days=frozenset({date(2022, 8, 15)}))
    assert calendar.reply_due(datetime(2022, 8, 12, 10, 0, tzinfo=JST)) == datetime(
        2022, 8, 16, 17, 30, tzinfo=JST)


@pytest.mark.parametrize(("moment", "inside"), [
    (datetime(2022, 8, 12, 9, 29, tzinfo=JST), False),
    (datetime(2022, 8, 12, 9, 30, tzinfo=JST), True),
    (datetime(2022, 8, 12, 17, 29, tzinfo=JST), True),
    (datetime(2022, 8, 12, 17, 30, tzinfo=JST), False),
    (datetime(2022, 9, 19, 10, 0, tzinfo=JST), False),  # 敬老の日
    (datetime(2023, 1, 2, 10, 0, tzinfo=JST), False),  # 振替休日 in 年末年始
    (datetime(2022, 8, 13, 10, 0, tzinfo=JST), False),  # Saturday
])
def test_sending_only_in_business_hours(moment, inside):
    assert CAL.in_business_hours(moment) is inside


def test_sender_block_address_only_in_the_senders_domain():
    same = choose_recipient("lead@minato.example.jp", "tanto@minato.example.jp",
                            prefer_sender_block=True)
    assert same == ("tanto@minato.example.jp", None)
    # A third party named in the body never gets the reply; staff get a note.
    to, note = choose_recipient("lead@minato.example.jp", "someone@elsewhere.example.com",
                                prefer_sender_block=True)
    assert to == "lead@minato.example.jp"
    assert note and "someone@elsewhere.example.com" in note and "ドメインが異なる" in note
    # A look-alike subdomain is another domain.
    assert choose_recipient("lead@example.jp", "x@evil.example.jp",
                            prefer_sender_block=True)[0] == "lead@example.jp"
    # No sender address to compare with: the block is not trusted either.
    assert choose_recipient(None, "x@example.jp", prefer_sender_block=True)[0] is None
    assert choose_recipient("lead@example.jp", "x@other.jp") == ("lead@example.jp", None)


@pytest.mark.parametrize("bad", ["\x0b", "\x1c", "\u2028", "\u2029", "\x85", "\r\n", "\x00",
                                 "\x1b[2J"])
@pytest.mark.parametrize("charset", ["utf-8", "iso-2022-jp"])
def test_control_characters_in_composed_headers_never_stop_the_reply(bad, charset):
    raw = compose(from_addr=OURS, from_name=f"事務局{bad}窓口", to_addr="lead@example.jp",
                  subject=f"<みなと{bad}DX>受付のお知らせ", body="本文です。\n",
                  message_id="<m@example.go.jp>", in_reply_to=f"<a@b{bad}>",
                  references=(f"<r@b{bad}>",), date=datetime(2022, 8, 10, tzinfo=UTC),
                  charset=charset)
    msg = message_from_bytes(raw, policy=default)
    subject = str(msg["Subject"])
    assert "みなと" in subject and "DX" in subject
    assert not any(unicodedata.category(ch) in ("Cc", "Zl", "Zp") for ch in subject)
    assert msg["To"].addresses[0].addr_spec == "lead@example.jp"
    assert all(len(line) <= 998 for line in raw.split(b"\r\n"))
    header_block = raw.split(b"\r\n\r\n", 1)[0]
    assert not any(b in header_block for b in (b"\x0b", b"\x1c", b"\x00", b"\x1b"))
