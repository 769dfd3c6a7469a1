from pathlib import Path

import hand
import pandas as pd
import pytest
from report_store import FakeRun, write_study

from reports import load_results
from reports.aggregate import aggregate_configs
from reports.cross_framework import cross_framework_table
from reports.load import load_runs
from reports.per_class import best_record, easiest_and_hardest, per_class_table
from reports.tables_compare import strategy_table, zoo_table
from reports.tables_core import efficiency_table, leaderboard_table, runs_table
from reports.tables_status import status_table


@pytest.fixture
def frame(study_dir: Path) -> pd.DataFrame:
    return load_results([study_dir])


@pytest.fixture
def configs(frame: pd.DataFrame) -> pd.DataFrame:
    return aggregate_configs(frame)


def _by(table, column: str) -> dict:
    return {row[column]: row for _, row in table.data.iterrows()}


def test_runs_table_numbers(frame: pd.DataFrame) -> None:
    table = runs_table(frame, {})
    rows = _by(table, "Run")
    assert len(rows) == 7  # the failed run is not in it
    probe = rows["resnet18[freeze=all_but_head]"]
    assert probe["Total params"] == 11_000_000 and probe["Trainable params"] == 5_000
    assert probe["Test acc"] == pytest.approx(0.6)
    assert probe["Accuracy per million trainable parameters"] == pytest.approx(0.6 / 0.005)  # 120
    assert probe["Overfit gap"] == pytest.approx(0.9 - 0.8)
    assert probe["Train time (s)"] == 30.0 and probe["Train img/s"] == 300.0
    text = table.text.set_index("Run")
    assert text.loc["resnet18[freeze=all_but_head]", "Test acc"] == "60.00% [31.3, 83.2]"  # Wilson, 6/10
    assert text.loc["resnet18[freeze=all_but_head]", "Total params"] == "11,000,000"
    assert text.loc["resnet18[freeze=all_but_head]", "Overfit gap"] == "+10.00 pp"


def test_runs_table_macro_f1_by_hand(frame: pd.DataFrame) -> None:
    # mlp seed 0: index 0 (class zero) predicted "one". zero: P=1, R=3/4; one: P=3/4, R=1; two: perfect.
    f1_zero = 2 * 1 * 0.75 / 1.75
    expected = (f1_zero + f1_zero + 1.0) / 3
    assert _by(runs_table(frame), "Run")["mlp[backend=torch,seed=0]"]["Macro F1"] == pytest.approx(expected)


def test_status_table_lists_the_last_error_line_of_a_failed_run(frame: pd.DataFrame) -> None:
    table = status_table(frame)
    assert list(table.data["Run"]) == ["resnet18[backend=keras]"]
    assert list(table.data["Status"]) == ["failed"]
    assert list(table.data["Reason"]) == ["RuntimeError: out of memory"]
    assert status_table(frame[frame["status"] == "completed"]) is None


def test_leaderboard_ranks_and_summarises_repeats(configs: pd.DataFrame) -> None:
    table = leaderboard_table(configs)
    assert list(table.data["Configuration"])[:3] == [
        "resnet18[freeze=none]",
        "small_cnn[freeze=none]",
        "mlp[backend=torch]",
    ]
    mlp = _by(table, "Configuration")["mlp[backend=torch]"]
    assert mlp["Seeds"] == 2 and mlp["Test acc"] == pytest.approx(0.85)
    assert mlp["Train time (s)"] == pytest.approx(11.0) and mlp["Train img/s"] == pytest.approx(450.0)
    cnn = _by(table, "Configuration")["small_cnn[freeze=none]"]
    assert (cnn["Best epoch"], cnn["Last epoch"]) == (1, 2)
    assert cnn["Val acc (best epoch)"] == pytest.approx(0.75) and cnn["Val acc (last epoch)"] == pytest.approx(0.7)
    text = table.text.set_index("Configuration")
    # mean 85%, std sqrt(0.005) = 7.07 pp, t-interval 85 ± 63.5 clipped to [0, 100]
    assert text.loc["mlp[backend=torch]", "Test acc"] == "85.00% ± 7.07 [21.5, 100.0]"
    assert text.loc["small_cnn[freeze=none]", "Test acc"] == "90.00% [59.6, 98.2]"  # one seed: Wilson, 9/10
    assert "Test acc (last epoch)" not in table.data  # no run recorded it: column omitted


def test_efficiency_table_gain_over_linear_probe(configs: pd.DataFrame) -> None:
    table = efficiency_table(configs)
    rows = _by(table, "Configuration")
    assert rows["resnet18[freeze=none]"]["Gain over linear probe"] == pytest.approx(1.0 - 0.6)
    assert rows["resnet18[freeze_blocks=2]"]["Gain over linear probe"] == pytest.approx(0.8 - 0.6)
    assert rows["resnet18[freeze_blocks=2]"]["Frozen params"] == 9_000_000
    assert rows["resnet18[freeze_blocks=2]"]["Trainable share"] == pytest.approx(2 / 11)
    assert pd.isna(rows["mlp[backend=torch]"]["Gain over linear probe"])  # mlp has no probe run
    ranked = list(table.data["Accuracy per million trainable parameters"])
    assert ranked == sorted(ranked, reverse=True)
    assert ranked[0] == pytest.approx(850.0)  # mlp torch: 0.85 / 0.001 M
    assert list(table.data["Rank"]) == list(range(1, 7))


def test_efficiency_caption_names_only_columns_the_table_has(configs: pd.DataFrame) -> None:
    assert "Gain over linear probe" in efficiency_table(configs).intro
    without_probe = configs[configs["strategy"] != "freeze=all_but_head"]
    table = efficiency_table(without_probe)
    assert "Gain over linear probe" not in table.data and "Gain over linear probe" not in table.intro


def test_zoo_needs_three_models_on_one_dataset_and_strategy(configs: pd.DataFrame) -> None:
    table = zoo_table(configs)
    assert set(table.data["Strategy"]) == {"freeze=none"}
    rows = {(row["Model"], row["Backend"]): row for _, row in table.data.iterrows()}
    resnet = rows[("resnet18", "torch")]
    assert resnet["Size (MB)"] == pytest.approx(44.0)  # 11M params x 4 bytes
    assert resnet["Depth"] == 18
    assert resnet["Inference ms/batch"] == pytest.approx(32 / 800 * 1000)
    assert resnet["Train s/epoch"] == 60.0
    assert rows[("small_cnn", "torch")]["Acc / M params"] == pytest.approx(0.9 / 0.05)
    assert zoo_table(configs[configs["model"] != "small_cnn"]) is None


def test_cross_framework_pairs_backends(configs: pd.DataFrame, frame: pd.DataFrame) -> None:
    table = cross_framework_table(configs, frame)
    assert len(table.data) == 1
    row = table.data.iloc[0]
    assert (row["Reference"], row["Other"], row["Seeds"]) == ("torch", "keras/tensorflow", "2 / 1")
    # paired on seed 0, the only seed both ran: 0.70 - 0.90 (the means differ by 0.15)
    assert row["Δ acc"] == pytest.approx(0.70 - 0.90)
    assert row["p (McNemar)"] == pytest.approx(hand.mcnemar_exact(0, 2)) and row["p (McNemar)"] == 0.5
    low, high = hand.newcombe_paired(7, 0, 2, 1)  # 7 both right, 2 only torch, 1 neither
    shown = table.text.iloc[0]["Δ acc"]
    assert shown == f"within noise [{100 * low:.1f}, +{100 * high:.1f}]" == "within noise [-50.2, +13.5]"
    assert row["Speed ratio"] == pytest.approx(250 / 450)
    assert row["Data"] == "same data fingerprint"


def test_cross_framework_notes_different_data(tmp_path: Path) -> None:
    runs = [
        FakeRun("m[backend=torch]", fingerprint="aaa"),
        FakeRun("m[backend=keras]", backend="keras", fingerprint="bbb", dataset={"source": "digits", "image_size": 16}),
    ]
    frame = load_results([write_study(tmp_path / "s", "s", runs)])
    note = cross_framework_table(aggregate_configs(frame), frame).data.iloc[0]["Data"]
    assert note == "dataset spec differs: image_size (unset vs 16); data fingerprints differ"


def test_strategy_table_against_full_finetuning(configs: pd.DataFrame) -> None:
    table = strategy_table(configs)
    rows = _by(table, "Strategy")
    assert set(rows) == {"freeze=none", "freeze_blocks=2", "freeze=all_but_head"}
    assert rows["freeze=none"]["Configuration"].endswith("★")
    assert rows["freeze_blocks=2"]["Δ acc vs full fine-tuning"] == pytest.approx(-0.2)
    assert rows["freeze=all_but_head"]["Δ acc vs full fine-tuning"] == pytest.approx(-0.4)
    assert rows["freeze_blocks=2"]["Time vs full fine-tuning"] == pytest.approx(60 / 120)
    assert rows["freeze=all_but_head"]["Trainable share"] == pytest.approx(5_000 / 11_000_000)
    assert strategy_table(configs[configs["model"] != "resnet18"]) is None


def test_per_class_report_by_hand(tmp_path: Path) -> None:
    # wrong: #0 zero->one, #3 zero->one, #1 one->two
    # zero: P=2/2, R=2/4 -> F1 2/3; one: P=2/4, R=2/3 -> F1 4/7; two: P=3/4, R=3/3 -> F1 6/7
    directory = write_study(tmp_path / "s", "s", [FakeRun("m", wrong=[0, 3, 1])])
    record = best_record(load_runs([directory]))
    table = per_class_table(record)
    rows = _by(table, "Class")
    assert rows["zero"]["Precision"] == pytest.approx(1.0) and rows["zero"]["Recall"] == pytest.approx(0.5)
    assert rows["one"]["F1"] == pytest.approx(4 / 7)
    assert rows["two"]["F1"] == pytest.approx(6 / 7) and rows["two"]["Support"] == 3
    assert easiest_and_hardest(table.data) == (["two"], ["one"])
    assert "Easiest classes (highest F1): two (85.71%)" in table.intro
    assert "Hardest classes (lowest F1): one (57.14%)" in table.intro


def test_best_record_is_most_accurate(study_dir: Path) -> None:
    assert best_record(load_runs([study_dir])).result["name"] == "resnet18[freeze=none]"


def test_equal_f1_names_no_class() -> None:
    data = pd.DataFrame({"Class": ["a", "b", "c", "d"], "F1": [0.5, 0.5, 0.5, 0.5]})
    assert easiest_and_hardest(data) == ([], [])
    data = pd.DataFrame({"Class": ["a", "b", "c", "d"], "F1": [0.9, 0.5, 0.7, 0.8]})
    assert easiest_and_hardest(data) == (["a", "d"], ["b", "c"])


def test_tables_absent_without_data() -> None:
    empty = pd.DataFrame()
    for build in (leaderboard_table, efficiency_table, zoo_table, strategy_table):
        assert build(empty) is None
    assert cross_framework_table(empty, empty) is None


def test_a_running_run_nobody_holds_is_listed_as_interrupted(tmp_path: Path) -> None:
    import json

    from report_store import TRACEBACK

    directory = write_study(tmp_path / "s", "s", [FakeRun("killed", error=TRACEBACK)])
    result_path = next(directory.glob("runs/*/result.json"))
    result = json.loads(result_path.read_text())
    result_path.write_text(json.dumps({**result, "status": "running", "error": None}))
    table = status_table(load_results([directory]))
    assert list(table.data["Status"]) == ["interrupted"]
    assert "suite run resumes it" in table.data["Reason"][0]


def test_configurations_sharing_a_name_are_told_apart_by_the_keys_that_differ(tmp_path: Path) -> None:
    studies = [
        write_study(tmp_path / name, name, [FakeRun("mlp", dataset={"source": "digits", "subset": {"train": size}})])
        for name, size in (("small", 100), ("large", 800))
    ]
    names = set(aggregate_configs(load_results(studies))["config_name"])
    assert names == {"mlp (dataset.subset.train=100)", "mlp (dataset.subset.train=800)"}


def test_configurations_differing_only_by_study_name_it(tmp_path: Path) -> None:
    studies = [write_study(tmp_path / name, name, [FakeRun("mlp")]) for name in ("a", "b")]
    frame = load_results(studies)
    frame.loc[frame["study"] == "b", "config_key"] = "other"  # e.g. a field the spec no longer stores
    names = set(aggregate_configs(frame)["config_name"])
    assert names == {"mlp (study=a)", "mlp (study=b)"}
