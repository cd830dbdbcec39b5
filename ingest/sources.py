"""Mail sources behind one small interface: Maildir, mbox, one .eml, a folder of .eml files."""

from __future__ import annotations

import mailbox
import re
from collections.abc import Callable, Iterator
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
    not_mail: str | None = None  # why a file of a replayed folder is not a mail (then skipped)


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
    # A Maildir file (or an .eml) may begin with a "From " line too: it is still one mail, and
    # reading it as an mbox would split it at any "From " line of its body.
    if head == b"From " and not _one_mail_file(path):
        return MboxSource(path)
    return EmlFolderSource(path)


def _one_mail_file(path: Path) -> bool:
    in_maildir = path.parent.name in ("cur", "new", "tmp") and any(
        (path.parent.parent / sub).is_dir() for sub in ("cur", "new"))
    return in_maildir or path.suffix.lower() == ".eml" or bool(_MAILDIR_NAME.match(path.name))


_MAILDIR_NAME = re.compile(r"\d{9,11}\.[^/]*\.[^/]+(:2,[A-Za-z]*)?$")
# Fields of a mail's (or a bare MIME entity's) header. A file none of whose first lines starts
# with one of them is not a mail; leading junk (blank lines, a BOM, an mbox "From " line, an
# SMTP transcript's commands) is allowed before them.
_MAIL_FIELD = re.compile(
    rb"^(?:from|received|message-id|date|return-path|delivered-to|sender|to|cc|subject|"
    rb"reply-to|mime-version|content-type|content-transfer-encoding|content-disposition)"
    rb"[ \t]*:", re.IGNORECASE | re.MULTILINE)
_MAGIC = ((b"PK\x03\x04", "zip・Office 文書"), (b"%PDF", "PDF"),
          (b"\xd0\xcf\x11\xe0", "Office 文書"), (b"\x1f\x8b", "gzip"), (b"\x89PNG", "画像"),
          (b"\xff\xd8\xff", "画像"), (b"Rar!", "rar"), (b"7z\xbc\xaf", "7z"))


def not_mail_reason(raw: bytes) -> str | None:
    """Why these bytes are not a mail (a README, a workbook, random bytes left in a replayed
    folder), or None when one of their first lines is a mail header field. Lenient on purpose:
    a broken mail is still a mail (the parser records its problems); only what is no mail at
    all is left out."""
    if not raw.strip():
        return "空のファイル"
    for magic, kind in _MAGIC:
        if raw.startswith(magic):
            return f"{kind}のファイル"
    first_lines = b"\n".join(raw[:64 * 1024].splitlines()[:50])
    if _MAIL_FIELD.search(first_lines):
        return None
    return "バイナリデータ" if b"\x00" in first_lines else "メールのヘッダーがありません"


def arrival_for_file(
    raw: bytes, kind: str, ref: str, delivered: datetime | None = None,
    delivered_source: str = "maildir",
) -> Arrival:
    """Receive time for a mail read from a file: Received:, else delivery time, else Date:.
    A file's mtime is only the time it was written (copied, unpacked), so it comes after
    Date:: the same mails copied in another order must keep their receive times."""
    head = envelope(raw)
    moment, source = head.received, "received"
    if moment is None and delivered is not None and delivered_source != "mtime":
        moment, source = delivered, delivered_source
    if moment is None:
        moment, source = head.date, "date"
    if moment is None and delivered is not None:
        moment, source = delivered, delivered_source
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
            yield _checked(raw, lambda raw=raw, file=file: arrival_for_file(
                raw, "maildir", str(file), *_maildir_delivery(file)), str(file))


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
            ref = f"{self.path}#{index + 1}"
            yield _checked(raw, lambda raw=raw, ref=ref: arrival_for_file(raw, "mbox", ref), ref)


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
            yield _checked(raw, lambda raw=raw, file=file: arrival_for_file(
                raw, "eml", str(file)), str(file))


def _checked(raw: bytes, arrival: Callable[[], Arrival], ref: str) -> RawMail:
    """The mail, or a skipped entry saying why the file is not one (nothing of it is stored)."""
    reason = not_mail_reason(raw)
    if reason is not None:
        return RawMail(b"", Arrival("file", ref, datetime.now(UTC), "fetch"), not_mail=reason)
    return RawMail(raw, arrival())
