"""Per-class precision, recall and F1 of the best run, naming its easiest and hardest classes."""

from __future__ import annotations

import pandas as pd

from reports import fmt
from reports.fmt import Table
from reports.load import RunRecord

MAX_NAMED = 3


def best_record(records: list[RunRecord]) -> RunRecord | None:
    """The completed run with the highest test accuracy that recorded per-class metrics."""
    candidates = [
        record
        for record in records
        if record.completed
        and (record.result.get("metrics") or {}).get("per_class")
        and not fmt.is_missing((record.result.get("metrics") or {}).get("test_accuracy"))
    ]
    if not candidates:
        return None
    return max(candidates, key=lambda record: float(record.result["metrics"]["test_accuracy"]))


def per_class_frame(record: RunRecord) -> pd.DataFrame:
    """Class, precision, recall, F1, support of one run, in the run's class order."""
    per_class = record.result["metrics"]["per_class"]
    order = [name for name in record.result.get("class_names") or [] if name in per_class]
    order += [name for name in per_class if name not in order]
    return pd.DataFrame(
        {
            "Class": order,
            "Precision": [per_class[name].get("precision") for name in order],
            "Recall": [per_class[name].get("recall") for name in order],
            "F1": [per_class[name].get("f1") for name in order],
            "Support": [per_class[name].get("support") for name in order],
        }
    )


def easiest_and_hardest(data: pd.DataFrame) -> tuple[list[str], list[str]]:
    """Classes with the highest and the lowest F1 (up to three each, never overlapping).

    A class is only called easiest when some class scores lower, and hardest when some class
    scores higher, so a run with equal F1 everywhere names none.
    """
    named = min(MAX_NAMED, len(data) // 2)
    scores = pd.to_numeric(data["F1"], errors="coerce")
    if named == 0 or scores.isna().all() or scores.max() == scores.min():
        return [], []
    ranked = data.assign(_f1=scores).sort_values(["_f1", "Class"], ascending=[False, True], kind="stable")
    easiest = list(ranked[ranked["_f1"] > scores.min()]["Class"].head(named))
    hardest = list(ranked[ranked["_f1"] < scores.max()]["Class"].tail(named))[::-1]
    return easiest, hardest


def per_class_table(record: RunRecord) -> Table:
    """The per-class table of ``record`` with its easiest and hardest classes in the intro."""
    data = per_class_frame(record)
    easiest, hardest = easiest_and_hardest(data)
    scores = dict(zip(data["Class"], data["F1"], strict=True))
    intro = f"Best run by test accuracy: **{record.result.get('name', record.key)}**."
    if easiest:
        intro += (
            f" Easiest classes (highest F1): {_named(easiest, scores)}."
            f" Hardest classes (lowest F1): {_named(hardest, scores)}."
        )
    elif len(data) > 1:
        intro += " Every class has the same F1."
    formats = {"Precision": fmt.pct, "Recall": fmt.pct, "F1": fmt.pct, "Support": fmt.count}
    return Table("Per-class report (best run)", data, fmt.render_columns(data, formats), intro=intro)


def _named(classes: list[str], scores: dict[str, float]) -> str:
    return ", ".join(f"{name} ({fmt.pct(scores[name])})" for name in classes)
