"""A bounce of one of our replies is matched back to it (real DSNs from the shared corpus)."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path

import pytest

from replies.bounces import bounced_reply
from replies.compose import reply_message_id
from replies.outbox import QueuedReply, queue, record_bounce
from state.blobs import BlobStore
from state.ledger import Ledger

OUR_ID = reply_message_id(12, "receipt", "it-renkei@example.go.jp")
ORIGINAL_ID = re.compile(rb"(?ims)^Content-Type: *message/rfc822.*?^Message-I[dD]: *(<[^>\s]+>)")


def corpus_file(corpus_dir: Path, repo: str, path: str) -> bytes:
    return (corpus_dir / repo.replace("/", "+") / path).read_bytes()


def with_our_id(raw: bytes, old: bytes) -> bytes:
    """The same real bounce, as if the returned mail had been our receipt."""
    assert old in raw
    return raw.replace(old, OUR_ID.encode())


def test_no_real_mail_in_the_corpus_is_taken_for_a_bounce_of_ours(corpus_dir):
    for line in (corpus_dir / "MANIFEST.tsv").read_text(encoding="utf-8").splitlines()[1:]:
        repo, _, path = line.split("\t")[:3]
        file = corpus_dir / repo.replace("/", "+") / path
        if file.is_file():
            assert bounced_reply(file.read_bytes()) is None, path


@pytest.mark.parametrize("name", [
    "dsn", "intermail", "mailsweeper", "norton", "postfix-verp",  # RFC 3464 DSNs
    "pdx.ne.jp",  # DSN whose text is EUC-JP labelled ISO-2022-JP
    "biglobe.ne.jp", "postfix19991231-mp", "smi-8.6",  # older bounces: mail returned, no DSN
])
def test_real_bounce_returning_our_reply_is_matched(corpus_dir, name):
    raw = corpus_file(corpus_dir, "fmlorg/fml8", f"regress/errormails/{name}")
    match = ORIGINAL_ID.search(raw)
    assert match is not None, "the returned mail's Message-ID stands in for ours"
    assert bounced_reply(with_our_id(raw, match.group(1))) == OUR_ID


def test_delayed_dsn_is_not_a_bounce(corpus_dir):
    raw = corpus_file(corpus_dir, "jhillyerd/enmime", "dsn/testdata/delayed_dsn.raw")
    assert b"Action: delayed" in raw
    fake = raw.replace(b"--foobar--", b"--foobar\ncontent-type: text/rfc822-headers\n\n"
                       b"Message-ID: " + OUR_ID.encode() + b"\n\n--foobar--")
    assert bounced_reply(fake) is None


def test_plain_text_bounce_quoting_our_reply_is_matched(corpus_dir):
    raw = corpus_file(corpus_dir, "fmlorg/fml8", "regress/errormails/qmail")
    quoted = raw + b"\n--- Below this line is a copy of the message.\n\nMessage-ID: " + \
        OUR_ID.encode() + b"\nSubject: receipt\n"
    assert bounced_reply(quoted) == OUR_ID


def test_out_of_office_answer_to_our_reply_is_not_a_bounce():
    raw = (b"From: yamada@test.example.jp\r\nTo: it-renkei@example.go.jp\r\n"
           b"Subject: =?UTF-8?B?5LiN5Zyo44Gu44GK55+l44KJ44Gb?=\r\n"
           b"In-Reply-To: " + OUR_ID.encode() + b"\r\nAuto-Submitted: auto-replied\r\n\r\n"
           b"I am away until Monday.\r\n")
    assert bounced_reply(raw) is None


@pytest.mark.parametrize("raw", [b"", b"\x00\xff\xfe garbage", b"Content-Type: multipart/report"
                                 b"; boundary=x\r\n\r\n--x\r\nContent-Type: message/delivery-"
                                 b"status\r\n\r\nAction: failed\r\n"])
def test_broken_input_never_raises(raw):
    assert bounced_reply(raw) is None


def test_bounce_marks_our_reply_bounced_for_staff(tmp_path):
    ledger = Ledger(tmp_path / "l.db", BlobStore(tmp_path / "b"))
    submission = ledger.db["submissions"].insert({
        "kind": "submission", "state": "replied", "created_at": "x", "updated_at": "x"}).last_pk
    reply = queue(ledger, QueuedReply(submission, "receipt", "a@test.example.jp", "s", OUR_ID,
                                      b"raw", datetime.now(UTC), False))
    ledger.db["replies"].update(reply, {"status": "sent", "sent_at": "2022-08-10T01:00:00+00:00"})
    assert record_bounce(ledger, "<someone-else@example.jp>", None) is None
    assert record_bounce(ledger, OUR_ID, None) == reply
    row = ledger.db["replies"].get(reply)
    assert row["status"] == "bounced" and row["bounced_at"]
    events = [e["event"] for e in ledger.db.query(
        "SELECT event FROM events WHERE entity='reply' AND entity_id=?", [reply])]
    assert events[-1] == "bounced"
