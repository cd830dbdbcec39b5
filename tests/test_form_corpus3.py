"""The third reading corpus (tests/form_corpus3.py) through the real `check` CLI: every file
must yield exactly the finding codes a clerk would give from the program page."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.form_corpus3 import all_variants

ROOT = Path(__file__).resolve().parent.parent
VARIANTS = all_variants()


@pytest.fixture(scope="module")
def verdicts(tmp_path_factory: pytest.TempPathFactory) -> dict[str, set[str]]:
    folder = tmp_path_factory.mktemp("corpus3")
    paths = []
    for v in VARIANTS:
        (folder / v.name).write_bytes(v.data)
        paths.append(str(folder / v.name))
    cmd = [sys.executable, "-m", "ingest.cli", "check", "--json", *paths]
    proc = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=900)
    assert proc.returncode in (0, 1), proc.stderr[-2000:]
    got: dict[str, set[str]] = {}
    for line in proc.stdout.splitlines():
        if line.startswith("{"):
            obj = json.loads(line)
            got[os.path.basename(obj["file"])] = set(obj["codes"])
    return got


def test_corpus_names_are_unique_and_cover_both_writers() -> None:
    names = [v.name for v in VARIANTS]
    assert len(names) == len(set(names))
    assert sum(n.endswith("-raw.xlsx") or n.startswith("c3x-") for n in names) >= 60
    assert sum(bool(v.codes) for v in VARIANTS) >= 20


@pytest.mark.parametrize("variant", VARIANTS, ids=[v.name for v in VARIANTS])
def test_verdict(variant, verdicts: dict[str, set[str]]) -> None:
    assert verdicts.get(variant.name) == set(variant.codes), variant.why
