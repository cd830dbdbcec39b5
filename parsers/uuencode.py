"""Files uuencoded inside a mail's text (begin 644 name … end), cut out of it and decoded."""

# Old Japanese mailers (Becky!, Outlook Express, Unix mail) sent attachments this way, inside
# the text part of the body or of a mail with no MIME at all. Nothing here raises: a damaged
# block keeps what decoded before the damage and says what is wrong.

from __future__ import annotations

import binascii
import re
from dataclasses import dataclass

_BEGIN = re.compile(rb"begin +([0-7]{3,4}) +(\S.*?)[ \t]*\r?\n?")
_END = re.compile(rb"end[ \t]*\r?\n?")
# A uuencoded line: a length character, then characters of the uuencode alphabet (space to
# backquote). Lines over 1 kB are no encoder's (they write 61).
_DATA = re.compile(rb"[\x20-\x60]{1,1024}\r?\n?")
MAX_FILES = 100  # per text part; more are left in the text, with a note


@dataclass(frozen=True)
class UuFile:
    name: bytes  # as on the begin line, in the text's charset
    data: bytes
    problem: str | None = None  # plain Japanese, when the block is damaged


def split_uuencoded(text: bytes) -> tuple[bytes, list[UuFile], str | None]:
    """The text with each uuencoded block cut out, the files, and a note when more than
    MAX_FILES blocks were found (the rest stay in the text). A `begin` line only starts a
    block when a uuencoded line or `end` follows it."""
    if b"begin " not in text:
        return text, [], None
    lines = text.splitlines(keepends=True)
    kept: list[bytes] = []
    files: list[UuFile] = []
    note = None
    i = 0
    while i < len(lines):
        begin = _BEGIN.fullmatch(lines[i])
        follows = lines[i + 1] if i + 1 < len(lines) else b""
        if begin is None or not (_DATA.fullmatch(follows) or _END.fullmatch(follows)):
            kept.append(lines[i])
            i += 1
            continue
        if len(files) >= MAX_FILES:
            note = f"uuencode のファイルが {MAX_FILES} 個を超えるため、以降は取り出していません"
            kept.extend(lines[i:])
            break
        uu, i = _block(begin[2], lines, i + 1)
        files.append(uu)
    return b"".join(kept), files, note


def _block(name: bytes, lines: list[bytes], i: int) -> tuple[UuFile, int]:
    """Decode the lines of one block from `i`; returns the file and the line after its end."""
    data = bytearray()
    while i < len(lines):
        line = lines[i]
        if _END.fullmatch(line):
            return UuFile(name, bytes(data)), i + 1
        try:
            data += _decode_line(line)
        except ValueError:
            # Damaged: keep what decoded, and pass over the rest of the block to its end.
            end = next((j for j in range(i, len(lines)) if _END.fullmatch(lines[j])), None)
            problem = "は uuencode が途中で壊れているため、壊れた箇所から先を取り出せませんでした"
            return UuFile(name, bytes(data), problem), len(lines) if end is None else end + 1
        i += 1
    return UuFile(name, bytes(data), "は uuencode が途中で終わっています（end の行がありません）"), i


def _decode_line(line: bytes) -> bytes:
    body = line.rstrip(b"\r\n")
    if not body:
        return b""  # a blank line inside a block: some mailers add one before `end`
    if not _DATA.fullmatch(body):
        raise ValueError("not a uuencoded line")
    try:
        return binascii.a2b_uu(body)
    except binascii.Error:
        # Encoders and mail relays strip trailing spaces: decode what the length says exists.
        length = (body[0] - 32) & 63
        needed = (length * 4 + 5) // 3
        try:
            return binascii.a2b_uu(body[:needed].ljust(needed, b" "))
        except binascii.Error as exc:
            raise ValueError(str(exc)) from exc
