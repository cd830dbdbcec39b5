"""Every staff verb on the bundled example mailbox, as a new user runs them after `replay`."""

from __future__ import annotations

import io
import json
from contextlib import redirect_stderr, redirect_stdout
from pathlib import Path

import pytest
from openpyxl import load_workbook

from ingest import cli
from state import queries
from tests.conftest import REPO
from tests.test_staff_queries import open_ledger, run_cli, write_config

EXAMPLES = REPO / "examples" / "mailbox"


@pytest.fixture(scope="module")
def example_config(tmp_path_factory: pytest.TempPathFactory) -> Path:
    if not EXAMPLES.is_dir():
        pytest.skip(f"{EXAMPLES} is not there yet")
    config = write_config(tmp_path_factory.mktemp("examples"))
    with redirect_stdout(io.StringIO()), redirect_stderr(io.StringIO()):
        assert cli.main(["--config", str(config), "replay", str(EXAMPLES)]) == 0
    return config


def test_every_submission_of_the_examples_can_be_listed_shown_and_found(example_config):
    ledger = open_ledger(example_config)
    code, out, _ = run_cli(["--config", str(example_config), "ledger", "submissions",
                            "--limit", "0", "--json"])
    listing = json.loads(out)
    assert code == 0 and listing["total"] == ledger.db["submissions"].count > 0
    assert len(listing["rows"]) == listing["total"]
    for row in listing["rows"]:
        code, out, _ = run_cli(["--config", str(example_config), "ledger", "show",
                                str(row["id"]), "--json"])
        detail = json.loads(out)
        assert code == 0 and detail["submission"]["id"] == row["id"]
        assert len(detail["mails"]) == row["mails"] and len(detail["files"]) == row["files"]
        # Each mail can be found again by a word of its own subject.
        for mail in detail["mails"]:
            subject = (mail["subject"] or "").strip()
            word = max(subject.split(), key=len, default="")[:12]
            if len(word) >= 3:
                found = {r["message"] for r in queries.search(ledger, word, limit=1000).rows}
                assert mail["id"] in found, word


def test_excel_export_of_the_examples_counts_every_row(example_config, tmp_path):
    from ingest.export_xlsx import write_xlsx

    ledger = open_ledger(example_config)
    out = tmp_path / "examples.xlsx"
    assert write_xlsx(ledger, out) == ledger.db["submissions"].count
    book = load_workbook(out, read_only=True)
    rows = {name: sum(1 for _ in book[name].iter_rows(min_row=2)) for name in book.sheetnames}
    assert rows == {"申請": ledger.db["submissions"].count, "指摘": ledger.db["findings"].count,
                    "メール": ledger.db["messages"].count, "返信": ledger.db["replies"].count}


def test_daily_counts_add_up_to_the_mails(example_config):
    ledger = open_ledger(example_config)
    days = queries.daily_counts(ledger)
    assert sum(d["mails"] for d in days) == ledger.db["messages"].count
    for column, where in (("submissions", "s.kind = 'submission'"),
                          ("complete", "s.outcome = 'complete'"),
                          ("deficient", "s.outcome = 'deficient'")):
        expected = ledger.db.execute(
            f"SELECT count(*) FROM submissions s WHERE {where} AND EXISTS "
            "(SELECT 1 FROM messages m WHERE m.submission_id = s.id)").fetchone()[0]
        assert sum(d[column] for d in days) == expected, column
