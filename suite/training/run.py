"""One run from spec to :class:`~suite.runners.protocol.RunOutput`: plan, session, loop, test, timing.

This is the same code for every backend; the backend only supplies the session's primitives.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np

from suite import store
from suite.architectures.shared_init import draw_initial_weights
from suite.data.bundle import DataBundle
from suite.efficiency import RunCosts, efficiency_record
from suite.efficiency.latency import LatencyProtocol
from suite.efficiency.measure import finished_model_costs
from suite.efficiency.memory import PeakMemory
from suite.plan import BuildRequest, TrainingPlan, build_plan, build_request
from suite.plan.sections import FeatureCachePlan
from suite.runners.capabilities import RunnerCapabilities
from suite.runners.progress import ProgressReporter
from suite.runners.protocol import ModelDescription, Runner, RunOutput, Timing, TrainingSession
from suite.spec.models import ExperimentSpec
from suite.timing import WARMUP_EVAL_BATCHES, ThroughputMeter
from suite.training.batches import (
    PRELOAD_LIMIT_BYTES,
    ArrayInputs,
    has_device_feed,
    make_inputs,
    make_train_inputs,
    order_fingerprint,
    session_batches,
)
from suite.training.evaluation import evaluate_logits, predict_all, probabilities
from suite.training.loop import LoopResult, LoopSettings, train
from suite.training.resume import ResumeStore
from suite.training.stops import Deadline
from suite.training.tensorboard import EpochLogger

PLAN_FILE = "plan.json"
PARITY_PROBE_IMAGES = 8


def plan_for(
    spec: ExperimentSpec, description: ModelDescription, capabilities: RunnerCapabilities | None = None
) -> TrainingPlan:
    """The run's plan (raises ValueError naming the spec key when the spec cannot be planned).

    With the backend's ``capabilities``, a feature cache it does not declare is planned off, with the reason.
    """
    plan = build_plan(spec, description)
    if capabilities is not None and plan.feature_cache.active and not capabilities.feature_cache:
        reason = f"the {spec.backend_label} backend declares no feature cache"
        plan = replace(plan, feature_cache=FeatureCachePlan(False, [], reason))
    return plan


def describe(runner: Runner, request: BuildRequest) -> ModelDescription:
    """``runner``'s description of the model ``request`` builds (its groups feed the plan)."""
    return runner.describe(request.model, request.input_shape, request.num_classes)


def execute(
    spec: ExperimentSpec,
    runner: Runner,
    data: DataBundle,
    run_dir: Path,
    progress: ProgressReporter,
    *,
    deadline: Deadline | None = None,
    on_resume: Callable[[int, int], None] | None = None,
    on_epoch: Callable[[int, dict[str, float]], None] | None = None,
    test: bool = True,
    latency: LatencyProtocol | None = None,
) -> RunOutput:
    """Plan ``spec``, train it through ``runner``'s session and test it; ``plan.json`` goes to ``run_dir``.

    With ``training.resumable`` (and ``run_dir/spec.toml`` present) the loop writes a resume state after
    every epoch and continues from one left by an earlier attempt of the same spec; ``deadline`` stops
    training past ``training.time_limit``. Raises :class:`~suite.training.stops.RunStopped` on divergence
    or timeout, or when ``on_epoch`` (which hears every epoch's history row) raises it. With ``test=False``
    (a tuning trial) the test split is never touched: no parity probe, no test pass, empty test outputs. The
    output's ``efficiency`` holds the run's costs (:mod:`suite.efficiency`; ``latency`` shortens its timing in
    tests).
    """
    problems = runner.capabilities.problems(spec)
    if problems:
        raise ValueError("; ".join(problems))
    run_dir.mkdir(parents=True, exist_ok=True)
    request = build_request(spec, data.input_shape, data.num_classes)
    description = describe(runner, request)
    plan = plan_for(spec, description, runner.capabilities)
    store.write_json(run_dir / PLAN_FILE, plan.to_dict())
    for note in plan.notes:
        progress.message(note)
    initial = draw_initial_weights(description.init_slots, plan.seed) if plan.init == "shared" else None
    session = runner.open_session(request, plan, initial, run_dir)
    try:
        probe = _parity_probe(session, data, description) if test else None
        resume_store = _resume_store(spec, runner.capabilities, run_dir, progress)
        controls = _Controls(deadline, resume_store, on_resume, on_epoch, test, latency)
        output, costs = _train_and_test(spec, plan, session, data, run_dir, progress, controls)
        optimizer = spec.optimizer.model_dump()
        output.efficiency = efficiency_record(description.layer_costs, plan.to_dict(), optimizer, costs)
    finally:
        session.close()
    if probe is not None:
        output.extra["parity_probe"] = probe
    return output


@dataclass(frozen=True)
class _Controls:
    """What the worker adds to a run: deadline, resume state, who hears of a resume and of each epoch, testing.

    ``test`` is False for a tuning trial: the test split is not touched.
    """

    deadline: Deadline | None = None
    resume: ResumeStore | None = None
    on_resume: Callable[[int, int], None] | None = None
    on_epoch: Callable[[int, dict[str, float]], None] | None = None
    test: bool = True
    latency: LatencyProtocol | None = None


def _resume_store(
    spec: ExperimentSpec, capabilities: RunnerCapabilities, run_dir: Path, progress: ProgressReporter
) -> ResumeStore | None:
    """The run's resume store, or None when ``training.resumable`` is off or the backend declares no resume state."""
    if not spec.training.resumable or not (run_dir / store.SPEC_FILE).is_file():
        return None
    if not capabilities.resume_state:
        progress.message(f"not resumable: the {spec.backend_label} backend declares no resume state")
        return None
    return ResumeStore.for_run(run_dir)


def _initial_val_loss(
    spec: ExperimentSpec, plan: TrainingPlan, session: TrainingSession, val_inputs: Any, batch_size: int
) -> float | None:
    """Validation loss before any step, for runs meant to start alike in every backend (shared init or weights)."""
    if plan.init != "shared" and spec.model.weights == "none":
        return None
    return evaluate_logits(*predict_all(session, val_inputs, batch_size))[0]


def _parity_probe(session: TrainingSession, data: DataBundle, description: ModelDescription) -> dict[str, Any]:
    """Logits of the untrained model on the first test images: equal across backends when init is shared.

    The report compares them between the runs of a cross-framework pair (its ``parity`` column).
    """
    images = data.preprocessing.apply(data.test.images[:PARITY_PROBE_IMAGES])
    logits = np.asarray(session.predict(images), dtype=np.float32)
    return {"logits": logits.tolist(), "note": description.parity_note}


def _train_and_test(
    spec: ExperimentSpec,
    plan: TrainingPlan,
    session: TrainingSession,
    data: DataBundle,
    run_dir: Path,
    progress: ProgressReporter,
    controls: _Controls,
) -> tuple[RunOutput, RunCosts]:
    """Train, test and measure the finished model's costs (inference speed, weights file, training peak memory)."""
    initial_trainable = _initial_trainable(plan)
    augmenter = _augmenter(spec, data)
    ids, pixels = data.sample_ids.get("train"), has_device_feed(session)
    train_inputs = make_train_inputs(
        data.train, data.preprocessing, augmenter, ids, spec.training.num_workers, pixels=pixels
    )
    val_inputs = make_inputs(data.val, data.preprocessing, pixels=pixels)
    latency_inputs = make_inputs(data.val, data.preprocessing)  # host images: the test split stays sealed in trials
    eval_batch = plan.batch_order.eval_batch_size
    cache = _apply_feature_cache(plan, session, (train_inputs, val_inputs), eval_batch, progress)
    if cache["active"]:
        train_inputs, val_inputs = cache.pop("inputs")
    settings = LoopSettings(
        seed=plan.batch_order.seed,
        batch_size=plan.batch_order.batch_size,
        eval_batch_size=eval_batch,
        run_dir=run_dir,
        checkpoint=spec.training.checkpoint,
        record_group_lrs=spec.strategy.discriminative_lr is not None,
        record_phases=bool(spec.strategy.unfreeze_schedule or spec.strategy.finetune),
        deadline=controls.deadline,
        resume=controls.resume,
        on_resume=controls.on_resume,
        setup_seconds=cache.get("seconds", 0.0),
        on_epoch=controls.on_epoch,
    )
    initial_val_loss = _initial_val_loss(spec, plan, session, val_inputs, eval_batch)
    logger = None
    if spec.training.tensorboard:
        logger = EpochLogger(run_dir / "tensorboard", spec.training.log_every_n_steps)
    memory = PeakMemory(session)
    try:
        memory.start()
        result = train(session, plan, settings, (train_inputs, val_inputs), progress, logger)
    finally:
        if logger is not None:
            logger.close()
    peak, trained = memory.stop(), session.param_counts().trainable
    session.use_prefix_cache(None)
    test_meter = ThroughputMeter(WARMUP_EVAL_BATCHES, session.synchronize, warm_new_sizes=True)
    unmerged, logits, labels = _test_pass(plan, session, data, eval_batch, test_meter, controls.test)
    extra = _extra(spec, plan, session, result, {k: v for k, v in cache.items() if k != "inputs"}, initial_trainable)
    extra["val_loss_initial"] = initial_val_loss
    if unmerged is not None:
        extra["peft"] = {
            **asdict(plan.peft),
            "eval_images_per_second_unmerged": unmerged,
            "eval_images_per_second_merged": test_meter.images_per_second,
        }
    images = next(latency_inputs.batches(eval_batch))[0]
    costs = finished_model_costs(session, images, eval_batch, peak, trained, controls.latency)
    if augmenter is not None:
        extra["augment"] = augmenter.describe()
        extra["batch_fingerprints"] = [row.get("batch_fingerprint") for row in result.history]
    output = RunOutput(
        history=result.history,
        test_labels=labels.astype(np.int64),
        test_scores=probabilities(logits),
        params=session.param_counts(),
        timing=_timing(result, test_meter),
        environment=session.environment(),
        best_epoch=result.weights_epoch,
        extra=extra,
        resumed_from_epoch=result.resumed_from_epoch,
        resumes=result.resumes,
    )
    return output, costs


def _test_pass(
    plan: TrainingPlan, session: TrainingSession, data: DataBundle, batch_size: int, meter: ThroughputMeter, test: bool
) -> tuple[float | None, np.ndarray, np.ndarray]:
    """(unmerged LoRA eval img/s, test logits, test labels); empty outputs, the split unread, when not ``test``."""
    if not test:
        return None, np.zeros((0, data.num_classes), np.float32), np.zeros(0, np.int64)
    test_inputs = make_inputs(data.test, data.preprocessing, pixels=has_device_feed(session))
    unmerged = _unmerged_eval_speed(plan, session, test_inputs, batch_size)
    logits, labels = predict_all(session, test_inputs, batch_size, meter)
    return unmerged, logits, labels


def _unmerged_eval_speed(
    plan: TrainingPlan, session: TrainingSession, test_inputs: ArrayInputs, batch_size: int
) -> float | None:
    """With LoRA: one timed test pass on the unmerged model, then merge (``prepare_for_inference``).

    Returns the unmerged eval img/s, or None when the plan has no LoRA or the session merges nothing. Only
    backends declaring ``lora`` get a LoRA plan (:meth:`RunnerCapabilities.problems`).
    """
    if not (plan.peft and plan.peft.lora):
        return None
    meter = ThroughputMeter(WARMUP_EVAL_BATCHES, session.synchronize, warm_new_sizes=True)
    predict_all(session, test_inputs, batch_size, meter)
    return meter.images_per_second if session.prepare_for_inference() else None


def _augmenter(spec: ExperimentSpec, data: DataBundle) -> Any:
    """The training-set :class:`~suite.augment.Augmenter`, or None when ``dataset.augment`` sets nothing."""
    if spec.dataset.augment is None or not spec.dataset.augment.active:
        return None
    from suite.augment import Augmenter

    return Augmenter(spec.dataset.augment, spec.seed, data.num_classes)


def _initial_trainable(plan: TrainingPlan) -> int | None:
    return plan.epochs[0].trainable_params if plan.epochs else None


def _apply_feature_cache(
    plan: TrainingPlan,
    session: TrainingSession,
    inputs: tuple[ArrayInputs, ArrayInputs],
    batch_size: int,
    progress: ProgressReporter,
    limit_bytes: int = PRELOAD_LIMIT_BYTES,
) -> dict[str, Any]:
    """Prefix outputs of the train and val splits, computed once; inactive (with the reason) otherwise."""
    decision = plan.feature_cache
    if not decision.active:
        return {"active": False, "reason": decision.reason}
    groups = list(decision.groups)
    session.synchronize()
    started = time.perf_counter()
    cached = []
    for split in inputs:
        features = _prefix_outputs(session, groups, split, max(batch_size, 64), limit_bytes)
        if features is None:
            progress.message("feature cache skipped: cached features would exceed the memory limit")
            return {"active": False, "reason": "features exceed the memory limit"}
        cached.append(ArrayInputs(features, split.labels))
    session.synchronize()
    seconds = time.perf_counter() - started
    session.use_prefix_cache(groups)
    progress.message(f"feature cache: {decision.reason} ({seconds:.1f} s)")
    shape = list(cached[0].inputs.shape[1:])
    return {"active": True, "groups": groups, "seconds": seconds, "shape": shape, "inputs": tuple(cached)}


def _prefix_outputs(
    session: TrainingSession, groups: list[str], split: ArrayInputs, batch_size: int, limit_bytes: int
) -> np.ndarray | None:
    outputs, used = [], 0
    for batch, labels in session_batches(session, split, batch_size):
        output = np.asarray(session.prefix_features(groups, batch), dtype=np.float32)[: len(labels)]
        used += output.nbytes
        if used > limit_bytes:
            return None
        outputs.append(output)
    return np.concatenate(outputs)


def _timing(result: LoopResult, test_meter: ThroughputMeter) -> Timing:
    """:mod:`suite.timing`'s numbers; a resumed run's epochs and feature-cache passes of every attempt count."""
    epoch_seconds = [row["seconds"] for row in result.history]
    return Timing(
        train_seconds=float(sum(epoch_seconds)) + result.setup_seconds,
        train_images_per_second=result.meter.images_per_second,
        eval_images_per_second=test_meter.images_per_second,
        epoch_seconds_mean=float(np.mean(epoch_seconds)) if epoch_seconds else 0.0,
        warmup_batches_excluded=result.meter.excluded_batches,
        train_warmup_seconds=result.meter.warmup_seconds,
        train_steady_seconds=result.meter.steady_seconds,
        eval_warmup_seconds=test_meter.warmup_seconds,
        eval_steady_seconds=test_meter.steady_seconds,
    )


def _extra(
    spec: ExperimentSpec,
    plan: TrainingPlan,
    session: TrainingSession,
    result: LoopResult,
    cache: dict[str, Any],
    initial_trainable: int | None,
) -> dict[str, Any]:
    return {
        **session.details(),
        "init": plan.init,
        "order_fingerprint": order_fingerprint(result.orders),
        "optimizer": asdict(plan.optimizer),
        "batchnorm": asdict(plan.batchnorm),
        "feature_cache": cache,
        "frozen_groups_initial": [name for name in plan.groups if plan.epochs and name not in plan.epochs[0].trainable],
        "trainable_params_initial": initial_trainable,
        "plateau_reductions": result.plateau_reductions,
        "stopped_early": result.stopped_early,
        "timing_protocol": "suite.timing",
        "param_counts_note": "params are counted at the end of training (trainable = unfrozen by then)",
    }
