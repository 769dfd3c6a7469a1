"""The plan's epochs: stored as segments, computed epoch by epoch on demand, so the plan does not grow with epochs.

A segment is a run of consecutive epochs of one phase that train the same groups from the same base rates; a new
one starts where a phase starts or a group unfreezes. :class:`EpochSchedule` is a sequence of
:class:`EpochPlan` (indexable, iterable, ``len``) whose items are computed from the segments and the LR schedule
(:mod:`suite.plan.schedule`), so ``training.epochs = 10000`` costs what ``10`` does, in memory and in ``plan.json``.
"""

from __future__ import annotations

import bisect
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, overload

from suite.plan.schedule import SchedulePlan, scheduled_lr
from suite.spec.types import FIRST_EPOCH


@dataclass(frozen=True)
class EpochPlan:
    """One epoch: its phase, which groups train, and each group's learning rate (before plateau reductions)."""

    epoch: int
    phase: int
    epoch_in_phase: int
    trainable: list[str]
    rates: dict[str, float]
    unfreezes: list[str] = field(default_factory=list)
    trainable_params: int | None = None


@dataclass(frozen=True)
class EpochSegment:
    """Consecutive epochs of one phase training the same groups (``unfreezes``: at its first epoch)."""

    first_epoch: int
    epochs: int
    phase: int
    first_in_phase: int
    phase_epochs: int
    trainable: list[str]
    base_rates: dict[str, float]
    unfreezes: list[str] = field(default_factory=list)
    trainable_params: int | None = None


@dataclass(frozen=True)
class EpochSchedule(Sequence[EpochPlan]):
    """Every epoch of the run as :class:`EpochPlan`, computed from ``segments`` and ``schedule`` when asked."""

    segments: list[EpochSegment]
    schedule: SchedulePlan

    @classmethod
    def from_stored(cls, data: dict[str, Any]) -> EpochSchedule:
        """The epochs of a stored ``plan.json`` (its ``epochs`` entry, numbered from 1 there)."""
        segments = [
            EpochSegment(
                **{
                    **segment,
                    "first_epoch": segment["first_epoch"] - FIRST_EPOCH,
                    "first_in_phase": segment["first_in_phase"] - FIRST_EPOCH,
                }
            )
            for segment in data["segments"]
        ]
        return cls(segments, SchedulePlan(**data["schedule"]))

    def __len__(self) -> int:
        return sum(segment.epochs for segment in self.segments)

    @overload
    def __getitem__(self, index: int) -> EpochPlan: ...

    @overload
    def __getitem__(self, index: slice) -> list[EpochPlan]: ...

    def __getitem__(self, index: int | slice) -> EpochPlan | list[EpochPlan]:
        if isinstance(index, slice):
            return [self[position] for position in range(*index.indices(len(self)))]
        position = index + len(self) if index < 0 else index
        if not 0 <= position < len(self):
            raise IndexError(f"epoch {index} is not in the plan ({len(self)} epochs)")
        starts = [segment.first_epoch for segment in self.segments]
        segment = self.segments[bisect.bisect_right(starts, position) - 1]
        offset = position - segment.first_epoch
        local = segment.first_in_phase + offset
        return EpochPlan(
            epoch=position,
            phase=segment.phase,
            epoch_in_phase=local,
            trainable=list(segment.trainable),
            rates={
                name: scheduled_lr(self.schedule, rate, local, segment.phase_epochs)
                for name, rate in segment.base_rates.items()
            },
            unfreezes=list(segment.unfreezes) if offset == 0 else [],
            trainable_params=segment.trainable_params,
        )

    def __iter__(self) -> Iterator[EpochPlan]:
        for position in range(len(self)):
            yield self[position]

    def ever_trainable(self) -> set[str]:
        """Every group that trains in some epoch."""
        return {name for segment in self.segments for name in segment.trainable}

    def without_counts(self) -> EpochSchedule:
        """The same epochs with ``trainable_params`` unknown (PEFT trains parts of frozen groups: the runner counts)."""
        return replace(self, segments=[replace(segment, trainable_params=None) for segment in self.segments])
