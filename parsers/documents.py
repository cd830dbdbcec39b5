"""Which SPEC §2 document is this attachment? Content first, file name second.

Content means: a spreadsheet's (xlsx, xls, ods, xlsb) sheet names, then the title cells at the top of its sheets;
a PDF's text (pypdf) or the title strings in its raw bytes; a Word/PowerPoint file's text. Only
when the content says nothing (a scanned, sealed 誓約書 has no text at all) does the file name
decide. The words looked for are data (`RecognitionSpec`), overridable from the form map.
"""

from __future__ import annotations

import html
import io
import logging
import re
import unicodedata
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass

from parsers.workbook import SPREADSHEET_KINDS, Book, load_book

__all__ = [
    "DEFAULT_RECOGNITION",
    "HOW_JA",
    "Recognised",
    "RecognitionSpec",
    "classify_text",
    "normalise_text",
    "recognise",
]

# Bounds so a hostile attachment cannot make recognition slow.
_MAX_TEXT = 20_000
_TITLE_ROWS = 6
_TITLE_COLS = 12
_TEXT_ROWS = 80
_PDF_PAGES = 2
_XML_LIMIT = 8 * 1024 * 1024


@dataclass(frozen=True)
class RecognitionSpec:
    """Words that identify one document: sheet names, title words, file-name words."""

    key: str
    sheet_names: tuple[str, ...] = ()
    titles: tuple[str, ...] = ()
    file_names: tuple[str, ...] = ()


DEFAULT_RECOGNITION: tuple[RecognitionSpec, ...] = (
    RecognitionSpec(
        "application",
        ("交付申請書", "事業計画書", "補助対象経費内訳書", "経費内訳"),
        ("補助金交付申請書", "交付申請書", "事業計画書", "補助対象経費内訳書"),
        ("交付申請", "事業計画", "経費内訳", "申請書"),
    ),
    RecognitionSpec(
        "overview", ("補助事業概要書", "事業概要"), ("補助事業概要書", "事業概要書"),
        ("概要書", "事業概要"),
    ),
    RecognitionSpec(
        "member_info", ("事業者情報入力シート", "事業者情報"), ("事業者情報入力シート", "事業者情報"),
        ("事業者情報",),
    ),
    RecognitionSpec("pledge", ("誓約書",), ("誓約書",), ("誓約書", "誓約")),
    RecognitionSpec(
        "checklist", ("提出書類チェックリスト", "チェックリスト"),
        ("提出書類チェックリスト", "チェックリスト"), ("チェックリスト", "checklist"),
    ),
    RecognitionSpec(
        "registry", (), ("履歴事項全部証明書", "現在事項全部証明書", "登記事項証明書"),
        ("履歴事項", "登記簿", "登記事項", "謄本"),
    ),
    RecognitionSpec("tax", (), ("納税証明書",), ("納税証明", "納税")),
)

HOW_JA = {
    "sheet_name": "シート名",
    "title": "表題セル",
    "pdf_text": "PDFの本文",
    "document_text": "文書の本文",
    "file_name": "ファイル名",
    "none": "判別できず",
}


@dataclass(frozen=True)
class Recognised:
    key: str | None  # SPEC §2 document key, None when nothing matched
    how: str  # one of HOW_JA's keys
    name: str  # the attachment's file name
    kind: str  # sniffed type ("xlsx", "pdf", ...)
    evidence: str = ""  # what matched, for staff: a sheet name, a title, a file-name word
    text: str = ""  # leading text of the content, to tell whose 誓約書 / 納税証明書 this is
    problem: str | None = None  # set when the content could not be opened at all


def normalise_text(text: str) -> str:
    """NFKC, no whitespace at all, casefolded: how labels and titles are compared."""
    return re.sub(r"\s+", "", unicodedata.normalize("NFKC", text)).casefold()


def classify_text(
    text: str, specs: Sequence[RecognitionSpec], *, field: str = "titles"
) -> tuple[str, str] | None:
    """(key, matched word) of the word that appears earliest in `text`; ties go to the longer.

    Earliest wins because a checklist names every other document below its own title, and a
    誓約書 may mention 納税 in its body: the title comes first.
    """
    haystack = normalise_text(text)
    best: tuple[int, int, str, str] | None = None
    for spec in specs:
        for word in getattr(spec, field):
            needle = normalise_text(word)
            pos = haystack.find(needle) if needle else -1
            if pos < 0:
                continue
            rank = (pos, -len(needle), spec.key, word)
            if best is None or rank < best:
                best = rank
    return (best[2], best[3]) if best else None


def recognise(
    name: str,
    kind: str,
    data: bytes,
    specs: Sequence[RecognitionSpec] = DEFAULT_RECOGNITION,
    book: Book | None = None,
) -> Recognised:
    """Classify one (already unpacked) attachment as a SPEC §2 document. Never raises.

    A spreadsheet already loaded to read its form is passed as `book`, so it is read once."""
    sheets: list[str] = []
    titles = text = ""
    problem: str | None = None
    try:
        if book is not None or kind in SPREADSHEET_KINDS:
            sheets, titles, text = _book_content(book or load_book(data))
        elif kind == "pdf":
            text = _pdf_text(data)
        elif kind in ("docx", "pptx"):
            text = _ooxml_text(data, kind)
    except Exception as exc:  # noqa: BLE001 - any unreadable content falls back to the name
        problem = f"{name} の内容を読み取れません({type(exc).__name__})"

    for sheet in sheets:
        hit = classify_text(sheet, specs, field="sheet_names")
        if hit:
            return Recognised(hit[0], "sheet_name", name, kind, f"シート「{sheet}」", text)
    if titles and (hit := classify_text(titles, specs)):
        return Recognised(hit[0], "title", name, kind, f"表題「{hit[1]}」", text)
    if kind not in SPREADSHEET_KINDS and text and (hit := classify_text(text[:2000], specs)):
        how = "pdf_text" if kind == "pdf" else "document_text"
        return Recognised(hit[0], how, name, kind, f"本文「{hit[1]}」", text)
    hit = classify_text(name, specs, field="file_names")
    if hit:
        return Recognised(hit[0], "file_name", name, kind, f"ファイル名「{hit[1]}」", text, problem)
    return Recognised(None, "none", name, kind, "", text, problem)


# --- content extraction ------------------------------------------------------------------------


def _book_content(book: Book) -> tuple[list[str], str, str]:
    """Sheet names, the text of the title area of each sheet, and the text of the first rows."""
    titles: list[str] = []
    texts: list[str] = []
    for sheet in book.sheets:
        for r, c, value in sheet.texts(_TEXT_ROWS):
            if c > 30:
                continue
            if r <= _TITLE_ROWS and c <= _TITLE_COLS:
                titles.append(value)
            texts.append(value)
    return book.sheet_names, "\n".join(titles), _clip("\n".join(texts))


def _pdf_text(data: bytes) -> str:
    """Text of the first pages via pypdf; the raw title strings when pypdf finds none."""
    text = ""
    try:
        import pypdf

        logging.getLogger("pypdf").setLevel(logging.ERROR)
        reader = pypdf.PdfReader(io.BytesIO(data), strict=False)
        if reader.is_encrypted:
            reader.decrypt("")  # owner-password-only PDFs still open; others raise below
        text = "\n".join(
            (page.extract_text() or "") for page in list(reader.pages)[:_PDF_PAGES]
        )
        meta = reader.metadata
        if meta and meta.title:
            text = f"{meta.title}\n{text}"
    except Exception:  # noqa: BLE001 - a damaged PDF still has raw strings worth reading
        text = ""
    return _clip(text.strip() or _raw_pdf_strings(data))


def _raw_pdf_strings(data: bytes) -> str:
    """UTF-16BE hex strings (<FEFF...>) and literal strings of an uncompressed PDF."""
    head = data[: 2 * 1024 * 1024]
    found: list[str] = []
    for match in re.finditer(rb"<(FEFF[0-9A-Fa-f\s]{4,4000})>", head):
        hexdigits = re.sub(rb"\s", b"", match.group(1))
        try:
            found.append(bytes.fromhex(hexdigits.decode()).decode("utf-16-be", "ignore"))
        except ValueError:
            continue
    for match in re.finditer(rb"\(([^()\\]{2,400})\)", head):
        found.append(match.group(1).decode("utf-8", "ignore"))
    return "\n".join(s.lstrip("\ufeff") for s in found)


def _ooxml_text(data: bytes, kind: str) -> str:
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        names = archive.namelist()
        if kind == "docx":
            parts = [n for n in names if n == "word/document.xml"]
        else:
            parts = sorted(
                (n for n in names if re.fullmatch(r"ppt/slides/slide\d+\.xml", n)),
                key=lambda n: int(re.sub(r"\D", "", n)),
            )[:3]
        return _clip("\n".join(_xml_text(archive, part) for part in parts))


def _xml_text(archive: zipfile.ZipFile, part: str) -> str:
    with archive.open(part) as handle:
        xml = handle.read(_XML_LIMIT).decode("utf-8", "ignore")
    xml = re.sub(r"</(w:p|a:p)>", "\n", xml)
    return html.unescape(re.sub(r"<[^>]+>", "", xml))


def _clip(text: str) -> str:
    return text[:_MAX_TEXT]

