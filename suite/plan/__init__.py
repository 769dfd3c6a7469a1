"""The neutral training plan: everything a runner executes, decided once from the spec, typed and frozen.

Owns the build request (what a runner builds from the spec), :func:`~suite.plan.plan.build_plan` (phases,
trainable groups and each group's LR per epoch, optimizer and loss hyper-parameters, precision, BatchNorm
policy, PEFT, feature-cache decision), the LR schedule, the early-stopping and plateau controllers, and the
plan's display. Runs in the worker, preflight and parity processes; pure Python. May import ``suite.spec``
and ``suite.architectures``.
"""

from suite.plan.build_request import BuildRequest, build_request
from suite.plan.controllers import EarlyStopper, PlateauController
from suite.plan.epochs import EpochPlan, EpochSchedule
from suite.plan.peft import LoraPlan, PeftPlan
from suite.plan.plan import PhasePlan, TrainingPlan, build_plan
from suite.plan.schedule import scheduled_lr

__all__ = [
    "BuildRequest",
    "EarlyStopper",
    "EpochPlan",
    "EpochSchedule",
    "LoraPlan",
    "PeftPlan",
    "PhasePlan",
    "PlateauController",
    "TrainingPlan",
    "build_plan",
    "build_request",
    "scheduled_lr",
]
