"""Files uuencoded inside the text of a mail, as Becky!, Outlook Express and Unix mail sent
them before MIME: read as attachments of the mail. The uuencoding is made by the standard
library's binascii, line by line as uuencode(1) writes it (45 bytes a line, a "`" line, end),
and the mails are written by hand in ISO-2022-JP, the way those mailers sent Japanese."""

from __future__ import annotations

import binascii
import email.header
from pathlib import Path

from ingest.check_cmd import check_bytes
from parsers.forms import load_form_map
from parsers.mime import parse_message
from rules.program import Program

REPO = Path(__file__).resolve().parents[1]
SUBMISSION = (REPO / "examples" / "forms" / "valid-submission.zip").read_bytes()
NAME = "みなとDX連携コンソーシアム"
LEAD = "tanaka@minato-seiki.example.jp"


def uuencode(name: str, data: bytes, *, mode: str = "644", end: bool = True) -> bytes:
    lines = [b"begin " + mode.encode() + b" " + name.encode("iso2022_jp") + b"\r\n"]
    lines += [binascii.b2a_uu(data[i : i + 45], backtick=True).replace(b"\n", b"\r\n")
              for i in range(0, len(data), 45)]
    if end:
        lines += [b"`\r\n", b"end\r\n"]
    return b"".join(lines)


def jis(text: str) -> bytes:
    return text.replace("\n", "\r\n").encode("iso2022_jp")


def becky_mail(body: bytes, *, mime: bool = True) -> bytes:
    """Becky! 2 sends MIME headers and a 7-bit ISO-2022-JP body; Outlook Express with
    uuencode chosen, or Unix mail, may send no MIME header at all."""
    subject = email.header.Header(
        f"<{NAME}>令和4年度「共創型サービスIT連携支援補助金」 応募書類送付", "iso-2022-jp").encode()
    sender = email.header.Header("田中 一郎", "iso-2022-jp").encode()
    head = (f"Received: from mx.example.jp by it-renkei.example.go.jp; "
            f"Wed, 10 Aug 2022 10:00:00 +0900\r\n"
            f"From: {sender} <{LEAD}>\r\nTo: it-renkei@example.go.jp\r\n"
            f"Subject: {subject}\r\nDate: Wed, 10 Aug 2022 10:00:00 +0900\r\n"
            "Message-ID: <20220810100000.1234.BECKY@minato-seiki.example.jp>\r\n"
            "X-Mailer: Becky! ver. 2.75.03 [ja]\r\n").encode()
    if mime:
        head += (b"MIME-Version: 1.0\r\nContent-Type: text/plain; charset=\"ISO-2022-JP\"\r\n"
                 b"Content-Transfer-Encoding: 7bit\r\n")
    return head + b"\r\n" + body


LETTER = jis("令和4年度「共創型サービスIT連携支援事業」事務局 御中\n\n応募書類を送付いたします。\n\n"
             f"会社名：株式会社みなと精機\n役職：DX推進課長\n氏名：田中 一郎\nメールアドレス：{LEAD}\n"
             "電話番号：045-000-1234\n\n")


def test_a_uuencoded_file_becomes_an_attachment_and_leaves_the_text() -> None:
    record = parse_message(becky_mail(LETTER + uuencode("申請書類.zip", SUBMISSION)
                                      + jis("\n以上、よろしくお願いいたします。\n")))
    assert [(a.name, a.data) for a in record.attachments] == [("申請書類.zip", SUBMISSION)]
    assert "begin" not in record.body and "応募書類を送付いたします。" in record.body
    assert "よろしくお願いいたします。" in record.body
    assert not [p for p in record.problems if "uuencode" in p]


def test_a_mail_without_mime_headers_with_two_uuencoded_files() -> None:
    first, second = b"first file\x00\x01\x02" * 100, bytes(range(256)) * 3
    body = (LETTER + uuencode("様式1_交付申請書.xlsx", first, mode="666") + jis("\n")
            + uuencode("様式2 会員情報.xlsx", second))
    record = parse_message(becky_mail(body, mime=False))
    assert [(a.name, a.data) for a in record.attachments] == [
        ("様式1_交付申請書.xlsx", first), ("様式2 会員情報.xlsx", second)]


def test_a_uuencoded_submission_is_checked_like_a_mime_one() -> None:
    raw = becky_mail(LETTER + uuencode("申請書類.zip", SUBMISSION))
    result = check_bytes("mail.eml", raw, Program(), load_form_map())
    assert result.findings == []
    assert len(result.recognised) == 16


def test_a_cut_off_uuencode_is_a_finding_not_a_crash() -> None:
    encoded = uuencode("申請書類.zip", SUBMISSION, end=False)
    cut = encoded[: len(encoded) // 2]
    cut = cut[: cut.rindex(b"\r\n") + 2]  # a mail cut off at a line end, as a relay cuts it
    record = parse_message(becky_mail(LETTER + cut))
    [attachment] = record.attachments
    assert attachment.name == "申請書類.zip" and SUBMISSION.startswith(attachment.data)
    assert any("uuencode" in p and "申請書類.zip" in p and "end" in p for p in record.problems)
    result = check_bytes("mail.eml", becky_mail(LETTER + cut), Program(), load_form_map())
    assert "ATTACHMENT_UNREADABLE" in {f.code for f in result.findings}


def test_a_damaged_line_keeps_what_decoded_before_it() -> None:
    encoded = uuencode("data.bin", bytes(range(200)))
    lines = encoded.split(b"\r\n")
    lines[2] = b"M" + "壊れた行".encode("iso2022_jp")  # an escape byte is no uuencode
    record = parse_message(becky_mail(LETTER + b"\r\n".join(lines) + jis("\n以上\n")))
    [attachment] = record.attachments
    assert attachment.data == bytes(range(45))
    assert any("data.bin" in p and "壊れて" in p for p in record.problems)
    assert "以上" in record.body


def test_trailing_spaces_stripped_by_a_relay_still_decode() -> None:
    data = bytes(range(256))
    stripped = b"\r\n".join(line.rstrip(b" ") for line in
                            uuencode("x.bin", data).replace(b"`", b" ").split(b"\r\n"))
    record = parse_message(becky_mail(LETTER + stripped))
    assert [a.data for a in record.attachments] == [data]


def test_a_begin_line_that_starts_no_block_stays_text() -> None:
    body = jis("begin 644 の件について\nご確認ください。\n") + b"begin 2024 plans\r\nok\r\n"
    record = parse_message(becky_mail(LETTER + body))
    assert record.attachments == ()
    assert "begin 644 の件について" in record.body and "begin 2024 plans" in record.body


def test_libarchives_uuencoded_test_archive_pasted_into_a_mail(corpus_dir: Path) -> None:
    """A .uu file made by another project's uuencode, pasted into the text as old mailers did."""
    uu = (corpus_dir / "libarchive+libarchive" / "libarchive" / "test"
          / "test_read_format_zip_filename_cp932.zip.uu").read_bytes()
    record = parse_message(becky_mail(LETTER + uu.replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")))
    [attachment] = record.attachments
    assert attachment.name == "test_read_format_zip_filename_cp932.zip"
    assert attachment.data.startswith(b"PK\x03\x04")
    assert not [p for p in record.problems if "uuencode" in p]
