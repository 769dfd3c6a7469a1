"""Core tables: every run, failed runs, the leaderboard and parameter efficiency."""

from __future__ import annotations

import pandas as pd

from reports import fmt
from reports.aggregate import completed
from reports.fmt import Table
from reports.strategy import best_reference, is_linear_probe, setup_key
from reports.tidy import last_error_line


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
            "Acc / M trainable": fmt.numeric(done, "acc_per_m_trainable"),
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
        "Acc / M trainable": fmt.number,
        "Overfit gap": fmt.points,
        "Train time (s)": fmt.seconds,
        "Train img/s": fmt.rate,
    }
    text = fmt.render_columns(data, formats)
    if links:
        text["Figures"] = [links.get(key, fmt.MISSING) for key in done["key"]]
    intro = "One row per run. Overfit gap = train accuracy − validation accuracy at the best epoch."
    return Table("Runs", data, text, intro=intro)


def failed_table(frame: pd.DataFrame) -> Table | None:
    """Runs that did not complete, with the last line of their error."""
    if frame.empty:
        return None
    failed = frame[frame["status"] != "completed"]
    if failed.empty:
        return None
    errors = [
        last_error_line(error) or f"no error recorded (status: {status})"
        for error, status in zip(failed["error"], failed["status"], strict=True)
    ]
    data = pd.DataFrame(
        {"Run": failed["name"], "Backend": failed["backend_label"], "Status": failed["status"], "Error": errors}
    ).reset_index(drop=True)
    text = fmt.render_columns(data, {"Error": lambda value: f"`{value}`" if value else fmt.MISSING})
    return Table("Failed runs", data, text, intro=f"{len(data)} run(s) did not complete.")


def leaderboard_table(configs: pd.DataFrame) -> Table | None:
    """Configurations ranked by mean test accuracy, repeats summarised as mean ± std [95% CI]."""
    if configs.empty:
        return None
    ranked = configs.sort_values("test_acc", ascending=False, na_position="last").reset_index(drop=True)
    data = pd.DataFrame(
        {
            "Rank": range(1, len(ranked) + 1),
            "Configuration": ranked["config_name"],
            "Backend": ranked["backend_label"],
            "Seeds": ranked["n"],
            "Test acc": ranked["test_acc"],
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
    data = fmt.drop_empty_columns(data, keep=("Rank", "Configuration"))
    formats = {
        "Seeds": fmt.integer,
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
    text = fmt.render_columns(data, formats)
    text["Test acc"] = [fmt.summary_text(row, "test_acc") for _, row in ranked.iterrows()]
    intro = (
        "Test accuracy uses the weights of the best epoch (epochs are 0-based). With several seeds: "
        "mean ± std [95% t-interval of the mean]."
    )
    return Table("Leaderboard", data, text, intro=intro)


def efficiency_table(configs: pd.DataFrame) -> Table | None:
    """Parameter counts, accuracy per million trainable parameters and gain over the linear probe."""
    if configs.empty or "params.trainable" not in configs or configs["params.trainable"].notna().sum() < 2:
        return None
    probes = best_reference(configs, is_linear_probe)
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
            "Acc / M trainable": configs["acc_per_m_trainable"],
            "Gain over linear probe": gains,
        }
    )
    data = data.sort_values("Acc / M trainable", ascending=False, na_position="last").reset_index(drop=True)
    data.insert(0, "Rank", range(1, len(data) + 1))
    data = fmt.drop_empty_columns(data, keep=("Rank", "Configuration"))
    formats = {
        "Total params": fmt.count,
        "Trainable params": fmt.count,
        "Frozen params": fmt.count,
        "Trainable share": fmt.pct,
        "Test acc": fmt.pct,
        "Acc / M trainable": fmt.number,
        "Gain over linear probe": fmt.points,
    }
    intro = (
        "Ranked by accuracy (fraction) per million trainable parameters. Gain over linear probe compares with "
        "the best `freeze=all_but_head` run of the same model, weights, dataset and backend."
    )
    return Table("Parameter efficiency", data, fmt.render_columns(data, formats), intro=intro)
