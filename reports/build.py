"""Build a report (markdown + PNG figures) or a tidy table (CSV / Parquet) from study directories."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pandas as pd

from reports import markdown, provenance
from reports.aggregate import aggregate_configs
from reports.cross_framework import cross_framework_table
from reports.load import RunRecord, StoredStudies, load_store, study_name
from reports.per_class import best_record, per_class_table
from reports.tables_compare import strategy_table, zoo_table
from reports.tables_core import efficiency_table, leaderboard_table, runs_table
from reports.tables_efficiency import efficiency_costs_table
from reports.tables_status import DAMAGED_TITLE, damaged_table, status_table
from reports.tidy import runs_frame
from reports.tuning import tuning_entries, tuning_table
from reports.uncertainty import methods_section
from suite.store import statuses

FORMATS = ("md", "csv", "parquet")
FIGURES_DIR = "figures"


def build_report(
    study_dirs: list[Path],
    out: Path | None = None,
    fmt: str = "md",
    on_problem: Callable[[str], None] | None = None,
) -> Path:
    """Write the report of ``study_dirs`` and return its path.

    ``fmt="md"``: markdown at ``out`` (default ``<first dir>/report.md``) with PNGs in a sibling
    ``figures/`` folder; ``"csv"`` / ``"parquet"``: the tidy table of every run that reads cleanly
    (default ``<first dir>/results.<ext>``). A damaged stored file never stops the report: its run is
    left out, listed in the markdown, and its one line (file: problem) is passed to ``on_problem``.
    """
    if fmt not in FORMATS:
        raise ValueError(f"unknown report format {fmt!r}; choose one of {', '.join(FORMATS)}")
    if not study_dirs:
        raise ValueError("give at least one results directory")
    study_dirs = [Path(directory) for directory in study_dirs]
    stored = load_store(study_dirs)
    for damage in stored.damaged:
        if on_problem is not None:
            on_problem(damage.line)
    if not stored.records and not stored.damaged:
        raise FileNotFoundError(f"no runs found under {', '.join(str(path) for path in study_dirs)}")
    frame = runs_frame(stored.records)
    if fmt == "md":
        path = Path(out) if out else study_dirs[0] / "report.md"
        return write_markdown(study_dirs, stored, frame, path)
    path = Path(out) if out else study_dirs[0] / f"results.{fmt}"
    return write_table(frame, path, fmt)


def write_table(frame: pd.DataFrame, path: Path, fmt: str) -> Path:
    """Tidy table as CSV or Parquet; mixed-type columns are stored as text so Parquet accepts them."""
    path.parent.mkdir(parents=True, exist_ok=True)
    if fmt == "csv":
        frame.to_csv(path, index=False)
    else:
        _parquet_safe(frame).to_parquet(path, index=False)
    return path


def write_markdown(study_dirs: list[Path], stored: StoredStudies, frame: pd.DataFrame, path: Path) -> Path:
    """Render every section the data supports into ``path`` (figures under ``path.parent/figures``)."""
    from reports.figures import run_figures, study_figures, tuning_figure  # matplotlib only when drawing

    path.parent.mkdir(parents=True, exist_ok=True)
    folder = path.parent / FIGURES_DIR
    records, studies = stored.records, stored.studies
    configs = aggregate_configs(frame)
    per_run = run_figures(records, folder)
    parts = [_header(studies, study_dirs, frame, len(stored.damaged))]
    tables = [
        leaderboard_table(configs),
        efficiency_table(configs),
        efficiency_costs_table(configs),
        zoo_table(configs),
        cross_framework_table(configs, frame),
        strategy_table(configs),
    ]
    entries = tuning_entries(study_dirs)
    tables.insert(0, tuning_table(entries, configs))
    parts += [markdown.section(table) for table in tables if table is not None]
    parts.append(_best_run_section(records, per_run, path.parent))
    figures = [*study_figures(records, configs, folder), tuning_figure(entries, folder)]
    parts.append(markdown.figures_section([figure for figure in figures if figure is not None], path.parent))
    runs = runs_table(frame, markdown.run_links(per_run, path.parent))
    others = [status_table(frame), damaged_table(stored.damaged, path.parent)]
    parts += [markdown.section(table) for table in (runs, *others) if table is not None]
    if not configs.empty:
        parts.append(methods_section())
    parts.append(provenance.footer(study_dirs, studies, records))
    path.write_text("\n".join(part for part in parts if part), encoding="utf-8")
    return path


def _header(studies: list[dict], study_dirs: list[Path], frame: pd.DataFrame, damaged: int) -> str:
    names = [study_name(study, directory) for study, directory in zip(studies, study_dirs, strict=True)]
    counts = frame["status"].value_counts() if "status" in frame else pd.Series(dtype=int)
    parts = [
        f"{int(counts.get(status, 0))} {status}"
        for status in statuses.MEANINGS
        if counts.get(status, 0) or status == statuses.COMPLETED
    ]
    if damaged:
        parts.append(f"{damaged} damaged (see *{DAMAGED_TITLE}*)")
    datasets = sorted({str(value) for value in frame["dataset"].dropna()}) if "dataset" in frame else []
    backends = sorted(set(frame["backend_label"])) if "backend_label" in frame else []
    summary = f"{len(frame) + damaged} run(s): {', '.join(parts)}."
    if backends:
        summary += f" Backends: {', '.join(backends)}."
    if datasets:
        summary += f" Datasets: {', '.join(datasets)}."
    return "\n".join([f"# Report: {', '.join(names)}", "", summary, ""])


def _best_run_section(records: list[RunRecord], per_run: dict[str, dict[str, Path]], start: Path) -> str:
    best = best_record(records)
    if best is None:
        return ""
    text = markdown.section(per_class_table(best))
    images = [markdown.image(kind, path, start) for kind, path in sorted(per_run.get(best.key, {}).items())]
    return text + ("\n" + "\n\n".join(images) + "\n" if images else "")


def _parquet_safe(frame: pd.DataFrame) -> pd.DataFrame:
    safe = frame.copy()
    for column in safe.columns:
        if safe[column].dtype == object:
            kinds = {type(value) for value in safe[column] if value is not None and value == value}
            if len(kinds) > 1 or kinds - {str, bool, int, float}:
                safe[column] = [None if value is None else _as_text(value) for value in safe[column]]
    return safe


def _as_text(value: object) -> str:
    return value if isinstance(value, str) else json.dumps(value, default=str)
