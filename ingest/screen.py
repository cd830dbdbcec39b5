"""Text for a staff terminal: aligned tables, control characters made visible, readable events.

Everything a mail brings (subject, names, file names, body) is a stranger's text: an escape
sequence in it must never reach a terminal as one (it could clear the screen or retitle the
window), so every human-readable output passes through `visible`.
"""

from __future__ import annotations

import errno
import json
import re
import unicodedata
from collections import Counter
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from rules.calendar import JST
from rules.findings import short_label
from state.display import reply_labels
from state.labels import VOCABULARIES, label

# Bidirectional overrides and isolates reorder what follows them on screen.
_BIDI = frozenset("\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
# "null-return-path: 差出人アドレスが空…": the key before the colon is for filters, not staff.
_REASON_KEY = re.compile(r"(^|: )[a-z][a-z0-9_]*(?:-[a-z0-9_]+)*: (?=\S)")


def visible(text: str, *, lines: bool = False) -> str:
    """`text` with every control character written as an escape (`\\x1b`, `\\u2028`).

    With `lines`, newlines and tabs stay (a mail body shown as it reads)."""
    out = []
    for ch in text:
        if lines and ch in "\n\t":
            out.append(ch)
        elif unicodedata.category(ch) in ("Cc", "Zl", "Zp") or ch in _BIDI:
            code = ord(ch)
            out.append(f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}")
        else:
            out.append(ch)
    return "".join(out)


def cell(value: Any) -> str:
    """One table cell: one line (a newline in a subject would break the row), made visible."""
    if value is None:
        return ""
    text = re.sub(r"[ \t\r\n]+", " ", str(value)).strip()
    return visible(text)


def reason(text: str | None) -> str:
    """A reason or finding detail without the machine key in front of it."""
    return _REASON_KEY.sub(r"\1", text or "")


def replies_text(replies: str | None) -> str:
    """The overview's "kind:status" pairs as 不備連絡:承認待ち."""
    return " ".join(reply_labels(replies))


def table(headers: Sequence[str], rows: Iterable[Sequence[Any]], *, indent: str = "") -> str:
    """A plain-text table whose columns line up on a terminal, Japanese (double width) included."""
    cells = [[cell(c) for c in headers], *([cell(c) for c in row] for row in rows)]
    widths = [max(display_width(row[i]) for row in cells) for i in range(len(headers))]
    out = []
    for row in cells:
        padded = [c + " " * (w - display_width(c)) for c, w in zip(row, widths, strict=True)]
        out.append(indent + "  ".join(padded).rstrip())
    return "\n".join(out)


def display_width(text: str) -> int:
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def clip(value: Any, width: int) -> str:
    text = cell(value)
    if display_width(text) <= width:
        return text
    out = ""
    for ch in text:
        if display_width(out + ch) > width - 1:
            break
        out += ch
    return out + "…"


_ERRNO = {
    errno.ENOENT: "ファイルまたはフォルダがありません",
    errno.EACCES: "アクセスする権限がありません",
    errno.EPERM: "この操作は許可されていません",
    errno.ENOTDIR: "途中のパスがフォルダではなくファイルです",
    errno.EISDIR: "ファイルではなくフォルダです",
    errno.EEXIST: "同じ名前のファイルがあるためフォルダを作れません",
    errno.ENOSPC: "ディスクの空き容量がありません",
    errno.EDQUOT: "ディスクの使用量の上限に達しています",
    errno.EROFS: "読み取り専用のファイルシステムです",
    errno.ENAMETOOLONG: "名前が長すぎます",
    errno.ELOOP: "シンボリックリンクが循環しています",
    errno.EINVAL: "使えない名前です",
    errno.EIO: "入出力エラーです(ディスクを確認してください)",
    errno.EMFILE: "開いているファイルが多すぎます",
    errno.EBUSY: "使用中です",
    errno.ETXTBSY: "使用中です",
    errno.EFBIG: "ファイルが大きすぎます",
}


def os_reason(exc: OSError) -> str:
    """Why an operating-system call failed, in Japanese (the errno, not its English text)."""
    if exc.errno in _ERRNO:
        return _ERRNO[exc.errno]
    return exc.strerror or type(exc).__name__


def os_error_sentence(exc: OSError) -> str:
    """The path and the reason ("var/x: アクセスする権限がありません"), for one sentence."""
    path = exc.filename if exc.filename is not None else ""
    return f"{path}: {os_reason(exc)}" if path else os_reason(exc)


def jst(utc_iso: str | None, pattern: str = "%Y-%m-%d %H:%M") -> str:
    """A ledger time (ISO, UTC) as JST to the minute, written with `pattern` (the CSV passes
    Excel's "%Y/%m/%d %H:%M"); unreadable text is shown as it is, on one line."""
    if not utc_iso:
        return ""
    try:
        moment = datetime.fromisoformat(utc_iso)
    except ValueError:
        return cell(utc_iso)
    if moment.tzinfo is not None:
        moment = moment.astimezone(JST)
    return moment.strftime(pattern)


def event_name(event: str | None) -> str:
    """An event in words; a state name written as an event (set_message_state) too."""
    if event is None:
        return ""
    for vocabulary in ("event", "message_state", "reply_status"):
        if event in VOCABULARIES[vocabulary]:
            return label(vocabulary, event)
    return event


def event_detail(detail: str | None) -> str:
    """The JSON detail of an event as `項目: 値` pairs, codes as their labels."""
    if not detail:
        return ""
    try:
        value = json.loads(detail)
    except ValueError:
        return reason(detail)
    if not isinstance(value, dict):
        return reason(str(value)) if value is not None else ""
    parts = []
    for key, item in value.items():
        if item is None or item == "" or (item == [] and key not in ("before", "after")):
            continue
        parts.append(f"{label('event_detail', key)}: {_detail_value(key, item)}")
    return "、".join(parts)


def _detail_value(key: str, item: Any) -> str:
    if isinstance(item, bool):
        return "はい" if item else "いいえ"
    if isinstance(item, list):
        if key in ("findings", "before", "after"):
            counted = Counter(str(x) for x in item)  # 書類不足 ×6, not six times
            return "・".join(short_label(code) + (f" ×{n}" if n > 1 else "")
                            for code, n in counted.items()) or "指摘なし"
        return " ".join(str(x) for x in item)
    if key in ("from", "status"):
        return label("reply_status", str(item))
    if key == "kind":
        return label("reply_kind", str(item))
    if key == "role":
        return label("role", str(item))
    if key == "received_at_source":
        return label("received_at_source", str(item))
    if key == "waiting_for":
        return label("waiting_for", str(item))
    if key in ("reason", "problem", "error"):
        return reason(str(item))
    return str(item)
