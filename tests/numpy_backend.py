"""A complete backend in plain numpy: a one-hidden-layer network trained by SGD with per-group LRs.

It implements the suite's Runner and TrainingSession protocols with no framework, so the core's plan,
epoch loop, feature cache, timing and executor are tested on their own. Models: ``mlp2`` (trains; also
answers to ``mlp`` so shared init applies), ``sleepy`` (``mlp2`` with a pause per step, for tests that kill runs),
``raise`` (open_session raises), ``crash`` (the process dies with status 3).
"""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any

import numpy as np

from suite.runners.capabilities import RunnerCapabilities
from suite.runners.protocol import GroupFacts, InitSlot, ModelDescription, ParamCounts

HIDDEN = 16
STATE_FILE = "state.npz"
SLEEPY_STEP_SECONDS = 0.05


class NumpySession:
    """SGD on ``hidden`` (dense + ReLU) and ``head`` (dense); records every primitive call in ``calls``.

    ``train_step`` takes (N,) indices or (N, C) probabilities (the runner declares ``soft_labels``).
    """

    def __init__(self, weights: dict[str, np.ndarray], names: list[str]) -> None:
        self.weights = weights
        self.names = names
        self.trainable: tuple[str, ...] = tuple(names)
        self.rates = dict.fromkeys(names, 0.0)
        self.prefix: list[str] | None = None
        self.calls: list[tuple] = []
        self.device_feed = None  # host arrays only

    def reset_peak_memory(self) -> bool:
        return False  # host memory only: the core reads the resident set

    def peak_memory_bytes(self) -> int | None:
        return None

    def synchronize(self) -> None:
        pass

    def begin_phase(self, trainable, rates) -> None:
        self.calls.append(("begin_phase", trainable.groups, dict(rates)))
        self.trainable, self.rates = trainable.groups, dict(rates)

    def set_trainable(self, trainable) -> None:
        self.calls.append(("set_trainable", trainable.groups))
        self.trainable = trainable.groups

    def set_learning_rates(self, rates) -> None:
        self.calls.append(("set_learning_rates", dict(rates)))
        self.rates = dict(rates)

    def _hidden(self, x: np.ndarray) -> np.ndarray:
        return np.maximum(x.reshape(len(x), -1) @ self.weights["w1"] + self.weights["b1"], 0.0)

    def _forward(self, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        hidden = x if self.prefix else self._hidden(x)
        return hidden, hidden @ self.weights["w2"] + self.weights["b2"]

    def train_step(self, inputs: np.ndarray, labels: np.ndarray) -> tuple[float, int]:
        time.sleep(getattr(self, "step_pause", 0.0))
        hidden, logits = self._forward(inputs)
        shifted = logits - logits.max(1, keepdims=True)
        probs = np.exp(shifted) / np.exp(shifted).sum(1, keepdims=True)
        targets = labels if labels.ndim == 2 else np.eye(probs.shape[1])[labels]
        loss = float(-(targets * np.log(probs)).sum(1).mean())
        grad = (probs - targets) / len(labels)
        grads = {"w2": hidden.T @ grad, "b2": grad.sum(0)}
        if "hidden" in self.trainable and not self.prefix:
            back = (grad @ self.weights["w2"].T) * (hidden > 0)
            grads.update(w1=inputs.reshape(len(inputs), -1).T @ back, b1=back.sum(0))
        for key, value in grads.items():
            group = "hidden" if key.endswith("1") else "head"
            if group in self.trainable:
                self.weights[key] = self.weights[key] - self.rates[group] * value
        return loss, int((logits.argmax(1) == (targets.argmax(1) if labels.ndim == 2 else labels)).sum())

    def predict(self, inputs: np.ndarray) -> np.ndarray:
        return self._forward(inputs)[1].astype(np.float32)

    def prefix_features(self, groups, inputs):
        assert list(groups) == ["hidden"]
        return self._hidden(inputs).astype(np.float32)

    def use_prefix_cache(self, groups) -> None:
        self.calls.append(("use_prefix_cache", groups))
        self.prefix = list(groups) if groups else None

    def snapshot(self):
        return {key: value.copy() for key, value in self.weights.items()}

    def restore(self, snapshot) -> None:
        self.weights = {key: value.copy() for key, value in snapshot.items()}

    def save_checkpoint(self, directory: Path, name: str) -> Path:
        directory.mkdir(parents=True, exist_ok=True)
        path = directory / f"{name}.npz"
        np.savez(path, **self.weights)
        return path

    def export_weights(self) -> list[np.ndarray]:
        return [self.weights[key] for key in ("w1", "b1", "w2", "b2")]

    def param_counts(self) -> ParamCounts:
        sizes = {"hidden": self.weights["w1"].size + HIDDEN, "head": self.weights["w2"].size + self.weights["b2"].size}
        groups = {name: {"total": n, "trainable": n if name in self.trainable else 0} for name, n in sizes.items()}
        total = sum(sizes.values())
        trainable = sum(group["trainable"] for group in groups.values())
        return ParamCounts(total, trainable, total - trainable, 0, groups)

    def details(self) -> dict:
        return {"framework": "numpy"}

    def environment(self) -> dict:
        return {"frameworks": {"numpy": np.__version__}}

    def close(self) -> None:
        self.calls.append(("close",))

    def save_state(self, directory: Path, snapshots: dict[str, Any]) -> None:
        arrays = {f"weights/{key}": value for key, value in self.weights.items()}
        for name, snapshot in snapshots.items():
            arrays.update({f"snapshot/{name}/{key}": value for key, value in snapshot.items()})
        np.savez(directory / STATE_FILE, **arrays)

    def load_state(self, directory: Path) -> dict[str, Any]:
        self.calls.append(("load_state",))
        with np.load(directory / STATE_FILE, allow_pickle=False) as loaded:
            arrays = {key: loaded[key] for key in loaded.files}
        self.weights = {key.split("/")[1]: value for key, value in arrays.items() if key.startswith("weights/")}
        snapshots: dict[str, Any] = {}
        for key, value in arrays.items():
            if key.startswith("snapshot/"):
                _, name, weight = key.split("/")
                snapshots.setdefault(name, {})[weight] = value
        return snapshots

    def weights_finite(self) -> bool:
        return all(np.isfinite(value).all() for value in self.weights.values())


NUMPY_CAPABILITIES = RunnerCapabilities(
    resume_state=True, feature_cache=True, soft_labels=True, models="mlp2, mlp, sleepy, raise, crash"
)


class NumpyRunner:
    """The Runner for :class:`NumpySession`; the last opened session is kept in ``session`` for tests."""

    name = "numpy"
    capabilities = NUMPY_CAPABILITIES

    def __init__(self) -> None:
        self.session: NumpySession | None = None

    def check(self, spec) -> list[str]:
        return (
            []
            if spec.model.name in ("mlp", "mlp2", "sleepy", "raise", "crash")
            else [f"numpy has no model {spec.model.name!r}"]
        )

    def list_models(self) -> dict[str, str]:
        return {
            "mlp2": "dense 16 + ReLU -> dense (plain numpy)",
            "mlp": "the same as mlp2 (so shared init applies)",
            "sleepy": "mlp2 with a pause per training step",
            "raise": "open_session raises",
            "crash": "the worker process dies with status 3",
        }

    def describe(self, model, input_shape, num_classes) -> ModelDescription:
        features = int(np.prod(input_shape))
        sizes = {"hidden": features * HIDDEN + HIDDEN, "head": HIDDEN * num_classes + num_classes}
        counts = ParamCounts(
            sum(sizes.values()), sum(sizes.values()), 0, 0, {k: {"total": v, "trainable": v} for k, v in sizes.items()}
        )
        slots = [
            InitSlot("hidden.0.dense_kernel", "dense_kernel", (features, HIDDEN), features),
            InitSlot("hidden.0.bias", "bias", (HIDDEN,), features),
            InitSlot("head.0.dense_kernel", "dense_kernel", (HIDDEN, num_classes), HIDDEN),
            InitSlot("head.0.bias", "bias", (num_classes,), HIDDEN),
        ]
        groups = [GroupFacts("hidden", sizes["hidden"]), GroupFacts("head", sizes["head"])]
        return ModelDescription(counts, groups, sequential=True, init_slots=slots)

    def open_session(self, request, plan, initial_weights, run_dir) -> NumpySession:
        name = request.model.name
        if name == "raise":
            raise RuntimeError("boom: the runner failed on purpose")
        if name == "crash":
            os._exit(3)
        description = self.describe(request.model, request.input_shape, request.num_classes)
        if initial_weights is None:
            from suite.architectures.shared_init import draw_initial_weights

            initial_weights = draw_initial_weights(description.init_slots, plan.seed + 1)
        weights = dict(zip(("w1", "b1", "w2", "b2"), (w.astype(np.float64) for w in initial_weights), strict=True))
        self.session = NumpySession(weights, description.group_names)
        self.session.step_pause = SLEEPY_STEP_SECONDS if name == "sleepy" else 0.0
        return self.session
