"""Blobs are verified against their sha256 name on every read.

A stored mail or reply altered or deleted behind the ledger's back is an error for that one
item (set aside for staff), never a verdict on the altered bytes and never a traceback.
The blobs are altered the way a person or a broken disk would: by writing the file in place.
"""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from ingest import app
from ingest.cli import main
from ingest.config import load_settings
from state.blobs import BlobDamaged, BlobStore
from state.ledger import Arrival, Ledger
from tests.mails import CORE, complete_mail, mail
from tests.test_walking_skeleton import write_config


def open_ledger(config: Path) -> Ledger:
    settings = load_settings(config)
    return Ledger(settings.ledger_path, BlobStore(settings.blobs_dir))


def replay(tmp_path: Path, mails: dict[str, bytes]) -> Path:
    folder = tmp_path / "mails"
    folder.mkdir(exist_ok=True)
    for name, raw in mails.items():
        (folder / name).write_bytes(raw)
    config = write_config(tmp_path)
    assert main(["--config", str(config), "replay", str(folder)]) == 0
    return config


def blob_of_message(ledger: Ledger, message_id_header: str) -> Path:
    row = ledger.db.execute("SELECT sha256 FROM messages WHERE message_id_header = ?",
                            [message_id_header]).fetchone()
    return ledger.blobs.path(row[0])


def test_the_store_refuses_altered_and_missing_blobs_and_repairs_on_put(tmp_path):
    store = BlobStore(tmp_path / "blobs")
    sha = store.put(b"original")
    assert store.get(sha) == b"original"
    store.path(sha).write_bytes(b"altered")
    with pytest.raises(BlobDamaged) as caught:
        store.get(sha)
    assert not caught.value.missing and "改変" in str(caught.value)
    assert store.put(b"original") == sha  # the true bytes replace the altered copy
    assert store.get(sha) == b"original"
    store.path(sha).unlink()
    with pytest.raises(BlobDamaged) as caught:
        store.get(sha)
    assert caught.value.missing
    assert hashlib.sha256(b"original").hexdigest() == sha


SECOND = mail(f"<第二コンソーシアム>{CORE}", "よろしくお願いします。\n", "b@second.example.jp",
              "<second@second.example.jp>", attachments={"a.pdf": b"%PDF-1.4"})


def test_an_altered_mail_blob_is_set_aside_on_reprocess_not_judged(tmp_path, capsys):
    good = complete_mail("<good@minato-seiki.example.jp>")
    config = replay(tmp_path, {"1.eml": good, "2.eml": SECOND})
    ledger = open_ledger(config)
    first = ledger.db.execute("SELECT submission_id FROM messages WHERE message_id_header = ?",
                              ["<good@minato-seiki.example.jp>"]).fetchone()[0]
    assert [r["kind"] for r in ledger.db["replies"].rows_where("submission_id = ?", [first])] \
        == ["receipt"]
    # The same mail without its attachment: on its own it would be judged deficient.
    blob = blob_of_message(ledger, "<good@minato-seiki.example.jp>")
    blob.write_bytes(good.split(b"Content-Disposition: attachment")[0])
    capsys.readouterr()
    assert main(["--config", str(config), "reprocess", "--all"]) == 1
    out = capsys.readouterr().out
    assert "2 件を再判定" in out and f"申請 {first} は再判定できず" in out and "改変" in out
    sub = ledger.db["submissions"].get(first)
    assert sub["state"] == "needs_review"
    kinds = [r["kind"] for r in ledger.db["replies"].rows_where("submission_id = ?", [first])]
    assert kinds == ["receipt"]  # no deficiency notice from the altered bytes
    events = [json.loads(r[0]) for r in ledger.db.execute(
        "SELECT detail FROM events WHERE entity='submission' AND entity_id=? "
        "AND event='evaluation_failed'", [first])]
    assert events and "BlobDamaged" in events[-1]["error"]


def test_reprocess_all_with_a_deleted_blob_goes_on_with_the_rest(tmp_path, capsys):
    gone = complete_mail("<gone@minato-seiki.example.jp>")
    config = replay(tmp_path, {"1.eml": gone, "2.eml": SECOND})
    ledger = open_ledger(config)
    blob_of_message(ledger, "<gone@minato-seiki.example.jp>").unlink()
    capsys.readouterr()
    assert main(["--config", str(config), "reprocess", "--all"]) == 1
    captured = capsys.readouterr()
    assert "Traceback" not in captured.err
    assert "2 件を再判定" in captured.out and "ありません" in captured.out
    # Restored from a backup, the submission is judged again as before.
    ledger.blobs.put(gone)
    assert main(["--config", str(config), "reprocess", "--all"]) == 0


def test_a_new_mail_whose_blob_vanished_before_parsing_is_quarantined(tmp_path):
    config = replay(tmp_path, {"2.eml": SECOND})
    settings = load_settings(config)
    ledger = app.open_ledger(settings)
    pipeline = app.make_pipeline(settings, ledger)
    raw = complete_mail("<late@minato-seiki.example.jp>")
    recorded = ledger.record_mail(raw, Arrival("eml", "late.eml", datetime(2022, 8, 10, tzinfo=UTC),
                                               "received", "<late@minato-seiki.example.jp>"))
    ledger.blobs.path(hashlib.sha256(raw).hexdigest()).write_bytes(SECOND)
    pipeline.advance()
    row = ledger.db["messages"].get(recorded.message)
    assert row["state"] == "quarantined" and "改変" in row["problem"]
    assert row["submission_id"] is None


def test_release_refuses_a_quarantined_mail_whose_blob_was_replaced(tmp_path, capsys):
    config = replay(tmp_path, {"2.eml": SECOND})
    ledger = open_ledger(config)
    raw = complete_mail("<held@minato-seiki.example.jp>")
    recorded = ledger.record_mail(raw, Arrival("eml", "held.eml", datetime(2022, 8, 10, tzinfo=UTC),
                                               "received", "<held@minato-seiki.example.jp>"))
    ledger.set_message_state(recorded.message, "quarantined", problem="解析できません: テスト")
    # Another mail's bytes under the quarantined mail's name.
    ledger.blobs.path(hashlib.sha256(raw).hexdigest()).write_bytes(
        complete_mail("<other@minato-seiki.example.jp>"))
    capsys.readouterr()
    code = main(["--config", str(config), "quarantine", "release", str(recorded.message)])
    err = capsys.readouterr().err
    assert code == 2 and "再処理できません" in err and "改変" in err
    row = ledger.db["messages"].get(recorded.message)
    assert row["state"] == "quarantined" and row["submission_id"] is None
    assert ledger.db["submissions"].count == 1  # nothing was filed from the replaced bytes


def _awaiting_deficiency(tmp_path: Path) -> tuple[Path, Ledger, dict]:
    config = replay(tmp_path, {"2.eml": SECOND})
    text = config.read_text(encoding="utf-8").replace("approve_deficiencies = false",
                                                      "approve_deficiencies = true")
    config.write_text(text, encoding="utf-8")
    ledger = open_ledger(config)
    # The replay above ran with approval off; make the row wait for staff like a fresh one.
    row = next(ledger.db["replies"].rows)
    ledger.db["replies"].update(row["id"], {"status": "awaiting_approval"})
    for path in (tmp_path / "outbox").glob("*.eml"):
        path.unlink()
    return config, ledger, row


def test_a_reply_blob_edited_to_add_bcc_is_held_not_written(tmp_path, capsys):
    config, ledger, row = _awaiting_deficiency(tmp_path)
    blob = ledger.blobs.path(row["raw_sha256"])
    blob.write_bytes(b"Bcc: thief@example.net\r\n" + blob.read_bytes())
    assert main(["--config", str(config), "outbox", "approve", str(row["id"])]) == 0
    assert main(["--config", str(config), "outbox", "send-due"]) == 0
    assert list((tmp_path / "outbox").glob("*.eml")) == []
    after = ledger.db["replies"].get(row["id"])
    assert after["status"] == "held" and "改変" in after["held_reason"]
    capsys.readouterr()
    assert main(["--config", str(config), "outbox", "show", str(row["id"])]) == 0
    assert "元データを読めません" in capsys.readouterr().out


def test_a_reply_blob_edited_to_add_bcc_is_never_sent(tmp_path, smtp_server, capsys):
    config, ledger, row = _awaiting_deficiency(tmp_path)
    text = config.read_text(encoding="utf-8")
    config.write_text(text + "\n".join([
        "[smtp]", f'host = "{smtp_server.host}"', f"port = {smtp_server.port}", 'tls = "none"',
        'user = ""']) + "\n", encoding="utf-8")
    blob = ledger.blobs.path(row["raw_sha256"])
    blob.write_bytes(b"Bcc: thief@example.net\r\n" + blob.read_bytes())
    assert main(["--config", str(config), "outbox", "approve", str(row["id"])]) == 0
    assert main(["--config", str(config), "outbox", "send-due"]) == 0
    assert smtp_server.messages == []
    assert ledger.db["replies"].get(row["id"])["status"] == "held"


def test_a_deleted_reply_blob_does_not_fail_later_replays(tmp_path):
    config, ledger, row = _awaiting_deficiency(tmp_path)
    ledger.blobs.path(row["raw_sha256"]).unlink()
    assert main(["--config", str(config), "outbox", "approve", str(row["id"])]) == 0
    folder = tmp_path / "mails"
    (folder / "3.eml").write_bytes(complete_mail("<third@minato-seiki.example.jp>"))
    for _ in range(2):
        assert main(["--config", str(config), "replay", str(folder)]) == 0
    assert ledger.db["replies"].get(row["id"])["status"] == "held"
    assert any(p.name.endswith("receipt.eml") for p in (tmp_path / "outbox").glob("*.eml"))
