"""The protocols every backend implements, and the plain data they exchange with the core.

A backend supplies framework primitives only: a :class:`Runner` checks framework facts, describes models
and opens a :class:`TrainingSession`; the session builds one model and performs single operations
(make these groups trainable, set these learning rates, one optimisation step on this batch, predict this
batch). The epoch loop, the learning-rate plan, early stopping, timing and metrics live in ``suite``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from suite.spec.models import ExperimentSpec, ModelSpec

HISTORY_COLUMNS = ("epoch", "train_loss", "train_accuracy", "val_loss", "val_accuracy", "lr", "seconds")
FIRST_EPOCH = 1
"""Epochs are numbered from 1 wherever a user reads them: the console, ``history.csv``, ``result.json``
(``best_epoch``, ``last_epoch``, ``*_at_epoch``, ``resumed_from_epoch``), TensorBoard, MLflow and the report.
Inside a process (the plan, the loop, :class:`RunOutput`) an epoch is an index from 0; :func:`epoch_number`
turns one into the other at the edge."""
TRACKED_NAMES = {"seconds": "epoch_seconds"}
"""History columns whose tracked name differs (the rest, ``lr_<group>`` included, keep theirs)."""
STEP_LOSS = "train_loss_step"
"""The training loss logged every ``log_every_n_steps`` steps (TensorBoard; step = global step)."""


def epoch_number(index: int) -> int:
    """The number users read (from 1, :data:`FIRST_EPOCH`) of the epoch with 0-based ``index``."""
    return int(index) + FIRST_EPOCH


def numbered_history(history: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """History rows with their ``epoch`` as users read it (:func:`epoch_number`), for ``history.csv``."""
    return [{**row, "epoch": epoch_number(row["epoch"])} for row in history]


def tracked_name(column: str) -> str:
    """The one name every tracker (MLflow, TensorBoard) logs a ``history.csv`` column under."""
    return TRACKED_NAMES.get(column, column)


@dataclass
class ParamCounts:
    """Parameter accounting with one meaning across frameworks.

    ``total`` = ``trainable`` + ``frozen`` counts learnable weights only; ``buffers`` counts
    non-learnable state such as BatchNorm moving statistics, reported separately.
    ``groups`` maps a layer-group name to ``{"total": n, "trainable": n}``.
    """

    total: int
    trainable: int
    frozen: int
    buffers: int = 0
    groups: dict[str, dict[str, int]] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """Plain-data form for result.json."""
        return {
            "total": self.total,
            "trainable": self.trainable,
            "frozen": self.frozen,
            "buffers": self.buffers,
            "groups": self.groups,
        }


@dataclass(frozen=True)
class GroupFacts:
    """What the plan needs to know about one layer group: its size and the layers that change behaviour."""

    name: str
    params: int
    has_batchnorm: bool = False
    has_dropout: bool = False


@dataclass(frozen=True)
class InitSlot:
    """One learnable array of a shared architecture, in the neutral layout (see :mod:`suite.architectures.shared_init`).

    ``kind`` is ``dense_kernel`` (in, out), ``conv_kernel`` (kh, kw, in, out), ``depthwise_kernel``
    (kh, kw, in, 1), ``bias``, ``bn_gamma``, ``bn_beta``, ``bn_mean`` or ``bn_var``; ``fan_in`` sets the
    scale of the draw for kernels and biases.
    """

    name: str
    kind: str
    shape: tuple[int, ...]
    fan_in: int = 1


@dataclass
class ModelDescription:
    """A runner's one answer about a model: counts, ordered groups with their facts, and sharing facts.

    ``sequential``: the groups run one after another on one tensor, so a frozen prefix can be cut off and
    its output cached. ``init_slots``: the neutral weight layout when the architecture exists in every
    backend (empty otherwise); ``parity_note``: why the frameworks' versions are not the same function.
    """

    params: ParamCounts
    groups: list[GroupFacts]
    sequential: bool = False
    init_slots: list[InitSlot] = field(default_factory=list)
    parity_note: str | None = None

    @property
    def group_names(self) -> list[str]:
        """Group names, input to output (``"head"`` last)."""
        return [group.name for group in self.groups]

    def to_dict(self) -> dict[str, Any]:
        """Plain data (CLI ``describe``, introspection across processes)."""
        return {
            **self.params.to_dict(),
            "group_facts": [group.__dict__ for group in self.groups],
            "sequential": self.sequential,
            "init_slots": [{**slot.__dict__, "shape": list(slot.shape)} for slot in self.init_slots],
            "parity_note": self.parity_note,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ModelDescription:
        """Inverse of :meth:`to_dict`."""
        counts = ParamCounts(data["total"], data["trainable"], data["frozen"], data["buffers"], data["groups"])
        return cls(
            params=counts,
            groups=[GroupFacts(**group) for group in data["group_facts"]],
            sequential=data["sequential"],
            init_slots=[InitSlot(**{**slot, "shape": tuple(slot["shape"])}) for slot in data["init_slots"]],
            parity_note=data["parity_note"],
        )


@dataclass(frozen=True)
class TrainableSet:
    """Which layer groups train; the rest are frozen.

    ``frozen_bn_inference``: BatchNorm layers of frozen groups run in inference mode (``bn_mode = "frozen"``).
    ``last_layers``: additionally unfreeze the backbone's last N framework layers (Keras' seed-003 recipe).
    """

    groups: tuple[str, ...]
    frozen_bn_inference: bool = True
    last_layers: int | None = None


@dataclass
class Timing:
    """Measured one way everywhere (see :mod:`suite.timing`)."""

    train_seconds: float
    train_images_per_second: float
    eval_images_per_second: float
    epoch_seconds_mean: float
    warmup_batches_excluded: int

    def to_dict(self) -> dict[str, float]:
        """Plain-data form for result.json."""
        return dict(self.__dict__)


@dataclass
class RunOutput:
    """What a run produces. Metrics are computed from it in ``suite.metrics``, never by a runner.

    ``history`` holds one dict per epoch with keys :data:`HISTORY_COLUMNS` (plus optional extras);
    ``test_scores`` is (N, C) class probabilities in the order of ``bundle.test``;
    ``best_epoch`` is the epoch whose weights produced the test predictions (a 0-based index, as in ``history``;
    what users read counts from 1, :data:`FIRST_EPOCH`);
    ``resumed_from_epoch`` is the epoch the last attempt started from (None: never resumed) and ``resumes``
    how many times the run continued from a resume state.
    """

    history: list[dict[str, float]]
    test_labels: np.ndarray
    test_scores: np.ndarray
    params: ParamCounts
    timing: Timing
    environment: dict[str, Any]
    best_epoch: int
    extra: dict[str, Any] = field(default_factory=dict)
    resumed_from_epoch: int | None = None
    resumes: int = 0


class TrainingSession(Protocol):
    """One built model and its optimizer: the framework primitives the core's epoch loop drives.

    Inputs are float32 NHWC arrays (or cached prefix features) and int64 labels, in the order the core
    chose; outputs are plain numpy. Every method acts at once and returns plain values.

    ``train_step`` labels are either (N,) int64 class indices or, when ``dataset.augment`` sets mixup or
    CutMix, (N, C) float32 class probabilities (rows sum to 1): the loss is then the cross-entropy against
    those probabilities (PyTorch: ``F.cross_entropy(logits, probs)``; Keras: categorical cross-entropy from
    logits) and "correct" counts ``argmax(logits) == argmax(labels)``. A session that does this sets
    ``accepts_soft_labels = True``; the core refuses mixup/CutMix for sessions without it.

    Optional ``prepare_for_inference() -> bool``: called by the core once, after training and before the timed
    test pass, when the plan sets LoRA (``plan["peft"]["lora"]``); the session merges its low-rank adapters into
    the base weights (``W += scaling * A @ B``, the adapters then unused) and returns True when it changed the
    model. The core times one test pass before and one after it, so both eval img/s are recorded.
    ``open_session``'s ``plan["peft"]`` (see :mod:`suite.plan.peft`) says which parameters of the frozen groups
    train (``train_only``) and where the adapters go (``lora``); a session applies it on every
    ``begin_phase`` / ``set_trainable``, on top of the :class:`TrainableSet`.
    """

    def synchronize(self) -> None:
        """Wait for queued device work (a no-op on the CPU); the core calls it before reading a clock."""

    def begin_phase(self, trainable: TrainableSet, rates: dict[str, float]) -> None:
        """Apply ``trainable`` and start a fresh optimizer with one learning rate per group."""

    def set_trainable(self, trainable: TrainableSet) -> None:
        """Change which groups train; groups already training keep their optimizer state, new ones start fresh."""

    def set_learning_rates(self, rates: dict[str, float]) -> None:
        """Set every group's learning rate (takes effect from the next step)."""

    def train_step(self, inputs: np.ndarray, labels: np.ndarray) -> tuple[float, int]:
        """One optimisation step in training mode: (mean loss over the batch, correctly classified count).

        ``labels``: (N,) int64 indices, or (N, C) float32 probabilities (mixup/CutMix; see the class docstring).
        """

    def predict(self, inputs: np.ndarray) -> np.ndarray:
        """Inference-mode logits (N, C) as float32."""

    def prefix_features(self, groups: list[str], inputs: np.ndarray) -> np.ndarray:
        """Output of the leading ``groups`` for ``inputs`` in inference mode (the feature cache's values)."""

    def use_prefix_cache(self, groups: list[str] | None) -> None:
        """From now on ``train_step``/``predict`` take the output of ``groups`` (None: raw inputs again)."""

    def snapshot(self) -> Any:
        """A copy of every weight and buffer, for :meth:`restore`."""

    def restore(self, snapshot: Any) -> None:
        """Put back the weights of :meth:`snapshot`."""

    def save_checkpoint(self, directory: Path, name: str) -> Path:
        """Write the weights as ``directory/name.<framework extension>``; returns the path."""

    def save_state(self, directory: Path, snapshots: dict[str, Any]) -> None:
        """Write everything a new process needs to continue training exactly, into the existing ``directory``.

        That is every weight and buffer (BatchNorm statistics, Keras SeedGenerator states), the optimizer's
        state (slots, step counts, learning rates; a loss scaler), the framework's RNG states, and the named
        :meth:`snapshot` values in ``snapshots``. The core makes the files durable and writes python's and
        numpy's RNG states itself (see :mod:`suite.training.resume`). A session without this method and
        :meth:`load_state` runs, but cannot resume.
        """

    def load_state(self, directory: Path) -> dict[str, Any]:
        """Put back what :meth:`save_state` wrote; returns its ``snapshots`` (usable with :meth:`restore`).

        The core calls it after ``begin_phase`` / ``set_trainable`` applied the trainable set of the saved
        epoch, so the optimizer has the shape it had when the state was saved.
        """

    def weights_finite(self) -> bool:
        """True when every weight and buffer is finite (optional: the core checks it after every epoch)."""

    def export_weights(self) -> list[np.ndarray]:
        """Learnable weights in the neutral layout of the model's ``init_slots`` (shared architectures only)."""

    def param_counts(self) -> ParamCounts:
        """Counts in the current trainable state."""

    def details(self) -> dict[str, Any]:
        """Framework facts worth keeping in result.json (precision, device, compile, ...)."""

    def environment(self) -> dict[str, Any]:
        """Machine and framework versions, the device and its name."""

    def close(self) -> None:
        """Release what the session holds (writers, device memory)."""


class Runner(Protocol):
    """A backend: framework facts, model descriptions, and sessions that train one model."""

    name: str

    def check(self, spec: ExperimentSpec) -> list[str]:
        """Framework facts that stop this spec from running here (empty when it can run)."""

    def list_models(self) -> dict[str, str]:
        """Model names this runner builds, with a one-line description."""

    def describe(self, model: ModelSpec, input_shape: tuple[int, int, int], num_classes: int) -> ModelDescription:
        """Counts, ordered groups (with facts) and sharing facts of ``model`` for this input and class count."""

    def weights_files(self, model: ModelSpec, image_size: int, download: bool) -> list[dict[str, Any]]:
        """The files the framework's own loader reads for ``model.weights`` (``suite prefetch``).

        One ``{"path", "present", "source"}`` per file (``source``: its URL, or who downloads it); with
        ``download`` a missing file is fetched first by that loader into the framework's normal cache.
        Empty for random weights.
        """

    def open_session(
        self,
        spec: ExperimentSpec,
        plan: dict[str, Any],
        input_shape: tuple[int, int, int],
        num_classes: int,
        initial_weights: list[np.ndarray] | None,
        run_dir: Path,
    ) -> TrainingSession:
        """Seed the framework, build ``spec.model`` with the plan's hyper-parameters and return its session.

        ``plan`` is the plan's plain-data form (``TrainingPlan.to_dict()``): ``hyperparameters`` holds the
        values both frameworks must use (Adam epsilon, BatchNorm momentum and epsilon); ``initial_weights``,
        when given, are loaded in the order of the model's ``init_slots``.
        """
