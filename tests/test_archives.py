"""parsers.archives and parsers.filetypes: real archives built at test time, plus the corpus."""

from __future__ import annotations

import bz2
import csv
import io
import time
import tracemalloc
import zipfile
import zlib
from pathlib import Path, PurePosixPath

import msoffcrypto.format.ooxml
import openpyxl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from parsers.archives import (
    PASSWORD_WRONG,
    UNREADABLE,
    Unpacked,
    unpack,
)
from parsers.filetypes import KINDS, sniff
from parsers.japanese import reads_as_japanese
from parsers.limits import Limits
from parsers.zipnames import decode_member_name
from tests.archive_factory import (
    RAR_MAGIC,
    SEVEN_ZIP_MAGIC,
    Entry,
    build_aes_zip,
    build_zip,
    deflated_zeros,
    lzh_header,
    nested_zip,
    symlink_entry,
)

FORM = "4_交付申請書.xlsx"
OVERVIEW = "5_補助事業概要書.pdf"
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def _xlsx(text: str = "補助金交付申請書") -> bytes:
    wb = openpyxl.Workbook()
    wb.active["A1"] = text
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


XLSX = _xlsx()


def _sjis(name: str) -> bytes:
    return name.encode("cp932")


def _paths(result: Unpacked) -> list[str]:
    return [f.path for f in result.files]


def _codes(result: Unpacked) -> list[str]:
    return [p.code for p in result.problems]


def _assert_safe(path: str) -> None:
    assert path and not path.startswith("/")
    assert "\\" not in path and ":" not in path
    assert all(ord(c) >= 0x20 for c in path)
    parts = PurePosixPath(path).parts
    assert ".." not in parts and "." not in parts and "" not in parts


# --------------------------------------------------------------------------- encrypted zips


def _ppap_zipcrypto(password: bytes = b"Renkei#2022") -> bytes:
    return build_zip(
        [
            Entry(_sjis(FORM), XLSX, password=password),
            Entry(_sjis(OVERVIEW), PDF, password=password),
        ]
    )


def _ppap_aes(password: bytes = b"Renkei#2022") -> bytes:
    return build_aes_zip([(_sjis(FORM), XLSX), (_sjis(OVERVIEW), PDF)], password)


@pytest.mark.parametrize("build", [_ppap_zipcrypto, _ppap_aes], ids=["zipcrypto", "aes256"])
class TestEncryptedZip:
    def test_no_password_lists_member_names_and_waits(self, build) -> None:
        data = build()
        result = unpack("申請書類.zip", data)
        assert result.files == [] and result.problems == []
        [enc] = result.encrypted
        assert enc.path == "申請書類.zip"
        assert enc.member_names == (FORM, OVERVIEW)
        assert enc.data == data

    def test_right_password_opens_with_cp932_names(self, build) -> None:
        result = unpack("申請書類.zip", build(), passwords=["wrong", "Renkei#2022"])
        assert result.problems == [] and result.encrypted == []
        by_name = {f.name: f for f in result.files}
        assert set(by_name) == {FORM, OVERVIEW}
        assert by_name[FORM].path == f"申請書類.zip/{FORM}"
        assert by_name[FORM].raw_name == _sjis(FORM)
        assert by_name[FORM].kind == "xlsx" and by_name[FORM].data == XLSX
        assert by_name[OVERVIEW].kind == "pdf" and by_name[OVERVIEW].data == PDF

    def test_wrong_password_is_reported_once_naming_the_archive(self, build) -> None:
        result = unpack("申請書類.zip", build(), passwords=["renkei#2022", "0000"])
        assert result.files == [] and result.encrypted == []
        [problem] = result.problems
        assert problem.code == PASSWORD_WRONG
        assert problem.path == "申請書類.zip"
        assert "申請書類.zip" in problem.detail and "パスワード" in problem.detail

    def test_encrypted_archive_reopens_later_from_its_record(self, build) -> None:
        [enc] = unpack("申請書類.zip", build()).encrypted
        later = unpack(enc.path, enc.data, passwords=["Renkei#2022"])
        assert sorted(_paths(later)) == sorted(f"申請書類.zip/{n}" for n in enc.member_names)


def test_full_width_password_from_a_japanese_mail_opens() -> None:
    data = _ppap_zipcrypto(b"pass123")
    result = unpack("a.zip", data, passwords=["ｐａｓｓ１２３ "])
    assert len(result.files) == 2 and result.problems == []


def test_japanese_zipcrypto_password_in_cp932_opens() -> None:
    data = build_zip([Entry(_sjis(FORM), XLSX, password="申請２０２２".encode("cp932"))])
    result = unpack("a.zip", data, passwords=["申請２０２２"])
    assert _paths(result) == [f"a.zip/{FORM}"]


def test_nested_encrypted_zip_waits_with_its_full_path() -> None:
    inner = _ppap_aes()
    outer = build_zip([Entry(b"readme.txt", b"see inner"), Entry(b"inner.zip", inner)])
    result = unpack("outer.zip", outer)
    assert _paths(result) == ["outer.zip/readme.txt"]
    [enc] = result.encrypted
    assert enc.path == "outer.zip/inner.zip" and enc.member_names == (FORM, OVERVIEW)
    later = unpack(enc.path, enc.data, passwords=["Renkei#2022"])
    assert f"outer.zip/inner.zip/{FORM}" in _paths(later)


def test_damaged_encrypted_member_is_unreadable_not_a_wrong_password() -> None:
    data = bytearray(build_zip([Entry(b"a.txt", b"x" * 4000, password=b"pw", deflate=False)]))
    data[60:80] = bytes(20)  # inside the encrypted payload, after the 12-byte header
    result = unpack("a.zip", bytes(data), passwords=["pw"])
    assert _codes(result) == [UNREADABLE]


# --------------------------------------------------------------------------- names


def test_utf8_flagged_names() -> None:
    data = build_zip([Entry(FORM.encode("utf-8"), XLSX, utf8_flag=True)])
    [f] = unpack("書類.zip", data).files
    assert f.path == f"書類.zip/{FORM}" and f.raw_name == FORM.encode("utf-8")


def test_cp932_names_in_folders() -> None:
    data = build_zip([Entry(_sjis(f"申請書類/{FORM}"), XLSX)])
    assert _paths(unpack("x.zip", data)) == [f"x.zip/申請書類/{FORM}"]


@pytest.mark.parametrize(
    ("raw", "flags", "expected"),
    [
        ("初音ミクが好きです.txt".encode("cp932"), 0, "初音ミクが好きです.txt"),
        ("①誓約書（㈱テスト）.pdf".encode("cp932"), 0, "①誓約書（㈱テスト）.pdf"),
        ("テスト.txt".encode(), 0, "テスト.txt"),  # macOS: UTF-8 without the flag
        ("ほげ.txt".encode(), 0x800, "ほげ.txt"),
        (b"\xd0\xd2\xc9\xd7\xc5\xd4", 0, "привет"),  # KOI8-R
        ("Заявка на грант.docx".encode("cp866"), 0, "Заявка на грант.docx"),  # 7-Zip, Russian
        ("Смета расходов.xlsx".encode("koi8-r"), 0, "Смета расходов.xlsx"),
        ("Документы/Отчёт.pdf".encode("cp1251"), 0, "Документы/Отчёт.pdf"),
        # GBK 中文: every byte in 0xA1-0xDF, so it is also well-formed half-width katakana
        # (ﾖﾐﾎﾄ), but with none of a katakana writer's marks, while GBK reads everyday hanzi.
        (b"\xd6\xd0\xce\xc4", 0, "中文"),
        (b"\xce\xc4\xbc\xfe", 0, "文件"),  # GBK 文件: not CP932, and EUC-JP would read 猟周
        ("ｼﾝｾｲｼｮ.xlsx".encode("cp932"), 0, "ｼﾝｾｲｼｮ.xlsx"),
        (b"M\x81ller.doc", 0, "Müller.doc"),  # cp437 ü is a CP932 lead byte: M〕ler
        (b"zlo\x9eka.txt", 0, b"zlo\x9eka.txt".decode("cp437")),  # CP1250
        (b"plain.txt", 0, "plain.txt"),
    ],
)
def test_decode_member_name(raw: bytes, flags: int, expected: str) -> None:
    assert decode_member_name(raw, flags) == expected


def test_nfd_names_are_normalised_to_nfc() -> None:
    import unicodedata

    nfd = unicodedata.normalize("NFD", "ぴよ.txt").encode("utf-8")
    assert decode_member_name(nfd, 0x800) == "ぴよ.txt"


def test_unicode_path_extra_field_is_used_only_when_its_crc_matches() -> None:
    import struct

    raw = b"\x83e\x83X\x83g.txt"  # CP932 テスト.txt
    good = b"\x01" + struct.pack("<I", zlib.crc32(raw)) + "試験.txt".encode()
    field = struct.pack("<HH", 0x7075, len(good)) + good
    assert decode_member_name(raw, 0, field) == "試験.txt"
    bad = b"\x01" + struct.pack("<I", zlib.crc32(raw) ^ 1) + "試験.txt".encode()
    field = struct.pack("<HH", 0x7075, len(bad)) + bad
    assert decode_member_name(raw, 0, field) == "テスト.txt"


def test_reads_as_japanese_rejects_half_width_garbage() -> None:
    assert reads_as_japanese("交付申請書.xlsx")
    assert not reads_as_japanese("ﾐﾒﾉﾗﾅﾔ")
    assert not reads_as_japanese("鴒襁")  # two rare level-2 kanji from KOI8-R capitals
    assert not reads_as_japanese("a\x01b")


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (b"../../evil.txt", "evil.txt"),
        (b"/etc/passwd", "etc/passwd"),
        (b"C:\\Windows\\win.ini", "Windows/win.ini"),
        (b"a/../../b.txt", "a/b.txt"),
        (b"./x/./y.txt", "x/y.txt"),
        (b"nul\x01byte.txt", "nul_byte.txt"),
        (b"C:x.txt", "C_x.txt"),
    ],
)
def test_traversal_names_become_safe_relative_paths(raw: bytes, expected: str) -> None:
    data = build_zip([Entry(raw, b"payload")])
    result = unpack("t.zip", data)
    [f] = result.files
    assert f.path == f"t.zip/{expected}"
    assert f.path_sanitised and f.raw_name == raw
    _assert_safe(f.path)
    assert result.problems == []  # a fact on the file, not a finding


def test_hostile_attachment_name_is_sanitised_too() -> None:
    [f] = unpack("../../../etc/申請書.pdf", PDF).files
    assert f.path == "etc/申請書.pdf" and f.raw_name is None and f.kind == "pdf"


def test_duplicate_names_get_distinct_paths() -> None:
    data = build_zip([Entry(b"a.txt", b"1"), Entry(b"a.txt", b"2"), Entry(b"../a.txt", b"3")])
    result = unpack("d.zip", data)
    assert _paths(result) == ["d.zip/a.txt", "d.zip/a (2).txt", "d.zip/a (3).txt"]
    assert [f.data for f in result.files] == [b"1", b"2", b"3"]


def test_folders_and_os_clutter_are_skipped() -> None:
    data = build_zip(
        [
            Entry(b"docs/", b""),
            Entry(b"docs/" + _sjis(FORM), XLSX),
            Entry(b"__MACOSX/docs/._x.xlsx", b"\x00\x05\x16\x07"),
            Entry(b"docs/.DS_Store", b"\x00\x00\x00\x01Bud1"),
            Entry(b"docs/Thumbs.db", b"x"),
        ]
    )
    assert _paths(unpack("m.zip", data)) == [f"m.zip/docs/{FORM}"]


# --------------------------------------------------------------------------- structure


def test_plain_attachment_comes_back_as_itself() -> None:
    result = unpack(OVERVIEW, PDF)
    [f] = result.files
    assert (f.path, f.name, f.raw_name, f.kind, f.data) == (OVERVIEW, OVERVIEW, None, "pdf", PDF)
    assert result.problems == [] and result.encrypted == []


def test_nested_zip_within_depth() -> None:
    result = unpack("n.zip", nested_zip(3, leaf_name=_sjis(FORM), leaf=XLSX))
    assert _paths(result) == [f"n.zip/level1.zip/level2.zip/{FORM}"]
    assert result.files[0].kind == "xlsx" and result.problems == []


def test_nesting_over_max_depth_is_refused() -> None:
    result = unpack("n.zip", nested_zip(4))
    assert result.files == []
    [problem] = result.problems
    assert problem.code == UNREADABLE
    assert problem.path == "n.zip/level1.zip/level2.zip/level3.zip"
    assert problem.detail.startswith("安全上の上限を超えたため展開を中止しました")
    assert _paths(unpack("n.zip", nested_zip(4), limits=Limits(max_depth=4)))


def test_office_files_inside_a_zip_are_not_opened_as_archives() -> None:
    result = unpack("x.zip", build_zip([Entry(b"form.xlsx", XLSX)]))
    assert [(f.path, f.kind) for f in result.files] == [("x.zip/form.xlsx", "xlsx")]


def test_symlink_member_is_skipped_with_a_problem() -> None:
    data = build_zip([symlink_entry(b"link", b"/etc/passwd"), Entry(b"ok.txt", b"fine")])
    result = unpack("s.zip", data)
    assert _paths(result) == ["s.zip/ok.txt"]
    [problem] = result.problems
    assert problem.code == UNREADABLE and problem.path == "s.zip/link"
    assert "リンク" in problem.detail


def test_truncated_zip_is_unreadable() -> None:
    data = build_zip([Entry(_sjis(FORM), XLSX)])
    result = unpack("申請書類.zip", data[: len(data) // 2])
    assert result.files == [] and _codes(result) == [UNREADABLE]
    assert "申請書類.zip" in result.problems[0].detail


def test_crc_error_is_unreadable() -> None:
    data = bytearray(build_zip([Entry(b"a.txt", b"hello world " * 50, deflate=False)]))
    data[40] ^= 0xFF  # a payload byte of the stored member
    result = unpack("c.zip", bytes(data))
    assert result.files == []
    [problem] = result.problems
    assert problem.code == UNREADABLE and problem.path == "c.zip/a.txt"


def test_not_a_zip_named_zip_is_unreadable() -> None:
    result = unpack("申請書類.zip", b"this is not a zip file at all")
    assert result.files == [] and _codes(result) == [UNREADABLE]
    assert "申請書類.zip" in result.problems[0].detail


@pytest.mark.parametrize(
    ("name", "data", "label"),
    [
        ("書類.lzh", lzh_header(), "LZH"),
        ("書類.7z", SEVEN_ZIP_MAGIC, "7z"),
        ("書類.rar", RAR_MAGIC, "RAR"),
        ("書類.zip", SEVEN_ZIP_MAGIC, "7z"),  # content decides, not the name
    ],
)
def test_unsupported_archive_formats_are_unreadable(name: str, data: bytes, label: str) -> None:
    result = unpack(name, data)
    assert result.files == []
    [problem] = result.problems
    assert problem.code == UNREADABLE and label in problem.detail and name in problem.detail


def test_deflate64_member_is_unreadable_and_named() -> None:
    data = build_zip([Entry(b"big.xlsx", XLSX, method=9), Entry(b"ok.txt", b"fine")])
    result = unpack("w.zip", data)
    assert _paths(result) == ["w.zip/ok.txt"]
    [problem] = result.problems
    assert problem.code == UNREADABLE and "Deflate64" in problem.detail
    assert "w.zip/big.xlsx" in problem.detail


def test_bzip2_and_lzma_members_open() -> None:
    text = "補助事業概要\n".encode() * 500
    bz = Entry(b"a.txt", precompressed=(bz2.compress(text), zlib.crc32(text), len(text)), method=12)
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression=zipfile.ZIP_LZMA) as zf:
        zf.writestr("b.txt", text)
    for name, data in (("bz.zip", build_zip([bz])), ("lz.zip", buf.getvalue())):
        [f] = unpack(name, data).files
        assert f.data == text


# --------------------------------------------------------------------------- limits


def _peak_while(fn):  # type: ignore[no-untyped-def]
    tracemalloc.start()
    try:
        result = fn()
        return result, tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


@pytest.fixture(scope="module")
def zeros_100mb() -> tuple[bytes, int, int]:
    return deflated_zeros(100 * 1024 * 1024)


def test_ratio_bomb_is_stopped_while_reading_with_bounded_memory(zeros_100mb) -> None:
    data = build_zip([Entry(b"zeros.bin", precompressed=zeros_100mb)])
    generous = Limits(max_member_bytes=2**30, max_total_bytes=2**30)  # only the ratio can stop it
    result, peak = _peak_while(lambda: unpack("bomb.zip", data, limits=generous))
    assert result.files == []
    [problem] = result.problems
    assert problem.code == UNREADABLE and problem.path == "bomb.zip/zeros.bin"
    assert problem.detail.startswith("安全上の上限を超えたため展開を中止しました")
    assert peak < 40 * 1024 * 1024  # the member is 100 MB uncompressed


def test_bomb_lying_about_its_size_is_stopped(zeros_100mb) -> None:
    liar = Entry(b"zeros.bin", precompressed=zeros_100mb, declared_size=40 * 1024 * 1024)
    result, peak = _peak_while(lambda: unpack("bomb.zip", build_zip([liar])))
    assert result.files == [] and _codes(result) == [UNREADABLE]
    assert peak < 40 * 1024 * 1024


def test_honest_oversized_member_is_refused_before_reading(zeros_100mb) -> None:
    data = build_zip([Entry(b"zeros.bin", precompressed=zeros_100mb)])
    result, peak = _peak_while(lambda: unpack("big.zip", data))
    assert _codes(result) == [UNREADABLE] and "50MB" in result.problems[0].detail
    assert peak < 5 * 1024 * 1024


def test_bzip2_bomb_is_bounded_too() -> None:
    size = 100 * 1024 * 1024
    comp = bz2.BZ2Compressor(9)
    block = bytes(1024 * 1024)
    payload = b"".join(comp.compress(block) for _ in range(100)) + comp.flush()
    crc = 0
    for _ in range(100):
        crc = zlib.crc32(block, crc)
    data = build_zip([Entry(b"z.bin", precompressed=(payload, crc, size), method=12)])
    generous = Limits(max_member_bytes=2**30, max_total_bytes=2**30)
    result, peak = _peak_while(lambda: unpack("bz.zip", data, limits=generous))
    assert result.files == [] and _codes(result) == [UNREADABLE]
    assert peak < 40 * 1024 * 1024


def test_ten_thousand_members_are_refused_fast() -> None:
    data = build_zip(Entry(f"f{i}.txt".encode(), b"x", deflate=False) for i in range(10_000))
    start = time.process_time()  # CPU time: what the refusal costs, not what a busy machine adds
    result = unpack("many.zip", data)
    assert time.process_time() - start < 1.0
    assert result.files == []
    [problem] = result.problems
    assert problem.code == UNREADABLE and "1000" in problem.detail


def test_total_bytes_limit_stops_everything() -> None:
    members = [Entry(f"f{i}.bin".encode(), bytes([i]) * 4000, deflate=False) for i in range(10)]
    result = unpack("t.zip", build_zip(members), limits=Limits(max_total_bytes=10_000))
    assert result.files == []  # incomplete: nothing of it is judged
    [problem] = result.problems
    assert problem.code == UNREADABLE and "合計" in problem.detail


def test_small_regular_files_are_not_mistaken_for_bombs() -> None:
    blank = b" " * 500_000  # compresses far beyond 200:1, but is small
    [f] = unpack("b.zip", build_zip([Entry(b"blank.txt", blank)])).files
    assert f.data == blank


# --------------------------------------------------------------------------- Office files


def _encrypted_xlsx(password: str) -> bytes:
    out = io.BytesIO()
    msoffcrypto.format.ooxml.OOXMLFile(io.BytesIO(XLSX)).encrypt(password, out)
    return out.getvalue()


@pytest.fixture(scope="module")
def locked_xlsx() -> bytes:
    return _encrypted_xlsx("ひみつ2022")


def test_encrypted_office_waits_for_a_password(locked_xlsx: bytes) -> None:
    assert sniff(locked_xlsx, FORM) == "office-encrypted"
    result = unpack(FORM, locked_xlsx)
    assert result.files == [] and result.problems == []
    [enc] = result.encrypted
    assert enc.path == FORM and enc.member_names == (FORM,)


def test_encrypted_office_opens_with_its_password(locked_xlsx: bytes) -> None:
    result = unpack(FORM, locked_xlsx, passwords=["ひみつ2022"])
    [f] = result.files
    assert f.kind == "xlsx" and f.path == FORM
    assert openpyxl.load_workbook(io.BytesIO(f.data)).active["A1"].value == "補助金交付申請書"


def test_encrypted_office_wrong_password(locked_xlsx: bytes) -> None:
    result = unpack(FORM, locked_xlsx, passwords=["ちがう"])
    assert result.files == [] and _codes(result) == [PASSWORD_WRONG]


def test_encrypted_office_inside_a_plain_zip(locked_xlsx: bytes) -> None:
    data = build_zip([Entry(_sjis(FORM), locked_xlsx)])
    [enc] = unpack("z.zip", data).encrypted
    assert enc.path == f"z.zip/{FORM}"
    [f] = unpack("z.zip", data, passwords=["ひみつ2022"]).files
    assert f.kind == "xlsx"


# --------------------------------------------------------------------------- sniff


def _ooxml(top: str) -> bytes:
    return build_zip(
        [Entry(b"[Content_Types].xml", b"<Types/>"), Entry(f"{top}/main.xml".encode(), b"<x/>")]
    )


@pytest.mark.parametrize(
    ("data", "name", "kind"),
    [
        (_ooxml("word"), "a.bin", "docx"),
        (_ooxml("xl"), "a.bin", "xlsx"),
        (_ooxml("ppt"), "a.bin", "pptx"),
        (XLSX, "申請書.pdf", "xlsx"),  # content first
        (build_zip([Entry(b"a.txt", b"x")]), "a.xlsx", "zip"),
        (PDF, "", "pdf"),
        (b"\x89PNG\r\n\x1a\n" + bytes(20), "", "png"),
        (b"\xff\xd8\xff\xe0" + bytes(20), "", "jpeg"),
        (b"\x1f\x8b\x08\x00" + bytes(20), "", "gzip"),
        (b"\x78\x9f\x3e\x22\x01\x00", "winmail.dat", "tnef"),
        (lzh_header(), "", "lzh"),
        (SEVEN_ZIP_MAGIC, "", "7z"),
        (RAR_MAGIC, "", "rar"),
        ("会社名：株式会社テスト\r\n".encode("cp932"), "", "text"),
        ("会社名：株式会社テスト\n".encode(), "memo", "text"),
        (b"plain words", "a.zip", "zip"),  # a weak text guess loses to the name
        (bytes(range(256)), "", "unknown"),
        (bytes(range(256)), "x.docx", "docx"),
        (b"", "", "unknown"),
    ],
)
def test_sniff(data: bytes, name: str, kind: str) -> None:
    assert sniff(data, name) == kind


def test_sniff_truncated_xlsx_keeps_its_office_kind() -> None:
    assert sniff(XLSX[:2000], "申請書.xlsx") == "xlsx"
    assert sniff(XLSX[:2000], "申請書.zip") == "zip"


# --------------------------------------------------------------------------- never raises


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.binary(max_size=4096), name=st.text(max_size=40))
def test_unpack_and_sniff_never_raise_on_arbitrary_bytes(data: bytes, name: str) -> None:
    assert sniff(data, name) in KINDS
    result = unpack(name, data, passwords=["pw"])
    for f in result.files:
        _assert_safe(f.path)


_SEEDS = [
    build_zip([Entry(_sjis(FORM), XLSX[:3000]), Entry(b"b/c.txt", b"hello " * 40)]),
    build_zip([Entry(_sjis(FORM), b"secret data " * 30, password=b"pw")]),
    build_aes_zip([(_sjis(OVERVIEW), b"aes data " * 30)], b"pw"),
    nested_zip(2),
]


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    seed=st.sampled_from(_SEEDS),
    edits=st.lists(st.tuples(st.integers(0, 10_000), st.integers(0, 255)), max_size=8),
    cut=st.one_of(st.none(), st.integers(0, 10_000)),
)
def test_unpack_never_raises_on_mutated_zips(seed: bytes, edits, cut) -> None:
    data = bytearray(seed)
    for pos, value in edits:
        data[pos % len(data)] = value
    if cut is not None:
        data = data[: cut % (len(data) + 1)]
    result = unpack("m.zip", bytes(data), passwords=["pw"])
    for f in result.files:
        _assert_safe(f.path)
    for problem in result.problems:
        assert problem.code in (UNREADABLE, PASSWORD_WRONG) and problem.detail


# --------------------------------------------------------------------------- corpus


def _corpus_rows(corpus: Path) -> list[dict[str, str]]:
    with (corpus / "MANIFEST.tsv").open(encoding="utf-8") as fh:
        return list(csv.DictReader(fh, delimiter="\t"))


def _corpus_file(corpus: Path, repo: str, path: str) -> Path:
    return corpus / repo.replace("/", "+") / path


def test_corpus_never_raises_and_finishes_fast(corpus_dir: Path) -> None:
    rows = [r for r in _corpus_rows(corpus_dir) if r["kind"] in ("zip", "tnef", "xlsx", "other")]
    assert len(rows) > 250
    start = time.process_time()  # CPU time, so a busy machine does not count
    for row in rows:
        file = _corpus_file(corpus_dir, row["repo"], row["path"])
        result = unpack(file.name, file.read_bytes())
        for f in result.files:
            _assert_safe(f.path)
        assert sniff(file.read_bytes(), file.name) in KINDS
    assert time.process_time() - start < 30


def _corpus_unpack(corpus: Path, rel: str, passwords: tuple[str, ...] = ()) -> Unpacked:
    repo, path = rel.split("/", 1)
    file = corpus / repo / path
    return unpack(file.name, file.read_bytes(), passwords=passwords)


def test_corpus_shiftjis_names(corpus_dir: Path) -> None:
    result = _corpus_unpack(corpus_dir, "MatusOllah+enczip/zip/testdata/shiftjis.zip")
    assert {f.name for f in result.files} == {"初音ミクが好きです.txt", "readme.txt"}
    assert "shiftjis.zip/サブフォルダ/readme.txt" in _paths(result)


@pytest.mark.parametrize(
    ("rel", "name"),
    [
        ("tats-u+zifu/crates/zifu_core/tests/assets/implicit_utf8.zip", "テスト.txt"),
        ("tats-u+zifu/crates/zifu_core/tests/assets/7zip_extra_field.zip", "テスト.txt"),
        ("tats-u+zifu/crates/zifu_core/tests/assets/mac_finder_emulate.zip", "ほげふがぴよ.txt"),
        ("zip-rs+zip2/tests/data/linux-7z.zip", "你好.txt"),
    ],
)
def test_corpus_names(corpus_dir: Path, rel: str, name: str) -> None:
    assert [f.name for f in _corpus_unpack(corpus_dir, rel).files] == [name]


def test_corpus_cp932_false_positives_are_not_half_width_katakana(corpus_dir: Path) -> None:
    for rel in (
        "libarchive+libarchive/libarchive/test/test_read_format_zip_filename_koi8r.zip",
        "MatusOllah+enczip/zip/testdata/cp1250.zip",
    ):
        names = "".join(f.name for f in _corpus_unpack(corpus_dir, rel).files)
        assert not any("\uff61" <= c <= "\uff9f" for c in names), names
    result = _corpus_unpack(corpus_dir, "zip-rs+zip2/tests/data/non_utf8.zip")
    assert "日文" in {f.name for f in result.files}  # the real Shift_JIS entry still decodes


@pytest.mark.parametrize(
    ("rel", "passwords", "count"),
    [
        ("tats-u+zifu/crates/zifu_core/tests/assets/zipcrypto_sjis.zip", ("test",), 1),
        ("tats-u+zifu/crates/zifu_core/tests/assets/aes256_sjis.zip", ("test",), 1),
        (
            "libarchive+libarchive/libarchive/test/"
            "test_read_format_zip_traditional_encryption_data.zip",
            ("12345678",),
            2,
        ),
        (
            "libarchive+libarchive/libarchive/test/test_read_format_zip_winzip_aes128.zip",
            ("password",),
            1,
        ),
        (
            "libarchive+libarchive/libarchive/test/test_read_format_zip_winzip_aes256_stored.zip",
            ("password",),
            1,
        ),
        ("nih-at+libzip/regress/data/encrypt-1234.zip", ("1234",), 1),
        ("nih-at+libzip/regress/data/encrypt.zip", ("foo",), 2),
        ("nih-at+libzip/regress/data/encrypt-aes128.zip", ("foofoofoo",), 2),
        ("nih-at+libzip/regress/data/encrypt-aes256.zip", ("foofoofoo",), 2),
        ("rubyzip+rubyzip/test/data/aes-keka.zip", ("swordfish",), 2),
        ("rubyzip+rubyzip/test/data/zip-aes-128.zip", ("password",), 1),
        ("rubyzip+rubyzip/test/data/zipWithEncryption.zip", ("password",), 2),
        ("rubyzip+rubyzip/test/data/zipWithStoredCompressionAndEncryption.zip", ("password",), 2),
        (
            "srikanth-lingala+zip4j/src/test/resources/test-archives/"
            "zip_with_different_passwords.zip",
            ("password_1", "password_2"),
            3,
        ),
        ("nolze+msoffcrypto-tool/tests/inputs/example_password.xlsx", ("Password1234_",), 1),
        ("qax-os+excelize/test/encryptAES.xlsx", ("password",), 1),
        (
            "jmcnamara+spreadsheet-parseexcel/t/excel_files/pers-encrypted-def-pass-QwErTyUiOp.xls",
            ("QwErTyUiOp",),
            1,
        ),
        (
            "nolze+msoffcrypto-tool/tests/inputs/xor_password_123456789012345.xls",
            ("123456789012345",),
            1,
        ),
    ],
)
def test_corpus_encrypted_files_open_with_the_manifest_passwords(
    corpus_dir: Path, rel: str, passwords: tuple[str, ...], count: int
) -> None:
    locked = _corpus_unpack(corpus_dir, rel)
    assert locked.files == [] and len(locked.encrypted) == 1
    result = _corpus_unpack(corpus_dir, rel, passwords)
    assert result.problems == [] and result.encrypted == []
    assert len(result.files) == count
    assert all(f.kind != "office-encrypted" for f in result.files)


def test_corpus_corrupt_mac_is_unreadable_not_wrong_password(corpus_dir: Path) -> None:
    rel = (
        "srikanth-lingala+zip4j/src/test/resources/test-archives/"
        "aes_with_extra_data_record_and_corrupt_mac.zip"
    )
    assert _codes(_corpus_unpack(corpus_dir, rel, ("test123!",))) == [UNREADABLE]
    assert _codes(_corpus_unpack(corpus_dir, rel, ("nope",))) == [PASSWORD_WRONG]


def test_corpus_workbook_protection_opens_without_asking(corpus_dir: Path) -> None:
    rel = "jmcnamara+spreadsheet-parseexcel/t/excel_files/pers-protected.xls"
    [f] = _corpus_unpack(corpus_dir, rel).files
    assert f.kind == "xls"


@pytest.mark.parametrize(
    ("rel", "needle"),
    [
        ("zip-rs+zip2/tests/data/deflate64.zip", "Deflate64"),
        ("zip-rs+zip2/tests/data/ppmd.zip", "PPMd"),
        ("zip-rs+zip2/tests/data/symlink.zip", "リンク"),
        ("libarchive+libarchive/libarchive/test/test_read_format_7zip_encryption.7z", "7z"),
        ("nih-at+libzip/regress/data/testfile-truncated.zip", "壊れている"),
        ("thejoshwolfe+yauzl/test/success/everything.zip", "安全上の上限"),
    ],
)
def test_corpus_unreadable_files(corpus_dir: Path, rel: str, needle: str) -> None:
    result = _corpus_unpack(corpus_dir, rel)
    assert UNREADABLE in _codes(result)
    assert any(needle in p.detail for p in result.problems)


def test_corpus_path_traversal_archives_stay_inside(corpus_dir: Path) -> None:
    base = corpus_dir / "rubyzip+rubyzip/test/data/path_traversal"
    files = sorted(base.rglob("*.zip"))
    assert len(files) >= 6
    for file in files:
        result = unpack(file.name, file.read_bytes())
        for f in result.files:
            _assert_safe(f.path)
            assert f.path.startswith(file.name + "/")


def test_corpus_tnef_and_msg_attachments(corpus_dir: Path) -> None:
    tnef = _corpus_unpack(corpus_dir, "koodaamo+tnefparse/tests/examples/two-files.tnef")
    assert _paths(tnef) == ["two-files.tnef/AUTHORS", "two-files.tnef/README"]
    umlaut = _corpus_unpack(corpus_dir, "koodaamo+tnefparse/tests/examples/umlaut.tnef")
    assert "UmlautAnhang-äüö.txt" in {f.name for f in umlaut.files}
    msg = _corpus_unpack(corpus_dir, "TeamMsgExtractor+msg-extractor/example-msg-files/unicode.msg")
    assert {f.name for f in msg.files} == {"import OleFileIO.tif", "raised value error.tif"}
    assert all(len(f.data) > 900_000 for f in msg.files)


def test_decrypted_office_file_obeys_the_member_limit(locked_xlsx: bytes) -> None:
    small = Limits(max_member_bytes=1000)
    result = unpack(FORM, locked_xlsx, passwords=["ひみつ2022"], limits=small)
    assert result.files == [] and _codes(result) == [UNREADABLE]
