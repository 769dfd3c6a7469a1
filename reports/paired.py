"""Paired comparisons of two configurations on the same test samples, seed by seed.

Per common seed the two runs' per-sample correctness gives an exact McNemar test; the seeds are
combined by pooling their discordant samples, and with two or more seeds a paired t-test over the
per-seed accuracies must agree too. Holm's correction runs across the rows of a table.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from reports import fmt, stats
from reports.outcomes import Matched, Outcome, match, read_outcome
from reports.stats import Interval

SIGNIFICANT = 0.05


@dataclass(frozen=True)
class SeedPair:
    """One common seed: paired sample count, discordant counts and both accuracies on those samples."""

    seed: object
    n: int
    only_row: int  # samples the compared row got right and the reference got wrong
    only_ref: int
    acc_row: float
    acc_ref: float
    pvalue: float  # exact McNemar on this seed
    how: str


@dataclass
class Comparison:
    """Row − reference accuracy difference with its interval and p-values (``adjusted`` set by :func:`decide`)."""

    delta: float
    interval: Interval
    mcnemar: float
    seeds: list[SeedPair] = field(default_factory=list)
    t_pvalue: float | None = None
    sample_sd: float = float("nan")  # sd of per-sample differences (paired), for power
    seed_sd: float = float("nan")  # sd of per-seed differences (two or more seeds)
    adjusted: float | None = None
    test: str = "McNemar"  # "Fisher" when the two sides share no test samples

    @property
    def paired(self) -> bool:
        """True when the two sides shared test samples."""
        return bool(self.seeds)

    @property
    def pvalue(self) -> float:
        """The p-value that decides: the larger of McNemar (combined) and the paired t-test."""
        return max(self.mcnemar, self.t_pvalue) if self.t_pvalue is not None else self.mcnemar

    @property
    def separated(self) -> bool:
        """True when the difference is real at 5% after Holm and its interval excludes zero."""
        adjusted = self.pvalue if self.adjusted is None else self.adjusted
        return adjusted < SIGNIFICANT and not self.interval.spans_zero()


def runs_by_seed(config: pd.Series) -> dict[object, str]:
    """Seed → run directory of a configuration (first run of a seed when studies repeat one)."""
    runs: dict[object, str] = {}
    for seed, run_dir in zip(config.get("run_seeds") or [], config.get("run_dirs") or [], strict=False):
        runs.setdefault(None if fmt.is_missing(seed) else int(seed), run_dir)
    return runs


def compare(row: pd.Series, reference: pd.Series) -> Comparison | None:
    """``row`` against ``reference``: paired on common seeds and samples, else unpaired; None without predictions."""
    mine, theirs = runs_by_seed(row), runs_by_seed(reference)
    pairs = []
    for seed in sorted(set(mine) & set(theirs), key=str):
        a, b = read_outcome(mine[seed]), read_outcome(theirs[seed])
        matched = match(a, b) if a is not None and b is not None else None
        if matched is not None:
            pairs.append((seed, matched))
    if pairs:
        return _paired(pairs)
    return _unpaired([read_outcome(path) for path in mine.values()], [read_outcome(path) for path in theirs.values()])


def _seed_pair(seed: object, matched: Matched) -> SeedPair:
    a, b = matched.correct_a, matched.correct_b
    only_row, only_ref = int(np.sum(a & ~b)), int(np.sum(~a & b))
    pvalue = stats.mcnemar_exact(only_row, only_ref)
    return SeedPair(seed, matched.n, only_row, only_ref, float(a.mean()), float(b.mean()), pvalue, matched.how)


def _paired(pairs: list[tuple[object, Matched]]) -> Comparison:
    seeds = [_seed_pair(seed, matched) for seed, matched in pairs]
    only_row, only_ref = sum(s.only_row for s in seeds), sum(s.only_ref for s in seeds)
    both = sum(int(np.sum(m.correct_a & m.correct_b)) for _, m in pairs)
    neither = sum(s.n for s in seeds) - both - only_row - only_ref
    differences = np.concatenate([m.correct_a.astype(float) - m.correct_b.astype(float) for _, m in pairs])
    comparison = Comparison(
        delta=float(np.mean([s.acc_row - s.acc_ref for s in seeds])),
        interval=stats.paired_difference_interval(both, only_row, only_ref, neither),
        mcnemar=stats.mcnemar_exact(only_row, only_ref),
        seeds=seeds,
        sample_sd=float(differences.std()),
    )
    tested = stats.paired_t([s.acc_row for s in seeds], [s.acc_ref for s in seeds])
    if tested is not None:
        comparison.t_pvalue, comparison.interval = tested
        comparison.seed_sd = float(np.std([s.acc_row - s.acc_ref for s in seeds], ddof=1))
    return comparison


def _unpaired(mine: list[Outcome | None], theirs: list[Outcome | None]) -> Comparison | None:
    if not mine or not theirs or any(o is None for o in mine) or any(o is None for o in theirs):
        return None
    correct_a, n_a = sum(int(o.correct.sum()) for o in mine), sum(o.n for o in mine)
    correct_b, n_b = sum(int(o.correct.sum()) for o in theirs), sum(o.n for o in theirs)
    if not n_a or not n_b:
        return None
    pvalue, interval = stats.unpaired_test(correct_a, n_a, correct_b, n_b)
    return Comparison(delta=correct_a / n_a - correct_b / n_b, interval=interval, mcnemar=pvalue, test="Fisher")


def decide(comparisons: list[Comparison | None]) -> None:
    """Holm-adjust the deciding p-values of a table's comparisons in place (missing ones are skipped)."""
    present = [comparison for comparison in comparisons if comparison is not None]
    for comparison, adjusted in zip(present, stats.holm([c.pvalue for c in present]), strict=True):
        comparison.adjusted = adjusted


def versus_best(ranked: pd.DataFrame) -> list[Comparison | None]:
    """Each configuration of ``ranked`` (best first) against the first one; None for the best itself."""
    rows = [row for _, row in ranked.iterrows()]
    return [None] + [compare(row, rows[0]) for row in rows[1:]] if rows else []


def rank_bands(ranked: pd.DataFrame) -> tuple[list[Comparison | None], list[int | None]]:
    """Comparisons with the best (Holm-adjusted) and a rank band per row of ``ranked`` (best first).

    Band 1 is the best configuration with every one no test separates from it; the best of the rest
    leads band 2, and so on. Rows without an accuracy get no band.
    """
    rows = [row for _, row in ranked.iterrows()]
    bands: list[int | None] = [None] * len(rows)
    first: list[Comparison | None] = [None] * len(rows)
    remaining = [index for index, row in enumerate(rows) if not fmt.is_missing(row.get("test_acc"))]
    band = 0
    while remaining:
        band += 1
        leader, others = remaining[0], remaining[1:]
        comparisons = [compare(rows[index], rows[leader]) for index in others]
        decide(comparisons)
        if band == 1:
            for index, comparison in zip(others, comparisons, strict=True):
                first[index] = comparison
        bands[leader] = band
        remaining = []
        for index, comparison in zip(others, comparisons, strict=True):
            if comparison is None or not comparison.separated:
                bands[index] = band
            else:
                remaining.append(index)
    return first, bands
