"""Fuzzing (hypothesis): the MIME parser and the archive unpacker never raise and stay fast on
arbitrary, structured-garbage and mutated real input; a replay of any generated folder of
mails records every one of them and exits 0.

Budgets are small for CI (100-200 examples, a few seconds per target); for a deeper run by
hand: `pytest tests/test_fuzz.py --hypothesis-seed=N` with other seeds, or raise max_examples.
"""

from __future__ import annotations

import csv
import io
import shutil
import sqlite3
import tempfile
import time
from collections.abc import Callable
from contextlib import redirect_stderr, redirect_stdout
from datetime import datetime
from pathlib import Path, PurePosixPath
from typing import TypeVar

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from ingest.cli import main
from parsers.archives import unpack
from parsers.limits import Limits
from parsers.mime import Attachment, MessageRecord, parse_message
from tests import hostile_factory as hf
from tests.archive_factory import Entry, build_aes_zip, build_zip, deflated_zeros
from tests.mails import VALID_ZIP, complete_mail
from tests.test_walking_skeleton import write_config

# No wall-clock deadline: each test bounds the CPU time of the code it calls (`within`), which a
# busy machine does not inflate.
T = TypeVar("T")
FAST = settings(max_examples=200, deadline=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


def within(seconds: float, call: Callable[[], T]) -> T:
    """`call()`, failing when it took more than `seconds` of this process's CPU time."""
    start = time.process_time()
    result = call()
    spent = time.process_time() - start
    assert spent < seconds, spent
    return result


# --------------------------------------------------------------------------- corpus seeds


def _corpus(corpus: Path, kind: str, max_bytes: int) -> list[bytes]:
    with (corpus / "MANIFEST.tsv").open(encoding="utf-8") as handle:
        rows = [r for r in csv.DictReader(handle, delimiter="\t") if r["kind"] == kind]
    files = [corpus / r["repo"].replace("/", "+") / r["path"] for r in rows]
    return [f.read_bytes() for f in files if f.stat().st_size <= max_bytes]


@pytest.fixture(scope="module")
def corpus_mails(corpus_dir: Path) -> list[bytes]:
    mails = _corpus(corpus_dir, "eml", 256 * 1024)
    assert len(mails) > 700
    return mails


@pytest.fixture(scope="module")
def corpus_zips(corpus_dir: Path) -> list[bytes]:
    zips = _corpus(corpus_dir, "zip", 256 * 1024)
    assert len(zips) > 150
    return zips


# --------------------------------------------------------------------------- mutations

# (position, new byte) edits, an optional cut, an optional duplicated slice, CRLF/LF swap:
# the damage real mail suffers in transit and in broken tools.
_EDITS = st.lists(st.tuples(st.integers(0, 2**20), st.integers(0, 255)), max_size=12)
_SLICE = st.one_of(st.none(), st.tuples(st.integers(0, 2**20), st.integers(0, 4096),
                                        st.integers(0, 2**20)))


@st.composite
def mutated(draw: st.DrawFn, seeds: list[bytes]) -> bytes:
    data = bytearray(draw(st.sampled_from(seeds)))
    if not data:
        return b""
    for pos, value in draw(_EDITS):
        data[pos % len(data)] = value
    spliced = draw(_SLICE)
    if spliced is not None:  # copy a slice somewhere else (boundaries and headers doubled)
        start, length, target = spliced
        start %= len(data)
        piece = data[start:start + length]
        at = target % (len(data) + 1)
        data[at:at] = piece
    if draw(st.booleans()):
        data = data[: draw(st.integers(0, len(data)))]
    if draw(st.booleans()):
        data = bytearray(data.replace(b"\r\n", b"\n") if b"\r\n" in data
                         else data.replace(b"\n", b"\r\n"))
    return bytes(data)


# --------------------------------------------------------------------------- MIME-shaped garbage

_CHARSETS = ["utf-8", "iso-2022-jp", "shift_jis", "cp932", "euc-jp", "x-unknown", "utf-7",
             "iso-8859-1", "", "utf-16", "base64", "rot13", "idna"]
_CTES = ["7bit", "8bit", "base64", "quoted-printable", "x-uuencode", "binary", "bogus", ""]
_TYPES = ["text/plain", "text/html", "application/zip", "application/octet-stream",
          "message/rfc822", "application/ms-tnef", "multipart/mixed", "text/plain; format=flowed"]
_NAMES = ["From", "To", "Subject", "Date", "Message-ID", "Received", "Return-Path", "References",
          "In-Reply-To", "Auto-Submitted", "Content-Type", "Content-Disposition", "X-Loop",
          "Precedence", "List-Id", "Content-Transfer-Encoding", "MIME-Version"]
_TEXT = st.text(alphabet=st.characters(codec="utf-8"), max_size=60)


@st.composite
def header_value(draw: st.DrawFn) -> bytes:
    kind = draw(st.integers(0, 4))
    text = draw(_TEXT)
    if kind == 0:  # an encoded word, possibly with a lying charset or encoding
        charset = draw(st.sampled_from(_CHARSETS))
        enc = draw(st.sampled_from(["b", "q", "B", "x"]))
        payload = draw(st.binary(max_size=40)).hex() if enc == "x" else text
        return f"=?{charset}?{enc}?{payload}?=".encode("utf-8", "surrogatepass")
    if kind == 1:  # RFC 2231 parameters, continued and charset-tagged
        charset = draw(st.sampled_from(_CHARSETS))
        return (f"attachment; filename*0*={charset}''{text[:20]}; filename*1*={text[20:]}"
                .encode("utf-8", "surrogatepass"))
    if kind == 2:
        return draw(st.binary(max_size=80))
    return text.encode("utf-8", "surrogatepass")


@st.composite
def mime_part(draw: st.DrawFn, depth: int = 0) -> bytes:
    headers = [draw(st.sampled_from(_NAMES)).encode() + b": " + draw(header_value())
               for _ in range(draw(st.integers(0, 6)))]
    if depth < 6 and draw(st.integers(0, 3)) == 0:
        boundary = draw(st.sampled_from(["b", "==x==", "", "a b", "--"]))
        children = [draw(mime_part(depth + 1)) for _ in range(draw(st.integers(0, 4)))]
        headers.append(f'Content-Type: multipart/mixed; boundary="{boundary}"'.encode())
        closing = [] if draw(st.booleans()) else [f"--{boundary}--".encode()]
        body = b"\r\n".join([part for child in children
                             for part in (f"--{boundary}".encode(), child)] + closing)
    else:
        ctype = draw(st.sampled_from(_TYPES))
        charset = draw(st.sampled_from(_CHARSETS))
        headers.append(f"Content-Type: {ctype}; charset={charset}; name=a.zip".encode())
        headers.append(b"Content-Transfer-Encoding: " + draw(st.sampled_from(_CTES)).encode())
        body = draw(st.binary(max_size=300))
    return b"\r\n".join(headers) + b"\r\n\r\n" + body


def _assert_record(record: MessageRecord) -> None:
    assert isinstance(record.subject, str) and isinstance(record.body, str)
    assert record.date is None or record.date.tzinfo is not None
    assert all(isinstance(a, Attachment) and isinstance(a.data, bytes) and isinstance(a.name, str)
               for a in record.attachments)
    assert all(isinstance(k, str) and isinstance(v, str) for k, v in record.headers)
    assert all(isinstance(p, str) for p in record.problems)


# --------------------------------------------------------------------------- MIME targets


@FAST
@given(raw=st.binary(max_size=8192))
# Found by a long run: broken base64 in a part whose charset is a codec without 'replace'.
@example(raw=b"ContenT-type:;charset=idna\rContent-Transfer-Encoding:base64\r/\x80")
def test_parse_message_never_raises_on_arbitrary_bytes(raw: bytes) -> None:
    _assert_record(within(2.0, lambda: parse_message(raw)))


@FAST
@given(raw=mime_part())
def test_parse_message_never_raises_on_mime_shaped_garbage(raw: bytes) -> None:
    _assert_record(within(2.0, lambda: parse_message(raw)))


@settings(FAST, max_examples=150)
@given(data=st.data())
def test_parse_message_never_raises_on_mutated_corpus_mails(corpus_mails: list[bytes],
                                                            data: st.DataObject) -> None:
    raw = data.draw(mutated(corpus_mails))
    _assert_record(within(1.0, lambda: parse_message(raw)))


# --------------------------------------------------------------------------- archive target

_SMALL = Limits(max_total_bytes=8 * hf.MB, max_member_bytes=4 * hf.MB, max_members=200)


def _zip_seeds() -> list[bytes]:
    return [
        VALID_ZIP.read_bytes(),
        build_aes_zip([(b"4_koufu.xlsx", b"aes data " * 50), (b"memo.txt", b"x")], b"pw"),
        build_zip([Entry(b"a.txt", b"secret " * 40, password=b"pw"), Entry(b"b/c.txt", b"c")]),
        hf.symlink_zip(),
        hf.nesting_bomb(6),
        hf.wide_nesting_bomb(8, 4),
        hf.overlapped(Entry(b"copy.bin", bytes(range(256)) * 1024, deflate=False), 64),
        build_zip([Entry(b"zeros.bin", precompressed=deflated_zeros(hf.MB))]),
    ]


@settings(FAST, max_examples=200)
@given(data=st.data())
def test_unpack_never_raises_or_overruns_on_mutated_zips(corpus_zips: list[bytes],
                                                         data: st.DataObject) -> None:
    blob = data.draw(mutated(corpus_zips + _zip_seeds()))
    passwords = data.draw(st.lists(st.sampled_from(["pw", "", "パスワード", "\x00"]), max_size=2))
    name = data.draw(st.sampled_from(["a.zip", "winmail.dat", "x.msg", "x"]))
    result = within(2.0, lambda: unpack(name, blob, limits=_SMALL, passwords=passwords))
    # The limits hold whatever the bytes say about themselves.
    assert sum(len(f.data) for f in result.files) <= _SMALL.max_total_bytes
    assert all(len(f.data) <= _SMALL.max_member_bytes for f in result.files)
    for file in result.files:
        parts = PurePosixPath(file.path).parts
        assert ".." not in parts and not file.path.startswith("/") and file.path
    for problem in result.problems:
        assert problem.code in ("ATTACHMENT_UNREADABLE", "ARCHIVE_PASSWORD_WRONG")
        assert problem.detail


# --------------------------------------------------------------------------- pipeline property


def _any_mail(corpus_mails: list[bytes]) -> st.SearchStrategy[bytes]:
    cheap_hostile = [hf.nul_bytes(), hf.broken_base64(), hf.broken_quoted_printable(),
                     hf.nested_mime(50), hf.auto_replied(), hf.x_loop("it-renkei@example.go.jp"),
                     hf.hostile("fz", {"a.zip": hf.symlink_zip()}),
                     complete_mail("<fuzz-complete@minato-seiki.example.jp>")]
    return st.one_of(st.binary(max_size=2048), mime_part(), mutated(corpus_mails),
                     mutated(cheap_hostile))


def _scratch() -> Path:
    # The ledger fsyncs every mail; memory-backed storage keeps a hundred replays quick.
    shm = Path("/dev/shm")
    return Path(tempfile.mkdtemp(prefix="renkei-fuzz-", dir=shm if shm.is_dir() else None))


@settings(max_examples=60, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(data=st.data())
def test_replay_of_any_folder_records_every_mail(corpus_mails: list[bytes],
                                                 data: st.DataObject) -> None:
    mails = data.draw(st.lists(_any_mail(corpus_mails), min_size=1, max_size=6))
    root = _scratch()
    try:
        folder = root / "mails"
        folder.mkdir()
        stamp = datetime.now().strftime("%H%M%S%f")
        for n, raw in enumerate(mails):
            # Our own first Message-ID makes every file a distinct mail, whatever follows.
            (folder / f"{n:02d}.eml").write_bytes(
                f"Message-ID: <fuzz-{stamp}-{n}@fuzz.invalid>\r\n".encode() + raw)
        config = write_config(root)
        out = io.StringIO()
        with redirect_stdout(out), redirect_stderr(io.StringIO()):
            code = main(["--config", str(config), "replay", str(folder)])
        assert code == 0, out.getvalue()
        with sqlite3.connect(root / "ledger.db") as db:
            states = [r[0] for r in db.execute("SELECT state FROM messages")]
            orphans = db.execute("SELECT count(*) FROM messages WHERE state != 'quarantined' "
                                 "AND submission_id IS NULL").fetchone()[0]
        assert len(states) == len(mails)
        assert set(states) <= {"checked", "needs_review", "quarantined"}, states
        assert orphans == 0  # every mail that was read belongs to a submission
    finally:
        shutil.rmtree(root, ignore_errors=True)
