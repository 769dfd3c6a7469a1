"""Plots across runs: overlaid learning curves, train–val gap, LR schedules, accuracy trade-offs."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from matplotlib.ticker import EngFormatter, MaxNLocator, NullFormatter

from suite.plots.style import backend_colour, new_figure, run_colour, save, short

ANNOTATE_MAX_POINTS = 12
LOG_SCALE_SPAN = 10.0  # a cost axis spanning at least this factor is drawn on a log scale


@dataclass(frozen=True)
class Curve:
    """One run's history with the label and colour it keeps in every multi-run plot."""

    label: str
    colour: str
    history: pd.DataFrame


def _epoch_ticks(axis) -> None:
    axis.xaxis.set_major_locator(MaxNLocator(integer=True))


def _legend_outside(axis) -> None:
    axis.legend(fontsize=7, frameon=False, loc="upper left", bbox_to_anchor=(1.01, 1.0))


def overlaid_curves(curves: list[Curve], path: Path) -> Path:
    """Accuracy of several runs on one axis: train dashed, validation solid, one colour per run."""
    figure = new_figure(9.0, 4.5)
    axis = figure.subplots()
    for curve in curves:
        history = curve.history
        if "val_accuracy" in history:
            axis.plot(history["epoch"], history["val_accuracy"] * 100, "-", color=curve.colour, label=curve.label)
        if "train_accuracy" in history:
            axis.plot(history["epoch"], history["train_accuracy"] * 100, "--", color=curve.colour, alpha=0.7)
    axis.plot([], [], "k-", label="validation (solid)")
    axis.plot([], [], "k--", label="train (dashed)")
    axis.set(xlabel="Epoch", ylabel="Accuracy (%)", title="Learning curves")
    axis.grid(alpha=0.3)
    _epoch_ticks(axis)
    _legend_outside(axis)
    return save(figure, path)


def gap_curves(curves: list[Curve], path: Path) -> Path:
    """Train accuracy − validation accuracy per epoch (percentage points); above zero means overfitting."""
    figure = new_figure(9.0, 4.0)
    axis = figure.subplots()
    for curve in curves:
        history = curve.history
        gap = (history["train_accuracy"] - history["val_accuracy"]) * 100
        axis.plot(history["epoch"], gap, "-", marker="o", markersize=3, color=curve.colour, label=curve.label)
    axis.axhline(0.0, color="#888888", linewidth=1)
    axis.set(xlabel="Epoch", ylabel="Train − val accuracy (pp)", title="Generalisation gap over epochs")
    axis.grid(alpha=0.3)
    _epoch_ticks(axis)
    _legend_outside(axis)
    return save(figure, path)


def lr_schedules(curves: list[Curve], path: Path) -> Path:
    """Learning rate recorded at each epoch; identical schedules are drawn once (log y over a wide range)."""
    figure = new_figure(9.0, 3.8)
    axis = figure.subplots()
    for same in group_schedules(curves):
        first = same[0]
        label = first.label if len(same) == 1 else f"{first.label} (+{len(same) - 1} run(s), same schedule)"
        axis.plot(
            first.history["epoch"], first.history["lr"], "-", marker="o", markersize=3, color=first.colour, label=label
        )
    rates = np.concatenate([curve.history["lr"].to_numpy(dtype=float) for curve in curves])
    log = rates.max() >= LOG_SCALE_SPAN * rates.min()
    if log:
        axis.set_yscale("log")
    ylabel = "Learning rate (log scale)" if log else "Learning rate"
    axis.set(xlabel="Epoch", ylabel=ylabel, title="Learning-rate schedule used")
    axis.grid(alpha=0.3, which="both")
    _epoch_ticks(axis)
    _legend_outside(axis)
    return save(figure, path)


def group_schedules(curves: list[Curve]) -> list[list[Curve]]:
    """Curves grouped by identical (epoch, lr) sequences, compared to 5 significant digits.

    Keras records the rate as float32 and torch as float64, so one schedule differs in the last digits.
    """
    schedules: dict[tuple, list[Curve]] = {}
    for curve in curves:
        rounded = [float(f"{rate:.5g}") for rate in curve.history["lr"].tolist()]
        key = tuple(zip(curve.history["epoch"].tolist(), rounded, strict=True))
        schedules.setdefault(key, []).append(curve)
    return list(schedules.values())


def pareto_front(cost: np.ndarray, accuracy: np.ndarray) -> list[int]:
    """Indices of points no other point beats (lower or equal cost and higher accuracy), by rising cost."""
    order = sorted(range(len(cost)), key=lambda index: (cost[index], -accuracy[index]))
    front: list[int] = []
    best = -np.inf
    for index in order:
        if accuracy[index] > best:
            front.append(index)
            best = accuracy[index]
    return front


def _annotate(axis, names: pd.Series, cost: np.ndarray, accuracy: np.ndarray) -> None:
    """Label points; labels in the right half go to the left, labels of nearby points are staggered."""
    log = cost.max() >= LOG_SCALE_SPAN * cost.min()
    x = _unit(np.log(cost) if log else cost)
    y = _unit(accuracy)
    placed: list[int] = []
    for index, name in enumerate(names):
        right_half = x[index] > 0.5
        crowd = sum(1 for other in placed if abs(x[other] - x[index]) < 0.2 and abs(y[other] - y[index]) < 0.05)
        placed.append(index)
        axis.annotate(
            short(str(name), 40),
            (cost[index], accuracy[index]),
            fontsize=6,
            xytext=(-5 if right_half else 5, 4 - 9 * crowd),
            textcoords="offset points",
            ha="right" if right_half else "left",
        )


def _unit(values: np.ndarray) -> np.ndarray:
    """Rescale to [0, 1] (all zeros when the values are equal)."""
    span = values.max() - values.min()
    return (values - values.min()) / span if span > 0 else np.zeros_like(values)


def interval_bars(configs: pd.DataFrame) -> np.ndarray:
    """(2, N) lower and upper error-bar lengths in percent from ``test_acc_ci_low/high`` (0 where missing)."""
    accuracy = configs["test_acc"].to_numpy(dtype=float)
    bars = []
    for column in ("test_acc_ci_low", "test_acc_ci_high"):
        values = configs[column] if column in configs else pd.Series(np.nan, index=configs.index)
        bound = np.clip(pd.to_numeric(values, errors="coerce").to_numpy(dtype=float), 0.0, 1.0)
        bars.append(np.nan_to_num(np.abs(accuracy - bound) * 100, nan=0.0))
    return np.array(bars)


def accuracy_tradeoff(configs: pd.DataFrame, cost_column: str, cost_label: str, title: str, path: Path) -> Path:
    """Test accuracy (with its 95% interval as a bar) against a cost, coloured by backend, Pareto front labelled.

    The cost axis is logarithmic when the costs span a factor of :data:`LOG_SCALE_SPAN` or more.
    """
    usable = configs[(configs[cost_column] > 0) & configs["test_acc"].notna()].reset_index(drop=True)
    cost = usable[cost_column].to_numpy(dtype=float)
    accuracy = usable["test_acc"].to_numpy(dtype=float) * 100
    figure = new_figure(8.5, 4.8)
    axis = figure.subplots()
    for label, group in usable.groupby("backend_label", sort=True):
        axis.scatter(
            group[cost_column], group["test_acc"] * 100, s=36, color=backend_colour(label), label=label, zorder=3
        )
        axis.errorbar(
            group[cost_column],
            group["test_acc"] * 100,
            yerr=interval_bars(group),
            fmt="none",
            ecolor=backend_colour(label),
            alpha=0.5,
            linewidth=1,
            zorder=2,
        )
    front = pareto_front(cost, accuracy)
    axis.step(
        cost[front],
        accuracy[front],
        where="post",
        color="#333333",
        linewidth=1,
        linestyle="--",
        label="Pareto front",
        zorder=2,
    )
    axis.scatter(cost[front], accuracy[front], s=110, facecolors="none", edgecolors="#333333", zorder=4)
    if len(usable) <= ANNOTATE_MAX_POINTS:
        _annotate(axis, usable["config_name"], cost, accuracy)
    if cost.max() >= LOG_SCALE_SPAN * cost.min():
        axis.set_xscale("log")
        cost_label += " (log scale)"
    axis.xaxis.set_major_formatter(EngFormatter(sep=""))
    axis.xaxis.set_minor_formatter(NullFormatter())
    axis.set(xlabel=cost_label, ylabel="Test accuracy (%)", title=title)
    axis.grid(alpha=0.3, which="both")
    _legend_outside(axis)
    return save(figure, path)


BACKEND_LINESTYLES = ("-", "--", ":", "-.")


def group_lrs_across_backends(histories: list[tuple[str, pd.DataFrame]], title: str, path: Path) -> Path:
    """Each group's LR per epoch for several backends of one configuration, drawn on top of each other.

    One colour per group, one line style (and marker) per backend: identical plans give coinciding lines.
    """
    figure = new_figure(9.0, 4.0)
    axis = figure.subplots()
    groups = [column for column in histories[0][1].columns if column.startswith("lr_")]
    for index, (label, history) in enumerate(histories):
        style = BACKEND_LINESTYLES[index % len(BACKEND_LINESTYLES)]
        for colour, column in enumerate(groups):
            if column not in history:
                continue
            rates = pd.to_numeric(history[column], errors="coerce")
            axis.plot(
                history["epoch"], rates, style, color=f"C{colour % 10}", marker="os^v"[index % 4], markersize=4,
                fillstyle="none" if index else "full", label=f"{column.removeprefix('lr_')} ({label})",
            )  # fmt: skip
    axis.set_yscale("log")
    axis.set(xlabel="Epoch", ylabel="Learning rate (log scale)")
    axis.xaxis.set_major_locator(MaxNLocator(integer=True))
    axis.grid(alpha=0.3, which="both")
    axis.legend(fontsize=7, frameon=False, bbox_to_anchor=(1.01, 1.0), loc="upper left", ncol=1 + len(groups) // 12)
    figure.suptitle(short(title, 90), fontsize=11)
    return save(figure, path)


def best_so_far_curves(series: list[tuple[str, list[tuple[int, float]]]], ylabel: str, path: Path) -> Path:
    """Best validation score so far against the trial number, one step line per tuned configuration."""
    figure = new_figure(9.0, 4.5)
    axis = figure.subplots()
    for index, (label, points) in enumerate(series):
        trials, values = zip(*points, strict=True)
        axis.step(trials, values, where="post", marker="o", color=run_colour(index), label=short(label))
    axis.set(xlabel="Trial", ylabel=ylabel, title="Tuning: best validation score so far")
    axis.grid(alpha=0.3)
    _epoch_ticks(axis)
    _legend_outside(axis)
    return save(figure, path)
