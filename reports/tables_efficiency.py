"""The efficiency table: what each configuration costs to train, serve and store, next to its accuracy.

Reads ``result.json`` ``efficiency`` (:mod:`suite.efficiency`, flattened to ``efficiency.*`` columns, averaged
over seeds); the "vs full fine-tuning" columns divide the best full fine-tuning run's cost
(``strategy_class = "full"``) of the same model, weights, dataset and backend by the row's.
"""

from __future__ import annotations

import pandas as pd

from reports import fmt
from reports.fmt import Table
from reports.strategy import best_reference, is_full_finetune, setup_key
from reports.uncertainty import accuracy_intro

# (column, efficiency.* field, scale): the cost columns, in the order shown.
COSTS = (
    ("Train GFLOPs / image", "efficiency.train_flops_per_image", 1e-9),
    ("Peak train memory (MB)", "efficiency.peak_train_memory_bytes", 1e-6),
    ("Trainable state (MB)", "efficiency.trainable_state_bytes", 1e-6),
    ("Latency b1 median (ms)", "efficiency.latency_b1_ms_median", 1.0),
    ("Latency b1 p90 (ms)", "efficiency.latency_b1_ms_p90", 1.0),
    ("Images/s (batch N)", "efficiency.batch_images_per_second", 1.0),
    ("Weights (MB)", "efficiency.weights_file_bytes", 1e-6),
    ("Delta (MB)", "efficiency.trainable_delta_bytes", 1e-6),
)
# (column, cost column, the reference's cost over the row's): the "saved vs full fine-tune" ratios.
SAVED = (
    ("× less memory", "Peak train memory (MB)"),
    ("× fewer FLOPs", "Train GFLOPs / image"),
    ("× faster training", "Train time (s)"),
)
FORMATS = {
    "Total params": fmt.count,
    "Trainable params": fmt.count,
    "Train GFLOPs / image": fmt.number,
    "Peak train memory (MB)": fmt.megabytes,
    "Trainable state (MB)": fmt.megabytes,
    "Train time (s)": fmt.seconds,
    "Latency b1 median (ms)": fmt.number,
    "Latency b1 p90 (ms)": fmt.number,
    "Images/s (batch N)": fmt.rate,
    "Weights (MB)": fmt.megabytes,
    "Delta (MB)": fmt.megabytes,
    **{name: fmt.ratio for name, _ in SAVED},
}
MEASURED = "efficiency.latency_b1_ms_median"


def cost_frame(configs: pd.DataFrame) -> pd.DataFrame:
    """One row per configuration: its cost columns (:data:`COSTS`, in display units) and train seconds."""
    frame = pd.DataFrame({"Train time (s)": fmt.numeric(configs, "train_seconds")}, index=configs.index)
    for name, field, scale in COSTS:
        frame[name] = fmt.numeric(configs, field) * scale
    return frame


def efficiency_costs_table(configs: pd.DataFrame) -> Table | None:
    """Accuracy ± CI, parameters, training FLOPs, memory and time, latency, throughput and sizes per configuration."""
    if configs.empty or MEASURED not in configs or configs[MEASURED].notna().sum() == 0:
        return None
    configs = configs[configs[MEASURED].notna()].sort_values("test_acc", ascending=False).reset_index(drop=True)
    costs = cost_frame(configs)
    data = pd.DataFrame(
        {
            "Configuration": configs["config_name"],
            "Test acc": configs["test_acc"],
            "Total params": fmt.numeric(configs, "params.total"),
            "Trainable params": fmt.numeric(configs, "params.trainable"),
        }
    )
    data = pd.concat([data, costs], axis=1)
    for name, cost in SAVED:
        data[name] = _saved(configs, costs[cost])
    data = fmt.drop_empty_columns(data, keep=("Configuration", "Test acc"))
    text = fmt.render_columns(data, FORMATS)
    text["Test acc"] = [fmt.summary_text(row, "test_acc") for _, row in configs.iterrows()]
    return Table("Efficiency", data, text, intro=_intro(configs))


def _saved(configs: pd.DataFrame, cost: pd.Series) -> pd.Series:
    """The full fine-tuning reference's cost divided by the row's.

    NaN without a reference of the same setup; all NaN (the column is dropped) when no row has another
    configuration to compare with, e.g. a study of full fine-tuning runs only.
    """
    references = best_reference(configs, is_full_finetune)
    positions = {name: index for index, name in configs["config_name"].items()}
    values, compared = [], False
    for index, row in configs.iterrows():
        reference = references.get(setup_key(row))
        mine = cost.loc[index]
        theirs = cost.loc[positions[reference["config_name"]]] if reference is not None else float("nan")
        compared |= reference is not None and reference["config_name"] != row["config_name"]
        values.append(theirs / mine if not fmt.is_missing(mine) and mine > 0 else float("nan"))
    return pd.Series(values if compared else float("nan"), index=configs.index, dtype=float)


def _intro(configs: pd.DataFrame) -> str:
    convention = configs.get("efficiency.flop_convention")
    named = str(convention.dropna().iloc[0]) if convention is not None and convention.notna().any() else ""
    sources = configs.get("efficiency.peak_memory_source")
    memory = "; ".join(sorted(set(sources.dropna().astype(str)))) if sources is not None else ""
    return (
        f"Costs as each run measured them (`result.json` `efficiency`, the mean over seeds). GFLOPs: {named}. "
        f"Peak train memory — {memory}. Trainable state = trainable parameters × 4 bytes × (weight + gradient + "
        "optimizer slots), exact in every framework. Latency: batch 1, median and 90th percentile of timed calls "
        "after warm-up; images/s at the evaluation batch size; both on the run's device and precision. Weights = "
        "the saved weights file; delta = the trained parameters alone (float32), what each task stores when the "
        "frozen base is shared. × less memory / × fewer FLOPs / × faster training: the best full fine-tuning run "
        "(`strategy_class` full) of the same model, weights, dataset and backend divided by this row. "
        + accuracy_intro()
    )
