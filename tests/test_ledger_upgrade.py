"""A ledger made by an older release, opened by this one: the migrations upgrade it in place.

The old ledger is made the way a secretariat made it: the release of that time (its code taken
from this repository's history) replays its own sample mailbox. Without the history (a shallow
or exported copy) there is no older release to run, and the test says so."""

from __future__ import annotations

import io
import json
import os
import shutil
import subprocess
import sys
import tarfile
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
# Ledger schema 0007: before staff accounts, console sessions and per-mail notice keys.
OLD_RELEASE = "069c0fc0c19ce190724b59690fd74fd229e29295"


def old_release(into: Path) -> Path:
    try:
        tar = subprocess.run(["git", "-C", str(REPO), "archive", "--format=tar", OLD_RELEASE],
                             capture_output=True, check=True, timeout=300).stdout
    except (OSError, subprocess.CalledProcessError):
        pytest.skip(f"the repository history does not hold {OLD_RELEASE[:7]}")
    with tarfile.open(fileobj=io.BytesIO(tar)) as archive:
        # our own history; the filter exists from Python 3.11.4 on
        archive.extractall(into, **({"filter": "data"} if hasattr(tarfile, "data_filter") else {}))
    return into


def cli(cwd: Path, *argv: str, code: Path | None = None) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONIOENCODING": "utf-8", "PYTHONPATH": str(code or REPO)}
    return subprocess.run([sys.executable, "-m", "ingest.cli", *argv], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=600)


def findings(cwd: Path) -> list[tuple]:
    done = cli(cwd, "export", "submissions", "--format", "jsonl")
    assert done.returncode == 0, done.stderr
    rows = [json.loads(line) for line in done.stdout.splitlines()]
    return sorted((r["consortium"] or "", r["messages"], r["outcome"], tuple(r["findings"]))
                  for r in rows)


def write_config(folder: Path) -> None:
    folder.mkdir(exist_ok=True)
    (folder / "config.toml").write_text(
        '[paths]\nledger = "ledger.db"\nblobs = "blobs"\noutbox = "outbox"\n', encoding="utf-8")


def test_a_ledger_of_an_older_release_is_upgraded_in_place_and_works(tmp_path):
    old = old_release(tmp_path / "old")
    made = cli(old, "replay", "examples/mailbox", code=old)  # its defaults: ./var/
    assert made.returncode == 0, made.stderr
    upgraded, fresh = tmp_path / "upgraded", tmp_path / "fresh"
    write_config(upgraded)
    shutil.copy(old / "var" / "ledger.db", upgraded / "ledger.db")
    shutil.copytree(old / "var" / "blobs", upgraded / "blobs")

    status = cli(upgraded, "status")  # opening it applies the migrations
    assert status.returncode == 0, status.stderr
    again = cli(upgraded, "replay", str(old / "examples" / "mailbox"))
    assert again.returncode == 0 and "新規 0" in again.stdout, again.stdout + again.stderr
    redone = cli(upgraded, "reprocess", "--all")
    assert redone.returncode == 0, redone.stdout + redone.stderr
    search = cli(upgraded, "ledger", "search", "コンソーシアム")
    assert search.returncode == 0 and "【コンソーシアム】" in search.stdout, search.stderr
    (upgraded / "pw").write_text("correct horse battery staple\n", encoding="utf-8")
    staff = cli(upgraded, "staff", "add", "yamada", "--password-file", "pw")
    assert staff.returncode == 0, staff.stderr

    # The same mails read by this release alone are judged the same way.
    write_config(fresh)
    assert cli(fresh, "replay", str(old / "examples" / "mailbox")).returncode == 0
    assert findings(upgraded) == findings(fresh)
