"""Statistics for the report, each a thin wrapper over scipy.stats or statsmodels.

Intervals are two-sided 95%, tests two-sided at α = 0.05, power 80%. Nothing here reads files.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

CONFIDENCE = 0.95
ALPHA = 1 - CONFIDENCE
POWER = 0.8
BOOTSTRAP_RESAMPLES = 2000
BOOTSTRAP_SEED = 0


@dataclass(frozen=True)
class Interval:
    """A two-sided interval ``[low, high]``."""

    low: float
    high: float

    def spans_zero(self) -> bool:
        """True when zero lies inside the interval (ends included)."""
        return self.low <= 0.0 <= self.high


def wilson(correct: int, n: int) -> Interval:
    """Wilson score 95% interval of an accuracy of ``correct`` out of ``n`` (statsmodels)."""
    from statsmodels.stats.proportion import proportion_confint

    low, high = proportion_confint(int(correct), int(n), alpha=ALPHA, method="wilson")
    return Interval(float(low), float(high))


def macro_f1(labels: np.ndarray, predicted: np.ndarray, n_classes: int, axis: int = -1) -> np.ndarray:
    """Macro F1 along ``axis`` (vectorised): mean over classes of 2·TP / (2·TP + FP + FN).

    A class neither present nor predicted in a (re)sample is left out of its mean (its F1 is undefined
    there). When every class occurs in the test set this is scikit-learn's macro F1, as in suite.metrics.
    """
    labels = np.moveaxis(np.asarray(labels), axis, -1)
    predicted = np.moveaxis(np.asarray(predicted), axis, -1)
    scores = []
    for cls in range(n_classes):
        truth, guess = labels == cls, predicted == cls
        tp = np.sum(truth & guess, axis=-1)
        denominator = np.sum(truth, axis=-1) + np.sum(guess, axis=-1)
        scores.append(np.divide(2.0 * tp, denominator, out=np.full(tp.shape, np.nan), where=denominator > 0))
    return np.nanmean(scores, axis=0)


def bootstrap_macro_f1(
    labels: np.ndarray, predicted: np.ndarray, n_classes: int, seed: int = BOOTSTRAP_SEED
) -> Interval:
    """Percentile-bootstrap 95% interval of macro F1, resampling test samples (scipy.stats.bootstrap)."""
    from scipy.stats import bootstrap

    result = bootstrap(
        (np.asarray(labels), np.asarray(predicted)),
        lambda truth, guess, axis=-1: macro_f1(truth, guess, n_classes, axis=axis),
        n_resamples=BOOTSTRAP_RESAMPLES,
        paired=True,
        vectorized=True,
        confidence_level=CONFIDENCE,
        method="percentile",
        rng=np.random.default_rng(seed),
    )
    return Interval(float(result.confidence_interval.low), float(result.confidence_interval.high))


def mcnemar_exact(only_a: int, only_b: int) -> float:
    """Exact McNemar p-value from the discordant counts (statsmodels; the concordant cells do not matter)."""
    from statsmodels.stats.contingency_tables import mcnemar

    return float(mcnemar([[0, int(only_a)], [int(only_b), 0]], exact=True).pvalue)


def paired_difference_interval(both: int, only_a: int, only_b: int, neither: int) -> Interval:
    """95% interval of acc_a − acc_b on paired samples: Newcombe's square-and-add (hybrid score) interval.

    Method 10 of Newcombe (1998), *Improved confidence intervals for the difference between binomial
    proportions based on paired data*, Stat. Med. 17:2635–2650: the Wilson intervals ``[l1, u1]`` of acc_a
    and ``[l2, u2]`` of acc_b are combined with the correlation of the two margins (the phi coefficient,
    moved n/2 towards zero when positive, 0 when a margin is empty)::

        low  = Δ − √((a − l1)² − 2φ (a − l1)(u2 − b) + (u2 − b)²)
        high = Δ + √((b − l2)² − 2φ (b − l2)(u1 − a) + (u1 − a)²)

    It holds the estimate at every effect size and its width follows the paired Wald interval's for large
    samples; unlike an interval conditioned on the discordant count it also counts their sampling noise.
    """
    n = int(both) + int(only_a) + int(only_b) + int(neither)
    if n == 0:
        return Interval(0.0, 0.0)
    acc_a, acc_b = (both + only_a) / n, (both + only_b) / n
    interval_a, interval_b = wilson(both + only_a, n), wilson(both + only_b, n)
    phi = _margin_correlation(both, only_a, only_b, neither)
    delta = acc_a - acc_b
    down_a, up_a = acc_a - interval_a.low, interval_a.high - acc_a
    down_b, up_b = acc_b - interval_b.low, interval_b.high - acc_b
    low = delta - math.sqrt(max(0.0, down_a**2 - 2 * phi * down_a * up_b + up_b**2))
    high = delta + math.sqrt(max(0.0, down_b**2 - 2 * phi * down_b * up_a + up_a**2))
    return Interval(max(-1.0, low), min(1.0, high))


def _margin_correlation(both: int, only_a: int, only_b: int, neither: int) -> float:
    """Newcombe's φ*: the phi coefficient of the paired table, its positive part reduced by n/2."""
    n = both + only_a + only_b + neither
    margins = [both + only_a, only_b + neither, both + only_b, only_a + neither]
    if min(margins) == 0:
        return 0.0
    excess = both * neither - only_a * only_b
    if excess > n / 2:
        excess -= n / 2
    elif excess >= 0:
        excess = 0
    return excess / math.sqrt(math.prod(float(margin) for margin in margins))


def unpaired_test(correct_a: int, n_a: int, correct_b: int, n_b: int) -> tuple[float, Interval]:
    """Fisher's exact p (scipy) and Newcombe 95% interval of acc_a − acc_b (statsmodels) for separate test sets."""
    from scipy.stats import fisher_exact
    from statsmodels.stats.proportion import confint_proportions_2indep

    table = [[correct_a, n_a - correct_a], [correct_b, n_b - correct_b]]
    pvalue = float(fisher_exact(table).pvalue)
    low, high = confint_proportions_2indep(correct_a, n_a, correct_b, n_b, method="newcomb", compare="diff")
    return pvalue, Interval(float(low), float(high))


def paired_t(a: list[float], b: list[float]) -> tuple[float, Interval] | None:
    """Paired t-test of mean(a − b) over seeds (scipy.stats.ttest_rel): p and 95% interval; None below 2 pairs."""
    from scipy.stats import ttest_rel

    if len(a) < 2:
        return None
    diffs = np.asarray(a, dtype=float) - np.asarray(b, dtype=float)
    if np.all(diffs == diffs[0]):  # no spread: t is undefined (0/0) or infinite
        return (1.0 if diffs[0] == 0 else 0.0), Interval(float(diffs[0]), float(diffs[0]))
    result = ttest_rel(a, b)
    interval = result.confidence_interval(CONFIDENCE)
    return float(result.pvalue), Interval(float(interval.low), float(interval.high))


def holm(pvalues: list[float]) -> list[float]:
    """Holm step-down adjusted p-values (statsmodels multipletests)."""
    from statsmodels.stats.multitest import multipletests

    if not pvalues:
        return []
    return [float(value) for value in multipletests(pvalues, alpha=ALPHA, method="holm")[1]]


def detectable_effect(nobs: float) -> float:
    """Standardised difference (mean / sd) a two-sided paired t-test on ``nobs`` pairs detects at 80% power."""
    from statsmodels.stats.power import TTestPower

    if nobs < 2:
        return float("nan")
    return float(TTestPower().solve_power(effect_size=None, nobs=nobs, alpha=ALPHA, power=POWER))


def pairs_needed(effect: float) -> int:
    """Fewest pairs (at least 2) with which a two-sided paired t-test detects ``effect`` at 80% power.

    statsmodels' solver gives the real-valued answer; the integer is then checked against
    ``TTestPower.power`` (the solver clips at 2 pairs and can miss for very large effects).
    """
    import warnings

    from statsmodels.stats.power import TTestPower

    if not effect > 0:
        return 0
    power = TTestPower()
    if power.power(effect, 2, ALPHA) >= POWER:
        return 2
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        guess = power.solve_power(effect_size=effect, nobs=None, alpha=ALPHA, power=POWER)
    nobs = max(2, math.ceil(float(guess))) if np.isfinite(guess) else 2
    while power.power(effect, nobs, ALPHA) < POWER:
        nobs += 1
    while nobs > 2 and power.power(effect, nobs - 1, ALPHA) >= POWER:
        nobs -= 1
    return nobs
