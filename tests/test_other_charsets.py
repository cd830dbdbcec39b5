"""Mail that is not Japanese: undeclared 8-bit Cyrillic headers, WHATWG-only charset labels,
and zip member names from Russian archivers. Japanese still comes first.

Inputs are written as the foreign software writes them: raw bytes in the header, a zip whose
name fields hold CP866 / KOI8-R bytes with no UTF-8 flag (7-Zip, WinRAR, Info-ZIP on a
Russian system), not made by the code under test.
"""

from __future__ import annotations

import base64
import codecs
import io
import re
import zipfile

import pytest

from parsers.archives import unpack
from parsers.charsetlabels import codec_for
from parsers.headerdecode import decode_header
from parsers.mime import parse_message
from parsers.textcodec import decode_bytes
from tests.conftest import REPO

RUSSIAN = ["Заявка на участие", "Привет, коллеги", "Иванов Иван Петрович", "Смета расходов",
           "Re: Вопрос по гранту", "Договор №15 от 10.08", "ОТЧЁТ О РАБОТЕ", "Київ, Україна"]


def raw_header_mail(subject: bytes, from_name: bytes) -> bytes:
    return (b"From: " + from_name + b" <ivanov@example.ru>\r\nTo: it-renkei@example.go.jp\r\n"
            b"Subject: " + subject + b"\r\nMessage-ID: <ru-1@example.ru>\r\n"
            b"Date: Wed, 10 Aug 2022 10:00:00 +0300\r\n\r\nbody\r\n")


def _writable(codec: str, text: str) -> bool:
    try:
        text.encode(codec)
    except UnicodeEncodeError:  # KOI8-R has no №, no Ukrainian letters
        return False
    return True


@pytest.mark.parametrize(("codec", "text"), [
    (codec, text) for codec in ("koi8-r", "cp1251", "cp866", "iso-8859-5") for text in RUSSIAN
    if _writable(codec, text)])
def test_undeclared_cyrillic_header_bytes_read_as_cyrillic(codec, text):
    decoded = decode_header(text.encode(codec))
    assert decoded.text == text
    assert "\ufffd" not in decoded.text


def test_a_raw_koi8_subject_and_name_in_a_real_mail():
    record = parse_message(raw_header_mail("Заявка на грант".encode("koi8-r"),
                                           "Сергей Петров".encode("cp1251")))
    assert record.subject == "Заявка на грант"
    assert record.from_name == "Сергей Петров"
    assert record.from_addr == "ivanov@example.ru"


JAPANESE = ["申請書類の送付", "山田太郎", "高橋健太", "髙橋", "株式会社みなと精機", "応募書類送付",
            "ﾃﾞｰﾀ送付", "ｶﾌﾞｼｷｶﾞｲｼｬ ﾐﾅﾄ", "ﾀﾅｶ ﾀﾛｳ", "港一郎", "連携", "交付申請書",
            "①誓約書（㈱テスト）", "東京都千代田区", "渡邉", "斎藤"]


@pytest.mark.parametrize("text", JAPANESE)
def test_japanese_header_bytes_still_read_as_japanese(text):
    assert decode_header(text.encode("cp932")).text == text
    # Undeclared EUC-JP is told from CP932 by its kana (kanji alone read either way).
    if any("\u3040" <= ch <= "\u30ff" for ch in text):
        assert decode_header(text.encode("euc_jp_ms")).text == text


@pytest.mark.parametrize(("label", "codec"), [
    ("iso-8859-8-i", "iso8859_8"), ("ISO-8859-8-I", "iso8859_8"), ("iso-8859-8-e", "iso8859_8"),
    ("iso-8859-6-i", "iso8859_6"), ("windows-874", "cp874"), ("koi8-ru", "koi8_u"),
    ("x-mac-cyrillic", "mac_cyrillic"),
])
def test_whatwg_labels_python_lacks(label, codec):
    found = codec_for(label)
    assert found is not None and codecs.lookup(found).name == codecs.lookup(codec).name


def test_iso_8859_8_i_mail_reads_as_hebrew_without_replacement_characters():
    hebrew = "שלום עולם"
    word = "=?iso-8859-8-i?b?" + base64.b64encode(hebrew.encode("iso-8859-8")
                                                                   ).decode() + "?="
    raw = (f"From: a@example.co.il\r\nSubject: {word}\r\nMIME-Version: 1.0\r\n"
           "Content-Type: text/plain; charset=iso-8859-8-i\r\n"
           "Content-Transfer-Encoding: 8bit\r\n\r\n").encode() + hebrew.encode("iso-8859-8")
    record = parse_message(raw)
    assert record.subject == hebrew
    assert record.body.strip() == hebrew
    assert not record.problems
    assert decode_bytes(hebrew.encode("iso-8859-8"), "iso-8859-8-i").problem is None


def zip_with_raw_names(members: list[tuple[bytes, bytes]]) -> bytes:
    """A zip whose name fields hold `raw` bytes with the UTF-8 flag off, as an archiver on a
    Russian system writes them: written with ASCII stand-ins of the same length, then the
    name bytes patched in both the local and the central header."""
    buffer = io.BytesIO()
    stand_ins = []
    with zipfile.ZipFile(buffer, "w") as archive:
        for index, (raw, data) in enumerate(members):
            stand_in = (f"{index:02d}" + "x" * len(raw))[: len(raw)].encode()
            assert len(stand_in) == len(raw)
            archive.writestr(stand_in.decode(), data)
            stand_ins.append((stand_in, raw))
    blob = buffer.getvalue()
    for stand_in, raw in stand_ins:
        assert blob.count(stand_in) == 2
        blob = blob.replace(stand_in, raw)
    return blob


@pytest.mark.parametrize("codec", ["cp866", "koi8-r"])
def test_zip_member_names_in_russian_code_pages(codec):
    names = ["Заявка на грант.docx", "Смета расходов.xlsx", "Документы/Отчёт.pdf"]
    data = zip_with_raw_names([(n.encode(codec), b"%PDF-1.4 test") for n in names])
    got = [f.path.split("/", 1)[1] for f in unpack("архив.zip", data).files]
    assert got == names


def test_zip_member_names_in_cp932_are_still_japanese():
    names = ["申請書類.pdf", "データ.xlsx", "①誓約書.pdf"]
    data = zip_with_raw_names([(n.encode("cp932"), b"%PDF-1.4 test") for n in names])
    assert [f.path.split("/", 1)[1] for f in unpack("a.zip", data).files] == names


def _japanese_words() -> list[str]:
    """Every run of kana/kanji in the program's own Japanese prose (specification, templates,
    messages): thousands of real words and names, none written for this test."""
    sources = [*REPO.glob("replies/templates/*.j2"), *REPO.glob("*/*.py"), REPO / "README.md",
               *REPO.glob("examples/*.py")]
    text = "".join(p.read_text(encoding="utf-8", errors="ignore") for p in sources)
    return sorted(set(re.findall(r"[\u3040-\u30ff\u4e00-\u9fff]{2,12}", text)))


def test_no_japanese_word_of_the_program_is_ever_read_as_cyrillic():
    words = _japanese_words()
    assert len(words) > 1000
    for codec in ("cp932", "euc_jp_ms"):
        for word in words:
            try:
                raw = word.encode(codec)
            except UnicodeEncodeError:
                continue
            decoded = decode_bytes(raw, None)
            assert not any("\u0400" <= ch <= "\u04ff" for ch in decoded.text), (word, decoded)
