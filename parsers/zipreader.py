"""Zip members read with every decompressor bounded per read, and their names made safe."""

from __future__ import annotations

import bz2
import lzma
import stat
import struct
from dataclasses import dataclass

import pyzipper
from pyzipper import zipfile as pzf
from pyzipper import zipfile_aes as pza

from parsers.safepaths import safe_relative_path
from parsers.zipnames import decode_member_name

CHUNK = 64 * 1024
SUPPORTED_METHODS = {pzf.ZIP_STORED, pzf.ZIP_DEFLATED, pzf.ZIP_BZIP2, pzf.ZIP_LZMA}


@dataclass(frozen=True)
class ZipMember:
    info: pzf.ZipInfo
    rel: str  # safe relative path inside its archive
    raw: bytes
    renamed: bool
    is_dir: bool
    is_symlink: bool

    @classmethod
    def of(cls, info: pzf.ZipInfo, index: int) -> ZipMember:
        raw = raw_name(info)
        decoded = decode_member_name(raw, info.flag_bits, info.extra, info.create_system)
        rel, renamed = safe_relative_path(decoded)
        mode = (info.external_attr >> 16) & 0xFFFF
        return cls(
            info=info,
            rel=rel or f"名称なし{index + 1}",
            raw=raw,
            renamed=renamed or not rel,
            is_dir=decoded.endswith(("/", "\\")) or stat.S_ISDIR(mode),
            is_symlink=stat.S_ISLNK(mode),
        )


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

    def decompress(self, data: bytes, max_length: int = CHUNK) -> bytes:
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


class BoundedZipFile(pyzipper.AESZipFile):
    zipextfile_cls = _BoundedExtFile


def raw_name(info: pzf.ZipInfo) -> bytes:
    """The name bytes as stored: zipfile decoded them as UTF-8 (flag 11) or cp437."""
    if info.flag_bits & 0x800:
        return info.orig_filename.encode("utf-8", "surrogateescape")
    return info.orig_filename.encode("cp437")
