"""``check(spec)``: everything that stops a spec from running on the torch backend, found before training."""

from __future__ import annotations

import importlib.util
from functools import lru_cache

import torch

from suite.spec.models import ExperimentSpec, ModelSpec, SchedulerSpec
from torch_impl.feature_cache import plan_cache
from torch_impl.freezing import initially_frozen
from torch_impl.models import BuiltModel, build_model, model_problems
from torch_impl.precision import precision_problems
from torch_impl.training import plan_phases

_WARMUP = {"name", "warmup_epochs", "warmup_start_factor"}
_SCHEDULER_FIELDS = {
    "none": _WARMUP,
    "cosine": _WARMUP | {"eta_min"},
    "step": _WARMUP | {"step_size", "gamma"},
    "plateau": {"name", "factor", "patience", "monitor"},
}


def spec_problems(spec: ExperimentSpec) -> list[str]:
    """Every problem found in ``spec`` for this backend (empty list = it can run)."""
    if spec.backend != "torch":
        return [f"backend is {spec.backend!r}, not 'torch'"]
    problems = model_problems(spec.model)
    problems += precision_problems(spec.training)
    problems += _training_problems(spec)
    if not model_problems(spec.model):
        problems += _group_problems(spec)
    return problems


def _training_problems(spec: ExperimentSpec) -> list[str]:
    problems = []
    scheduler, training = spec.training.scheduler, spec.training
    if scheduler.name == "plateau" and scheduler.warmup_epochs:
        problems.append("scheduler 'plateau' cannot be combined with warmup_epochs (torch has no sequential plateau)")
    if training.tensorboard and importlib.util.find_spec("tensorboard") is None:
        problems.append("training.tensorboard needs the tensorboard package (pip install tensorboard)")
    if spec.strategy.finetune is not None and spec.strategy.finetune.unfreeze_last_layers is not None:
        problems.append(
            "strategy.finetune.unfreeze_last_layers counts Keras layers and is Keras-only; "
            "for torch give finetune.unfreeze = 'all' or a list of layer groups"
        )
    if spec.optimizer.momentum and spec.optimizer.name != "sgd":
        problems.append(f"optimizer.momentum applies to sgd only, not {spec.optimizer.name}")
    if spec.model.dropout is not None and spec.model.name != "mlp":
        problems.append("model.dropout sets the mlp's dropout; for other models use head_hidden + head_dropout")
    unused = sorted(
        name
        for name, field in SchedulerSpec.model_fields.items()
        if name not in _SCHEDULER_FIELDS[scheduler.name] and getattr(scheduler, name) != field.default
    )  # a resolved spec sets every field, so "set" means "differs from the default"
    if unused:
        problems.append(f"scheduler {scheduler.name!r} does not use {', '.join(unused)}")
    if spec.dataset.channels == 1 and spec.model.name not in ("mlp", "simple_cnn"):
        problems.append(f"{spec.model.name} takes 3-channel images; set dataset.channels = 3")
    return problems


@lru_cache(maxsize=1)
def _probe(model_json: str, input_shape: tuple[int, int, int]) -> BuiltModel:
    model = ModelSpec.model_validate_json(model_json).model_copy(update={"weights": "none"})
    with torch.random.fork_rng():
        return build_model(model, input_shape, 2)


def shrunk_schedule_notes(spec: ExperimentSpec) -> list[str]:
    """Schedule entries a short run never reaches (not errors: ``--set training.epochs=1`` is a quick check)."""
    notes, epochs = [], spec.training.epochs
    late = sorted(epoch for epoch in spec.strategy.unfreeze_schedule or {} if epoch >= epochs)
    if late:
        notes.append(f"unfreeze_schedule epoch(s) {', '.join(map(str, late))} fall after the last epoch ({epochs - 1})")
    if spec.training.scheduler.warmup_epochs >= epochs:
        notes.append(f"warm-up ({spec.training.scheduler.warmup_epochs} epochs) lasts the whole run ({epochs} epochs)")
    return notes


def _group_problems(spec: ExperimentSpec) -> list[str]:
    size = spec.dataset.image_size or 32
    channels = spec.dataset.channels or (1 if spec.model.name in ("mlp", "simple_cnn") else 3)
    try:
        built = _probe(spec.model.model_dump_json(), (size, size, channels))
    except (ValueError, RuntimeError, TypeError) as exc:
        return [f"cannot build {spec.model.name}: {exc}"]
    names = list(built.groups)
    try:
        frozen = set(initially_frozen(spec.strategy, names))
        phases = plan_phases(spec, names)
    except ValueError as exc:
        return [str(exc)]
    if spec.training.feature_cache is True:
        unfrozen_later = {
            name for phase in phases for groups in [phase.unfreeze, *phase.schedule.values()] for name in groups
        }
        plan = plan_cache(built, frozen - unfrozen_later, spec.strategy.bn_mode)
        if not plan.active:
            return [f"training.feature_cache = true but nothing can be cached: {plan.reason}"]
    return []
