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

# What the reader gets wrong, by variant (the work list for the forms reader).
_ROLE_TICKS = (
    "区分 given as three tick columns 中小ユーザ企業 / ITベンダ / その他協力者 (○ under one) is not read: "
    "「区分」の列がありません and 0 SME users / 0 vendors"
)
_BY_CATEGORY = (
    "cost table with one amount column per 経費区分 (rows = member × STEP, plus うち下請け発注額) is not read: "
    "「経費区分」/「補助対象経費」 columns reported missing and every money rule skipped"
)
_STEP_BLOCKS = (
    "cost table in one block per STEP (heading 【STEP3 …】, own header row, 小計; no 工程 column): the rows are read "
    "but a false FORM_FIELD_MISSING says the 工程 column is missing; the block's heading is the STEP"
)
_MEMBER_COSTS = (
    "cost table as one 経費内訳 sheet per member (name at the top, no 事業者名 column) plus a 集計 sheet is not found "
    "(「補助対象経費内訳」の表が見つかりません): every money rule skipped"
)
_DAIJI = (
    "amounts in formal numerals 「金弐千九百万円也」 (壱弐参拾, as 交付申請書 letters write them) are not read: "
    "FORM_FIELD_MISSING for 補助対象経費合計/補助金交付申請額"
)
KNOWN_WRONG: dict[str, str] = {
    "zip-checklist-other-wording-unticked": (
        "a checklist row worded 「登記簿謄本（発行後3か月以内）」 (the everyday name of the 履歴事項全部証明書) is not "
        "matched to the registry document: left unticked while certificates are attached, no CHECKLIST_MISMATCH "
        "(the other rewordings 様式4 交付申請書等, 誓約書（全構成員分）, 納税証明書（その1） are matched)"
    ),
    "valid-role-tick-columns": _ROLE_TICKS,
    "composition-role-tick-columns": _ROLE_TICKS
    + " (the right CONSORTIUM_COMPOSITION comes with a false FORM_FIELD_MISSING)",
    "valid-costs-by-category": _BY_CATEGORY,
    "software-over-half-by-category": _BY_CATEGORY,
    "sme-personnel-by-category": _BY_CATEGORY,
    "subcontract-by-category": _BY_CATEGORY,
    "valid-costs-step-blocks": _STEP_BLOCKS,
    "subcontract-step-blocks": _STEP_BLOCKS,
    "cost-not-eligible-step-blocks": _STEP_BLOCKS,
    "sum-step-blocks": _STEP_BLOCKS,
    "valid-costs-member-sheets": _MEMBER_COSTS,
    "sme-personnel-member-sheets": _MEMBER_COSTS,
    "cost-not-eligible-member-sheets": _MEMBER_COSTS,
    "valid-formal-daiji-amounts": _DAIJI,
    "over-rate-formal-daiji": _DAIJI + " (the real AMOUNT_OVER_CAP is missed)",
}

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
