"""Paired comparisons on stored predictions: matching, per-seed and combined McNemar, paired t, Holm, bands."""

import math
from pathlib import Path

import hand
import pandas as pd
import pytest
from report_store import SEED_RUNS, FakeRun, write_study
from scipy.stats import t as student_t

from reports import load_results
from reports.aggregate import aggregate_configs
from reports.cross_framework import cross_framework_table
from reports.deltas import delta_text
from reports.outcomes import read_outcome
from reports.paired import Comparison, compare, decide, rank_bands
from reports.stats import Interval
from reports.tables_compare import strategy_table
from reports.tables_core import leaderboard_table

FULL, BLOCKS, PROBE = "resnet18[freeze=none]", "resnet18[freeze_blocks=2]", "resnet18[freeze=all_but_head]"
# t = -7 and t = -14 with 2 degrees of freedom: P(|T| > t) = 1 − t / √(t² + 2)
P_T_BLOCKS, P_T_PROBE = 1 - 7 / math.sqrt(51), 1 - 14 / math.sqrt(198)


@pytest.fixture(scope="module")
def seeds(tmp_path_factory: pytest.TempPathFactory) -> pd.DataFrame:
    directory = write_study(tmp_path_factory.mktemp("seeds") / "study", "seeds", SEED_RUNS)
    configs = aggregate_configs(load_results([directory]))
    return configs.set_index("config_name", drop=False)


def test_per_seed_combined_and_t_over_seeds(seeds: pd.DataFrame) -> None:
    comparison = compare(seeds.loc[BLOCKS], seeds.loc[FULL])
    # seed 0: 3 samples only full gets right; seed 1: 2; seed 2: 3 vs 1 (sample 3)
    assert [(s.seed, s.only_row, s.only_ref, s.n) for s in comparison.seeds] == [
        (0, 0, 3, 10),
        (1, 0, 2, 10),
        (2, 1, 3, 10),
    ]
    assert [s.pvalue for s in comparison.seeds] == pytest.approx([0.25, 0.5, 0.625])
    assert comparison.mcnemar == pytest.approx(hand.mcnemar_exact(1, 8)) == pytest.approx(20 / 512)
    assert comparison.t_pvalue == pytest.approx(P_T_BLOCKS)
    assert comparison.delta == pytest.approx(-7 / 30)
    half = student_t.ppf(0.975, 2) * (0.1 / math.sqrt(3)) / math.sqrt(3)  # sd of (-.2, -.3, -.2) is 0.1/√3
    assert (comparison.interval.low, comparison.interval.high) == pytest.approx((-7 / 30 - half, -7 / 30 + half))
    assert comparison.pvalue == pytest.approx(20 / 512)  # the larger of McNemar and t decides
    # per-sample differences over 30 samples: one +1, eight −1
    assert comparison.sample_sd == pytest.approx(math.sqrt(9 / 30 - (7 / 30) ** 2))
    assert comparison.seed_sd == pytest.approx(0.1 / math.sqrt(3))


def test_strategy_table_holm_across_rows(seeds: pd.DataFrame) -> None:
    table = strategy_table(seeds.reset_index(drop=True))
    rows = {row["Strategy"]: row for _, row in table.data.iterrows()}
    text = table.text.set_index(table.data["Strategy"])
    # deciding p: probe max(2/2^14, P_T_PROBE) = P_T_PROBE, blocks 20/512; Holm: 2·P_T_PROBE, then max(…, 20/512)
    assert rows["freeze=all_but_head"]["p (Holm)"] == pytest.approx(hand.holm([P_T_PROBE, 20 / 512])[0])
    assert rows["freeze_blocks=2"]["p (Holm)"] == pytest.approx(20 / 512)
    assert rows["freeze=all_but_head"]["p (McNemar)"] == pytest.approx(2 / 2**14)
    assert text.loc["freeze_blocks=2", "p per seed"] == "0.250, 0.500, 0.625"
    assert text.loc["freeze_blocks=2", "p (paired t)"] == "0.020"
    assert text.loc["freeze_blocks=2", "Δ acc vs full fine-tuning"] == "**-23.33 pp** [-37.7, -9.0]"
    assert text.loc["freeze=none", "Δ acc vs full fine-tuning"] == "★ reference"
    assert text.loc["freeze_blocks=2", "Paired on"] == "seeds 0, 1, 2 · 3 × 10 samples (by position)"
    assert table.notes[0].startswith("Detectable difference (80% power, α = 0.05): 26.3 pp from the test set")
    assert "18.8 pp over seeds" in table.notes[0] and "the test set limits it" in table.notes[0]


def test_leaderboard_bands_and_noise_split(seeds: pd.DataFrame) -> None:
    table = leaderboard_table(seeds.reset_index(drop=True))
    rows = {row["Configuration"]: row for _, row in table.data.iterrows()}
    # full > blocks (Holm p 20/512) > probe (vs blocks: 8 vs 1 discordant, t = -7): three bands
    assert [rows[name]["Band"] for name in (FULL, BLOCKS, PROBE)] == [1, 2, 3]
    assert rows[FULL]["Seed std"] == pytest.approx(0.1 / math.sqrt(3))
    se = (2 * math.sqrt(0.9 * 0.1 / 10) + math.sqrt(0.8 * 0.2 / 10)) / 3
    assert rows[FULL]["Test-set SE"] == pytest.approx(se)
    assert rows[FULL]["Dominant noise"] == "test set"
    assert "p (paired t)" in table.data and "p per seed" in table.data


def test_rank_band_joins_rows_within_noise(monkeypatch: pytest.MonkeyPatch) -> None:
    within = Comparison(-0.1, Interval(-0.2, 0.05), mcnemar=0.3)
    monkeypatch.setattr("reports.paired.compare", lambda row, reference: within)
    comparisons, bands = rank_bands(pd.DataFrame({"test_acc": [0.9, 0.8, float("nan")]}))
    assert bands == [1, 1, None] and comparisons == [None, within, None]


def test_holm_turns_a_nominal_difference_into_noise() -> None:
    nominal = Comparison(-0.2, Interval(-0.35, -0.05), mcnemar=0.03)
    other = Comparison(0.01, Interval(-0.05, 0.07), mcnemar=0.5)
    assert nominal.separated  # alone: 0.03 < 0.05
    decide([nominal, None, other])
    assert nominal.adjusted == pytest.approx(0.06) and other.adjusted == pytest.approx(0.5)
    assert not nominal.separated
    assert delta_text(nominal) == "within noise [-35.0, -5.0]"
    assert delta_text(None) == "untested (no predictions stored)"


def _cross(tmp_path: Path, keras: FakeRun) -> pd.Series:
    runs = [FakeRun("m[backend=torch]", sample_ids=True), keras]
    frame = load_results([write_study(tmp_path / "s", "s", runs)])
    table = cross_framework_table(aggregate_configs(frame), frame)
    return pd.concat([table.data.iloc[0].add_prefix("data:"), table.text.iloc[0]])


def test_sample_ids_pair_runs_stored_in_another_order(tmp_path: Path) -> None:
    keras = FakeRun("m[backend=keras]", backend="keras", wrong=list(range(7)), sample_ids=True, reverse=True)
    row = _cross(tmp_path, keras)
    # 7 samples only torch got right, 3 both: p = 2 / 2^7; Newcombe's paired interval of (3, 0, 7, 0)
    assert row["data:p (McNemar)"] == pytest.approx(2 / 2**7)
    low, high = hand.newcombe_paired(3, 0, 7, 0)
    assert row["Δ acc"] == f"**-70.00 pp** [{100 * low:.1f}, {100 * high:.1f}]"
    assert row["Paired on"] == "seed 0 · 10 samples (by sample id)"
    outcome = read_outcome(next((tmp_path / "s" / "runs").iterdir()))
    assert outcome.sample_ids is not None and outcome.n == 10


def test_without_ids_a_reordered_test_set_is_compared_unpaired(tmp_path: Path) -> None:
    keras = FakeRun("m[backend=keras]", backend="keras", wrong=list(range(7)), reverse=True)
    row = _cross(tmp_path, keras)
    assert row["Paired on"] == "unpaired: no common test samples (Fisher's exact test)"
    assert row["p (McNemar)"].endswith("(Fisher)")
    # [[3, 7], [10, 0]]: every table at least as extreme sums to the two tails
    p = {k: math.comb(13, k) * math.comb(7, 10 - k) / math.comb(20, 10) for k in range(3, 11)}
    assert row["data:p (McNemar)"] == pytest.approx(sum(v for v in p.values() if v <= p[3] * (1 + 1e-9)))


def test_different_data_fingerprints_are_not_paired_by_position(tmp_path: Path) -> None:
    keras = FakeRun("m[backend=keras]", backend="keras", wrong=[0], fingerprint="other")
    runs = [FakeRun("m[backend=torch]"), keras]
    frame = load_results([write_study(tmp_path / "s", "s", runs)])
    configs = aggregate_configs(frame)
    comparison = compare(configs.iloc[1], configs.iloc[0])
    assert not comparison.paired and comparison.test == "Fisher"


def test_no_common_seed_is_unpaired(tmp_path: Path) -> None:
    runs = [FakeRun("m[seed=0]", wrong=[0]), FakeRun("m[backend=keras,seed=1]", backend="keras", seed=1)]
    frame = load_results([write_study(tmp_path / "s", "s", runs)])
    configs = aggregate_configs(frame).set_index("config_name", drop=False)
    comparison = compare(configs.loc["m"], configs.loc["m[backend=keras]"])
    assert not comparison.paired and comparison.delta == pytest.approx(-0.1)


def test_predictions_gone_after_loading_leave_the_delta_untested(tmp_path: Path) -> None:
    # a completed run without predictions is damaged and never loaded; here they vanish after loading
    directory = write_study(tmp_path / "s", "s", [FakeRun("a"), FakeRun("b", model="cnn", wrong=[1])])
    frame = load_results([directory])
    for path in directory.glob("runs/*/predictions.npz"):
        path.unlink()
    configs = aggregate_configs(frame)
    assert compare(configs.iloc[0], configs.iloc[1]) is None


def test_a_compared_table_names_its_interval_method(tmp_path: Path) -> None:
    keras = FakeRun("m[backend=keras]", backend="keras", wrong=list(range(7)), sample_ids=True)
    frame = load_results([write_study(tmp_path / "s", "s", [FakeRun("m[backend=torch]", sample_ids=True), keras])])
    table = cross_framework_table(aggregate_configs(frame), frame)
    assert any("Newcombe's paired score interval" in note and "method 10" in note for note in table.notes)
