"""The neutral training plan: computed once from the validated spec and the model's ordered groups.

It fixes, before any framework runs, everything a runner executes, as typed frozen fields: the phases; for every
epoch which groups train and each group's learning rate (stored as segments, so the plan does not grow with
epochs: :mod:`suite.plan.epochs`); the optimizer, loss, BatchNorm policy and execution settings
(:mod:`suite.plan.sections`), with the values whose framework defaults differ written out; PEFT
(:mod:`suite.plan.peft`); whether the frozen-prefix feature cache applies (and why not); the initial weights, the
seed and the batch order. A runner is handed the plan and a :class:`~suite.plan.build_request.BuildRequest`, never
the spec. The plan is stored as ``plan.json``
and printed by ``suite validate --plan``.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, replace
from typing import Any, Literal

from suite.architectures.catalog import architecture, takes_stochastic_depth
from suite.architectures.parity_notes import BATCHNORM_VARIANCE, STOCHASTIC_DEPTH
from suite.plan.epochs import EpochPlan, EpochSchedule, EpochSegment
from suite.plan.peft import PeftPlan, peft_section
from suite.plan.schedule import schedule_plan
from suite.plan.sections import (
    BatchNormPlan,
    BatchOrderPlan,
    EarlyStoppingPlan,
    ExecutionPlan,
    FeatureCachePlan,
    LossPlan,
    OptimizerPlan,
    PlateauPlan,
    batch_order_plan,
    batchnorm_plan,
    early_stopping_plan,
    execution_plan,
    loss_plan,
    optimizer_plan,
    plateau_plan,
)
from suite.runners.protocol import ModelDescription, TrainableSet
from suite.spec.models import ExperimentSpec
from suite.spec.types import FIRST_EPOCH
from suite.strategies import PlanContribution, plan_contributions

PLAN_VERSION = 2  # 2: typed sections (optimizer, loss, batchnorm, execution, ...) replace ``hyperparameters``


@dataclass(frozen=True)
class PhasePlan:
    """A stretch of epochs with one optimizer: phase 1 from the freeze config, phase 2 the ``finetune``."""

    number: int
    first_epoch: int
    epochs: int
    lr: float
    unfreeze_last_layers: int | None = None


@dataclass(frozen=True)
class TrainingPlan:
    """Everything a runner executes, as typed frozen data (see the module docstring).

    ``seed`` seeds the framework; ``init`` is ``framework`` (its own initialisers) or ``shared`` (the core
    draws the weights, :mod:`suite.architectures.shared_init`).
    """

    seed: int
    groups: list[str]
    group_params: dict[str, int]
    phases: list[PhasePlan]
    epochs: EpochSchedule
    optimizer: OptimizerPlan
    loss: LossPlan
    batchnorm: BatchNormPlan
    execution: ExecutionPlan
    feature_cache: FeatureCachePlan
    init: Literal["framework", "shared"]
    batch_order: BatchOrderPlan
    early_stopping: EarlyStoppingPlan | None
    plateau: PlateauPlan | None
    notes: list[str] = field(default_factory=list)
    peft: PeftPlan | None = None
    version: int = PLAN_VERSION

    def trainable_set(self, epoch: EpochPlan) -> TrainableSet:
        """What a runner applies for ``epoch``."""
        phase = self.phases[epoch.phase - 1]
        return TrainableSet(tuple(epoch.trainable), self.batchnorm.mode == "frozen", phase.unfreeze_last_layers)

    def to_dict(self) -> dict[str, Any]:
        """Plain data, the content of ``plan.json``: epochs numbered as users read them (from 1)."""
        data = asdict(self)
        for segment in data["epochs"]["segments"]:
            segment["first_epoch"] += FIRST_EPOCH
            segment["first_in_phase"] += FIRST_EPOCH
        for phase in data["phases"]:
            phase["first_epoch"] += FIRST_EPOCH
        return data


def build_plan(spec: ExperimentSpec, model: ModelDescription) -> TrainingPlan:
    """The plan for ``spec`` on a model with these groups; ValueError naming the spec key when it cannot run."""
    names = model.group_names
    group_params = {group.name: group.params for group in model.groups}
    contributions = plan_contributions(spec.strategy, names, spec.training.epochs)
    phases = _phases(spec, contributions)
    epochs = _epochs(spec, names, phases, group_params, contributions)
    peft = peft_section(contributions, names)
    if peft is not None:  # PEFT trains parts of frozen groups: the runner counts them
        epochs = epochs.without_counts()
    return TrainingPlan(
        seed=spec.seed,
        groups=names,
        group_params=group_params,
        phases=phases,
        epochs=epochs,
        optimizer=optimizer_plan(spec.optimizer, spec.training.grad_clip),
        loss=loss_plan(spec),
        batchnorm=batchnorm_plan(spec),
        execution=execution_plan(spec),
        feature_cache=_feature_cache(spec, model, epochs, phases, peft),
        init=spec.model.init,
        batch_order=batch_order_plan(spec),
        early_stopping=early_stopping_plan(spec),
        plateau=plateau_plan(spec),
        notes=[note for part in contributions for note in part.notes] + _notes(spec) + _batchnorm_note(model),
        peft=peft,
    )


def _phases(spec: ExperimentSpec, contributions: list[PlanContribution]) -> list[PhasePlan]:
    phases = [PhasePlan(1, 0, spec.training.epochs, spec.optimizer.lr)]
    for second in [part.second_phase for part in contributions if part.second_phase is not None]:
        phases.append(PhasePlan(2, spec.training.epochs, second.epochs, second.lr, second.unfreeze_last_layers))
    return phases


def _epochs(
    spec: ExperimentSpec,
    names: list[str],
    phases: list[PhasePlan],
    group_params: dict[str, int],
    contributions: list[PlanContribution],
) -> EpochSchedule:
    """The run's epochs as segments: one per phase start and per epoch where a group unfreezes."""
    frozen = {name for part in contributions for name in part.frozen_at_start or []}
    schedule: dict[int, list[str]] = {}
    for part in contributions:
        for epoch, groups in part.unfreeze_at.items():
            schedule.setdefault(epoch, []).extend(groups)
    second_targets = [name for part in contributions if part.second_phase for name in part.second_phase.unfreeze]
    multipliers = _lr_multipliers(names, contributions)
    segments: list[EpochSegment] = []
    for phase in phases:
        rates = {name: phase.lr * multipliers[name] for name in names}
        if phase.number == 1:
            events = {0: schedule.get(0, []), **{k: v for k, v in schedule.items() if 0 < k < phase.epochs}}
        else:
            events = {0: second_targets}
        starts: list[EpochSegment] = []
        for local in sorted(events):
            newly = [name for name in names if name in frozen and name in set(events[local])]
            frozen -= set(newly)
            if local and not newly:
                continue  # the groups named here already train: the segment goes on
            trainable = [name for name in names if name not in frozen]
            counted = None if phase.unfreeze_last_layers else sum(group_params[name] for name in trainable)
            starts.append(
                EpochSegment(
                    phase.first_epoch + local, 0, phase.number, local, phase.epochs, trainable, rates, newly, counted
                )
            )
        ends = [segment.first_in_phase for segment in starts[1:]] + [phase.epochs]
        segments += [
            replace(segment, epochs=end - segment.first_in_phase) for segment, end in zip(starts, ends, strict=True)
        ]
    return EpochSchedule(segments, schedule_plan(spec.training.scheduler))


def _lr_multipliers(names: list[str], contributions: list[PlanContribution]) -> dict[str, float]:
    """Each group's factor on the phase LR: the product of every strategy's multiplier (1 when none)."""
    multipliers = dict.fromkeys(names, 1.0)
    for part in contributions:
        for name, factor in part.lr_multipliers.items():
            multipliers[name] *= factor
    return multipliers


def _feature_cache(
    spec: ExperimentSpec,
    model: ModelDescription,
    epochs: EpochSchedule,
    phases: list[PhasePlan],
    peft: PeftPlan | None = None,
) -> FeatureCachePlan:
    """The longest prefix of groups that stays frozen all run and computes the same thing every epoch."""
    wanted = spec.training.feature_cache
    decision = _cacheable_prefix(spec, model, epochs, phases)
    touched = set(peft.groups) if peft else set()
    if touched & set(decision["groups"]):
        kept = decision["groups"][: min(decision["groups"].index(name) for name in touched & set(decision["groups"]))]
        first = next(name for name in decision["groups"] if name in touched)
        reason = f"PEFT (strategy.train_only / strategy.lora) trains parameters inside frozen group {first}"
        if kept:
            reason = f"caching the output of {', '.join(kept)} (frozen all run, BN frozen); then {reason}"
        decision = {"groups": kept, "reason": reason}
    if wanted is False:
        return FeatureCachePlan(False, [], "training.feature_cache = false")
    if not decision["groups"] and wanted is True:
        raise ValueError(f"training.feature_cache = true but nothing can be cached: {decision['reason']}")
    return FeatureCachePlan(bool(decision["groups"]), decision["groups"], decision["reason"])


def _cacheable_prefix(
    spec: ExperimentSpec, model: ModelDescription, epochs: EpochSchedule, phases: list[PhasePlan]
) -> dict[str, Any]:
    if not model.sequential:
        return {"groups": [], "reason": "the model is not a plain sequence of groups"}
    if spec.dataset.augment is not None and spec.dataset.augment.active:
        return {"groups": [], "reason": "dataset.augment changes the training images every epoch"}
    if any(phase.unfreeze_last_layers for phase in phases):
        return {"groups": [], "reason": "finetune.unfreeze_last_layers unfreezes framework layers, not groups"}
    ever_trained = epochs.ever_trainable()
    prefix: list[str] = []
    for group in model.groups:
        if group.name == "head" or group.name in ever_trained or group.has_dropout:
            break
        if group.has_batchnorm and spec.strategy.bn_mode != "frozen":
            return {"groups": [], "reason": "bn_mode = 'train' updates BatchNorm statistics of frozen groups"}
        prefix.append(group.name)
    if not prefix:
        return {"groups": [], "reason": "no frozen leading group stays frozen for the whole run"}
    return {"groups": prefix, "reason": f"caching the output of {', '.join(prefix)} (frozen all run, BN frozen)"}


def _batchnorm_note(model: ModelDescription) -> list[str]:
    """The one BatchNorm difference no hyper-parameter can remove, stated wherever it applies."""
    return [BATCHNORM_VARIANCE] if any(group.has_batchnorm for group in model.groups) else []


def _notes(spec: ExperimentSpec) -> list[str]:
    """Facts of the run worth stating: a warm-up that a short run never leaves, stochastic depth's masks.

    (A whole-run warm-up is not an error: ``--set training.epochs=1`` is a quick check. No two frameworks draw
    stochastic depth's masks alike.)
    """
    notes, epochs = [], spec.training.epochs
    if spec.training.scheduler.warmup_epochs >= epochs:
        notes.append(f"warm-up ({spec.training.scheduler.warmup_epochs} epochs) lasts the whole run ({epochs} epochs)")
    if takes_stochastic_depth(spec.model.name):
        rate = (
            architecture(spec.model.name).options["drop_connect_rate"]
            if spec.model.dropout is None
            else spec.model.dropout
        )
        if rate > 0:
            notes.append(f"{STOCHASTIC_DEPTH} (model.dropout = {rate:g})")
    return notes
