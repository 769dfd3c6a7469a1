"""Comparison tables, each shown only when the data holds such a comparison: model zoo and strategies."""

from __future__ import annotations

import pandas as pd

from reports import fmt
from reports.deltas import add_comparisons
from reports.fmt import Table
from reports.paired import Comparison, compare, decide
from reports.power import detectable_note
from reports.strategy import SAME_SETUP, best_reference, is_full_finetune, setup_key
from reports.uncertainty import accuracy_intro

ZOO_MIN_MODELS = 3


def zoo_table(configs: pd.DataFrame) -> Table | None:
    """Models trained on the same dataset with the same strategy (at least three models)."""
    if configs.empty:
        return None
    groups = [
        group
        for _, group in configs.groupby(["dataset", "strategy"], sort=True, dropna=False)
        if group["model"].nunique() >= ZOO_MIN_MODELS
    ]
    if not groups:
        return None
    zoo = pd.concat(groups).sort_values(["dataset", "strategy", "test_acc"], ascending=[True, True, False])
    zoo = zoo.reset_index(drop=True)
    data = pd.DataFrame(
        {
            "Dataset": zoo["dataset"],
            "Strategy": zoo["strategy"],
            "Model": zoo["model"],
            "Backend": zoo["backend_label"],
            "Params": fmt.numeric(zoo, "params.total"),
            "Depth": _first_present(zoo, ("extra.depth", "spec.model.depth")),
            "Size (MB)": model_size_mb(zoo),
            "Test acc": zoo["test_acc"],
            "Acc / M params": zoo["test_acc"] / (fmt.numeric(zoo, "params.total") / 1e6),
            "Train s/epoch": zoo["epoch_seconds"],
            "Eval batch": eval_batch_size(zoo),
            "Inference ms/batch": eval_batch_size(zoo) / zoo["eval_ips"] * 1000.0,
        }
    ).reset_index(drop=True)
    data = fmt.drop_empty_columns(data, keep=("Model",))
    formats = {
        "Params": fmt.count,
        "Depth": fmt.integer,
        "Size (MB)": fmt.megabytes,
        "Test acc": fmt.pct,
        "Acc / M params": fmt.number,
        "Train s/epoch": fmt.seconds,
        "Eval batch": fmt.integer,
        "Inference ms/batch": fmt.number,
    }
    text = fmt.render_columns(data, formats)
    text["Test acc"] = [fmt.summary_text(row, "test_acc") for _, row in zoo.iterrows()]
    intro = (
        "Size = parameters × 4 bytes (fp32) unless the run recorded its own; inference time per evaluation "
        "batch = batch size / evaluation images per second. " + accuracy_intro()
    )
    note = detectable_note(None, zoo)
    return Table("Model zoo", data, text, intro=intro, notes=[note] if note else [])


def model_size_mb(frame: pd.DataFrame) -> pd.Series:
    """Recorded ``extra.size_mb``, else total parameters × 4 bytes / 1e6."""
    estimate = fmt.numeric(frame, "params.total") * 4 / 1e6
    return fmt.numeric(frame, "extra.size_mb").fillna(estimate)


def eval_batch_size(frame: pd.DataFrame) -> pd.Series:
    """Evaluation batch size: ``training.eval_batch_size``, else ``training.batch_size``."""
    return fmt.numeric(frame, "spec.training.eval_batch_size").fillna(fmt.numeric(frame, "spec.training.batch_size"))


def strategy_table(configs: pd.DataFrame) -> Table | None:
    """Strategies of one model on one dataset and backend against full fine-tuning (``freeze=none``), paired."""
    if configs.empty:
        return None
    references = best_reference(configs, is_full_finetune)
    rows, summaries, cells = [], [], []
    for key, group in configs.groupby(list(SAME_SETUP), sort=True, dropna=False):
        reference = references.get(tuple(str(part) for part in key))
        if reference is None or group["strategy"].nunique() < 2:
            continue
        for _, row in group.sort_values("test_acc", ascending=False).iterrows():
            rows.append(_strategy_row(row, reference))
            summaries.append(fmt.summary_text(row, "test_acc"))
            cells.append("★ reference" if _is_reference(row, reference) else compare(row, reference))
    if not rows:
        return None
    comparisons = [cell for cell in cells if isinstance(cell, Comparison)]
    decide(comparisons)
    data = fmt.drop_empty_columns(pd.DataFrame(rows), keep=("Configuration", DELTA))
    text = fmt.render_columns(data, STRATEGY_FORMATS)
    text["Test acc"] = summaries
    method = add_comparisons(data, text, cells, DELTA)
    intro = (
        "Each strategy against the best full fine-tuning run (`freeze=none`, marked ★) of the same model, "
        "weights, dataset and backend, paired on the same test samples. " + accuracy_intro()
    )
    notes = [detectable_note(comparisons or None, configs), method]
    return Table("Strategy comparison", data, text, intro=intro, notes=[note for note in notes if note])


DELTA = "Δ acc vs full fine-tuning"
STRATEGY_FORMATS = {
    "Trainable params": fmt.count,
    "Trainable share": fmt.pct,
    "Train time (s)": fmt.seconds,
    "Time vs full fine-tuning": fmt.ratio,
    "Overfit gap": fmt.points,
}


def _is_reference(row: pd.Series, reference: pd.Series) -> bool:
    return row["config_name"] == reference["config_name"] and setup_key(row) == setup_key(reference)


def _strategy_row(row: pd.Series, reference: pd.Series) -> dict:
    star = " ★" if _is_reference(row, reference) else ""
    trainable = row.get("params.trainable", float("nan"))
    total = row.get("params.total", float("nan"))
    return {
        "Model": row["model"],
        "Backend": row["backend_label"],
        "Configuration": f"{row['config_name']}{star}",
        "Strategy": row["strategy"],
        "Trainable params": trainable,
        "Trainable share": trainable / total if not fmt.is_missing(total) and total else float("nan"),
        "Test acc": row["test_acc"],
        DELTA: row["test_acc"] - reference["test_acc"],
        "Train time (s)": row["train_seconds"],
        "Time vs full fine-tuning": row["train_seconds"] / reference["train_seconds"]
        if reference["train_seconds"]
        else float("nan"),
        "Overfit gap": row["overfit_gap"],
    }


def _first_present(frame: pd.DataFrame, columns: tuple[str, ...]) -> pd.Series:
    result = pd.Series(float("nan"), index=frame.index)
    for column in columns:
        result = result.fillna(fmt.numeric(frame, column))
    return result
