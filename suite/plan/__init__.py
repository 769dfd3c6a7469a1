"""The neutral training plan and the run-time controllers both backends share."""

from suite.plan.controllers import EarlyStopper, PlateauController
from suite.plan.plan import EpochPlan, PhasePlan, TrainingPlan, build_plan
from suite.plan.schedule import base_rates, scheduled_lr

__all__ = [
    "EarlyStopper",
    "EpochPlan",
    "PhasePlan",
    "PlateauController",
    "TrainingPlan",
    "base_rates",
    "build_plan",
    "scheduled_lr",
]
