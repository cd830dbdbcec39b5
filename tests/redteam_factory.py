"""Hostile mails the other factories do not make, written the way an attacker or a broken mailer
writes them: XML entity bombs inside workbook and document parts, an inline string of 100 MB, a
zip whose directory lies, a PDF whose one stream inflates to gigabytes or whose page tree loops,
an encrypted workbook that asks for a billion hash rounds, a broken OLE file, TNEF holding many
files, and mails whose headers and MIME structure are built to cost the parser (a 30 MB header
line, 100,000 headers, RFC 2231 continuations, 1,000 nested message/rfc822, a multipart without
its end boundary). Each builder returns the raw bytes of one mail.
"""

from __future__ import annotations

import base64
import io
import struct
import zlib
from collections.abc import Callable
from functools import cache

from tests import hostile_factory as hf
from tests import isolation_factory as isf
from tests.archive_factory import Entry, build_aes_zip, build_zip, symlink_entry
from tests.mails import VALID_ZIP, make_forms

MB = hf.MB
CRLF_BODY = hf.BODY.replace("\n", "\r\n").encode()


def _multipart(msgid: str, parts: list[bytes], *, end: bool = True,
               headers: list[bytes] | None = None, subject: bytes | None = None) -> bytes:
    body = [b"--sep\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n" + CRLF_BODY + b"\r\n"]
    body += [b"--sep\r\n" + p + b"\r\n" for p in parts]
    if end:
        body.append(b"--sep--\r\n")
    return hf.raw_mail(msgid, b"".join(body), content_type=b'multipart/mixed; boundary="sep"',
                       cte=b"7bit", headers=headers, subject=subject)


def _attachment(name: str, data: bytes) -> bytes:
    return (b"Content-Type: application/octet-stream\r\nContent-Transfer-Encoding: base64\r\n"
            b"Content-Disposition: attachment; filename*=utf-8''"
            + _pct(name) + b"\r\n\r\n" + base64.encodebytes(data).replace(b"\n", b"\r\n"))


def _pct(name: str) -> bytes:
    return "".join(c if c.isascii() and c.isalnum() or c in "._-" else
                   "".join(f"%{b:02X}" for b in c.encode()) for c in name).encode()


# --------------------------------------------------------------------------- XML in packages

_LAUGHS = (b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lollollollollollollollollollol">'
           + b"".join(b'<!ENTITY lol%d "%s">' % (i, (b"&lol%d;" % (i - 1) if i > 1 else b"&lol;")
                                                 * 10) for i in range(1, 10))
           + b"]>")


def xlsx_billion_laughs() -> bytes:
    """sharedStrings.xml whose one string is nine levels of ten entity references (~3 GB)."""
    sst = _LAUGHS + (b'<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
                     b"<si><t>&lol9;</t></si></sst>")
    return isf._xlsx(isf._one_cell_sheet(), isf._deflated(iter([sst])))


def xlsx_external_entity() -> bytes:
    """A shared string that names /etc/passwd as an external entity."""
    sst = (b'<?xml version="1.0"?><!DOCTYPE sst [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>'
           b'<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
           b"<si><t>&xxe;</t></si></sst>")
    return isf._xlsx(isf._one_cell_sheet(), isf._deflated(iter([sst])))


def xlsx_inline_string(size: int = 100 * MB) -> bytes:
    """One inline-string cell (no shared-string table used) of `size` bytes."""
    chunk = b"B" * MB

    def pieces():
        yield isf._SHEET_HEAD + b'<row r="1"><c r="A1" t="inlineStr"><is><t>'
        for _ in range(size // MB):
            yield chunk
        yield b"</t></is></c></row>" + isf._SHEET_TAIL
    strings = isf._deflated(iter([isf._SST_HEAD, b"<si><t>x</t></si></sst>"]))
    return isf._xlsx(isf._deflated(pieces()), strings)


def docx_billion_laughs() -> bytes:
    """word/document.xml made of the same entity bomb."""
    doc = _LAUGHS + (b'<w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/'
                     b'2006/main"><w:body><w:p><w:r><w:t>&lol9;</w:t></w:r></w:p></w:body>'
                     b"</w:document>")
    types = (b'<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/'
             b'content-types"><Override PartName="/word/document.xml" ContentType="application/'
             b'vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"/></Types>')
    return build_zip([Entry(b"[Content_Types].xml", types), Entry(b"word/document.xml", doc)])


def pptx_huge_slide(size: int = 300 * MB) -> bytes:
    """ppt/slides/slide1.xml of `size` bytes of text in one run (~300 KB on disk)."""
    chunk = b"C" * MB

    def pieces():
        yield (b'<p:sld xmlns:p="http://schemas.openxmlformats.org/presentationml/2006/main" '
               b'xmlns:a="http://schemas.openxmlformats.org/drawingml/2006/main"><a:t>')
        for _ in range(size // MB):
            yield chunk
        yield b"</a:t></p:sld>"
    types = (b'<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/'
             b'content-types"><Override PartName="/ppt/slides/slide1.xml" ContentType="application/'
             b'vnd.openxmlformats-officedocument.presentationml.slide+xml"/></Types>')
    return build_zip([Entry(b"[Content_Types].xml", types),
                      Entry(b"ppt/slides/slide1.xml", precompressed=isf._deflated(pieces()))])


# --------------------------------------------------------------------------- zips


def zip_directory_claims_65535() -> bytes:
    """One real member; the end record claims 65,535 entries and a directory past the end."""
    data = bytearray(build_zip([Entry(b"a.txt", b"hello")]))
    eocd = data.rfind(b"PK\x05\x06")
    struct.pack_into("<HHI", data, eocd + 8, 0xFFFF, 0xFFFF, 0x7FFFFFFF)
    return bytes(data)


def zip64_lying_sizes() -> bytes:
    """A zip64 directory entry whose sizes claim 2^62 bytes for a 5-byte member."""
    name = b"keikaku.pdf"
    payload = b"%PDF-"
    crc = zlib.crc32(payload)
    extra_local = struct.pack("<HHQQ", 1, 16, 1 << 62, len(payload))
    local = struct.pack("<4sHHHHHIIIHH", b"PK\x03\x04", 45, 0, 0, 0, 0, crc, 0xFFFFFFFF,
                        0xFFFFFFFF, len(name), len(extra_local)) + name + extra_local + payload
    extra = struct.pack("<HHQQQ", 1, 24, 1 << 62, len(payload), 0)
    central = struct.pack("<4sHHHHHHIIIHHHHHII", b"PK\x01\x02", 45, 45, 0, 0, 0, 0, crc,
                          0xFFFFFFFF, 0xFFFFFFFF, len(name), len(extra), 0, 0, 0, 0,
                          0) + name + extra
    end = struct.pack("<4sHHHHIIH", b"PK\x05\x06", 0, 0, 1, 1, len(central), len(local), 0)
    return local + central + end


def zip_unicode_traversal() -> bytes:
    """Member names that escape through look-alike and platform-specific paths."""
    valid = {n: d for n, d in _valid_files().items()}
    names = [
        "..／..／..／tmp／renkei-fw.txt", "..\uff3c..\uff3cwin.txt", "C:\\Windows\\system32\\x.txt",
        "\\\\server\\share\\y.txt", "/etc/renkei-abs.txt", "a/\u2025/\u2025/b.txt",
        "nul\x00byte.txt", "..\u2215..\u2215slash.txt", "CON", "aux.txt",
    ]
    entries = [Entry(n.encode(), b"x", utf8_flag=True) for n in names]
    entries += [symlink_entry(b"link-to-root", b"/"), symlink_entry(b"up", b"../../..")]
    entries += [Entry(f"申請書類/{n}".encode(), d, utf8_flag=True) for n, d in valid.items()]
    return build_zip(entries)


@cache
def _valid_files() -> dict[str, bytes]:
    import zipfile

    with zipfile.ZipFile(io.BytesIO(VALID_ZIP.read_bytes())) as zf:
        return {i.filename.rsplit("/", 1)[-1]: zf.read(i) for i in zf.infolist()
                if not i.is_dir()}


def password_mail(msgid: str, password: str) -> bytes:
    return hf.hostile(msgid, subject="パスワードのご連絡", body=hf.BODY + f"パスワード：{password}\n")


def password_spray(count: int = 100) -> list[bytes]:
    """An AES zip, then `count` password mails from its sender, every one wrong: each new
    password makes the archive be tried again with all the passwords so far."""
    locked = build_aes_zip([(b"a.pdf", b"%PDF-1.4 secret")], b"not-in-the-list")
    return [hf.hostile("spray", {"書類.zip": locked}),
            *(password_mail(f"spray-pw{i}", f"cand{i:05d}-パス") for i in range(count))]


# --------------------------------------------------------------------------- PDF


def _pdf(objects: list[bytes]) -> bytes:
    out = io.BytesIO()
    out.write(b"%PDF-1.7\n")
    offsets = []
    for i, obj in enumerate(objects, 1):
        offsets.append(out.tell())
        out.write(b"%d 0 obj\n" % i + obj + b"\nendobj\n")
    xref = out.tell()
    out.write(b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1))
    for off in offsets:
        out.write(b"%010d 00000 n \n" % off)
    out.write(b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n"
              % (len(objects) + 1, xref))
    return out.getvalue()


def pdf_flate_bomb(size: int = 1024 * MB) -> bytes:
    """A page whose content stream inflates to `size` bytes of text operators (~1 MB on disk)."""
    packer = zlib.compressobj(9)
    line = b"(A) Tj " * 4096
    stream = b"".join(packer.compress(line) for _ in range(size // len(line))) + packer.flush()
    return _pdf([
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R >>",
        b"<< /Length %d /Filter /FlateDecode >>\nstream\n" % len(stream) + stream
        + b"\nendstream",
    ])


def pdf_page_tree_loop() -> bytes:
    """A page tree whose Pages node lists itself and its parent among its kids."""
    return _pdf([
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R 2 0 R] /Count 1000000 >>",
        b"<< /Type /Pages /Parent 2 0 R /Kids [2 0 R 3 0 R] /Count 1000000 >>",
    ])


# --------------------------------------------------------------------------- Office / OLE / TNEF


def xlsx_encrypted_spin(spin: int = 10_000_000) -> bytes:
    """A valid workbook encrypted (agile) whose key derivation asks for `spin` hash rounds (the
    most msoffcrypto-tool accepts: 100 times what Excel writes)."""
    from msoffcrypto.format.ooxml import OOXMLFile

    plain = make_forms().submission_files(make_forms().VALID)
    xlsx = next(d for n, d in plain.items() if n.endswith(".xlsx"))
    out = io.BytesIO()
    OOXMLFile(io.BytesIO(xlsx)).encrypt("himitsu", out)
    data = out.getvalue()
    old = b'spinCount="100000"'
    new = b'spinCount="%d"' % spin
    grow = (len(new) - len(old)) * data.count(old)
    pad = b' standalone="yes"'
    assert data.count(old) and data.count(pad) == 1 and len(pad) >= grow
    return data.replace(old, new).replace(pad, b" " * (len(pad) - grow))


def ole_fat_claims() -> bytes:
    """An OLE header claiming 2^31 FAT sectors and a directory chain that points at itself."""
    header = bytearray(512)
    header[0:8] = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
    struct.pack_into("<HHHHH", header, 24, 0x3E, 3, 0xFFFE, 9, 6)
    struct.pack_into("<IIIIIIII", header, 40, 0, 0, 0x7FFFFFFF, 0, 0, 0x1000, 0xFFFFFFFE, 0)
    struct.pack_into("<II", header, 68, 0xFFFFFFFE, 0)
    for i in range(109):
        struct.pack_into("<I", header, 76 + 4 * i, 0)  # every DIFAT slot: sector 0
    sector0 = struct.pack("<128I", *([0] * 128))  # FAT: every sector chains to sector 0
    return bytes(header) + sector0 * 4


def tnef_many_attachments(count: int = 3000) -> bytes:
    """A TNEF stream of `count` attachments of 1 KB each, distinct."""
    def attribute(level: int, ident: int, data: bytes) -> bytes:
        return (struct.pack("<BII", level, ident, len(data)) + data
                + struct.pack("<H", sum(data) & 0xFFFF))
    out = [struct.pack("<IH", 0x223E9F78, 0x0001)]
    for i in range(count):
        out.append(attribute(2, 0x00069002, b"\x01\x00\x00\x00" + bytes(10)))  # attRenddata
        out.append(attribute(2, 0x00018010, b"f%05d.txt\x00" % i))  # attAttachTitle
        out.append(attribute(2, 0x0006800F, struct.pack("<I", i) * 256))  # attAttachData
    return b"".join(out)


# --------------------------------------------------------------------------- MIME and headers


def header_line(size: int = 39 * MB) -> bytes:
    """One unfolded header line as large as `max_message_bytes` (40 MiB) admits."""
    return hf.raw_mail("hdr39mb", CRLF_BODY, headers=[b"X-Long: " + b"x" * size])


def many_headers(count: int = 2_600_000) -> bytes:
    """`count` short header fields (~40 MB), then the From and Subject a parser must still find."""
    raw = hf.raw_mail("hdr3m", CRLF_BODY, headers=[b"X-H%d: v" % i for i in range(count)])
    return raw


def folded_subject(size: int = 39 * MB) -> bytes:
    """A Subject folded over a million lines of non-ASCII (raw UTF-8) text."""
    line = "\r\n 長い件名".encode() * 1000
    return hf.raw_mail("fold39mb", CRLF_BODY,
                       subject=hf.SUBJECT.encode() + line * (size // len(line)))


def repeated_base64(size: int = 39 * MB) -> bytes:
    """One attachment whose base64 text is `size` bytes of the letter A (zeros once decoded)."""
    line = b"A" * 76 + b"\r\n"
    part = (b"Content-Type: application/pdf\r\nContent-Transfer-Encoding: base64\r\n"
            b'Content-Disposition: attachment; filename="a.pdf"\r\n\r\n'
            + line * (size // len(line)))
    return _multipart("b64rep", [part])


def uuencoded() -> bytes:
    """The submission zip uuencoded in the text body, the way old mailers attach files."""
    import binascii

    data = VALID_ZIP.read_bytes()
    lines = [binascii.b2a_uu(data[i:i + 45]).rstrip(b"\n") for i in range(0, len(data), 45)]
    body = CRLF_BODY + b"\r\nbegin 644 shinsei.zip\r\n" + b"\r\n".join(lines) + b"\r\n`\r\nend\r\n"
    return hf.raw_mail("uuenc", body)


def nested_rfc822(levels: int = 1000) -> bytes:
    inner = b"Content-Type: text/plain; charset=utf-8\r\n\r\n" + CRLF_BODY
    for _ in range(levels):
        inner = b"Content-Type: message/rfc822\r\n\r\nSubject: fwd\r\n" + inner
    return _multipart("rfc822x1000", [inner])


def unterminated_boundaries(count: int = 100_000) -> bytes:
    """`count` boundaries of empty parts and no closing boundary."""
    return _multipart("noend", [b""] * count, end=False)


def rfc2231_continuations(count: int = 10_000) -> bytes:
    params = b"".join(b";\r\n filename*%d*=%%E7%%94%%B3" % i for i in range(count))
    part = (b"Content-Type: application/pdf\r\nContent-Disposition: attachment" + params
            + b"\r\n\r\n%PDF-1.4\r\n")
    return _multipart("rfc2231", [part])


def encoded_word_subject(size: int = MB) -> bytes:
    """A Subject of one unfolded line of encoded words, each in a different charset spelling."""
    words = []
    total = 0
    i = 0
    while total < size:
        word = f"=?{'utf-8' if i % 2 else 'ISO-2022-JP'}?B?{base64.b64encode(b'ab').decode()}?="
        words.append(word)
        total += len(word)
        i += 1
    return hf.raw_mail("ewsubject", CRLF_BODY, subject="".join(words).encode())


def long_charset(size: int = 10_000) -> bytes:
    charset = b"x" * size
    subject = b"=?" + charset + b"?B?" + base64.b64encode(b"abc") + b"?="
    return hf.raw_mail("charset10k", CRLF_BODY, content_type=b"text/plain; charset=" + charset,
                       subject=subject)


def long_japanese_name(length: int = 10_000) -> bytes:
    name = "申請書類" * (length // 4) + ".zip"
    return _multipart("longname", [_attachment(name, VALID_ZIP.read_bytes())])


def html_unclosed(size: int = 2 * MB) -> bytes:
    """An HTML-only mail: the sender block, then tags that never close and scripts that never end."""
    junk = (b"<" * (size // 4) + b"<script>" * (size // 32) + b"<a href=" * (size // 32)
            + b"<br " * (size // 16))
    html = b"<html><body><p>" + CRLF_BODY.replace(b"\r\n", b"<br>") + b"</p>" + junk
    return hf.raw_mail("html", html, content_type=b"text/html; charset=utf-8")


def text_one_line(size: int = 39 * MB) -> bytes:
    """A plain-text body of one 39 MB line of labels and full-width colons."""
    line = "会社名：氏名：パスワード：メールアドレス：".encode()
    return hf.raw_mail("oneline", CRLF_BODY + line * (size // len(line)))


def text_many_lines(size: int = 20 * MB) -> bytes:
    """A plain-text body of 20 MB of short lines a sender block and password reader look at:
    labels, quoted replies, Outlook headers and signature rules."""
    block = ("会社名：株式会社試験\r\n> 氏名：引用\r\nFrom: a@b\r\n送信日時: 2022/08/10\r\n"
             "パスワード：\r\n-- \r\n").encode()
    return hf.raw_mail("manylines", CRLF_BODY + block * (size // len(block)))


def unicode_traversal_mail() -> bytes:
    return hf.hostile("fwtrav", {"..／..／shinsei.zip": zip_unicode_traversal()})


CASES: dict[str, Callable[[], bytes | list[bytes]]] = {
    "xlsx-billion-laughs": lambda: hf.hostile("laughs", {"4_交付申請書.xlsx": xlsx_billion_laughs()}),
    "xlsx-external-entity": lambda: hf.hostile("xxe", {"4_交付申請書.xlsx": xlsx_external_entity()}),
    "xlsx-100mb-inline-string": lambda: hf.hostile(
        "inline", {"4_交付申請書.xlsx": xlsx_inline_string()}),
    "docx-billion-laughs": lambda: hf.hostile("doclaughs", {"計画書.docx": docx_billion_laughs()}),
    "pptx-300mb-slide": lambda: hf.hostile("pptx", {"説明資料.pptx": pptx_huge_slide()}),
    "zip-directory-claims-65535": lambda: hf.hostile(
        "eocd", {"shinsei.zip": zip_directory_claims_65535()}),
    "zip64-lying-sizes": lambda: hf.hostile("zip64", {"shinsei.zip": zip64_lying_sizes()}),
    "zip-unicode-traversal": unicode_traversal_mail,
    "password-spray-100-mails": password_spray,
    "pdf-flate-bomb": lambda: hf.hostile("pdfbomb", {"計画書.pdf": pdf_flate_bomb()}),
    "pdf-page-tree-loop": lambda: hf.hostile("pdfloop", {"計画書.pdf": pdf_page_tree_loop()}),
    "xlsx-encrypted-spincount": lambda: [
        hf.hostile("spin", {"4_交付申請書.xlsx": xlsx_encrypted_spin()}),
        password_mail("spin-pw", "himitsu")],
    "ole-fat-loop": lambda: hf.hostile("ole", {"申請.msg": ole_fat_claims(),
                                                "申請.xls": ole_fat_claims()}),
    "tnef-3000-attachments": lambda: hf.hostile(
        "tnefmany", {"winmail.dat": tnef_many_attachments()}),
    "header-line-39mb": header_line,
    "headers-2600000": many_headers,
    "subject-folded-39mb": folded_subject,
    "base64-39mb-one-byte": repeated_base64,
    "uuencoded-part": uuencoded,
    "rfc822-1000-deep": nested_rfc822,
    "multipart-100000-no-end": unterminated_boundaries,
    "rfc2231-10000-continuations": rfc2231_continuations,
    "subject-1mb-encoded-words": encoded_word_subject,
    "charset-10kb": long_charset,
    "filename-10000-japanese": long_japanese_name,
    "html-unclosed-tags-2mb": html_unclosed,
    "text-one-line-39mb": text_one_line,
    "text-many-lines-20mb": text_many_lines,
}
