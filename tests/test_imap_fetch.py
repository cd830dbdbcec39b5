"""What the IMAP fetch downloads: a mail the ledger already holds under another UIDVALIDITY is
linked from its headers alone, a folder whose every mail is linked is read without the
Message-ID look-up, and the same mail delivered twice is one ledger row with two UIDs."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from ingest.config import load_settings
from ingest.imap_source import connect, new_batches
from parsers.mime import envelope
from replies.connection import ServerConfig
from state.blobs import BlobStore
from state.ledger import Arrival, Ledger
from tests.mails import CORE, complete_mail, mail
from tests.test_walking_skeleton import write_config


class FetchSpy:
    """The real IMAP connection, with the items of every FETCH noted."""

    def __init__(self, server: ServerConfig) -> None:
        self.client = connect(server)
        self.fetches: list[tuple[list[int], list[str]]] = []
        real = self.client.fetch

        def fetch(uids: list[int], items: list[str], *args: Any, **kwargs: Any) -> Any:
            self.fetches.append((list(uids), list(items)))
            return real(uids, items, *args, **kwargs)

        self.client.fetch = fetch  # type: ignore[method-assign]

    def bodies(self) -> list[int]:
        return sorted(uid for uids, items in self.fetches if "BODY.PEEK[]" in items
                      for uid in uids)

    def header_lookups(self) -> int:
        return sum(any("MESSAGE-ID" in item for item in items) for _, items in self.fetches)


@pytest.fixture
def fetcher(dovecot, tmp_path: Path) -> Iterator[tuple[ServerConfig, Ledger]]:
    config = write_config(tmp_path, imap=dovecot)
    config.write_text(config.read_text().replace(
        'password_env = "TEST_IMAP_PASSWORD"',
        'password_env = "TEST_IMAP_PASSWORD"\nbatch_size = 2\nmax_message_bytes = 300000'))
    settings = load_settings(config)
    assert settings.imap is not None
    ledger = Ledger(settings.ledger_path, BlobStore(settings.blobs_dir), actor="test")
    yield settings.imap, ledger
    ledger.close()


def fetch_pass(server: ServerConfig, ledger: Ledger) -> FetchSpy:
    spy = FetchSpy(server)
    try:
        for batch in new_batches(spy.client, server, ledger):
            ledger.record_mails([(m.raw, m.arrival) for m in batch])
    finally:
        spy.client.logout()
    return spy


def links(ledger: Ledger) -> dict[tuple[int, int], str]:
    """(uidvalidity, uid) -> Message-ID of the linked ledger row."""
    rows = ledger.db.execute(
        "SELECT s.uidvalidity, s.uid, m.message_id_header FROM imap_seen s "
        "JOIN messages m ON m.id = s.message").fetchall()
    return {(validity, uid): mid for validity, uid, mid in rows}


def test_known_mails_are_relinked_without_download_after_uidvalidity_change(
        dovecot, fetcher) -> None:
    server, ledger = fetcher
    for n in range(3):
        dovecot.deliver(complete_mail(f"<known-{n}@example.jp>"))
    first = fetch_pass(server, ledger)
    assert first.bodies() == [1, 2, 3]
    assert first.header_lookups() == 0  # an empty ledger has nothing to relink
    old = dovecot.uidvalidity()

    dovecot.recreate_folder()
    new = dovecot.uidvalidity()
    dovecot.deliver(complete_mail("<fresh@example.jp>"))
    big = mail(f"<大容量>{CORE}", "本文", "big@example.jp", "<big-after@example.jp>",
               attachments={"scan.pdf": b"%PDF-1.4\n" + b"0" * 400_000})
    dovecot.deliver(big)
    second = fetch_pass(server, ledger)

    assert second.header_lookups() > 0
    assert second.bodies() == [4]  # only the new small mail's body came down
    linked = links(ledger)
    for n in range(3):
        assert linked[(old, n + 1)] == linked[(new, n + 1)] == f"<known-{n}@example.jp>"
    assert linked[(new, 4)] == "<fresh@example.jp>"
    assert linked[(new, 5)] == "<big-after@example.jp>"
    size = ledger.db.execute("SELECT size FROM messages WHERE message_id_header = ?",
                             ["<big-after@example.jp>"]).fetchone()[0]
    assert size < 10_000  # its headers only
    assert ledger.db.execute("SELECT count(*) FROM messages").fetchone()[0] == 5

    third = fetch_pass(server, ledger)
    assert third.fetches == []  # nothing new: nothing fetched at all


def test_every_mail_linked_reads_bodies_without_the_message_id_lookup(dovecot, fetcher) -> None:
    server, ledger = fetcher
    dovecot.deliver(complete_mail("<a@example.jp>"))
    fetch_pass(server, ledger)
    same = complete_mail("<twice@example.jp>")
    dovecot.deliver(same)
    dovecot.deliver(same)  # delivered twice: one mail, two UIDs
    big = mail(f"<大容量>{CORE}", "本文", "big@example.jp", "<big@example.jp>",
               attachments={"scan.pdf": b"%PDF-1.4\n" + b"0" * 400_000})
    dovecot.deliver(big)

    spy = fetch_pass(server, ledger)

    assert spy.header_lookups() == 0
    assert spy.bodies() == [2, 3]  # the large mail's body stays on the server
    linked = links(ledger)
    validity = dovecot.uidvalidity()
    assert linked[(validity, 2)] == linked[(validity, 3)] == "<twice@example.jp>"
    assert linked[(validity, 4)] == "<big@example.jp>"
    rows = ledger.db.execute(
        "SELECT message_id_header, state FROM messages ORDER BY id").fetchall()
    assert [mid for mid, _ in rows] == ["<a@example.jp>", "<twice@example.jp>", "<big@example.jp>"]


def test_a_replayed_mail_is_linked_when_imap_serves_the_same_bytes(
        dovecot, fetcher, tmp_path: Path) -> None:
    server, ledger = fetcher
    # CRLF, as Dovecot serves it: the same size on both routes.
    raw = complete_mail("<replayed@example.jp>").replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")
    head = envelope(raw)
    ledger.record_mail(raw, Arrival("eml", str(tmp_path / "a.eml"), datetime.now(UTC), "mtime",
                                    head.message_id, None, head.content_key))
    dovecot.deliver(raw)

    spy = fetch_pass(server, ledger)

    assert spy.header_lookups() == 1 and spy.bodies() == []  # linked by Message-ID and size
    assert links(ledger) == {(dovecot.uidvalidity(), 1): "<replayed@example.jp>"}
    assert ledger.db.execute("SELECT count(*) FROM messages").fetchone()[0] == 1
