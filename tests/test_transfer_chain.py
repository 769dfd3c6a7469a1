"""Pretrain here, transfer there: one torch checkpoint starts seed 000's freeze study in torch and in Keras."""

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from reports import build_report
from suite import store
from suite.execution.executor import run_study
from suite.runners.registry import discover
from suite.spec.loader import build_study

BOTH = pytest.mark.skipif(
    not all(entry.availability()[0] for entry in discover().values()), reason="needs both backends installed"
)
REPO = Path(__file__).resolve().parents[1]
TRAINING = {"epochs": 1, "batch_size": 8, "device": "cpu", "precision": "fp32", "deterministic": True}


def _folder(root: Path) -> Path:
    """Three classes of 10 noisy 32x32 PNGs, each class with its own colour."""
    rng = np.random.default_rng(0)
    for index, name in enumerate(("red", "green", "blue")):
        (root / name).mkdir(parents=True)
        for number in range(10):
            image = rng.integers(0, 96, (32, 32, 3), dtype=np.uint8)
            image[..., index] += 128
            Image.fromarray(image).save(root / name / f"{number}.png")
    return root


def _run(raw: dict, out: Path) -> list:
    records = run_study(build_study(raw, Path(f"{raw['study']['name']}.toml")), out, quiet=True)
    for record in records:
        assert record.status == "completed", store.read_result(record.directory).get("error")
    return records


@pytest.mark.slow
@BOTH
def test_freeze_study_from_one_checkpoint_starts_alike_in_torch_and_keras(tmp_path: Path) -> None:
    dataset = {"source": "folder", "path": str(_folder(tmp_path / "images")), "normalization": "imagenet"}
    pretrain = {
        "study": {"name": "pretrain"},
        "defaults": {
            "backend": "torch",
            "dataset": dataset,
            "model": {"name": "resnet18"},
            "training": {**TRAINING, "checkpoint": True},
        },
        "experiments": [{"name": "resnet18_pretrain"}],
    }
    _run(pretrain, tmp_path / "pretrain")
    transfer = {
        "study": {"name": "transfer"},
        "defaults": {
            "dataset": dataset,
            "model": {
                "name": "resnet18",
                "init": "shared",
                "weights": f"run:{tmp_path / 'pretrain'}/resnet18_pretrain",
            },
            "optimizer": {"name": "adam", "lr": 1e-3},
            "training": TRAINING,
        },
        "experiments": [
            {"name": "freeze", "matrix": {"backend": ["torch", "keras"], "freeze_blocks": [0, 1, 2, 3, 4, 5]}}
        ],
    }
    records = _run(transfer, tmp_path / "transfer")
    results = [store.read_result(record.directory) for record in records]
    by_level: dict[int, dict[str, dict]] = {}
    for result in results:
        spec = result["spec"]
        by_level.setdefault(spec["strategy"]["freeze_blocks"], {})[spec["backend"]] = result["extra"]
    assert sorted(by_level) == [0, 1, 2, 3, 4, 5]
    for level, extras in by_level.items():
        torch_extra, keras_extra = extras["torch"], extras["keras"]
        assert torch_extra["weights_fingerprint"] == keras_extra["weights_fingerprint"] is not None
        assert keras_extra["val_loss_initial"] == pytest.approx(torch_extra["val_loss_initial"], rel=1e-4), level
    report = build_report([tmp_path / "transfer"]).read_text(encoding="utf-8")
    cross = report.split("## Cross-framework comparison", 1)[1].split("\n## ", 1)[0]
    assert "same weights" in cross and "max |Δ logit|" in cross


@pytest.mark.needs_data
def test_transfer_chain_specs_point_at_imagenette_and_at_the_pretrain_run(monkeypatch: pytest.MonkeyPatch) -> None:
    from suite.data.sources.folder import _class_dirs, _split_dirs
    from suite.spec.loader import load_study

    monkeypatch.chdir(REPO)
    (pretrain,) = load_study(REPO / "benchmarks" / "transfer_chain_pretrain.toml").runs
    root = Path(pretrain.dataset.path)
    if not root.is_dir():
        pytest.skip(f"{root} is not here")
    splits = _split_dirs(root)
    assert set(splits) == {"train", "test"} and len(_class_dirs(splits["train"])) == 10
    transfer = load_study(REPO / "benchmarks" / "transfer_chain.toml").runs
    assert {run.model.weights for run in transfer} == {"run:results/transfer_chain_pretrain/resnet18_imagenette"}
    assert {run.backend for run in transfer} == {"torch", "keras"} and len(transfer) == 12
