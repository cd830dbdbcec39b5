"""Progress on a terminal for long work; silent when output goes to a file or CI."""

from __future__ import annotations

import sys
import time


class Progress:
    def __init__(self, total: int | None, unit: str, done_label: str = "処理済み") -> None:
        self.total = total
        self.unit = unit
        self.done_label = done_label
        self.done = 0
        self.enabled = sys.stderr.isatty()
        self.last = 0.0

    def step(self) -> None:
        self.update(self.done + 1, self.total)

    def update(self, done: int, total: int | None) -> None:
        self.done, self.total = done, total
        now = time.monotonic()
        if self.enabled and (now - self.last > 0.2 or done == total):
            self.last = now
            of = f"/{total}" if total else ""
            sys.stderr.write(f"\r  {done}{of} {self.unit} {self.done_label}")
            sys.stderr.flush()

    def close(self) -> None:
        if self.enabled and self.done:
            sys.stderr.write("\n")
