"""Plots of one run: learning curves and the normalised confusion matrix."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
from matplotlib.ticker import MaxNLocator

from suite.plots.style import new_figure, save, short

ANNOTATE_MAX_CLASSES = 15


def learning_curves(history: pd.DataFrame, title: str, path: Path, best_epoch: int | None = None) -> Path:
    """Loss and accuracy against epoch, train dashed and validation solid; the best epoch marked."""
    figure = new_figure(10.0, 3.8)
    axes = figure.subplots(1, 2)
    panels = (("loss", "Loss (cross-entropy)", False), ("accuracy", "Accuracy (%)", True))
    for axis, (metric, label, percent) in zip(axes, panels, strict=True):
        scale = 100.0 if percent else 1.0
        for split, style in (("train", "--"), ("val", "-")):
            column = f"{split}_{metric}"
            if column in history and history[column].notna().any():
                axis.plot(
                    history["epoch"],
                    history[column] * scale,
                    style,
                    marker="o",
                    markersize=3,
                    label="train" if split == "train" else "validation",
                )
        if best_epoch is not None:
            axis.axvline(best_epoch, color="#888888", linestyle=":", linewidth=1, label=f"best epoch ({best_epoch})")
        axis.set_xlabel("Epoch")
        axis.xaxis.set_major_locator(MaxNLocator(integer=True))
        axis.set_ylabel(label)
        axis.grid(alpha=0.3)
        axis.legend(fontsize=8, frameon=False)
    figure.suptitle(short(title, 90), fontsize=11)
    return save(figure, path)


def normalise_rows(matrix: np.ndarray) -> np.ndarray:
    """Confusion counts -> fraction of each true class (rows sum to 1; empty rows stay 0)."""
    matrix = np.asarray(matrix, dtype=float)
    totals = matrix.sum(axis=1, keepdims=True)
    return np.divide(matrix, totals, out=np.zeros_like(matrix), where=totals > 0)


def confusion_from_predictions(labels: np.ndarray, scores: np.ndarray, num_classes: int) -> np.ndarray:
    """Count matrix (true class rows, predicted class columns) from labels and class scores."""
    predicted = np.asarray(scores).argmax(axis=1)
    matrix = np.zeros((num_classes, num_classes), dtype=np.int64)
    np.add.at(matrix, (np.asarray(labels, dtype=np.int64), predicted), 1)
    return matrix


def confusion_matrix(matrix: np.ndarray, class_names: list[str], title: str, path: Path) -> Path:
    """Row-normalised confusion matrix with class names; cells annotated when there are few classes."""
    normalised = normalise_rows(matrix)
    size = len(normalised)
    names = class_names if len(class_names) == size else [str(index) for index in range(size)]
    side = min(max(4.5, 0.45 * size + 2.5), 14.0)
    figure = new_figure(side + 1.2, side)
    axis = figure.subplots()
    image = axis.imshow(normalised, cmap="Blues", vmin=0.0, vmax=1.0)
    figure.colorbar(image, ax=axis, fraction=0.046, pad=0.04, label="Fraction of true class")
    tick_size = 8 if size <= 30 else 5
    axis.set_xticks(
        range(size),
        labels=names,
        rotation=45 if size > 4 else 0,
        ha="right" if size > 4 else "center",
        fontsize=tick_size,
    )
    axis.set_yticks(range(size), labels=names, fontsize=tick_size)
    axis.set_xlabel("Predicted class")
    axis.set_ylabel("True class")
    if size <= ANNOTATE_MAX_CLASSES:
        for row in range(size):
            for column in range(size):
                value = normalised[row, column]
                axis.text(
                    column,
                    row,
                    f"{value:.2f}",
                    ha="center",
                    va="center",
                    fontsize=7,
                    color="white" if value > 0.5 else "black",
                )
    axis.set_title(short(title, 70) + "\n(rows normalised to 1)", fontsize=10)
    return save(figure, path)


def group_learning_rates(history: pd.DataFrame, title: str, path: Path) -> Path | None:
    """Each layer group's learning rate per epoch (``lr_<group>`` history columns), log scale.

    Shows what a schedule really did to every group under discriminative LRs: e.g. a cosine ``eta_min``
    above a group's base rate raises that group's rate instead of annealing it.
    """
    columns = [column for column in history.columns if column.startswith("lr_")]
    if not columns:
        return None
    figure = new_figure(9.0, 3.8)
    axis = figure.subplots()
    for column in columns:
        rates = pd.to_numeric(history[column], errors="coerce")
        axis.plot(history["epoch"], rates, "-", marker="o", markersize=3, label=column.removeprefix("lr_"))
    axis.set_yscale("log")
    axis.set(xlabel="Epoch", ylabel="Learning rate (log scale)")
    axis.xaxis.set_major_locator(MaxNLocator(integer=True))
    axis.grid(alpha=0.3, which="both")
    axis.legend(fontsize=8, frameon=False, bbox_to_anchor=(1.01, 1.0), loc="upper left", title="group")
    figure.suptitle(short(title, 90), fontsize=11)
    return save(figure, path)
