import json
import math
import subprocess
import sys
from pathlib import Path

import pytest

from reports import load_results
from reports.load import find_run_dirs, load_runs
from reports.tidy import backend_label, config_key, last_error_line


def _row(frame, name):
    rows = frame[frame["name"] == name]
    assert len(rows) == 1, name
    return rows.iloc[0]


def test_one_tidy_row_per_run_completed_and_failed(study_dir: Path) -> None:
    frame = load_results([study_dir])
    assert len(frame) == 8
    assert sorted(frame["status"].value_counts().items()) == [("completed", 7), ("failed", 1)]
    assert frame["key"].is_unique


def test_ids_metrics_timings_environment_and_spec_are_flattened(study_dir: Path) -> None:
    frame = load_results([study_dir])
    mlp = _row(frame, "mlp[backend=torch,seed=1]")
    assert mlp["config_name"] == "mlp[backend=torch]"
    assert mlp["seed"] == 1
    assert mlp["study"] == "fixture"
    assert mlp["metrics.test_accuracy"] == pytest.approx(0.8)  # 2 of 10 wrong
    assert mlp["timing.train_images_per_second"] == 400.0
    assert mlp["environment.cpu"] == "Test CPU 9000"
    assert mlp["environment.frameworks.torch"] == "1.0"
    assert mlp["spec.optimizer.lr"] == pytest.approx(1e-3)
    assert mlp["spec.training.epochs"] == 2
    assert mlp["acc_per_m_trainable"] == pytest.approx(0.8 / (1000 / 1e6))  # 800
    assert "metrics.confusion_matrix" not in frame.columns and "metrics.per_class" not in frame.columns
    assert json.loads(mlp["params.groups"]) == {"head": {"total": 30, "trainable": 30}}


def test_backend_label_includes_the_keras_backend(study_dir: Path) -> None:
    frame = load_results([study_dir])
    assert _row(frame, "mlp[backend=keras]")["backend_label"] == "keras/tensorflow"
    assert _row(frame, "mlp[backend=torch,seed=0]")["backend_label"] == "torch"
    assert backend_label(None, None) == "unknown"


def test_failed_run_keeps_the_last_line_of_its_error(study_dir: Path) -> None:
    failed = _row(load_results([study_dir]), "resnet18[backend=keras]")
    assert failed["status"] == "failed"
    assert failed["error_line"] == "RuntimeError: out of memory"
    assert math.isnan(failed["acc_per_m_trainable"])


def test_repeats_share_a_config_key_that_ignores_name_and_seed() -> None:
    base = {"name": "a[seed=0]", "seed": 0, "backend": "torch", "optimizer": {"lr": 0.1}}
    assert config_key(base) == config_key({**base, "name": "a[seed=1]", "seed": 1})
    assert config_key(base) != config_key({**base, "optimizer": {"lr": 0.2}})


def test_run_dir_without_result_reads_as_interrupted(study_dir: Path) -> None:
    orphan = study_dir / "runs" / "abc123"
    orphan.mkdir()
    (orphan / "spec.toml").write_text('name = "orphan"\nbackend = "torch"\n')
    frame = load_results([study_dir])
    row = _row(frame, "orphan")
    assert row["status"] == "interrupted" and "result.json missing" in row["error_line"]


def test_several_study_dirs_merge(study_dir: Path, tmp_path: Path) -> None:
    from report_store import FakeRun, write_study

    other = write_study(tmp_path / "other", "second", [FakeRun("mlp[backend=torch]", wrong=[1, 2, 3])])
    frame = load_results([study_dir, other])
    assert len(frame) == 9
    assert set(frame["study"]) == {"fixture", "second"}


def test_same_run_in_two_dirs_gets_distinct_keys(study_dir: Path, tmp_path: Path) -> None:
    from report_store import FakeRun, write_study

    run = FakeRun("mlp[backend=torch]")
    first = write_study(tmp_path / "a", "a", [run])
    second = write_study(tmp_path / "b", "b", [run])
    keys = [record.key for record in load_runs([first, second])]
    assert len(keys) == 2 and len(set(keys)) == 2


def test_find_run_dirs_accepts_a_single_run_dir(study_dir: Path) -> None:
    run_dirs = find_run_dirs(study_dir)
    assert len(run_dirs) == 8
    assert find_run_dirs(run_dirs[0]) == [run_dirs[0]]
    with pytest.raises(FileNotFoundError):
        find_run_dirs(study_dir / "nope")


def test_last_error_line() -> None:
    assert last_error_line("Traceback\n  x\nValueError: bad\n\n") == "ValueError: bad"
    assert last_error_line(None) == ""


def test_study_json_is_read(study_dir: Path) -> None:
    assert json.loads((study_dir / "study.json").read_text())["study"] == "fixture"


def test_import_reports_loads_no_framework() -> None:
    code = (
        "import sys, reports; from reports import build_report, load_results; "
        "loaded = [m for m in ('torch', 'tensorflow', 'keras', 'jax') if m in sys.modules]; "
        "print(','.join(loaded))"
    )
    output = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert output.stdout.strip() == ""


def test_find_run_dirs_leaves_a_tuned_studys_trials_out(tmp_path: Path) -> None:
    for part in ("trials/aaa", "copied/bbb"):
        (tmp_path / part).mkdir(parents=True)
        (tmp_path / part / "result.json").write_text('{"status": "completed"}')
    assert find_run_dirs(tmp_path) == [tmp_path / "copied" / "bbb"]
