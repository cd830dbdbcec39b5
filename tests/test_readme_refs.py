"""A message that sends the operator to a README section names a section the README has."""

from __future__ import annotations

import re
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def test_every_readme_section_a_message_names_exists():
    headings = {line.lstrip("#").strip() for line in
                (REPO / "README.md").read_text(encoding="utf-8").splitlines()
                if line.startswith("#")}
    named = {}
    for package in ("ingest", "replies", "state", "rules", "parsers"):
        for path in (REPO / package).rglob("*.py"):
            text = re.sub(r'"\s*\n\s*"', "", path.read_text(encoding="utf-8"))  # joined literals
            for section in re.findall(r"README の「([^」]+)」", text):
                named[section] = path.name
    assert named, "no message names a README section any more: drop this test"
    missing = {s: f for s, f in named.items() if s not in headings}
    assert not missing, missing
