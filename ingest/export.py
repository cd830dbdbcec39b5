"""`export submissions`: JSON lines or CSV for staff scripts and spreadsheets.

The CSV is made to open in Excel on Japanese Windows by a double-click: UTF-8 with a BOM (or
cp932 on request), Japanese headers and values, times in JST as Excel reads them. With
`--header codes` it keeps the English keys and codes for scripts.
"""

from __future__ import annotations

import csv
import io
import json
import os
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO

from ingest.screen import jst, os_reason, visible
from state.labels import label
from state.staff_views import REPLY_DONE_STATUSES

CSV_COLUMNS = ("id", "consortium", "version", "lead_email", "status", "outcome", "kind",
               "received_at", "subject", "messages", "findings", "replies")

# (header, key) of the staff CSV: one row per submission (version).
JAPANESE_COLUMNS = (
    ("申請ID", "id"), ("コンソーシアム名", "consortium"), ("版", "version"),
    ("幹事社メールアドレス", "lead_email"), ("状態", "display_state"), ("結果", "outcome"),
    ("種別", "kind"), ("最初の受信日時(日本時間)", "received_at"), ("件名", "subject"),
    ("メール数", "messages"), ("指摘コード", "findings"), ("返信(種類:状態)", "replies"),
    ("返信期限(日本時間)", "due"),
    ("未送信の返信の期限(日本時間)", "pending_due"),  # a bare date Excel reads, for sorting
)
EXCEL_TIME = "%Y/%m/%d %H:%M"  # what Excel on Japanese Windows reads as a date and time
ENCODINGS = {"utf-8": ("utf-8-sig", "UTF-8 BOM付き"), "cp932": ("cp932", "Shift_JIS (cp932)")}


class ExportError(Exception):
    """The export cannot be written as asked; the message says what to do instead."""


@dataclass(frozen=True)
class CsvData:
    content: bytes
    count_rows: int
    encoding_name: str


def write_jsonl(rows: Iterable[dict[str, Any]], out: TextIO) -> int:
    count = 0
    for row in rows:
        out.write(json.dumps(row, ensure_ascii=False) + "\n")
        count += 1
    return count


def write_csv(rows: Iterable[dict[str, Any]], out: TextIO) -> int:
    """The script CSV: English keys and codes, ledger times as written (UTC, ISO)."""
    writer = csv.DictWriter(out, fieldnames=CSV_COLUMNS, extrasaction="ignore")
    writer.writeheader()
    count = 0
    for row in rows:
        writer.writerow({
            **{k: visible(v) if isinstance(v, str) else v for k, v in row.items()},
            "findings": " ".join(row["findings"]),
            "replies": " ".join(f"{r['kind']}:{r['status']}" for r in row["replies"]),
        })
        count += 1
    return count


def write_japanese_csv(rows: Iterable[dict[str, Any]], out: TextIO) -> int:
    """The staff CSV: Japanese headers and labels, JST times, one row per submission."""
    writer = csv.writer(out)
    writer.writerow([title for title, _ in JAPANESE_COLUMNS])
    count = 0
    for row in rows:
        values = {
            **row,
            "display_state": label("display_state", row["display_state"]),
            "outcome": label("outcome", row["outcome"]),
            "kind": label("submission_kind", row["kind"]),
            "received_at": jst(row["received_at"], EXCEL_TIME),
            "findings": " ".join(row["findings"]),
            "replies": " ".join(f"{label('reply_kind', r['kind'])}:"
                                f"{label('reply_status', r['status'])}" for r in row["replies"]),
            "due": " ".join(f"{label('reply_kind', r['kind'])}:{jst(r['due_at'], EXCEL_TIME)}"
                            for r in row["replies"] if r.get("due_at")),
            "pending_due": jst(min((r["due_at"] for r in row["replies"] if r.get("due_at")
                                    and r["status"] not in REPLY_DONE_STATUSES), default=None),
                               EXCEL_TIME),
        }
        writer.writerow([_safe(values[key]) if isinstance(values[key], str) else values[key]
                         for _, key in JAPANESE_COLUMNS])
        count += 1
    return count


def csv_bytes(rows: list[dict[str, Any]], *, encoding: str = "utf-8",
              codes: bool = False) -> CsvData:
    """The whole CSV, encoded; a character cp932 cannot hold is named in an ExportError."""
    text = io.StringIO(newline="")
    count = (write_csv if codes else write_japanese_csv)(rows, text)
    codec, name = ENCODINGS[encoding]
    if codes and encoding == "utf-8":  # the script CSV stays as it always was: no BOM
        codec, name = "utf-8", "UTF-8"
    value = text.getvalue()
    try:
        content = value.encode(codec)
    except UnicodeEncodeError as exc:
        bad = value[exc.start]
        where = _where(rows, bad)
        raise ExportError(
            f"{where}の文字「{bad}」(U+{ord(bad):04X} {unicodedata.name(bad, '')}) は cp932 で"
            "表せないため書き出せません。--encoding utf-8(既定、Excel でもそのまま開けます)で"
            "書き出してください") from None
    return CsvData(content, count, name)


def _where(rows: list[dict[str, Any]], char: str) -> str:
    for row in rows:
        for key, value in row.items():
            if isinstance(value, str) and char in value:
                title = next((t for t, k in JAPANESE_COLUMNS if k == key), key)
                return f"申請 {row['id']} の「{title}」"
    return "CSV "


def check_output(path: Path) -> None:
    """Refuse an output path that cannot be a file before any work is done; no folder is
    created for it."""
    if path.is_dir():
        raise ExportError(f"出力先 {path} はフォルダです。ファイル名まで指定してください"
                          "(例: --output 申請一覧.csv)")
    if not path.parent.is_dir():
        raise ExportError(f"出力先のフォルダ {path.parent} がありません。作成してから再実行してください")


def write_atomically(path: Path, content: bytes) -> None:
    """Write beside the target and rename, so a half-written file never looks complete.
    Not mkstemp: its 0600 mode would follow the file to the shared folder staff open it from."""
    check_output(path)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        tmp.write_bytes(content)
        os.replace(tmp, path)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise ExportError(f"{path} に書き出せません({os_reason(exc)})。"
                          "書き込み権限と空き容量を確認してください") from exc
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def _safe(text: str) -> str:
    """Text from a stranger for a spreadsheet: control characters made visible, and a leading
    = + - @ kept from being read as a formula."""
    text = visible(text)
    return "'" + text if text[:1] in ("=", "+", "-", "@") else text
