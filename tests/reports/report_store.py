"""A tiny result store written the way the executor and worker write it (suite.store, suite.metrics)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from suite import store
from suite.execution.executor import result_header
from suite.metrics import classification_metrics, history_metrics
from suite.spec.models import ExperimentSpec
from suite.spec.serialize import run_id, spec_to_toml

CLASSES = ["zero", "one", "two"]
TEST_LABELS = np.array([0, 1, 2, 0, 1, 2, 0, 1, 2, 0])  # 4 zeros, 3 ones, 3 twos
ENVIRONMENT = {
    "python": "3.11.7",
    "platform": "Linux-x86_64",
    "cpu": "Test CPU 9000",
    "cores": 2,
    "hostname": "box",
    "frameworks": {"torch": "2.9.0"},
    "device": "cpu",
    "gpu": None,
}


@dataclass
class FakeRun:
    """What a fixture run should look like; numbers chosen so every table can be checked by hand."""

    name: str
    backend: str = "torch"
    model: str = "mlp"
    seed: int = 0
    strategy: dict[str, Any] = field(default_factory=dict)
    wrong: list[int] = field(default_factory=list)  # test indices predicted as (label + 1) % 3
    total: int = 1000
    trainable: int = 1000
    train_seconds: float = 10.0
    train_ips: float = 500.0
    eval_ips: float = 2000.0
    epoch_seconds: float = 5.0
    history: list[tuple[float, float, float]] = field(default_factory=lambda: [(0.6, 0.55, 1e-3), (0.9, 0.8, 1e-3)])
    best_epoch: int = 1
    fingerprint: str = "fp-digits"
    dataset: dict[str, Any] = field(default_factory=lambda: {"source": "digits"})
    extra: dict[str, Any] = field(default_factory=dict)
    efficiency: dict[str, Any] | None = None  # result.json "efficiency" (suite.efficiency), when the run had one
    error: str | None = None
    batch_size: int = 32
    sample_ids: bool = False  # also store test sample ids (100, 101, ...) in predictions.npz
    reverse: bool = False  # store the test samples in reverse order (only sample ids can pair them)

    def spec(self) -> ExperimentSpec:
        return ExperimentSpec.model_validate(
            {
                "name": self.name,
                "backend": self.backend,
                "seed": self.seed,
                "dataset": self.dataset,
                "model": {"name": self.model},
                "strategy": self.strategy,
                "training": {"epochs": len(self.history), "batch_size": self.batch_size},
            }
        )


def predicted_scores(wrong: list[int]) -> np.ndarray:
    predicted = TEST_LABELS.copy()
    for index in wrong:
        predicted[index] = (TEST_LABELS[index] + 1) % 3
    return np.eye(3, dtype=np.float32)[predicted]


def write_run(out_dir: Path, run: FakeRun, study: str = "fixture") -> Path:
    """Write spec.toml, result.json, history.csv and predictions.npz exactly as the executor/worker do."""
    spec = run.spec()
    rid = run_id(spec)
    directory = store.run_dir(out_dir, rid)
    store.write_text(directory / store.SPEC_FILE, spec_to_toml(spec))
    header = result_header(spec, rid, study)
    if run.error is not None:
        store.write_json(directory / store.RESULT_FILE, {**header, "status": "failed", "error": run.error})
        return directory
    history = [
        {
            "epoch": epoch,
            "train_loss": 1.0 - train,
            "train_accuracy": train,
            "val_loss": 1.1 - val,
            "val_accuracy": val,
            "lr": lr,
            "seconds": run.epoch_seconds,
        }
        for epoch, (train, val, lr) in enumerate(run.history)
    ]
    scores = predicted_scores(run.wrong)
    metrics = classification_metrics(TEST_LABELS, scores, CLASSES)
    metrics.update(history_metrics(history, run.best_epoch))
    store.write_history(directory / store.HISTORY_FILE, history)
    store.write_predictions(directory / store.PREDICTIONS_FILE, TEST_LABELS, scores)
    if run.sample_ids or run.reverse:
        _rewrite_predictions(directory / store.PREDICTIONS_FILE, scores, run)
    result = {
        **header,
        "status": "completed",
        "error": None,
        "params": {
            "total": run.total,
            "trainable": run.trainable,
            "frozen": run.total - run.trainable,
            "buffers": 0,
            "groups": {"head": {"total": 30, "trainable": 30}},
        },
        "metrics": metrics,
        "timing": {
            "train_seconds": run.train_seconds,
            "train_images_per_second": run.train_ips,
            "eval_images_per_second": run.eval_ips,
            "epoch_seconds_mean": run.epoch_seconds,
            "warmup_batches_excluded": 2,
        },
        "efficiency": run.efficiency,
        "environment": {**ENVIRONMENT, "frameworks": {run.backend: "1.0"}},
        "class_names": CLASSES,
        "extra": {"data_fingerprint": run.fingerprint, "samples": {"train": 50, "val": 10, "test": 10}, **run.extra},
        "started_at": "2026-01-01T00:00:00+00:00",
        "finished_at": "2026-01-01T00:01:00+00:00",
    }
    store.write_json(directory / store.RESULT_FILE, result)
    return directory


def _rewrite_predictions(path: Path, scores: np.ndarray, run: FakeRun) -> None:
    """predictions.npz with ``sample_ids`` beside labels and scores, optionally in reverse order."""
    order = np.arange(len(TEST_LABELS))[::-1] if run.reverse else np.arange(len(TEST_LABELS))
    arrays = {"labels": TEST_LABELS[order], "scores": scores[order]}
    if run.sample_ids:
        arrays["sample_ids"] = (100 + np.arange(len(TEST_LABELS)))[order]
    np.savez_compressed(path, **arrays)


def write_study(out_dir: Path, name: str, runs: list[FakeRun], command: str = "suite run study.toml") -> Path:
    for run in runs:
        write_run(out_dir, run, study=name)
    store.write_json(
        out_dir / store.STUDY_FILE,
        {
            "study": name,
            "description": None,
            "spec_file": "study.toml",
            "command": command,
            "date": "2026-01-01T00:00:00+00:00",
            "run_ids": [],
        },
    )
    return out_dir


TRACEBACK = 'Traceback (most recent call last):\n  File "x.py", line 1, in <module>\nRuntimeError: out of memory\n'

# The main fixture study (every number below is used by hand in the tests):
#   mlp torch seeds 0/1: 9/10 and 8/10 correct -> mean 0.85
#   mlp keras: 7/10, slower (250 img/s vs 500)
#   resnet18 torch: probe 6/10 (5,000 trainable of 11M), full 10/10, freeze_blocks=2 8/10 (2M trainable)
#   small_cnn torch full: 9/10 -> with mlp and resnet18 three models share (digits, freeze=none)
#   resnet18 keras: failed
FIXTURE_RUNS = [
    FakeRun("mlp[backend=torch,seed=0]", wrong=[0]),
    FakeRun(
        "mlp[backend=torch,seed=1]",
        seed=1,
        wrong=[0, 1],
        train_seconds=12.0,
        train_ips=400.0,
        history=[(0.5, 0.5, 1e-3), (0.95, 0.7, 1e-4)],
    ),
    FakeRun("mlp[backend=keras]", backend="keras", wrong=[0, 1, 2], train_seconds=20.0, train_ips=250.0),
    FakeRun(
        "resnet18[freeze=all_but_head]",
        model="resnet18",
        strategy={"freeze": "all_but_head"},
        wrong=[0, 1, 2, 3],
        total=11_000_000,
        trainable=5_000,
        train_seconds=30.0,
        train_ips=300.0,
        eval_ips=1000.0,
        epoch_seconds=15.0,
    ),
    FakeRun(
        "resnet18[freeze=none]",
        model="resnet18",
        wrong=[],
        total=11_000_000,
        trainable=11_000_000,
        train_seconds=120.0,
        train_ips=100.0,
        eval_ips=800.0,
        epoch_seconds=60.0,
        extra={"depth": 18},
    ),
    FakeRun(
        "resnet18[freeze_blocks=2]",
        model="resnet18",
        strategy={"freeze_blocks": 2},
        wrong=[4, 5],
        total=11_000_000,
        trainable=2_000_000,
        train_seconds=60.0,
        train_ips=200.0,
        eval_ips=800.0,
    ),
    FakeRun(
        "small_cnn[freeze=none]",
        model="small_cnn",
        wrong=[9],
        total=50_000,
        trainable=50_000,
        train_seconds=15.0,
        train_ips=400.0,
        eval_ips=1600.0,
        epoch_seconds=7.5,
        history=[(0.5, 0.5, 1e-3), (0.8, 0.75, 5e-4), (0.99, 0.7, 1e-4)],
        best_epoch=1,
    ),
    FakeRun("resnet18[backend=keras]", backend="keras", model="resnet18", error=TRACEBACK),
]

# A three-seed strategy study (every run seed 0/1/2 on the same 10 test samples, paired by position):
#   full fine-tuning       wrong [0] / [1] / [2, 3]                         -> 0.9, 0.9, 0.8
#   freeze_blocks=2        wrong [0-3] / [1, 4, 5] / [2, 6, 7, 8]           -> 0.6, 0.7, 0.6
#   linear probe           wrong [0-5] / [1-6] / [2-7]                      -> 0.4, 0.4, 0.4
_SEED_WRONG = {
    "freeze=none": ({}, [[0], [1], [2, 3]]),
    "freeze_blocks=2": ({"freeze_blocks": 2}, [[0, 1, 2, 3], [1, 4, 5], [2, 6, 7, 8]]),
    "freeze=all_but_head": ({"freeze": "all_but_head"}, [[0, 1, 2, 3, 4, 5], [1, 2, 3, 4, 5, 6], [2, 3, 4, 5, 6, 7]]),
}
SEED_RUNS = [
    FakeRun(f"resnet18[{label},seed={seed}]", model="resnet18", seed=seed, strategy=strategy, wrong=wrong)
    for label, (strategy, per_seed) in _SEED_WRONG.items()
    for seed, wrong in enumerate(per_seed)
]
