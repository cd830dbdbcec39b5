"""`quarantine list | show | release` on a real ledger.

Mails are quarantined the way the program does it: the pipeline's own path for a mail the
source took only the headers of (RawMail.quarantine), and Ledger.set_message_state with the
reason the parser stage writes when a mail cannot be parsed.
"""

from __future__ import annotations

import base64
import io
import shutil
from contextlib import redirect_stderr, redirect_stdout
from datetime import UTC, datetime
from pathlib import Path

import pytest

from ingest import app, cli
from ingest.config import load_settings
from ingest.sources import RawMail
from state.ledger import Arrival
from tests.test_staff_queries import CORE, MAILS, body, mail, open_ledger, run_cli, run_cli_bytes
from tests.test_staff_queries import write_config as staff_config

# A subject in ISO-2022-JP, as many Japanese mail programs still send it.
JIS_SUBJECT = (b"=?ISO-2022-JP?B?" + base64.b64encode("大容量の申請書類".encode("iso-2022-jp"))
               + b"?=")
BROKEN = mail(f"<あおば連携コンソーシアム>{CORE}",
              body("あおば商事株式会社", "高橋健太", "takahashi@aoba.example.jp"),
              "高橋健太 <takahashi@aoba.example.jp>", "<aoba-1@aoba.example.jp>",
              datetime(2022, 8, 15, 11, 0), ("申請書類.pdf",))


@pytest.fixture
def config(tmp_path: Path) -> Path:
    folder = tmp_path / "mails"
    folder.mkdir()
    for name, raw in list(MAILS.items())[:2]:
        (folder / name).write_bytes(raw)
    path = staff_config(tmp_path)
    with redirect_stdout(io.StringIO()), redirect_stderr(io.StringIO()):
        assert cli.main(["--config", str(path), "replay", str(folder)]) == 0
    return path


def quarantine_unparsable(config: Path, raw: bytes = BROKEN) -> int:
    """Record a mail and quarantine it with the reason the parse stage writes."""
    ledger = open_ledger(config)
    recorded = ledger.record_mail(raw, Arrival(
        "eml", "broken.eml", datetime(2022, 8, 15, 2, 0, tzinfo=UTC), "received",
        "<aoba-1@aoba.example.jp>"))
    ledger.set_message_state(recorded.message, "quarantined",
                             problem="解析できません: UnicodeDecodeError: テスト")
    return recorded.message


def quarantine_headers_only(config: Path) -> int:
    """The IMAP source's over-size mail, through the pipeline's own quarantine path."""
    settings = load_settings(config)
    ledger = app.open_ledger(settings)
    pipeline = app.make_pipeline(settings, ledger)
    headers = (b"From: big@example.jp\r\nSubject: " + JIS_SUBJECT +
               b"\r\nMessage-ID: <big@example.jp>\r\n\r\n")
    pipeline.take(RawMail(headers, Arrival(
        "imap", "imap://x/INBOX;UID=9", datetime(2022, 8, 16, 1, 0, tzinfo=UTC), "internaldate",
        "<big@example.jp>"), quarantine="サイズ上限超過: 30.0 MB(上限 25.0 MB)。"
                                          "ヘッダーのみ記録し、本文はサーバーに残しています"))
    return ledger.db.execute("SELECT id FROM messages WHERE message_id_header = ?",
                             ["<big@example.jp>"]).fetchone()[0]


def test_list_shows_each_quarantined_mail_with_its_reason_and_decoded_subject(config):
    code, out, _ = run_cli(["--config", str(config), "quarantine", "list"])
    assert code == 0 and "隔離中のメールはありません" in out
    broken = quarantine_unparsable(config)
    big = quarantine_headers_only(config)
    code, out, _ = run_cli(["--config", str(config), "quarantine", "list"])
    assert code == 0
    lines = out.splitlines()
    row = {int(line.split()[0]): line for line in lines[1:-1]}
    assert set(row) == {broken, big}
    assert "解析できません" in row[broken]
    assert "takahashi@aoba.example.jp" in row[broken]
    assert "あおば連携コンソーシアム" in row[broken]  # read from the raw headers
    assert "大容量の申請書類" in row[big]  # ISO-2022-JP decoded
    assert "サイズ上限超過" in row[big]
    assert lines[-1] == "2 通"


def test_show_gives_details_history_and_the_raw_mail(config):
    broken = quarantine_unparsable(config)
    code, out, _ = run_cli(["--config", str(config), "quarantine", "show", str(broken)])
    assert code == 0
    assert f"メール {broken}: 状態 隔離" in out
    assert "理由: 解析できません: UnicodeDecodeError: テスト" in out
    assert "受信(JST): 2022-08-15 11:00:00" in out
    assert "隔離" in out.split("■ 履歴")[1]
    code, raw, _ = run_cli_bytes(["--config", str(config), "quarantine", "show", str(broken),
                                  "--raw"])
    assert code == 0 and raw == BROKEN  # byte for byte, to open in a mail program
    code, _, err = run_cli(["--config", str(config), "quarantine", "show", "4242"])
    assert code == 2 and "4242" in err


def test_release_runs_the_mail_through_again(config):
    broken = quarantine_unparsable(config)
    code, out, err = run_cli(["--config", str(config), "quarantine", "release", str(broken)])
    assert code == 0, err
    ledger = open_ledger(config)
    row = ledger.db["messages"].get(broken)
    assert row["state"] != "quarantined" and row["state"] != "received"
    assert row["problem"] is None or "解析できません" not in row["problem"]
    assert row["submission_id"] is not None
    assert f"メール {broken} を再処理しました" in out
    consortium = ledger.db["submissions"].get(row["submission_id"])["consortium"]
    assert consortium == "あおば連携コンソーシアム"
    events = [(r["event"], r["detail"]) for r in ledger.db.query(
        "SELECT event, detail FROM events WHERE entity = 'message' AND entity_id = ? "
        "ORDER BY id", [broken])]
    released = [d for e, d in events if e == "released"]
    assert len(released) == 1 and "解析できません" in released[0]
    assert [e for e, _ in events].index("released") < len(events) - 1  # processing followed
    # Once released it is no longer in quarantine: a second release is refused.
    code, _, err = run_cli(["--config", str(config), "quarantine", "release", str(broken)])
    assert code == 2 and "隔離されていません" in err


def test_release_refuses_a_headers_only_mail_unless_forced(config):
    big = quarantine_headers_only(config)
    code, _, err = run_cli(["--config", str(config), "quarantine", "release", str(big)])
    assert code == 2 and "ヘッダーのみ" in err
    assert open_ledger(config).db["messages"].get(big)["state"] == "quarantined"
    code, out, _ = run_cli(["--config", str(config), "quarantine", "release", str(big),
                            "--force"])
    assert code == 0 and "再処理しました" in out


def test_release_refuses_when_the_raw_mail_is_gone(config):
    broken = quarantine_unparsable(config)
    ledger = open_ledger(config)
    blob = ledger.blobs.path(ledger.db["messages"].get(broken)["sha256"])
    shutil.move(blob, blob.with_suffix(".moved"))
    code, _, err = run_cli(["--config", str(config), "quarantine", "release", str(broken)])
    assert code == 2 and "元データ" in err
    assert ledger.db["messages"].get(broken)["state"] == "quarantined"


def test_release_waits_for_a_running_daemon(config):
    broken = quarantine_unparsable(config)
    settings = load_settings(config)
    with app.exclusive(settings.ledger_path):  # what `run` or `poll` holds while working
        code, _, err = run_cli(["--config", str(config), "quarantine", "release", str(broken)])
    assert code == 2 and "使用中" in err
    assert open_ledger(config).db["messages"].get(broken)["state"] == "quarantined"


def test_discard_takes_a_mail_out_of_quarantine_for_good(config, tmp_path):
    """Spam or a mail staff handled by hand: discarded, it leaves the list and `status`, its
    history names who and why, its raw mail can still be taken out, and the same mail read
    again is known (not quarantined a second time)."""
    broken = quarantine_unparsable(config)
    code, out, err = run_cli(["--config", str(config), "quarantine", "discard", str(broken),
                              "--reason", "迷惑メール"])
    assert code == 0, err
    assert f"メール {broken} を破棄しました" in out
    code, out, _ = run_cli(["--config", str(config), "quarantine", "list"])
    assert code == 0 and "隔離中のメールはありません" in out
    code, out, _ = run_cli(["--config", str(config), "status"])
    assert "隔離" not in out and "破棄 1" in out
    code, out, _ = run_cli(["--config", str(config), "quarantine", "show", str(broken)])
    assert code == 0 and "破棄" in out and "迷惑メール" in out
    code, raw, _ = run_cli_bytes(["--config", str(config), "quarantine", "show", str(broken),
                                  "--raw"])
    assert code == 0 and raw == BROKEN
    again = tmp_path / "again"
    again.mkdir()
    (again / "broken.eml").write_bytes(BROKEN)
    code, out, err = run_cli(["--config", str(config), "replay", str(again)])
    assert code == 0 and "新規 0" in out, (out, err)
    assert open_ledger(config).db["messages"].get(broken)["state"] == "discarded"
    for verb in ("discard", "release"):  # no longer quarantined: one sentence, exit 2
        code, _, err = run_cli(["--config", str(config), "quarantine", verb, str(broken)])
        assert code == 2 and "隔離されていません" in err, err
    code, _, err = run_cli(["--config", str(config), "quarantine", "discard", "99999"])
    assert code == 2 and "99999" in err
