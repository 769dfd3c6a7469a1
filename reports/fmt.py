"""Text formatting of numbers for report tables, and the Table container every section returns."""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

MISSING = "–"


@dataclass
class Table:
    """A report table: numbers (for tests and CSV) and the same table as display text."""

    title: str
    data: pd.DataFrame
    text: pd.DataFrame
    intro: str = ""
    notes: list[str] = field(default_factory=list)


def is_missing(value: Any) -> bool:
    """True for None and NaN."""
    if value is None:
        return True
    try:
        return math.isnan(float(value))
    except (TypeError, ValueError):
        return False


def _guard(function: Callable[[Any], str]) -> Callable[[Any], str]:
    def wrapped(value: Any) -> str:
        return MISSING if is_missing(value) else function(value)

    wrapped.__doc__ = function.__doc__
    return wrapped


@_guard
def pct(value: Any) -> str:
    """Fraction -> percent with two decimals."""
    return f"{100 * float(value):.2f}%"


@_guard
def points(value: Any) -> str:
    """Fraction difference -> signed percentage points."""
    return f"{100 * float(value):+.2f} pp"


@_guard
def pp(value: Any) -> str:
    """Fraction -> unsigned percentage points (a spread or a standard error)."""
    return f"{100 * float(value):.2f} pp"


@_guard
def count(value: Any) -> str:
    """Integer with thousands separators."""
    return f"{round(float(value)):,}"


@_guard
def seconds(value: Any) -> str:
    """Seconds with one decimal."""
    return f"{float(value):.1f}"


@_guard
def rate(value: Any) -> str:
    """Throughput (images/s) without decimals, or with one when small."""
    value = float(value)
    return f"{value:,.0f}" if value >= 100 else f"{value:.1f}"


@_guard
def ratio(value: Any) -> str:
    """Multiplicative ratio such as a speed-up."""
    return f"{float(value):.2f}×"


@_guard
def number(value: Any) -> str:
    """General number with three significant decimals."""
    value = float(value)
    return f"{value:.3g}" if abs(value) < 1000 else f"{value:,.0f}"


@_guard
def megabytes(value: Any) -> str:
    """Megabytes: one decimal, or three significant digits below 1 MB."""
    value = float(value)
    return f"{value:.1f}" if value >= 1 else f"{value:.3g}"


@_guard
def integer(value: Any) -> str:
    """Plain integer (epochs, ranks)."""
    return str(round(float(value)))


def text(value: Any) -> str:
    """Any value as text, with a dash when missing."""
    return MISSING if is_missing(value) else str(value)


def pct_summary(mean: Any, std: Any, ci_low: Any, ci_high: Any, n: Any) -> str:
    """``91.20% ± 0.80 [89.9, 92.5]`` for repeats; ``91.20% [88.0, 93.6]`` for a single seed with an interval.

    The interval is shown clipped to [0, 100] % (an accuracy cannot leave it).
    """
    if is_missing(mean):
        return MISSING
    interval = ""
    if not is_missing(ci_low) and not is_missing(ci_high):
        low, high = max(0.0, float(ci_low)), min(1.0, float(ci_high))
        interval = f" [{100 * low:.1f}, {100 * high:.1f}]"
    if is_missing(std) or is_missing(n) or int(n) < 2:
        return pct(mean) + interval
    return f"{pct(mean)} ± {100 * float(std):.2f}{interval}"


def pct_interval(value: Any, low: Any, high: Any) -> str:
    """``90.00% [59.6, 98.2]``: a fraction with its interval (just the value when the interval is missing)."""
    return pct_summary(value, None, low, high, 1)


def summary_text(row: pd.Series, short: str) -> str:
    """:func:`pct_summary` of the aggregated columns ``<short>``, ``<short>_std`` ... of ``row``."""
    return pct_summary(
        row.get(short),
        row.get(f"{short}_std"),
        row.get(f"{short}_ci_low"),
        row.get(f"{short}_ci_high"),
        row.get(f"{short}_n"),
    )


def render_columns(data: pd.DataFrame, formats: dict[str, Callable[[Any], str]]) -> pd.DataFrame:
    """Apply one formatter per column (columns not in ``formats`` use :func:`text`)."""
    rendered = {column: [formats.get(column, text)(value) for value in data[column]] for column in data.columns}
    return pd.DataFrame(rendered, index=data.index, dtype=object)


def drop_empty_columns(data: pd.DataFrame, keep: tuple[str, ...] = ()) -> pd.DataFrame:
    """Remove columns in which every value is missing (a table shows only what the data has)."""
    empty = [column for column in data.columns if column not in keep and data[column].map(is_missing).all()]
    return data.drop(columns=empty)


def numeric(frame: pd.DataFrame, column: str) -> pd.Series:
    """Column ``column`` as numbers, or NaNs when the data has no such column."""
    if column in frame:
        return pd.to_numeric(frame[column], errors="coerce")
    return pd.Series(float("nan"), index=frame.index)


@_guard
def pvalue(value: Any) -> str:
    """p-value: three significant decimals, ``<0.001`` below that."""
    value = float(value)
    return "<0.001" if value < 0.001 else f"{value:.3f}"


def interval_points(low: Any, high: Any) -> str:
    """``[-3.1, +5.0]``: a difference interval in percentage points, one decimal."""
    if is_missing(low) or is_missing(high):
        return ""
    return f"[{100 * float(low):+.1f}, {100 * float(high):+.1f}]"
