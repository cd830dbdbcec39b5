"""The consortium name a reply names: from the subject, else the forms, else the file names.

A deficiency notice for a subject that lacked the name still has to tell the applicant which
application it is about, so the forms that came with the mail are read for it, and failing
those the names of the attached files (「4_交付申請書_港町DXコンソーシアム.xlsx」).
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from pathlib import PurePosixPath

from ingest import sandbox
from ingest.config import Settings
from parsers.forms import FormMap, merge_forms, read_form
from parsers.limits import Limits
from parsers.workbook_size import workbook_problem
from state.ledger import Ledger

# Documents whose forms carry the consortium name, in the order they are trusted.
_NAMED_FORMS = ("application", "member_info", "checklist")
_SEPARATORS = re.compile(r"[_\s\u3000【】\[\]「」<>\uff1c\uff1e]+")  # not ・ or (): names use them
_NAME_WORDS = ("コンソーシアム", "協議会", "連携体", "共同体")
# Characters never shown in a reply: control, format and line/paragraph separators.
_UNPRINTABLE = {"Cc", "Cf", "Zl", "Zp", "Cs", "Co", "Cn"}


def consortium_for_reply(ledger: Ledger, settings: Settings, submission: dict) -> tuple[
        str | None, str | None]:
    """(name, where it was read: "subject" | "forms" | "files"), or (None, None)."""
    if name := printable(submission.get("consortium")):
        return name, "subject"
    rows = list(ledger.db.execute(
        "SELECT document, kind, sha256, path FROM attachments WHERE submission_id = ? "
        "ORDER BY id", [submission["id"]]))
    if name := _from_forms(ledger, settings, rows):
        return name, "forms"
    if name := from_file_names([r[3] for r in rows]):
        return name, "files"
    return None, None


def printable(text: str | None) -> str | None:
    """`text` without control characters (VT, FS, U+2028 …), whitespace runs made one space."""
    if not text:
        return None
    kept = "".join(" " if unicodedata.category(c) in _UNPRINTABLE else c for c in text)
    return " ".join(kept.split()) or None


def _from_forms(ledger: Ledger, settings: Settings, rows: list[tuple]) -> str | None:
    books: list[tuple[str, bytes]] = []
    for document, kind, sha256, _ in rows:
        if document in _NAMED_FORMS and kind in ("xlsx", "xlsm") and sha256:
            try:
                books.append((document, ledger.blobs.get(sha256)))
            except OSError:
                continue  # a blob gone missing: the file names may still tell
    if not books:
        return None
    # The applicant's workbooks are read in the sandbox, like every other read of them: one that
    # breaches the limits names nothing, and the file names may still tell.
    limits = settings.limits
    outcome = sandbox.shared(limits.max_parse_memory).run(
        _names_in_forms, books, settings.form_map, limits, cpu_seconds=limits.max_parse_seconds,
        wall_seconds=sandbox.wall_seconds(limits.max_parse_seconds))
    names: list[str] = outcome.value if outcome.ok else []
    return next((n for n in map(printable, names) if n), None)


def _names_in_forms(books: list[tuple[str, bytes]], form_map: FormMap,
                    limits: Limits) -> list[str]:
    """In the worker: the consortium names the forms give, the most trusted form's first. A
    workbook past the size bounds is not loaded, as when it was read at filing."""
    forms = [read_form(data, document, form_map) for document, data in books
             if not workbook_problem(data, limits)]
    forms.sort(key=lambda f: _NAMED_FORMS.index(f.doc_key))
    return list(merge_forms(forms, form_map.recognition).consortium_names.values())


def from_file_names(paths: list[str]) -> str | None:
    """The part of the file names that names the consortium: a piece with コンソーシアム (or
    協議会 …) in it, the one most files carry."""
    pieces: Counter[str] = Counter()
    for path in paths:
        for piece in _SEPARATORS.split(PurePosixPath(path).stem):
            if any(word in piece for word in _NAME_WORDS) and piece not in _NAME_WORDS:
                pieces[piece] += 1
    if not pieces:
        return None
    return printable(pieces.most_common(1)[0][0])
