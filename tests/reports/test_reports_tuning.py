"""The report's tuning section from a stored ``tuning.json``: one row per configuration, edge notes, progress."""

from __future__ import annotations

import pandas as pd

from reports.tuning import best_so_far, tuning_table
from suite.tuning.space import TuneSpec
from suite.tuning.summary import configuration_summary

TUNE = TuneSpec.model_validate({"trials": 4, "space": {"lr": {"log_uniform": [1e-4, 1e-1]}}})
TRIALS = [
    {"number": 0, "state": "COMPLETE", "value": 0.60, "values": {"lr": 1e-3}},
    {"number": 1, "state": "PRUNED", "value": None, "values": {"lr": 1e-4}},
    {"number": 2, "state": "COMPLETE", "value": 0.80, "values": {"lr": 0.0999}},
    {"number": 3, "state": "COMPLETE", "value": 0.70, "values": {"lr": 3e-2}},
]


def test_each_configuration_shows_space_budget_choice_and_final_test_score() -> None:
    entry = configuration_summary("m[backend=torch]", TUNE, TRIALS)
    configs = pd.DataFrame(
        [
            {
                "config_name": "m[backend=torch]",
                "test_acc": 0.9,
                "test_acc_std": 0.01,
                "test_acc_ci_low": 0.88,
                "test_acc_ci_high": 0.92,
                "n": 3,
            }
        ]
    )
    table = tuning_table([entry], configs)
    row = table.text.iloc[0]
    assert row["Search space"] == "lr: log_uniform [0.0001, 0.1]" and row["Trials"] == "4/4 (1 pruned)"
    assert row["Chosen values"] == "lr = 0.0999" and row["Best validation"] == "80.00%"
    assert row["Test accuracy (final runs)"].startswith("90.00% ± 1.00")
    assert table.notes == [
        "m[backend=torch]: lr = 0.0999 is at the high edge of its range [0.0001, 0.1] (the space may be too narrow)"
    ]


def test_best_so_far_skips_pruned_trials_and_never_gets_worse() -> None:
    assert best_so_far(configuration_summary("m", TUNE, TRIALS)) == [(0, 0.60), (2, 0.80), (3, 0.80)]


def test_an_untuned_study_has_no_tuning_section() -> None:
    assert tuning_table([], pd.DataFrame()) is None
