"""Attachments in, files out: zip (plain, ZipCrypto, AES), TNEF, Outlook .msg, encrypted Office.

Everything happens in memory and nothing is ever written: the caller gets bytes and safe
display paths, and decides what to store. Limits are enforced *while* reading, chunk by chunk,
so a zip bomb is stopped long before it fills memory. Bad input never raises out of `unpack`;
it becomes a `Problem` with a plain-Japanese detail naming the file.

Decisions worth knowing (see also the docstring of `unpack`):

- A zip with any encrypted member and no password goes whole to `encrypted` (its member names
  listed, nothing extracted), so the archive is handled as one unit once the password mail
  arrives: call `unpack(enc.path, enc.data, passwords=...)` then.
- An encrypted Office file (xlsx/docx/pptx in an OLE2 EncryptedPackage, or a legacy .xls/.doc/
  .ppt with its encryption flag) is treated like an encrypted archive: without a password it
  goes to `encrypted` (member_names is just its own name); with passwords it is decrypted with
  msoffcrypto-tool; no password fits -> ARCHIVE_PASSWORD_WRONG; a scheme the library cannot
  decrypt -> ATTACHMENT_UNREADABLE. Legacy files "encrypted" with Excel's built-in default
  password (VelvetSweatshop: workbook protection, opens without asking) are decrypted silently.
- Folder entries and OS clutter (__MACOSX/, ._* resource forks, .DS_Store, Thumbs.db,
  desktop.ini) are skipped silently: they never hold a document.
- Member names are decoded by `parsers.zipnames.decode_member_name`.
"""

from __future__ import annotations

import io
import zlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from pyzipper import zipfile as pzf

from parsers.containers import (
    DeclaredCountTooLarge,
    msg_attachments,
    open_msg,
    tnef_attachments,
)
from parsers.filetypes import sniff, zip_directory_counts
from parsers.limits import Limits
from parsers.officecrypt import (
    EXCEL_DEFAULT_PASSWORD,
    is_ooxml_package,
    office_decrypt,
    office_spin_count,
)
from parsers.passwordvariants import password_bytes, password_texts
from parsers.safepaths import is_os_clutter, safe_relative_path, unique_path
from parsers.unpackwords import (
    broken_detail,
    declared_count_reason,
    limit_detail,
    member_broken_detail,
    member_size_reason,
    office_spin_detail,
    office_unreadable_detail,
    ratio_reason,
    total_reason,
    wrong_password_detail,
)
from parsers.zipnames import decode_member_name
from parsers.zipreader import CHUNK, SUPPORTED_METHODS, BoundedZipFile, ZipMember, raw_name

UNREADABLE = "ATTACHMENT_UNREADABLE"
PASSWORD_WRONG = "ARCHIVE_PASSWORD_WRONG"

# Central-directory entries are ~46 bytes plus name/extra/comment; a legitimate archive stays
# far below this average, a directory built to exhaust memory does not.
_MAX_DIRECTORY_BYTES_PER_ENTRY = 4096
_UNSUPPORTED_ARCHIVES = {"lzh": "LZH", "7z": "7z", "rar": "RAR", "gzip": "gzip"}

_DEFAULT_LIMITS = Limits()


@dataclass(frozen=True)
class ExtractedFile:
    path: str  # safe relative display path, e.g. "申請書類.zip/4_交付申請書.xlsx"
    name: str  # base name, decoded
    raw_name: bytes | None  # zip member name bytes as stored (None outside zips)
    kind: str  # sniff() result
    data: bytes
    # True when the stored name was unsafe ("../x", "/etc/x", "C:\\x", control characters)
    # or clashed with an earlier file, and `path` was rewritten. A fact, not a finding.
    path_sanitised: bool = False


@dataclass(frozen=True)
class Problem:
    code: str  # "ATTACHMENT_UNREADABLE" or "ARCHIVE_PASSWORD_WRONG" (SPEC §4)
    path: str
    detail: str  # plain Japanese, names the file


@dataclass(frozen=True)
class EncryptedArchive:
    path: str
    member_names: tuple[str, ...]  # read from the directory, before any decryption
    data: bytes


@dataclass(frozen=True)
class Unpacked:
    files: list[ExtractedFile]
    problems: list[Problem]
    encrypted: list[EncryptedArchive]  # still awaiting a password
    inflated: int = 0  # bytes extracted, counted against the mail's max_total_bytes
    members: int = 0  # archive entries seen, counted against the mail's max_members


def unpack(
    name: str, data: bytes, *, limits: Limits = _DEFAULT_LIMITS, passwords: Sequence[str] = ()
) -> Unpacked:
    """Turn one mail attachment into the files it carries. Never raises.

    Archives (zip, TNEF winmail.dat, Outlook .msg) are opened recursively up to
    `limits.max_depth`; every other file comes back as itself. Each password is tried (as
    given, trimmed and NFKC-normalised; encoded as UTF-8 and as CP932) on every encrypted
    member and encrypted Office file.
    """
    top = safe_relative_path(name)[0] or "添付ファイル"
    texts = password_texts(passwords)
    unpacker = _Unpacker(limits, password_bytes(texts), texts)
    try:
        unpacker.dispatch(top, None, data, depth=0)
    except _TotalExceeded as exc:
        # Past the mail's budget: what was extracted is incomplete, so none of it is judged.
        unpacker.files.clear()
        unpacker.problem(UNREADABLE, exc.path, limit_detail(exc.path, exc.reason))
    except Exception as exc:  # the last net: one hostile attachment must not stop the mail
        unpacker.problem(UNREADABLE, top, broken_detail(top, exc))
    return Unpacked(unpacker.files, unpacker.problems, unpacker.encrypted,
                    unpacker.total_bytes, unpacker.members)


# --------------------------------------------------------------------------- internals


class _LimitExceeded(Exception):
    def __init__(self, path: str, reason: str) -> None:
        super().__init__(reason)
        self.path = path
        self.reason = reason


class _TotalExceeded(_LimitExceeded):
    """The whole unpack is over budget: stop everything, not just the current archive."""


class _WrongPassword(Exception):
    pass


@dataclass
class _Unpacker:
    limits: Limits
    passwords: list[bytes]  # for zip members: each text in the encodings tools use
    password_texts: list[str]  # for Office files (msoffcrypto takes text)
    files: list[ExtractedFile] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    encrypted: list[EncryptedArchive] = field(default_factory=list)
    total_bytes: int = 0
    members: int = 0
    used_paths: set[str] = field(default_factory=set)

    def problem(self, code: str, path: str, detail: str) -> None:
        self.problems.append(Problem(code, path, detail))

    # -- dispatch by kind

    def dispatch(
        self, path: str, raw_name: bytes | None, data: bytes, depth: int, renamed: bool = False
    ) -> None:
        kind = sniff(data, path.rsplit("/", 1)[-1])
        container: Callable[[str, bytes, int], None] | None = {
            "zip": self.open_zip,
            "tnef": self.open_tnef,
            "msg": self.open_msg,
        }.get(kind)
        if container is not None:
            if depth >= self.limits.max_depth:
                reason = f"圧縮ファイル等の入れ子が{self.limits.max_depth}階層を超えています"
                self.problem(UNREADABLE, path, limit_detail(path, reason))
                return
            container(path, data, depth)
        elif kind == "office-encrypted":
            self.open_office(path, raw_name, data, renamed)
        elif kind in _UNSUPPORTED_ARCHIVES:
            fmt = _UNSUPPORTED_ARCHIVES[kind]
            self.problem(
                UNREADABLE,
                path,
                f"「{path}」は{fmt}形式の圧縮ファイルのため開けません。"
                "zip形式で圧縮し直して送付してください。",
            )
        else:
            self.add_file(path, raw_name, kind, data, renamed)

    def add_file(
        self, path: str, raw_name: bytes | None, kind: str, data: bytes, renamed: bool
    ) -> None:
        unique = unique_path(path, self.used_paths)
        self.used_paths.add(unique)
        name = unique.rsplit("/", 1)[-1]
        self.files.append(ExtractedFile(unique, name, raw_name, kind, data, renamed or unique != path))

    # -- zip

    def open_zip(self, path: str, data: bytes, depth: int) -> None:
        entries = self.zip_entries(path, data)
        if entries is None:
            return
        zf, members = entries
        with zf:
            if any(m.info.flag_bits & 0x1 for m in members) and not self.passwords:
                names = tuple(m.rel for m in members)
                self.encrypted.append(EncryptedArchive(path, names, data))
                return
            wrong: list[str] = []
            kept = len(self.files)
            extracted = 0
            for member in members:
                try:
                    content = self.read_member(zf, member, path, len(data))
                    extracted += len(content)
                    if self.whole_ratio_exceeded(extracted, len(data)):
                        raise _LimitExceeded(path, ratio_reason(self.limits))
                except _WrongPassword:
                    wrong.append(member.rel)
                    continue
                except _TotalExceeded:
                    raise
                except _LimitExceeded as exc:
                    self.problem(UNREADABLE, exc.path, limit_detail(exc.path, exc.reason))
                    # A hostile archive gets no further attention: none of its files are kept.
                    del self.files[kept:]
                    return
                except Exception as exc:
                    full = f"{path}/{member.rel}"
                    self.problem(UNREADABLE, full, member_broken_detail(full, exc))
                    continue
                self.dispatch(f"{path}/{member.rel}", member.raw, content, depth + 1, member.renamed)
            if wrong:
                self.problem(PASSWORD_WRONG, path, wrong_password_detail(path, wrong))

    def whole_ratio_exceeded(self, extracted: int, archive_size: int) -> bool:
        """Many members each just under the ratio floor still make a bomb: the archive as a
        whole is held to the same ratio."""
        lim = self.limits
        return extracted > lim.ratio_floor_bytes and extracted > lim.max_ratio * archive_size

    def zip_entries(self, path: str, data: bytes) -> tuple[BoundedZipFile, list[ZipMember]] | None:
        counts = zip_directory_counts(data)
        room = self.limits.max_members - self.members
        if counts is not None and (
            counts[0] > room or counts[1] > room * _MAX_DIRECTORY_BYTES_PER_ENTRY
        ):
            reason = f"ファイル数が上限（{self.limits.max_members}個）を超えています"
            self.problem(UNREADABLE, path, limit_detail(path, reason))
            return None
        try:
            zf = BoundedZipFile(io.BytesIO(data))
        except Exception as exc:
            self.problem(UNREADABLE, path, broken_detail(path, exc))
            return None
        infos = zf.infolist()
        if len(infos) > room:
            zf.close()
            reason = f"ファイル数が上限（{self.limits.max_members}個）を超えています"
            self.problem(UNREADABLE, path, limit_detail(path, reason))
            return None
        self.members += len(infos)
        members: list[ZipMember] = []
        for index, info in enumerate(infos):
            member = ZipMember.of(info, index)
            if member.is_dir or is_os_clutter(member.rel):
                continue
            if member.is_symlink:
                full = f"{path}/{member.rel}"
                self.problem(
                    UNREADABLE,
                    full,
                    f"「{full}」はリンク（シンボリックリンク）のため、安全のため取り出していません。",
                )
                continue
            members.append(member)
        return zf, members

    def read_member(self, zf: BoundedZipFile, member: ZipMember, path: str, archive_size: int) -> bytes:
        info = member.info
        full = f"{path}/{member.rel}"
        if info.compress_type not in SUPPORTED_METHODS:
            raise NotImplementedError(f"method {info.compress_type}")
        if not info.flag_bits & 0x1:
            return self.read_limited(zf, info, None, full, archive_size)
        verifier_passed = False
        for pwd in self.passwords:
            try:
                return self.read_limited(zf, info, pwd, full, archive_size)
            except _LimitExceeded:
                raise
            except RuntimeError as exc:
                if "password" not in str(exc).lower():
                    raise
            except (pzf.BadZipFile, zlib.error, EOFError):
                # The 1- or 2-byte password check passed but the data did not verify (or did
                # not even inflate): either a wrong password that slipped through the short
                # check (1 in 256 for ZipCrypto), or damaged data.
                verifier_passed = True
        if verifier_passed:
            raise pzf.BadZipFile("data does not verify with any password")
        raise _WrongPassword(full)

    def read_limited(
        self, zf: BoundedZipFile, info: pzf.ZipInfo, pwd: bytes | None, full: str, archive_size: int
    ) -> bytes:
        lim = self.limits
        if info.file_size > lim.max_member_bytes:
            raise _LimitExceeded(full, member_size_reason(lim))
        if self.total_bytes + info.file_size > lim.max_total_bytes:
            raise _TotalExceeded(full, total_reason(lim))
        # The directory's compressed size is attacker-controlled; the archive size is not.
        compressed = max(1, min(info.compress_size, archive_size))
        buf = bytearray()
        with zf.open(info, pwd=pwd) as fh:
            while chunk := fh.read(CHUNK):
                buf += chunk
                if len(buf) > lim.max_member_bytes:
                    raise _LimitExceeded(full, member_size_reason(lim))
                if self.total_bytes + len(buf) > lim.max_total_bytes:
                    raise _TotalExceeded(full, total_reason(lim))
                if len(buf) > lim.ratio_floor_bytes and len(buf) > lim.max_ratio * compressed:
                    raise _LimitExceeded(full, ratio_reason(lim))
        self.total_bytes += len(buf)
        return bytes(buf)

    # -- TNEF and Outlook .msg: their attachments become files one level down

    def open_tnef(self, path: str, data: bytes, depth: int) -> None:
        try:
            attachments = tnef_attachments(data)
        except DeclaredCountTooLarge as exc:
            self.problem(UNREADABLE, path, limit_detail(path, declared_count_reason(exc)))
            return
        except Exception as exc:
            self.problem(UNREADABLE, path, broken_detail(path, exc))
            return
        for index, (name, content) in enumerate(attachments):
            self.add_child(path, name, content, depth, index)

    def open_msg(self, path: str, data: bytes, depth: int) -> None:
        try:
            msg = open_msg(data)
        except Exception as exc:
            self.problem(UNREADABLE, path, broken_detail(path, exc))
            return
        for index, name, content in msg_attachments(msg):
            self.add_child(path, name, content, depth, index)

    def add_child(self, parent: str, name: str, content: bytes, depth: int, index: int) -> None:
        rel, renamed = safe_relative_path(name)
        # Container attachments are flat: a "/" in an attachment name is not a folder.
        rel = rel.replace("/", "_") or f"添付{index + 1}"
        full = f"{parent}/{rel}"
        self.members += 1
        if self.members > self.limits.max_members:
            reason = f"ファイル数が上限（{self.limits.max_members}個）を超えています"
            raise _TotalExceeded(full, reason)
        if len(content) > self.limits.max_member_bytes:
            self.problem(UNREADABLE, full, limit_detail(full, member_size_reason(self.limits)))
            return
        self.total_bytes += len(content)
        if self.total_bytes > self.limits.max_total_bytes:
            raise _TotalExceeded(full, total_reason(self.limits))
        self.dispatch(full, None, content, depth + 1, renamed)

    # -- encrypted Office files

    def open_office(self, path: str, raw_name: bytes | None, data: bytes, renamed: bool) -> None:
        from msoffcrypto.exceptions import InvalidKeyError

        # Judged before any password is tried: each try would pay the whole derivation.
        rounds = office_spin_count(data)
        if rounds > self.limits.max_office_spin_count:
            self.problem(UNREADABLE, path, office_spin_detail(path, rounds, self.limits))
            return
        # Only legacy formats use Excel's built-in password; an OOXML attempt costs 100,000
        # hash rounds, so it is not wasted there.
        default = [] if is_ooxml_package(data) else [EXCEL_DEFAULT_PASSWORD]
        for password in [*default, *self.password_texts]:
            try:
                plain = office_decrypt(data, password)
            except InvalidKeyError:
                continue
            except Exception:
                # A scheme the library cannot decrypt: no password mail will help.
                self.problem(UNREADABLE, path, office_unreadable_detail(path))
                return
            if len(plain) > self.limits.max_member_bytes:
                reason = member_size_reason(self.limits)
                self.problem(UNREADABLE, path, limit_detail(path, reason))
                return
            self.total_bytes += len(plain)
            if self.total_bytes > self.limits.max_total_bytes:
                raise _TotalExceeded(path, total_reason(self.limits))
            kind = sniff(plain, path.rsplit("/", 1)[-1])
            if kind == "office-encrypted":
                self.problem(UNREADABLE, path, office_unreadable_detail(path))
            else:
                self.add_file(path, raw_name, kind, plain, renamed)
            return
        if self.password_texts:
            self.problem(PASSWORD_WRONG, path, wrong_password_detail(path, []))
        else:
            self.encrypted.append(EncryptedArchive(path, (path.rsplit("/", 1)[-1],), data))


def locked_members(name: str, data: bytes) -> tuple[str, ...]:
    """Whether an attachment is an encrypted archive or Office file, read from its directory
    alone (nothing is decompressed): the cheap question asked when a mail arrives, so that a
    later password mail can find it. Never raises; nested archives are `unpack`'s to see."""
    kind = sniff(data, name)
    if kind == "office-encrypted":
        return (name,)
    if kind != "zip":
        return ()
    counts = zip_directory_counts(data)
    if counts is not None and counts[0] > Limits().max_members:
        return ()  # a directory built to exhaust memory: unpack reports it
    try:
        with BoundedZipFile(io.BytesIO(data)) as zf:
            return tuple(decode_member_name(raw_name(i), i.flag_bits, i.extra, i.create_system)
                         for i in zf.infolist() if i.flag_bits & 0x1)
    except Exception:  # a broken archive is unpack's to report
        return ()
