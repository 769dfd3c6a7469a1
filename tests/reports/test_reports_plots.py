from pathlib import Path

import numpy as np
import pandas as pd

from reports import plots_study
from reports.plots_study import Curve
from suite.plots import run_plots as plots_run

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def _is_png(path: Path) -> bool:
    return path.is_file() and path.stat().st_size > 1000 and path.read_bytes()[:8] == PNG_SIGNATURE


def _history(train: list[float], val: list[float], lr: list[float] | None = None) -> pd.DataFrame:
    epochs = range(len(train))
    data = {
        "epoch": list(epochs),
        "train_loss": [1 - a for a in train],
        "train_accuracy": train,
        "val_loss": [1 - a for a in val],
        "val_accuracy": val,
    }
    if lr is not None:
        data["lr"] = lr
    return pd.DataFrame(data)


def test_pareto_front_by_hand() -> None:
    cost = np.array([10.0, 1.0, 5.0, 100.0, 5.0])
    accuracy = np.array([0.8, 0.5, 0.7, 0.79, 0.6])
    # by rising cost: 1 (0.5) kept, 5 (0.7) kept, 5 (0.6) dominated, 10 (0.8) kept, 100 (0.79) dominated
    assert plots_study.pareto_front(cost, accuracy) == [1, 2, 0]


def test_normalise_rows_and_empty_rows() -> None:
    normalised = plots_run.normalise_rows(np.array([[3, 1], [0, 0]]))
    assert normalised.tolist() == [[0.75, 0.25], [0.0, 0.0]]


def test_confusion_from_predictions() -> None:
    labels = np.array([0, 1, 1, 2])
    scores = np.array([[0.9, 0.1, 0], [0.2, 0.7, 0.1], [0.6, 0.3, 0.1], [0, 0, 1]])
    matrix = plots_run.confusion_from_predictions(labels, scores, 3)
    assert matrix.tolist() == [[1, 0, 0], [1, 1, 0], [0, 0, 1]]


def test_run_plots_are_written(tmp_path: Path) -> None:
    history = _history([0.5, 0.8, 0.9], [0.45, 0.7, 0.72])
    curves = plots_run.learning_curves(history, "run: learning curves", tmp_path / "a" / "curves.png", best_epoch=2)
    names = [f"class {index}" for index in range(12)]
    confusion = plots_run.confusion_matrix(np.eye(12) * 5 + 1, names, "run", tmp_path / "confusion.png")
    one_epoch = plots_run.learning_curves(_history([0.5], [0.4]), "one epoch", tmp_path / "one.png", best_epoch=0)
    assert _is_png(curves) and _is_png(confusion) and _is_png(one_epoch)


def test_study_plots_are_written(tmp_path: Path) -> None:
    curves = [
        Curve("a", "#1f77b4", _history([0.5, 0.8, 0.9], [0.45, 0.7, 0.72], [1e-3, 5e-4, 1e-4])),
        Curve("b", "#ff7f0e", _history([0.4, 0.6], [0.4, 0.55], [1e-3, 1e-3])),
    ]
    configs = pd.DataFrame(
        {
            "config_name": ["x", "y", "z"],
            "backend_label": ["torch", "keras/jax", "torch"],
            "test_acc": [0.8, 0.9, 0.7],
            "trainable": [1e3, 1e6, 5e4],
        }
    )
    written = [
        plots_study.overlaid_curves(curves, tmp_path / "curves.png"),
        plots_study.gap_curves(curves, tmp_path / "gap.png"),
        plots_study.lr_schedules(curves[:1], tmp_path / "lr.png"),
        plots_study.accuracy_tradeoff(configs, "trainable", "Trainable parameters", "t", tmp_path / "pareto.png"),
    ]
    assert all(_is_png(path) for path in written)


def test_identical_lr_schedules_are_drawn_once() -> None:
    torch_rates = [1e-3, 0.000853553390593, 5e-4]
    keras_rates = [float(np.float32(rate)) for rate in torch_rates]  # same schedule, float32 digits
    curves = [
        Curve("torch", "#000", _history([0.1, 0.2, 0.3], [0.1, 0.2, 0.3], torch_rates)),
        Curve("keras", "#111", _history([0.1, 0.2, 0.3], [0.1, 0.2, 0.3], keras_rates)),
        Curve("step", "#222", _history([0.1, 0.2, 0.3], [0.1, 0.2, 0.3], [1e-3, 1e-4, 1e-5])),
    ]
    groups = plots_study.group_schedules(curves)
    assert [[curve.label for curve in group] for group in groups] == [["torch", "keras"], ["step"]]


def test_group_learning_rates_only_with_per_group_columns(tmp_path: Path) -> None:
    history = _history([0.5, 0.8], [0.4, 0.7], [1e-3, 5e-4])
    assert plots_run.group_learning_rates(history, "no groups", tmp_path / "none.png") is None
    assert not (tmp_path / "none.png").exists()
    history["lr_head"] = [1e-3, 5e-4]
    history["lr_stem"] = [1e-8, 5e-7]  # eta_min above the base rate raises it
    path = plots_run.group_learning_rates(history, "groups", tmp_path / "groups.png")
    assert _is_png(path)
