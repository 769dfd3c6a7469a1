"""Detectable differences and the seed / test-sample plan, against hand computations on stored fixtures."""

import math
from pathlib import Path

import pytest
from hand import Z95
from report_store import FIXTURE_RUNS, SEED_RUNS, write_study
from scipy.optimize import brentq
from scipy.stats import nct, norm
from scipy.stats import t as student_t

from reports import load_results
from reports.aggregate import aggregate_configs
from reports.plan import plan_seeds, samples_for_seeds, seeds_for_samples, training_sd
from reports.power import Spread, detectable_note, spread
from reports.tables_core import leaderboard_table


def _power(effect: float, nobs: float) -> float:
    """Two-sided paired t-test power: noncentral t, or its normal limit for large samples."""
    noncentral = effect * math.sqrt(nobs)
    if nobs > 500:
        return norm.cdf(noncentral - Z95) + norm.cdf(-noncentral - Z95)
    critical = student_t.ppf(0.975, nobs - 1)
    lower = nct.cdf(-critical, nobs - 1, noncentral)  # negligible; scipy returns NaN far in the tail
    return nct.sf(critical, nobs - 1, noncentral) + (0.0 if math.isnan(lower) else lower)


def _detectable(nobs: int) -> float:
    """Standardised effect with 80% power, solved by hand from the noncentral t."""
    return brentq(lambda effect: _power(effect, nobs) - 0.8, 1e-6, 4)  # d(3) = 3.26 is the largest used


# Seed study, each configuration against full fine-tuning over 3 × 10 paired samples:
#   freeze_blocks=2: one +1, eight −1 -> sd √(9/30 − (7/30)²); probe: fourteen −1 -> sd √(14/30 − (14/30)²)
SD_BLOCKS = math.sqrt(9 / 30 - (7 / 30) ** 2)
SD_PROBE = math.sqrt(14 / 30 - (14 / 30) ** 2)
SEED_SD = 0.1 / math.sqrt(3)  # per-seed Δ (−.2, −.3, −.2) and (−.5, −.5, −.4) both have this sd


@pytest.fixture(scope="module")
def seed_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_study(tmp_path_factory.mktemp("plan") / "seeds", "seeds", SEED_RUNS)


def test_leaderboard_detectable_line_by_hand(seed_dir: Path) -> None:
    note = leaderboard_table(aggregate_configs(load_results([seed_dir]))).notes[0]
    test = 100 * _detectable(30) * (SD_BLOCKS + SD_PROBE) / 2  # median of two
    over_seeds = 100 * _detectable(3) * SEED_SD
    assert f"{test:.1f} pp from the test set (3 seeds × 10 test samples" in note
    assert f"{over_seeds:.1f} pp over seeds" in note and "the test set limits it: add test samples" in note
    assert (round(test, 1), round(over_seeds, 1)) == (26.3, 18.8)


def test_single_seed_line_says_the_seed_spread_is_unknown(study_dir: Path) -> None:
    # best run is perfect; the others miss 1, 1, 2, 3, 4 of 10: sd √(k/10 − (k/10)²), median 0.4 (k = 2)
    note = leaderboard_table(aggregate_configs(load_results([study_dir]))).notes[0]
    assert f"{100 * _detectable(10) * 0.4:.1f} pp from the test set (1 seed × 10 test samples" in note
    assert "One seed: the spread over seeds is unknown; run 3 or more to measure it." in note


def test_without_pairs_the_spread_assumes_independent_errors(tmp_path: Path) -> None:
    directory = write_study(tmp_path / "one", "one", FIXTURE_RUNS[:1])  # a single run: nothing to pair
    configs = aggregate_configs(load_results([directory]))
    noise = spread([], configs)
    assert noise.sample_sd == pytest.approx(math.sqrt(2 * 0.9 * 0.1)) and noise.n == 10
    assert "assuming independent errors at 90.0% accuracy" in detectable_note(None, configs)


NOISE = Spread(sample_sd=0.2, seed_sd=0.02, n=400, seeds=3, source="test")


def test_training_noise_is_the_seed_spread_beyond_test_noise() -> None:
    # per-seed Δ variance 0.02² = 4e-4, test-set part 0.2² / 400 = 1e-4 -> training sd √3e-4
    assert training_sd(NOISE, varying=True) == pytest.approx(math.sqrt(3e-4))
    assert training_sd(NOISE, varying=False) == pytest.approx(0.02)
    assert training_sd(Spread(0.2, float("nan"), 400, 1, "test"), varying=True) is None


def test_plan_counts_by_hand() -> None:
    target, train = 0.05, math.sqrt(3e-4)
    total = math.ceil(brentq(lambda n: _power(target / 0.2, n) - 0.8, 2, 1e6))  # paired samples in all
    # 10 seeds: the t-test needs sd of per-seed Δ ≤ target / d10, i.e. 0.04 / n ≤ (target / d10)² − 3e-4
    room = (target / _detectable(10)) ** 2 - 3e-4
    assert samples_for_seeds(10, target, NOISE, train, True) == max(math.ceil(total / 10), math.ceil(0.04 / room))
    assert samples_for_seeds(10, target, NOISE, train, True) == 19
    assert samples_for_seeds(1, target, NOISE, train, True) == total
    assert samples_for_seeds(3, target, NOISE, train, True) is None  # (target / d3)² < 3e-4: seeds must grow
    # 400 samples per seed: per-seed Δ sd √(3e-4 + 1e-4) = 0.02, effect 2.5
    seeds = math.ceil(brentq(lambda k: _power(target / 0.02, k) - 0.8, 2.5, 100))
    assert seeds_for_samples(400, target, NOISE, train, True) == max(seeds, math.ceil(total / 400), 2)


def test_plan_seeds_text(seed_dir: Path, study_dir: Path) -> None:
    text = plan_seeds(seed_dir, 20)
    assert text.splitlines()[0] == (
        "3 configuration(s), 3 seed(s) × 10 test samples per run; the test split is the same for every seed."
    )
    assert f"sd of per-seed Δ {100 * SEED_SD:.2f} pp, of which training noise {100 * SEED_SD:.2f} pp." in text
    assert "To detect 20.00 pp" in text and "- with 3 seed(s): 17 test samples per seed" in text
    fewest = next(k for k in range(2, 50) if _power(0.2 / SEED_SD, k) >= 0.8)
    assert f"- at least {fewest} seeds however large the test set" in text
    single = plan_seeds(study_dir, 0.5)
    assert "Seed counts are lower bounds" in single and "(assumed: one seed cannot tell)" in single
    with pytest.raises(ValueError, match="must be > 0"):
        plan_seeds(seed_dir, 0)


def test_plan_seeds_without_completed_runs(tmp_path: Path) -> None:
    from report_store import TRACEBACK, FakeRun

    directory = write_study(tmp_path / "s", "s", [FakeRun("x", error=TRACEBACK)])
    assert plan_seeds(directory, 1.0).endswith("no completed runs to plan from.")


def test_cli_plan_seeds_prints_the_plan_without_loading_a_framework(seed_dir: Path) -> None:
    import subprocess
    import sys

    code = (
        "import sys; from typer.testing import CliRunner; from suite.cli import app; "
        f"result = CliRunner().invoke(app, ['plan-seeds', {str(seed_dir)!r}, '--target-diff', '20']); "
        "print(result.exit_code); print(result.output); "
        "print([m for m in ('torch', 'tensorflow', 'keras', 'jax') if m in sys.modules])"
    )
    output = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    lines = output.strip().splitlines()
    assert lines[0] == "0" and lines[-1] == "[]"
    assert "- with 3 seed(s): 17 test samples per seed" in output
