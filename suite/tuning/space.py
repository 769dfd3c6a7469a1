"""The ``tune`` section: search space over spec keys, trials per configuration, objective, sampler and pruner.

Written under ``[study.tune]`` (every configuration) or ``[experiments.tune]`` (merged over the study's)::

    [study.tune]
    trials = 6
    objective = "val_accuracy"       # or val_loss; never a test metric
    sampler = "tpe"                  # or random; seeded from the study's first seed
    pruner = "median"                # or asha, none
    [study.tune.space]
    "optimizer.lr" = { log_uniform = [1e-4, 1e-1] }
    "optimizer.weight_decay" = { log_uniform = [1e-6, 1e-2] }
    "training.batch_size" = { choice = [32, 64] }
"""

from __future__ import annotations

import math
from typing import Any, Literal

from pydantic import Field, model_validator

from suite.spec.types import Float, Int, StrictModel

OBJECTIVES = {"val_accuracy": "maximize", "val_loss": "minimize"}
"""Objective -> Optuna direction. Only validation metrics: the test split is sealed until the final runs."""


class ParamSpec(StrictModel):
    """One searched key: exactly one of ``log_uniform = [low, high]``, ``uniform``, ``int`` or ``choice``."""

    log_uniform: tuple[Float, Float] | None = None
    uniform: tuple[Float, Float] | None = None
    int: tuple[Int, Int] | None = None
    choice: list[bool | Int | Float | str] | None = Field(None, min_length=1)

    @model_validator(mode="after")
    def _one_distribution(self) -> ParamSpec:
        given = [name for name in type(self).model_fields if getattr(self, name) is not None]
        if len(given) != 1:
            raise ValueError(f"give exactly one of log_uniform, uniform, int or choice, got {given or 'none'}")
        if self.kind != "choice":
            low, high = self.bounds
            if not low < high:
                raise ValueError(f"{self.kind}: low must be below high, got [{low}, {high}]")
            if self.kind == "log_uniform" and low <= 0:
                raise ValueError(f"log_uniform: low must be > 0, got {low}")
        return self

    @property
    def kind(self) -> str:
        """``log_uniform``, ``uniform``, ``int`` or ``choice``."""
        return next(name for name in type(self).model_fields if getattr(self, name) is not None)

    @property
    def bounds(self) -> tuple[Any, Any]:
        """(low, high) of a range (not for ``choice``)."""
        return tuple(getattr(self, self.kind))

    @property
    def values(self) -> list[Any]:
        """The values a spec check tries: both ends of a range, every choice."""
        return list(self.choice) if self.kind == "choice" else list(self.bounds)

    def describe(self) -> str:
        """``log_uniform [0.0001, 0.1]``, ``choice [32, 64]``: the report's column."""
        return f"{self.kind} [{', '.join(f'{value:g}' if _is_float(value) else str(value) for value in self.values)}]"


class TuneSpec(StrictModel):
    """How every configuration of a study (or of one experiment) is tuned."""

    space: dict[str, ParamSpec] = Field(min_length=1)
    trials: Int = Field(ge=1)
    objective: Literal["val_accuracy", "val_loss"] = "val_accuracy"
    sampler: Literal["tpe", "random"] = "tpe"
    startup_trials: Int | None = Field(None, ge=1)
    """TPE: trials drawn at random before it models the results (default: half the budget, at least 1)."""
    pruner: Literal["none", "median", "asha"] = "none"
    pruner_startup_trials: Int = Field(1, ge=0)
    """Median: finished trials before anything is pruned."""
    pruner_warmup_epochs: Int = Field(0, ge=0)
    """Epochs of a trial never pruned (median: ``n_warmup_steps``; asha: ``min_resource`` is this + 1)."""

    @property
    def direction(self) -> str:
        """``maximize`` or ``minimize``, from the objective."""
        return OBJECTIVES[self.objective]

    @property
    def tpe_startup(self) -> int:
        """Random trials before TPE models the results."""
        return self.startup_trials or max(1, self.trials // 2)


def _is_float(value: Any) -> bool:
    return isinstance(value, float)


def edge_notes(space: dict[str, ParamSpec], values: dict[str, Any], tolerance: float = 0.05) -> list[str]:
    """Keys whose chosen value lies at the edge of its range (within ``tolerance`` of it, log scale for log_uniform).

    A chosen value on the edge says the space was too narrow: the best may lie outside it.
    """
    notes = []
    for key, param in space.items():
        if param.kind == "choice" or key not in values:
            continue
        low, high = param.bounds
        value = values[key]
        scale = math.log if param.kind == "log_uniform" else float
        width = scale(high) - scale(low)
        position = (scale(value) - scale(low)) / width
        if position <= tolerance:
            notes.append(f"{key} = {value:g} is at the low edge of its range [{low:g}, {high:g}]")
        elif position >= 1 - tolerance:
            notes.append(f"{key} = {value:g} is at the high edge of its range [{low:g}, {high:g}]")
    return notes
