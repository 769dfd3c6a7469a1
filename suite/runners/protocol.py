"""The protocols every backend implements, and the plain data they exchange with the core.

A backend supplies framework primitives only: a :class:`Runner` checks framework facts, describes models
and opens a :class:`TrainingSession` from a :class:`~suite.plan.BuildRequest` and a
:class:`~suite.plan.TrainingPlan` (never the spec); the session builds one model and performs single operations
(make these groups trainable, set these learning rates, one optimisation step on this batch, predict this
batch). The epoch loop, the learning-rate plan, early stopping, timing and metrics live in ``suite``. What a
backend supports is declared in its :class:`~suite.runners.capabilities.RunnerCapabilities`.

The runner packages (``torch_impl/``, ``keras_impl/``) mirror each other: one module name, one job, and the
public names in parentheses in both (a package may add helpers of its framework). The documented differences
between the frameworks are written once, in :mod:`suite.architectures.parity_notes`.

- ``__init__`` (``CAPABILITIES``): registers the runner without importing the framework; declares what it supports.
- ``runner``: the :class:`Runner`: check a spec, list and describe models, weights files, open a session.
- ``session``: the :class:`TrainingSession`: one built model and the primitives the core's loop drives.
- ``checks`` (``check_spec``): framework facts that stop a spec from running here; runs before planning, the only
  module besides ``models/`` that reads the spec.
- ``models/``: the model registry and builders, one module per family; they read the build request's ``ModelSpec``.
- ``data``: the core's numpy batches as the framework's inputs (and outputs back to numpy).
- ``environment`` (``environment``): the process's framework versions and devices (Keras: also its engine).
- ``precision`` (``resolve_precision``): where, in which precision and memory layout the run computes.
- ``seeding`` (``seed_framework``): the plan's seed, and the framework's determinism switches.
- ``optim`` (``build_optimizer``): the plan's optimizer, one learning rate per layer group, torch.optim semantics.
- ``steps`` (``TrainSteps``, ``train_steps``): one optimizer step per batch at the framework's own loop's cost.
- ``freezing`` (``apply_trainable``, ``configure_batchnorm``): which groups train; BatchNorm mode and settings.
- ``peft`` (``attach_lora``, ``apply_peft_trainable``, ``merge_lora``): the plan's PEFT entry on the model.
- ``feature_cache`` (``prefix_model``, ``suffix_model``): the model cut at a group boundary (the feature cache).
- ``params`` (``count_params``): parameter accounting with the suite's meaning.
- ``shared_weights`` (``init_slots``, ``load_weights``, ``export_weights``): the neutral weight layout.
- ``state`` (``save_state``, ``load_state``, ``weights_finite``): the session's resume state.
- ``efficiency`` (``layer_costs``, ``reset_peak_memory``, ``peak_memory_bytes``): per-layer forward costs and the
  accelerator allocator's peak, for the core's efficiency measures (:mod:`suite.efficiency`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

import numpy as np

from suite.spec.models import ExperimentSpec, ModelSpec
from suite.spec.types import FIRST_EPOCH

if TYPE_CHECKING:
    from suite.plan import BuildRequest, TrainingPlan
    from suite.runners.capabilities import RunnerCapabilities

HISTORY_COLUMNS = ("epoch", "train_loss", "train_accuracy", "val_loss", "val_accuracy", "lr", "seconds")
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


@dataclass(frozen=True)
class LayerCost:
    """One layer's forward cost for one image, as a runner counts it (see :mod:`suite.efficiency.flops`).

    ``kind`` is ``conv`` (a standard convolution), ``depthwise``, ``dense`` or ``norm``; ``macs`` are its
    multiply-accumulates per image (0 for ``norm``); ``fan_in`` / ``fan_out`` are ``c_in * k * k`` and ``c_out``
    (``in`` and ``out`` for a dense layer); ``has_bias``: it holds an additive bias (BitFit trains it).
    """

    name: str
    group: str
    kind: str
    macs: int
    fan_in: int = 0
    fan_out: int = 0
    has_bias: bool = False


@dataclass
class ModelDescription:
    """A runner's one answer about a model: counts, ordered groups with their facts, and sharing facts.

    ``sequential``: the groups run one after another on one tensor, so a frozen prefix can be cut off and
    its output cached. ``init_slots``: the neutral weight layout when the architecture exists in every
    backend (empty otherwise); ``parity_note``: why the frameworks' versions are not the same function.
    ``layer_costs``: the costed layers (convolutions, dense and normalisation layers) in definition order,
    for one image at the described input size (:mod:`suite.efficiency`).
    """

    params: ParamCounts
    groups: list[GroupFacts]
    sequential: bool = False
    init_slots: list[InitSlot] = field(default_factory=list)
    parity_note: str | None = None
    layer_costs: list[LayerCost] = field(default_factory=list)

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
            "layer_costs": [cost.__dict__ for cost in self.layer_costs],
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
            layer_costs=[LayerCost(**cost) for cost in data.get("layer_costs", [])],
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
    """Measured one way everywhere (see :mod:`suite.timing`).

    ``*_warmup_seconds``: the steps left out as warm-up (first steps: start-up, kernel selection,
    compilation); ``*_steady_seconds``: the steps the images/s are computed from.
    """

    train_seconds: float
    train_images_per_second: float
    eval_images_per_second: float
    epoch_seconds_mean: float
    warmup_batches_excluded: int
    train_warmup_seconds: float = 0.0
    train_steady_seconds: float = 0.0
    eval_warmup_seconds: float = 0.0
    eval_steady_seconds: float = 0.0

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
    efficiency: dict[str, Any] | None = None


class DeviceFeed(Protocol):
    """How a session takes the core's pixel batches to its device (optional: ``session.device_feed``).

    A session that trains on an accelerator may offer one; the core then hands it pixel inputs
    (:class:`suite.training.batches.PixelInputs`): resized (and augmented) images as uint8 NHWC, and
    ``source.table``, the (256, C) float32 normalised value of every pixel value in every channel, computed
    by :meth:`suite.data.preprocess.Preprocessing.normalize`. The feed copies the pixels to the device and
    normalises there by looking them up (``table[x, c]``), so the batch is bitwise the CPU path's. It keeps
    ``source.inputs`` on the device when ``source.static`` and it fits, gathering each batch there in
    ``order``; otherwise it copies ``source.host_batches`` ahead of the step.
    Sample order, augmentation and resizing stay the core's.
    """

    def batches(self, source: Any, batch_size: int, order: np.ndarray | None, epoch: int | None) -> Any:
        """Iterator of (device batch, numpy labels) for the session's ``train_step``/``predict``/``prefix_features``.

        ``epoch`` set: training batches of that epoch in ``order``; None: evaluation batches, which may be
        padded to ``batch_size`` rows (one compiled shape); the core keeps the first ``len(labels)`` outputs.
        """


class TrainingSession(Protocol):
    """One built model and its optimizer: the framework primitives the core's epoch loop drives.

    Inputs are float32 NHWC arrays (or cached prefix features) and int64 labels, in the order the core
    chose; outputs are plain numpy. Every method acts at once and returns plain values. ``device_feed`` is the
    session's :class:`DeviceFeed` (None when it takes host arrays only, e.g. on a CPU); a session with one also
    takes that feed's device batches as ``inputs``.

    ``train_step`` labels are either (N,) int64 class indices or, when ``dataset.augment`` sets mixup or
    CutMix, (N, C) float32 class probabilities (rows sum to 1): the loss is then the cross-entropy against
    those probabilities (PyTorch: ``F.cross_entropy(logits, probs)``; Keras: categorical cross-entropy from
    logits) and "correct" counts ``argmax(logits) == argmax(labels)``. A backend whose sessions do this declares
    ``soft_labels`` in its :class:`~suite.runners.capabilities.RunnerCapabilities`; the core refuses mixup/CutMix
    for the others. What else is optional is declared there too, never probed.

    ``prepare_for_inference() -> bool`` (backends declaring ``lora``): called by the core once, after training
    and before the timed test pass, when the plan sets LoRA (``plan.peft.lora``); the session merges its low-rank
    adapters into the base weights (``W += scaling * A @ B``, the adapters then unused) and returns True when it
    changed the model. The core times one test pass before and one after it, so both eval img/s are recorded.
    ``open_session``'s ``plan.peft`` (see :mod:`suite.plan.peft`) says which parameters of the frozen groups
    train (``train_only``) and where the adapters go (``lora``); a session applies it on every
    ``begin_phase`` / ``set_trainable``, on top of the :class:`TrainableSet`.

    ``reset_peak_memory()`` and ``peak_memory_bytes()``: the framework allocator's peak on an accelerator since
    the reset (False / None on the CPU, where the core reads the process's resident set); see
    :mod:`suite.efficiency.memory`.
    """

    device_feed: DeviceFeed | None

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

    def prepare_for_inference(self) -> bool:
        """Merge the LoRA adapters into the base weights; True when it changed the model (``lora`` backends)."""

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
        numpy's RNG states itself (see :mod:`suite.training.resume`). Only backends declaring ``resume_state``
        implement it and :meth:`load_state`; the others run, but cannot resume.
        """

    def load_state(self, directory: Path) -> dict[str, Any]:
        """Put back what :meth:`save_state` wrote; returns its ``snapshots`` (usable with :meth:`restore`).

        The core calls it after ``begin_phase`` / ``set_trainable`` applied the trainable set of the saved
        epoch, so the optimizer has the shape it had when the state was saved.
        """

    def reset_peak_memory(self) -> bool:
        """Reset the accelerator allocator's peak; False when training runs on the CPU (nothing to reset)."""

    def peak_memory_bytes(self) -> int | None:
        """The accelerator allocator's peak since :meth:`reset_peak_memory`; None on the CPU."""

    def weights_finite(self) -> bool:
        """True when every weight and buffer is finite (the core checks it after every epoch)."""

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
    """A backend: framework facts, model descriptions, and sessions that train one model.

    ``capabilities`` is the backend's one declaration of what it supports (the core reads it, never probes).
    A runner may also have ``reset_process_state()``: undo what a run leaves in its process (framework sessions,
    default dtypes and policies, determinism switches); a warm worker (:mod:`suite.execution.serve`) calls it
    before each run, so every run starts from the state a fresh process has.
    """

    name: str
    capabilities: RunnerCapabilities

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

    def weights_problem(self, model: ModelSpec, input_shape: tuple[int, int, int], num_classes: int) -> str | None:
        """Why ``model.weights`` (its files on this machine) does not load into ``model``, in one line; else None.

        The preflight asks it for files already here; nothing is downloaded.
        """

    def open_session(
        self,
        request: BuildRequest,
        plan: TrainingPlan,
        initial_weights: list[np.ndarray] | None,
        run_dir: Path,
    ) -> TrainingSession:
        """Seed the framework with ``plan.seed``, build ``request``'s model and return its session.

        The session takes everything else from ``plan`` (optimizer, loss, BatchNorm policy, execution
        settings, PEFT), never from the spec; ``initial_weights``, when given, are loaded in the order of
        the model's ``init_slots``.
        """
