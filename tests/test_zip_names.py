"""Zip member names without the UTF-8 flag: half-width katakana from Japanese Windows, Western
names from DOS tools. The archives are written by Info-ZIP's `zip` from files whose names are
the raw bytes another system would have written (no flag, no Unicode extra field), exactly
as 7-Zip or Explorer on Japanese Windows and PKZIP on DOS store them."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from parsers.archives import unpack

ZIP = shutil.which("zip")
pytestmark = pytest.mark.skipif(ZIP is None, reason="Info-ZIP zip is not installed")

HALF_WIDTH_JAPANESE = [
    "ｼﾝｾｲｼｮ.xlsx",
    "ｱﾝｹｰﾄ_ﾃﾞｰﾀ.csv",
    "ﾁｪｯｸﾘｽﾄ.pdf",
    "ﾋﾟｰｽ ｼﾞｮｳﾎｳ.docx",
    "申請書_ｶﾌﾞｼｷｶﾞｲｼｬ.xlsx",
    "ｲﾁﾗﾝ(2024).xlsx",
]
WESTERN_DOS = [
    "Résumé.txt",
    "Müller.doc",
    "España.txt",
    "Año 2024.xlsx",
    "Niño.pdf",
    "Señor Muñoz.txt",
    "Ñandú.txt",
    "Café.txt",
    "Crème brûlée.txt",
    "Über.txt",
    "Straße.txt",
    "¿Qué?.txt",
]


def _zip_of_raw_names(tmp_path: Path, names: list[bytes]) -> bytes:
    src = tmp_path / "src"
    src.mkdir()
    for raw in names:
        with open(os.path.join(os.fsencode(src), raw), "wb") as fh:
            fh.write(b"content of " + raw)
    out = tmp_path / "out.zip"
    env = {**os.environ, "LC_ALL": "C"}  # no locale conversion: the bytes go in as they are
    subprocess.run([ZIP, "-q", "-X", str(out), *[os.fsdecode(n) for n in names]],
                   cwd=src, env=env, check=True)
    return out.read_bytes()


def _names(data: bytes) -> list[str]:
    result = unpack("届いた.zip", data)
    assert not result.problems
    return sorted(f.name for f in result.files)


def test_half_width_katakana_names_from_japanese_windows_read_as_cp932(tmp_path: Path) -> None:
    data = _zip_of_raw_names(tmp_path, [n.encode("cp932") for n in HALF_WIDTH_JAPANESE])
    assert _names(data) == sorted(HALF_WIDTH_JAPANESE)


@pytest.mark.parametrize("name", HALF_WIDTH_JAPANESE)
def test_each_half_width_name_alone(tmp_path: Path, name: str) -> None:
    assert _names(_zip_of_raw_names(tmp_path, [name.encode("cp932")])) == [name]


@pytest.mark.parametrize("name", WESTERN_DOS)
def test_western_dos_names_stay_cp437(tmp_path: Path, name: str) -> None:
    assert _names(_zip_of_raw_names(tmp_path, [name.encode("cp437")])) == [name]


@pytest.mark.parametrize(
    "name", ["привет.txt", "Смета расходов.xlsx", "ОТЧЁТ О РАБОТЕ.docx"]
)
def test_koi8r_names_on_the_same_bytes_stay_cyrillic(tmp_path: Path, name: str) -> None:
    # KOI8-R lowercase letters are bytes 0xC0-0xDF, half-width katakana in CP932.
    assert _names(_zip_of_raw_names(tmp_path, [name.encode("koi8-r")])) == [name]


def test_full_width_japanese_still_reads_as_cp932(tmp_path: Path) -> None:
    names = ["交付申請書.xlsx", "①誓約書（㈱テスト）.pdf"]
    data = _zip_of_raw_names(tmp_path, [n.encode("cp932") for n in names])
    assert _names(data) == sorted(names)
