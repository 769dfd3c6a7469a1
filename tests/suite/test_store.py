"""Atomic writes and resume detection."""

import json
from pathlib import Path

import numpy as np
import pytest

from suite import store


def test_write_atomic_leaves_no_temp_files(tmp_path: Path) -> None:
    target = tmp_path / "a" / "result.json"
    store.write_json(target, {"status": "completed", "x": np.float32(1.5)})
    assert json.loads(target.read_text()) == {"status": "completed", "x": 1.5}
    assert [p.name for p in target.parent.iterdir()] == ["result.json"]


def test_failed_write_keeps_old_file(tmp_path: Path) -> None:
    target = tmp_path / "result.json"
    store.write_json(target, {"status": "completed"})
    with pytest.raises(TypeError):
        store.write_json(target, {"status": "x", "bad": object()})
    assert json.loads(target.read_text()) == {"status": "completed"}
    assert len(list(tmp_path.iterdir())) == 1


def test_is_completed(tmp_path: Path) -> None:
    assert not store.is_completed(tmp_path)
    store.write_json(tmp_path / store.RESULT_FILE, {"status": "failed"})
    assert not store.is_completed(tmp_path)
    store.write_json(tmp_path / store.RESULT_FILE, {"status": "completed"})
    assert store.is_completed(tmp_path)


def test_history_and_predictions(tmp_path: Path) -> None:
    store.write_history(tmp_path / "h.csv", [{"epoch": 0, "train_loss": 1.0, "phase": 1}])
    assert tmp_path.joinpath("h.csv").read_text().splitlines()[0].split(",")[-1] == "phase"
    store.write_predictions(tmp_path / "p.npz", np.array([1, 0]), np.array([[0.2, 0.8], [0.9, 0.1]]))
    loaded = np.load(tmp_path / "p.npz")
    assert loaded["labels"].tolist() == [1, 0] and loaded["scores"].shape == (2, 2)


def test_predictions_keep_the_test_sample_ids(tmp_path: Path) -> None:
    scores = np.array([[0.2, 0.8], [0.9, 0.1]])
    store.write_predictions(tmp_path / "p.npz", np.array([1, 0]), scores, np.array([17, 3]))
    assert np.load(tmp_path / "p.npz")["sample_ids"].tolist() == [17, 3]
    store.write_predictions(tmp_path / "q.npz", np.array([1, 0]), scores, np.array([1, 2, 3]))  # wrong length
    assert "sample_ids" not in np.load(tmp_path / "q.npz")
