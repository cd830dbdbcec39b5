"""`staff add | list | disable` through the real CLI, and the hash kept in the ledger."""

from __future__ import annotations

import io
import json
import sqlite3
import subprocess
import sys
from contextlib import redirect_stdout
from pathlib import Path

from ingest.cli import main
from state import staff_accounts
from tests.conftest import REPO
from tests.test_staff_queries import open_ledger, write_config


def cli(config: Path, *argv: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "ingest.cli", "--config", str(config), *argv],
                          cwd=REPO, input=stdin, capture_output=True, text=True, timeout=120,
                          check=False)


def staff_list(config: Path, *argv: str) -> str:
    """`staff list` through the CLI's `main` in this process (the writing verbs run as processes)."""
    out = io.StringIO()
    with redirect_stdout(out):
        assert main(["--config", str(config), "staff", "list", *argv]) == 0
    return out.getvalue()


def test_staff_add_list_disable_through_the_cli(tmp_path):
    config = write_config(tmp_path)
    assert staff_list(config).startswith("職員アカウントはありません")
    done = cli(config, "staff", "add", "yamada", stdin="correct horse battery\n")
    assert done.returncode == 0, done.stderr
    pw = tmp_path / "pw.txt"
    pw.write_text("もう一つの長いパスワード\n", encoding="utf-8")
    assert cli(config, "staff", "add", "suzuki", "--password-file", str(pw)).returncode == 0
    again = cli(config, "staff", "add", "yamada", stdin="another long password\n")
    assert again.returncode == 2 and "既にあります" in again.stderr and "Traceback" not in again.stderr
    short = cli(config, "staff", "add", "tanaka", stdin="short\n")
    assert short.returncode == 2 and "10文字以上" in short.stderr

    listed = [json.loads(line) for line in staff_list(config, "--json").splitlines()]
    assert [(a["name"], a["enabled"]) for a in listed] == [("suzuki", True), ("yamada", True)]

    ledger = open_ledger(config)
    assert staff_accounts.authenticate(ledger, "yamada", "correct horse battery") is not None
    assert staff_accounts.authenticate(ledger, "suzuki", "もう一つの長いパスワード") is not None
    assert staff_accounts.authenticate(ledger, "yamada", "correct horse batterY") is None
    assert staff_accounts.authenticate(ledger, "nobody", "correct horse battery") is None

    assert cli(config, "staff", "disable", "yamada").returncode == 0
    assert staff_accounts.authenticate(ledger, "yamada", "correct horse battery") is None
    assert not staff_accounts.is_active(ledger, "yamada")
    text = staff_list(config)
    assert "yamada\t無効" in text and "suzuki\t有効" in text
    missing = cli(config, "staff", "disable", "nobody")
    assert missing.returncode == 2 and "ありません" in missing.stderr


def test_only_a_salted_scrypt_hash_is_stored(tmp_path, monkeypatch):
    config = write_config(tmp_path)
    for name in ("a1", "a2"):  # the CLI's `main` in this process, the password on stdin
        monkeypatch.setattr(sys, "stdin", io.StringIO("same password 123\n"))
        assert main(["--config", str(config), "staff", "add", name]) == 0
    conn = sqlite3.connect(tmp_path / "ledger.db")
    hashes = [r[0] for r in conn.execute("SELECT password_hash FROM staff_accounts")]
    assert len(set(hashes)) == 2  # a salt of its own each
    assert all(h.startswith("scrypt$32768$8$1$") and "same password" not in h for h in hashes)
    events = conn.execute("SELECT event FROM events WHERE entity = 'staff'").fetchall()
    assert events == [("staff_added",), ("staff_added",)]
