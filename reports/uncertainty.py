"""Test-set uncertainty of each run and of each configuration, and the text explaining it.

A run's test accuracy gets a Wilson 95% interval from its test-set size and its macro F1 a
seeded percentile bootstrap over test samples. A configuration with one seed shows these; with
several seeds it shows the t-interval over seeds and says whether the spread over seeds or the
test-set sampling noise is larger.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from reports import stats
from reports.outcomes import read_outcome

# Per-run columns added to the tidy table.
TEST_N = "test_n"
TEST_CORRECT = "test_correct"
ACC_LOW, ACC_HIGH = "test_acc_wilson_low", "test_acc_wilson_high"
F1_LOW, F1_HIGH = "macro_f1_boot_low", "macro_f1_boot_high"
RUN_COLUMNS = (TEST_N, TEST_CORRECT, ACC_LOW, ACC_HIGH, F1_LOW, F1_HIGH)
SEEDS, TEST_SET = "seeds", "test set"


def run_intervals(run_dir: str | None) -> dict[str, Any]:
    """Test size, correct count, Wilson interval of accuracy and bootstrap interval of macro F1 of one run."""
    outcome = read_outcome(run_dir) if run_dir else None
    if outcome is None or outcome.n == 0:
        return {}
    correct = int(outcome.correct.sum())
    accuracy = stats.wilson(correct, outcome.n)
    f1 = stats.bootstrap_macro_f1(outcome.labels, outcome.predicted, outcome.n_classes)
    return {
        TEST_N: outcome.n,
        TEST_CORRECT: correct,
        ACC_LOW: accuracy.low,
        ACC_HIGH: accuracy.high,
        F1_LOW: f1.low,
        F1_HIGH: f1.high,
    }


def fill_config(row: dict[str, Any], group: pd.DataFrame) -> None:
    """Complete an aggregated configuration row with test-set intervals and the seed/test-set noise split.

    One seed: ``test_acc_ci_*`` is the Wilson interval, ``macro_f1_ci_*`` the bootstrap one (and
    ``test_acc_last_ci_*`` Wilson from the last-epoch accuracy). Several seeds: ``test_se`` is the mean
    test-set standard error √(p(1−p)/n) of the runs, and ``noise`` names the larger of it and the std
    over seeds.
    """
    sizes = _numbers(group, TEST_N)
    row[TEST_N] = float(np.mean(sizes)) if sizes.size else float("nan")
    if row.get("test_acc_n") == 1 and sizes.size:
        _set_interval(row, "test_acc", group, ACC_LOW, ACC_HIGH)
        _set_interval(row, "macro_f1", group, F1_LOW, F1_HIGH)
        last = row.get("test_acc_last")
        if last is not None and np.isfinite(last):
            interval = stats.wilson(round(float(last) * sizes[0]), int(sizes[0]))
            row["test_acc_last_ci_low"], row["test_acc_last_ci_high"] = interval.low, interval.high
    row["test_se"], row["noise"] = float("nan"), None
    accuracies = _numbers(group, "metrics.test_accuracy")
    if accuracies.size >= 2 and sizes.size == accuracies.size:
        row["test_se"] = float(np.mean(np.sqrt(accuracies * (1 - accuracies) / sizes)))
        row["noise"] = SEEDS if row["test_acc_std"] > row["test_se"] else TEST_SET


def _set_interval(row: dict[str, Any], short: str, group: pd.DataFrame, low: str, high: str) -> None:
    if low in group and not pd.isna(group[low].iloc[0]):
        row[f"{short}_ci_low"], row[f"{short}_ci_high"] = float(group[low].iloc[0]), float(group[high].iloc[0])


def _numbers(group: pd.DataFrame, column: str) -> np.ndarray:
    if column not in group:
        return np.array([])
    values = pd.to_numeric(group[column], errors="coerce").to_numpy(dtype=float)
    return values[np.isfinite(values)]


def accuracy_intro() -> str:
    """How to read an accuracy cell (shared by every table that shows one)."""
    return (
        "Accuracy cells: one seed → value [95% Wilson interval from the test-set size]; several seeds → "
        "mean ± std over seeds [95% t-interval of the mean]."
    )


def methods_section() -> str:
    """Markdown section stating how every interval, p-value and detectable difference is computed."""
    lines = [
        "## How to read the uncertainty",
        "",
        "- **Intervals** are 95%. One seed: accuracy uses the Wilson score interval for its test-set size "
        "(statsmodels `proportion_confint(method='wilson')`); macro F1 uses a percentile bootstrap over test "
        f"samples ({stats.BOOTSTRAP_RESAMPLES:,} resamples, seed {stats.BOOTSTRAP_SEED}, scipy "
        "`stats.bootstrap`; a class absent from a resample is left out of its mean). Several seeds: mean ± std "
        "over seeds with the 95% t-interval of the mean. "
        "*Seed std* vs *test-set SE* (√(p(1−p)/n)) shows which noise dominates: add seeds when it is the "
        "seeds, test data when it is the test set.",
        "- **Δ** compares two configurations on the same test samples (matched by sample id, else by "
        "position when the labels and data fingerprints agree), seed by seed. *p (McNemar)* is the exact "
        "McNemar test on per-sample correctness (statsmodels `mcnemar(exact=True)`), combined over seeds by "
        "pooling the discordant samples; *p per seed* lists each seed's; with two or more common seeds "
        "*p (paired t)* is scipy's `ttest_rel` on the per-seed accuracies. A difference counts only when "
        "both agree: the larger of the two p-values is Holm-corrected across the table's rows "
        "(statsmodels `multipletests(method='holm')`) into *p (Holm)*.",
        "- **Δ in bold** is a difference with p (Holm) < 0.05, followed by its 95% interval (one seed: "
        "Newcombe's paired score interval, method 10 of Newcombe 1998, from the pooled 2×2 table of per-sample "
        "correctness; several seeds: t-interval over seeds). "
        "Otherwise the cell reads **within noise** with the interval: this data cannot tell the two apart. "
        "Runs with no common test samples are compared unpaired (Fisher's exact test, Newcombe interval).",
        "- **Rank bands** on the leaderboard group configurations no test separates from the band's best.",
        "- **Detectable difference**: the smallest accuracy difference a table's test-set size and seed count "
        "find with 80% power at α = 0.05 (statsmodels `TTestPower` on the paired differences), from the "
        "study's own spread. `suite plan-seeds OUT --target-diff 0.5` says how many seeds or test samples a "
        "0.5 pp difference needs.",
        "",
    ]
    return "\n".join(lines)
