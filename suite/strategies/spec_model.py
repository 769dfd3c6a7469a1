"""The spec's ``[strategy]`` section, built from the declared strategies' keys and checks."""

from __future__ import annotations

from typing import Any

from pydantic import create_model, model_validator

from suite.spec.types import StrictModel
from suite.strategies.declaration import declarations


class _StrategySection(StrictModel):
    """Which parameters train, when, and at what learning rate (keys: one per declared strategy).

    ``train_only`` (BitFit / norm-only) and ``lora`` act inside the groups ``freeze`` leaves frozen; the head
    always trains fully.
    """

    @model_validator(mode="after")
    def _declared_checks(self) -> Any:
        for declaration in declarations():
            if declaration.check is not None and declaration.active(self):
                declaration.check(self)
        return self


def build_strategy_spec() -> type[StrictModel]:
    """The ``StrategySpec`` model: one field per key of every declared strategy, validated by their checks."""
    fields = {key: spec for declaration in declarations() for key, spec in declaration.fields.items()}
    model = create_model("StrategySpec", __base__=_StrategySection, __module__="suite.spec.models", **fields)
    model.__doc__ = _StrategySection.__doc__
    return model
