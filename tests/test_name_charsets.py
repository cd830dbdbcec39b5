"""Zip member names and undeclared text in the code pages real tools write, without the UTF-8
flag: CP932 from Japanese Windows (Explorer, 7-Zip, Lhaplus; also Mac tools that zip "for
Windows"), EUC-JP from Info-ZIP on old Unix, GBK from 7-Zip on Chinese Windows, cp437/cp850
from DOS and Windows zip tools in Western Europe.

The name bytes are made by glibc's iconv, never by the product's codecs, and the archive by
Python's zipfile writing those raw bytes with the host byte of the tool ("version made by": 0
for Windows tools, 3 for Unix ones), bit 0x800 cleared.
"""

from __future__ import annotations

import io
import subprocess
import unicodedata
import zipfile
from pathlib import Path

import pytest

from parsers.archives import unpack
from parsers.headerdecode import decode_header
from parsers.mime import parse_message
from parsers.textcodec import decode_bytes

WINDOWS, UNIX = 0, 3


def iconv(text: str, charset: str) -> bytes:
    return subprocess.run(["iconv", "-f", "UTF-8", "-t", charset], input=text.encode(),
                          capture_output=True, check=True).stdout


class _RawName(zipfile.ZipInfo):
    """A ZipInfo whose name field is written as given: what a legacy tool stores."""

    raw: bytes = b""

    def _encodeFilenameFlags(self) -> tuple[bytes, int]:  # noqa: N802 - zipfile's own name
        return self.raw, self.flag_bits & ~0x800


def legacy_zip(raw_names: list[bytes], host: int) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as zf:
        for n, raw in enumerate(raw_names):
            info = _RawName(f"member{n}")
            info.raw, info.create_system = raw, host
            zf.writestr(info, b"payload %d" % n)
    return out.getvalue()


def names_read(raw_names: list[bytes], host: int) -> list[str]:
    result = unpack("names.zip", legacy_zip(raw_names, host))
    return [f.path.removeprefix("names.zip/") for f in result.files]


# Half-width katakana as Japanese Windows users type names: people, companies (bank-account
# style), documents.
HALFWIDTH = ["ﾀｶﾊｼ", "ﾀｶﾊｼ.xlsx", "ﾀｶﾊｼ ﾀﾛｳ.pdf", "ｽｽﾞｷ", "ﾔﾏﾓﾄ", "ﾅｶﾑﾗ", "ｲﾉｳｴ", "ﾊｼﾓﾄ",
             "ﾏﾂﾓﾄ", "ｻｲﾄｳ", "ｷｸﾁ", "ﾂﾖｼ", "ｵｵｻｶ", "ﾖｺﾊﾏ", "ｹｲﾔｸ", "ﾐﾂﾓﾘ", "ｼﾝｾｲｼｮ.xlsx",
             "ﾃﾞｰﾀ.csv", "ｶ)ﾐﾅﾄｾｲｷ.pdf", "ﾒｲﾎﾞ.xlsx", "ﾐﾂﾓﾘｼｮ.pdf", "ｾｲｷｭｳｼｮ.pdf", "ﾔﾏﾀﾞ",
             "ｲｹﾀﾞ", "ﾒﾓ.txt", "ﾃｽﾄ", "ｱﾝｹｰﾄ.xlsx", "ﾌｸｵｶ", "ｷｮｳﾄ", "ｺｳﾍﾞ", "ﾊﾗﾀﾞ", "ﾑﾗｶﾐ"]
# Full-width names of the same applicants, some with Latin words and suffixes.
FULLWIDTH = ["交付申請書.xlsx", "事業計画書.docx", "山田太郎", "森", "林", "見積書.pdf",
             "請求書_2024年6月.pdf", "株式会社みなと精機", "①誓約書（㈱テスト）.pdf", "役員名簿.xlsx",
             "履歴事項全部証明書.pdf", "髙橋", "資料ver2.xlsx", "様式A.docx", "A社見積.pdf",
             "Test用.xlsx", "Web用.png", "Excel表.xlsx", "申請書（最終版）.xlsx"]


@pytest.mark.parametrize("host", [WINDOWS, UNIX])
def test_japanese_windows_names_stay_cp932(host: int) -> None:
    names = HALFWIDTH + FULLWIDTH
    assert names_read([iconv(n, "CP932") for n in names], host) == names


def test_short_half_width_katakana_is_not_read_as_euc_jp_kanji() -> None:
    """ﾀｶﾊｼ is also EUC-JP 清兵, two everyday kanji; a common surname settles it."""
    raw = iconv("ﾀｶﾊｼ", "CP932")
    assert raw.decode("euc_jp") == "清兵"  # the rival reading is real
    assert names_read([raw], WINDOWS) == ["ﾀｶﾊｼ"]
    assert decode_bytes(raw, None).text == "ﾀｶﾊｼ"
    assert decode_header(b"\"" + raw + b"\" <t@example.co.jp>").text == "\"ﾀｶﾊｼ\" <t@example.co.jp>"


# Old Unix (ja_JP.eucJP locale): kanji, kana, and JIS X 0201 half-width katakana (SS2 0x8E).
EUC_NAMES = ["申請書.xlsx", "山田太郎.pdf", "交付申請書", "事業計画書", "見積書", "株式会社みなと精機",
             "申請書類の送付", "ﾃｽﾄ.txt", "ﾃﾞｰﾀ.csv", "ｼﾝｾｲｼｮ.xlsx", "ｶﾌﾞｼｷｶﾞｲｼｬ ﾐﾅﾄ.pdf",
             "ﾃﾞｰﾀ送付.txt", "ｾｲｷｭｳｼｮ.pdf", "ﾐﾂﾓﾘｼｮ/ﾀﾅｶ.xlsx"]


def test_euc_jp_names_from_unix_info_zip() -> None:
    assert names_read([iconv(n, "EUC-JP") for n in EUC_NAMES], UNIX) == EUC_NAMES


def test_euc_jp_names_that_cp932_cannot_be_are_read_whatever_the_host() -> None:
    names = ["申請書.xlsx", "山田太郎.pdf", "株式会社みなと精機", "ﾃｽﾄ.txt", "ﾃﾞｰﾀ.csv", "ｼﾝｾｲｼｮ.xlsx"]
    assert names_read([iconv(n, "EUC-JP") for n in names], WINDOWS) == names


@pytest.mark.parametrize("text", ["ﾃｽﾄ", "ﾃﾞｰﾀ", "ｼﾝｾｲｼｮ", "ｶﾌﾞｼｷｶﾞｲｼｬ ﾐﾅﾄ", "ﾀﾅｶ ﾀﾛｳ", "ﾀｶﾊｼ"])
def test_undeclared_euc_jp_half_width_katakana_in_mail(text: str) -> None:
    raw = iconv(text, "EUC-JP")
    assert raw.startswith(b"\x8e")  # SS2: CP932 reads each pair as a kanji of lead byte 0x8E
    assert decode_bytes(raw, None).text == text
    mail = (b"From: " + raw + b" <tanaka@example.co.jp>\nTo: it-renkei@example.go.jp\n"
            b"Subject: " + raw + b"\nMessage-ID: <ss2@example.co.jp>\n\n" + raw + b"\n")
    record = parse_message(mail)
    assert (record.subject, record.from_name, record.body.strip()) == (text, text, text)


# 7-Zip and Explorer on Chinese Windows (code page 936).
GBK_NAMES = ["中文", "副本", "文件", "新建文件夹/说明.txt", "新建文本文档 - 副本.txt", "报告.docx",
             "北京.txt", "简历.doc", "合同.pdf", "发票.pdf", "申请表.xlsx", "项目计划书.docx",
             "会议纪要.docx", "王芳", "上海", "数据统计.xlsx", "こんにちは世界.txt"]


def test_gbk_names_from_chinese_windows() -> None:
    assert names_read([iconv(n, "GBK") for n in GBK_NAMES], WINDOWS) == GBK_NAMES


# DOS/Windows zip tools in Germany, France, Spain, Portugal (cp850; cp437 in the US).
LATIN_NAMES = [("Ärger.txt", "CP437"), ("Ärzte.pdf", "CP437"), ("Übersicht.pdf", "CP850"),
               ("Éclair.doc", "CP850"), ("Ölfarbe.txt", "CP437"), ("Straße.txt", "CP850"),
               ("Café.txt", "CP850"), ("Müller.doc", "CP850"), ("Gérard.txt", "CP850"),
               ("Ação.txt", "CP850"), ("Résumé.pdf", "CP850"), ("Français.txt", "CP850"),
               ("Besprechungsprotokoll Änderungen.docx", "CP850"), ("Señor.txt", "CP850"),
               ("Jürgen Groß.pdf", "CP437"), ("Élodie.docx", "CP850"), ("Zürich.txt", "CP437"),
               ("Öffnungszeiten.pdf", "CP850"), ("São Paulo.txt", "CP850"), ("König.pdf", "CP850")]


def test_european_dos_names_are_not_read_as_kanji() -> None:
    names = [n for n, _ in LATIN_NAMES]
    assert names_read([iconv(n, cs) for n, cs in LATIN_NAMES], WINDOWS) == names


def _corpus_names(corpus: Path, rel: str) -> set[str]:
    file = corpus / rel
    return {f.name for f in unpack(file.name, file.read_bytes()).files}


def test_corpus_gbk_names(corpus_dir: Path) -> None:
    assert _corpus_names(corpus_dir, "srikanth-lingala+zip4j/src/test/resources/test-archives/"
                         "testfile_with_chinese_filename_by_7zip.zip") >= {"fff - 副本.txt"}
    assert _corpus_names(corpus_dir, "zip-rs+zip2/tests/data/non_utf8.zip") == {"中文", "日文"}
    # 7-Zip on Chinese Windows: GBK where the code page holds the name, UTF-8 flag otherwise.
    assert _corpus_names(corpus_dir, "clsty+zip-encoding-test/old7z_utf8.zip") >= {
        "こんにちは世界.txt", "你好世界.txt"}


def test_windows_names_that_are_valid_utf8_by_chance() -> None:
    """Windows tools flag the UTF-8 they write; GBK bytes that merely parse as UTF-8 (学业 ->
    ѧҵ, 母元 -> ĸԪ) keep their GBK reading there."""
    names = ["学业.xlsx", "母元.pdf", "郑页"]
    raws = [iconv(n, "GBK") for n in names]
    assert [r.decode("utf-8") for r in raws] == ["ѧҵ.xlsx", "ĸԪ.pdf", "֣ҳ"]
    assert names_read(raws, WINDOWS) == names


def test_unflagged_utf8_from_mac_and_linux_stays_utf8() -> None:
    names = ["テスト.txt", "申請書.xlsx", "Ärger.txt", "Müller.doc", "中文.txt", "森", "Café.txt"]
    raws = [unicodedata.normalize("NFD", n).encode("utf-8") for n in names]  # as macOS writes
    assert names_read(raws, UNIX) == names
    assert names_read([n.encode("utf-8") for n in names], WINDOWS) == names
