"""Markdown rendering: tables, figure links and the document's sections."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from reports.fmt import Table


@dataclass(frozen=True)
class FigureRef:
    """A written figure with its section title and caption."""

    title: str
    path: Path
    caption: str


def cell(value: object) -> str:
    """Text of one table cell (pipes escaped, newlines flattened)."""
    return str(value).replace("|", "\\|").replace("\n", " ")


def table_markdown(text: pd.DataFrame) -> str:
    """A GitHub-flavoured pipe table; numeric-looking columns are right-aligned."""
    header = "| " + " | ".join(cell(column) for column in text.columns) + " |"
    align = "|" + "|".join(":---" if _is_text_column(text[column]) else "---:" for column in text.columns) + "|"
    rows = ["| " + " | ".join(cell(value) for value in row) + " |" for row in text.itertuples(index=False)]
    return "\n".join([header, align, *rows])


def section(table: Table, level: int = 2) -> str:
    """A titled section holding ``table`` with its intro and notes."""
    parts = [f"{'#' * level} {table.title}", ""]
    if table.intro:
        parts += [table.intro, ""]
    parts += [table_markdown(table.text), ""]
    parts += [f"> {note}" for note in table.notes]
    return "\n".join(parts).rstrip() + "\n"


def relative(path: Path, start: Path) -> str:
    """``path`` relative to the folder ``start``, with forward slashes (for links)."""
    return Path(os.path.relpath(Path(path).resolve(), Path(start).resolve())).as_posix()


def image(title: str, path: Path, start: Path) -> str:
    """Inline image link."""
    return f"![{title}]({relative(path, start)})"


def figures_section(figures: list[FigureRef], start: Path) -> str:
    """One sub-section per study figure with its caption."""
    if not figures:
        return ""
    parts = ["## Figures", ""]
    for figure in figures:
        parts += [f"### {figure.title}", "", image(figure.title, figure.path, start), "", figure.caption, ""]
    return "\n".join(parts)


def run_links(paths: dict[str, dict[str, Path]], start: Path) -> dict[str, str]:
    """Per run key, markdown links to its learning curves, confusion matrix and per-group LR plot."""
    names = {"curves": "curves", "confusion": "confusion", "group_lr": "LR per group"}
    return {
        key: " · ".join(f"[{names[kind]}]({relative(path, start)})" for kind, path in sorted(kinds.items())) or "–"
        for key, kinds in paths.items()
    }


def _is_text_column(column: pd.Series) -> bool:
    sample = [str(value) for value in column if str(value) not in ("", "–")]
    if not sample:
        return True
    numeric = sum(1 for value in sample if value.lstrip("+-−<")[:1].isdigit())
    return numeric < len(sample)
