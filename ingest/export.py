"""`export submissions`: JSON lines or CSV for staff scripts and spreadsheets."""

from __future__ import annotations

import csv
import json
from collections.abc import Iterable
from typing import Any, TextIO

CSV_COLUMNS = ("id", "consortium", "version", "lead_email", "status", "outcome", "kind",
               "received_at", "subject", "messages", "findings", "replies")


def write_jsonl(rows: Iterable[dict[str, Any]], out: TextIO) -> int:
    count = 0
    for row in rows:
        out.write(json.dumps(row, ensure_ascii=False) + "\n")
        count += 1
    return count


def write_csv(rows: Iterable[dict[str, Any]], out: TextIO) -> int:
    writer = csv.DictWriter(out, fieldnames=CSV_COLUMNS, extrasaction="ignore")
    writer.writeheader()
    count = 0
    for row in rows:
        writer.writerow({
            **row,
            "findings": " ".join(row["findings"]),
            "replies": " ".join(f"{r['kind']}:{r['status']}" for r in row["replies"]),
        })
        count += 1
    return count
