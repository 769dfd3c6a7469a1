"""The ``efficiency`` section of ``result.json``: every cost of one run, with the definitions' version.

A completed run records all of it; a run that failed, diverged, timed out or could not start records
:func:`not_measured` with the reason instead, so no figure is read from half a run.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from suite.efficiency.flops import FLOP_CONVENTION, forward_flops, plan_train_flops
from suite.efficiency.state import delta_bytes, trainable_state_bytes
from suite.runners.protocol import LayerCost

VERSION = 1


@dataclass(frozen=True)
class RunCosts:
    """What the run measured besides the analytic numbers: memory, inference speed, the weights file."""

    memory: dict[str, Any]
    inference: dict[str, Any]
    weights_file_bytes: int
    trainable_params: int


def efficiency_record(
    layers: list[LayerCost], plan: dict[str, Any], optimizer: dict[str, Any], costs: RunCosts
) -> dict[str, Any]:
    """The section for a completed run (``plan``: ``plan.json``; ``optimizer``: the spec's optimizer table)."""
    return {
        "version": VERSION,
        "measured": True,
        "flop_convention": FLOP_CONVENTION,
        "forward_flops_per_image": forward_flops(layers) if layers else None,
        "train_flops_per_image": plan_train_flops(layers, plan) if layers else None,
        "trainable_state_bytes": trainable_state_bytes(costs.trainable_params, optimizer),
        **costs.memory,
        **costs.inference,
        "weights_file_bytes": costs.weights_file_bytes,
        "trainable_delta_bytes": delta_bytes(costs.trainable_params),
    }


def not_measured(reason: str) -> dict[str, Any]:
    """The section of a run without figures: why there are none."""
    return {"version": VERSION, "measured": False, "reason": reason}
