"""``suite plan-seeds``: how many seeds and test samples a target accuracy difference needs.

The study's own spread (each configuration against the best, paired) splits the per-seed
difference into test-set noise (per-sample sd / √n, when the test split changes with the seed)
and training noise (the rest). A plan must pass both tests the report uses: the pooled McNemar
test needs enough paired test samples in all, the paired t-test over seeds enough seeds.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd

from reports import stats
from reports.outcomes import read_outcome
from reports.paired import runs_by_seed, versus_best
from reports.power import SEEDS_TO_MEASURE, Spread, spread

COMMON_SEED_COUNTS = (3, 5, 10)


def plan_seeds(out_dir: Path, target_diff: float) -> str:
    """A few lines saying what a ``target_diff`` (percentage points) needs, from the study in ``out_dir``.

    Damaged runs are left out, each named in one closing line (``skipped FILE: problem``).
    """
    from reports.aggregate import aggregate_configs
    from reports.load import load_store
    from reports.tidy import runs_frame

    if not target_diff > 0:
        raise ValueError(f"--target-diff must be > 0 percentage points, got {target_diff}")
    stored = load_store([Path(out_dir)])
    skipped = [f"skipped {damage.line}" for damage in stored.damaged]
    configs = aggregate_configs(runs_frame(stored.records))
    if configs.empty:
        return "\n".join([f"{out_dir}: no completed runs to plan from.", *skipped])
    ranked = configs.sort_values("test_acc", ascending=False, na_position="last").reset_index(drop=True)
    noise = spread(versus_best(ranked), ranked)
    if noise is None or not noise.sample_sd > 0:
        return "\n".join([f"{out_dir}: no stored predictions with any spread to plan from.", *skipped])
    fixed = _fixed_test_set(ranked.iloc[0])
    lines = plan_lines(noise, target_diff / 100, fixed is not True, len(ranked), known=fixed is not None)
    return "\n".join([*lines, *skipped])


def training_sd(noise: Spread, varying: bool) -> float | None:
    """Sd of per-seed differences beyond test-set noise; None when one seed cannot measure it."""
    if noise.seeds < 2 or not np.isfinite(noise.seed_sd):
        return None
    test_part = noise.sample_sd**2 / noise.n if varying else 0.0
    return math.sqrt(max(0.0, noise.seed_sd**2 - test_part))


def samples_for_seeds(seeds: int, target: float, noise: Spread, train: float, varying: bool) -> int | None:
    """Test samples per seed needed with ``seeds`` seeds; None when training noise alone is too large."""
    per_seed = math.ceil(stats.pairs_needed(target / noise.sample_sd) / seeds)
    if seeds < 2:
        return per_seed
    room = (target / stats.detectable_effect(seeds)) ** 2 - train**2
    if room <= 0:
        return None
    return max(per_seed, math.ceil(noise.sample_sd**2 / room)) if varying else per_seed


def seeds_for_samples(n: int, target: float, noise: Spread, train: float, varying: bool) -> int:
    """Seeds needed with ``n`` test samples per seed (at least 2, so the spread over seeds is tested)."""
    seeds = max(2, math.ceil(stats.pairs_needed(target / noise.sample_sd) / n))
    sd = math.sqrt(train**2 + (noise.sample_sd**2 / n if varying else 0.0))
    return max(seeds, stats.pairs_needed(target / sd)) if sd > 0 else seeds


def plan_lines(noise: Spread, target: float, varying: bool, configs: int, known: bool = True) -> list[str]:
    """The plan as text lines (see :func:`plan_seeds`); ``known=False`` when ``varying`` is an assumption."""
    measured = training_sd(noise, varying)
    train = measured or 0.0
    test, over_seeds = noise.detectable()
    lines = [
        f"{configs} configuration(s), {noise.seeds} seed(s) × {noise.n:,} test samples per run; the test split "
        + ("changes with the seed" if varying else "is the same for every seed")
        + ("." if known else " (assumed: one seed cannot tell)."),
        f"Spread ({noise.source} with the best configuration): per-sample sd of paired differences "
        f"{noise.sample_sd:.3f}; "
        + (
            f"sd of per-seed Δ {100 * noise.seed_sd:.2f} pp, of which training noise {100 * train:.2f} pp."
            if measured is not None
            else "training noise unknown with one seed."
        ),
        f"Detectable now (80% power, α = 0.05): {100 * test:.1f} pp from the test set"
        + (f", {100 * over_seeds:.1f} pp over seeds." if np.isfinite(over_seeds) else "."),
        f"To detect {100 * target:.2f} pp (paired, two-sided α = 0.05, 80% power):",
        f"- keeping {noise.n:,} test samples per seed: {seeds_for_samples(noise.n, target, noise, train, varying):,} "
        "seeds",
    ]
    needs = {seeds: samples_for_seeds(seeds, target, noise, train, varying) for seeds in _seed_counts(noise)}
    for seeds, needed in needs.items():
        reachable = f"{needed:,} test samples per seed" if needed else "not reachable: training noise is too large"
        lines.append(f"- with {seeds} seed(s): {reachable}")
    if measured:
        lines.append(f"- at least {stats.pairs_needed(target / train):,} seeds however large the test set")
    if needs.get(1) and any(needed and needed > needs[1] for needed in needs.values()):
        lines.append(
            "With few seeds the paired t-test over seeds has few degrees of freedom, so a handful of seeds can "
            "need more test data than one seed (where only McNemar's test applies)."
        )
    if measured is None:
        lines.append(
            "Seed counts are lower bounds: one seed cannot measure training noise (taken as zero here); run "
            f"{SEEDS_TO_MEASURE} or more seeds and plan again."
        )
    return lines


def _seed_counts(noise: Spread) -> list[int]:
    return sorted({max(noise.seeds, 1), *COMMON_SEED_COUNTS})


def _fixed_test_set(config: pd.Series) -> bool | None:
    """Whether every seed of ``config`` was tested on the same samples (same ids, else same labels); None: one seed."""
    outcomes = [read_outcome(path) for path in runs_by_seed(config).values()]
    outcomes = [outcome for outcome in outcomes if outcome is not None]
    if len(outcomes) < 2:
        return None
    first = outcomes[0]
    if first.sample_ids is not None:
        return all(o.sample_ids is not None and np.array_equal(o.sample_ids, first.sample_ids) for o in outcomes)
    return all(np.array_equal(outcome.labels, first.labels) for outcome in outcomes)
