"""Core tables: every completed run, the leaderboard and parameter efficiency."""

from __future__ import annotations

import pandas as pd

from reports import fmt
from reports.aggregate import aggregate_configs, completed
from reports.deltas import Cell, add_comparisons
from reports.fmt import Table
from reports.paired import Comparison, compare, decide, rank_bands
from reports.power import detectable_note
from reports.strategy import best_reference, is_linear_probe, setup_key
from reports.uncertainty import ACC_HIGH, ACC_LOW, F1_HIGH, F1_LOW, accuracy_intro

# Seed 003 ranks models by it; one name in every table.
PER_MILLION = "Accuracy per million trainable parameters"


def runs_table(frame: pd.DataFrame, links: dict[str, str] | None = None) -> Table | None:
    """Every completed run with its size, accuracy, efficiency, gap and speed (one row per seed)."""
    done = completed(frame)
    if done.empty:
        return None
    done = done.sort_values(["study", "name"], kind="stable")
    data = pd.DataFrame(
        {
            "Run": done["name"],
            "Backend": done["backend_label"],
            "Model": done["model"],
            "Strategy": done["strategy"],
            "Total params": fmt.numeric(done, "params.total"),
            "Trainable params": fmt.numeric(done, "params.trainable"),
            "Test acc": fmt.numeric(done, "metrics.test_accuracy"),
            "Macro F1": fmt.numeric(done, "metrics.test_macro_f1"),
            PER_MILLION: fmt.numeric(done, "acc_per_m_trainable"),
            "Overfit gap": fmt.numeric(done, "metrics.overfit_gap"),
            "Train time (s)": fmt.numeric(done, "timing.train_seconds"),
            "Train img/s": fmt.numeric(done, "timing.train_images_per_second"),
        }
    ).reset_index(drop=True)
    data = fmt.drop_empty_columns(data, keep=("Run",))
    formats = {
        "Total params": fmt.count,
        "Trainable params": fmt.count,
        "Test acc": fmt.pct,
        "Macro F1": fmt.pct,
        PER_MILLION: fmt.number,
        "Overfit gap": fmt.points,
        "Train time (s)": fmt.seconds,
        "Train img/s": fmt.rate,
    }
    text = fmt.render_columns(data, formats)
    for column, low, high in (("Test acc", ACC_LOW, ACC_HIGH), ("Macro F1", F1_LOW, F1_HIGH)):
        if column in data:
            text[column] = [
                fmt.pct_interval(value, lo, hi)
                for value, lo, hi in zip(data[column], fmt.numeric(done, low), fmt.numeric(done, high), strict=True)
            ]
    if links:
        text["Figures"] = [links.get(key, fmt.MISSING) for key in done["key"]]
    intro = (
        "One row per run. Test acc [95% Wilson interval], macro F1 [95% bootstrap interval over test samples]. "
        "Overfit gap = train accuracy − validation accuracy at the best epoch."
    )
    note = detectable_note(None, aggregate_configs(frame))
    return Table("Runs", data, text, intro=intro, notes=[note] if note else [])


def leaderboard_table(configs: pd.DataFrame) -> Table | None:
    """Configurations ranked by mean test accuracy, with intervals, paired tests against the best and rank bands."""
    if configs.empty:
        return None
    ranked = configs.sort_values("test_acc", ascending=False, na_position="last").reset_index(drop=True)
    comparisons, bands = rank_bands(ranked)
    data = pd.DataFrame(
        {
            "Rank": range(1, len(ranked) + 1),
            "Band": bands,
            "Configuration": ranked["config_name"],
            "Backend": ranked["backend_label"],
            "Seeds": ranked["n"],
            "Test acc": ranked["test_acc"],
            "Δ vs best": ranked["test_acc"] - ranked["test_acc"].iloc[0],
            "Seed std": ranked["test_acc_std"],
            "Test-set SE": ranked["test_se"],
            "Dominant noise": ranked["noise"],
            "Macro F1": ranked["macro_f1"],
            "Test acc (last epoch)": ranked["test_acc_last"],
            "Best epoch": fmt.numeric(ranked, "metrics.best_epoch"),
            "Last epoch": fmt.numeric(ranked, "metrics.last_epoch"),
            "Val acc (best epoch)": ranked["val_acc_best"],
            "Val acc (last epoch)": ranked["val_acc_last"],
            "Overfit gap": ranked["overfit_gap"],
            "Train time (s)": ranked["train_seconds"],
            "Train img/s": ranked["train_ips"],
        }
    )
    data = fmt.drop_empty_columns(data, keep=("Rank", "Configuration", "Δ vs best"))
    text = fmt.render_columns(data, LEADERBOARD_FORMATS)
    for column, short in SUMMARY_COLUMNS.items():
        if column in data:
            text[column] = [fmt.summary_text(row, short) for _, row in ranked.iterrows()]
    cells = ["reference (best)"] + [
        fmt.MISSING if fmt.is_missing(acc) else comparison
        for comparison, acc in zip(comparisons[1:], ranked["test_acc"].iloc[1:], strict=True)
    ]
    method = add_comparisons(data, text, cells, "Δ vs best")
    intro = (
        "Test accuracy uses the weights of the best epoch (epochs count from 1, as on the console). "
        + accuracy_intro()
        + " Δ vs best: paired on the same test samples (see *How to read the uncertainty*); configurations in one "
        "band are not distinguishable."
    )
    notes = [detectable_note(comparisons, ranked), method]
    return Table("Leaderboard", data, text, intro=intro, notes=[note for note in notes if note])


SUMMARY_COLUMNS = {"Test acc": "test_acc", "Macro F1": "macro_f1", "Test acc (last epoch)": "test_acc_last"}
LEADERBOARD_FORMATS = {
    "Band": fmt.integer,
    "Seeds": fmt.integer,
    "Δ vs best": fmt.points,
    "Seed std": fmt.pp,
    "Test-set SE": fmt.pp,
    "Macro F1": fmt.pct,
    "Test acc (last epoch)": fmt.pct,
    "Best epoch": fmt.number,
    "Last epoch": fmt.number,
    "Val acc (best epoch)": fmt.pct,
    "Val acc (last epoch)": fmt.pct,
    "Overfit gap": fmt.points,
    "Train time (s)": fmt.seconds,
    "Train img/s": fmt.rate,
}


def efficiency_table(configs: pd.DataFrame) -> Table | None:
    """Parameter counts, accuracy per million trainable parameters and gain over the linear probe (paired)."""
    if configs.empty or "params.trainable" not in configs or configs["params.trainable"].notna().sum() < 2:
        return None
    configs = configs.reset_index(drop=True)
    probes = best_reference(configs, is_linear_probe)
    cells = [_probe_cell(row, probes.get(setup_key(row))) for _, row in configs.iterrows()]
    decide([cell for cell in cells if isinstance(cell, Comparison)])
    gains = [
        row["test_acc"] - probes[setup_key(row)]["test_acc"] if setup_key(row) in probes else float("nan")
        for _, row in configs.iterrows()
    ]
    data = pd.DataFrame(
        {
            "Configuration": configs["config_name"],
            "Total params": fmt.numeric(configs, "params.total"),
            "Trainable params": fmt.numeric(configs, "params.trainable"),
            "Frozen params": fmt.numeric(configs, "params.frozen"),
            "Trainable share": fmt.numeric(configs, "params.trainable") / fmt.numeric(configs, "params.total"),
            "Test acc": configs["test_acc"],
            PER_MILLION: configs["acc_per_m_trainable"],
            "Gain over linear probe": gains,
        }
    )
    order = data.sort_values(PER_MILLION, ascending=False, na_position="last", kind="stable").index
    data, ordered = data.loc[order].reset_index(drop=True), configs.loc[order].reset_index(drop=True)
    data.insert(0, "Rank", range(1, len(data) + 1))
    data = fmt.drop_empty_columns(data, keep=("Rank", "Configuration"))
    formats = {
        "Total params": fmt.count,
        "Trainable params": fmt.count,
        "Frozen params": fmt.count,
        "Trainable share": fmt.pct,
        PER_MILLION: fmt.number,
    }
    text = fmt.render_columns(data, formats)
    text["Test acc"] = [fmt.summary_text(row, "test_acc") for _, row in ordered.iterrows()]
    method = ""
    if "Gain over linear probe" in data:
        method = add_comparisons(data, text, [cells[index] for index in order], "Gain over linear probe")
    gain = (
        "Gain over linear probe compares with the best `freeze=all_but_head` run of the same model, weights, "
        "dataset and backend, paired on the same test samples. "
        if "Gain over linear probe" in data
        else ""
    )
    intro = f"Ranked by {PER_MILLION.lower()} (test accuracy as a fraction / trainable parameters in millions). "
    intro += gain + accuracy_intro()
    comparisons = [cell for cell in cells if isinstance(cell, Comparison)]
    notes = [detectable_note(comparisons or None, configs), method]
    return Table("Parameter efficiency", data, text, intro=intro, notes=[note for note in notes if note])


def _probe_cell(row: pd.Series, probe: pd.Series | None) -> Cell:
    if probe is None:
        return fmt.MISSING
    if row["config_name"] == probe["config_name"]:
        return "reference (linear probe)"
    return compare(row, probe)
