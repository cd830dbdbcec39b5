"""The Sent folder over IMAP: where the outbox looks a reply up after a crash, and files a copy.

A reply left `sending` (the process died between DATA and the ledger update) is resolved by
its deterministic Message-ID: present in the Sent folder means it went out. Servers that file
submitted mail themselves (Exchange, Gmail) make this exact; for others the copy we APPEND
right after each send makes the folder the staff's record of what was sent.
"""

from __future__ import annotations

from datetime import datetime
from types import TracebackType

from imapclient import IMAPClient
from imapclient.exceptions import IMAPClientError

from replies.connection import ServerConfig, ServerUnavailable, imap_connect

SEEN = b"\\Seen"


class SentFolderError(Exception):
    """The Sent folder cannot be searched or written; the message names the folder."""


class SentFolder:
    """One IMAP session on the configured Sent folder (`[imap] sent_folder`)."""

    def __init__(self, server: ServerConfig) -> None:
        if not server.sent_folder:
            raise ValueError("SentFolder needs [imap] sent_folder")
        self.server = server
        self.folder: str = server.sent_folder
        self.client: IMAPClient | None = None

    def __enter__(self) -> SentFolder:
        self.client = imap_connect(self.server)
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        client, self.client = self.client, None
        if client is not None:
            try:
                client.logout()
            except (OSError, IMAPClientError):
                client.shutdown()

    def _client(self) -> IMAPClient:
        if self.client is None:
            raise SentFolderError("Sent フォルダに接続していません")
        return self.client

    def contains(self, message_id: str) -> bool:
        """Is a mail with this Message-ID in the Sent folder? A missing folder is an error,
        not "no": a misnamed folder must not make the outbox resend everything."""
        client = self._client()
        try:
            if not client.folder_exists(self.folder):
                raise SentFolderError(
                    f"送信済みフォルダ {self.folder} が IMAP サーバーにありません"
                    "([imap] sent_folder の名前を確認してください)"
                )
            client.select_folder(self.folder, readonly=True)
            try:
                found = client.search(["HEADER", "Message-ID", message_id])
            finally:
                client.unselect_folder()
        except (OSError, IMAPClientError) as exc:
            raise SentFolderError(f"送信済みフォルダ {self.folder} を検索できません: {exc}") from None
        return bool(found)

    def append(self, raw: bytes, when: datetime) -> None:
        """File a copy of a sent reply, already read (\\Seen); creates the folder if missing."""
        client = self._client()
        try:
            if not client.folder_exists(self.folder):
                client.create_folder(self.folder)
            client.append(self.folder, raw, flags=(SEEN,), msg_time=when)
        except (OSError, IMAPClientError) as exc:
            raise SentFolderError(
                f"送信済みフォルダ {self.folder} にコピーを保存できません: {exc}"
            ) from None


__all__ = ["SentFolder", "SentFolderError", "ServerUnavailable"]
