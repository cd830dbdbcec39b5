"""The second reading corpus (tests/form_corpus2.py) through the real `check` CLI.

Every variant's file must yield exactly its expected finding codes. The variants the reader still
gets wrong are listed in KNOWN_WRONG with what it gets wrong; they run as non-strict xfails so the
list shrinks as the reader learns, and a fixed one shows up as XPASS.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.form_corpus2 import variants

ROOT = Path(__file__).resolve().parent.parent

# What the reader gets wrong, by variant (the work list for the forms reader): nothing today.
KNOWN_WRONG: dict[str, str] = {}

VARIANTS = variants()


def _split_text(out: str) -> dict[str, set[str]]:
    """Fallback for a `check` without --json: `■ PATH` opens a file, `  CODE<TAB>…` is a finding."""
    found: dict[str, set[str]] = {}
    current = None
    for line in out.splitlines():
        if line.startswith("■ "):
            current = os.path.basename(line[2:].strip())
            found[current] = set()
        elif current and line.startswith("  ") and "\t" in line:
            found[current].add(line.strip().split("\t", 1)[0])
    return found


@pytest.fixture(scope="module")
def verdicts(tmp_path_factory: pytest.TempPathFactory) -> dict[str, set[str]]:
    folder = tmp_path_factory.mktemp("corpus2")
    paths = []
    for v in VARIANTS:
        for name, data in v.files.items():
            (folder / name).write_bytes(data)
            paths.append(str(folder / name))
    cmd = [sys.executable, "-m", "ingest.cli", "check", "--json", *paths]
    proc = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=900)
    assert proc.returncode in (0, 1), proc.stderr[-2000:]
    got: dict[str, set[str]] = {}
    for line in proc.stdout.splitlines():
        if line.startswith("{"):
            obj = json.loads(line)
            got[os.path.basename(obj["file"])] = set(obj["codes"])
    return got


def test_corpus_is_deterministic_and_large() -> None:
    again = variants()
    assert len(VARIANTS) >= 60
    assert len({v.name for v in VARIANTS}) == len(VARIANTS)
    assert [v.files for v in again] == [v.files for v in VARIANTS]
    assert set(KNOWN_WRONG) <= {v.name for v in VARIANTS}


@pytest.mark.parametrize(
    "variant",
    [
        pytest.param(
            v,
            id=v.name,
            marks=[pytest.mark.xfail(reason=KNOWN_WRONG[v.name], strict=False)] if v.name in KNOWN_WRONG else [],
        )
        for v in VARIANTS
    ],
)
def test_variant_verdict(variant, verdicts: dict[str, set[str]]) -> None:
    for name in variant.files:
        assert name in verdicts, f"check printed nothing for {name}"
        assert verdicts[name] == set(variant.expected), variant.why
