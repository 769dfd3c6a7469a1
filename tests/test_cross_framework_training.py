"""Fair by construction: the same plan, weights, batches and LRs give the same training in torch and Keras."""

import csv
import json
from pathlib import Path

import numpy as np
import pytest

from suite import store
from suite.execution.executor import run_study
from suite.parity.compare import LOGIT_TOLERANCE, WEIGHT_TOLERANCE, run_parity
from suite.plan import EpochSchedule
from suite.runners.registry import create_runner, discover
from suite.spec.loader import build_study
from suite.spec.models import ModelSpec

pytestmark = pytest.mark.skipif(
    not all(entry.availability()[0] for entry in discover().values()), reason="needs both backends installed"
)


@pytest.mark.parametrize(
    ("model", "input_shape"),
    [("mlp", (8, 8, 1)), ("simple_cnn", (16, 16, 3)), ("keras_vgg16", (32, 32, 3)), ("keras_resnet50", (32, 32, 3))],
)
def test_same_group_vocabulary_and_init_layout(model: str, input_shape: tuple) -> None:
    torch_model = create_runner("torch").describe(ModelSpec(name=model), input_shape, 10)
    keras_model = create_runner("keras").describe(ModelSpec(name=model), input_shape, 10)
    assert torch_model.group_names == keras_model.group_names
    assert [g.params for g in torch_model.groups] == [g.params for g in keras_model.groups]
    assert [(s.name, s.kind, s.shape, s.fan_in) for s in torch_model.init_slots] == [
        (s.name, s.kind, s.shape, s.fan_in) for s in keras_model.init_slots
    ]


@pytest.mark.slow
def test_parity_on_tensorflow_keras() -> None:
    rows = run_parity(["mlp", "simple_cnn"], None, ["torch", "keras/tensorflow"])
    assert [row.other for row in rows] == ["keras/tensorflow", "keras/tensorflow"], rows
    for row in rows:
        assert row.verdict == "ok", row
        assert row.logit_diff <= LOGIT_TOLERANCE and row.weight_diff <= WEIGHT_TOLERANCE


@pytest.mark.slow
def test_parity_on_every_keras_engine() -> None:
    rows = run_parity(["mlp", "simple_cnn"], None, ["torch", "keras"])
    assert {row.other for row in rows} == {"keras/tensorflow", "keras/jax", "keras/torch"}
    assert all(row.verdict == "ok" for row in rows), rows


def _history(directory: Path) -> list[dict[str, float]]:
    with (directory / store.HISTORY_FILE).open() as handle:
        return [{key: float(value) for key, value in row.items() if value != ""} for row in csv.DictReader(handle)]


def _pair(tmp_path: Path, defaults: dict) -> list[Path]:
    raw = {
        "study": {"name": "pair"},
        "defaults": defaults,
        "matrix": {"backend": ["torch", "keras"]},
        "experiments": [{"name": "run"}],
    }
    records = run_study(build_study(raw, Path("pair.toml")), tmp_path, quiet=True)
    for record in records:
        assert record.status == "completed", store.read_result(record.directory).get("error")
    return [record.directory for record in records]


@pytest.mark.slow
def test_shared_init_mlp_trains_alike_in_torch_and_keras(tmp_path: Path) -> None:
    defaults = {
        "dataset": {"source": "digits"},
        "model": {"name": "mlp", "init": "shared", "dropout": 0.0},
        "optimizer": {"name": "adam", "lr": 1e-3},
        "training": {"epochs": 5, "batch_size": 32, "device": "cpu", "precision": "fp32", "deterministic": True},
    }
    torch_dir, keras_dir = _pair(tmp_path, defaults)
    torch_rows, keras_rows = _history(torch_dir), _history(keras_dir)
    assert torch_rows[0]["train_loss"] == pytest.approx(keras_rows[0]["train_loss"], rel=5e-3)
    for a, b in zip(torch_rows, keras_rows, strict=True):
        assert a["train_loss"] == pytest.approx(b["train_loss"], rel=0.05)
    results = [store.read_result(d) for d in (torch_dir, keras_dir)]
    assert results[0]["extra"]["order_fingerprint"] == results[1]["extra"]["order_fingerprint"]
    assert results[0]["extra"]["init"] == results[1]["extra"]["init"] == "shared"
    probes = [np.array(r["extra"]["parity_probe"]["logits"]) for r in results]
    assert np.abs(probes[0] - probes[1]).max() <= LOGIT_TOLERANCE


@pytest.mark.slow
def test_seed004_recipe_has_identical_lrs_and_trainable_counts(tmp_path: Path) -> None:
    defaults = {
        "dataset": {
            "source": "digits",
            "image_size": 32,
            "channels": 3,
            "subset": {"train": 96, "val": 32, "test": 32},
        },
        "model": {"name": "keras_resnet50"},
        "optimizer": {"name": "adam", "lr": 1e-3},
        "strategy": {
            "freeze": "all_but_head",
            "discriminative_lr": {"lr_mult": 0.1},
            "unfreeze_schedule": {2: ["last:1"]},
        },
        "training": {
            "epochs": 3,
            "batch_size": 32,
            "device": "cpu",
            "scheduler": {"name": "cosine", "warmup_epochs": 1},
        },
    }
    torch_dir, keras_dir = _pair(tmp_path, defaults)
    plan = json.loads((torch_dir / "plan.json").read_text())
    assert json.loads((keras_dir / "plan.json").read_text())["epochs"] == plan["epochs"]
    torch_rows, keras_rows = _history(torch_dir), _history(keras_dir)
    for epoch, a, b in zip(EpochSchedule.from_stored(plan["epochs"]), torch_rows, keras_rows, strict=True):
        rates = {key[3:]: value for key, value in a.items() if key.startswith("lr_")}
        assert rates == {key[3:]: value for key, value in b.items() if key.startswith("lr_")}
        assert rates == pytest.approx(epoch.rates, rel=1e-12)
        assert a["trainable_params"] == b["trainable_params"] == epoch.trainable_params
