"""Decide which figures the data supports and draw them into the report's figures folder."""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pandas as pd

from reports import plots_study
from reports.fmt import is_missing
from reports.load import RunRecord
from reports.markdown import FigureRef
from reports.plots_study import Curve
from reports.tidy import backend_label
from suite.plots import run_plots as plots_run
from suite.plots.style import run_colour, short

MAX_OVERLAID_RUNS = 10
MAX_CROSS_LR_FIGURES = 3


def safe_name(text: str) -> str:
    """File-name-safe version of a run key."""
    return re.sub(r"[^A-Za-z0-9._-]+", "_", text).strip("_") or "run"


def run_figures(records: list[RunRecord], folder: Path) -> dict[str, dict[str, Path]]:
    """Per completed run: learning curves, confusion matrix and, with per-group LRs, their schedule.

    Returns ``{key: {"curves": p, "confusion": p, "group_lr": p}}`` (kinds present when the data has them).
    """
    written: dict[str, dict[str, Path]] = {}
    for record in records:
        if not record.completed:
            continue
        paths: dict[str, Path] = {}
        name = record.result.get("name") or record.key
        metrics = record.result.get("metrics") or {}
        history = record.history()
        if history is not None:
            best = metrics.get("best_epoch")
            paths["curves"] = plots_run.learning_curves(
                history,
                f"{name}: learning curves",
                folder / f"{safe_name(record.key)}_curves.png",
                best_epoch=None if best is None else int(best),
            )
            group_lr = plots_run.group_learning_rates(
                history, f"{name}: learning rate per layer group", folder / f"{safe_name(record.key)}_group_lr.png"
            )
            if group_lr is not None:
                paths["group_lr"] = group_lr
        matrix = _confusion(record)
        if matrix is not None:
            paths["confusion"] = plots_run.confusion_matrix(
                matrix,
                list(record.result.get("class_names") or []),
                f"{name}: confusion matrix",
                folder / f"{safe_name(record.key)}_confusion.png",
            )
        written[record.key] = paths
    return written


def study_figures(records: list[RunRecord], configs: pd.DataFrame, folder: Path) -> list[FigureRef]:
    """Multi-run figures, each only when the data has what it plots."""
    figures: list[FigureRef] = []
    curves = _curves(records)
    if len(curves) >= 2:
        with_history = sum(1 for record in records if record.completed and record.history() is not None)
        note = f" (the {len(curves)} most accurate of {with_history} runs)" if with_history > len(curves) else ""
        figures.append(
            FigureRef(
                "Learning curves",
                plots_study.overlaid_curves(curves, folder / "curves.png"),
                f"Accuracy per epoch{note}: validation solid, train dashed.",
            )
        )
        gap_curves = [curve for curve in curves if {"train_accuracy", "val_accuracy"} <= set(curve.history)]
        if gap_curves:
            figures.append(
                FigureRef(
                    "Train–validation gap",
                    plots_study.gap_curves(gap_curves, folder / "gap.png"),
                    "Train − validation accuracy per epoch; above zero the model fits the "
                    "training data better than unseen data.",
                )
            )
    scheduled = [curve for curve in curves if _lr_varies(curve.history)]
    if scheduled:
        figures.append(
            FigureRef(
                "Learning-rate schedule",
                plots_study.lr_schedules(scheduled, folder / "lr.png"),
                "Learning rate recorded in each epoch's history (runs whose LR changed).",
            )
        )
    figures.extend(_group_lrs_across_backends(records, folder))
    figures.extend(_tradeoffs(configs, folder))
    return figures


def _group_lrs_across_backends(records: list[RunRecord], folder: Path) -> list[FigureRef]:
    """For each configuration run on several backends with per-group LRs: their curves on top of each other."""
    by_config: dict[str, dict[str, pd.DataFrame]] = {}
    for record in records:
        history = record.history() if record.completed else None
        if history is None or not any(column.startswith("lr_") for column in history.columns):
            continue
        spec = dict(record.result.get("spec") or {})
        label = backend_label(spec.pop("backend", None), spec.pop("engine", None))
        for key in ("name", "seed", "keras_backend"):
            spec.pop(key, None)
        key = json.dumps(spec, sort_keys=True, default=str)
        by_config.setdefault(key, {}).setdefault(label, history)
    figures = []
    for index, histories in enumerate(group for group in by_config.values() if len(group) >= 2):
        if index == MAX_CROSS_LR_FIGURES:
            break
        labels = sorted(histories)
        path = plots_study.group_lrs_across_backends(
            [(label, histories[label]) for label in labels],
            "Learning rate per layer group: " + " vs ".join(labels),
            folder / f"group_lr_across_backends_{index}.png",
        )
        figures.append(
            FigureRef(
                f"Per-group learning rates, {' vs '.join(labels)}" + (f" ({index + 1})" if index else ""),
                path,
                "Each layer group's learning rate per epoch as each backend recorded it (one colour per group, "
                "one line style per backend): the lines coincide when both executed the same plan.",
            )
        )
    return figures


# (efficiency.* field, axis label, file): accuracy against each cost a run measured (suite.efficiency).
COST_TRADEOFFS = (
    ("efficiency.train_flops_per_image", "Training FLOPs per image", "acc_vs_train_flops.png"),
    ("efficiency.peak_train_memory_bytes", "Peak training memory (bytes)", "acc_vs_memory.png"),
    ("efficiency.latency_b1_ms_median", "Batch-1 latency, median (ms)", "acc_vs_latency.png"),
    ("efficiency.trainable_delta_bytes", "Trainable delta per task (bytes)", "acc_vs_delta.png"),
)


def _cost_tradeoffs(configs: pd.DataFrame, folder: Path) -> list[FigureRef]:
    """Accuracy against each measured cost, with the Pareto front (fewer than two measured points: no figure)."""
    figures = []
    for column, label, file in COST_TRADEOFFS:
        if column not in configs:
            continue
        trade = configs.assign(cost=pd.to_numeric(configs[column], errors="coerce"))
        if ((trade["cost"] > 0) & trade["test_acc"].notna()).sum() < 2:
            continue
        title = f"Accuracy vs {label[0].lower()}{label[1:]}"
        path = plots_study.accuracy_tradeoff(trade, "cost", label, title, folder / file)
        figures.append(
            FigureRef(
                title,
                path,
                "Mean test accuracy (95% interval as bars) against the cost each run recorded in `efficiency`; the "
                "dashed step and circled points are the Pareto front (no configuration is more accurate at a lower "
                "cost); the cost axis is logarithmic when the costs span a decade or more.",
            )
        )
    return figures


def _tradeoffs(configs: pd.DataFrame, folder: Path) -> list[FigureRef]:
    figures = []
    if configs.empty:
        return figures
    figures.extend(_cost_tradeoffs(configs, folder))
    trade = configs.assign(
        trainable=pd.to_numeric(configs.get("params.trainable"), errors="coerce"),
        seconds=pd.to_numeric(configs["train_seconds"], errors="coerce"),
    )
    has_accuracy = trade["test_acc"].notna()
    if ((trade["trainable"] > 0) & has_accuracy).sum() >= 2:
        path = plots_study.accuracy_tradeoff(
            trade, "trainable", "Trainable parameters", "Accuracy vs trainable parameters", folder / "acc_vs_params.png"
        )
        figures.append(
            FigureRef(
                "Accuracy vs trainable parameters",
                path,
                "Mean test accuracy per configuration with its 95% interval (bars); circled points form the "
                "Pareto front (no other configuration is more accurate with fewer trainable parameters).",
            )
        )
    if ((trade["seconds"] > 0) & has_accuracy).sum() >= 2:
        path = plots_study.accuracy_tradeoff(
            trade, "seconds", "Training time (s)", "Accuracy vs training time", folder / "acc_vs_time.png"
        )
        figures.append(
            FigureRef(
                "Accuracy vs training time",
                path,
                "Mean test accuracy (95% interval as bars) against mean training time; circled points form the "
                "Pareto front.",
            )
        )
    return figures


def _curves(records: list[RunRecord]) -> list[Curve]:
    ranked = sorted((record for record in records if record.completed), key=_accuracy, reverse=True)
    curves = []
    for record in ranked:
        history = record.history()
        if history is not None and "val_accuracy" in history:
            label = short(str(record.result.get("name") or record.key), 56)
            curves.append(Curve(label, run_colour(len(curves)), history))
        if len(curves) == MAX_OVERLAID_RUNS:
            break
    return curves


def _accuracy(record: RunRecord) -> float:
    value = (record.result.get("metrics") or {}).get("test_accuracy")
    return -1.0 if is_missing(value) else float(value)


def _lr_varies(history: pd.DataFrame) -> bool:
    if "lr" not in history:
        return False
    values = pd.to_numeric(history["lr"], errors="coerce").dropna().to_numpy()
    return values.size > 1 and values.min() > 0 and not np.allclose(values, values[0])


def _confusion(record: RunRecord) -> np.ndarray | None:
    matrix = (record.result.get("metrics") or {}).get("confusion_matrix")
    if matrix:
        return np.asarray(matrix)
    predictions = record.predictions()
    if predictions is None:
        return None
    labels, scores = predictions
    return plots_run.confusion_from_predictions(labels, scores, scores.shape[1])


def tuning_figure(entries: list[dict], folder: Path) -> FigureRef | None:
    """Best-so-far validation score against trials, per tuned configuration (None when nothing was tuned)."""
    from reports.tuning import best_so_far

    series = [(entry["config"], best_so_far(entry)) for entry in entries]
    series = [(label, points) for label, points in series if points]
    if not series:
        return None
    objectives = " / ".join(sorted({entry["objective"] for entry in entries}))
    path = plots_study.best_so_far_curves(series, objectives, folder / "tuning.png")
    caption = f"Best {objectives} of the completed trials so far, per configuration (pruned and failed trials skipped)."
    return FigureRef("Tuning progress", path, caption)
