"""Mail sources behind one small interface: Maildir, mbox, one .eml, a folder of .eml files."""

from __future__ import annotations

import mailbox
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Protocol

from parsers.mime import envelope
from state.ledger import Arrival


class SourceError(Exception):
    """A source cannot be read (missing path, unknown kind); the message says what to do."""


@dataclass(frozen=True)
class RawMail:
    raw: bytes
    arrival: Arrival
    quarantine: str | None = None  # set when only the headers were taken (e.g. over the size limit)


class MailSource(Protocol):
    description: str

    def count(self) -> int | None: ...

    def mails(self) -> Iterator[RawMail]: ...


def open_source(location: str) -> MailSource:
    path = Path(location)
    if not path.exists():
        raise SourceError(f"{location} が見つかりません(Maildir、mbox、.eml ファイルかそのフォルダを指定してください)")
    if path.is_dir():
        if (path / "cur").is_dir() or (path / "new").is_dir():
            return MaildirSource(path)
        return EmlFolderSource(path)
    with path.open("rb") as handle:
        head = handle.read(5)
    if head == b"From ":
        return MboxSource(path)
    return EmlFolderSource(path)


def arrival_for_file(
    raw: bytes, kind: str, ref: str, delivered: datetime | None = None,
    delivered_source: str = "maildir",
) -> Arrival:
    """Receive time for a mail read from a file: Received:, else delivery time, else Date:."""
    head = envelope(raw)
    moment, source = head.received, "received"
    if moment is None and delivered is not None:
        moment, source = delivered, delivered_source
    if moment is None:
        moment, source = head.date, "date"
    if moment is None:
        moment, source = datetime.now(UTC), "fetch"
    return Arrival(kind, ref, moment, source, head.message_id, content_sha256=head.content_key)


class MaildirSource:
    def __init__(self, path: Path) -> None:
        self.path = path
        self.description = f"Maildir {path}"
        # maildir(5): delivered mail sits in new/ and cur/; tmp/ is work in progress.
        self.files = sorted(
            (p for sub in ("new", "cur") if (path / sub).is_dir() for p in (path / sub).iterdir()
             if p.is_file() and not p.name.startswith(".")),
            key=lambda p: p.name,
        )

    def count(self) -> int | None:
        return len(self.files)

    def mails(self) -> Iterator[RawMail]:
        for file in self.files:
            raw = file.read_bytes()
            yield RawMail(raw, arrival_for_file(raw, "maildir", str(file), *_maildir_delivery(file)))


def _maildir_delivery(file: Path) -> tuple[datetime | None, str]:
    # Maildir file names start with the delivery time in seconds (maildir(5)).
    match = re.match(r"(\d{9,11})\.", file.name)
    if match:
        return datetime.fromtimestamp(int(match.group(1)), UTC), "maildir"
    try:
        return datetime.fromtimestamp(file.stat().st_mtime, UTC), "mtime"
    except OSError:
        return None, "mtime"


class MboxSource:
    def __init__(self, path: Path) -> None:
        self.path = path
        self.description = f"mbox {path}"
        self.box = mailbox.mbox(path, factory=None, create=False)

    def count(self) -> int | None:
        return len(self.box)

    def mails(self) -> Iterator[RawMail]:
        for index, key in enumerate(self.box.iterkeys()):
            raw = self.box.get_bytes(key)
            yield RawMail(raw, arrival_for_file(raw, "mbox", f"{self.path}#{index + 1}"))


class EmlFolderSource:
    def __init__(self, path: Path) -> None:
        self.path = path
        self.files = (
            sorted(p for p in path.rglob("*") if p.is_file() and not p.name.startswith("."))
            if path.is_dir() else [path]
        )
        self.description = f"{len(self.files)} 件の .eml ({path})"

    def count(self) -> int | None:
        return len(self.files)

    def mails(self) -> Iterator[RawMail]:
        for file in self.files:
            raw = file.read_bytes()
            yield RawMail(raw, arrival_for_file(raw, "eml", str(file)))
