"""The IMAP folder as a mail source: read-only, UID based, recorded one FETCH batch at a time."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import replace
from datetime import UTC, datetime
from urllib.parse import unquote, urlsplit

from imapclient import IMAPClient
from imapclient.exceptions import IMAPClientError

from ingest.sources import RawMail
from parsers.mime import envelope, message_id_of
from replies.connection import ServerConfig, ServerUnavailable, imap_connect
from state.ledger import Arrival, ImapRef, Ledger


class MailboxError(Exception):
    """The mailbox cannot be reached or read; the message says what to check."""


def connect(server: ServerConfig) -> IMAPClient:
    try:
        return imap_connect(server)
    except ServerUnavailable as exc:
        raise MailboxError(str(exc)) from None


def new_batches(
    client: IMAPClient, server: ServerConfig, ledger: Ledger,
    progress: Callable[[int, int], None] | None = None,
) -> Iterator[list[RawMail]]:
    """`_new_batches`, with a connection lost or timed out mid-fetch reported as a MailboxError
    (one line for the operator, a retry for the daemon) instead of a traceback. What was
    yielded before is already recorded; the next pass fetches only the rest."""
    try:
        yield from _new_batches(client, server, ledger, progress)
    except TimeoutError:
        raise MailboxError(
            f"IMAP {server.host}:{server.port} が {server.timeout:g} 秒応答しないため取得を中断しました"
            "(取得済みのメールは台帳に記録済みです。次回の取得で続きを読みます)") from None
    except (OSError, IMAPClientError) as exc:
        raise MailboxError(
            f"IMAP {server.host}:{server.port} との接続が取得中に切れました: "
            f"{type(exc).__name__}: {exc}(取得済みのメールは台帳に記録済みです。"
            "次回の取得で続きを読みます)") from None


def _new_batches(
    client: IMAPClient, server: ServerConfig, ledger: Ledger,
    progress: Callable[[int, int], None] | None = None,
) -> Iterator[list[RawMail]]:
    """Yield the mails of the folder the ledger does not hold yet, one list per UID FETCH
    batch (`batch_size`), for the caller to record together (`Ledger.record_mails`).

    The folder is opened read-only and bodies are fetched with BODY.PEEK[], so reading never
    changes the mailbox. Mails already known by Message-ID (after a UIDVALIDITY change) are
    linked to their new UID from their headers alone, without downloading them again.
    """
    folder = server.folder
    status = client.select_folder(folder, readonly=True)
    uidvalidity = status.get(b"UIDVALIDITY")
    if uidvalidity is None:
        # Without UIDVALIDITY a UID means nothing: skip rather than re-ingest (PEER-LESSONS #1).
        raise MailboxError(f"{folder}: サーバーが UIDVALIDITY を返さないため取得を中止しました")
    validity = int(uidvalidity)
    todo = sorted(set(client.search(["ALL"])) - ledger.known_uids(server.account, folder, validity))
    if not todo:
        return
    # Mails the ledger holds that no UID of this UIDVALIDITY names yet (the folder was
    # recreated, or they came from a replayed folder) are looked for by Message-ID and size
    # before any body is downloaded. When there are none, that look-up cannot find anything:
    # only the mails over the size limit need telling apart, and one SEARCH does it.
    relink = ledger.has_unlinked(server.account, folder, validity)
    over = set() if relink else set(client.search(["LARGER", str(server.max_message_bytes)]))
    batches = [todo[i:i + server.batch_size] for i in range(0, len(todo), server.batch_size)]
    done = 0
    if relink:
        for batch in batches:
            mails: list[RawMail] = []
            to_fetch = _relink(client, server, ledger, validity, batch, mails)
            done += len(batch) - len(to_fetch) - len(mails)
            mails += _read(client, server, validity, to_fetch, over)
            if mails:
                yield mails
                done += len(mails)
            if progress:
                progress(done, len(todo))
        return
    # The next batch comes down while the caller records this one (its blobs' fsyncs, its
    # rows): the connection and the disk work at the same time. Only IMAP is done ahead, on
    # the one connection, never two commands at once; the ledger stays with the caller.
    pool: ThreadPoolExecutor | None = None
    ahead: Future[list[RawMail]] | None = None
    try:
        for index, batch in enumerate(batches):
            mails = ahead.result() if ahead else _read(client, server, validity, batch, over)
            ahead = None
            # Read ahead only beside a batch of modest size: a batch of large mails is not
            # held in memory twice over.
            if index + 1 < len(batches) and sum(len(m.raw) for m in mails) <= _AHEAD_BYTES:
                pool = pool or ThreadPoolExecutor(1, thread_name_prefix="imap-ahead")
                ahead = pool.submit(_read, client, server, validity, batches[index + 1], over)
            if mails:
                yield mails
                done += len(mails)
            if progress:
                progress(done, len(todo))
    finally:
        if pool is not None:
            pool.shutdown(wait=True)  # the connection is free again before the caller goes on


_AHEAD_BYTES = 32 << 20


def _read(client: IMAPClient, server: ServerConfig, validity: int, uids: list[int],
          over: set[int]) -> list[RawMail]:
    """The mails of `uids` from IMAP alone (no ledger): the headers of those in `over` (over
    the size limit), the whole of the others."""
    mails = [_headers_only(client, server, ImapRef(server.account, server.folder, validity, uid))
             for uid in uids if uid in over]
    to_fetch = [uid for uid in uids if uid not in over]
    if not to_fetch:
        return mails
    bodies = client.fetch(to_fetch, ["BODY.PEEK[]", "INTERNALDATE"])
    for uid in to_fetch:
        data = bodies.get(uid)
        if not data or b"BODY[]" not in data:
            continue  # expunged meanwhile: the next pass will not see it either
        raw = data[b"BODY[]"]
        internal = data.get(b"INTERNALDATE")
        received = internal if isinstance(internal, datetime) else None
        ref = ImapRef(server.account, server.folder, validity, uid)
        head = envelope(raw)  # one pass over the header block
        mails.append(RawMail(raw, Arrival(
            "imap", _ref_text(server, ref), received or datetime.now(UTC),
            "internaldate" if received else "fetch", head.message_id, ref, head.content_key,
        )))
    return mails


def _relink(client: IMAPClient, server: ServerConfig, ledger: Ledger, validity: int,
            batch: list[int], oversize: list[RawMail]) -> list[int]:
    """Link the mails of `batch` the ledger already holds (same Message-ID and size) to their
    UID, from their headers alone; add the mails over the size limit to `oversize`; return
    the UIDs whose bodies are to be downloaded."""
    heads = client.fetch(batch, ["BODY.PEEK[HEADER.FIELDS (MESSAGE-ID)]", "RFC822.SIZE"])
    to_fetch, links = [], []
    for uid in batch:
        ref = ImapRef(server.account, server.folder, validity, uid)
        head = heads.get(uid, {}).get(b"BODY[HEADER.FIELDS (MESSAGE-ID)]") or b""
        size = heads.get(uid, {}).get(b"RFC822.SIZE") or 0
        existing = ledger.find_same_mail(message_id_of(head), size=size)
        if existing is not None:
            links.append((ref, existing))
        elif size > server.max_message_bytes:
            oversize.append(_headers_only(client, server, ref))
        else:
            to_fetch.append(uid)
    if links:
        with ledger.transaction():  # one commit for the batch's links
            for ref, existing in links:
                ledger.link_imap(ref, existing)
    return to_fetch


def _headers_only(client: IMAPClient, server: ServerConfig, ref: ImapRef) -> RawMail:
    """A mail over the size limit: record its headers and quarantine it, body left on the server."""
    data = client.fetch([ref.uid], ["BODY.PEEK[HEADER]", "INTERNALDATE", "RFC822.SIZE"]).get(
        ref.uid, {})
    raw = data.get(b"BODY[HEADER]") or b""
    size = data.get(b"RFC822.SIZE") or 0
    internal = data.get(b"INTERNALDATE")
    received = internal if isinstance(internal, datetime) else None
    limit_mb, size_mb = server.max_message_bytes / 1e6, size / 1e6
    return RawMail(raw, Arrival(
        "imap", _ref_text(server, ref), received or datetime.now(UTC),
        "internaldate" if received else "fetch", message_id_of(raw), ref,
    ), quarantine=f"サイズ上限超過: {size_mb:.1f} MB(上限 {limit_mb:.1f} MB)。"
                  "ヘッダーのみ記録し、本文はサーバーに残しています")


def _ref_text(server: ServerConfig, ref: ImapRef) -> str:
    return f"imap://{server.account}/{ref.folder};UIDVALIDITY={ref.uidvalidity}/;UID={ref.uid}"


def _text(exc: Exception) -> str:
    value = exc.args[0] if exc.args else exc
    return value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value)


def server_from_url(url: str, configured: ServerConfig | None) -> ServerConfig:
    """`imap://user@host[:port]/FOLDER` (or imaps://): the URL names the mailbox; TLS settings
    and the password source come from the [imap] configuration."""
    parts = urlsplit(url)
    if parts.scheme not in ("imap", "imaps") or not parts.hostname:
        raise MailboxError(f"{url}: imap://ユーザー@ホスト/フォルダ の形式で指定してください")
    if parts.password:
        raise MailboxError("URL にパスワードを書かないでください([imap] の password_env か password_file を使います)")
    if configured is None:
        raise MailboxError("IMAP からの再取り込みには [imap] の設定(パスワードの在りか、TLS)が必要です")
    tls = "implicit" if parts.scheme == "imaps" else configured.tls
    default_port = configured.port if parts.hostname == configured.host else (
        993 if tls == "implicit" else 143)
    return replace(
        configured,
        host=parts.hostname,
        port=parts.port or default_port,
        tls=tls,
        user=unquote(parts.username) if parts.username else configured.user,
        folder=unquote(parts.path.lstrip("/")) or "INBOX",
    )
