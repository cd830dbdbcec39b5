"""Build zips (friendly and hostile) in memory at test time; no binary fixtures in the repo.

`build_zip` writes the zip format by hand so a test controls every byte that matters: raw
name bytes and the UTF-8 flag, PKWARE (ZipCrypto) encryption, unix mode bits (symlinks),
declared sizes, and payloads compressed elsewhere (the bomb). WinZip AES is written with
pyzipper (`build_aes_zip`), with the same control over raw names.
"""

from __future__ import annotations

import io
import os
import stat
import struct
import zlib
from collections.abc import Iterable
from dataclasses import dataclass

import pyzipper
from pyzipper.zipfile_aes import AESZipInfo

UTF8_FLAG = 0x800
_DOS_TIME = (12 << 11) | (30 << 5)  # 12:30:00
_DOS_DATE = ((2022 - 1980) << 9) | (8 << 5) | 3  # 2022-08-03


@dataclass
class Entry:
    name: bytes  # raw name bytes as stored
    data: bytes = b""
    utf8_flag: bool = False
    deflate: bool = True
    password: bytes | None = None  # ZipCrypto when set
    mode: int | None = None  # unix st_mode, e.g. stat.S_IFLNK | 0o777
    method: int | None = None  # override the method number (e.g. 9 = Deflate64)
    declared_size: int | None = None  # lie about the uncompressed size
    # A payload compressed elsewhere: (compressed bytes, crc32, uncompressed size).
    precompressed: tuple[bytes, int, int] | None = None


def build_zip(entries: Iterable[Entry]) -> bytes:
    out = io.BytesIO()
    central: list[bytes] = []
    count = 0
    for entry in entries:
        offset = out.tell()
        flag, method, crc, size, payload = _payload(entry)
        if entry.declared_size is not None:
            size = entry.declared_size
        name = entry.name
        out.write(
            struct.pack(
                "<4sHHHHHIIIHH", b"PK\x03\x04", 20, flag, method, _DOS_TIME, _DOS_DATE, crc,
                len(payload), size, len(name), 0,
            )
            + name
            + payload
        )
        external = (entry.mode << 16) if entry.mode is not None else 0
        made_by = (3 << 8) | 20 if entry.mode is not None else 20  # 3 = unix
        central.append(
            struct.pack(
                "<4sHHHHHHIIIHHHHHII", b"PK\x01\x02", made_by, 20, flag, method, _DOS_TIME,
                _DOS_DATE, crc, len(payload), size, len(name), 0, 0, 0, 0, external, offset,
            )
            + name
        )
        count += 1
    cd_offset = out.tell()
    for record in central:
        out.write(record)
    cd_size = out.tell() - cd_offset
    out.write(struct.pack("<4sHHHHIIH", b"PK\x05\x06", 0, 0, count, count, cd_size, cd_offset, 0))
    return out.getvalue()


def _payload(entry: Entry) -> tuple[int, int, int, int, bytes]:
    flag = UTF8_FLAG if entry.utf8_flag else 0
    if entry.precompressed is not None:
        payload, crc, size = entry.precompressed
        method = 8
    else:
        crc, size = zlib.crc32(entry.data), len(entry.data)
        method = 8 if entry.deflate else 0
        payload = _raw_deflate(entry.data) if entry.deflate else entry.data
    if entry.password is not None:
        flag |= 0x1
        header = os.urandom(11) + bytes([(crc >> 24) & 0xFF])
        payload = ZipCryptoEncrypter(entry.password).encrypt(header + payload)
    if entry.method is not None:
        method = entry.method
    return flag, method, crc, size, payload


def _raw_deflate(data: bytes) -> bytes:
    comp = zlib.compressobj(9, zlib.DEFLATED, -15)
    return comp.compress(data) + comp.flush()


def deflated_zeros(size: int, chunk: int = 1024 * 1024) -> tuple[bytes, int, int]:
    """Deflate `size` zero bytes without ever holding them: (compressed, crc32, size)."""
    comp = zlib.compressobj(9, zlib.DEFLATED, -15)
    block = bytes(chunk)
    parts: list[bytes] = []
    crc = 0
    left = size
    while left > 0:
        piece = block if left >= chunk else bytes(left)
        crc = zlib.crc32(piece, crc)
        parts.append(comp.compress(piece))
        left -= len(piece)
    parts.append(comp.flush())
    return b"".join(parts), crc, size


class ZipCryptoEncrypter:
    """Traditional PKWARE encryption (APPNOTE 6.1), the "ZipCrypto" of Windows and Lhaplus."""

    def __init__(self, password: bytes) -> None:
        self.keys = [0x12345678, 0x23456789, 0x34567890]
        for byte in password:
            self._update(byte)

    def _update(self, byte: int) -> None:
        k0, k1, k2 = self.keys
        k0 = _crc_byte(k0, byte)
        k1 = ((k1 + (k0 & 0xFF)) * 134775813 + 1) & 0xFFFFFFFF
        k2 = _crc_byte(k2, k1 >> 24)
        self.keys = [k0, k1, k2]

    def encrypt(self, data: bytes) -> bytes:
        out = bytearray()
        for byte in data:
            k = self.keys[2] | 2
            out.append(byte ^ (((k * (k ^ 1)) >> 8) & 0xFF))
            self._update(byte)
        return bytes(out)


def _crc_byte(crc: int, byte: int) -> int:
    return (crc >> 8) ^ _CRC_TABLE[(crc ^ byte) & 0xFF]


def _crc_table() -> list[int]:
    table = []
    for n in range(256):
        c = n
        for _ in range(8):
            c = (c >> 1) ^ 0xEDB88320 if c & 1 else c >> 1
        table.append(c)
    return table


_CRC_TABLE = _crc_table()


class _RawNameInfo(AESZipInfo):
    """An AESZipInfo that stores the given name bytes as they are (no UTF-8 flag)."""

    raw: bytes = b""

    def _encodeFilenameFlags(self) -> tuple[bytes, int]:  # noqa: N802 - pyzipper's name
        return self.raw, self.flag_bits


def build_aes_zip(members: Iterable[tuple[bytes, bytes]], password: bytes) -> bytes:
    """WinZip AES-256 zip; names written as the raw bytes given, without the UTF-8 flag."""
    buf = io.BytesIO()
    with pyzipper.AESZipFile(
        buf, "w", compression=pyzipper.ZIP_DEFLATED, encryption=pyzipper.WZ_AES
    ) as zf:
        zf.setpassword(password)
        for raw, data in members:
            info = _RawNameInfo(raw.decode("cp437"), date_time=(2022, 8, 3, 12, 30, 0))
            info.raw = raw
            info.compress_type = pyzipper.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            zf.writestr(info, data)
    return buf.getvalue()


def symlink_entry(name: bytes, target: bytes) -> Entry:
    return Entry(name, target, deflate=False, mode=stat.S_IFLNK | 0o777)


def nested_zip(depth: int, leaf_name: bytes = b"leaf.txt", leaf: bytes = b"leaf") -> bytes:
    """A zip holding a zip holding ... `depth` archives in all, the innermost holding a file."""
    data = build_zip([Entry(leaf_name, leaf)])
    for level in range(depth - 1, 0, -1):
        data = build_zip([Entry(f"level{level}.zip".encode(), data, deflate=False)])
    return data


def lzh_header(name: bytes = b"a.txt") -> bytes:
    """The start of an LHA level-0 archive (-lh5-): enough for content sniffing."""
    body = b"-lh5-" + struct.pack("<IIHHBB", 4, 4, 0, 0, 0x20, 0) + bytes([len(name)]) + name
    return bytes([len(body), sum(body) & 0xFF]) + body + b"\x00\x00abcd" + b"\x00"


SEVEN_ZIP_MAGIC = b"7z\xbc\xaf\x27\x1c\x00\x04" + bytes(24)
RAR_MAGIC = b"Rar!\x1a\x07\x01\x00" + bytes(24)
