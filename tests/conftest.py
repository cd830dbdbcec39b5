"""Shared test fixtures. Server fixtures (Dovecot, SMTP) live in tests/servers.py."""

from __future__ import annotations

from pathlib import Path

import pytest

pytest_plugins = ["tests.servers"]

REPO = Path(__file__).resolve().parents[1]
# The shared corpus sits beside the clone (../shared/corpus); it is never copied into the repo.
CORPUS = REPO.parent / "shared" / "corpus"


@pytest.fixture(scope="session")
def corpus_dir() -> Path:
    if not (CORPUS / "MANIFEST.tsv").is_file():
        pytest.skip(f"shared corpus not found at {CORPUS}; corpus tests need ../shared beside the repo")
    return CORPUS
