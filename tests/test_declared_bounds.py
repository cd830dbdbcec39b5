"""Attachments that declare an amount of work no honest writer asks for end at once on a bound
read before the work starts, with a finding that names it: not on the sandbox's CPU budget.

The files are built from bytes, as an attacker writes them: a compound file holding an agile
EncryptionInfo with a chosen spinCount, and TNEF streams whose counts their bytes cannot hold.
"""

from __future__ import annotations

import base64
import os
import struct

import pytest

from parsers.archives import unpack
from parsers.limits import Limits

ENDOFCHAIN, FREESECT, FATSECT, NOSTREAM = 0xFFFFFFFE, 0xFFFFFFFF, 0xFFFFFFFD, 0xFFFFFFFF


# --------------------------------------------------------------------------- compound file


def _dir_entry(name: str, kind: int, start: int, size: int, child: int = NOSTREAM,
               right: int = NOSTREAM) -> bytes:
    encoded = (name + "\0").encode("utf-16-le") if name else b""
    return (encoded.ljust(64, b"\0") + struct.pack("<HBB", len(encoded), kind, 1)
            + struct.pack("<III", NOSTREAM, right, child) + bytes(16 + 4 + 16)
            + struct.pack("<IQ", start, size))


def compound_file(streams: list[tuple[str, bytes]]) -> bytes:
    """A version-3 compound file (512-byte sectors) with the streams under the root; each
    stream is padded to 4096 bytes or more so that it lives in ordinary sectors. Names must be
    given in directory order (shorter first), the later one the right sibling of the earlier."""
    fat = [FATSECT, ENDOFCHAIN]
    body, entries = b"", [b""]
    for index, (name, data) in enumerate(streams):
        start, count = len(fat), -(-max(len(data), 4096) // 512)
        fat += [*range(start + 1, start + count), ENDOFCHAIN]
        body += data.ljust(count * 512, b"\0")
        right = index + 2 if index + 1 < len(streams) else NOSTREAM
        entries.append(_dir_entry(name, 2, start, len(data), right=right))
    assert len(fat) <= 128 and len(entries) <= 4
    entries[0] = _dir_entry("Root Entry", 5, ENDOFCHAIN, 0, child=1)
    directory = bytearray(b"".join(entries).ljust(512, b"\0"))
    for slot in range(len(entries), 4):
        struct.pack_into("<III", directory, slot * 128 + 68, NOSTREAM, NOSTREAM, NOSTREAM)
    header = bytearray(512)
    header[0:8] = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
    struct.pack_into("<HHHHH", header, 24, 0x3E, 3, 0xFFFE, 9, 6)
    struct.pack_into("<IIIIIIIII", header, 40, 0, 1, 1, 0, 4096, ENDOFCHAIN, 0, ENDOFCHAIN, 0)
    struct.pack_into("<109I", header, 76, 0, *[FREESECT] * 108)
    fat_sector = struct.pack("<128I", *fat, *[FREESECT] * (128 - len(fat)))
    return bytes(header) + fat_sector + bytes(directory) + body


def _b64(size: int) -> str:
    return base64.b64encode(os.urandom(size)).decode()


def agile_encrypted(spin_count: int) -> bytes:
    """An 'encrypted workbook' as [MS-OFFCRYPTO] agile encryption lays it out: the key
    parameters in EncryptionInfo (version 4.4), random bytes as the package."""
    algo = ('saltSize="16" blockSize="16" keyBits="256" hashSize="64" cipherAlgorithm="AES" '
            'cipherChaining="ChainingModeCBC" hashAlgorithm="SHA512"')
    xml = (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\r\n'
        '<encryption xmlns="http://schemas.microsoft.com/office/2006/encryption" '
        'xmlns:p="http://schemas.microsoft.com/office/2006/keyEncryptor/password">'
        f'<keyData {algo} saltValue="{_b64(16)}"/>'
        f'<dataIntegrity encryptedHmacKey="{_b64(64)}" encryptedHmacValue="{_b64(64)}"/>'
        '<keyEncryptors><keyEncryptor '
        'uri="http://schemas.microsoft.com/office/2006/keyEncryptor/password">'
        f'<p:encryptedKey spinCount="{spin_count}" {algo} saltValue="{_b64(16)}" '
        f'encryptedVerifierHashInput="{_b64(16)}" encryptedVerifierHashValue="{_b64(64)}" '
        f'encryptedKeyValue="{_b64(32)}"/></keyEncryptor></keyEncryptors></encryption>'
    )
    info = struct.pack("<HHI", 4, 4, 0x40) + xml.encode().ljust(4096, b" ")
    package = struct.pack("<Q", 8000) + os.urandom(8000)
    return compound_file([("EncryptionInfo", info), ("EncryptedPackage", package)])


@pytest.mark.parametrize("passwords", [(), ("himitsu", "secret")])
def test_a_workbook_asking_for_ten_million_hash_rounds_is_refused_before_any_is_done(passwords):
    result = unpack("4_交付申請書.xlsx", agile_encrypted(10_000_000), passwords=passwords)
    assert not result.files and not result.encrypted
    [problem] = result.problems
    assert problem.code == "ATTACHMENT_UNREADABLE"
    assert "4_交付申請書.xlsx" in problem.detail and "鍵の計算回数" in problem.detail
    assert "10,000,000回" in problem.detail and f"{Limits().max_office_spin_count:,}回" in problem.detail


def test_the_spin_bound_is_just_above_what_office_writes():
    # What Excel writes is not refused: with no password yet the file waits for one.
    office = unpack("4_交付申請書.xlsx", agile_encrypted(100_000))
    assert not office.problems and [e.path for e in office.encrypted] == ["4_交付申請書.xlsx"]
    over = unpack("4_交付申請書.xlsx", agile_encrypted(Limits().max_office_spin_count + 1))
    assert [p.code for p in over.problems] == ["ATTACHMENT_UNREADABLE"]
    lowered = unpack("4_交付申請書.xlsx", agile_encrypted(100_000),
                     limits=Limits(max_office_spin_count=50_000))
    assert "鍵の計算回数" in lowered.problems[0].detail


# --------------------------------------------------------------------------- TNEF


def _attribute(level: int, attr_id: int, data: bytes) -> bytes:
    return (struct.pack("<BII", level, attr_id, len(data)) + data
            + struct.pack("<H", sum(data) & 0xFFFF))


def _tnef(*attributes: bytes) -> bytes:
    return struct.pack("<IH", 0x223E9F78, 0x0001) + b"".join(attributes)


MSG_PROPS, RECIPIENTS, ATTACH_RENDDATA, ATTACH_PROPS, ATTACH_DATA = (
    0x00069003, 0x00069004, 0x00069002, 0x00069005, 0x0006800F)
PT_I2, PT_MV_I2, PT_BINARY = 0x0002, 0x1002, 0x0102
I2 = struct.pack("<HHHH", PT_I2, 0x0E17, 1, 0)  # one short property, padded


def _props(count: int, body: bytes) -> bytes:
    return struct.pack("<I", count) + body


HOSTILE_TNEF = {
    "message properties 2^32-1": _tnef(_attribute(1, MSG_PROPS, _props(0xFFFFFFFF, I2 + I2))),
    "multi-valued 2^32-1 shorts": _tnef(_attribute(1, MSG_PROPS, _props(
        1, struct.pack("<HHI", PT_MV_I2, 0x0E17, 0xFFFFFFFF) + b"\x01\x00\x02\x00"))),
    "binary with 2^32-1 values": _tnef(_attribute(1, MSG_PROPS, _props(
        1, struct.pack("<HHII", PT_BINARY, 0x0FF9, 0xFFFFFFFF, 4) + b"abcd"))),
    "recipient rows 2^32-1": _tnef(_attribute(1, RECIPIENTS, struct.pack("<I", 0xFFFFFFFF)
                                              + _props(1, I2))),
    "one recipient, 2^32-1 properties": _tnef(_attribute(1, RECIPIENTS, struct.pack("<I", 1)
                                                         + _props(0xFFFFFFFF, I2))),
    "attachment properties 2^32-1": _tnef(
        _attribute(2, ATTACH_RENDDATA, bytes(14)),
        _attribute(2, ATTACH_PROPS, _props(0xFFFFFFFF, I2))),
}


@pytest.mark.parametrize("name", HOSTILE_TNEF)
def test_tnef_counts_its_bytes_cannot_hold_end_at_once_with_a_finding(name):
    result = unpack("winmail.dat", HOSTILE_TNEF[name])
    [problem] = result.problems
    assert problem.code == "ATTACHMENT_UNREADABLE" and "winmail.dat" in problem.detail
    assert "安全上の上限" in problem.detail and "4,294,967,295個" in problem.detail, problem.detail
    assert "データの大きさを超えて宣言" in problem.detail


def test_tnef_whose_counts_fit_is_still_read():
    name = b"memo.txt\0\0\0\0"
    # PR_ATTACH_LONG_FILENAME, one 8-bit string of 9 bytes padded to 12
    filename = struct.pack("<HHII", 0x001E, 0x3707, 1, len(name) - 3) + name
    tnef = _tnef(
        _attribute(1, 0x00069007, struct.pack("<II", 1252, 0)),  # attOemCodepage
        _attribute(1, MSG_PROPS, _props(2, I2 + I2)),
        _attribute(2, ATTACH_RENDDATA, bytes(14)),
        _attribute(2, ATTACH_DATA, "申請します".encode()),
        _attribute(2, ATTACH_PROPS, _props(2, I2 + filename)))
    result = unpack("winmail.dat", tnef)
    assert not result.problems, result.problems
    assert [(f.path, f.data) for f in result.files] == [
        ("winmail.dat/memo.txt", "申請します".encode())]
