"""Each reading-corpus variant through the real `check` CLI: its finding codes, exactly.

The variants (tests/form_variants.py) are application files as applicants fill them, written
independently of the sample forms' generator. KNOWN_WRONG lists those the reader still gets
wrong, with what it gets wrong; they run as non-strict xfail so that a fix shows as XPASS and
the entry can be deleted.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.form_variants import Variant, variants

ROOT = Path(__file__).resolve().parent.parent
_FINDING = re.compile(r"^  ([A-Z][A-Z_]+)\t", re.MULTILINE)

# variant name -> what the reader gets wrong today
KNOWN_WRONG: dict[str, str] = {}

VARIANTS = variants()


def check_codes(variant: Variant, tmp_path: Path) -> tuple[set[str], str]:
    paths = []
    for name, data in variant.files.items():
        path = tmp_path / name
        path.write_bytes(data)
        paths.append(str(path))
    proc = subprocess.run([sys.executable, "-m", "ingest.cli", "check", *paths], cwd=ROOT,
                          capture_output=True, text=True, encoding="utf-8", check=False)
    assert proc.returncode in (0, 1, 2), proc.stderr
    assert "Traceback" not in proc.stderr, proc.stderr
    return set(_FINDING.findall(proc.stdout)), proc.stdout + proc.stderr


def test_corpus_is_deterministic_and_broad() -> None:
    again = variants()
    assert [v.name for v in again] == [v.name for v in VARIANTS]
    assert [sorted(v.files) for v in again] == [sorted(v.files) for v in VARIANTS]
    assert len(VARIANTS) >= 80
    assert sum(1 for v in VARIANTS if not v.expected) >= 20
    stale = set(KNOWN_WRONG) - {v.name for v in VARIANTS}
    assert not stale, f"KNOWN_WRONG names no variant: {stale}"


@pytest.mark.parametrize("variant", [
    pytest.param(v, id=v.name, marks=[pytest.mark.xfail(strict=False, reason=KNOWN_WRONG[v.name])]
                 if v.name in KNOWN_WRONG else [])
    for v in VARIANTS])
def test_variant_codes(variant: Variant, tmp_path: Path) -> None:
    codes, output = check_codes(variant, tmp_path)
    unexpected = codes - variant.expected - variant.tolerated
    missing = variant.expected - codes
    assert not unexpected and not missing, (
        f"{variant.why}\nmissing {sorted(missing)}, unexpected {sorted(unexpected)}\n{output}")
    if not variant.expected:
        assert "不備なし" in output or set(codes) <= variant.tolerated
