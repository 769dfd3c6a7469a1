"""Each statistic of reports.stats against a hand computation."""

import math

import hand
import numpy as np
import pytest
from scipy.stats import nct
from scipy.stats import t as student_t
from sklearn.metrics import f1_score

from reports import stats


@pytest.mark.parametrize(("correct", "n"), [(9, 10), (7, 10), (10, 10), (0, 10), (331, 360)])
def test_wilson_matches_the_formula(correct: int, n: int) -> None:
    interval = stats.wilson(correct, n)
    assert (interval.low, interval.high) == pytest.approx(hand.wilson(correct, n), abs=1e-12)


def test_wilson_nine_of_ten_by_hand() -> None:
    # centre (0.9 + 1.9208/10) / 1.38415 = 0.78899, half-width 0.19314
    interval = stats.wilson(9, 10)
    assert interval.low == pytest.approx(0.59585, abs=1e-5) and interval.high == pytest.approx(0.98212, abs=1e-5)


def test_macro_f1_matches_scikit_learn_over_the_classes_that_occur() -> None:
    rng = np.random.default_rng(3)
    labels = rng.integers(0, 4, size=(50, 30))  # class 4 is never a label, only sometimes predicted
    predicted = np.where(rng.random((50, 30)) < 0.7, labels, rng.integers(0, 5, size=(50, 30)))
    expected = [
        f1_score(truth, guess, labels=sorted(set(truth) | set(guess)), average="macro", zero_division=0)
        for truth, guess in zip(labels, predicted, strict=True)
    ]
    assert stats.macro_f1(labels, predicted, 5) == pytest.approx(expected)
    every_class = np.array([0, 1, 2, 0, 1, 2])
    guess = np.array([0, 2, 2, 0, 1, 1])
    assert stats.macro_f1(every_class, guess, 3) == pytest.approx(f1_score(every_class, guess, average="macro"))


def test_bootstrap_macro_f1_is_seeded_and_degenerate_when_perfect() -> None:
    labels = np.array([0, 1, 2, 0, 1, 2, 0, 1, 2, 0])
    assert stats.bootstrap_macro_f1(labels, labels, 3) == stats.Interval(1.0, 1.0)
    predicted = labels.copy()
    predicted[[0, 4]] = [1, 2]
    first = stats.bootstrap_macro_f1(labels, predicted, 3)
    assert first == stats.bootstrap_macro_f1(labels, predicted, 3)
    assert first != stats.bootstrap_macro_f1(labels, predicted, 3, seed=1)


def test_bootstrap_macro_f1_agrees_with_a_plain_percentile_bootstrap() -> None:
    rng = np.random.default_rng(7)
    labels = rng.integers(0, 3, 120)
    predicted = np.where(rng.random(120) < 0.8, labels, rng.integers(0, 3, 120))
    draws = rng.integers(0, 120, size=(400, 120))
    scores = [f1_score(labels[i], predicted[i], labels=[0, 1, 2], average="macro", zero_division=0) for i in draws]
    low, high = np.percentile(scores, [2.5, 97.5])
    interval = stats.bootstrap_macro_f1(labels, predicted, 3)
    assert interval.low == pytest.approx(low, abs=0.03) and interval.high == pytest.approx(high, abs=0.03)


@pytest.mark.parametrize(("b", "c"), [(0, 2), (3, 0), (8, 1), (14, 0), (5, 5), (0, 0), (40, 22)])
def test_mcnemar_exact_is_the_binomial_tail(b: int, c: int) -> None:
    assert stats.mcnemar_exact(b, c) == pytest.approx(hand.mcnemar_exact(b, c))


def test_mcnemar_by_hand() -> None:
    assert stats.mcnemar_exact(0, 2) == 0.5  # 2 · (1/2)^2
    assert stats.mcnemar_exact(8, 1) == pytest.approx(20 / 512)  # 2 · (1 + 9) / 2^9


# (both right, only a right, only b right, both wrong) → Newcombe method 10 limits, worked by hand:
# 90 pp: Wilson(95/100) = [0.8882, 0.9785], Wilson(5/100) = [0.0215, 0.1118]; ad − bc = 25 ≤ n/2 so φ* = 0;
# low = 0.9 − √(0.0618² + 0.0618²) = 0.8127, high = 0.9 + √(0.0285² + 0.0285²) = 0.9402.
# 45 pp is the pair (n = 359, 164 samples only b got right): Δ −45.68 pp, paired Wald [−50.8, −40.5].
NEWCOMBE_REFERENCES = [
    ((700, 50, 50, 200), 0.0, (-0.0198, 0.0198)),
    ((300, 60, 10, 630), 0.05, (0.0338, 0.0663)),
    ((150, 0, 164, 45), -164 / 359, (-0.5065, -0.4030)),
    ((5, 90, 0, 5), 0.9, (0.8127, 0.9402)),
]


@pytest.mark.parametrize(("table", "delta", "expected"), NEWCOMBE_REFERENCES)
def test_paired_interval_is_newcombes_method_10(table: tuple, delta: float, expected: tuple) -> None:
    interval = stats.paired_difference_interval(*table)
    assert (interval.low, interval.high) == pytest.approx(expected, abs=5e-5)
    assert (interval.low, interval.high) == pytest.approx(hand.newcombe_paired(*table), abs=1e-12)
    assert interval.low < delta < interval.high


@pytest.mark.parametrize(("table", "delta", "expected"), NEWCOMBE_REFERENCES)
def test_paired_interval_is_as_wide_as_the_paired_wald_interval_at_every_effect_size(
    table: tuple, delta: float, expected: tuple
) -> None:
    interval = stats.paired_difference_interval(*table)
    low, high = hand.paired_wald(*table)
    assert 0.8 < (interval.high - interval.low) / (high - low) < 1.25


def test_paired_interval_of_no_samples_and_of_a_certain_difference() -> None:
    assert stats.paired_difference_interval(0, 0, 0, 0) == stats.Interval(0.0, 0.0)
    interval = stats.paired_difference_interval(0, 10, 0, 0)  # every sample: a right, b wrong
    assert interval.high == 1.0 and interval.low < 1.0
    assert interval.low == pytest.approx(hand.newcombe_paired(0, 10, 0, 0)[0])


def test_unpaired_fisher_by_hand() -> None:
    # [[9, 1], [6, 4]]: hypergeometric with 15 correct of 20, 10 drawn; two-sided sums tables no likelier
    probability = {k: math.comb(15, k) * math.comb(5, 10 - k) / math.comb(20, 10) for k in range(5, 11)}
    expected = sum(p for p in probability.values() if p <= probability[9] * (1 + 1e-9))
    pvalue, interval = stats.unpaired_test(9, 10, 6, 10)
    assert pvalue == pytest.approx(expected)
    assert interval.low < 0.3 < interval.high


def test_paired_t_over_three_seeds_by_hand() -> None:
    # differences -0.2, -0.3, -0.2: mean -7/30, sd 0.057735, t = -7 with 2 df; P(|T| > 7) = 1 − 7/√51
    pvalue, interval = stats.paired_t([0.6, 0.7, 0.6], [0.9, 0.9, 0.8])
    assert pvalue == pytest.approx(1 - 7 / math.sqrt(51))
    half = student_t.ppf(0.975, 2) * (0.1 / math.sqrt(3)) / math.sqrt(3)
    assert (interval.low, interval.high) == pytest.approx((-7 / 30 - half, -7 / 30 + half))
    assert stats.paired_t([0.5], [0.4]) is None
    assert stats.paired_t([0.5, 0.6], [0.5, 0.6]) == (1.0, stats.Interval(0.0, 0.0))


def test_holm_by_hand() -> None:
    values = [0.01, 0.04, 0.03, 0.5]
    assert stats.holm(values) == pytest.approx(hand.holm(values))
    assert stats.holm(values) == pytest.approx([0.04, 0.09, 0.09, 0.5])
    assert stats.holm([]) == []


def _power(effect: float, nobs: int) -> float:
    """Two-sided one-sample t-test power from the noncentral t distribution."""
    critical = student_t.ppf(0.975, nobs - 1)
    noncentral = effect * math.sqrt(nobs)
    return nct.sf(critical, nobs - 1, noncentral) + nct.cdf(-critical, nobs - 1, noncentral)


@pytest.mark.parametrize("nobs", [3, 10, 360, 1080])
def test_detectable_effect_has_eighty_percent_power(nobs: int) -> None:
    assert _power(stats.detectable_effect(nobs), nobs) == pytest.approx(0.8, abs=1e-6)
    assert math.isnan(stats.detectable_effect(1))


@pytest.mark.parametrize("effect", [0.02, 0.3, 1.0, 3.0, 10.0, 100.0])
def test_pairs_needed_is_the_smallest_sufficient_count(effect: float) -> None:
    nobs = stats.pairs_needed(effect)
    assert _power(effect, nobs) >= 0.8
    assert nobs == 2 or _power(effect, nobs - 1) < 0.8
    assert stats.pairs_needed(0.0) == 0
