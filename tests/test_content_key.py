"""The content key recognises the same mail by any route: the same value whatever the line
ends (IMAP serves CRLF, a Maildir file holds LF), and the value its definition gives, which
ledgers already hold: sha256 over Message-ID, Date, From and Subject with whitespace collapsed,
then the body without its trailing line ends, each CRLF read as LF (a lone CR kept)."""

from __future__ import annotations

import email
import hashlib
import random
from email.policy import compat32

import pytest

from parsers.mime import envelope
from tests.mails import complete_mail


def defined_key(raw: bytes) -> str:
    """The definition, written plainly."""
    crlf, lf = raw.find(b"\r\n\r\n"), raw.find(b"\n\n")
    if crlf != -1 and (lf == -1 or crlf < lf):
        head, body = raw[:crlf], raw[crlf + 4:]
    elif lf != -1:
        head, body = raw[:lf], raw[lf + 2:]
    else:
        head, body = raw, b""
    msg = email.message_from_bytes(head.replace(b"\r\n", b"\n") + b"\n\n", policy=compat32)
    digest = hashlib.sha256()
    for name in ("Message-ID", "Date", "From", "Subject"):
        value = " ".join(str(msg.get(name, "")).split())
        digest.update(f"{name}:{value}\n".encode("utf-8", "surrogateescape"))
    digest.update(body.rstrip(b"\r\n").replace(b"\r\n", b"\n"))
    return digest.hexdigest()


HEAD = b"Message-ID: <k@example.jp>\nFrom: a@example.jp\nSubject: key\nDate: Mon, 1 Aug 2022 10:00:00 +0900\n"


@pytest.mark.parametrize("body", [
    b"", b"\n", b"\r\n\r\n", b"one line", b"a\nb\n", b"a\r\nb\r\n",
    b"lone \r in a line\r\n", b"ends in a lone CR\r", b"\r\r\n\n", b"\r\n\r\r\n",
    b"mixed\nends\r\nhere\r", b"x" * (3 << 20) + b"\r\n" + b"y\r" * 10,  # past one piece
    b"line\r\n" * 400_000, b"line\r\n" * 400_000 + b"bare\rCR\r\n",
])
def test_key_is_the_defined_value_and_line_end_blind(body: bytes) -> None:
    raw = HEAD + b"\n" + body
    assert envelope(raw).content_key == defined_key(raw)
    as_crlf = raw.replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")
    if b"\r" not in body.replace(b"\r\n", b""):  # no lone CR: the two routes agree
        assert envelope(as_crlf).content_key == envelope(raw).content_key


def test_key_of_multipart_mails_and_random_line_ends() -> None:
    raw = complete_mail("<multi@example.jp>")
    crlf = raw.replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")
    assert envelope(raw).content_key == envelope(crlf).content_key == defined_key(crlf)
    rnd = random.Random(7)
    pieces = [b"\r", b"\n", b"\r\n", b"x", b"Subject: s", b": ", b" ", b"\n\n", b"\r\n\r\n",
              b"Content-Type: multipart/mixed; boundary=zz", b"--zz", b"\xe3\x81\x82"]
    for _ in range(3000):
        raw = b"".join(rnd.choice(pieces) for _ in range(rnd.randint(0, 30)))
        assert envelope(raw).content_key == defined_key(raw), raw
