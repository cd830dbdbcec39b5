"""Hostile mails, built at test time (no binary fixtures in the repo).

Every builder returns the raw bytes of one mail from a hostile sender, for a consortium of its
own, so that it never joins the submission of the well-behaved mail a test sends after it.
Mails whose damage the standard library would repair on output (NUL bytes, broken base64,
folded monster headers, 500 nested multiparts) are written by hand as bytes.
"""

from __future__ import annotations

import base64
import io
import os
import random
import struct
import zipfile
from functools import cache

from tests.archive_factory import Entry, build_zip, deflated_zeros, nested_zip, symlink_entry
from tests.mails import CORE, VALID_ZIP, mail

SENDER = "kougeki@hostile.example.jp"
CONSORTIUM = "耐性試験コンソーシアム"
SUBJECT = f"<{CONSORTIUM}>{CORE}"
RECEIVED = "from mx.hostile.example.jp by mx.example.go.jp; Wed, 10 Aug 2022 10:00:00 +0900"
BODY = (
    "令和4年度「共創型サービスIT連携支援事業」事務局 御中\n\n"
    "会社名：株式会社耐性試験\n役職：部長\n氏名：試験 太郎\n"
    f"メールアドレス：{SENDER}\n電話番号：03-1234-5678\n"
)
MB = 1024 * 1024


def hostile(msgid: str, attachments: dict[str, bytes] | None = None, *,
            subject: str = SUBJECT, body: str = BODY, sender: str = SENDER) -> bytes:
    """A well-formed mail (standard library) from the hostile sender, received in the period."""
    return mail(subject, body, sender, f"<{msgid}@hostile.example.jp>",
                attachments=attachments, received=RECEIVED.split("; ", 1)[1])


def raw_mail(msgid: str, body: bytes, *, headers: list[bytes] | None = None,
             content_type: bytes = b"text/plain; charset=utf-8",
             cte: bytes = b"8bit", subject: bytes | None = None) -> bytes:
    """A mail written byte for byte: nothing repairs what the test put in."""
    lines = [
        b"Received: " + RECEIVED.encode(),
        f"From: =?utf-8?b?{base64.b64encode('耐性試験'.encode()).decode()}?= <{SENDER}>".encode(),
        b"To: it-renkei@example.go.jp",
        b"Subject: " + (subject if subject is not None else SUBJECT.encode()),
        f"Message-ID: <{msgid}@hostile.example.jp>".encode(),
        b"Date: Wed, 10 Aug 2022 10:00:00 +0900",
        *(headers or []),
        b"MIME-Version: 1.0",
        b"Content-Type: " + content_type,
        b"Content-Transfer-Encoding: " + cte,
    ]
    return b"\r\n".join(lines) + b"\r\n\r\n" + body


# --------------------------------------------------------------------------- archives


@cache
def _zeros(size: int) -> tuple[bytes, int, int]:
    return deflated_zeros(size)


def ratio_bomb() -> bytes:
    """One honest 40 MB member of zeros (under the 50 MB member limit) in ~40 KB: 1000:1."""
    return build_zip([Entry(b"keikakusho.xlsx", precompressed=_zeros(40 * MB))])


def lying_bomb() -> bytes:
    """200 MB of zeros whose directory claims 10 KB: only reading can find it out."""
    return build_zip([Entry(b"data.pdf", precompressed=_zeros(200 * MB), declared_size=10_000)])


def overlapped(member: Entry, copies: int) -> bytes:
    """A zip whose `copies` directory entries all point at the one stored member (the
    non-recursive zip bomb of Fifield 2019): the archive stays small, the content multiplies."""
    single = build_zip([member])
    # build_zip writes no comment: the end record is the last 22 bytes. Searching for the
    # signatures would find the ones inside a stored member that is itself a zip.
    cd_size, local_end = struct.unpack("<II", single[-10:-2])
    central = single[local_end:local_end + cd_size]
    directory = central * copies  # same name, same offset 0, again and again
    eocd = (b"PK\x05\x06" + bytes(4) + copies.to_bytes(2, "little") * 2
            + len(directory).to_bytes(4, "little") + local_end.to_bytes(4, "little") + bytes(2))
    return single[:local_end] + directory + eocd


def overlap_bomb(copies: int = 400) -> bytes:
    """1 MB of incompressible data, listed 400 times: no ratio to catch, 400 MB in all."""
    return overlapped(Entry(b"copy.bin", _noise(MB), deflate=False), copies)


@cache
def _noise(size: int) -> bytes:
    return random.Random(size).randbytes(size)


def nesting_bomb(depth: int = 12) -> bytes:
    """Archives inside archives, far deeper than any real submission (42.zip style)."""
    return nested_zip(depth, b"leaf.xlsx", b"leaf")


def wide_nesting_bomb(width: int = 16, depth: int = 6) -> bytes:
    """Each level lists the level below `width` times (overlapping entries, so the mail stays
    a few KB): width**depth zip files of 1 MB of zeros in the end."""
    data = build_zip([Entry(b"zeros.bin", precompressed=_zeros(MB))])
    for level in range(depth, 0, -1):
        data = overlapped(Entry(f"level{level}.zip".encode(), data, deflate=False), width)
    return data


def traversal_zip() -> bytes:
    """The valid sample forms, every name made to climb out: ../, absolute, drive, UNC."""
    prefixes = ["../../../../etc/", "/tmp/renkei-escape/", "C:\\Windows\\..\\..\\",
                "..\\..\\", "\\\\server\\share\\", "./../"]
    entries = []
    with zipfile.ZipFile(VALID_ZIP) as source:
        for index, info in enumerate(i for i in source.infolist() if not i.is_dir()):
            name = info.filename.rsplit("/", 1)[-1]
            prefix = prefixes[index % len(prefixes)]
            entries.append(Entry((prefix + name).encode(), source.read(info), utf8_flag=True))
    return build_zip(entries)


def symlink_zip() -> bytes:
    return build_zip([
        symlink_entry(b"4_koufu.xlsx", b"/etc/passwd"),
        symlink_entry(b"link-dir/", b"/root"),
        Entry(b"memo.txt", b"normal member"),
    ])


def many_members_zip(count: int = 10_000) -> bytes:
    return build_zip(Entry(f"f{i:05d}.txt".encode(), b"x", deflate=False) for i in range(count))


# --------------------------------------------------------------------------- MIME


def big_mail(size: int = 25 * MB) -> bytes:
    """A mail of about `size` bytes: one random (incompressible) attachment, base64."""
    payload = os.urandom(size * 3 // 4 - 4096)
    return hostile("big", {"大容量資料.pdf": b"%PDF-1.4\n" + payload})


def nested_mime(levels: int) -> bytes:
    """`levels` multiparts inside each other; the sender block sits in the innermost part."""
    out = io.BytesIO()
    for i in range(1, levels + 1):
        out.write(f"--b{i - 1}\r\nContent-Type: multipart/mixed; boundary=\"b{i}\"\r\n\r\n"
                  .encode())
    out.write(f"--b{levels}\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n".encode())
    out.write(BODY.replace("\n", "\r\n").encode() + b"\r\n")
    for i in range(levels, -1, -1):
        out.write(f"--b{i}--\r\n".encode())
    return raw_mail(f"nested{levels}", out.getvalue(),
                    content_type=b'multipart/mixed; boundary="b0"', cte=b"7bit")


def huge_subject(size: int = MB) -> bytes:
    """A Subject of `size` bytes of RFC 2047 words, folded, on a mail with an attachment:
    food for the header decoder and the subject parser."""
    word = f"=?utf-8?b?{base64.b64encode('長い件名'.encode()).decode()}?="
    folded = "\r\n ".join([word] * (size // (len(word) + 3)))
    body = (
        "--sep\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n"
        + BODY.replace("\n", "\r\n")
        + "--sep\r\nContent-Type: application/pdf\r\n"
        "Content-Disposition: attachment; filename=\"a.pdf\"\r\n\r\n%PDF-1.4\r\n--sep--\r\n"
    )
    return raw_mail("hugesubject", body.encode(), subject=f"<{CONSORTIUM}> {folded}".encode(),
                    content_type=b'multipart/mixed; boundary="sep"')


def huge_header(size: int = MB) -> bytes:
    """An unfolded 1 MB X- header of one line (RFC 5322 allows 998 octets)."""
    return raw_mail("hugeheader", BODY.replace("\n", "\r\n").encode(),
                    headers=[b"X-Padding: " + b"A" * size])


def nul_bytes() -> bytes:
    subject = f"<{CONSORTIUM}\x00>{CORE}\x00".encode()
    body = BODY.replace("会社名", "会社\x00名").replace("\n", "\r\n\x00").encode()
    return raw_mail("nul", b"\x00\x00" + body + b"\x00",
                    headers=[b"X-Nul: a\x00b", b"Reply-To: \x00@\x00"], subject=subject)


def broken_base64() -> bytes:
    """A multipart whose zip attachment is not base64 at all, and a text part cut mid-quantum."""
    text = base64.b64encode((BODY + "以上、よろしくお願いいたします。\n").encode()).decode()
    body = (
        "--sep\r\nContent-Type: text/plain; charset=utf-8\r\n"
        "Content-Transfer-Encoding: base64\r\n\r\n"
        f"{text[:-7]}!!\r\n"  # cut mid-quantum, junk characters
        "--sep\r\nContent-Type: application/zip; name=\"shinsei.zip\"\r\n"
        "Content-Disposition: attachment; filename=\"shinsei.zip\"\r\n"
        "Content-Transfer-Encoding: base64\r\n\r\n"
        "UEsDBB!!!@@@###$$$%%%\r\n=== not base64 at all ;; \u3042\r\nUEsDBBQ\r\n"
        "--sep--\r\n"
    )
    return raw_mail("b64", body.encode(), content_type=b'multipart/mixed; boundary="sep"',
                    cte=b"7bit")


def broken_quoted_printable() -> bytes:
    """Quoted-printable with invalid escapes, a lone '=' and a split UTF-8 sequence."""
    import quopri

    encoded = quopri.encodestring(BODY.encode()).replace(b"\n", b"\r\n")
    body = b"=ZZ=\r\n=E4=BC" + b"=G1 " + encoded + b"=\r\n=" + b"=E3=81"
    return raw_mail("qp", body, cte=b"quoted-printable")


def dated(msgid: str, *, date: str | None, received: str | None) -> bytes:
    """A mail with the given Date: and Received: dates (None: header left out)."""
    lines = [b"From: " + SENDER.encode(), b"To: it-renkei@example.go.jp",
             b"Subject: " + SUBJECT.encode(), f"Message-ID: <{msgid}@hostile.example.jp>".encode(),
             b"MIME-Version: 1.0", b"Content-Type: text/plain; charset=utf-8"]
    if received is not None:
        lines.insert(0, f"Received: from mx.hostile.example.jp by mx.example.go.jp; {received}"
                     .encode())
    if date is not None:
        lines.append(b"Date: " + date.encode())
    return b"\r\n".join(lines) + b"\r\n\r\n" + BODY.replace("\n", "\r\n").encode()


# --------------------------------------------------------------------------- loops


def from_ourselves(our_address: str) -> bytes:
    """A mail claiming to come from the secretariat itself (a loop, or a forgery)."""
    return hostile("own", {"a.pdf": b"%PDF-1.4"}, sender=our_address)


def auto_replied() -> bytes:
    raw = hostile("autoreplied", {"a.pdf": b"%PDF-1.4"})
    return b"Auto-Submitted: auto-replied\r\n" + raw


def x_loop(our_address: str) -> bytes:
    raw = hostile("xloop", {"a.pdf": b"%PDF-1.4"})
    return f"X-Loop: {our_address}\r\n".encode() + raw


def our_reply_bounced_back(our_address: str) -> bytes:
    """Our own receipt, as an auto-responder forwards it back: From us, Auto-Submitted, Re:."""
    return (f"Auto-Submitted: auto-replied\r\nFrom: {our_address}\r\n".encode()
            + b"To: " + SENDER.encode() + b"\r\nSubject: Re: " + SUBJECT.encode()
            + b"\r\nMessage-ID: <loop@hostile.example.jp>\r\nReceived: " + RECEIVED.encode()
            + b"\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n" + BODY.encode())


# --------------------------------------------------------------------------- addresses


def _colons(count: int = 3000) -> bytes:
    # The standard library's address parser recurses once per group colon.
    return b":" * count


def second_from_of_colons() -> bytes:
    """A normal mail with a second From: header of thousands of colons below the first."""
    raw = hostile("colons2", {"a.pdf": b"%PDF-1.4"})
    return raw.replace(b"\nTo: ", b"\nFrom: " + _colons() + b"\nTo: ", 1)


def to_of_colons() -> bytes:
    raw = hostile("colonsto", {"a.pdf": b"%PDF-1.4"})
    return raw.replace(b"\nTo: it-renkei@example.go.jp", b"\nTo: " + _colons(), 1)


def auto_reply_from_colons() -> bytes:
    """An auto-reply whose only From: is thousands of colons (and so no address at all)."""
    return (b"Auto-Submitted: auto-replied\r\nFrom: " + _colons() + b"\r\n"
            b"To: it-renkei@example.go.jp\r\nSubject: Re: " + SUBJECT.encode()
            + b"\r\nMessage-ID: <colonsauto@hostile.example.jp>\r\nReceived: " + RECEIVED.encode()
            + b"\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n" + BODY.encode())
