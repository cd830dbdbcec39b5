"""Read the attachments of one mail in the sandbox, within the mail's budget.

Each attachment is one task in the worker process: unpack it, store every file it holds in the
blob store, recognise each and read its form, and say whether it is itself an encrypted archive
or Office file (what filing needs to match a later password mail). The parent gets back facts
only (paths, sha256, recognition, form fields, problems), never the contents. One mail shares one budget: the bytes
extracted from all its archives, their entries, the CPU seconds and the wall time; an attachment
that breaches a limit, or comes after the budget is spent, becomes ATTACHMENT_UNREADABLE and the
rest of the mail is still read. The outcome under the limits is the same on every evaluation, so
nothing is retried in a loop.
"""

from __future__ import annotations

import pickle
import time
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

from ingest import sandbox
from ingest.check_cmd import FileFacts, FileInput, read_file
from parsers.archives import PASSWORD_WRONG, UNREADABLE, Problem, locked_members, unpack
from parsers.forms import FormMap
from parsers.limits import Limits
from parsers.mime import Attachment
from state.blobs import BlobStore


@dataclass(frozen=True)
class ReadFile:
    path: str
    name: str
    kind: str
    size: int
    sha256: str | None  # None when no blob store was given
    facts: FileFacts


@dataclass(frozen=True)
class LockedFile:
    path: str
    member_names: tuple[str, ...]
    size: int
    sha256: str | None


@dataclass
class AttachmentRead:
    files: list[ReadFile] = field(default_factory=list)
    locked: list[LockedFile] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    inflated: int = 0
    members: int = 0
    # The attachment itself is an encrypted archive or Office file (locked_members); None when
    # it was not read (a breach).
    locked_itself: bool | None = None


def read_attachment(name: str, data: bytes, limits: Limits, passwords: Sequence[str],
                    form_map: FormMap, blobs: Path | None) -> AttachmentRead:
    """One attachment, in the worker: unpacked, stored, recognised, forms read."""
    unpacked = unpack(name, data, limits=limits, passwords=passwords)
    store = BlobStore(blobs) if blobs is not None else None
    out = AttachmentRead(problems=list(unpacked.problems), inflated=unpacked.inflated,
                         members=unpacked.members, locked_itself=bool(locked_members(name, data)))
    # Written, not yet durable: read_mail syncs the whole mail's files at once, in the parent.
    shas: list[str | None] = (store.put_all([f.data for f in unpacked.files]
                                            + [f.data for f in unpacked.encrypted], durable=False)
                              if store else [None] * (len(unpacked.files) + len(unpacked.encrypted)))
    for file, sha in zip(unpacked.files, shas, strict=False):
        facts = read_file(FileInput(file.path, file.name, file.kind, file.data), form_map, limits)
        out.files.append(ReadFile(file.path, file.name, file.kind, len(file.data), sha, facts))
    for locked, sha in zip(unpacked.encrypted, shas[len(unpacked.files):], strict=True):
        out.locked.append(LockedFile(locked.path, locked.member_names, len(locked.data), sha))
    return out


def read_mail(attachments: Sequence[tuple[str, bytes]], *, limits: Limits,
              passwords: Sequence[str], form_map: FormMap,
              blobs: Path | None, durable: bool = True) -> list[AttachmentRead]:
    """Every attachment of one mail, in order, each in the sandbox under the mail's budget;
    with `blobs`, their files are in the store when this returns (durable, unless the caller
    syncs them later: `durable=False`)."""
    box = sandbox.shared(limits.max_parse_memory)
    left = replace(limits)
    cpu_left = limits.max_parse_seconds
    deadline = time.monotonic() + sandbox.wall_seconds(limits.max_parse_seconds)
    results: list[AttachmentRead] = []
    for name, data in attachments:
        wall = deadline - time.monotonic()
        if cpu_left <= 0 or wall <= 0:
            results.append(_breached(name, sandbox.TIME, limits, spent=True))
            continue
        outcome = box.run(read_attachment, name, data, left, passwords, form_map, blobs,
                          cpu_seconds=cpu_left, wall_seconds=wall)
        cpu_left -= outcome.cpu_seconds
        if not outcome.ok:
            results.append(_breached(name, outcome.breach or sandbox.CRASH, limits))
            continue
        read: AttachmentRead = outcome.value
        left = replace(left, max_total_bytes=max(0, left.max_total_bytes - read.inflated),
                       max_members=max(0, left.max_members - read.members))
        results.append(read)
    if blobs is not None and durable:  # durable before the caller's rows point at them
        BlobStore(blobs).sync(_digests(results))
    return results


@dataclass(frozen=True)
class MailRead:
    """A submission mail's attachments read once, when it is filed, for its evaluation in the
    same pass: no second crossing to the sandbox and no second MIME parse."""

    reads: list[AttachmentRead]
    locked: list[str]  # attachments that are themselves encrypted archives or Office files
    parts_cut: int | None  # MessageRecord.parts_cut
    passwords: tuple[str, ...]  # the passwords it was read with

    @property
    def digests(self) -> list[str]:
        return _digests(self.reads)

    def serves(self, passwords: Sequence[str]) -> bool:
        """Whether reading again with `passwords` would give the same: yes when they are the
        same, or when nothing in the mail is encrypted (a password opens nothing then)."""
        if tuple(passwords) == self.passwords:
            return True
        return not self.locked and not any(
            read.locked or any(p.code == PASSWORD_WRONG for p in read.problems)
            for read in self.reads)


def read_part(attachments: Sequence[Attachment], parts_cut: int | None, *, limits: Limits,
              passwords: Sequence[str], form_map: FormMap, blobs: Path | None,
              durable: bool = True) -> MailRead:
    """`read_mail`, and which attachments are locked (as `locked_attachments` tells)."""
    pairs = [(a.name, a.data) for a in attachments]
    reads = read_mail(pairs, limits=limits, passwords=passwords, form_map=form_map, blobs=blobs,
                      durable=durable)
    locked = [name for (name, _), read in zip(pairs, reads, strict=True) if read.locked_itself]
    unread = [a for a, read in zip(attachments, reads, strict=True) if read.locked_itself is None]
    if unread:  # breached while read whole: the cheap look at its directory may still tell
        names = set(locked_attachments(unread, limits))
        locked = [a.name for a, read in zip(attachments, reads, strict=True)
                  if read.locked_itself or (read.locked_itself is None and a.name in names)]
    return MailRead(reads, locked, parts_cut, tuple(passwords))


class ReadCache:
    """Mails read at filing, each kept until its evaluation takes it, within `max_bytes` (a mail
    that does not fit is simply read again when it is evaluated).

    Each is kept pickled (about a third of its size as objects), so `max_bytes` bounds the
    memory it takes.

    Their files may be kept not yet durable: no row points at them before the evaluation, and
    `sync` makes the files of every mail filed so far durable at once (fsyncs issued together
    share the filesystem's journal commits); `take` syncs a mail's files if that has not
    happened yet."""

    SYNC_BATCH = 512  # files per sync: bounded open descriptors

    def __init__(self, max_bytes: int, blobs: BlobStore) -> None:
        self.max_bytes = max_bytes
        self.blobs = blobs
        self._kept: dict[int, tuple[bytes, tuple[str, ...]]] = {}  # (pickled, digests)
        self._unsynced: set[int] = set()
        self._bytes = 0

    def keep(self, message: int, read: MailRead, *, durable: bool) -> None:
        self._drop(message)
        kept = pickle.dumps(read, protocol=pickle.HIGHEST_PROTOCOL)
        if self._bytes + len(kept) > self.max_bytes:
            return
        self._kept[message] = (kept, tuple(read.digests))
        self._bytes += len(kept)
        if not durable:
            self._unsynced.add(message)

    def sync(self) -> None:
        digests = sorted({d for m in self._unsynced for d in self._kept[m][1]})
        for start in range(0, len(digests), self.SYNC_BATCH):
            self.blobs.sync(digests[start:start + self.SYNC_BATCH])
        self._unsynced.clear()

    def take(self, message: int, passwords: Sequence[str]) -> MailRead | None:
        if message in self._unsynced:
            self.blobs.sync(self._kept[message][1])
        kept = self._drop(message)
        if kept is None:
            return None
        read: MailRead = pickle.loads(kept)  # noqa: S301 - pickled by this process
        return read if read.serves(passwords) else None

    def _drop(self, message: int) -> bytes | None:
        kept = self._kept.pop(message, None)
        self._unsynced.discard(message)
        if kept is None:
            return None
        self._bytes -= len(kept[0])
        return kept[0]


def locked_attachments(attachments: Sequence[Attachment], limits: Limits) -> list[str]:
    """The names of the encrypted archives and Office files among a mail's attachments, found
    when the mail arrives so that a later password mail can find its submission. Read in the
    sandbox like everything else; one that cannot be read there counts as not locked (its
    evaluation reports it)."""
    if not attachments:
        return []
    outcome = sandbox.shared(limits.max_parse_memory).run(
        _locked_names, [(a.name, a.data) for a in attachments],
        cpu_seconds=limits.max_parse_seconds,
        wall_seconds=sandbox.wall_seconds(limits.max_parse_seconds))
    return outcome.value if outcome.ok else []


def _locked_names(attachments: list[tuple[str, bytes]]) -> list[str]:
    return [name for name, data in attachments if locked_members(name, data)]


def _digests(reads: Sequence[AttachmentRead]) -> list[str]:
    return [f.sha256 for read in reads for f in (*read.files, *read.locked) if f.sha256]


def _breached(name: str, breach: str, limits: Limits, *, spent: bool = False) -> AttachmentRead:
    detail = sandbox.breach_detail(name, "spent" if spent else breach,
                                   limits.max_parse_seconds, limits.max_parse_memory)
    return AttachmentRead(problems=[Problem(UNREADABLE, name, detail)])
