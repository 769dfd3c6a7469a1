"""How large a difference a table's test set and seed count can detect at 80% power.

It comes from the study's own spread: the per-sample sd of paired correctness differences
(test-set noise) and the sd of per-seed accuracy differences (seed noise), fed to statsmodels'
``TTestPower`` at α = 0.05 and 80% power.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

from reports import stats
from reports.paired import Comparison, versus_best

SEEDS_TO_MEASURE = 3


@dataclass(frozen=True)
class Spread:
    """Noise of a table: per-sample and per-seed sd of differences, test size per seed, seed count."""

    sample_sd: float
    seed_sd: float
    n: int
    seeds: int
    source: str

    def detectable(self) -> tuple[float, float]:
        """(from the test set, over seeds) smallest differences found with 80% power; NaN when unknown."""
        test = stats.detectable_effect(self.seeds * self.n) * self.sample_sd
        seed = stats.detectable_effect(self.seeds) * self.seed_sd if self.seeds >= 2 else float("nan")
        return test, seed


def spread(comparisons: list, configs: pd.DataFrame) -> Spread | None:
    """Spread from a table's paired comparisons (medians), else from its accuracies assuming independent errors."""
    paired = [c for c in comparisons if isinstance(c, Comparison) and c.paired and c.sample_sd > 0]
    if paired:
        seed_sds = [c.seed_sd for c in paired if np.isfinite(c.seed_sd)]
        return Spread(
            sample_sd=float(np.median([c.sample_sd for c in paired])),
            seed_sd=float(np.median(seed_sds)) if seed_sds else float("nan"),
            n=round(float(np.median([np.mean([s.n for s in c.seeds]) for c in paired]))),
            seeds=round(float(np.median([len(c.seeds) for c in paired]))),
            source=f"median of {len(paired)} paired comparison(s)",
        )
    return _independent(configs)


def _independent(configs: pd.DataFrame) -> Spread | None:
    if configs.empty or "test_n" not in configs or configs["test_n"].notna().sum() == 0:
        return None
    accuracy = float(configs["test_acc"].median())
    seeds = round(float(configs["n"].median()))
    seed_std = float(configs["test_acc_std"].median()) if seeds >= 2 else float("nan")
    return Spread(
        sample_sd=math.sqrt(2 * accuracy * (1 - accuracy)),
        seed_sd=math.sqrt(2) * seed_std,
        n=round(float(configs["test_n"].median())),
        seeds=seeds,
        source=f"assuming independent errors at {100 * accuracy:.1f}% accuracy",
    )


def detectable_note(comparisons: list | None, configs: pd.DataFrame) -> str:
    """One line: the smallest difference this table's test set and seed count detect, and what limits it.

    Without ``comparisons`` the spread comes from each configuration against the most accurate one.
    """
    if comparisons is None:
        ranked = configs.sort_values("test_acc", ascending=False) if not configs.empty else configs
        comparisons = versus_best(ranked)
    noise = spread(comparisons, configs)
    if noise is None or not noise.sample_sd > 0:
        return ""
    test, seed = noise.detectable()
    size = f"{noise.seeds} seed{'s' if noise.seeds != 1 else ''} × {noise.n:,} test samples"
    line = (
        f"Detectable difference (80% power, α = 0.05): {100 * test:.1f} pp from the test set ({size}; per-sample sd "
        f"of paired differences {noise.sample_sd:.2f}, {noise.source})"
    )
    if noise.seeds < 2:
        return line + f". One seed: the spread over seeds is unknown; run {SEEDS_TO_MEASURE} or more to measure it."
    if not np.isfinite(seed):
        return line + "."
    limit = "the seed count limits it: add seeds" if seed > test else "the test set limits it: add test samples"
    return line + f"; {100 * seed:.1f} pp over seeds (sd of per-seed Δ {100 * noise.seed_sd:.2f} pp): {limit}."
