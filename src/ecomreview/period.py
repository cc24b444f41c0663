"""Review periods: a calendar year (``2025``) or a quarter (``2025Q3``)."""
from __future__ import annotations

import re
from dataclasses import dataclass

import pandas as pd

from .errors import UsageError

_PATTERN = re.compile(r"^\s*(\d{4})(?:\s*[-_ ]?\s*[Qq]([1-4]))?\s*$")


@dataclass(frozen=True)
class Period:
    """A closed range of whole days: ``start`` and ``end`` are both inside the period."""

    year: int
    quarter: int | None = None

    @classmethod
    def parse(cls, text: str | int) -> "Period":
        m = _PATTERN.match(str(text))
        if not m:
            raise UsageError(
                f'period "{text}" is not understood: use a year such as 2025 or a quarter such as 2025Q3')
        return cls(int(m.group(1)), int(m.group(2)) if m.group(2) else None)

    @property
    def label(self) -> str:
        return f"{self.year}Q{self.quarter}" if self.quarter else str(self.year)

    @property
    def start(self) -> pd.Timestamp:
        month = 3 * (self.quarter - 1) + 1 if self.quarter else 1
        return pd.Timestamp(self.year, month, 1)

    @property
    def end(self) -> pd.Timestamp:
        if self.quarter:
            return (self.start + pd.offsets.QuarterEnd(0)).normalize()
        return pd.Timestamp(self.year, 12, 31)

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1

    @property
    def months(self) -> list[str]:
        return [p.strftime("%Y-%m") for p in pd.period_range(self.start, self.end, freq="M")]

    def contains(self, dates: pd.Series) -> pd.Series:
        """Boolean mask of the dates (datetime64) that fall inside the period."""
        d = dates.dt.normalize()
        return (d >= self.start) & (d <= self.end)

    def previous(self) -> "Period":
        """The period of the same length immediately before (2024 for 2025, 2025Q2 for 2025Q3)."""
        if self.quarter:
            return Period(self.year, self.quarter - 1) if self.quarter > 1 else Period(self.year - 1, 4)
        return Period(self.year - 1)

    def year_earlier(self) -> "Period":
        """The same period one year earlier, for YoY growth (2024Q3 for 2025Q3)."""
        return Period(self.year - 1, self.quarter)

    def __str__(self) -> str:
        return self.label


@dataclass(frozen=True)
class Window:
    """Any closed range of days, with the same interface as Period (goal baselines, plan tracking)."""

    first: pd.Timestamp
    last: pd.Timestamp

    @property
    def start(self) -> pd.Timestamp:
        return pd.Timestamp(self.first).normalize()

    @property
    def end(self) -> pd.Timestamp:
        return pd.Timestamp(self.last).normalize()

    @property
    def label(self) -> str:
        return f"{self.start:%Y-%m-%d}..{self.end:%Y-%m-%d}"

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1

    @property
    def months(self) -> list[str]:
        return [p.strftime("%Y-%m") for p in pd.period_range(self.start, self.end, freq="M")]

    def contains(self, dates: pd.Series) -> pd.Series:
        d = dates.dt.normalize()
        return (d >= self.start) & (d <= self.end)

    def previous(self) -> "Window":
        return Window(self.start - pd.Timedelta(days=self.days), self.start - pd.Timedelta(days=1))

    def year_earlier(self) -> "Window":
        return Window(self.start - pd.DateOffset(years=1), self.end - pd.DateOffset(years=1))

    def __str__(self) -> str:
        return self.label
