"""The tuning section of a tuned study, one row per tuned configuration.

Each row: search space, budget, chosen values, best validation score and the final runs' test score over
seeds, with a note when a chosen value sits on the edge of its range.

Reads ``OUT/tuning.json`` (:mod:`suite.tuning.summary`) and the final runs' stored results; untuned studies
have no such file and get no section.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd

from reports import fmt
from reports.fmt import Table
from suite.tuning.summary import read_summary


def tuning_entries(study_dirs: list[Path]) -> list[dict[str, Any]]:
    """Every tuned configuration's entry of every study directory, in file order."""
    return [entry for directory in study_dirs for entry in read_summary(directory).values()]


def best_so_far(entry: dict[str, Any]) -> list[tuple[int, float]]:
    """(trial number, best objective value of the completed trials up to it), for each completed trial."""
    maximize = entry.get("direction") == "maximize"
    points, best = [], None
    for trial in entry.get("trials", []):
        value = trial.get("value")
        if trial.get("state") != "COMPLETE" or value is None:
            continue
        best = value if best is None else (max(best, value) if maximize else min(best, value))
        points.append((int(trial["number"]), float(best)))
    return points


def tuning_table(entries: list[dict[str, Any]], configs: pd.DataFrame) -> Table | None:
    """One row per tuned configuration; None when the study was not tuned."""
    if not entries:
        return None
    rows = [_row(entry, _final(configs, entry["config"])) for entry in entries]
    data = pd.DataFrame(rows)
    text = data.copy()
    text["Test accuracy (final runs)"] = [
        fmt.pct_summary(*values) if values else fmt.MISSING for values in data["Test accuracy (final runs)"]
    ]
    text["Best validation"] = [
        (fmt.pct if entry["objective"] == "val_accuracy" else fmt.number)(value)
        for entry, value in zip(entries, data["Best validation"], strict=True)
    ]
    objectives = sorted({entry["objective"] for entry in entries})
    intro = (
        f"Each configuration was tuned on its own with the same budget and sampler seed; the objective is "
        f"{' / '.join(objectives)} on the validation split (the test split is sealed during tuning). The best "
        "trial's values were re-run on every seed of the study; those runs are the ones the tables compare."
    )
    notes = [
        f"{entry['config']}: {note} (the space may be too narrow)" for entry in entries for note in entry["edge_notes"]
    ]
    return Table("Tuning", data, text, intro=intro, notes=notes)


def _row(entry: dict[str, Any], final: tuple | None) -> dict[str, Any]:
    trials = entry.get("trials", [])
    states = [trial.get("state") for trial in trials]
    spent = f"{len(trials)}/{entry['budget']}"
    extra = [f"{states.count(state)} {state.lower()}" for state in ("PRUNED", "FAIL") if states.count(state)]
    best = entry.get("best") or {}
    chosen = ", ".join(f"{key} = {_value(value)}" for key, value in (best.get("values") or {}).items())
    return {
        "Configuration": entry["config"],
        "Search space": "; ".join(f"{key}: {space}" for key, space in entry["space"].items()),
        "Trials": spent + (f" ({', '.join(extra)})" if extra else ""),
        "Chosen values": chosen or fmt.MISSING,
        "Best validation": best.get("value"),
        "Test accuracy (final runs)": final,
    }


def _final(configs: pd.DataFrame, config: str) -> tuple | None:
    """(mean, std, ci low, ci high, n) of the configuration's final runs' test accuracy, or None."""
    if configs.empty or "config_name" not in configs:
        return None
    match = configs[configs["config_name"] == config]
    if match.empty:
        return None
    row = match.iloc[0]
    return tuple(row[column] for column in ("test_acc", "test_acc_std", "test_acc_ci_low", "test_acc_ci_high", "n"))


def _value(value: Any) -> str:
    return f"{value:.4g}" if isinstance(value, float) else str(value)
