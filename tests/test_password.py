"""find_password against the password mails applicants really send."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
import pyzipper
from hypothesis import given, settings
from hypothesis import strategies as st

from parsers.password import find_password, password_candidates

SIGN = "\n\n株式会社ABC 山田\nTEL 03-1234-5678\n"

GIVES = [
    ("パスワード：Ab3xY9Qz", "Ab3xY9Qz"),
    ("パスワード: Ab3xY9Qz", "Ab3xY9Qz"),
    ("解凍パスワードは「k9#Lm2!p」です。", "k9#Lm2!p"),
    ("解凍用パスワード『R4-renkei』", "R4-renkei"),
    ("PW: abc12345", "abc12345"),
    ("ＰＷ：ｘｙｚ７８９", "ｘｙｚ７８９"),
    ("PASS=Qwe!2022", "Qwe!2022"),
    ("Password: 'S3cr3t!'", "S3cr3t!"),
    ("password\n\"qwerty99\"", "qwerty99"),
    ("【パスワード】HJ7k2p", "HJ7k2p"),
    ("パスワードは　Hi7Kz9d　です。", "Hi7Kz9d"),
    ("パスワード abcd1234 です", "abcd1234"),
    ("先ほどお送りしたファイルのパスワードをお知らせします。\n\nZx81-pq!\n\nよろしくお願いします。",
     "Zx81-pq!"),
    ("パスワードは以下の通りです。\n  kR4tT9w", "kR4tT9w"),
    ("パスワード：\n\n「9f8e7d6c」", "9f8e7d6c"),
    ("パスワードをお送りします\nパスワード：abc987x", "abc987x"),
    ("件名のメールに添付したzipファイルの解凍パスワードです。\nパスワード:Renkei#2022", "Renkei#2022"),
    ("> パスワードは別途お送りします。\n\nパスワード：p@ss-w0rd", "p@ss-w0rd"),
    ("パスワード（半角英数）：Abc123xyz", "Abc123xyz"),
    ("ZIPパスワード(大文字小文字を区別します)：QwErTy12", "QwErTy12"),
    ("パスワード：「000)」", "000)"),
]

NONE = [
    "パスワードは別途お送りします。",
    "パスワードは別メールにてお送りいたします。\nよろしくお願いいたします。\n株式会社ABC",
    "パスワードは後ほどご連絡いたします。\n\nTEL:03-1234-5678",
    "パスワード:別途送付",
    "添付ファイルにはパスワードをかけています。\nABC123",
    "> パスワード：quoted123\n了解しました",
    "応募書類を送付します。ご確認ください。",
    "パスワードを忘れてしまいました。",
    "",
    "パスワード：\n\n株式会社ABC",
    "パスワードは次のメールでお知らせします。\nmail: yamada@abc.co.jp",
    "ご確認ください。\n-----Original Message-----\nパスワード：old-pass-1",
]


@pytest.mark.parametrize(("body", "password"), GIVES)
def test_password_found(body: str, password: str) -> None:
    assert find_password(body + SIGN) == password


@pytest.mark.parametrize("body", NONE)
def test_no_password(body: str) -> None:
    assert find_password(body + SIGN) is None
    assert password_candidates(body) == []


def test_enough_bodies_for_the_brief() -> None:
    assert len(GIVES) + len(NONE) >= 12


def test_full_width_password_offers_half_width_second() -> None:
    assert password_candidates("パスワード：ＡＢｃ１２３") == ["ＡＢｃ１２３", "ABc123"]
    assert password_candidates("パスワード：ABc123") == ["ABc123"]


def test_found_password_opens_the_archive() -> None:
    # The point of the exercise: the value read from the mail decrypts an AES zip.
    buffer = io.BytesIO()
    with pyzipper.AESZipFile(buffer, "w", compression=pyzipper.ZIP_DEFLATED,
                             encryption=pyzipper.WZ_AES) as archive:
        archive.setpassword(b"Ren#kei-2022")
        archive.writestr("4_交付申請書.txt", "交付申請書")
    password = find_password("お世話になっております。\n解凍パスワード：「Ren#kei-2022」\n")
    assert password is not None
    with pyzipper.AESZipFile(io.BytesIO(buffer.getvalue())) as archive:
        archive.setpassword(password.encode())
        assert archive.read("4_交付申請書.txt").decode() == "交付申請書"


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=300))
def test_never_raises_on_arbitrary_text(text: str) -> None:
    result = find_password(text)
    assert result is None or 3 <= len(result) <= 128


@settings(max_examples=150, deadline=None)
@given(st.text(alphabet=st.characters(min_codepoint=0x21, max_codepoint=0x7E), min_size=4,
               max_size=40).filter(lambda p: "@" not in p and any(c.isalnum() for c in p)))
def test_any_printable_password_in_brackets_round_trips(password: str) -> None:
    # A password containing the closing bracket itself cannot be told apart; applicants with
    # such passwords write them bare.
    if "」" in password:
        return
    assert find_password(f"パスワード：「{password}」") == password


def test_example_password_mail_opens_the_example_archive() -> None:
    # examples/mailbox: mail 11 carries the AES zip, mail 12 the password, as applicants do it.
    from parsers.mime import parse_message

    box = Path(__file__).resolve().parents[1] / "examples" / "mailbox"
    [archive_mail] = box.glob("cur/*.M11P1.*")
    [password_mail] = box.glob("cur/*.M12P1.*")
    archive_record = parse_message(archive_mail.read_bytes())
    assert find_password(archive_record.body) is None  # "パスワードは別途お送りします"
    password = find_password(parse_message(password_mail.read_bytes()).body)
    assert password is not None
    [zipped] = [a for a in archive_record.attachments if a.name.endswith(".zip")]
    with pyzipper.AESZipFile(io.BytesIO(zipped.data)) as archive:
        archive.setpassword(password.encode())
        names = archive.namelist()
        assert any(name.startswith("4_交付申請書") for name in names)
        assert all(archive.read(name) for name in names)
