"""One run from spec to :class:`RunOutput`: build, freeze, load data, fit, test, account."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torchvision
from torch import nn

from suite.data.bundle import DataBundle
from suite.environment import base_environment
from suite.runners.progress import ProgressReporter
from suite.runners.protocol import RunOutput, Timing
from suite.spec.models import ExperimentSpec
from suite.timing import ThroughputMeter
from torch_impl.checks import shrunk_schedule_notes
from torch_impl.data import StreamingSplit, TensorSplit, make_split
from torch_impl.feature_cache import CachePlan, cache_features, plan_cache, split_model
from torch_impl.freezing import initially_frozen, set_requires_grad
from torch_impl.loop import evaluate
from torch_impl.models import BuiltModel, build_model
from torch_impl.params import count_params
from torch_impl.precision import Numerics, resolve_numerics
from torch_impl.tensorboard import TensorBoardLogger
from torch_impl.training import FitState, Phase, fit, plan_phases

WARMUP_TRAIN_BATCHES = 2
WARMUP_EVAL_BATCHES = 1


def is_convolutional(module: nn.Module) -> bool:
    """True when the network holds a convolution (channels-last helps only those)."""
    return any(isinstance(layer, nn.modules.conv._ConvNd) for layer in module.modules())


def execute(spec: ExperimentSpec, data: DataBundle, run_dir: Path, progress: ProgressReporter) -> RunOutput:
    """Train ``spec`` on ``data`` and return test predictions, counts, timings and environment."""
    built = build_model(spec.model, data.input_shape, data.num_classes)
    names = list(built.groups)
    frozen = set(initially_frozen(spec.strategy, names))
    set_requires_grad(built, frozen)
    initial_trainable = count_params(built).trainable
    numerics = resolve_numerics(spec, is_convolutional(built.module))
    built.module.to(numerics.device)
    if numerics.channels_last:
        built.module.to(memory_format=torch.channels_last)
    splits = {
        name: make_split(getattr(data, name), data.preprocessing, numerics.device, numerics.channels_last,
                         spec.training.num_workers)
        for name in ("train", "val", "test")
    }  # fmt: skip
    phases = plan_phases(spec, names)
    for note in shrunk_schedule_notes(spec):
        progress.message(note)
    state, cache_info = _fit_state(spec, built, numerics, splits, phases, frozen, run_dir, progress)
    started = time.perf_counter()
    try:
        fit(state, phases)
    finally:
        if state.logger is not None:
            state.logger.close()
    train_seconds = time.perf_counter() - started + cache_info.get("seconds", 0.0)
    test_meter = ThroughputMeter(WARMUP_EVAL_BATCHES, numerics.synchronize)
    test_model = _maybe_compile(built.module, spec)
    eval_batch = spec.training.eval_batch_size or spec.training.batch_size
    _, _, scores, labels = evaluate(test_model, splits["test"].batches(eval_batch), numerics, test_meter)
    timing = Timing(
        train_seconds=train_seconds,
        train_images_per_second=state.meter.images_per_second,
        eval_images_per_second=test_meter.images_per_second,
        epoch_seconds_mean=float(np.mean([row["seconds"] for row in state.history])),
        warmup_batches_excluded=state.meter.excluded_batches,
    )
    extra = {**_extra(spec, numerics, splits, frozen, cache_info, built), "trainable_params_initial": initial_trainable}
    params = count_params(built)  # after training: what two-phase / gradual unfreezing had unfrozen by the end
    return RunOutput(state.history, labels, scores, params, timing, environment(numerics), state.weights_epoch, extra)


def _fit_state(
    spec: ExperimentSpec,
    built: BuiltModel,
    numerics: Numerics,
    splits: dict[str, TensorSplit | StreamingSplit],
    phases: list[Phase],
    frozen: set[str],
    run_dir: Path,
    progress: ProgressReporter,
) -> tuple[FitState, dict[str, Any]]:
    unfrozen_later = {
        name for phase in phases for groups in [phase.unfreeze, *phase.schedule.values()] for name in groups
    }
    plan = plan_cache(built, frozen - unfrozen_later, spec.strategy.bn_mode)
    forward, train_split, val_split, cache_info = _apply_cache(spec, built, numerics, splits, plan, progress)
    logger = (
        TensorBoardLogger(run_dir / "tensorboard", spec.training.log_every_n_steps)
        if spec.training.tensorboard
        else None
    )
    state = FitState(
        spec, built, numerics, progress, run_dir, set(frozen), _maybe_compile(forward, spec), train_split, val_split,
        ThroughputMeter(WARMUP_TRAIN_BATCHES, numerics.synchronize), logger,
        extra_columns=bool(spec.strategy.unfreeze_schedule or spec.strategy.finetune),
    )  # fmt: skip
    return state, cache_info


def _apply_cache(
    spec: ExperimentSpec,
    built: BuiltModel,
    numerics: Numerics,
    splits: dict[str, TensorSplit | StreamingSplit],
    plan: CachePlan,
    progress: ProgressReporter,
) -> tuple[nn.Module, TensorSplit | StreamingSplit, TensorSplit | StreamingSplit, dict[str, Any]]:
    wanted = spec.training.feature_cache
    if wanted is False or not plan.active:
        return (
            built.module,
            splits["train"],
            splits["val"],
            {"active": False, "reason": plan.reason if wanted else "off"},
        )
    started = time.perf_counter()
    prefix, rest = split_model(built, len(plan.prefix_groups))
    batch = spec.training.eval_batch_size or max(spec.training.batch_size, 64)
    train = cache_features(prefix, splits["train"], numerics, batch)
    val = cache_features(prefix, splits["val"], numerics, batch) if train is not None else None
    if train is None or val is None:
        progress.message("feature cache skipped: cached features would exceed the memory limit")
        return built.module, splits["train"], splits["val"], {"active": False, "reason": "features exceed memory limit"}
    numerics.synchronize()
    seconds = time.perf_counter() - started
    progress.message(f"feature cache: {plan.reason} ({seconds:.1f} s)")
    info = {"active": True, "groups": plan.prefix_groups, "seconds": seconds, "shape": list(train.inputs.shape[1:])}
    return rest, train, val, info


def _maybe_compile(module: nn.Module, spec: ExperimentSpec) -> nn.Module:
    return torch.compile(module) if spec.training.compile else module


def _extra(
    spec: ExperimentSpec,
    numerics: Numerics,
    splits: dict[str, TensorSplit | StreamingSplit],
    frozen: set[str],
    cache_info: dict[str, Any],
    built: BuiltModel,
) -> dict[str, Any]:
    return {
        "precision": numerics.precision,
        "channels_last": numerics.channels_last,
        "compile": spec.training.compile,
        "data_loading": {name: "preloaded" if isinstance(s, TensorSplit) else "streamed" for name, s in splits.items()},
        "frozen_groups_initial": [name for name in built.groups if name in frozen],
        "feature_cache": cache_info,
        "torch_threads": torch.get_num_threads(),
        "param_counts_note": "params are counted at the end of training (trainable = unfrozen by then); "
        "buffers = float buffers only",
    }


def environment(numerics: Numerics) -> dict[str, Any]:
    """Machine facts plus torch/torchvision versions, the device and the GPU name."""
    env = base_environment()
    env["frameworks"] = {"torch": torch.__version__, "torchvision": torchvision.__version__}
    env["device"] = str(numerics.device)
    if numerics.device.type == "cuda":
        env["gpu"] = torch.cuda.get_device_name(numerics.device)
    return env
