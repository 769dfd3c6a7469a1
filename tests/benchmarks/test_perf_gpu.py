"""benchmarks/perf_gpu.py runs as it is, with tiny arguments: the feed part everywhere, every part on CUDA."""

import importlib.util
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[2] / "benchmarks" / "perf_gpu.py"
TINY = ["--images", "40", "--eval-images", "12", "--size", "24", "--keras-size", "16", "--batch-size", "16",
        "--repeats", "1", "--epochs", "2", "--bare-epochs", "1", "--skip-compile"]  # fmt: skip


def _perf_gpu():
    spec = importlib.util.spec_from_file_location("perf_gpu", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_tiny_run_measures_the_feed_and_says_what_it_skipped(capsys) -> None:
    import torch

    report = _perf_gpu().main([*TINY, "--skip-keras"])
    assert set(report["feed"]) >= {"float32_today", "uint8_staged"}
    assert all(value["feed_ips"] > 0 for value in report["feed"].values())
    assert report["feed_equals_cpu_path"] == {"streamed_bitwise": True, "resident_bitwise": True}
    printed = capsys.readouterr().out
    assert "feed uint8_staged:" in printed and "x today's float32 feed" in printed
    if torch.cuda.is_available():
        assert report["ratios"]["runner_vs_bare_bf16_cl"] > 0 and report["keras_jax"] == {"skipped": "--skip-keras"}
    else:
        assert "gpu" not in report and "no CUDA device" in report["skipped"] and "no CUDA device" in printed


@pytest.mark.slow
def test_every_part_runs_on_the_cpu_when_forced() -> None:
    report = _perf_gpu().main([*TINY, "--all-on-cpu"])
    parts = {"bare_fp32", "bare_bf16_cl", "runner_full", "runner_frozen_cached", "runner_simple_cnn"}
    assert set(report["gpu"]) == parts
    assert report["gpu"]["runner_full"]["train_warmup_s"] > 0 and report["ratios"]["runner_epoch_rate_vs_steady"] > 0
    keras = report["keras_jax"]
    assert "skipped" in keras or keras["eval_ips"] > 0


def test_a_failing_measure_is_recorded_and_the_others_go_on() -> None:
    perf_gpu, calls = _perf_gpu(), []

    def fails() -> dict:
        raise RuntimeError("no compiler")

    def works() -> dict:
        calls.append(1)
        n = float(len(calls))
        return {"train_ips": n, "warmup_s": 10.0 - n, "peak_gib": 1.0, "train_s": 5.0 - n}

    summary = perf_gpu.best_of({"compiled": fails, "runner_full": works}, repeats=3)
    assert summary["compiled"] == {"error": "RuntimeError: no compiler"} and len(calls) == 3
    assert summary["runner_full"] == {"train_ips": 3.0, "warmup_s": 9.0, "peak_gib": 1.0, "train_s": 2.0}
    gpu = {"runner_full": {"train_ips": 2.0, "epoch_ips": 1.0, "eval_ips": 4.0}, "bare_bf16_cl": {"train_ips": 4.0},
           "bare_bf16_cl_compile": summary["compiled"]}  # fmt: skip
    found = perf_gpu.ratios(gpu, {"skipped": "keras is not installed"})
    assert found == {"runner_vs_bare_bf16_cl": 0.5, "runner_epoch_rate_vs_steady": 0.5, "runner_eval_vs_train": 2.0}
