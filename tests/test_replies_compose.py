"""The reply mail itself: charset, threading, RFC 3834 marks, recipient choice, due times."""

from __future__ import annotations

import email
import unicodedata
from datetime import UTC, date, datetime, timedelta, timezone
from email import message_from_bytes
from email.policy import default

import pytest

from parsers.mime import parse_message
from replies.address import choose_recipient, clean_address, refusal, reply_recipient
from replies.charset import choose, jis_safe
from replies.compose import compose, reply_message_id
from rules.calendar import BusinessCalendar

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


def test_iso_2022_jp_reply_with_maru_one_decodes_back_to_the_same_text():
    raw = build(charset="iso-2022-jp")
    msg = email.message_from_bytes(raw)
    assert msg.get_content_charset() == "iso-2022-jp"
    assert raw.isascii()  # 7-bit JIS, as ISO-2022-JP must be
    assert b"\x1b$B-!" in raw  # ① as NEC row 13, the way Japanese mailers write it
    record = parse_message(raw)
    assert record.body == BODY
    assert record.subject == SUBJECT
    assert record.from_name == "令和4年度「共創型サービスIT連携支援事業」事務局"
    head, _, text = raw.partition(b"\r\n\r\n")
    assert all(len(line) <= 78 for line in head.split(b"\r\n"))
    assert all(len(line) <= 998 for line in text.split(b"\r\n"))


def test_a_line_too_long_for_iso_2022_jp_goes_out_in_utf8_unchanged():
    body = "あ" * 600 + "\n"
    raw = build(body=body, charset="iso-2022-jp")
    assert email.message_from_bytes(raw).get_content_charset() == "utf-8"
    assert parse_message(raw).body == body


def test_wave_dash_is_written_in_the_form_a_japanese_mailer_reads_back():
    raw = build(body="期間 8月3日〜9月9日\n", charset="iso-2022-jp")
    assert parse_message(raw).body == "期間 8月3日～9月9日\n"  # same JIS code, CP932 form


def test_character_outside_iso_2022_jp_keeps_the_text_in_utf8():
    body = "髙橋 様\n﨑 ｶﾀｶﾅ ①\n"
    raw = build(body=body, charset="iso-2022-jp")
    assert email.message_from_bytes(raw).get_content_charset() == "utf-8"
    assert parse_message(raw).body == body  # nothing replaced, nothing lost
    choice = choose("iso-2022-jp", body)
    assert choice.charset == "utf-8" and "髙" in choice.note and "ｶ" in choice.note
    assert not jis_safe("髙") and jis_safe("①") and jis_safe("㈱") and jis_safe("高")


def test_utf8_is_the_default():
    raw = build()
    msg = email.message_from_bytes(raw, policy=default)
    assert msg.get_content_charset() == "utf-8"
    assert msg.get_content().replace("\r\n", "\n") == BODY
    assert str(msg["Subject"]) == SUBJECT


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
    assert reply_recipient("Lead@Example.jp", "tanto@example.jp") == "Lead@Example.jp"
    assert reply_recipient("lead@example.jp", "ｔａｎｔｏ＠ｅｘａｍｐｌｅ．ｊｐ",
                           prefer_sender_block=True) == "tanto@example.jp"
    # an unreadable block address never replaces a good sender
    assert reply_recipient("lead@example.jp", "電話でお願いします",
                           prefer_sender_block=True) == "lead@example.jp"
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
