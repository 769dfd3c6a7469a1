"""The plan's typed sections: what a runner builds and applies, every value resolved from the spec once.

Each section is a frozen dataclass filled by :func:`suite.plan.plan.build_plan`; a runner reads these and
never the spec. Values whose framework defaults differ (Adam's epsilon and betas, BatchNorm momentum and
epsilon) are written out, so both runners use the same numbers.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from suite.spec.models import ExperimentSpec, OptimizerSpec
from suite.spec.types import Precision

ADAM_BETAS = (0.9, 0.999)  # torch.optim.Adam / AdamW defaults; Keras' are the same, stated for both


@dataclass(frozen=True)
class OptimizerPlan:
    """The optimizer, with torch.optim's semantics in every runner (see :mod:`keras_impl.optim`).

    ``epsilon`` and ``betas`` apply to ``adam``/``adamw`` (torch's eps default is 1e-8, Keras' 1e-7);
    ``momentum``/``nesterov`` to ``sgd``. ``grad_clip``: global-norm clipping (torch's ``clip_grad_norm_``).
    """

    name: Literal["adam", "adamw", "sgd"]
    weight_decay: float
    momentum: float
    nesterov: bool
    epsilon: float
    betas: tuple[float, float]
    grad_clip: float | None


@dataclass(frozen=True)
class LossPlan:
    """Cross-entropy from logits; ``soft_labels``: mixup/CutMix send (N, C) class probabilities, not indices."""

    name: Literal["cross_entropy"]
    soft_labels: bool


@dataclass(frozen=True)
class BatchNormPlan:
    """``mode`` of frozen groups' BatchNorm (``frozen`` = inference mode); ``momentum`` in torch's convention.

    torch's ``momentum`` is the weight of the new batch; Keras' is the weight of the running value, so the
    Keras runner sets ``1 - momentum``.
    """

    mode: Literal["frozen", "train"]
    momentum: float
    epsilon: float


@dataclass(frozen=True)
class ExecutionPlan:
    """Where and how the runner computes: the engine, device, precision, layout, compilation and determinism.

    ``device``/``precision``/``channels_last`` may say ``auto``: the runner resolves them on its hardware
    (CUDA when present; bf16 where native; channels-last for convolutional networks) and records the result.
    """

    backend: str
    engine: str | None
    device: Literal["auto", "cpu", "cuda"]
    precision: Precision
    channels_last: Literal["auto"] | bool
    compile: bool
    deterministic: bool


@dataclass(frozen=True)
class FeatureCachePlan:
    """Whether the output of the leading ``groups`` is computed once and fed back every epoch, and why (not)."""

    active: bool
    groups: list[str]
    reason: str


@dataclass(frozen=True)
class BatchOrderPlan:
    """The suite shuffles with ``seed`` and hands batches of ``batch_size`` (evaluation: ``eval_batch_size``)."""

    source: Literal["suite"]
    seed: int
    batch_size: int
    eval_batch_size: int
    shuffle: bool


@dataclass(frozen=True)
class EarlyStoppingPlan:
    """Stop after ``patience`` epochs without an improvement of ``monitor`` by more than ``min_delta``."""

    monitor: Literal["val_loss", "val_accuracy"]
    patience: int
    min_delta: float
    restore_best: bool


@dataclass(frozen=True)
class PlateauPlan:
    """Multiply the LRs by ``factor`` after ``patience`` epochs without an improvement of ``monitor``."""

    monitor: Literal["val_loss", "val_accuracy"]
    factor: float
    patience: int


def optimizer_plan(optimizer: OptimizerSpec, grad_clip: float | None = None) -> OptimizerPlan:
    """The ``optimizer`` section with ``training.grad_clip``, resolved."""
    return OptimizerPlan(
        name=optimizer.name,
        weight_decay=optimizer.weight_decay,
        momentum=optimizer.momentum,
        nesterov=optimizer.nesterov,
        epsilon=optimizer.epsilon,
        betas=ADAM_BETAS,
        grad_clip=grad_clip,
    )


def loss_plan(spec: ExperimentSpec) -> LossPlan:
    """Cross-entropy; on class probabilities when ``dataset.augment`` mixes images (mixup / CutMix)."""
    augment = spec.dataset.augment
    return LossPlan("cross_entropy", soft_labels=augment is not None and augment.soft_labels)


def batchnorm_plan(spec: ExperimentSpec) -> BatchNormPlan:
    """``strategy.bn_mode`` with ``model.bn_momentum`` and ``model.bn_epsilon``."""
    return BatchNormPlan(spec.strategy.bn_mode, spec.model.bn_momentum, spec.model.bn_epsilon)


def execution_plan(spec: ExperimentSpec) -> ExecutionPlan:
    """The backend, engine and ``training``'s device, precision, layout, compile and determinism settings."""
    training = spec.training
    return ExecutionPlan(
        backend=spec.backend,
        engine=spec.engine,
        device=training.device,
        precision=training.precision,
        channels_last=training.channels_last,
        compile=training.compile,
        deterministic=training.deterministic,
    )


def batch_order_plan(spec: ExperimentSpec) -> BatchOrderPlan:
    """The suite's batch order: shuffled with the run's seed."""
    training = spec.training
    eval_batch_size = training.eval_batch_size or training.batch_size
    return BatchOrderPlan("suite", spec.seed, training.batch_size, eval_batch_size, shuffle=True)


def early_stopping_plan(spec: ExperimentSpec) -> EarlyStoppingPlan | None:
    """``training.early_stopping`` (None without it)."""
    stop = spec.training.early_stopping
    return None if stop is None else EarlyStoppingPlan(stop.monitor, stop.patience, stop.min_delta, stop.restore_best)


def plateau_plan(spec: ExperimentSpec) -> PlateauPlan | None:
    """The ``plateau`` scheduler's rule (None for every other scheduler)."""
    scheduler = spec.training.scheduler
    if scheduler.name != "plateau":
        return None
    return PlateauPlan(scheduler.monitor, scheduler.factor, scheduler.patience)
