"""The third reading corpus (tests/form_corpus3.py) through the real `check` CLI: every file
must yield exactly the finding codes a clerk would give from the program page."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from ingest.cli import main
from tests.corpus3_edits import (
    CONSORTIUM,
    HELPER,
    LEAD_MAIL,
    SET_VARIANTS,
    base_plan,
    both,
    discount_row,
    plan_sheets,
    stale_copy,
    submission_files,
)
from tests.corpus3_writers import Sheet, numbers_package, write_openpyxl, write_raw
from tests.form_corpus3 import all_variants
from tests.form_writer import tiny_pdf, to_zip
from tests.mails import CORE, mail
from tests.test_grouping_versions import write_config

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


def _replayed(tmp_path: Path, application: bytes, members: list | None = None,
              member_info: Sheet | None = None) -> tuple[str, list[str]]:
    """One mail carrying a whole set in a zip, replayed into a fresh ledger."""
    body = ("令和4年度「共創型サービスIT連携支援事業」事務局 御中\n\n会社名：株式会社あおば製作所\n"
            f"役職：DX推進室長\n氏名：佐藤 一\nメールアドレス：{LEAD_MAIL}\n電話番号：076-123-4567\n")
    files = submission_files(application, tiny_pdf, members, member_info)
    archive = to_zip({f"申請書類/{n}": d for n, d in files.items()})
    folder = tmp_path / "mails"
    folder.mkdir()
    (folder / "1.eml").write_bytes(mail(f"<{CONSORTIUM}>{CORE}", body, LEAD_MAIL, "<set@aoba-ss.example.jp>",
                                        attachments={"申請書類.zip": archive}))
    assert main(["--config", str(write_config(tmp_path)), "replay", str(folder)]) == 0
    with sqlite3.connect(tmp_path / "ledger.db") as db:
        codes = [c for (c,) in db.execute("SELECT code FROM findings ORDER BY code")]
        [(kind,)] = db.execute("SELECT kind FROM replies").fetchall()
    return kind, codes


def test_a_set_with_habits_replays_to_a_receipt(tmp_path: Path) -> None:
    """A hidden old draft, a △ 値引き row and 千円 text in one mail's set: a 受付確認, no finding."""
    p = base_plan()
    p["requested"] = "19,966千円"
    sheets = plan_sheets(p)
    both(stale_copy, discount_row)(sheets)
    kind, codes = _replayed(tmp_path, write_raw(sheets))
    assert codes == [] and kind == "receipt"


def test_a_set_with_a_wholesaler_over_its_line_replays_to_a_notice(tmp_path: Path) -> None:
    p = base_plan()
    p["members"][1][3:6] = ["ソフトウェア製品卸売業", 200000000, 150]
    kind, codes = _replayed(tmp_path, write_openpyxl(plan_sheets(p)), p["members"])
    assert codes == ["SME_INELIGIBLE"] and kind == "deficiency"


@pytest.mark.parametrize(("name", "info", "codes"), SET_VARIANTS, ids=[v[0] for v in SET_VARIANTS])
def test_a_set_whose_member_sheet_is_written_differently(tmp_path: Path, name: str, info: Callable[[], Sheet],
                                                         codes: set[str]) -> None:
    plan = base_plan()
    if name == "info-with-helper":
        plan["members"].append(HELPER)
    kind, found = _replayed(tmp_path, write_openpyxl(plan_sheets(plan)), member_info=info())
    assert set(found) == codes, name
    assert kind == ("deficiency" if codes else "receipt")


def test_an_application_saved_by_numbers_is_unreadable_not_an_archive(tmp_path: Path) -> None:
    """A .numbers package is a zip, but of Apple's own streams: the application is named and
    asked for again as Excel, never unpacked into a set with every document missing."""
    path = tmp_path / "交付申請書.numbers"
    path.write_bytes(numbers_package())
    proc = subprocess.run([sys.executable, "-m", "ingest.cli", "check", "--json", str(path)], cwd=ROOT,
                          capture_output=True, text=True, timeout=300)
    [obj] = [json.loads(line) for line in proc.stdout.splitlines() if line.startswith("{")]
    assert obj["codes"] == ["ATTACHMENT_UNREADABLE"] and proc.returncode == 1
    assert obj["findings"][0]["document"] == "application"


def test_a_set_with_the_application_from_numbers_replays_to_a_notice(tmp_path: Path) -> None:
    files = submission_files(b"", tiny_pdf)
    del files["01_交付申請書.xlsx"]
    files["01_交付申請書.numbers"] = numbers_package()
    body = (f"会社名：株式会社あおば製作所\n役職：室長\n氏名：佐藤 一\nメールアドレス：{LEAD_MAIL}\n"
            "電話番号：076-123-4567\n")
    folder = tmp_path / "mails"
    folder.mkdir()
    (folder / "1.eml").write_bytes(mail(f"<{CONSORTIUM}>{CORE}", body, LEAD_MAIL, "<numbers@aoba-ss.example.jp>",
                                        attachments={"申請書類.zip": to_zip(files)}))
    assert main(["--config", str(write_config(tmp_path)), "replay", str(folder)]) == 0
    with sqlite3.connect(tmp_path / "ledger.db") as db:
        codes = {c for (c,) in db.execute("SELECT code FROM findings")}
    assert "ATTACHMENT_UNREADABLE" in codes and "DOCUMENT_MISSING" not in codes
