"""``OUT/tuning.json``: per tuned configuration its search space, budget, trials and chosen values.

Written by the executor after every trial of a configuration; read by the report, which never opens Optuna.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from filelock import FileLock

from suite import store
from suite.tuning.space import TuneSpec, edge_notes

SUMMARY_FILE = "tuning.json"


def configuration_summary(config: str, tune: TuneSpec, trials: list[dict[str, Any]]) -> dict[str, Any]:
    """The entry of one configuration: space, budget, objective, every trial and the best (None before one completes).

    ``trials``: ``{"number", "state", "value", "values", "run_id"}`` per trial, in trial order.
    """
    finished = [trial for trial in trials if trial["state"] == "COMPLETE" and trial["value"] is not None]
    sign = 1 if tune.direction == "maximize" else -1
    best = max(finished, key=lambda trial: (sign * trial["value"], -trial["number"])) if finished else None
    return {
        "config": config,
        "space": {key: param.describe() for key, param in tune.space.items()},
        "budget": tune.trials,
        "objective": tune.objective,
        "direction": tune.direction,
        "sampler": tune.sampler,
        "pruner": tune.pruner,
        "trials": trials,
        "best": None if best is None else {key: best[key] for key in ("number", "value", "values")},
        "edge_notes": [] if best is None else edge_notes(tune.space, best["values"]),
    }


def write_configuration(out_dir: Path, entry: dict[str, Any]) -> None:
    """Store ``entry`` under its configuration in ``OUT/tuning.json`` (other configurations kept)."""
    path = out_dir / SUMMARY_FILE
    with FileLock(str(path) + ".lock", timeout=60):
        current = read_summary(out_dir)
        current[entry["config"]] = entry
        store.write_json(path, current)


def read_summary(out_dir: Path) -> dict[str, dict[str, Any]]:
    """``OUT/tuning.json`` by configuration; empty when the study was not tuned (or the file is unreadable)."""
    path = Path(out_dir) / SUMMARY_FILE
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}
