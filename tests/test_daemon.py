"""The daemon left running against Dovecot while mails arrive, the server restarts and the
folder's UIDVALIDITY changes: every mail lands in the ledger exactly once."""

from __future__ import annotations

import json
import os
import re
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

from ingest.cli import main
from rules.calendar import JST
from tests.conftest import REPO
from tests.mails import BODY_OK, CORE, LEAD, complete_mail, documents, mail
from tests.test_walking_skeleton import write_config

# s: only a hung daemon takes this long, however busy the machine; still far below the poll
# interval of 3600 s, so a mail that comes in sooner came in through IDLE.
SLOW = 600


def wait_for_messages(ledger: Path, n: int, timeout: float = SLOW) -> int:
    deadline = time.monotonic() + timeout
    count = -1
    while time.monotonic() < deadline:
        if ledger.exists():
            with sqlite3.connect(ledger) as db:
                try:
                    count = db.execute("SELECT count(*) FROM messages").fetchone()[0]
                except sqlite3.OperationalError:
                    count = -1
            if count >= n:
                return count
        time.sleep(0.2)
    return count


def wait_until(condition: Callable[[], bool], timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.1)
    return True


def start_daemon(config: Path, log: Path) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "ingest.cli", "--config", str(config), "run"],
        cwd=config.parent, stdout=subprocess.DEVNULL, stderr=log.open("wb"),
        env={**os.environ, "PYTHONPATH": str(REPO)},
    )


def test_daemon_survives_restarts_and_uidvalidity_change(dovecot, tmp_path, capsys):
    config = write_config(tmp_path, imap=dovecot)
    # A long poll interval: only IDLE can bring the mails in quickly.
    config.write_text(config.read_text() + "[daemon]\npoll_interval_seconds = 3600\n")
    ledger = tmp_path / "ledger.db"
    log = tmp_path / "daemon.log"
    daemon = start_daemon(config, log)
    try:
        dovecot.deliver(complete_mail("<d1@example.jp>"))
        assert wait_for_messages(ledger, 1) == 1, log.read_text()
        # The watcher is back in IDLE: only IDLE can bring the next mail in within the poll interval.
        assert wait_until(lambda: dovecot.idle_sessions() >= 1, timeout=SLOW), log.read_text()
        dovecot.deliver(complete_mail("<d2@example.jp>"))
        assert wait_for_messages(ledger, 2) == 2, log.read_text()

        dovecot.restart()  # the IDLE connection drops; the daemon reconnects with backoff
        dovecot.deliver(complete_mail("<d3@example.jp>"))
        assert wait_for_messages(ledger, 3) == 3, log.read_text()

        before = dovecot.uidvalidity()
        dovecot.recreate_folder()  # same mails, new UIDVALIDITY: nothing may be duplicated
        assert dovecot.uidvalidity() != before
        dovecot.deliver(complete_mail("<d4@example.jp>"))
        assert wait_for_messages(ledger, 4) == 4, log.read_text()
        # The cycle still files and answers what the watcher recorded, and its retry after the
        # restart replaces the connection error: wait for a clean status, however busy. (No
        # copy may come in meanwhile: the ledger is checked after the daemon has stopped.)
        deadline = time.monotonic() + SLOW
        while main(["--config", str(config), "status"]) != 0 and time.monotonic() < deadline:
            time.sleep(0.5)
    finally:
        daemon.send_signal(signal.SIGTERM)
        code = daemon.wait(timeout=SLOW)
    assert code == 0, log.read_text()
    lines = [json.loads(line) for line in log.read_text().splitlines()]
    assert {"started", "stopped"} <= {line.get("event") for line in lines}
    with sqlite3.connect(ledger) as db:
        ids = [r[0] for r in db.execute("SELECT message_id_header FROM messages")]
        links = db.execute("SELECT count(DISTINCT uidvalidity) FROM imap_seen").fetchone()[0]
    assert sorted(ids) == [f"<d{n}@example.jp>" for n in range(1, 5)]
    assert links == 2  # the known mails were linked to their new UIDs, not fetched again
    capsys.readouterr()
    assert main(["--config", str(config), "status"]) == 0
    assert "最終取得" in capsys.readouterr().out


def test_each_pass_is_logged_in_the_words_of_the_replay_summary(dovecot, tmp_path):
    config = write_config(tmp_path, imap=dovecot)
    log = tmp_path / "daemon.log"
    # Received in the application period and long settled: answered in the pass that reads it.
    dovecot.deliver(complete_mail("<words-1@example.jp>"),
                    internaldate=datetime(2022, 8, 10, 10, 0, tzinfo=JST))
    daemon = start_daemon(config, log)
    try:
        deadline = time.monotonic() + SLOW
        while time.monotonic() < deadline and '"poll"' not in log.read_text():
            time.sleep(0.2)
    finally:
        daemon.send_signal(signal.SIGTERM)
        assert daemon.wait(timeout=SLOW) == 0, log.read_text()
    polls = [line["message"] for line in map(json.loads, log.read_text().splitlines())
             if line.get("event") == "poll"]
    # The IDLE watcher may record the mail before or while the cycle reads the folder: "新規"
    # is 1 in whichever pass recorded it, and a cycle that listed the mail just before the
    # watcher recorded it counts it as known; the pass that answered it says so in the
    # summary's words.
    assert any(re.fullmatch(r"poll: \d+ 通を読み込み: 新規 [01], 既知 [01], 隔離 0; 申請 1 件; "
                            r"返信 受付確認 1 通", line) for line in polls), polls


def test_status_warns_when_fetching_has_stopped(dovecot, tmp_path, capsys):
    config = write_config(tmp_path, imap=dovecot)
    # status only reads: before any run there is no ledger to report on, and it makes none
    assert main(["--config", str(config), "status"]) == 2
    assert "台帳がありません" in capsys.readouterr().err
    assert not (tmp_path / "ledger.db").exists()
    (tmp_path / "empty").mkdir()
    assert main(["--config", str(config), "replay", str(tmp_path / "empty")]) == 0
    capsys.readouterr()
    assert main(["--config", str(config), "status"]) == 1
    assert "一度も取得に成功していません" in capsys.readouterr().out
    assert main(["--config", str(config), "poll", "--once"]) == 0
    capsys.readouterr()
    assert main(["--config", str(config), "status"]) == 0
    with sqlite3.connect(tmp_path / "ledger.db") as db:
        db.execute("UPDATE heartbeat SET at = '2022-01-01T00:00:00+00:00'")
    assert main(["--config", str(config), "status"]) == 1
    assert "経過しています" in capsys.readouterr().out


def test_second_process_on_the_same_ledger_is_refused(dovecot, tmp_path, capsys):
    config = write_config(tmp_path, imap=dovecot)
    log = tmp_path / "daemon.log"
    daemon = start_daemon(config, log)
    try:
        assert wait_for_lock(tmp_path / "ledger.db.lock")
        assert main(["--config", str(config), "poll", "--once"]) == 2
        assert "使用中" in capsys.readouterr().err
    finally:
        daemon.send_signal(signal.SIGTERM)
        assert daemon.wait(timeout=SLOW) == 0


def wait_for_lock(path: Path, timeout: float = SLOW) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if path.exists() and path.read_text().strip():
            return True
        time.sleep(0.1)
    return False


def test_nightly_backup_keeps_the_configured_number_of_verified_copies(tmp_path):
    import threading
    from datetime import UTC, datetime, timedelta

    from ingest import app
    from ingest.config import load_settings
    from ingest.daemon import Daemon

    config = write_config(tmp_path)
    config.write_text(config.read_text() + '[daemon]\nbackup_dir = "backups"\nbackup_keep = 2\n')
    settings = load_settings(config)
    ledger = app.open_ledger(settings)
    daemon = Daemon(settings, ledger, threading.Event())
    backups = tmp_path / "backups"
    backups.mkdir()
    for days in (3, 2, 1):  # older copies made by earlier nights
        stamp = (datetime.now(UTC) - timedelta(days=days)).strftime("%Y%m%d-%H%M%S")
        (backups / f"ledger-{stamp}.db").write_bytes(b"old")
    daemon.nightly_backup()
    kept = sorted(backups.iterdir())
    assert len(kept) == 2
    with sqlite3.connect(kept[-1]) as copy:
        assert copy.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        assert copy.execute("SELECT count(*) FROM messages").fetchone()[0] == 0


def test_status_warns_while_replies_cannot_be_sent(smtp_server, tmp_path, capsys):
    import threading

    from ingest import app
    from ingest.config import load_settings
    from ingest.daemon import Daemon
    from tests.mails import complete_mail as good_mail

    folder = tmp_path / "mails"
    folder.mkdir()
    (folder / "a.eml").write_bytes(good_mail("<send-warn@x>"))
    config = write_config(tmp_path, smtp=smtp_server)
    assert main(["--config", str(config), "replay", str(folder)]) == 0  # queues, never sends
    settings = load_settings(config)
    daemon = Daemon(settings, app.open_ledger(settings), threading.Event())
    smtp_server.fail_next(451, "4.3.0 try again later")
    daemon._send()
    capsys.readouterr()
    assert main(["--config", str(config), "status"]) == 1
    out = capsys.readouterr().out
    assert "返信の送信エラー" in out and "451" in out
    daemon.ledger.db.execute("UPDATE replies SET next_attempt_at = NULL")  # retry now
    daemon._send()
    assert len(smtp_server.wait_for(1)) == 1
    assert main(["--config", str(config), "status"]) == 0


def test_mail_is_recorded_while_the_cycle_is_busy_sending(dovecot, tmp_path):
    """A deadline rush: the cycle is stuck in an SMTP DATA the server does not answer, and a
    new mail still gets its ledger row at once (the IDLE watcher records it); it is filed and
    answered once the cycle is free again."""
    from tests.crash_helpers import HoldingSmtp, write_crash_config

    smtp = HoldingSmtp()
    smtp.start()
    # A long SMTP timeout: the cycle keeps waiting for the held answer all through the test.
    config = write_crash_config(tmp_path, imap=dovecot, smtp=smtp, timeout=600,
                                extra="[daemon]\npoll_interval_seconds = 3600\n")
    ledger = tmp_path / "ledger.db"
    log = tmp_path / "daemon.log"
    smtp.hold()
    daemon = start_daemon(config, log)
    try:
        dovecot.deliver(complete_mail("<busy1@example.jp>"))
        assert smtp.entered.wait(SLOW), log.read_text()  # the cycle now waits for the 250
        # Another consortium's submission (the same files again would be the same version).
        dovecot.deliver(mail(f"<繁忙二件目コンソーシアム>{CORE}", BODY_OK, LEAD, "<busy2@example.jp>",
                             attachments=documents("繁忙二件目コンソーシアム")))
        assert wait_for_messages(ledger, 2) == 2, log.read_text()
        assert smtp.entered.is_set() and len(smtp.messages) == 1  # still held: recorded beside it
        smtp.release()
        assert len(smtp.wait_for(2, timeout=SLOW)) == 2, log.read_text()  # answered afterwards
    finally:
        smtp.release()
        daemon.send_signal(signal.SIGTERM)
        code = daemon.wait(timeout=SLOW)
        smtp.stop()
    assert code == 0, log.read_text()
    with sqlite3.connect(ledger) as db:
        ids = sorted(r[0] for r in db.execute("SELECT message_id_header FROM messages"))
    assert ids == ["<busy1@example.jp>", "<busy2@example.jp>"]
