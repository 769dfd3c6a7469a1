"""What a strategy declaration is, and the one registry of them (built-ins plus ``suite.strategies`` plugins).

A strategy is declared once, as a :class:`StrategyDeclaration`: its spec keys under ``[experiments.strategy]``
with their types and defaults, its cross-key validation, its contribution to the plan, its report label and how
it affects the run's reference class (linear probe / full fine-tune / other). The spec's ``StrategySpec`` is
built from the registered declarations, :func:`suite.plan.build_plan` combines their contributions, and the
executor stores the label and class the report shows; no other module lists strategies.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from importlib.metadata import entry_points
from typing import Any, Literal

ReferenceClass = Literal["probe", "full", "other"]
"""A run's reference class: a linear probe, a full fine-tune, or anything else."""
ENTRY_POINT_GROUP = "suite.strategies"
"""Plugins declare strategies in a module named by an entry point of this group (importing it declares them)."""


@dataclass(frozen=True)
class PlanContext:
    """What a strategy's plan contribution may look at: the model's groups and the run's length."""

    names: list[str]
    """The model's layer groups in network order, ending with ``"head"``."""
    epochs: int
    """Epochs of phase 1 (``training.epochs``)."""
    frozen_at_start: list[str] = field(default_factory=list)
    """Groups frozen at the first epoch (set once the freeze contribution is known)."""


@dataclass(frozen=True)
class SecondPhase:
    """A second phase with its own optimizer: ``epochs`` at ``lr``, unfreezing groups or framework layers."""

    epochs: int
    lr: float
    unfreeze: list[str] = field(default_factory=list)
    unfreeze_last_layers: int | None = None


@dataclass(frozen=True)
class PlanContribution:
    """One strategy's part of the plan; every field is optional and the plan combines them."""

    frozen_at_start: list[str] | None = None
    """Groups frozen at the first epoch (the freeze level)."""
    lr_multipliers: dict[str, float] = field(default_factory=dict)
    """Per-group factors on every phase's learning rate (multiplied together across strategies)."""
    unfreeze_at: dict[int, list[str]] = field(default_factory=dict)
    """Phase-1 epoch -> groups unfrozen at its start."""
    second_phase: SecondPhase | None = None
    peft: dict[str, Any] = field(default_factory=dict)
    """Entries of the plan's ``peft`` section (train_only, train_only_groups, lora)."""
    notes: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class StrategyDeclaration:
    """One strategy, declared once: spec keys, validation, plan contribution, label and reference class.

    ``fields`` maps each spec key to ``(annotation, default)`` as pydantic takes them. ``is_active`` says whether
    the strategy is in use for a validated strategy section (default: its first key is not None). ``check``
    raises ValueError for a combination of keys it cannot run. ``contribute`` returns its part of the plan.
    ``label`` gives its part of the run's strategy label (None: nothing to add). ``reference`` gives the run's
    reference class when this declaration decides it (the freeze level), ``keeps`` the classes a run keeps when
    this strategy is active too (a linear probe with LoRA is no longer a probe).
    """

    name: str
    summary: str
    fields: dict[str, tuple[Any, Any]]
    contribute: Callable[[Any, PlanContext], PlanContribution]
    label: Callable[[Any], str | None]
    keeps: frozenset[ReferenceClass] = frozenset()
    reference: Callable[[Any], ReferenceClass] | None = None
    check: Callable[[Any], None] | None = None
    is_active: Callable[[Any], bool] | None = None
    peft: bool = False
    """True when the strategy trains parameters inside frozen groups (BitFit, norm-only, LoRA)."""

    def active(self, strategy: Any) -> bool:
        """Whether this strategy is in use in the validated strategy section ``strategy``."""
        if self.is_active is not None:
            return self.is_active(strategy)
        return getattr(strategy, next(iter(self.fields))) is not None


_DECLARATIONS: dict[str, StrategyDeclaration] = {}
_PLUGINS_LOADED = False


def declare_strategy(declaration: StrategyDeclaration) -> StrategyDeclaration:
    """Register ``declaration``; a duplicate name or spec key is an error."""
    if declaration.name in _DECLARATIONS:
        raise ValueError(f"strategy {declaration.name!r} is declared twice")
    taken = {key: other.name for other in _DECLARATIONS.values() for key in other.fields}
    clash = [key for key in declaration.fields if key in taken]
    if clash:
        raise ValueError(f"strategy {declaration.name!r}: spec key {clash[0]!r} already belongs to {taken[clash[0]]!r}")
    _DECLARATIONS[declaration.name] = declaration
    return declaration


def declarations() -> list[StrategyDeclaration]:
    """Every declared strategy, built-ins first, then plugins, in declaration order."""
    global _PLUGINS_LOADED
    if not _PLUGINS_LOADED:
        _PLUGINS_LOADED = True
        for point in entry_points(group=ENTRY_POINT_GROUP):
            point.load()
    return list(_DECLARATIONS.values())


def active_declarations(strategy: Any) -> list[StrategyDeclaration]:
    """The declarations in use in the validated strategy section ``strategy``."""
    return [declaration for declaration in declarations() if declaration.active(strategy)]
