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

# a rule's deficiency written with a filling habit: wrong for the reasons its two parts are
COMBINATIONS_WRONG: list[str] = []
KNOWN_WRONG.update({
    name: "; ".join(KNOWN_WRONG[part] for part in name.split("__") if part in KNOWN_WRONG)
    for name in COMBINATIONS_WRONG})

VARIANTS = variants()


def _run_check(paths: list[str]) -> subprocess.CompletedProcess[str]:
    proc = subprocess.run([sys.executable, "-m", "ingest.cli", "check", *paths], cwd=ROOT,
                          capture_output=True, text=True, encoding="utf-8", check=False)
    assert proc.returncode in (0, 1, 2), proc.stderr
    assert "Traceback" not in proc.stderr, proc.stderr
    return proc


def _write(variant: Variant, folder: Path) -> list[str]:
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for name, data in variant.files.items():
        path = folder / name
        path.write_bytes(data)
        paths.append(str(path))
    return paths


def check_codes(variant: Variant, tmp_path: Path) -> tuple[set[str], str]:
    """The codes `check` reports for the variant's files alone."""
    proc = _run_check(_write(variant, tmp_path))
    return set(_FINDING.findall(proc.stdout)), proc.stdout + proc.stderr


@pytest.fixture(scope="module")
def corpus_output(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """One `check` run over every variant's file (each FILE is its own unit), split per file.

    Starting the CLI once keeps the corpus quick on a loaded machine; a variant whose section is
    absent (the run stopped early) is checked on its own by the test.
    """
    root = tmp_path_factory.mktemp("corpus")
    owner: dict[str, str] = {}
    paths: list[str] = []
    for variant in VARIANTS:
        for path in _write(variant, root / variant.name):
            owner[path] = variant.name
            paths.append(path)
    proc = subprocess.run([sys.executable, "-m", "ingest.cli", "check", *paths], cwd=ROOT,
                          capture_output=True, text=True, encoding="utf-8", check=False)
    sections: dict[str, str] = {}
    current = None
    for line in proc.stdout.splitlines(keepends=True):
        if line.startswith("■ "):
            current = owner.get(line[2:].strip())
            sections.setdefault(current or "", "")
        elif not line.startswith("  "):
            current = None  # the closing count of results belongs to no file
        if current:
            sections[current] += line
    return sections


def test_corpus_is_deterministic_and_broad() -> None:
    again = variants()
    assert [v.name for v in again] == [v.name for v in VARIANTS]
    assert [sorted(v.files) for v in again] == [sorted(v.files) for v in VARIANTS]
    assert len(VARIANTS) >= 80
    assert sum(1 for v in VARIANTS if not v.expected) >= 20
    stale = set(KNOWN_WRONG) - {v.name for v in VARIANTS}
    assert not stale, f"KNOWN_WRONG names no variant: {stale}"
    assert all(KNOWN_WRONG.values()), "each known-wrong variant says what the reader gets wrong"


@pytest.mark.parametrize("variant", [
    pytest.param(v, id=v.name, marks=[pytest.mark.xfail(strict=False, reason=KNOWN_WRONG[v.name])]
                 if v.name in KNOWN_WRONG else [])
    for v in VARIANTS])
def test_variant_codes(variant: Variant, corpus_output: dict[str, str], tmp_path: Path) -> None:
    if len(variant.files) == 1 and variant.name in corpus_output:
        output = corpus_output[variant.name]
        codes = set(_FINDING.findall(output))
    else:
        codes, output = check_codes(variant, tmp_path)
    unexpected = codes - variant.expected - variant.tolerated
    missing = variant.expected - codes
    assert not unexpected and not missing, (
        f"{variant.why}\nmissing {sorted(missing)}, unexpected {sorted(unexpected)}\n{output}")
    if not variant.expected:
        assert "不備なし" in output or set(codes) <= variant.tolerated
