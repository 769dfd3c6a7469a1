"""Recognise reference strategies in tidy rows: the linear probe and full fine-tuning."""

from __future__ import annotations

import pandas as pd

from reports.fmt import is_missing

LINEAR_PROBE = "freeze=all_but_head"
FULL_FINETUNE = "freeze=none"
# Rows compared against a reference strategy must share these (same model on the same data and backend).
SAME_SETUP = ("model", "weights", "dataset", "backend_label")


def _has_any(row: pd.Series, prefix: str) -> bool:
    """True when a flattened spec section (e.g. ``spec.strategy.finetune``) holds a value."""
    return any(
        (column == prefix or column.startswith(prefix + ".")) and not is_missing(row[column]) for column in row.index
    )


def _has_spec(row: pd.Series) -> bool:
    return "spec.strategy.freeze" in row.index and not is_missing(row["spec.strategy.freeze"])


_EXTRAS = ("finetune", "unfreeze_schedule", "train_only", "lora")  # what makes a frozen backbone more than a probe


def _no_extras(row: pd.Series) -> bool:
    return not any(_has_any(row, f"spec.strategy.{key}") for key in _EXTRAS)


def is_linear_probe(row: pd.Series) -> bool:
    """Backbone frozen, only the head trains, no later unfreezing."""
    if not _has_spec(row):
        return row.get("strategy") == LINEAR_PROBE
    return row["spec.strategy.freeze"] == "all_but_head" and _no_extras(row)


def is_full_finetune(row: pd.Series) -> bool:
    """Every parameter trains from the first epoch at one learning rate."""
    if not _has_spec(row):
        return row.get("strategy") == FULL_FINETUNE
    blocks = row.get("spec.strategy.freeze_blocks")
    return (
        row["spec.strategy.freeze"] == "none"
        and (is_missing(blocks) or int(blocks) == 0)
        and _no_extras(row)
        and not _has_any(row, "spec.strategy.discriminative_lr")
    )


def setup_key(row: pd.Series) -> tuple[str, ...]:
    """(model, weights, dataset, backend) of a row, for matching runs against a reference strategy."""
    return tuple(str(row.get(column)) for column in SAME_SETUP)


def best_reference(configs: pd.DataFrame, predicate) -> dict[tuple[str, ...], pd.Series]:
    """Per setup, the configuration satisfying ``predicate`` with the highest mean test accuracy."""
    references: dict[tuple[str, ...], pd.Series] = {}
    for _, row in configs.iterrows():
        if not predicate(row):
            continue
        key = setup_key(row)
        current = references.get(key)
        if current is None or row["test_acc"] > current["test_acc"]:
            references[key] = row
    return references
