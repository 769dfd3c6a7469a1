"""Files a tracker attaches to a run besides the stored ones: confusion matrix (CSV and PNG), learning curves.

The PNGs are the report's own per-run plots (:mod:`suite.plots.run_plots`): one plotting stack.
"""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import pandas as pd

from suite.plots import run_plots
from suite.tracking.stored import StoredRun

CONFUSION_CSV = "confusion_matrix.csv"
CONFUSION_PNG = "confusion_matrix.png"
CURVES_PNG = "learning_curves.png"
GROUP_RATES_PNG = "group_learning_rates.png"


def write_figures(run: StoredRun, directory: Path) -> list[Path]:
    """Write the run's derived files into ``directory`` (never into the store); returns their paths."""
    paths: list[Path] = []
    if run.confusion_matrix:
        names = _class_names(run)
        paths.append(_confusion_csv(run, names, directory / CONFUSION_CSV))
        title = f"{run.name}: test confusion matrix"
        paths.append(
            run_plots.confusion_matrix(np.asarray(run.confusion_matrix), names, title, directory / CONFUSION_PNG)
        )
    if run.history:
        history = pd.DataFrame(run.history).apply(pd.to_numeric, errors="coerce")
        paths.append(run_plots.learning_curves(history, run.name, directory / CURVES_PNG))
        rates = run_plots.group_learning_rates(history, run.name, directory / GROUP_RATES_PNG)
        paths.extend([rates] if rates is not None else [])
    return paths


def _class_names(run: StoredRun) -> list[str]:
    size = len(run.confusion_matrix or [])
    return run.class_names if len(run.class_names) == size else [str(index) for index in range(size)]


def _confusion_csv(run: StoredRun, names: list[str], path: Path) -> Path:
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["true \\ predicted", *names])
        for name, row in zip(names, run.confusion_matrix or [], strict=True):
            writer.writerow([name, *row])
    return path
