"""Metrics computed once, from the predictions every runner returns, so all backends mean the same thing."""

from __future__ import annotations

from typing import Any

import numpy as np
from sklearn.metrics import accuracy_score, confusion_matrix, precision_recall_fscore_support


def classification_metrics(labels: np.ndarray, scores: np.ndarray, class_names: list[str]) -> dict[str, Any]:
    """Accuracy, macro precision/recall/F1, confusion matrix and per-class report from (N,) labels and (N, C) scores."""
    labels = np.asarray(labels).astype(np.int64)
    scores = np.asarray(scores)
    if scores.ndim != 2 or scores.shape[0] != labels.shape[0]:
        raise ValueError(f"scores must be (N, C) with N = {labels.shape[0]}, got {scores.shape}")
    if scores.shape[1] != len(class_names):
        raise ValueError(f"scores have {scores.shape[1]} classes but the data has {len(class_names)}")
    predicted = scores.argmax(axis=1)
    class_ids = list(range(len(class_names)))
    precision, recall, f1, support = precision_recall_fscore_support(
        labels, predicted, labels=class_ids, average=None, zero_division=0
    )
    macro = precision_recall_fscore_support(labels, predicted, labels=class_ids, average="macro", zero_division=0)
    return {
        "test_accuracy": float(accuracy_score(labels, predicted)),
        "test_macro_precision": float(macro[0]),
        "test_macro_recall": float(macro[1]),
        "test_macro_f1": float(macro[2]),
        "confusion_matrix": confusion_matrix(labels, predicted, labels=class_ids).tolist(),
        "per_class": {
            name: {
                "precision": float(precision[i]),
                "recall": float(recall[i]),
                "f1": float(f1[i]),
                "support": int(support[i]),
            }
            for i, name in enumerate(class_names)
        },
    }


def history_metrics(history: list[dict[str, float]], best_epoch: int) -> dict[str, Any]:
    """Overfit gap and best-vs-last figures from the per-epoch history.

    The overfit gap is train accuracy minus validation accuracy at ``best_epoch`` (the epoch whose
    weights were evaluated on the test set).
    """
    if not history:
        return {"overfit_gap": None, "best_epoch": None, "last_epoch": None}
    by_epoch = {int(row["epoch"]): row for row in history}
    last = history[-1]
    chosen = by_epoch.get(best_epoch, last)
    train_acc, val_acc = _number(chosen.get("train_accuracy")), _number(chosen.get("val_accuracy"))
    return {
        "best_epoch": int(chosen["epoch"]),
        "last_epoch": int(last["epoch"]),
        "epochs_run": len(history),
        "train_accuracy_at_best": train_acc,
        "val_accuracy_at_best": val_acc,
        "val_loss_at_best": _number(chosen.get("val_loss")),
        "val_accuracy_last": _number(last.get("val_accuracy")),
        "train_accuracy_last": _number(last.get("train_accuracy")),
        "overfit_gap": None if train_acc is None or val_acc is None else train_acc - val_acc,
    }


def _number(value: Any) -> float | None:
    if value is None:
        return None
    value = float(value)
    return None if np.isnan(value) else value
