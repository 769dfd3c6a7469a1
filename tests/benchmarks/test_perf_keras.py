"""benchmarks/perf_keras.py runs as it is, with tiny arguments (its specs once failed the strict spec)."""

import importlib.util

import pytest
from benchmark_scripts import load_script

TINY = ["--train", "32", "--batch-size", "16", "--models", "simple_cnn"]
HAS_KERAS = importlib.util.find_spec("keras") is not None


@pytest.mark.skipif(not HAS_KERAS, reason="needs keras")
def test_the_runner_and_a_bare_fit_measure_the_same_model_in_process() -> None:
    import keras

    engine = keras.backend.backend()
    result = load_script("perf_keras").worker(engine, 32, 16, ["simple_cnn"], cache=False)
    (row,) = result["overhead"]
    assert row["engine"] == engine and row["model"] == "simple_cnn"
    assert row["runner_ips"] > 0 and row["bare_ips"] > 0 and row["bare_epoch_s"] > 0
    assert result["cache"] == []


def test_tiny_run_prints_its_table_from_a_child_process(capsys) -> None:
    result = load_script("perf_keras").main([*TINY, "--engines", "pytorch-runner", "--skip-cache"])
    (row,) = result["overhead"]
    assert "error" not in row, row
    assert row["engine"] == "pytorch-runner" and row["runner_ips"] > 0 and "bare_ips" not in row
    assert "| pytorch-runner | simple_cnn |" in capsys.readouterr().out


def test_a_missing_engine_is_a_row_saying_so(capsys) -> None:
    result = load_script("perf_keras").main(["--engines", "no_such_engine", "--skip-cache"])
    assert result["overhead"] == [{"engine": "no_such_engine", "model": "-", "error": "no_such_engine not installed"}]
    assert "error: no_such_engine not installed" in capsys.readouterr().out


@pytest.mark.slow
@pytest.mark.skipif(importlib.util.find_spec("tensorflow") is None, reason="needs tensorflow")
def test_the_feature_cache_table_runs() -> None:
    result = load_script("perf_keras").main([*TINY, "--engines", "tensorflow"])
    (cache,) = result["cache"]
    assert cache["cached_s"] > 0 and cache["uncached_s"] > 0 and cache["val_loss_gap"] < 1e-3
