"""Reference strategies in tidy rows: the linear probe and full fine-tuning, as the runs recorded them.

Each run stores its ``strategy_class`` (``probe``, ``full`` or ``other``), decided by the strategy declarations
(:mod:`suite.strategies`); the report never guesses it from labels or spec keys.
"""

from __future__ import annotations

import pandas as pd

# Rows compared against a reference strategy must share these (same model on the same data and backend).
SAME_SETUP = ("model", "weights", "dataset", "backend_label")


def is_linear_probe(row: pd.Series) -> bool:
    """Backbone frozen, only the head trains, no later unfreezing (the strategy declarations decide)."""
    return row.get("strategy_class") == "probe"


def is_full_finetune(row: pd.Series) -> bool:
    """Every parameter trains from the first epoch at one learning rate (the strategy declarations decide)."""
    return row.get("strategy_class") == "full"


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
