"""`serve`: Datasette on a replayed ledger, read-only, looked at by Debian's headless Chromium."""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from ingest import serve
from tests.browser import CHROMIUM_FLAGS, PASSWORD, STAFF, browser, fetch, free_port, signed_in_opener
from tests.conftest import REPO
from tests.test_staff_queries import open_ledger, replayed

__all__ = ["CHROMIUM_FLAGS", "free_port", "replayed"]  # the module-scoped fixture, shared with test_staff_queries



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


@contextmanager
def serving(config: Path, port: int) -> Iterator[str]:
    """`renkei-intake serve` in its own process on `port`; yields its base URL once it answers.
    The ledger gets the test staff account (browser.STAFF) from the real `staff add` first."""
    added = subprocess.run(
        [sys.executable, "-m", "ingest.cli", "--config", str(config), "staff", "add", STAFF],
        cwd=REPO, input=PASSWORD + "\n", capture_output=True, text=True, timeout=120, check=False)
    assert added.returncode == 0 or "既にあります" in added.stderr, added.stderr
    proc = subprocess.Popen(
        [sys.executable, "-m", "ingest.cli", "--config", str(config), "serve", "--port", str(port)],
        cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120  # only a broken serve takes this long, however busy
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


@contextmanager
def signed_in(chromium: str, base: str, profile: Path) -> Iterator[Any]:
    """A headless Chromium signed in to the console as the test staff account."""
    with browser(chromium, profile) as page:
        page.open(f"{base}/login")
        page.fill("input[name=username]", STAFF)
        page.fill("input[name=password]", PASSWORD)
        page.click("form[action='/login'] button[type=submit]")
        yield page


def get_json(url: str) -> object:
    base = url.split("/", 3)
    _, opener = signed_in_opener("/".join(base[:3]))
    return json.loads(fetch(opener, url).body)


def test_overview_page_shows_the_submissions_in_chromium(chromium, server, replayed, tmp_path):
    ledger = open_ledger(replayed)
    names = [r[0] for r in ledger.db.execute(
        "SELECT consortium FROM submissions WHERE consortium IS NOT NULL")]
    assert len(names) == 3
    before = ledger.db.execute("SELECT count(*) FROM events WHERE entity != 'staff'").fetchone()
    with signed_in(chromium, server, tmp_path / "chromium") as page:
        page.open(f"{server}/ledger/submissions_overview")
        dom = page.html()
        assert "申請一覧" in dom  # the Japanese title from our metadata
        for name in names:
            assert name in dom
        assert "yamada@test-seisaku.example.jp" in dom
        # The database page lists the views under their Japanese titles and the canned queries.
        page.open(f"{server}/ledger")
        dom = page.html()
    for title in ("この書類が不足している申請", "返信期限超過", "日別件数",
                  "missing_documents", "daily_counts"):
        assert title in dom
    # Browsing the explorer wrote nothing (signing in records only the sign-in).
    assert ledger.db.execute("SELECT count(*) FROM events WHERE entity != 'staff'").fetchone() == before


def test_two_character_words_are_found_by_the_one_search(chromium, server, tmp_path):
    query = urllib.parse.urlencode({"q": "山田"})
    with signed_in(chromium, server, tmp_path / "chromium") as page:
        page.open(f"{server}/?{query}")
        dom = page.html()
    assert "yamada@test-seisaku.example.jp" in dom
    assert "sato@minato.example.jp" not in dom


def test_the_explorer_has_no_search_of_its_own(server):
    """Mails are searched only by `ledger search` and the console's box: one behaviour."""
    meta = serve.metadata("ledger")["databases"]["ledger"]
    assert "search" not in meta["queries"]
    assert "fts_table" not in meta["tables"]["messages"]
    assert "申請一覧(/)の検索欄" in meta["tables"]["messages"]["description"]


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
        params = {"status": "deficient", "document": "pledge"}
        for name, query in meta["queries"].items():
            rows = conn.execute(query["sql"], params).fetchall()
            assert isinstance(rows, list), name
    finally:
        conn.close()


def test_serve_listens_on_loopback_by_default():
    import argparse

    parser = argparse.ArgumentParser()
    serve.add_parser(parser.add_subparsers())
    args = parser.parse_args(["serve"])
    assert (args.host, args.port, args.handler) == ("127.0.0.1", 8001, serve.cmd_serve)
