from pathlib import Path

import numpy as np
import pytest

from suite.parity.compare import backend_labels, compare, format_rows


def _probe(path: Path, logits: np.ndarray, weights: list[np.ndarray], note: str = "") -> Path:
    arrays = {f"weight_{i}": w for i, w in enumerate(weights)}
    np.savez(path, logits=logits, slots=np.array([f"s{i}" for i in range(len(weights))]), note=np.array(note), **arrays)
    return path


def test_rows_within_and_beyond_tolerance(tmp_path: Path) -> None:
    reference = _probe(tmp_path / "a.npz", np.zeros((2, 3)), [np.ones(4)])
    close = _probe(tmp_path / "b.npz", np.full((2, 3), 5e-5), [np.ones(4) + 5e-6])
    far = _probe(tmp_path / "c.npz", np.zeros((2, 3)), [np.ones(4) + 1e-3])
    ok = compare("mlp", ("torch", reference), ("keras/tensorflow", close))
    assert ok.verdict == "ok" and ok.logit_diff == pytest.approx(5e-5) and ok.passed
    failing = compare("mlp", ("torch", reference), ("keras/jax", far))
    assert failing.verdict == "FAIL" and failing.weight_diff == pytest.approx(1e-3) and not failing.passed
    text = format_rows([ok, failing])
    assert "| mlp | torch | keras/tensorflow | 5.00e-05 | 5.00e-06 | ok |" in text


def test_different_functions_are_said_so_not_passed(tmp_path: Path) -> None:
    reference = _probe(tmp_path / "a.npz", np.zeros((1, 2)), [np.ones(2)], note="asymmetric padding")
    other = _probe(tmp_path / "b.npz", np.ones((1, 2)), [np.ones(2)], note="asymmetric padding")
    row = compare("mobilenet_v2", ("torch", reference), ("keras/tensorflow", other))
    assert row.verdict == "not comparable: asymmetric padding" and row.logit_diff == 1.0


def test_backend_labels_expand_engines_once() -> None:
    assert backend_labels(["torch", "keras/jax", "keras"]) == [
        ("torch", None),
        ("keras", "jax"),
        ("keras", "tensorflow"),
        ("keras", "torch"),
    ]
    with pytest.raises(ValueError, match="'keras' has no engine 'mxnet'"):
        backend_labels(["keras/mxnet"])
