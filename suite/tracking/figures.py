"""Files a tracker attaches to a run besides the stored ones: confusion matrix (CSV and PNG), learning curves."""

from __future__ import annotations

import csv
from pathlib import Path
from typing import TYPE_CHECKING, Any

from suite.tracking.stored import StoredRun, epoch_series

if TYPE_CHECKING:
    from matplotlib.figure import Figure

CONFUSION_CSV = "confusion_matrix.csv"
CONFUSION_PNG = "confusion_matrix.png"
CURVES_PNG = "learning_curves.png"


def write_figures(run: StoredRun, directory: Path) -> list[Path]:
    """Write the run's derived files into ``directory`` (never into the store); returns their paths."""
    paths: list[Path] = []
    if run.confusion_matrix:
        paths.append(_confusion_csv(run, directory / CONFUSION_CSV))
        paths.append(_confusion_png(run, directory / CONFUSION_PNG))
    if run.history:
        paths.append(_curves_png(run, directory / CURVES_PNG))
    return paths


def _class_names(run: StoredRun) -> list[str]:
    size = len(run.confusion_matrix or [])
    return run.class_names if len(run.class_names) == size else [str(index) for index in range(size)]


def _confusion_csv(run: StoredRun, path: Path) -> Path:
    names = _class_names(run)
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["true \\ predicted", *names])
        for name, row in zip(names, run.confusion_matrix or [], strict=True):
            writer.writerow([name, *row])
    return path


def _confusion_png(run: StoredRun, path: Path) -> Path:
    import numpy as np

    figure, axes = _new_figure(len(run.confusion_matrix or []) * 0.45 + 2.5)
    matrix = np.asarray(run.confusion_matrix)
    names = _class_names(run)
    axes.imshow(matrix, cmap="Blues")
    axes.set(xticks=range(len(names)), yticks=range(len(names)), xlabel="predicted", ylabel="true")
    axes.set_xticklabels(names, rotation=90, fontsize=7)
    axes.set_yticklabels(names, fontsize=7)
    threshold = matrix.max() / 2 if matrix.size else 0
    for (row, column), count in np.ndenumerate(matrix):
        colour = "white" if count > threshold else "black"
        axes.text(column, row, str(count), ha="center", va="center", fontsize=6, color=colour)
    axes.set_title(f"{run.name}: test confusion matrix", fontsize=9)
    return _save(figure, path)


def _curves_png(run: StoredRun, path: Path) -> Path:
    from matplotlib.ticker import MaxNLocator

    series = epoch_series(run.history)
    figure, axes_row = _new_figure(4.0, columns=3)
    panels = (("loss", ("train_loss", "val_loss")), ("accuracy", ("train_accuracy", "val_accuracy")), ("lr", ()))
    for axes, (title, names) in zip(axes_row, panels, strict=True):
        names = names or tuple(name for name in series if name == "lr" or name.startswith("lr_"))
        for name in names:
            if name in series:
                epochs, values = zip(*series[name], strict=True)
                axes.plot(epochs, values, marker="o", markersize=3, label=name)
        axes.set(title=title, xlabel="epoch")
        axes.xaxis.set_major_locator(MaxNLocator(integer=True))
        if axes.lines:
            axes.legend(fontsize=7)
    figure.suptitle(run.name, fontsize=9)
    return _save(figure, path)


def _new_figure(height: float, columns: int = 1) -> tuple[Figure, Any]:
    """A figure without pyplot (no GUI backend, no global state); PNGs are drawn by Agg."""
    from matplotlib.figure import Figure

    figure = Figure(figsize=(height * columns, height), layout="constrained")
    return figure, figure.subplots(1, columns)


def _save(figure: Figure, path: Path) -> Path:
    figure.savefig(path, dpi=100)
    return path
