"""Program-year facts: the defaults are the program page's numbers; config.toml replaces them."""

from __future__ import annotations

import ast
import tomllib
from datetime import date, datetime
from fractions import Fraction
from pathlib import Path

import pytest

from rules.calendar import JST
from rules.program import Program, program_from_toml


def test_defaults_are_the_program_pages_numbers() -> None:
    """補助率 2/3以内 もしくは 1/2以内、補助上限額 1.1億円、補助下限額 100万円、申請期間 8/3〜9/9."""
    p = Program()
    assert (p.subsidy_rate, p.subsidy_rate_large_vendor) == (Fraction(2, 3), Fraction(1, 2))
    assert (p.cap_base_members, p.cap_base, p.cap_step, p.cap_max) == (
        4, 44_000_000, 11_000_000, 110_000_000)
    assert p.subsidy_minimum == 1_000_000
    assert (p.min_sme_users, p.min_vendors) == (2, 2)
    assert p.period_start == datetime(2022, 8, 3, 0, 0, tzinfo=JST)
    assert p.period_end == datetime(2022, 9, 9, 23, 59, 59, tzinfo=JST)
    assert p.project_end == date(2023, 2, 10)
    assert len(p.sme_lines) == 15  # ①〜⑮
    assert [d.key for d in p.documents] == [
        "application", "overview", "member_info", "pledge", "checklist", "registry", "tax"]


def test_subject_core_is_unchanged() -> None:
    assert Program().subject_core == "令和4年度「共創型サービスIT連携支援補助金」 応募書類送付"


def test_a_second_round_from_toml() -> None:
    table = tomllib.loads("""
        year_label = "令和5年度"
        period_start = 2023-04-10
        period_end = 2023-05-12T17:00:00
        project_end = "2024-01-31"
        subsidy_rate = "3/4"
        subsidy_rate_large_vendor = 0.5
        cap_max = 99000000
        subcontract_steps = [3, 4]
        [[sme_lines]]
        key = "retail"
        label = "小売業"
        capital_max = 50000000
        employees_max = 50
        aliases = ["小売業"]
        [[documents]]
        key = "application"
        title = "交付申請書"
        [[documents]]
        key = "tax"
        title = "納税証明書"
        scope = "member"
    """)
    p = program_from_toml(table)
    assert p.year_label == "令和5年度" and "令和5年度" in p.subject_core
    assert p.period_start == datetime(2023, 4, 10, 0, 0, tzinfo=JST)
    assert p.period_end == datetime(2023, 5, 12, 17, 0, tzinfo=JST)
    assert p.project_end == date(2024, 1, 31)
    assert (p.subsidy_rate, p.subsidy_rate_large_vendor) == (Fraction(3, 4), Fraction(1, 2))
    assert p.cap_max == 99_000_000 and p.cap_base == 44_000_000
    assert p.subcontract_steps == (3, 4)
    assert [line.key for line in p.sme_lines] == ["retail"]
    assert [(d.key, d.scope) for d in p.documents] == [
        ("application", "consortium"), ("tax", "member")]


def test_a_bare_end_date_means_the_whole_day() -> None:
    p = program_from_toml({"period_end": "2022-09-30"})
    assert p.period_end == datetime(2022, 9, 30, 23, 59, 59, tzinfo=JST)


@pytest.mark.parametrize(("table", "named"), [
    ({"cap_maxx": 1}, "cap_maxx"),
    ({"subsidy_rate": "two thirds"}, "subsidy_rate"),
    ({"cap_base": "44000000"}, "cap_base"),
    ({"period_start": "8月3日"}, "period_start"),
    ({"sme_lines": [{"key": "x", "label": "X", "capitall": 1}]}, "capitall"),
    ({"documents": [{"key": "x", "title": "X", "scope": "everyone"}]}, "scope"),
])
def test_bad_program_settings_are_named(table: dict[str, object], named: str) -> None:
    with pytest.raises(ValueError, match=named):
        program_from_toml(table)


def test_rules_and_parsers_import_nothing_from_state_replies_or_ingest() -> None:
    """Layout rule: the checks are pure and can be tested with plain data."""
    repo = Path(__file__).resolve().parents[1]
    for path in [*(repo / "rules").glob("*.py"), *(repo / "parsers").glob("*.py")]:
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = ([a.name for a in node.names] if isinstance(node, ast.Import)
                     else [node.module or ""] if isinstance(node, ast.ImportFrom) else [])
            for name in names:
                assert name.split(".")[0] not in {"state", "replies", "ingest"}, (path, name)


def test_interpretations_are_settings_with_checked_values() -> None:
    program = program_from_toml({"sme_personnel_base": "vendor", "subcontract_scope": "step",
                                 "declared_large_is_large": False, "sme_personnel_steps": [2]})
    assert (program.sme_personnel_base, program.subcontract_scope) == ("vendor", "step")
    assert program.declared_large_is_large is False and program.sme_personnel_steps == (2,)
    with pytest.raises(ValueError, match="sme_personnel_base"):
        program_from_toml({"sme_personnel_base": "some"})
    with pytest.raises(ValueError, match="declared_large_is_large"):
        program_from_toml({"declared_large_is_large": "yes"})
