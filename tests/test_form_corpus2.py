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
_THOUSAND = (
    "「（単位：千円）」 note above the 交付申請書's key-value amounts is ignored: 補助対象経費合計 and "
    "補助金交付申請額 are read in 円 (29,000円, 18,000円), giving a false AMOUNT_BELOW_MINIMUM and "
    "SUM_MISMATCH; only a 「(千円)」 in a column header is applied"
)
_BLOCKS = (
    "members written as blocks (one group of 事業者名/区分/業種… label rows per member) are not read: "
    "「コンソーシアム構成員」 reported missing, 0 SME users and 0 vendors"
)
_TRANSPOSED = (
    "cost table with STEPs as columns (one row per member and 経費区分, amounts under "
    "STEP1…STEP4) is not read: 「工程」/「補助対象経費」 columns reported missing, every money rule skipped"
)
_ERA_CELLS = (
    "dates split over cells 令和|5|年|3|月|31|日 are read as the first cell only (「令和」): "
    "FORM_FIELD_MISSING for 申請日/開始/完了予定日, and PROJECT_PERIOD is never judged"
)
_COLUMNS = (
    "member table transposed (labels down one column, one column per member) is not read: "
    "「コンソーシアム構成員」 reported missing, 0 SME users and 0 vendors"
)
_PLANNED = (
    "a date with a trailing note 「令和5年3月31日（予定）」 is not read (FORM_FIELD_MISSING): the note should be "
    "dropped, and PROJECT_PERIOD judged on the date"
)
_KV_ROW = (
    "交付申請書 key values laid out as a header row (labels side by side, values in the row below) are not read: "
    "コンソーシアム名/幹事社名/補助対象経費合計 reported blank"
)
_MEMBER_SHEETS = (
    "事業者情報入力シート issued as one key-value sheet per member (事業者情報入力シート(1), (2) …) is not "
    "read: 「事業者情報」の表が見つかりません, and the cross-form sums are never compared"
)
_KANJI = (
    "dates in kanji numerals 「令和五年三月三十一日」 are not read (FORM_FIELD_MISSING for every date), so "
    "PROJECT_PERIOD is never judged"
)
_DITTO = (
    "「〃」 in the 工程 or 経費区分 column (repeating the row above) is not resolved: 経費区分として読めません and a "
    "false SUM_MISMATCH against the category summary; only a 〃 in 事業者名 is resolved"
)
_FURIGANA = (
    "members written over two rows (the reading 「カブシキガイシャ…」 above the name, the other cells merged over "
    "both rows) are read as two members: the reading row becomes a second 幹事社 (false CONSORTIUM_COMPOSITION)"
)
_TEMPLATE = (
    "an untouched template sheet left in front of its filled copy 「交付申請書 (2)」 is read instead of the copy: "
    "every field reported blank, 0 members; the sheet with values should win over an empty one"
)
KNOWN_WRONG: dict[str, str] = {
    "valid-ditto-everywhere": _DITTO,
    "cost-not-eligible-ditto-step": _DITTO + " (the SME user's STEP3 人件費 COST_NOT_ELIGIBLE is missed)",
    "valid-furigana-rows": _FURIGANA,
    "sme-ineligible-furigana-rows": _FURIGANA,
    "valid-blank-template-kept": _TEMPLATE,
    "over-rate-blank-template-kept": _TEMPLATE + " (the real AMOUNT_OVER_CAP is missed)",
    "valid-kanji-numeral-dates": _KANJI,
    "period-kanji-numerals": _KANJI,
    "zip-member-sheets": _MEMBER_SHEETS,
    "zip-member-sheets-sum-mismatch": _MEMBER_SHEETS + " (the real SUM_MISMATCH is missed)",
    "zip-checklist-inline-unticked": (
        "checklist ticked in the item's own text (「■4. …」 / 「□7. 誓約書」, no tick column) is not read: an "
        "unticked □ item that is attached passes without CHECKLIST_MISMATCH"
    ),
    "valid-members-as-columns": _COLUMNS,
    "valid-xls-members-columns": _COLUMNS,
    "sme-ineligible-members-as-columns": _COLUMNS,
    "valid-date-planned": _PLANNED,
    "period-planned": _PLANNED,
    "valid-kv-header-row": _KV_ROW,
    "over-rate-kv-header-row": _KV_ROW + " (a false FORM_FIELD_MISSING beside the right AMOUNT_OVER_CAP)",
    "valid-members-as-blocks": _BLOCKS,
    "sme-ineligible-blocks": _BLOCKS,
    "valid-members-split-over-sheets": (
        "member table continued on a second sheet 「交付申請書(続き)」 is not read: its members are dropped "
        "(false CONSORTIUM_COMPOSITION, and the cap would shrink)"
    ),
    "valid-costs-transposed": _TRANSPOSED,
    "valid-costs-transposed-with-summary": _TRANSPOSED,
    "sum-transposed": _TRANSPOSED,
    "software-over-half-transposed": _TRANSPOSED,
    "subcontract-transposed": _TRANSPOSED,
    "cost-not-eligible-transposed": _TRANSPOSED,
    "valid-thousand-yen": _THOUSAND,
    "valid-xls-thousand-yen": _THOUSAND,
    "sum-thousand-yen": _THOUSAND,
    "over-rate-thousand-yen": _THOUSAND + " (the real AMOUNT_OVER_CAP is missed)",
    "large-vendor-thousand-yen": _THOUSAND + " (the large vendor's 1/2 rate AMOUNT_OVER_CAP is missed)",
    "sme-ineligible-thousand": _THOUSAND,
    "valid-era-date-cells": _ERA_CELLS,
    "period-era-cells": _ERA_CELLS,
    "valid-lead-word": (
        "a 幹事社 column whose cell reads 「幹事社」 (others 「構成員」) is taken for a header row: the members "
        "above it are lost (false CONSORTIUM_COMPOSITION)"
    ),
    "period-late-february-text": (
        "完了予定日 「2023年2月下旬」 is not read as a date (FORM_FIELD_MISSING) though every day of 下旬 is "
        "after 2月10日: PROJECT_PERIOD is missed (「2023年3月」 alone is read; 上旬/中旬/下旬 are not)"
    ),
    "zip-member-info-transposed": (
        "事業者情報入力シート laid out with one column per member (labels down column A) is not found "
        "(「事業者情報」の表が見つかりません)"
    ),
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
