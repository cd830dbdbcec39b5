"""`renkei-intake check FILE...` and `renkei-intake findings`: the rules on loose files.

Each FILE is its own unit, checked without a ledger:
- a form (.xlsx) alone gets the rules that form can decide (its fields, sums, members, money);
- a .zip (or winmail.dat / .msg) is a whole submission: also required documents and checklist;
- an .eml is a whole submission plus its mail: subject, sender block, period, sender = 幹事社.
Exit status: 0 no deficiency, 1 a deficiency was found, 2 a file could not be read at all.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TextIO

from ingest import sandbox
from ingest.mailfile import looks_like_mail
from ingest.screen import os_reason, visible
from parsers.archives import unpack
from parsers.documents import HOW_JA, Recognised, classify_text, recognise
from parsers.filetypes import sniff
from parsers.forms import FormMap, merge_forms, read_form, unreadable_detail
from parsers.limits import Limits
from parsers.mime import parse_message, received_time
from parsers.sender import parse_sender_block
from parsers.subject import parse_subject
from parsers.workbook import SPREADSHEET_KINDS, Book, load_book
from parsers.workbook_size import DEFAULT_LIMITS, workbook_problem
from rules.application import check_application
from rules.findings import CATALOG, Finding, finding, has_deficiency
from rules.mail_checks import check_period, check_sender, check_subject
from rules.program import Program
from state.labels import label

__all__ = ["CheckResult", "FileFacts", "FileInput", "check_bytes", "check_facts", "check_files",
           "print_catalog", "read_file", "run_check"]

_ARCHIVE_KINDS = {"zip", "tnef", "msg"}


@dataclass(frozen=True)
class FileInput:
    """One file of a submission after unpacking (path for display, name, sniffed kind, bytes)."""

    path: str
    name: str
    kind: str
    data: bytes


@dataclass
class CheckResult:
    recognised: list[tuple[str, Recognised]] = field(default_factory=list)  # (path, result)
    findings: list[Finding] = field(default_factory=list)
    unread: list[str] = field(default_factory=list)  # why a loose file could not be judged
    # further forms found as sheets of a file already listed in `recognised` (one row per file)
    also: list[tuple[str, Recognised]] = field(default_factory=list)


@dataclass(frozen=True)
class FileFacts:
    """What one file says on its own: its document type, the workbook it is (a form is read
    from it with the other files of its document), other forms kept as its sheets, problems."""

    recognised: Recognised
    book: Book | None = None
    also: tuple[Recognised, ...] = ()  # further forms found as sheets of this workbook
    findings: tuple[Finding, ...] = ()


def read_file(item: FileInput, form_map: FormMap, limits: Limits = DEFAULT_LIMITS) -> FileFacts:
    """Recognise one file and load its workbook once (run in the sandbox). A workbook past the
    size bounds is not loaded: it is recognised by its name only and gets a finding."""
    if item.kind in SPREADSHEET_KINDS and (why := workbook_problem(item.data, limits)):
        found = recognise(item.name, item.kind, b"", form_map.recognition)
        detail = (f"「{item.path}」は安全上の上限を超えるため読み込みませんでした（{why}）。"
                  "必要な様式だけのファイルにして送付してください。")
        return FileFacts(found, findings=(finding("ATTACHMENT_UNREADABLE", detail,
                                                  document=found.key),))
    book, problem = _load(item)
    found = recognise(item.name, item.kind, item.data, form_map.recognition, book=book)
    if problem:
        return FileFacts(found, findings=(finding("ATTACHMENT_UNREADABLE", problem,
                                                  document=found.key),))
    if book is not None and found.key in form_map.forms:
        return FileFacts(found, book, tuple(_other_forms_in(book, found, form_map)))
    return FileFacts(found)


def check_files(
    files: Sequence[FileInput],
    program: Program,
    form_map: FormMap,
    *,
    subject_consortium: str | None = None,
    sender_email: str | None = None,
    whole_submission: bool = True,
    limits: Limits = DEFAULT_LIMITS,
) -> CheckResult:
    """Recognise every file, read the forms among them, and run every application rule."""
    return check_facts([(item.path, read_file(item, form_map, limits)) for item in files],
                       program, form_map, subject_consortium=subject_consortium,
                       sender_email=sender_email, whole_submission=whole_submission)


def check_facts(
    files: Sequence[tuple[str, FileFacts]],
    program: Program,
    form_map: FormMap,
    *,
    subject_consortium: str | None = None,
    sender_email: str | None = None,
    whole_submission: bool = True,
) -> CheckResult:
    """Every application rule over files already read (`read_file`), keyed by their path."""
    result = CheckResult()
    books: dict[str, list[Book]] = {}
    not_sheets: list[tuple[str, str]] = []
    for path, read in files:
        found = read.recognised
        result.recognised.append((path, found))
        result.findings += read.findings
        if read.book is not None:
            books.setdefault(found.key or "", []).append(read.book)
            for also in read.also:  # several forms in one workbook
                result.also.append((path, also))
                books.setdefault(also.key or "", []).append(read.book)
        elif not read.findings and found.key in form_map.forms and form_map.forms[found.key].fields:
            not_sheets.append((path, found.key))
    # One document sent as several workbooks (交付申請書, 事業計画書 and 内訳書 apart) is read
    # as one: the sheets of all of them, in the order they came.
    forms = [read_form(Book.joined(parts), key, form_map) for key, parts in books.items()]
    read_keys = set(books)
    for path, key in not_sheets:
        if key not in read_keys:  # a PDF copy beside the workbook is fine; alone it cannot be checked
            result.findings.append(finding(
                "ATTACHMENT_UNREADABLE",
                f"{path} は表計算ファイル(xlsx等)ではないため、様式の記入内容を確認できません。"
                "Excel形式の様式で送付してください。", document=key))
    facts = merge_forms(forms, form_map.recognition)
    present = [r for _, r in (*result.recognised, *result.also)]
    result.findings += check_application(
        facts, present, program, subject_consortium=subject_consortium,
        sender_email=sender_email, whole_submission=whole_submission)
    return result


def _other_forms_in(book: Book, found: Recognised, form_map: FormMap) -> list[Recognised]:
    """Other forms kept as sheets of the same workbook (事業者情報入力シート beside the
    交付申請書), each recognised by its own sheet's name."""
    others: list[Recognised] = []
    for sheet in book.sheet_names:
        hit = classify_text(sheet, form_map.recognition, field="sheet_names")
        if hit and hit[0] != found.key and hit[0] in form_map.forms and \
                all(o.key != hit[0] for o in others):
            others.append(Recognised(hit[0], "sheet_name", found.name, found.kind,
                                     f"シート「{sheet}」", found.text))
    return others


def _load(item: FileInput) -> tuple[Book | None, str | None]:
    """A spreadsheet loaded once for both recognising and reading it, or why it cannot be."""
    if item.kind not in SPREADSHEET_KINDS:
        return None, None
    try:
        return load_book(item.data), None
    except Exception as exc:  # noqa: BLE001 - a reader raises many types for broken files
        return None, f"{item.path}: {unreadable_detail(item.data, exc)}"


def run_check(
    paths: Sequence[Path], program: Program, form_map: FormMap, out: TextIO, *,
    passwords: Sequence[str] = (), limits: Limits = DEFAULT_LIMITS, as_json: bool = False,
) -> int:
    """Check each FILE on its own (read in the sandbox, under `limits`); 0 no deficiency,
    1 a deficiency, 2 a file that could not be read or identified (never reported as 不備なし).
    A folder stands for the files in it. Text: a block per file ending in its result line, then
    a count of each result; `as_json`: one JSON object per file and nothing else."""
    status = 0
    tally: Counter[str] = Counter()
    for path, empty in _files_of(paths):
        try:
            data = b"" if empty else path.read_bytes()
        except OSError as exc:
            empty = os_reason(exc)
        if empty:
            error = f"読み込めません: {empty}"
            if as_json:
                print(json.dumps({"file": str(path), "codes": [], "findings": [],
                                  "error": error}, ensure_ascii=False), file=out)
            else:
                print(f"■ {path}\n  結果: {label('outcome', 'error')}: {error}", file=out)
            tally["error"] += 1
            status = 2
            continue
        result = _check_bounded(path.name, data, program, form_map, passwords, limits)
        if as_json:
            print(json.dumps(_as_json(str(path), result), ensure_ascii=False), file=out)
        else:
            print(f"■ {path}", file=out)
            _print_result(result, program, out)
        tally[_outcome(result)] += 1
        if result.unread:
            status = 2
        elif has_deficiency(result.findings) and status == 0:
            status = 1
    if not as_json and sum(tally.values()) > 1:
        counts = "、".join(f"{label('outcome', key)} {tally[key]}"
                          for key in ("complete", "deficient", "error") if tally[key])
        print(f"{sum(tally.values())} 件を確認しました: {counts}", file=out)
    return status


def _files_of(paths: Sequence[Path]) -> list[tuple[Path, str]]:
    """Each FILE argument, a folder replaced by the files under it (hidden ones left out);
    a folder with no file is reported with why ("" for a file to read) rather than dropped."""
    found: list[tuple[Path, str]] = []
    for path in paths:
        if not path.is_dir():
            found.append((path, ""))
            continue
        inside = sorted(p for p in path.rglob("*") if p.is_file()
                        and not any(part.startswith(".") for part in p.relative_to(path).parts))
        found += [(p, "") for p in inside]
        if not inside:
            found.append((path, "フォルダの中にファイルがありません"))
    return found


def _outcome(result: CheckResult) -> str:
    if result.unread:
        return "error"
    return "deficient" if has_deficiency(result.findings) else "complete"


def _check_bounded(
    name: str, data: bytes, program: Program, form_map: FormMap, passwords: Sequence[str],
    limits: Limits,
) -> CheckResult:
    """`check_bytes` in the sandbox: a FILE that breaches the limits is reported, not waited on."""
    outcome = sandbox.shared(limits.max_parse_memory).run(
        check_bytes, name, data, program, form_map, passwords=passwords, limits=limits,
        cpu_seconds=limits.max_parse_seconds,
        wall_seconds=sandbox.wall_seconds(limits.max_parse_seconds))
    if outcome.ok:
        return outcome.value
    detail = sandbox.breach_detail(name, outcome.breach or sandbox.CRASH,
                                   limits.max_parse_seconds, limits.max_parse_memory)
    return CheckResult(findings=[finding("ATTACHMENT_UNREADABLE", detail)])


def _as_json(file: str, result: CheckResult) -> dict[str, object]:
    record: dict[str, object] = {
        "file": file,
        "codes": sorted({f.code for f in result.findings}),
        "findings": [{"code": f.code, "severity": f.severity, "member": f.member,
                      "document": f.document, "detail": f.detail} for f in result.findings],
        "documents": [{"path": path, "document": r.key, "how": r.how}
                      for path, r in (*result.recognised, *result.also)],
    }
    if result.unread:
        record["error"] = "。".join(result.unread)
    return record


def check_bytes(
    name: str, data: bytes, program: Program, form_map: FormMap, *,
    passwords: Sequence[str] = (), limits: Limits = DEFAULT_LIMITS,
) -> CheckResult:
    """One FILE argument: a loose form, an archive (whole submission) or an .eml."""
    kind = sniff(data, name)
    if kind == "eml" or name.lower().endswith(".eml") or looks_like_mail(data):
        return _check_mail(data, program, form_map, passwords, limits)
    # Unpacking a loose file too: an encrypted Office file takes the password like a zip, and
    # an .lzh/.7z/.rar is reported as such.
    files, findings = _unpack_all([(name, data)], passwords, limits)
    whole = kind in _ARCHIVE_KINDS
    result = check_files(files, program, form_map, whole_submission=whole, limits=limits)
    result.findings[:0] = findings
    if not whole and not findings and not any(r.key for _, r in result.recognised):
        result.unread.append(f"{name}: 書類の種類を判別できません(様式・書類として読めません)")
    return result


def _unpack_all(
    attachments: Sequence[tuple[str, bytes]], passwords: Sequence[str], limits: Limits,
) -> tuple[list[FileInput], list[Finding]]:
    files: list[FileInput] = []
    findings: list[Finding] = []
    for name, data in attachments:
        unpacked = unpack(name, data, passwords=passwords, limits=limits)
        limits = replace(limits, max_total_bytes=max(0, limits.max_total_bytes - unpacked.inflated),
                         max_members=max(0, limits.max_members - unpacked.members))
        files += [FileInput(f.path, f.name, f.kind, f.data) for f in unpacked.files]
        findings += [finding(p.code, p.detail) for p in unpacked.problems]
        for locked in unpacked.encrypted:
            if sniff(locked.data, locked.path) == "office-encrypted":
                # no password mail to wait for here: say what to send instead
                findings.append(finding(
                    "ATTACHMENT_UNREADABLE",
                    f"{locked.path} はパスワードが設定されたOfficeファイルのため開けません。"
                    "パスワードを別メールでお送りいただくか、パスワードを解除したファイルを送付してください。"))
                continue
            names = "、".join(locked.member_names[:5])
            findings.append(finding(
                "ARCHIVE_PASSWORD_MISSING",
                f"{locked.path} は暗号化されています(中身: {names})。パスワードなしでは確認できません。"))
    return files, findings


def _check_mail(
    raw: bytes, program: Program, form_map: FormMap, passwords: Sequence[str], limits: Limits,
) -> CheckResult:
    message = parse_message(raw, max_parts=limits.max_parts, max_lines=limits.max_mail_lines)
    subject = parse_subject(message.subject, program.subject_core)
    files, findings = _unpack_all([(a.name, a.data) for a in message.attachments], passwords,
                                  limits)
    findings += check_subject(subject)
    findings += check_sender(parse_sender_block(message.body))
    arrived = received_time(raw) or message.date
    if arrived is not None:
        findings += check_period(arrived, program)
    result = check_files(files, program, form_map, subject_consortium=subject.consortium,
                         sender_email=message.from_addr, limits=limits)
    result.findings[:0] = findings
    return result


def _print_result(result: CheckResult, program: Program, out: TextIO) -> None:
    """The documents recognised, each finding, and one line with the file's result."""
    for path, found in (*result.recognised, *result.also):
        if found.key:
            what = f"{program.document_title(found.key)}({HOW_JA[found.how]}: {found.evidence})"
        elif result.unread:
            continue  # the result line says the file could not be identified
        else:
            what = "書類の種類を判別できません"
        print(visible(f"  書類: {path} → {what}"), file=out)
    for item in result.findings:
        member = item.member or "-"
        document = program.document_title(item.document) if item.document else "-"
        print(f"  {item.code}\t{label('severity', item.severity)}\t構成員: {visible(member)}\t"
              f"書類: {document}\t{visible(item.detail)}", file=out)
    outcome = _outcome(result)
    line = f"  結果: {label('outcome', outcome)}"
    if outcome == "error":
        if not any(f.code == "ATTACHMENT_UNREADABLE" for f in result.findings):
            line += ": " + "。".join(result.unread)  # said nowhere above
    elif outcome == "deficient":
        line += f"(不備 {sum(1 for f in result.findings if f.severity == 'deficiency')} 件)"
    elif result.findings:
        line += f"(お知らせ {len(result.findings)} 件)"
    print(visible(line), file=out)


def print_catalog(out: TextIO) -> None:
    """Every finding code of SPEC §4 with its severity, meaning and what the applicant does."""
    for code, info in CATALOG.items():
        print(f"{code}\t{label('severity', info.severity)}\t{info.meaning}\t対応: {info.fix}", file=out)
