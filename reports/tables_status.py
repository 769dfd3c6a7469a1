"""Runs that are not in the tables: every status but completed with its reason, and damaged stored files."""

from __future__ import annotations

import os
from pathlib import Path

import pandas as pd

from reports import fmt
from reports.fmt import Table
from reports.load import Damage
from suite.store import statuses

DAMAGED_TITLE = "Damaged runs"


def status_table(frame: pd.DataFrame) -> Table | None:
    """Runs that did not complete (failed, diverged, timeout, killed, unavailable, interrupted, running), with why."""
    if frame.empty or "status" not in frame:
        return None
    others = frame[frame["status"] != statuses.COMPLETED]
    if others.empty:
        return None
    reasons = [
        reason or f"no error recorded (status: {status})"
        for reason, status in zip(_column(others, "status_reason"), others["status"], strict=True)
    ]
    data = pd.DataFrame(
        {"Run": others["name"], "Backend": others["backend_label"], "Status": others["status"], "Reason": reasons}
    ).reset_index(drop=True)
    text = fmt.render_columns(data, {"Reason": lambda value: f"`{value}`" if value else fmt.MISSING})
    present = [status for status in statuses.MEANINGS if status in set(data["Status"])]
    meanings = "; ".join(f"**{status}**: {statuses.MEANINGS[status]}" for status in present)
    intro = (
        f"{len(data)} run(s) did not complete; only completed runs enter the leaderboard, the tables and the "
        f"figures. {meanings}."
    )
    return Table("Runs that did not complete", data, text, intro=intro)


def damaged_table(damaged: list[Damage], start: Path) -> Table | None:
    """Stored files that could not be read: the run directory, the file and the problem (paths from ``start``)."""
    if not damaged:
        return None
    data = pd.DataFrame(
        {
            "Directory": [_relative(item.path.parent, start) for item in damaged],
            "Run": [item.name or fmt.MISSING for item in damaged],
            "File": [item.path.name for item in damaged],
            "Problem": [item.problem for item in damaged],
        }
    )
    text = data.copy()
    text["Problem"] = [f"`{problem}`" for problem in data["Problem"]]
    intro = (
        f"{len(data)} stored file(s) could not be used, so their runs are left out of everything above; "
        "`suite run` treats such a run as not completed and runs it again."
    )
    return Table(DAMAGED_TITLE, data, text, intro=intro)


def _column(frame: pd.DataFrame, name: str) -> list[str]:
    if name not in frame:
        return [""] * len(frame)
    return ["" if fmt.is_missing(value) else str(value) for value in frame[name]]


def _relative(path: Path, start: Path) -> str:
    try:
        return Path(os.path.relpath(Path(path).resolve(), Path(start).resolve())).as_posix()
    except ValueError:  # another drive
        return str(path)
