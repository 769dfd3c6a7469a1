"""benchmarks/perf_study.py runs as it is, with tiny arguments: a one-run study warm, the overhead in process."""

import importlib.util

import pytest
from benchmark_scripts import load_script

TINY_STUDY = ["--studies", "digits", "--seeds", "1", "--epochs", "1", "--backends", "torch", "--models", "mlp"]


def test_a_one_run_study_is_timed_against_its_runs_seconds(capsys) -> None:
    report = load_script("perf_study").main(["--parts", "studies", "--modes", "warm", *TINY_STUDY])
    (row,) = report["studies"]
    assert "error" not in row, row
    assert row["study"] == "digits" and row["mode"] == "warm" and row["runs"] == 1
    assert row["wall_s"] > row["runs_s"] > 0 and row["ratio"] > 1 and row["first_run_after_s"] > 0
    assert "| digits | warm | 1 |" in capsys.readouterr().out


@pytest.mark.skipif(importlib.util.find_spec("keras") is None, reason="needs keras")
def test_the_runner_and_a_bare_fit_alternate_in_process() -> None:
    import keras

    engine = keras.backend.backend()
    rows = load_script("perf_study").overhead_worker(engine, 32, 16, 1, ["simple_cnn"])
    (row,) = rows
    assert row["engine"] == engine and row["runner_ips"] > 0 and row["bare_ips"] > 0
    assert row["overhead_min"] <= row["overhead"] <= row["overhead_max"]


def test_an_engine_that_is_not_installed_is_a_row_saying_so(capsys) -> None:
    report = load_script("perf_study").main(["--parts", "overhead", "--engines", "no_such_engine"])
    missing = {"engine": "no_such_engine", "model": "-", "error": "no_such_engine or keras not installed"}
    assert report["overhead"] == [missing]
    assert "error: no_such_engine" in capsys.readouterr().out


@pytest.mark.slow
def test_cold_and_warm_quickstart_and_overhead_on_one_engine() -> None:
    args = ["--studies", "quickstart", "--epochs", "1", "--engines", "jax", "--train", "64", "--repeats", "2",
            "--overhead-models", "simple_cnn"]  # fmt: skip
    report = load_script("perf_study").main(args)
    assert [row["mode"] for row in report["studies"]] == ["cold", "warm"]
    assert all(row["runs"] == 4 for row in report["studies"])
    assert report["overhead"][0]["engine"] == "jax" and "error" not in report["overhead"][0]


@pytest.mark.slow
def test_a_study_is_timed_on_ray_cold_and_warm() -> None:
    """With ``--executor ray`` and no address, each ``suite run`` starts its own local Ray and stops it."""
    pytest.importorskip("ray", reason='ray is not installed (pip install "tlbench[ray]")')
    report = load_script("perf_study").main(["--parts", "studies", "--executor", "ray", *TINY_STUDY])
    assert [(row["study"], row["mode"], row.get("runs")) for row in report["studies"]] == [
        ("digits (ray)", "cold", 1),
        ("digits (ray)", "warm", 1),
    ], report["studies"]
