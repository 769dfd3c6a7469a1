"""The efficiency table and the accuracy-vs-cost Pareto plots, from runs with hand-chosen costs."""

from pathlib import Path

import pandas as pd
import pytest
from report_store import FakeRun, write_study

from reports import load_results
from reports.aggregate import aggregate_configs
from reports.tables_efficiency import efficiency_costs_table


def _costs(train_gflops: float, memory_mb: float, latency_ms: float, trainable: int) -> dict:
    return {
        "version": 1,
        "measured": True,
        "flop_convention": "FLOPs = 2 x multiply-accumulates",
        "forward_flops_per_image": 1.8e9,
        "train_flops_per_image": train_gflops * 1e9,
        "trainable_state_bytes": trainable * 16,
        "peak_train_memory_bytes": memory_mb * 1e6,
        "peak_memory_source": "cpu: resident-set high-water mark (upper bound)",
        "latency_b1_ms_median": latency_ms,
        "latency_b1_ms_p90": latency_ms * 1.5,
        "latency_calls": 30,
        "batch_size": 32,
        "batch_images_per_second": 1000 / latency_ms,
        "weights_file_bytes": 44e6,
        "trainable_delta_bytes": trainable * 4,
    }


RUNS = [
    FakeRun("full", model="resnet18", trainable=11_000, total=11_000, train_seconds=40.0,
            efficiency=_costs(5.4, 800.0, 10.0, 11_000)),
    FakeRun("probe", model="resnet18", strategy={"freeze": "all_but_head"}, wrong=[0, 1, 2], trainable=5_000,
            total=11_000, train_seconds=10.0, efficiency=_costs(1.8, 200.0, 10.0, 5_000)),
    FakeRun("broken", model="resnet18", strategy={"freeze_blocks": 2}, error="Traceback: boom"),
]  # fmt: skip


@pytest.fixture
def configs(tmp_path: Path) -> pd.DataFrame:
    return aggregate_configs(load_results([write_study(tmp_path / "study", "costs", RUNS)]))


def test_efficiency_table_shows_costs_and_savings_against_full_finetuning(configs: pd.DataFrame) -> None:
    table = efficiency_costs_table(configs)
    rows = {row["Configuration"]: row for _, row in table.data.iterrows()}
    assert set(rows) == {"full", "probe"}  # the failed run has no figures
    probe, full = rows["probe"], rows["full"]
    assert probe["Train GFLOPs / image"] == pytest.approx(1.8) and probe["Delta (MB)"] == pytest.approx(0.02)
    assert probe["× less memory"] == pytest.approx(4.0)
    assert probe["× fewer FLOPs"] == pytest.approx(3.0)
    assert probe["× faster training"] == pytest.approx(4.0)
    assert full["× less memory"] == pytest.approx(1.0)
    assert "FLOPs = 2 x multiply-accumulates" in table.intro
    text = table.text.set_index("Configuration")
    assert text.loc["probe", "Latency b1 median (ms)"] == "10"
    assert text.loc["probe", "Peak train memory (MB)"] == "200.0"


def test_no_savings_columns_when_every_row_is_its_own_reference(tmp_path: Path) -> None:
    runs = [FakeRun("full_mlp", efficiency=_costs(1.0, 10.0, 1.0, 100)),
            FakeRun("full_cnn", model="simple_cnn", efficiency=_costs(2.0, 20.0, 2.0, 200))]  # fmt: skip
    table = efficiency_costs_table(aggregate_configs(load_results([write_study(tmp_path / "s", "full", runs)])))
    assert "Train GFLOPs / image" in table.data and "× less memory" not in table.data


def test_no_efficiency_table_without_measured_runs(tmp_path: Path) -> None:
    frame = load_results([write_study(tmp_path / "study", "old", [FakeRun("a"), FakeRun("b", model="simple_cnn")])])
    assert efficiency_costs_table(aggregate_configs(frame)) is None


def test_pareto_plots_of_accuracy_against_each_cost(configs: pd.DataFrame, tmp_path: Path) -> None:
    from reports.figures import study_figures

    titles = [figure.title for figure in study_figures([], configs, tmp_path)]
    for title in ("Accuracy vs training FLOPs per image", "Accuracy vs peak training memory (bytes)",
                  "Accuracy vs trainable delta per task (bytes)"):  # fmt: skip
        assert title in titles
    assert (tmp_path / "acc_vs_memory.png").stat().st_size > 0
