"""A ledger that cannot be written: one sentence, exit 2, and nothing left behind.

Root ignores permission bits, so the file (or its folder) is made immutable with chattr, which
binds root too; as another user, a read-only mode does the same. Without either the test skips.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from ingest.cli import main
from tests.mails import complete_mail
from tests.test_walking_skeleton import write_config


@contextmanager
def read_only(path: Path) -> Iterator[None]:
    """`path` unwritable for whoever runs the tests, root included."""
    if os.geteuid() == 0:
        if shutil.which("chattr") is None:
            pytest.skip("chattr がなく、root では読み取り専用にできません")
        made = subprocess.run(["chattr", "+i", str(path)], capture_output=True)
        if made.returncode != 0:
            pytest.skip(f"chattr +i がこのファイルシステムで使えません: {made.stderr!r}")
        try:
            yield
        finally:
            subprocess.run(["chattr", "-i", str(path)], check=True)
    else:
        mode = path.stat().st_mode
        path.chmod(0o555 if path.is_dir() else 0o444)
        try:
            yield
        finally:
            path.chmod(mode)


def _setup(tmp_path: Path) -> tuple[Path, Path]:
    folder = tmp_path / "mails"
    folder.mkdir()
    (folder / "1.eml").write_bytes(complete_mail("<ro-1@minato-seiki.example.jp>"))
    config = write_config(tmp_path)
    assert main(["--config", str(config), "replay", str(folder)]) == 0
    (folder / "2.eml").write_bytes(complete_mail("<ro-2@minato-seiki.example.jp>"))
    return config, folder


def _leftovers(tmp_path: Path) -> set[str]:
    return {p.name for p in tmp_path.iterdir() if p.name.startswith("ledger.db")}


@pytest.mark.parametrize("what", ["file", "folder"])
def test_a_read_only_ledger_is_refused_in_one_sentence_and_the_next_run_works(
        tmp_path, capsys, what):
    config, folder = _setup(tmp_path)
    ledger = tmp_path / "ledger.db"
    before = _leftovers(tmp_path)
    capsys.readouterr()
    with read_only(ledger if what == "file" else tmp_path):
        assert main(["--config", str(config), "replay", str(folder)]) == 2
        err = capsys.readouterr().err
        assert "書き込めません" in err or "作れません" in err
        assert "Traceback" not in err and len(err.strip().splitlines()) == 1
        assert main(["--config", str(config), "ledger", "submissions"]) == 2
        assert _leftovers(tmp_path) == before  # no -shm/-wal made beside it
    assert main(["--config", str(config), "replay", str(folder)]) == 0
    assert main(["--config", str(config), "ledger", "submissions"]) == 0
