"""A replay reads each attachment once per pass: filing reads it whole in the sandbox (which also
tells whether it is an encrypted archive), and the evaluation of the same pass uses that reading
without a second crossing to the sandbox or a second MIME parse. The verdict is the same as when
the evaluation reads the mail again itself."""

from __future__ import annotations

import sqlite3
from collections import Counter
from pathlib import Path

import pytest

import ingest.evaluate
import ingest.reading
from ingest.cli import main
from ingest.sandbox import Sandbox
from tests.mails import BODY_OK, CORE, LEAD, VALID_CONSORTIUM, complete_mail, documents, mail
from tests.test_walking_skeleton import write_config

OTHER = "さくら製造DX連携コンソーシアム"


def _folder(tmp_path: Path) -> tuple[Path, int]:
    folder = tmp_path / "mails"
    folder.mkdir()
    (folder / "1.eml").write_bytes(complete_mail("<zip@minato-seiki.example.jp>"))
    loose = documents(OTHER)  # the same documents as loose files, one attachment each
    (folder / "2.eml").write_bytes(mail(f"<{OTHER}>{CORE}", BODY_OK, LEAD,
                                        "<loose@minato-seiki.example.jp>", attachments=loose))
    return folder, 1 + len(loose)


def _replay(tmp_path: Path, folder: Path) -> list[tuple]:
    tmp_path.mkdir()
    config = write_config(tmp_path)
    assert main(["--config", str(config), "replay", str(folder)]) == 0
    with sqlite3.connect(tmp_path / "ledger.db") as db:
        return db.execute(
            "SELECT s.consortium, s.outcome, f.code, f.detail, a.path, a.document "
            "FROM submissions s LEFT JOIN findings f ON f.submission_id = s.id "
            "LEFT JOIN attachments a ON a.submission_id = s.id ORDER BY 1, 3, 4, 5").fetchall()


def test_each_attachment_crosses_to_the_sandbox_once_and_each_mail_is_parsed_once(
        tmp_path, monkeypatch):
    folder, attachments = _folder(tmp_path)
    tasks: Counter[str] = Counter()
    real_run = Sandbox.run

    def counted(self, fn, *args, **kwargs):  # noqa: ANN001, ANN202 - the real signature
        tasks[fn.__name__] += 1
        return real_run(self, fn, *args, **kwargs)

    monkeypatch.setattr(Sandbox, "run", counted)
    parsed_again = []
    real_parse = ingest.evaluate.parse_message
    monkeypatch.setattr(ingest.evaluate, "parse_message",
                        lambda *a, **k: parsed_again.append(1) or real_parse(*a, **k))
    rows = _replay(tmp_path / "once", folder)
    assert tasks == {"read_attachment": attachments}
    assert parsed_again == []
    outcomes = {(consortium, outcome) for consortium, outcome, *_ in rows}
    assert outcomes == {(VALID_CONSORTIUM, "complete"), (OTHER, "complete")}
    assert all(document for *_, document in rows)  # every file recognised


def test_without_the_filing_read_the_evaluation_reads_again_to_the_same_verdict(
        tmp_path, monkeypatch):
    folder, _ = _folder(tmp_path)
    kept = _replay(tmp_path / "kept", folder)
    # Nothing fits: every evaluation reads its mails again from the blob store.
    monkeypatch.setattr("ingest.pipeline.READ_CACHE_BYTES", 0)
    reads = []
    real_read = ingest.reading.read_mail
    monkeypatch.setattr(ingest.reading, "read_mail",
                        lambda *a, **k: reads.append(k.get("durable", True)) or real_read(*a, **k))
    again = _replay(tmp_path / "again", folder)
    assert reads.count(True) == 2  # the two evaluations read durably themselves
    assert again == kept


@pytest.mark.parametrize("passwords", [(), ("x",)])
def test_a_reading_without_anything_encrypted_serves_any_passwords(passwords):
    read = ingest.reading.MailRead([ingest.reading.AttachmentRead()], [], None, ())
    assert read.serves(passwords)
    locked = ingest.reading.MailRead([ingest.reading.AttachmentRead()], ["a.zip"], None, ())
    assert locked.serves(()) and locked.serves(passwords) == (passwords == ())
