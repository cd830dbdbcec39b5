"""Tell what a file is from its bytes (magic numbers first, the file name only as a fallback).

Applicants name files freely ("申請書.xlsx" may be a PDF, "winmail.dat" is TNEF), so the content
decides whenever it can. Everything here works on bytes in memory: nothing is read from or
written to disk (olefile, given raw bytes shorter than 1536, would treat them as a *path*, so it
only ever receives a BytesIO).
"""

from __future__ import annotations

import io
import re
import unicodedata
import zipfile
from pathlib import PurePosixPath

KINDS: tuple[str, ...] = (
    "zip", "xlsx", "xlsb", "ods", "docx", "pptx", "xls", "doc", "ppt", "msg", "tnef", "pdf", "lzh", "7z",
    "rar", "gzip", "png", "jpeg", "text", "office-encrypted", "iwork", "unknown",
)

_OLE2 = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_TNEF = b"\x78\x9f\x3e\x22"
_SIMPLE_MAGIC: tuple[tuple[bytes, str], ...] = (
    (b"7z\xbc\xaf\x27\x1c", "7z"),
    (b"Rar!\x1a\x07", "rar"),
    (b"\x1f\x8b", "gzip"),
    (b"\x89PNG\r\n\x1a\n", "png"),
    (b"\xff\xd8\xff", "jpeg"),
)
# LHA header: size byte, checksum byte, then the method id such as "-lh5-" or "-lzs-".
_LZH_METHOD = re.compile(rb"-(?:lh[0-9a-z]|lz[s45]|pm[0-2s])-")

_EXTENSIONS: dict[str, str] = {
    ".zip": "zip", ".xlsx": "xlsx", ".xlsm": "xlsx", ".xlsb": "xlsb", ".ods": "ods", ".docx": "docx", ".docm": "docx",
    ".pptx": "pptx", ".pptm": "pptx", ".xls": "xls", ".doc": "doc", ".ppt": "ppt",
    ".msg": "msg", ".pdf": "pdf", ".lzh": "lzh", ".lha": "lzh", ".7z": "7z", ".rar": "rar",
    ".gz": "gzip", ".tgz": "gzip", ".png": "png", ".jpg": "jpeg", ".jpeg": "jpeg",
    ".txt": "text", ".csv": "text", ".tsv": "text", ".numbers": "iwork", ".pages": "iwork", ".key": "iwork",
}
_OOXML_KINDS = {"xlsx", "xlsb", "docx", "pptx", "ods"}
# Looking into a zip's directory is cheap, but a directory with millions of entries is not:
# past this many entries it is simply a zip (no Office file has that many parts).
_SNIFF_MAX_ENTRIES = 5000
_CONTENT_TYPES_MAX = 256 * 1024
_OOXML_MAIN_TYPES: tuple[tuple[tuple[str, ...], str], ...] = (
    (("spreadsheetml", "ms-excel"), "xlsx"),
    (("wordprocessingml", "ms-word"), "docx"),
    (("presentationml", "ms-powerpoint"), "pptx"),
)

# The part each Office Open XML kind cannot be without (ECMA-376 part 1, the main parts).
_OOXML_MAIN_PARTS: tuple[tuple[str, str], ...] = (
    ("xl/workbook.xml", "xlsx"), ("xl/workbook.bin", "xlsb"), ("word/document.xml", "docx"),
    ("ppt/presentation.xml", "pptx"),
)


def sniff(data: bytes, name: str = "") -> str:
    """Return the kind of `data` (one of KINDS). Never raises."""
    try:
        kind = _by_content(data, name)
    except Exception:  # a parser library choking on hostile bytes must not stop the mail
        kind = None
    if kind is None or kind == "text":
        # "Looks like text" is only a guess, so a file named .zip/.xlsx/.pdf that holds plain
        # bytes is treated as that (broken) format and its reader reports it.
        kind = _by_extension(name) or kind or "unknown"
    return kind


def zip_directory_counts(data: bytes) -> tuple[int, int] | None:
    """(entries, central-directory bytes) as the end record declares them, or None.

    Lets callers refuse a zip with too many entries *before* the zip library builds one object
    per entry. Reads only the end record; never raises.
    """
    try:
        endrec = zipfile._EndRecData(io.BytesIO(data))  # type: ignore[attr-defined]
    except Exception:
        return None
    if not endrec:
        return None
    return int(endrec[zipfile._ECD_ENTRIES_TOTAL]), int(endrec[zipfile._ECD_SIZE])  # type: ignore[attr-defined]


def _by_extension(name: str) -> str | None:
    suffix = PurePosixPath(name.replace("\\", "/")).suffix.lower()
    return _EXTENSIONS.get(suffix)


def _by_content(data: bytes, name: str) -> str | None:
    if not data:
        return None
    if data[:4] in (b"PK\x03\x04", b"PK\x05\x06") or data[:8] == b"PK\x07\x08PK\x03\x04":
        return _zip_family(data, name)
    if data.startswith(_OLE2):
        return _ole_kind(data)
    if data.startswith(_TNEF):
        return "tnef"
    if b"%PDF-" in data[:1024]:
        return "pdf"
    for magic, kind in _SIMPLE_MAGIC:
        if data.startswith(magic):
            return kind
    if len(data) >= 7 and _LZH_METHOD.fullmatch(data[2:7]):
        return "lzh"
    if _looks_like_text(data[:4096]):
        return "text"
    return None


def _zip_family(data: bytes, name: str) -> str:
    """zip, or the Office Open XML kind it carries. When the directory is unreadable an Office
    extension decides (a truncated "x.xlsx" stays an xlsx and fails in the form reader);
    otherwise it is a (broken) zip, so the archive reader reports it."""
    fallback = _by_extension(name)
    fallback = fallback if fallback in _OOXML_KINDS else "zip"
    counts = zip_directory_counts(data)
    if counts is None:
        return fallback
    if counts[0] > _SNIFF_MAX_ENTRIES:
        return "zip"
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as zf:
            return _ooxml_kind(zf) or "zip"
    except Exception:
        return fallback


def _ooxml_kind(zf: zipfile.ZipFile) -> str | None:
    """An OOXML package has [Content_Types].xml; its part folders (word/, xl/, ppt/) or, for
    minimal packages without them, its declared main content type tell which kind."""
    infos = {i.filename.replace("\\", "/"): i for i in zf.infolist()}
    if "mimetype" in infos and infos["mimetype"].file_size < 200:
        # OpenDocument: the first entry names the type (LibreOffice's .ods)
        with zf.open(infos["mimetype"]) as fh:
            if b"opendocument.spreadsheet" in fh.read(200):
                return "ods"
    if any(n.startswith("Index/") and n.endswith(".iwa") for n in infos) or "Index.zip" in infos:
        # Apple Numbers/Pages/Keynote: a document in its own format, not an archive of files
        return "iwork"
    if "[Content_Types].xml" not in infos:
        # A damaged Office file (its content-types part lost) still carries its main part:
        # it is that Office file, broken, and its reader says so; unpacked as a zip, its XML
        # parts would be "documents of unknown kind" and the form silently missing.
        for part, kind in _OOXML_MAIN_PARTS:
            if part in infos:
                return kind
        return None
    tops = {n.split("/", 1)[0] for n in infos if "/" in n}
    for top, kind in (("word", "docx"), ("xl", "xlsx"), ("ppt", "pptx")):
        if top in tops:
            if kind == "xlsx" and "xl/workbook.bin" in infos:
                return "xlsb"
            return kind
    # Bounded read: the content-types part of a hostile zip may be a deflate bomb.
    with zf.open(infos["[Content_Types].xml"]) as fh:
        types = fh.read(_CONTENT_TYPES_MAX).decode("utf-8", "replace")
    for markers, kind in _OOXML_MAIN_TYPES:
        if any(m in types for m in markers):
            return kind
    return None


def _ole_kind(data: bytes) -> str | None:
    import olefile  # local: only OLE2 files pay for the import

    with olefile.OleFileIO(io.BytesIO(data)) as ole:
        streams = {"/".join(p) for p in ole.listdir(streams=True, storages=True)}
    lower = {s.lower() for s in streams}
    if {"encryptioninfo", "encryptedpackage"} <= lower:
        return "office-encrypted"
    if "__properties_version1.0" in lower or any(s.startswith("__substg1.0_") for s in lower):
        return "msg"
    legacy = None
    if "workbook" in lower or "book" in lower:
        legacy = "xls"
    elif "worddocument" in lower:
        legacy = "doc"
    elif "powerpoint document" in lower:
        legacy = "ppt"
    if legacy is None:
        return None
    return "office-encrypted" if _legacy_office_encrypted(data) else legacy


def _legacy_office_encrypted(data: bytes) -> bool:
    """Legacy .xls/.doc/.ppt keep their encryption flag inside the document stream."""
    import msoffcrypto

    try:
        return bool(msoffcrypto.OfficeFile(io.BytesIO(data)).is_encrypted())
    except Exception:
        return False


def _looks_like_text(head: bytes) -> bool:
    if b"\x00" in head:
        return False
    text = _decode_prefix(head, "utf-8") or _decode_prefix(head, "cp932")
    if text is None:
        return False
    controls = sum(
        1 for c in text if unicodedata.category(c) == "Cc" and c not in "\t\r\n\x0c\x1b"
    )
    return controls * 100 <= len(text)


def _decode_prefix(head: bytes, encoding: str) -> str | None:
    """Decode a prefix that may end mid-character (the head is cut at a fixed length)."""
    for cut in range(4):
        try:
            return head[: len(head) - cut].decode(encoding)
        except UnicodeDecodeError:
            continue
    return None
