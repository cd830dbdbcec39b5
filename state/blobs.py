"""Content-addressed store for raw mails and attachments: sha256 names, durable before any row."""

from __future__ import annotations

import errno
import hashlib
import os
import tempfile
from collections.abc import Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path


class BlobStoreError(OSError):
    """The blob store cannot be written (disk full, permissions); the message says what to do.
    An OSError, so callers that retry on I/O trouble (the daemon) keep doing so."""


class BlobDamaged(Exception):
    """A stored blob is missing or no longer matches its sha256 name: it was deleted or altered
    behind the ledger's back. Not an OSError: retrying cannot help, the one item it belongs to
    is set aside for staff and the rest go on."""

    def __init__(self, sha256: str, missing: bool) -> None:
        self.sha256 = sha256
        self.missing = missing
        what = "がありません" if missing else "の内容が名前(sha256)と一致しません(改変されています)"
        super().__init__(f"元データ {sha256[:16]}… {what}。blobs ディレクトリを"
                         "バックアップから復元してから再実行してください")


class BlobStore:
    def __init__(self, root: Path, *, create: bool = True) -> None:
        self.root = root
        if create:  # a reader (status, export) never makes a folder; put() makes it on demand
            root.mkdir(parents=True, exist_ok=True)

    def path(self, sha256: str) -> Path:
        return self.root / sha256[:2] / sha256

    def put(self, data: bytes) -> str:
        """Write `data` durably (fsync + atomic rename + directory fsync) and return its sha256."""
        return self.put_all([data])[0]

    def put_all(self, items: Sequence[bytes], *, durable: bool = True) -> list[str]:
        """Write every item durably and return their sha256s, in order.

        Each new file is written to a temporary name and fsynced, then renamed into place;
        then every directory that got a new name is fsynced (the shard, and the store's root
        when the shard is new). The fsyncs of a batch are issued together, so the filesystem
        makes them durable in a few journal commits instead of one per file. Nothing points at
        a blob before this returns; a crash midway leaves only files without rows (and
        temporary files), and the next write of the same bytes finds them by name.

        `durable=False` only writes and renames: the caller makes the blobs durable with
        `sync` before any row points at them (the sandbox writes a mail's files, its parent
        syncs them all at once). A name whose bytes a crash cut short before that is no
        harm: the next write of the same bytes checks them and replaces them.
        """
        digests = [hashlib.sha256(data).hexdigest() for data in items]
        written: list[tuple[str, Path]] = []  # (temporary file, final name)
        try:
            changed: set[Path] = set()
            pending: set[Path] = set()
            files: list[int] = []
            try:
                for digest, data in zip(digests, items, strict=True):
                    target = self.path(digest)
                    if target in pending or (target.exists() and _digest_of(target) == digest):
                        continue  # an altered copy under this name is replaced by the true bytes
                    pending.add(target)
                    if not target.parent.is_dir():
                        target.parent.mkdir(parents=True, exist_ok=True)
                        changed.add(self.root)
                    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=".tmp-")
                    files.append(fd)
                    written.append((tmp, target))
                    with memoryview(data) as view:
                        while view:
                            view = view[os.write(fd, view):]
                if durable:
                    _fsync_all(files)
            finally:
                for fd in files:
                    os.close(fd)
            for tmp, target in written:
                os.replace(tmp, target)
                changed.add(target.parent)
            written = []
            if durable:
                _sync_paths(changed)
        except OSError as exc:
            why = "空き容量がありません" if exc.errno == errno.ENOSPC else (exc.strerror or str(exc))
            raise BlobStoreError(
                f"保存領域 {self.root} に書き込めません: {why}。空きを作るか権限を確かめてから"
                "再実行してください(書けなかったメールは記録していないので、次回の実行で取り込みます)"
            ) from exc
        finally:
            for tmp, _ in written:  # not renamed: an error (or an interrupt) cut the batch short
                Path(tmp).unlink(missing_ok=True)
        return digests

    def sync(self, digests: Iterable[str]) -> None:
        """Make blobs written with `put_all(durable=False)` durable: every file, then every
        directory that holds one (and the root, which holds the directories)."""
        paths = {self.path(digest) for digest in digests}
        if not paths:
            return
        try:
            _sync_paths(paths)
            _sync_paths({path.parent for path in paths} | {self.root})
        except OSError as exc:
            raise BlobStoreError(
                f"保存領域 {self.root} に書き込めません: {exc.strerror or exc}。空きを作るか権限を"
                "確かめてから再実行してください") from exc

    def get(self, sha256: str) -> bytes:
        """The blob's bytes, verified against its name on every read."""
        try:
            data = self.path(sha256).read_bytes()
        except FileNotFoundError:
            raise BlobDamaged(sha256, missing=True) from None
        if hashlib.sha256(data).hexdigest() != sha256:
            raise BlobDamaged(sha256, missing=False)
        return data

    def check(self, sha256: str) -> None:
        """Raise BlobDamaged unless the blob is present and intact."""
        if not self.path(sha256).is_file():
            raise BlobDamaged(sha256, missing=True)
        if _digest_of(self.path(sha256)) != sha256:
            raise BlobDamaged(sha256, missing=False)


def _digest_of(path: Path) -> str | None:
    digest = hashlib.sha256()
    try:
        with path.open("rb") as handle:
            while chunk := handle.read(1 << 20):
                digest.update(chunk)
    except OSError:
        return None
    return digest.hexdigest()


def _sync_paths(paths: Iterable[Path]) -> None:
    fds = []
    try:
        for path in paths:
            fds.append(os.open(path, os.O_RDONLY))
        _fsync_all(fds)
    finally:
        for fd in fds:
            os.close(fd)


_pool: ThreadPoolExecutor | None = None


def _forget_pool() -> None:
    global _pool
    _pool = None  # a forked child has none of the parent's threads: it makes its own


os.register_at_fork(after_in_child=_forget_pool)


def _fsync_all(fds: list[int]) -> None:
    """fsync every descriptor; several at once, so that concurrent fsyncs share the
    filesystem's journal commits (one flush for many files instead of one each)."""
    global _pool
    if len(fds) <= 1:
        for fd in fds:
            os.fsync(fd)
        return
    if _pool is None:
        _pool = ThreadPoolExecutor(max_workers=16, thread_name_prefix="fsync")
    list(_pool.map(os.fsync, fds))  # re-raises the first error


def fsync_dir(directory: Path) -> None:
    """Make a rename or a new file in `directory` durable (the directory entry itself)."""
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
