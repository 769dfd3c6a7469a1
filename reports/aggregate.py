"""Repeats: runs that differ only in their seed, summarised as mean, std and a 95% t interval."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

from reports.uncertainty import fill_config

CONFIDENCE = 0.95
# Metrics given mean / std / interval when a configuration ran with several seeds.
SUMMARISED = {
    "metrics.test_accuracy": "test_acc",
    "metrics.test_macro_f1": "macro_f1",
    "metrics.test_accuracy_last": "test_acc_last",
    "metrics.val_accuracy_at_best": "val_acc_best",
    "metrics.val_accuracy_last": "val_acc_last",
    "metrics.overfit_gap": "overfit_gap",
    "timing.train_seconds": "train_seconds",
    "timing.train_images_per_second": "train_ips",
    "timing.eval_images_per_second": "eval_ips",
    "timing.epoch_seconds_mean": "epoch_seconds",
    "acc_per_m_trainable": "acc_per_m_trainable",
}
GROUP_COLUMNS = ("config_name", "config_key")


@dataclass(frozen=True)
class Summary:
    """Mean of ``n`` values with sample std and the 95% t interval (None for a single value)."""

    n: int
    mean: float
    std: float
    ci_low: float | None
    ci_high: float | None


def summarize(values: list[float] | np.ndarray) -> Summary:
    """Mean ± sample std and a two-sided 95% Student-t confidence interval of the mean."""
    data = np.asarray([value for value in values if value is not None and np.isfinite(value)], dtype=float)
    n = int(data.size)
    if n == 0:
        return Summary(0, float("nan"), float("nan"), None, None)
    mean = float(data.mean())
    if n == 1:
        return Summary(1, mean, float("nan"), None, None)
    std = float(data.std(ddof=1))
    half = t_quantile(CONFIDENCE, n - 1) * std / math.sqrt(n)
    return Summary(n, mean, std, mean - half, mean + half)


def t_quantile(confidence: float, dof: int) -> float:
    """Two-sided critical value of Student's t with ``dof`` degrees of freedom (scipy.stats.t)."""
    from scipy.stats import t

    return float(t.ppf(0.5 + confidence / 2, dof))


def completed(frame: pd.DataFrame) -> pd.DataFrame:
    """Rows of completed runs only."""
    if frame.empty or "status" not in frame:
        return frame.iloc[0:0]
    return frame[frame["status"] == "completed"]


def aggregate_configs(frame: pd.DataFrame) -> pd.DataFrame:
    """One row per configuration (completed runs grouped over seeds).

    Identity and parameter columns come from the configuration's first run; for each metric in
    :data:`SUMMARISED` the row has ``<short>`` (mean), ``<short>_std``, ``<short>_ci_low``,
    ``<short>_ci_high``; ``n`` counts seeds, ``seeds`` lists them, ``keys``, ``run_dirs`` and ``run_seeds`` the runs'.
    A single seed's accuracy and macro F1 intervals are its Wilson and bootstrap test-set intervals
    (:func:`reports.uncertainty.fill_config`).
    """
    done = completed(frame)
    if done.empty:
        return pd.DataFrame()
    rows = [_config_row(group) for _, group in done.groupby(list(GROUP_COLUMNS), sort=False, dropna=False)]
    return _disambiguate(pd.DataFrame(rows).reset_index(drop=True))


SHOWN_DIFFERENCES = 3
"""At most this many differing keys name a configuration that shares its name with another."""


def _disambiguate(configs: pd.DataFrame) -> pd.DataFrame:
    """Configurations sharing a name but not a spec (e.g. two studies on different data) get the keys that differ.

    ``mlp[backend=torch] (dataset.path=/a)`` and ``... (dataset.path=/b)``; the study when only it differs,
    the configuration hash when nothing stored tells them apart.
    """
    names = configs["config_name"].copy()
    for _, group in configs.groupby("config_name", sort=False):
        if len(group) < 2:
            continue
        columns = _differing_columns(group)
        for index, row in group.iterrows():
            shown = [f"{column.removeprefix('spec.')}={_name_value(row[column])}" for column in columns]
            if len(columns) > SHOWN_DIFFERENCES:
                shown = [*shown[:SHOWN_DIFFERENCES], f"+{len(columns) - SHOWN_DIFFERENCES} more"]
            names[index] = f"{row['config_name']} ({', '.join(shown) or row['config_key']})"
    configs["config_name"] = names
    return configs


def _differing_columns(group: pd.DataFrame) -> list[str]:
    """The spec keys (then the study) whose values differ between the rows of ``group``."""
    candidates = [column for column in group if column.startswith("spec.") and column not in _SAME_BY_NAME]
    differing = [column for column in candidates if group[column].map(_name_value).nunique() > 1]
    if not differing and "study" in group and group["study"].nunique() > 1:
        differing = ["study"]
    return differing


_SAME_BY_NAME = ("spec.name", "spec.seed")


def _name_value(value: object) -> str:
    """A spec value as it reads in a configuration's name (missing: ``–``)."""
    if isinstance(value, (float, np.floating)):
        return "–" if math.isnan(value) else f"{value:g}"  # a column with gaps holds its integers as floats
    return "–" if value is None else str(value)


def _config_row(group: pd.DataFrame) -> dict:
    row = group.iloc[0].to_dict()
    row["n"] = len(group)
    row["seeds"] = sorted(int(seed) for seed in group["seed"].dropna())
    row["keys"] = list(group["key"])
    row["run_dirs"] = list(group["run_dir"]) if "run_dir" in group else []
    row["run_seeds"] = [None if pd.isna(seed) else int(seed) for seed in group["seed"]]
    for column, short in SUMMARISED.items():
        values = pd.to_numeric(group[column], errors="coerce").to_numpy() if column in group else np.array([])
        summary = summarize(values)
        row[short] = summary.mean
        row[f"{short}_std"] = summary.std
        row[f"{short}_ci_low"] = summary.ci_low
        row[f"{short}_ci_high"] = summary.ci_high
        row[f"{short}_n"] = summary.n
    numeric = group.select_dtypes("number").mean(numeric_only=True)
    for column, value in numeric.items():
        if column not in SUMMARISED and column != "seed":
            row[column] = value
    fill_config(row, group)
    return row
