"""Content-addressed store for raw mails and attachments: sha256 names, durable before any row."""

from __future__ import annotations

import errno
import hashlib
import os
import tempfile
from pathlib import Path


class BlobStoreError(OSError):
    """The blob store cannot be written (disk full, permissions); the message says what to do.
    An OSError, so callers that retry on I/O trouble (the daemon) keep doing so."""


class BlobStore:
    def __init__(self, root: Path, *, create: bool = True) -> None:
        self.root = root
        if create:  # a reader (status, export) never makes a folder; put() makes it on demand
            root.mkdir(parents=True, exist_ok=True)

    def path(self, sha256: str) -> Path:
        return self.root / sha256[:2] / sha256

    def put(self, data: bytes) -> str:
        """Write `data` durably (fsync + atomic rename + directory fsync) and return its sha256."""
        digest = hashlib.sha256(data).hexdigest()
        target = self.path(digest)
        if target.exists():
            return digest
        try:
            self._write(target, data)
        except BlobStoreError:
            raise
        except OSError as exc:
            why = "空き容量がありません" if exc.errno == errno.ENOSPC else (exc.strerror or str(exc))
            raise BlobStoreError(
                f"保存領域 {self.root} に書き込めません: {why}。空きを作るか権限を確かめてから"
                "再実行してください(書けなかったメールは記録していないので、次回の実行で取り込みます)"
            ) from exc
        return digest

    @staticmethod
    def _write(target: Path, data: bytes) -> None:
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=".tmp-")
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(data)
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(tmp, target)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        fsync_dir(target.parent)

    def get(self, sha256: str) -> bytes:
        return self.path(sha256).read_bytes()


def fsync_dir(directory: Path) -> None:
    """Make a rename or a new file in `directory` durable (the directory entry itself)."""
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
