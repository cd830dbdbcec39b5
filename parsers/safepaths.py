"""Stored names made into relative display paths that cannot leave their folder, and unique."""

from __future__ import annotations

import re
from pathlib import PurePosixPath

CLUTTER_NAMES = {".DS_Store", "Thumbs.db", "desktop.ini"}
_MAX_SEGMENT_CHARS = 200


def is_os_clutter(rel: str) -> bool:
    """macOS resource forks and folder caches that zipping tools add: never a document."""
    parts = rel.split("/")
    return parts[0] == "__MACOSX" or parts[-1] in CLUTTER_NAMES or parts[-1].startswith("._")


_DRIVE = re.compile(r"^[A-Za-z]:$")


def safe_relative_path(name: str) -> tuple[str, bool]:
    """A relative path that cannot leave its folder; and whether it differs from `name`.

    Backslashes count as separators (Windows tools write them), "."/".." and empty segments
    and a leading drive letter are dropped, control characters and ":" become "_".
    """
    parts: list[str] = []
    for segment in name.replace("\\", "/").split("/"):
        if not parts and _DRIVE.match(segment):
            continue
        cleaned = "".join("_" if (ord(c) < 0x20 or c == "\x7f" or c == ":") else c for c in segment)
        if cleaned.strip() in ("", ".", ".."):
            continue
        parts.append(_shorten(cleaned))
    path = "/".join(parts)
    return path, path != name.rstrip("/")


def _shorten(segment: str) -> str:
    if len(segment) <= _MAX_SEGMENT_CHARS:
        return segment
    suffix = PurePosixPath(segment).suffix
    suffix = suffix if len(suffix) <= 16 else ""
    return segment[: _MAX_SEGMENT_CHARS - len(suffix)] + suffix


def unique_path(path: str, used: set[str]) -> str:
    if path not in used:
        return path
    stem, dot, suffix = path.rpartition(".")
    if not dot or "/" in suffix:
        stem, suffix = path, ""
    n = 2
    while True:
        candidate = f"{stem} ({n}).{suffix}" if suffix else f"{stem} ({n})"
        if candidate not in used:
            return candidate
        n += 1
