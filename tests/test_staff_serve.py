"""`serve`: Datasette on a replayed ledger, read-only, looked at by Debian's headless Chromium."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import socket
import sqlite3
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from ingest import serve
from tests.conftest import REPO
from tests.test_staff_queries import open_ledger, replayed

__all__ = ["replayed"]  # the module-scoped fixture, shared with test_staff_queries

CHROMIUM_FLAGS = ("--headless", "--no-sandbox", "--disable-gpu",
                  "--disable-background-networking", "--disable-component-update",
                  "--disable-sync", "--no-first-run")


@pytest.fixture(scope="session")
def chromium() -> str:
    """Debian's chromium; installed with apt-get when missing, skipped only if that fails."""
    found = shutil.which("chromium")
    if found:
        return found
    notes: list[str] = []
    if shutil.which("apt-get") and os.geteuid() == 0:
        env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
        for command in (["apt-get", "install", "-y", "-qq", "chromium"],
                        ["apt-get", "update", "-qq"],
                        ["apt-get", "install", "-y", "-qq", "chromium"]):
            done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=900,
                                  check=False)
            notes.append(f"{' '.join(command)}: exit {done.returncode} {done.stderr[-300:]}")
            if shutil.which("chromium"):
                return shutil.which("chromium") or "chromium"
    else:
        notes.append("apt-get is missing or this is not root")
    pytest.skip("Debian's chromium is not installed and could not be installed "
                f"(apt-get install -y chromium): {' | '.join(notes)}")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def digest(path: Path) -> str | None:
    return hashlib.sha256(path.read_bytes()).hexdigest() if path.exists() else None


@contextmanager
def serving(config: Path, port: int) -> Iterator[str]:
    """`renkei-intake serve` in its own process on `port`; yields its base URL once it answers."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "ingest.cli", "--config", str(config), "serve", "--port", str(port)],
        cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                with urllib.request.urlopen(f"{base}/-/versions.json", timeout=2):
                    break
            except OSError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    proc.kill()
                    err = proc.communicate()[1]
                    pytest.fail(f"serve did not start (exit {proc.returncode}): {err[-2000:]}")
                time.sleep(0.2)
        yield base
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


@pytest.fixture(scope="module")
def server(replayed: Path) -> Iterator[str]:
    with serving(replayed, free_port()) as base:
        yield base


def dump_dom(chromium: str, url: str, tmp: Path) -> str:
    done = subprocess.run(
        [chromium, *CHROMIUM_FLAGS, f"--user-data-dir={tmp}", "--dump-dom", url],
        capture_output=True, timeout=90, check=False)
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout.decode("utf-8")


def get_json(url: str) -> object:
    with urllib.request.urlopen(url, timeout=10) as answer:
        return json.loads(answer.read())


def test_overview_page_shows_the_submissions_in_chromium(chromium, server, replayed, tmp_path):
    ledger = open_ledger(replayed)
    names = [r[0] for r in ledger.db.execute(
        "SELECT consortium FROM submissions WHERE consortium IS NOT NULL")]
    assert len(names) == 3
    before = digest(replayed.parent / "ledger.db")
    dom = dump_dom(chromium, f"{server}/ledger/submissions_overview", tmp_path / "chromium")
    assert "申請一覧" in dom  # the Japanese title from our metadata
    for name in names:
        assert name in dom
    assert "yamada@test-seisaku.example.jp" in dom
    # The database page lists the views under their Japanese titles and the canned queries.
    dom = dump_dom(chromium, f"{server}/ledger", tmp_path / "chromium")
    for title in ("この書類が不足している申請", "返信期限超過", "日別件数", "全文検索",
                  "missing_documents", "daily_counts"):
        assert title in dom
    assert digest(replayed.parent / "ledger.db") == before  # browsing wrote nothing


def test_canned_search_finds_two_character_words(chromium, server, tmp_path):
    query = urllib.parse.urlencode({"q": "山田"})
    dom = dump_dom(chromium, f"{server}/ledger/search?{query}", tmp_path / "chromium")
    assert "yamada@test-seisaku.example.jp" in dom
    assert "sato@minato.example.jp" not in dom


def test_table_search_box_uses_the_trigram_index(server):
    query = urllib.parse.urlencode({"_search": "誓約書", "_shape": "array"})
    rows = get_json(f"{server}/ledger/messages.json?{query}")
    assert [r["message_id_header"] for r in rows] == ["<yamada-1@test-seisaku.example.jp>"]


def test_the_served_database_cannot_be_written(replayed):
    datasette = serve.make_datasette(replayed.parent / "ledger.db")
    database = datasette.get_database("ledger")
    conn = database.connect()
    try:
        assert conn.execute("SELECT count(*) FROM submissions_overview").fetchone()[0] == 4
        with pytest.raises(sqlite3.OperationalError, match="readonly"):
            conn.execute("DELETE FROM messages")
    finally:
        conn.close()


def test_every_canned_query_and_titled_view_runs_on_a_real_ledger(replayed):
    meta = serve.metadata("ledger")["databases"]["ledger"]
    conn = sqlite3.connect(f"file:{replayed.parent / 'ledger.db'}?mode=ro", uri=True)
    try:
        names = {r[0] for r in conn.execute("SELECT name FROM sqlite_master")}
        assert set(meta["tables"]) <= names
        for view in ("submissions_overview", "missing_documents", "overdue_replies",
                     "daily_counts"):
            assert meta["tables"][view]["title"] and meta["tables"][view]["description"]
        params = {"status": "deficient", "document": "pledge", "q": "誓約書"}
        for name, query in meta["queries"].items():
            rows = conn.execute(query["sql"], params).fetchall()
            assert isinstance(rows, list), name
        search = meta["queries"]["search"]["sql"]
        assert len(conn.execute(search, {"q": "誓約書"}).fetchall()) == 1
        assert conn.execute(search, {"q": "ぬ"}).fetchall() == []  # one character: nothing
    finally:
        conn.close()


def test_serve_listens_on_loopback_by_default():
    import argparse

    parser = argparse.ArgumentParser()
    serve.add_parser(parser.add_subparsers())
    args = parser.parse_args(["serve"])
    assert (args.host, args.port, args.handler) == ("127.0.0.1", 8001, serve.cmd_serve)
