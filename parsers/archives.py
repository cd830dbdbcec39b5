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
- Member names: UTF-8 when flag bit 11 is set; else the Info-ZIP Unicode Path extra field
  (0x7075) when its CRC matches; else UTF-8 when the bytes are valid UTF-8 (macOS Archive
  Utility writes UTF-8 without the flag); else CP932 when it reads as Japanese; else CP866,
  KOI8-R, CP1251 or ISO-8859-5 when exactly one reads as Cyrillic words; else cp437.
"""

from __future__ import annotations

import bz2
import io
import lzma
import re
import stat
import struct
import unicodedata
import zlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import PurePosixPath

import pyzipper
from pyzipper import zipfile as pzf
from pyzipper import zipfile_aes as pza

from parsers.cyrillic import cyrillic_reading
from parsers.filetypes import sniff, zip_directory_counts
from parsers.japanese import reads_as_japanese

UNREADABLE = "ATTACHMENT_UNREADABLE"
PASSWORD_WRONG = "ARCHIVE_PASSWORD_WRONG"

_CHUNK = 64 * 1024
# Central-directory entries are ~46 bytes plus name/extra/comment; a legitimate archive stays
# far below this average, a directory built to exhaust memory does not.
_MAX_DIRECTORY_BYTES_PER_ENTRY = 4096
_MAX_SEGMENT_CHARS = 200
_EXCEL_DEFAULT_PASSWORD = "VelvetSweatshop"
_UNSUPPORTED_ARCHIVES = {"lzh": "LZH", "7z": "7z", "rar": "RAR", "gzip": "gzip"}
_METHOD_NAMES = {9: "Deflate64", 98: "PPMd", 95: "XZ", 93: "Zstandard", 6: "Implode"}
_CLUTTER_NAMES = {".DS_Store", "Thumbs.db", "desktop.ini"}
_SUPPORTED_METHODS = {pzf.ZIP_STORED, pzf.ZIP_DEFLATED, pzf.ZIP_BZIP2, pzf.ZIP_LZMA}


@dataclass(frozen=True)
class Limits:
    """Safety limits for reading one mail's attachments (all levels of nesting together).

    `unpack` enforces the archive limits for one call; the caller passes what is left of the
    mail's budget. The last fields are enforced around the parsers: the workbook bounds by
    `parsers.workbook_size` before a reader loads a workbook, the MIME parts by `parsers.mime`, the
    time and memory by the child process the application reads attachments in.
    """

    max_total_bytes: int = 100 * 1024 * 1024  # everything extracted, all attachments together
    max_member_bytes: int = 50 * 1024 * 1024  # one extracted file
    max_ratio: float = 200.0  # extracted / compressed size of one member
    max_members: int = 1000  # archive entries, all archives together
    max_depth: int = 3  # archives inside archives (the attachment itself is level 0)
    # The ratio is judged only past this many extracted bytes: small, very regular files
    # (an empty sheet, a text of spaces) compress far better than 200:1 and are harmless.
    ratio_floor_bytes: int = 1024 * 1024
    max_parts: int = 700  # MIME parts of one mail read (more: the rest is not read)
    max_workbook_xml_bytes: int = 32 * 1024 * 1024  # a workbook's XML parts, inflated
    max_workbook_cells: int = 200_000  # cells of all sheets (a real form has a few thousand)
    max_workbook_strings: int = 200_000  # entries of the shared-string table
    max_parse_seconds: float = 10.0  # CPU seconds for reading one mail's attachments
    max_parse_memory: int = 256 * 1024 * 1024  # memory the reading may add to its process


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
    name: str, data: bytes, *, limits: Limits = Limits(), passwords: Sequence[str] = ()
) -> Unpacked:
    """Turn one mail attachment into the files it carries. Never raises.

    Archives (zip, TNEF winmail.dat, Outlook .msg) are opened recursively up to
    `limits.max_depth`; every other file comes back as itself. Each password is tried (as
    given, trimmed and NFKC-normalised; encoded as UTF-8 and as CP932) on every encrypted
    member and encrypted Office file.
    """
    top = _safe_relative_path(name)[0] or "添付ファイル"
    texts = _password_texts(passwords)
    unpacker = _Unpacker(limits, _password_bytes(texts), texts)
    try:
        unpacker.dispatch(top, None, data, depth=0)
    except _TotalExceeded as exc:
        # Past the mail's budget: what was extracted is incomplete, so none of it is judged.
        unpacker.files.clear()
        unpacker.problem(UNREADABLE, exc.path, _limit_detail(exc.path, exc.reason))
    except Exception as exc:  # the last net: one hostile attachment must not stop the mail
        unpacker.problem(UNREADABLE, top, _broken_detail(top, exc))
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
                self.problem(UNREADABLE, path, _limit_detail(path, reason))
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
        unique = _unique_path(path, self.used_paths)
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
                        raise _LimitExceeded(path, _ratio_reason(self.limits))
                except _WrongPassword:
                    wrong.append(member.rel)
                    continue
                except _TotalExceeded:
                    raise
                except _LimitExceeded as exc:
                    self.problem(UNREADABLE, exc.path, _limit_detail(exc.path, exc.reason))
                    # A hostile archive gets no further attention: none of its files are kept.
                    del self.files[kept:]
                    return
                except Exception as exc:
                    full = f"{path}/{member.rel}"
                    self.problem(UNREADABLE, full, _member_broken_detail(full, exc))
                    continue
                self.dispatch(f"{path}/{member.rel}", member.raw, content, depth + 1, member.renamed)
            if wrong:
                self.problem(PASSWORD_WRONG, path, _wrong_password_detail(path, wrong))

    def whole_ratio_exceeded(self, extracted: int, archive_size: int) -> bool:
        """Many members each just under the ratio floor still make a bomb: the archive as a
        whole is held to the same ratio."""
        lim = self.limits
        return extracted > lim.ratio_floor_bytes and extracted > lim.max_ratio * archive_size

    def zip_entries(self, path: str, data: bytes) -> tuple[_ZipFile, list[_Member]] | None:
        counts = zip_directory_counts(data)
        room = self.limits.max_members - self.members
        if counts is not None and (
            counts[0] > room or counts[1] > room * _MAX_DIRECTORY_BYTES_PER_ENTRY
        ):
            reason = f"ファイル数が上限（{self.limits.max_members}個）を超えています"
            self.problem(UNREADABLE, path, _limit_detail(path, reason))
            return None
        try:
            zf = _ZipFile(io.BytesIO(data))
        except Exception as exc:
            self.problem(UNREADABLE, path, _broken_detail(path, exc))
            return None
        infos = zf.infolist()
        if len(infos) > room:
            zf.close()
            reason = f"ファイル数が上限（{self.limits.max_members}個）を超えています"
            self.problem(UNREADABLE, path, _limit_detail(path, reason))
            return None
        self.members += len(infos)
        members: list[_Member] = []
        for index, info in enumerate(infos):
            member = _Member.of(info, index)
            if member.is_dir or _is_os_clutter(member.rel):
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

    def read_member(self, zf: _ZipFile, member: _Member, path: str, archive_size: int) -> bytes:
        info = member.info
        full = f"{path}/{member.rel}"
        if info.compress_type not in _SUPPORTED_METHODS:
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
        self, zf: _ZipFile, info: pzf.ZipInfo, pwd: bytes | None, full: str, archive_size: int
    ) -> bytes:
        lim = self.limits
        if info.file_size > lim.max_member_bytes:
            raise _LimitExceeded(full, _member_size_reason(lim))
        if self.total_bytes + info.file_size > lim.max_total_bytes:
            raise _TotalExceeded(full, _total_reason(lim))
        # The directory's compressed size is attacker-controlled; the archive size is not.
        compressed = max(1, min(info.compress_size, archive_size))
        buf = bytearray()
        with zf.open(info, pwd=pwd) as fh:
            while chunk := fh.read(_CHUNK):
                buf += chunk
                if len(buf) > lim.max_member_bytes:
                    raise _LimitExceeded(full, _member_size_reason(lim))
                if self.total_bytes + len(buf) > lim.max_total_bytes:
                    raise _TotalExceeded(full, _total_reason(lim))
                if len(buf) > lim.ratio_floor_bytes and len(buf) > lim.max_ratio * compressed:
                    raise _LimitExceeded(full, _ratio_reason(lim))
        self.total_bytes += len(buf)
        return bytes(buf)

    # -- TNEF and Outlook .msg: their attachments become files one level down

    def open_tnef(self, path: str, data: bytes, depth: int) -> None:
        import tnefparse

        try:
            tnef = tnefparse.TNEF(data)
        except Exception as exc:
            self.problem(UNREADABLE, path, _broken_detail(path, exc))
            return
        for index, att in enumerate(tnef.attachments):
            content = att.data if isinstance(att.data, bytes) else b""
            self.add_child(path, _tnef_name(att), content, depth, index)

    def open_msg(self, path: str, data: bytes, depth: int) -> None:
        import extract_msg

        try:
            msg = extract_msg.openMsg(io.BytesIO(data), strict=False)
        except Exception as exc:
            self.problem(UNREADABLE, path, _broken_detail(path, exc))
            return
        try:
            for index, att in enumerate(msg.attachments):
                content = _msg_attachment_bytes(att)
                if content is None:
                    continue  # a link to a cloud file: nothing attached to read
                name = getattr(att, "longFilename", None) or getattr(att, "shortFilename", None)
                if not name:
                    embedded = not isinstance(getattr(att, "data", None), bytes)
                    name = f"添付{index + 1}" + (".msg" if embedded else "")
                self.add_child(path, str(name), content, depth, index)
        finally:
            msg.close()

    def add_child(self, parent: str, name: str, content: bytes, depth: int, index: int) -> None:
        rel, renamed = _safe_relative_path(name)
        # Container attachments are flat: a "/" in an attachment name is not a folder.
        rel = rel.replace("/", "_") or f"添付{index + 1}"
        full = f"{parent}/{rel}"
        self.members += 1
        if self.members > self.limits.max_members:
            reason = f"ファイル数が上限（{self.limits.max_members}個）を超えています"
            raise _TotalExceeded(full, reason)
        if len(content) > self.limits.max_member_bytes:
            self.problem(UNREADABLE, full, _limit_detail(full, _member_size_reason(self.limits)))
            return
        self.total_bytes += len(content)
        if self.total_bytes > self.limits.max_total_bytes:
            raise _TotalExceeded(full, _total_reason(self.limits))
        self.dispatch(full, None, content, depth + 1, renamed)

    # -- encrypted Office files

    def open_office(self, path: str, raw_name: bytes | None, data: bytes, renamed: bool) -> None:
        from msoffcrypto.exceptions import InvalidKeyError

        # Only legacy formats use Excel's built-in password; an OOXML attempt costs 100,000
        # hash rounds, so it is not wasted there.
        default = [] if _is_ooxml_package(data) else [_EXCEL_DEFAULT_PASSWORD]
        for password in [*default, *self.password_texts]:
            try:
                plain = _office_decrypt(data, password)
            except InvalidKeyError:
                continue
            except Exception:
                # A scheme the library cannot decrypt: no password mail will help.
                self.problem(UNREADABLE, path, _office_unreadable_detail(path))
                return
            if len(plain) > self.limits.max_member_bytes:
                reason = _member_size_reason(self.limits)
                self.problem(UNREADABLE, path, _limit_detail(path, reason))
                return
            self.total_bytes += len(plain)
            if self.total_bytes > self.limits.max_total_bytes:
                raise _TotalExceeded(path, _total_reason(self.limits))
            kind = sniff(plain, path.rsplit("/", 1)[-1])
            if kind == "office-encrypted":
                self.problem(UNREADABLE, path, _office_unreadable_detail(path))
            else:
                self.add_file(path, raw_name, kind, plain, renamed)
            return
        if self.password_texts:
            self.problem(PASSWORD_WRONG, path, _wrong_password_detail(path, []))
        else:
            self.encrypted.append(EncryptedArchive(path, (path.rsplit("/", 1)[-1],), data))


def _is_ooxml_package(data: bytes) -> bool:
    import olefile

    try:
        with olefile.OleFileIO(io.BytesIO(data)) as ole:
            return bool(ole.exists("EncryptedPackage"))
    except Exception:
        return False


def _office_decrypt(data: bytes, password: str) -> bytes:
    """Decrypt with msoffcrypto-tool; InvalidKeyError when the password is wrong."""
    import msoffcrypto

    office = msoffcrypto.OfficeFile(io.BytesIO(data))
    try:
        # OOXML checks the password only when asked to; legacy formats always check it and
        # do not accept the keyword.
        office.load_key(password=password, verify_password=True)
    except TypeError:
        office.load_key(password=password)
    out = io.BytesIO()
    office.decrypt(out)
    return out.getvalue()


@dataclass(frozen=True)
class _Member:
    info: pzf.ZipInfo
    rel: str  # safe relative path inside its archive
    raw: bytes
    renamed: bool
    is_dir: bool
    is_symlink: bool

    @classmethod
    def of(cls, info: pzf.ZipInfo, index: int) -> _Member:
        raw = _raw_name(info)
        decoded = decode_member_name(raw, info.flag_bits, info.extra)
        rel, renamed = _safe_relative_path(decoded)
        mode = (info.external_attr >> 16) & 0xFFFF
        return cls(
            info=info,
            rel=rel or f"名称なし{index + 1}",
            raw=raw,
            renamed=renamed or not rel,
            is_dir=decoded.endswith(("/", "\\")) or stat.S_ISDIR(mode),
            is_symlink=stat.S_ISLNK(mode),
        )


# --------------------------------------------------------------------------- zip reading


class _BoundedExtFile(pza.AESZipExtFile):
    """pyzipper's member reader, with bzip2 and LZMA made to honour the read size.

    pyzipper bounds Deflate output per read, but hands bzip2/LZMA input to the decompressor
    without a size cap: 4 KB of bzip2 can expand to gigabytes in one call. Here those two use
    `max_length`, exactly like the Deflate path does.
    """

    def get_decompressor(self, compress_type: int):  # noqa: ANN201 - overrides untyped code
        if compress_type == pzf.ZIP_BZIP2:
            return bz2.BZ2Decompressor()
        if compress_type == pzf.ZIP_LZMA:
            return _BoundedLZMA()
        return super().get_decompressor(compress_type)

    def _read1(self, n: int) -> bytes:
        if self._compress_type in (pzf.ZIP_STORED, pzf.ZIP_DEFLATED):
            return super()._read1(n)
        if self._eof or n <= 0:
            return b""
        raw = self._read2(n) if self._decompressor.needs_input else b""
        data = self._decompressor.decompress(raw, max(n, self.MIN_READ_SIZE))
        self._eof = self._decompressor.eof or (
            self._compress_left <= 0 and self._decompressor.needs_input and not data
        )
        data = data[: self._left]
        self._left -= len(data)
        if self._left <= 0:
            self._eof = True
        self._update_crc(data)
        if self._eof:
            self.check_integrity()
        return data


class _BoundedLZMA:
    """LZMA as stored in zip (a small properties header, then raw LZMA1), with max_length."""

    def __init__(self) -> None:
        self._decomp: lzma.LZMADecompressor | None = None
        self._header = b""
        self.eof = False
        self.needs_input = True

    def decompress(self, data: bytes, max_length: int = _CHUNK) -> bytes:
        if self._decomp is None:
            self._header += data
            if len(self._header) <= 4:
                return b""
            (psize,) = struct.unpack("<H", self._header[2:4])
            if len(self._header) <= 4 + psize:
                return b""
            props = self._header[4 : 4 + psize]
            filters = [lzma._decode_filter_properties(lzma.FILTER_LZMA1, props)]  # type: ignore[attr-defined]
            self._decomp = lzma.LZMADecompressor(lzma.FORMAT_RAW, filters=filters)
            data = self._header[4 + psize :]
            self._header = b""
        out = self._decomp.decompress(data, max_length)
        self.eof = self._decomp.eof
        self.needs_input = self._decomp.needs_input
        return out


class _ZipFile(pyzipper.AESZipFile):
    zipextfile_cls = _BoundedExtFile


def _is_os_clutter(rel: str) -> bool:
    """macOS resource forks and folder caches that zipping tools add: never a document."""
    parts = rel.split("/")
    return parts[0] == "__MACOSX" or parts[-1] in _CLUTTER_NAMES or parts[-1].startswith("._")


def _raw_name(info: pzf.ZipInfo) -> bytes:
    """The name bytes as stored: zipfile decoded them as UTF-8 (flag 11) or cp437."""
    if info.flag_bits & 0x800:
        return info.orig_filename.encode("utf-8", "surrogateescape")
    return info.orig_filename.encode("cp437")


# --------------------------------------------------------------------------- names


def decode_member_name(raw: bytes, flag_bits: int = 0, extra: bytes = b"") -> str:
    """Decode a zip member name (see the module docstring for the order); NFC-normalised."""
    if flag_bits & 0x800:
        return unicodedata.normalize("NFC", raw.decode("utf-8", "replace"))
    return unicodedata.normalize("NFC", _unicode_path_extra(raw, extra) or _legacy_name(raw))


def _legacy_name(raw: bytes) -> str:
    try:
        return raw.decode("utf-8")  # ASCII, or UTF-8 written without the flag (macOS)
    except UnicodeDecodeError:
        pass
    try:
        candidate = raw.decode("cp932")
    except UnicodeDecodeError:
        candidate = None
    if candidate is not None and reads_as_japanese(candidate):
        return candidate
    cyrillic = cyrillic_reading(raw)  # Russian 7-Zip/WinRAR: CP866, KOI8-R
    return cyrillic[1] if cyrillic else raw.decode("cp437")


def _unicode_path_extra(raw: bytes, extra: bytes) -> str | None:
    """Info-ZIP Unicode Path field (0x7075): trusted only when its CRC matches the name."""
    pos = 0
    while pos + 4 <= len(extra):
        header_id, size = struct.unpack("<HH", extra[pos : pos + 4])
        body = extra[pos + 4 : pos + 4 + size]
        pos += 4 + size
        if header_id != 0x7075 or len(body) < 5 or body[0] != 1:
            continue
        (crc,) = struct.unpack("<I", body[1:5])
        if crc != zlib.crc32(raw):
            return None
        try:
            return body[5:].decode("utf-8")
        except UnicodeDecodeError:
            return None
    return None


_DRIVE = re.compile(r"^[A-Za-z]:$")


def _safe_relative_path(name: str) -> tuple[str, bool]:
    """A relative path that cannot leave its folder; and whether it differs from `name`.

    Backslashes count as separators (Windows tools write them), "."/".." and empty segments
    and a leading drive letter are dropped, control characters and ":" become "_".
    """
    parts: list[str] = []
    for segment in name.replace("\\", "/").split("/"):
        if not parts and _DRIVE.match(segment):
            continue
        cleaned = "".join("_" if (ord(c) < 0x20 or c == "\x7f" or c == ":") else c for c in segment)
        if cleaned.strip() in ("", ".", ".."):
            continue
        parts.append(_shorten(cleaned))
    path = "/".join(parts)
    return path, path != name.rstrip("/")


def _shorten(segment: str) -> str:
    if len(segment) <= _MAX_SEGMENT_CHARS:
        return segment
    suffix = PurePosixPath(segment).suffix
    suffix = suffix if len(suffix) <= 16 else ""
    return segment[: _MAX_SEGMENT_CHARS - len(suffix)] + suffix


def _unique_path(path: str, used: set[str]) -> str:
    if path not in used:
        return path
    stem, dot, suffix = path.rpartition(".")
    if not dot or "/" in suffix:
        stem, suffix = path, ""
    n = 2
    while True:
        candidate = f"{stem} ({n}).{suffix}" if suffix else f"{stem} ({n})"
        if candidate not in used:
            return candidate
        n += 1


def _password_texts(passwords: Sequence[str]) -> list[str]:
    """Each password as given, trimmed, and NFKC-normalised (full-width characters typed in
    a Japanese mail), without repeats."""
    out: list[str] = []
    for pw in passwords:
        if not isinstance(pw, str):
            continue
        for variant in (pw, pw.strip(), unicodedata.normalize("NFKC", pw).strip()):
            if variant and variant not in out:
                out.append(variant)
    return out


def _password_bytes(texts: list[str]) -> list[bytes]:
    """Zip passwords are bytes: UTF-8 (7-Zip, AES tools) and CP932 (Windows ZipCrypto tools)."""
    out: list[bytes] = []
    for text in texts:
        for encoding in ("utf-8", "cp932"):
            try:
                encoded = text.encode(encoding)
            except UnicodeEncodeError:
                continue
            if encoded not in out:
                out.append(encoded)
    return out


# --------------------------------------------------------------------------- containers


def _tnef_name(att: object) -> str:
    """tnefparse decodes names as UTF-8 and fails on CP932 ones: fall back to the code page."""
    try:
        name = att.long_filename()  # type: ignore[attr-defined]
    except Exception:
        name = getattr(att, "_name", b"")
    if isinstance(name, bytes):
        codepage = getattr(att, "codepage", None) or "cp932"
        try:
            name = name.decode(codepage)
        except (LookupError, UnicodeDecodeError):
            name = name.decode("cp932", "replace")
    return str(name).strip("\x00")


def _msg_attachment_bytes(att: object) -> bytes | None:
    data = getattr(att, "data", None)
    if isinstance(data, bytes):
        return data
    export = getattr(data, "exportBytes", None)  # an attached e-mail (embedded .msg)
    if callable(export):
        result = export()
        return result if isinstance(result, bytes) else None
    return None


# --------------------------------------------------------------------------- texts


def _limit_detail(path: str, reason: str) -> str:
    return f"安全上の上限を超えたため展開を中止しました（「{path}」：{reason}）。"


def _member_size_reason(lim: Limits) -> str:
    return f"1ファイルの大きさが上限（{lim.max_member_bytes // (1024 * 1024)}MB）を超えています"


def _ratio_reason(lim: Limits) -> str:
    return f"圧縮率が異常に高くなっています（{lim.max_ratio:g}倍超）"


def _total_reason(lim: Limits) -> str:
    return f"展開後の合計が上限（{lim.max_total_bytes // (1024 * 1024)}MB）を超えています"


def _broken_detail(path: str, exc: BaseException) -> str:
    if isinstance(exc, NotImplementedError):
        return f"「{path}」は対応していない形式のため開けませんでした。"
    return f"「{path}」は壊れているため開けませんでした。ファイルを作り直して送付してください。"


def _member_broken_detail(path: str, exc: BaseException) -> str:
    text = str(exc)
    if isinstance(exc, NotImplementedError):
        method = re.search(r"(?:method|compression type) (\d+)", text)
        if method:
            label = _METHOD_NAMES.get(int(method.group(1)), f"方式{method.group(1)}")
            return (
                f"「{path}」は対応していない圧縮方式（{label}）のため開けませんでした。"
                "通常のzip形式で圧縮し直して送付してください。"
            )
        if "encryption" in text:
            return f"「{path}」は対応していない暗号化方式のため開けませんでした。"
        return f"「{path}」は対応していない形式のため開けませんでした。"
    if "CRC" in text or "HMAC" in text or "verify" in text:
        return f"「{path}」はデータが壊れている（検査値が一致しない）ため開けませんでした。"
    return f"「{path}」は壊れているため開けませんでした。ファイルを作り直して送付してください。"


def _wrong_password_detail(path: str, members: list[str]) -> str:
    which = ""
    if members:
        shown = "、".join(f"「{m}」" for m in members[:3])
        more = f"ほか{len(members) - 3}件" if len(members) > 3 else ""
        which = f"（{shown}{more}）"
    return f"「{path}」{which}は、お送りいただいたパスワードでは開けませんでした。"


def _office_unreadable_detail(path: str) -> str:
    return (
        f"「{path}」はパスワード付き（暗号化）のOfficeファイルですが、開けませんでした。"
        "パスワードを解除したファイルを、暗号化zipに入れて送付してください。"
    )


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
        with _ZipFile(io.BytesIO(data)) as zf:
            return tuple(decode_member_name(_raw_name(i), i.flag_bits, i.extra)
                         for i in zf.infolist() if i.flag_bits & 0x1)
    except Exception:  # a broken archive is unpack's to report
        return ()
