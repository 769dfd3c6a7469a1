"""Atomic writes and resume detection."""

import json
from pathlib import Path

import numpy as np
import pytest

from suite import store
from suite.store import StoreError


def whole_run(directory: Path) -> Path:
    """A completed run with every file it must have, written the way the executor and worker write them."""
    store.write_text(directory / store.SPEC_FILE, 'name = "m"\nbackend = "torch"\n')
    store.write_history(directory / store.HISTORY_FILE, [{"epoch": 0, "train_loss": 1.0, "lr": 0.1, "seconds": 2}])
    store.write_predictions(directory / store.PREDICTIONS_FILE, np.array([1, 0, 2]), np.eye(3)[[1, 0, 0]])
    store.write_json(directory / store.RESULT_FILE, {"status": "completed", "metrics": {"test_accuracy": 2 / 3}})
    return directory


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


def test_is_completed_needs_the_status_and_every_output(tmp_path: Path) -> None:
    assert not store.is_completed(tmp_path)
    store.write_json(tmp_path / store.RESULT_FILE, {"status": "failed"})
    assert not store.is_completed(tmp_path)
    store.write_json(tmp_path / store.RESULT_FILE, {"status": "completed", "metrics": {"test_accuracy": 0.5}})
    assert not store.is_completed(tmp_path)  # no spec.toml, history.csv, predictions.npz yet
    whole_run(tmp_path)
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


RESULT_DAMAGE = [
    (b'{\n  "status": "completed",\n  "metrics": \n}\n', "not valid JSON (line 4 column 1: Expecting value)"),
    (b"[1, 2, 3]", "expected a JSON object, found a list"),
    (b'"completed"', "expected a JSON object, found a string"),
    (b"", "empty file"),
    (b"\x89PNG\r\n\x1a\n\x00\xff\xfe", "not UTF-8 text (byte 0x89 at offset 0)"),
    (b'{"name": "m"}', 'missing key "status"'),
    (b'{"status": "done"}', "unknown status 'done' (expected one of completed, failed,"),
    (b'{"status": "completed"}', "status 'completed' without a \"metrics\" object"),
    (b'{"status": "completed", "metrics": {}}', '"metrics.test_accuracy" is missing or not a number'),
    (b'{"status": "failed", "error": "boom"}', "status is 'failed', not 'completed'"),
]


@pytest.mark.parametrize(("content", "problem"), RESULT_DAMAGE)
def test_a_damaged_result_is_one_line_naming_the_file(tmp_path: Path, content: bytes, problem: str) -> None:
    whole_run(tmp_path)
    (tmp_path / store.RESULT_FILE).write_bytes(content)
    line = store.outputs_problem(tmp_path)
    assert line is not None and line.startswith(f"{tmp_path / store.RESULT_FILE}: {problem}")
    assert "\n" not in line
    assert not store.is_completed(tmp_path)


@pytest.mark.parametrize(("content", "problem"), RESULT_DAMAGE[:7])
def test_load_result_raises_and_read_result_tolerates(tmp_path: Path, content: bytes, problem: str) -> None:
    (tmp_path / store.RESULT_FILE).write_bytes(content)
    with pytest.raises(StoreError) as raised:
        store.load_result(tmp_path)
    assert raised.value.path == tmp_path / store.RESULT_FILE and raised.value.problem.startswith(problem)
    assert isinstance(raised.value, ValueError)
    assert store.read_result(tmp_path) is None


def test_a_missing_result_is_named(tmp_path: Path) -> None:
    assert store.outputs_problem(tmp_path) == f"{tmp_path / store.RESULT_FILE}: missing"
    assert store.read_result(tmp_path) is None


HISTORY_DAMAGE = [
    ("epoch,train_loss\n0,1.0\n1,0.5,9\n", "line 3 has 3 fields, the header 2"),
    ("train_loss,val_loss\n1.0,2.0\n", "no epoch column in the header (train_loss,val_loss)"),
    ("epoch,train_loss\n", "no epochs (a header only)"),
    ("epoch,train_loss\nzero,1.0\n", "line 2: epoch 'zero' is not a whole number"),
    ("epoch,train_loss\n0.5,1.0\n", "line 2: epoch '0.5' is not a whole number"),
    ("epoch,train_loss,lr_head\n0,1.0,fast\n", "line 2: lr_head 'fast' is not a number"),
    ("epoch,val_accuracy\n0,0.5\n1,\x00\n", "line 3: val_accuracy '\\x00' is not a number"),
    ("epoch,phase\n0," + "x" * 200_000 + "\n", "not valid CSV (field larger than field limit"),
    ("", "empty file"),
]


@pytest.mark.parametrize(("content", "problem"), HISTORY_DAMAGE)
def test_a_damaged_history_is_one_line_naming_the_file(tmp_path: Path, content: str, problem: str) -> None:
    whole_run(tmp_path)
    (tmp_path / store.HISTORY_FILE).write_text(content)
    assert store.outputs_problem(tmp_path).startswith(f"{tmp_path / store.HISTORY_FILE}: {problem}")
    with pytest.raises(StoreError, match="history.csv"):
        store.load_history(tmp_path)


def test_history_rows_come_back_as_text_with_free_text_columns(tmp_path: Path) -> None:
    text = "epoch,train_loss,val_loss,batch_fingerprint\n0,1.5,,ab12\n1,nan,0.5,cd\n"
    (tmp_path / store.HISTORY_FILE).write_text(text)
    rows = store.load_history(tmp_path)
    assert rows == [
        {"epoch": "0", "train_loss": "1.5", "val_loss": "", "batch_fingerprint": "ab12"},
        {"epoch": "1", "train_loss": "nan", "val_loss": "0.5", "batch_fingerprint": "cd"},
    ]


def _npz(path: Path, **arrays: np.ndarray) -> None:
    np.savez(path, **arrays)


class _Trap:
    """Unpickling this would create the file ``marker``: proof that a stored npz is never unpickled."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self) -> tuple:
        return (open, (str(self.marker), "w"))


def test_a_truncated_npz_is_named(tmp_path: Path) -> None:
    whole_run(tmp_path)
    path = tmp_path / store.PREDICTIONS_FILE
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])
    assert store.outputs_problem(tmp_path) == f"{path}: truncated or not an npz file"


def test_an_npz_holding_an_object_array_is_never_unpickled(tmp_path: Path) -> None:
    whole_run(tmp_path)
    marker = tmp_path / "unpickled"
    scores = np.empty((3, 1), dtype=object)
    scores[0, 0] = _Trap(marker)
    _npz(tmp_path / store.PREDICTIONS_FILE, labels=np.array([0, 0, 0]), scores=scores)
    line = store.outputs_problem(tmp_path)
    assert line == f"{tmp_path / store.PREDICTIONS_FILE}: holds pickled (object) data, which is never loaded"
    assert not marker.exists()


PREDICTION_DAMAGE = [
    ({"labels": np.array([0, 1])}, "no 'scores' array"),
    ({"labels": np.array([0.0, 1.0]), "scores": np.eye(2)}, "labels must be (N,) integers, found (2,) float64"),
    ({"labels": np.array([[0, 1]]), "scores": np.eye(2)}, "labels must be (N,) integers, found (1, 2) int64"),
    ({"labels": np.array([0, 1]), "scores": np.array([0.1, 0.9])}, "scores must be (N, C) floats, found (2,)"),
    ({"labels": np.array([0, 1]), "scores": np.eye(2, dtype=int)}, "scores must be (N, C) floats"),
    ({"labels": np.array([0, 1, 1]), "scores": np.eye(2)}, "3 labels but 2 rows of scores"),
    ({"labels": np.array([0, 1]), "scores": np.array([[np.nan, 1.0], [0.0, 1.0]])}, "scores hold NaN or infinite"),
    ({"labels": np.array([0, 2]), "scores": np.eye(2)}, "labels outside 0..1"),
    ({"labels": np.array([0, 1]), "scores": np.eye(2), "sample_ids": np.arange(3)}, "sample_ids has shape (3,)"),
]


@pytest.mark.parametrize(("arrays", "problem"), PREDICTION_DAMAGE)
def test_predictions_must_be_labels_and_finite_scores(tmp_path: Path, arrays: dict, problem: str) -> None:
    whole_run(tmp_path)
    _npz(tmp_path / store.PREDICTIONS_FILE, **arrays)
    assert store.outputs_problem(tmp_path).startswith(f"{tmp_path / store.PREDICTIONS_FILE}: {problem}")


def test_a_single_npy_is_not_an_npz(tmp_path: Path) -> None:
    whole_run(tmp_path)
    with open(tmp_path / store.PREDICTIONS_FILE, "wb") as handle:
        np.save(handle, np.eye(3))
    assert store.outputs_problem(tmp_path).endswith("predictions.npz: not an npz file (a single array)")


def test_whole_predictions_load(tmp_path: Path) -> None:
    whole_run(tmp_path)
    predictions = store.load_predictions(tmp_path)
    assert predictions.labels.tolist() == [1, 0, 2] and predictions.labels.dtype == np.int64
    assert predictions.scores.shape == (3, 3) and predictions.sample_ids is None
    assert store.outputs_problem(tmp_path) is None


@pytest.mark.parametrize(
    ("content", "problem"),
    [(b'name = "m"\nbackend = \n', "not valid TOML (Invalid value (at line 2, column 11))"), (b"", "empty file")],
)
def test_a_damaged_spec_is_named(tmp_path: Path, content: bytes, problem: str) -> None:
    whole_run(tmp_path)
    (tmp_path / store.SPEC_FILE).write_bytes(content)
    assert store.outputs_problem(tmp_path) == f"{tmp_path / store.SPEC_FILE}: {problem}"


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        ('{"study": "s",', "not valid JSON (line 1 column 15: Expecting property name enclosed in double quotes)"),
        ('["s"]', "expected a JSON object, found a list"),
        ('{"study": "s", "run_ids": "abc"}', '"run_ids" is not a list of run ids'),
    ],
)
def test_a_damaged_study_file_is_named(tmp_path: Path, content: str, problem: str) -> None:
    assert store.load_study(tmp_path) == {}
    (tmp_path / store.STUDY_FILE).write_text(content)
    with pytest.raises(StoreError) as raised:
        store.load_study(tmp_path)
    assert str(raised.value) == f"{tmp_path / store.STUDY_FILE}: {problem}"
