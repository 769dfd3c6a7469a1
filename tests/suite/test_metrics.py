"""Metrics from predictions, checked against hand-computed values."""

import numpy as np
import pytest

from suite.metrics import classification_metrics, history_metrics


def test_classification_metrics_by_hand() -> None:
    labels = np.array([0, 0, 1, 1, 2, 2])
    predicted = np.array([0, 1, 1, 1, 2, 0])
    scores = np.eye(3)[predicted] * 0.8 + 0.1
    metrics = classification_metrics(labels, scores, ["a", "b", "c"])
    assert metrics["test_accuracy"] == pytest.approx(4 / 6)
    # class a: P=1/2 R=1/2; b: P=2/3 R=1; c: P=1 R=1/2
    assert metrics["per_class"]["b"]["precision"] == pytest.approx(2 / 3)
    assert metrics["test_macro_precision"] == pytest.approx((1 / 2 + 2 / 3 + 1) / 3)
    assert metrics["test_macro_recall"] == pytest.approx((1 / 2 + 1 + 1 / 2) / 3)
    f1 = [0.5, 0.8, 2 / 3]
    assert metrics["test_macro_f1"] == pytest.approx(sum(f1) / 3)
    assert metrics["confusion_matrix"] == [[1, 1, 0], [0, 2, 0], [1, 0, 1]]
    assert metrics["per_class"]["c"]["support"] == 2


def test_classification_metrics_rejects_mismatched_shapes() -> None:
    with pytest.raises(ValueError, match="classes"):
        classification_metrics(np.array([0, 1]), np.ones((2, 3)), ["a", "b"])


def test_overfit_gap_at_chosen_epoch() -> None:
    history = [
        {"epoch": 0, "train_accuracy": 0.6, "val_accuracy": 0.55, "val_loss": 1.0},
        {"epoch": 1, "train_accuracy": 0.8, "val_accuracy": 0.7, "val_loss": 0.7},
        {"epoch": 2, "train_accuracy": 0.95, "val_accuracy": 0.68, "val_loss": 0.9},
    ]
    best = history_metrics(history, best_epoch=1)
    assert best["overfit_gap"] == pytest.approx(0.1)
    assert best["best_epoch"] == 1 and best["last_epoch"] == 2 and best["val_accuracy_last"] == 0.68
    assert history_metrics(history, best_epoch=2)["overfit_gap"] == pytest.approx(0.27)
