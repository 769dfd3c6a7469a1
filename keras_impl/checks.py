"""``KerasRunner.check``: every spec setting this runner cannot honour becomes a clear problem."""

from __future__ import annotations

import importlib.util
from functools import cache
from pathlib import Path

from keras_impl.backend_info import backend_name, gpu_names
from keras_impl.freezing import frozen_groups
from keras_impl.models import build_model, get_model_entry
from suite.spec.models import ExperimentSpec, ModelSpec, SchedulerSpec

DEFAULT_KERAS_BACKEND = "tensorflow"
_CHECK_INPUT_SHAPE = (32, 32, 3)  # smallest size every keras.applications model builds at


def check_spec(spec: ExperimentSpec) -> list[str]:
    """Problems that stop ``spec`` from running on the Keras runner in this process (empty = runnable)."""
    problems = _backend_problems(spec)
    if problems:
        return problems
    problems += _model_problems(spec.model)
    if spec.dataset.channels == 1 and spec.model.name not in ("mlp", "simple_cnn"):
        problems.append(f"{spec.model.name} takes 3-channel images; set dataset.channels = 3")
    problems += _strategy_problems(spec)
    problems += _training_problems(spec)
    if not problems and _needs_group_names(spec):
        problems += _group_problems(spec)
    return problems


def _backend_problems(spec: ExperimentSpec) -> list[str]:
    if spec.backend != "keras":
        return [f"backend is {spec.backend!r}, not 'keras'"]
    wanted = spec.keras_backend or DEFAULT_KERAS_BACKEND
    if importlib.util.find_spec(wanted) is None:
        return [f"keras backend '{wanted}' unavailable: pip install {wanted}"]
    active = backend_name()
    if active != wanted:
        return [
            f"Keras in this process runs on backend '{active}' but the spec asks for '{wanted}': "
            f"set KERAS_BACKEND={wanted} before keras is imported (the executor does so in each run's process)"
        ]
    return []


def _model_problems(model: ModelSpec) -> list[str]:
    try:
        entry = get_model_entry(model.name)
    except KeyError as error:
        return [str(error.args[0])]
    problems = []
    if model.dropout is not None and model.name != "mlp":
        problems.append("model.dropout sets the mlp's dropout; for other models use head_hidden + head_dropout")
    if model.depth is not None:
        problems.append(f"model.depth is not used by keras model '{model.name}'; pick a named variant instead")
    if not entry.pretrained:
        if model.weights != "none":
            problems.append(f"keras model '{model.name}' trains from scratch: model.weights must be 'none'")
        if model.head != "default" or model.head_hidden:
            problems.append(f"keras model '{model.name}' has a fixed head: leave model.head / head_hidden unset")
    elif model.weights not in ("none", "imagenet") and not Path(model.weights).expanduser().is_file():
        problems.append(f"model.weights = '{model.weights}' is not 'none', 'imagenet' or an existing weights file")
    return problems


def _strategy_problems(spec: ExperimentSpec) -> list[str]:
    strategy = spec.strategy
    problems = []
    if strategy.discriminative_lr is not None:
        problems.append(
            "strategy.discriminative_lr is not supported by the keras runner (Keras 3 optimizers take one "
            "learning rate for all variables); use the torch backend"
        )
    if strategy.unfreeze_schedule is not None:
        problems.append(
            "strategy.unfreeze_schedule is not supported by the keras runner; use strategy.finetune "
            "(one unfreeze step) or the torch backend"
        )
    return problems


_WARMUP_FIELDS = {"name", "warmup_epochs", "warmup_start_factor"}
SCHEDULER_FIELDS = {  # the same table as the torch runner's: a field the schedule ignores is an error
    "none": _WARMUP_FIELDS,
    "cosine": _WARMUP_FIELDS | {"eta_min"},
    "step": _WARMUP_FIELDS | {"step_size", "gamma"},
    "plateau": {"name", "factor", "patience", "monitor"},
}


def _training_problems(spec: ExperimentSpec) -> list[str]:
    training = spec.training
    problems = _scheduler_problems(spec)
    if training.device == "cuda" and not gpu_names():
        problems.append(f"training.device = 'cuda' but Keras ({backend_name()}) sees no GPU here")
    if training.channels_last is False:
        problems.append("training.channels_last = false: the keras runner is channels_last (NHWC) only")
    if training.feature_cache is True:
        problems.append("training.feature_cache = true is not implemented by the keras runner; use 'auto' or false")
    if training.compile and training.deterministic and backend_name() == "tensorflow":
        problems.append(
            "training.compile with training.deterministic: Keras turns XLA off on TensorFlow while op "
            "determinism is on; drop one of them"
        )
    if spec.optimizer.momentum and spec.optimizer.name != "sgd":
        problems.append(f"optimizer.momentum applies to sgd only, not {spec.optimizer.name}")
    if training.tensorboard and importlib.util.find_spec("tensorflow") is None:
        problems.append("training.tensorboard needs tensorflow (keras.callbacks.TensorBoard writes tf.summary)")
    return problems


def _scheduler_problems(spec: ExperimentSpec) -> list[str]:
    scheduler = spec.training.scheduler
    problems = []
    if scheduler.name == "plateau" and scheduler.warmup_epochs:
        problems.append("scheduler 'plateau' cannot be combined with warmup_epochs")
    # Non-default values only: a resolved spec read back from spec.toml has every field set explicitly.
    unused = sorted(
        name
        for name, field in SchedulerSpec.model_fields.items()
        if name not in SCHEDULER_FIELDS[scheduler.name] and getattr(scheduler, name) != field.default
    )
    if unused:
        problems.append(f"scheduler {scheduler.name!r} does not use {', '.join(unused)}")
    return problems


def _needs_group_names(spec: ExperimentSpec) -> bool:
    strategy = spec.strategy
    finetune = strategy.finetune
    return (
        isinstance(strategy.freeze, list)
        or strategy.freeze_blocks is not None
        or (finetune is not None and isinstance(finetune.unfreeze, list))
    )


def _group_problems(spec: ExperimentSpec) -> list[str]:
    names = model_group_names(spec.model.name)
    try:
        frozen_groups(spec.strategy, names)
    except ValueError as error:
        return [str(error)]
    finetune = spec.strategy.finetune
    if finetune is not None and isinstance(finetune.unfreeze, list):
        unknown = [name for name in finetune.unfreeze if name not in names]
        if unknown:
            return [
                f"strategy.finetune.unfreeze: unknown group(s) {', '.join(unknown)}; this model has: {', '.join(names)}"
            ]
    return []


def model_group_names(model_name: str) -> list[str]:
    """Group names of ``model_name`` (built once, without pretrained weights, at 32x32x3)."""
    return list(_group_names(model_name))


@cache
def _group_names(model_name: str) -> tuple[str, ...]:
    return tuple(build_model(ModelSpec(name=model_name), _CHECK_INPUT_SHAPE, 10).group_names)
