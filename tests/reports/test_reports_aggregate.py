import math
from pathlib import Path

import hand
import pandas as pd
import pytest

from reports import load_results
from reports.aggregate import aggregate_configs, summarize, t_quantile


def test_summarize_two_seeds_by_hand() -> None:
    summary = summarize([0.9, 0.8])
    assert summary.n == 2
    assert summary.mean == pytest.approx(0.85)
    assert summary.std == pytest.approx(math.sqrt(0.005))  # sample std of (0.05, -0.05)
    half = 12.706204736 * math.sqrt(0.005) / math.sqrt(2)  # t(0.975, 1 dof)
    assert summary.ci_low == pytest.approx(0.85 - half)
    assert summary.ci_high == pytest.approx(0.85 + half)


def test_summarize_three_values_by_hand() -> None:
    summary = summarize([1.0, 2.0, 3.0])
    assert summary.std == pytest.approx(1.0)
    assert summary.ci_high - summary.mean == pytest.approx(4.302652730 / math.sqrt(3))


def test_single_seed_has_no_interval() -> None:
    summary = summarize([0.7])
    assert (summary.n, summary.mean, summary.ci_low, summary.ci_high) == (1, 0.7, None, None)
    assert math.isnan(summary.std)


def test_missing_values_are_skipped() -> None:
    assert summarize([float("nan"), 0.5]).n == 1
    assert summarize([]).n == 0


def test_t_quantile_matches_tables() -> None:
    assert t_quantile(0.95, 1) == pytest.approx(12.7062, abs=1e-4)
    assert t_quantile(0.95, 10) == pytest.approx(2.2281, abs=1e-4)


def test_configs_group_seeds(study_dir: Path) -> None:
    configs = aggregate_configs(load_results([study_dir]))
    assert len(configs) == 6  # 7 completed runs, two of them seeds of one config
    mlp = configs[configs["config_name"] == "mlp[backend=torch]"].iloc[0]
    assert mlp["n"] == 2 and mlp["seeds"] == [0, 1]
    assert mlp["test_acc"] == pytest.approx(0.85)
    assert mlp["test_acc_std"] == pytest.approx(math.sqrt(0.005))
    assert mlp["train_seconds"] == pytest.approx(11.0)
    assert mlp["train_ips"] == pytest.approx(450.0)
    assert mlp["overfit_gap"] == pytest.approx((0.1 + 0.25) / 2)  # (0.9-0.8) and (0.95-0.7) at epoch 1
    assert mlp["acc_per_m_trainable"] == pytest.approx(850.0)
    single = configs[configs["config_name"] == "mlp[backend=keras]"].iloc[0]
    # one seed: the interval is Wilson's for 7/10 test samples
    assert single["n"] == 1 and single["test_n"] == 10
    assert (single["test_acc_ci_low"], single["test_acc_ci_high"]) == pytest.approx(hand.wilson(7, 10))
    assert single["test_acc_ci_low"] == pytest.approx(0.3968, abs=1e-4)
    assert pd.isna(single["test_se"]) and pd.isna(single["noise"])
    # two seeds (9/10, 8/10): mean test-set SE (√(.9·.1/10) + √(.8·.2/10)) / 2 = 0.1107 > std 0.0707
    assert mlp["test_se"] == pytest.approx((math.sqrt(0.009) + math.sqrt(0.016)) / 2)
    assert mlp["noise"] == "test set"


def test_no_completed_runs_gives_empty_configs(tmp_path: Path) -> None:
    from report_store import TRACEBACK, FakeRun, write_study

    directory = write_study(tmp_path / "s", "s", [FakeRun("x", error=TRACEBACK)])
    assert aggregate_configs(load_results([directory])).empty


def test_same_name_different_spec_stays_apart(tmp_path: Path) -> None:
    from report_store import FakeRun, write_study

    first = write_study(tmp_path / "a", "small", [FakeRun("mlp[backend=torch]")])
    second = write_study(
        tmp_path / "b", "large", [FakeRun("mlp[backend=torch]", dataset={"source": "digits", "image_size": 16})]
    )
    configs = aggregate_configs(load_results([first, second]))
    assert len(configs) == 2 and set(configs["n"]) == {1}
    names = sorted(configs["config_name"])  # named by the key that differs, not by a hash
    assert names == ["mlp[backend=torch] (dataset.image_size=16)", "mlp[backend=torch] (dataset.image_size=–)"]
