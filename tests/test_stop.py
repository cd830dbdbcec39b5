"""States that tell the truth after a stop: SIGTERM ends a one-off run with one sentence and
exit status 3, the next run says what it finished for the stopped one, `status` warns about
work left behind (open submissions whose wait is over, mails never filed, bounced replies),
`run` without a mailbox is refused, and replay shows progress while it judges."""

from __future__ import annotations

import os
import pty
import select
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

from ingest import app
from ingest.cli import main
from ingest.config import load_settings
from ingest.sources import open_source
from tests.conftest import REPO
from tests.crash_helpers import (
    ledger_write_lock,
    mixed_mailbox,
    start_cli,
    write_crash_config,
)
from tests.test_crash import EVALUATED, _count, unfinished, write_maildir

SLOW = 600  # s: only a hung program takes this long, however busy the machine


def small_maildir(tmp_path: Path, tag: str) -> Path:
    mails = mixed_mailbox(tag, complete=8, same_consortium=0, deficient=12, bounces=2,
                          splits=2, encrypted=1)
    return write_maildir(tmp_path / "maildir", mails)


def wait_until(condition, proc: subprocess.Popen[bytes]) -> None:  # noqa: ANN001
    deadline = time.monotonic() + SLOW
    while not condition():
        assert proc.poll() is None, proc.communicate()[1].decode(errors="replace")
        assert time.monotonic() < deadline, "the moment never came"
        time.sleep(0.01)


def test_sigterm_while_judging_stops_with_a_sentence_and_the_next_run_finishes(tmp_path, capsys):
    maildir = small_maildir(tmp_path, "sigterm")
    ledger = tmp_path / "ledger.db"
    config = write_crash_config(tmp_path)
    proc = start_cli(config, "replay", str(maildir))
    wait_until(lambda: _count(ledger, EVALUATED) >= 1, proc)
    # Held while the signal arrives: the run cannot finish the rest before it sees it.
    with ledger_write_lock(ledger):
        proc.send_signal(signal.SIGTERM)
        time.sleep(0.2)
    out, err = proc.communicate(timeout=SLOW)
    stderr = err.decode()
    assert proc.returncode == app.STOPPED_EXIT == 3, stderr
    assert "Traceback" not in stderr
    assert stderr.strip().splitlines()[-1].startswith("renkei-intake: 停止の指示(SIGTERM)を受けて")
    left = unfinished(ledger)
    assert left.get("open"), left  # stopped in the middle of judging

    # What the stopped process left is read and finished by the CLI's `main` in this process.
    capsys.readouterr()
    assert main(["--config", str(config), "status"]) == 1
    status = capsys.readouterr().out
    assert "「受付処理中」のままの申請" in status, status

    assert main(["--config", str(config), "replay", str(maildir)]) == 0, capsys.readouterr().err
    again = capsys.readouterr().out
    assert not unfinished(ledger)
    finished = int(again.split("引き継いで判定を終えた申請 ")[1].split(" 件")[0])
    assert finished >= left["open"], again
    assert "申請 0 件" in again  # nothing new: every mail was filed before the stop
    assert main(["--config", str(config), "status"]) == 0


def test_status_warns_about_mails_never_filed_and_bounced_replies(tmp_path, capsys):
    config = write_crash_config(tmp_path)
    settings = load_settings(config)
    first = next(open_source(str(REPO / "examples" / "mailbox")).mails())
    ledger = app.open_ledger(settings)
    ledger.record_mail(first.raw, first.arrival)  # what a run stopped after recording leaves
    ledger.close()
    assert main(["--config", str(config), "status"]) == 1
    assert "「受信済・未処理」のメールが 1 通" in capsys.readouterr().out

    # The sample mailbox holds a bounce of one of our deficiency notices.
    assert main(["--config", str(config), "replay", str(REPO / "examples" / "mailbox")]) == 0
    capsys.readouterr()
    assert main(["--config", str(config), "status"]) == 1
    out = capsys.readouterr().out
    assert "「不達」の返信が 1 通" in out and "受信済・未処理」のメール" not in out, out
    with sqlite3.connect(tmp_path / "ledger.db") as db:
        db.execute("UPDATE replies SET status = 'sent' WHERE status = 'bounced'")
    assert main(["--config", str(config), "status"]) == 0


def test_status_does_not_count_what_a_running_pass_is_working_on(tmp_path, capsys):
    config = write_crash_config(tmp_path)
    settings = load_settings(config)
    first = next(open_source(str(REPO / "examples" / "mailbox")).mails())
    ledger = app.open_ledger(settings)
    ledger.record_mail(first.raw, first.arrival)
    with app.exclusive(settings.ledger_path):  # a run holds the ledger: just recorded, not late
        assert main(["--config", str(config), "status"]) == 0
    ledger.close()
    capsys.readouterr()


def test_run_without_imap_is_refused_like_poll(tmp_path, capsys):
    config = write_crash_config(tmp_path)
    for verb in (["poll", "--once"], ["run"]):
        assert main(["--config", str(config), *verb]) == 2
        err = capsys.readouterr().err.strip()
        assert "[imap] が設定されてい" in err and len(err.splitlines()) == 1, err


def test_replay_shows_progress_while_it_files_and_judges(tmp_path):
    maildir = small_maildir(tmp_path, "progress")
    config = write_crash_config(tmp_path)
    controller, terminal = pty.openpty()  # progress is shown on a terminal only
    proc = subprocess.Popen(
        [sys.executable, "-m", "ingest.cli", "--config", str(config), "replay", str(maildir)],
        cwd=tmp_path, stdout=subprocess.PIPE, stderr=terminal,
        env={**os.environ, "PYTHONPATH": str(REPO)})
    os.close(terminal)
    shown = b""
    while True:
        ready, _, _ = select.select([controller], [], [], 1)
        if ready:
            try:
                chunk = os.read(controller, 65536)
            except OSError:  # the terminal closed with the process
                break
            if not chunk:
                break
            shown += chunk
        elif proc.poll() is not None:
            break
    proc.communicate(timeout=SLOW)
    os.close(controller)
    text = shown.decode(errors="replace")
    assert proc.returncode == 0, text
    assert "28/28 通 記録済み" in text and "28/28 通 解析済み" in text, text
    judged = [line for line in text.split("\r") if "件 判定済み" in line]
    assert judged and judged[-1].split("/")[0].strip() == judged[-1].split("/")[1].split()[0]
