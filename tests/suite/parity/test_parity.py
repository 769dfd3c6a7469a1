from pathlib import Path

import numpy as np
import pytest

from suite.parity.compare import LOGIT_TOLERANCE, backend_labels, compare, format_rows, run_parity
from suite.runners.registry import discover


def _both_backends() -> bool:
    entries = discover()
    return all(name in entries and entries[name].availability()[0] for name in ("torch", "keras"))


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


def _assert_rows_pass(rows: list) -> None:
    assert rows and all(row.verdict == "ok" for row in rows), format_rows(rows)


@pytest.mark.skipif(not _both_backends(), reason="needs the torch and keras backends")
def test_resnets_are_the_same_function_on_keras_tensorflow_at_64px() -> None:
    """torch vs Keras on TensorFlow: eval logits and the weights after one SGD step (BatchNorm in train mode).

    ResNet50's one-step weights are compared by logits only: in torch alone, shifting the probe's inputs by 1e-6
    moves its stem weights after the step by 0.03 (train-mode BatchNorm over 32 values per channel at 64 px), so
    no two implementations meet 1e-5 there; its Keras row measures 0.07.
    """
    rows = run_parity(["resnet18", "resnet34", "resnet50"], 64, ["torch", "keras/tensorflow"])
    _assert_rows_pass(rows[:2])
    assert rows[2].model == "resnet50" and rows[2].logit_diff is not None
    assert rows[2].logit_diff <= LOGIT_TOLERANCE * 1.0, format_rows(rows)


def _logits_pass_weights_known(rows: list, gap: str) -> None:
    """Logits must agree; one-step weights out of tolerance are the known gap ``gap`` (xfail with the figures)."""
    assert rows and all(row.logit_diff is not None and row.logit_diff <= LOGIT_TOLERANCE for row in rows), format_rows(
        rows
    )
    if not all(row.verdict == "ok" for row in rows):
        pytest.xfail(f"{gap}\n{format_rows(rows)}")


@pytest.mark.slow
@pytest.mark.skipif(not _both_backends(), reason="needs the torch and keras backends")
def test_resnets_are_the_same_function_at_224px() -> None:
    rows = run_parity(["resnet18", "resnet34", "resnet50"], 224, ["torch", "keras/tensorflow"])
    _logits_pass_weights_known(
        rows,
        "at 224 px the one-step weights measured 1.2e-4 (resnet18), 1.1e-3 (resnet34), 2.8e-2 (resnet50; torch alone "
        "differs by 3.6e-3 between 1 and 2 threads there)",
    )


@pytest.mark.slow
@pytest.mark.skipif(not _both_backends(), reason="needs the torch and keras backends")
@pytest.mark.parametrize("engine", ["torch", "jax"])
def test_resnet18_is_the_same_function_on_other_keras_engines(engine: str) -> None:
    rows = run_parity(["resnet18"], 64, ["torch", f"keras/{engine}"])
    if engine == "torch":
        _assert_rows_pass(rows)
        return
    _logits_pass_weights_known(
        rows, "Keras on JAX: gradients reaching layer2 and earlier differ (max |Δ weight| 1.3e-3); not found yet"
    )
