"""Conformance test every backend runner must pass, run through the real executor (one process per run)."""

import csv
from pathlib import Path

import numpy as np
import pytest

from suite import store
from suite.execution.executor import run_study
from suite.runners.registry import discover
from suite.spec.loader import build_study

BACKENDS = ["torch", "keras"]


def _installed(backend: str) -> bool:
    return discover()[backend].availability()[0]


def _study(backend: str, model: str) -> dict:
    return {
        "study": {"name": f"contract-{backend}"},
        "defaults": {
            "backend": backend,
            "dataset": {"source": "digits", "subset": {"train": 600}},
            "optimizer": {"name": "adam", "lr": 3e-3},
            "training": {"epochs": 4, "batch_size": 32, "device": "cpu"},
        },
        "experiments": [{"name": model, "model": {"name": model}}],
    }


@pytest.mark.parametrize(
    "backend",
    [pytest.param(b, marks=pytest.mark.skipif(not _installed(b), reason=f"{b} not installed")) for b in BACKENDS],
)
def test_runner_contract(backend: str, tmp_path: Path) -> None:
    study = build_study(_study(backend, "mlp"), Path("contract.toml"))
    [record] = run_study(study, tmp_path, quiet=True)
    result = store.read_result(record.directory)
    assert record.status == "completed", result.get("error")

    history = list(csv.DictReader((record.directory / store.HISTORY_FILE).open()))
    assert [int(row["epoch"]) for row in history] == [1, 2, 3, 4]  # numbered as the console shows them
    losses = [float(row["train_loss"]) for row in history]
    assert losses[-1] < losses[0] * 0.5  # learnable task: loss goes down
    assert all(float(row["lr"]) == pytest.approx(3e-3) for row in history)
    assert all(float(row["seconds"]) > 0 for row in history)

    predictions = np.load(record.directory / store.PREDICTIONS_FILE)
    samples = result["extra"]["samples"]
    assert predictions["scores"].shape == (samples["test"], 10)
    np.testing.assert_allclose(predictions["scores"].sum(axis=1), 1.0, atol=1e-4)
    assert result["metrics"]["test_accuracy"] > 0.8
    assert 1 <= result["metrics"]["best_epoch"] <= 4 and result["metrics"]["last_epoch"] == 4

    params = result["params"]
    assert params["total"] == 8 * 8 * 128 + 128 + 128 * 64 + 64 + 64 * 10 + 10  # mlp on 8x8x1 digits
    assert params["trainable"] == params["total"] and params["frozen"] == 0
    assert sum(group["total"] for group in params["groups"].values()) == params["total"]

    timing = result["timing"]
    assert timing["train_seconds"] > 0 and timing["train_images_per_second"] > 0
    assert timing["eval_images_per_second"] > 0
    assert result["environment"]["frameworks"] and result["environment"]["cpu"]


@pytest.mark.slow
@pytest.mark.skipif(not all(_installed(b) for b in BACKENDS), reason="needs both torch and keras installed")
def test_both_backends_see_the_same_samples(tmp_path: Path) -> None:
    raw = _study("torch", "mlp")
    raw["matrix"] = {"backend": BACKENDS}
    raw["defaults"]["training"]["epochs"] = 1
    records = run_study(build_study(raw, Path("pair.toml")), tmp_path, quiet=True)
    results = [store.read_result(record.directory) for record in records]
    assert [r["status"] for r in results] == ["completed", "completed"]
    assert results[0]["extra"]["data_fingerprint"] == results[1]["extra"]["data_fingerprint"]
    labels = [np.load(record.directory / store.PREDICTIONS_FILE)["labels"] for record in records]
    np.testing.assert_array_equal(labels[0], labels[1])
