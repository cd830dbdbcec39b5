"""Program-year facts (SPEC: every one configurable, defaults from the program page)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from rules.calendar import JST


@dataclass(frozen=True)
class Program:
    year_label: str = "令和4年度"
    subsidy_name: str = "共創型サービスIT連携支援補助金"
    subject_suffix: str = "応募書類送付"
    period_start: datetime = datetime(2022, 8, 3, 0, 0, tzinfo=JST)
    period_end: datetime = datetime(2022, 9, 9, 23, 59, 59, tzinfo=JST)

    @property
    def subject_core(self) -> str:
        """The fixed part after the consortium name, as the program page writes it."""
        return f"{self.year_label}「{self.subsidy_name}」 {self.subject_suffix}"
