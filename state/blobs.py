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
        digest = hashlib.sha256(data).hexdigest()
        target = self.path(digest)
        if target.exists() and _digest_of(target) == digest:
            return digest  # an altered copy under this name is replaced by the true bytes
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


def fsync_dir(directory: Path) -> None:
    """Make a rename or a new file in `directory` durable (the directory entry itself)."""
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
