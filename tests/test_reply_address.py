"""Replies go only to the real sender: the parsed addr-spec, never text from an encoded word.

The mails are written byte by byte as a hostile sender would, not with the email package.
"""

from __future__ import annotations

import base64
import json
from email import message_from_bytes
from email.policy import default
from pathlib import Path

import pytest

from ingest.cli import main
from parsers.mime import parse_message
from tests.mails import BODY_OK
from tests.test_blob_integrity import open_ledger
from tests.test_walking_skeleton import write_config

VICTIM = "victim@example.com"


def b_word(text: str) -> str:
    return "=?utf-8?b?" + base64.b64encode(text.encode()).decode() + "?="


def raw_mail(from_header: str, msgid: str, *, body: str = "書類を送付します。\n",
             subject: str = "書類送付") -> bytes:
    boundary = "b0undary"
    return (
        f"From: {from_header}\r\nTo: it-renkei@example.go.jp\r\nSubject: {subject}\r\n"
        f"Message-ID: {msgid}\r\nDate: Wed, 10 Aug 2022 10:00:00 +0900\r\n"
        "Received: from mx.example.jp by mx.example.go.jp; Wed, 10 Aug 2022 10:00:05 +0900\r\n"
        f'MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary="{boundary}"\r\n\r\n'
        f"--{boundary}\r\nContent-Type: text/plain; charset=utf-8\r\n"
        "Content-Transfer-Encoding: base64\r\n\r\n"
        + base64.encodebytes(body.encode()).decode().replace("\n", "\r\n")
        + f"\r\n--{boundary}\r\nContent-Type: application/pdf\r\n"
        'Content-Disposition: attachment; filename="a.pdf"\r\n'
        "Content-Transfer-Encoding: base64\r\n\r\nJVBERi0xLjQ=\r\n"
        f"--{boundary}--\r\n"
    ).encode()


@pytest.mark.parametrize("header", [
    f"{b_word('<' + VICTIM + '>')} <attacker@example.jp>",
    f"=?utf-8?q?<{VICTIM}>?= <attacker@example.jp>",
    f"{b_word(VICTIM)}\r\n <attacker@example.jp>",
    f'"{b_word("<" + VICTIM + ">")}" <attacker@example.jp>',
    f"attacker@example.jp ({b_word(VICTIM)})",
])
def test_the_address_is_the_parsed_addr_spec_never_an_encoded_word(header):
    record = parse_message(raw_mail(header, "<x@example.jp>"))
    assert record.from_addr == "attacker@example.jp"


@pytest.mark.parametrize("header", [
    b_word(VICTIM),  # only an encoded word: no address at all
    f"{VICTIM} <attacker@example.jp>",  # two addresses: which one is the sender is unknowable
    f"<{b_word(VICTIM)}>",
])
def test_an_address_that_cannot_be_told_apart_is_none(header):
    record = parse_message(raw_mail(header, "<x@example.jp>"))
    assert record.from_addr is None
    assert any(p.startswith("From:") for p in record.problems)


def test_display_names_are_still_decoded():
    record = parse_message(raw_mail(f"{b_word('山田 太郎')} <yamada@example.jp>", "<x@e.jp>"))
    assert (record.from_name, record.from_addr) == ("山田 太郎", "yamada@example.jp")
    jis = "=?ISO-2022-JP?B?" + base64.b64encode("山田".encode("iso-2022-jp")).decode() + "?="
    record = parse_message(raw_mail(f"{jis} <yamada@example.jp>", "<y@e.jp>"))
    assert (record.from_name, record.from_addr) == ("山田", "yamada@example.jp")


def _replay(tmp_path: Path, mails: dict[str, bytes], extra: str = "") -> Path:
    folder = tmp_path / "mails"
    folder.mkdir()
    for name, raw in mails.items():
        (folder / name).write_bytes(raw)
    config = write_config(tmp_path)
    config.write_text(config.read_text(encoding="utf-8") + extra, encoding="utf-8")
    assert main(["--config", str(config), "replay", str(folder)]) == 0
    return config


def _to(tmp_path: Path, ledger, submission: int) -> list[str]:
    return [r["to_addr"] for r in ledger.db["replies"].rows_where("submission_id = ?",
                                                                 [submission])]


def test_a_forged_display_name_is_never_merged_into_the_victims_submission(tmp_path):
    config = _replay(tmp_path, {
        "1.eml": raw_mail(f"被害者 <{VICTIM}>", "<v1@example.com>"),
        "2.eml": raw_mail(f"{b_word('<' + VICTIM + '>')} <attacker@example.jp>",
                          "<a1@example.jp>"),
    })
    ledger = open_ledger(config)
    subs = {r["lead_email"]: r["id"] for r in ledger.db["submissions"].rows}
    assert set(subs) == {VICTIM, "attacker@example.jp"}
    assert _to(tmp_path, ledger, subs["attacker@example.jp"]) == ["attacker@example.jp"]
    assert _to(tmp_path, ledger, subs[VICTIM]) == [VICTIM]
    for path in (tmp_path / "outbox").glob("*.eml"):
        msg = message_from_bytes(path.read_bytes(), policy=default)
        assert len(msg["To"].addresses) == 1


SAME_DOMAIN_BLOCK = BODY_OK.replace("tanaka@minato-seiki.example.jp", "sato@example.jp")
THIRD_PARTY_BLOCK = BODY_OK.replace("tanaka@minato-seiki.example.jp", "someone@third.example.net")


def test_sender_block_address_is_used_only_in_the_senders_domain(tmp_path):
    config = _replay(tmp_path, {
        "1.eml": raw_mail("a@example.jp", "<s1@example.jp>", body=SAME_DOMAIN_BLOCK),
        "2.eml": raw_mail("b@other.example.jp", "<s2@other.example.jp>", body=THIRD_PARTY_BLOCK),
    }, extra="reply_to_sender_block = true\n")
    assert "[replies]" in config.read_text(encoding="utf-8").split("reply_to_sender_block")[0]
    ledger = open_ledger(config)
    subs = {r["lead_email"]: r["id"] for r in ledger.db["submissions"].rows}
    assert _to(tmp_path, ledger, subs["a@example.jp"]) == ["sato@example.jp"]
    assert _to(tmp_path, ledger, subs["b@other.example.jp"]) == ["b@other.example.jp"]
    notes = [json.loads(r[0])["note"] for r in ledger.db.execute(
        "SELECT detail FROM events WHERE entity='submission' AND entity_id=? "
        "AND event='reply_to_sender'", [subs["b@other.example.jp"]])]
    assert notes and "someone@third.example.net" in notes[0]
