"""Cross-framework table: one configuration run on several backends, side by side."""

from __future__ import annotations

import hashlib
import json

import numpy as np
import pandas as pd

from reports import fmt
from reports.deltas import add_comparisons
from reports.fmt import Table
from reports.paired import compare, decide
from reports.power import detectable_note
from reports.uncertainty import accuracy_intro

# Spec fields that may differ between the runs being compared (the dataset is checked separately).
_IGNORED_SPEC = ("spec.name", "spec.seed", "spec.backend", "spec.engine", "spec.keras_backend")
_DATASET_PREFIX = "spec.dataset."
FINGERPRINT = "extra.data_fingerprint"
ORDER = "extra.order_fingerprint"
AUGMENTED = "extra.batch_fingerprints"
INIT = "extra.init"
WEIGHTS = "extra.weights_fingerprint"
PROBE_LOGITS = "extra.parity_probe.logits"
PROBE_NOTE = "extra.parity_probe.note"
PREFERRED_REFERENCE = "torch"


def cross_key(row: pd.Series) -> str:
    """Hash of everything that defines a configuration except its backend, seed and dataset details."""
    fields = {
        column: None if fmt.is_missing(value) else value
        for column, value in row.items()
        if column.startswith("spec.") and column not in _IGNORED_SPEC and not column.startswith(_DATASET_PREFIX)
    }
    fields["dataset"] = row.get("dataset")
    text = json.dumps(fields, sort_keys=True, default=str)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:12]


def cross_framework_table(configs: pd.DataFrame, runs: pd.DataFrame) -> Table | None:
    """Accuracy difference (paired test) and speed ratio of each backend against torch (or the first backend)."""
    if configs.empty:
        return None
    keyed = configs.assign(_cross=[cross_key(row) for _, row in configs.iterrows()])
    rows, accuracies, cells = [], [], []
    for _, group in keyed.groupby("_cross", sort=False):
        if group["backend_label"].nunique() < 2:
            continue
        reference = _reference(group)
        for _, other in group.iterrows():
            if other["backend_label"] != reference["backend_label"]:
                rows.append(_pair_row(reference, other, runs))
                accuracies.append((fmt.summary_text(reference, "test_acc"), fmt.summary_text(other, "test_acc")))
                cells.append(compare(other, reference))
    if not rows:
        return None
    comparisons = [cell for cell in cells if cell is not None]
    decide(comparisons)
    data = pd.DataFrame(rows)
    formats = {
        "Img/s (reference)": fmt.rate,
        "Img/s (other)": fmt.rate,
        "Speed ratio": fmt.ratio,
    }
    text = fmt.render_columns(data, formats)
    text["Acc (reference)"] = [pair[0] for pair in accuracies]
    text["Acc (other)"] = [pair[1] for pair in accuracies]
    method = add_comparisons(data, text, cells, "Δ acc")
    intro = (
        "Same configuration, different backend. Δ acc = other − reference on the seeds both ran, paired on the "
        "same test samples (so it can differ from the difference of the means when one side ran more seeds); "
        "speed ratio = other / reference training images per second (> 1 means the other backend trains "
        "faster). Parity = max |Δ logit| of the two untrained models on the same test images (runs with "
        "model.init = 'shared'), or why the two are not comparable. Weights = whether both started from the same "
        "loaded weights (model.weights fingerprints). " + accuracy_intro()
    )
    notes = [detectable_note(comparisons or None, configs), method]
    return Table("Cross-framework comparison", data, text, intro=intro, notes=[note for note in notes if note])


def data_note(reference: pd.Series, other: pd.Series, runs: pd.DataFrame) -> str:
    """Whether both sides saw the same samples and preprocessing (dataset spec and data fingerprints)."""
    differing = [
        column[len(_DATASET_PREFIX) :]
        for column in sorted(set(reference.index) | set(other.index))
        if column.startswith(_DATASET_PREFIX) and _differs(reference.get(column), other.get(column))
    ]
    notes = []
    if differing:
        notes.append(
            "dataset spec differs: "
            + ", ".join(
                f"{name} ({_show(reference.get(_DATASET_PREFIX + name))} vs {_show(other.get(_DATASET_PREFIX + name))})"
                for name in differing
            )
        )
    prints_ref, prints_other = _fingerprints(reference, runs), _fingerprints(other, runs)
    if prints_ref and prints_other:
        notes.append("same data fingerprint" if prints_ref == prints_other else "data fingerprints differ")
    else:
        notes.append("no data fingerprint recorded")
    orders = _per_seed(reference, runs, ORDER), _per_seed(other, runs, ORDER)
    shared = sorted(set(orders[0]) & set(orders[1]))
    if shared:
        same = all(orders[0][seed] == orders[1][seed] for seed in shared)
        notes.append("same batch order" if same else "batch orders differ")
    augmented = _per_seed(reference, runs, AUGMENTED), _per_seed(other, runs, AUGMENTED)
    both = sorted(set(augmented[0]) & set(augmented[1]))
    if both:
        same = all(augmented[0][seed] == augmented[1][seed] for seed in both)
        notes.append("same augmented batches" if same else "augmented batches differ")
    inits = set(_per_seed(reference, runs, INIT).values()) | set(_per_seed(other, runs, INIT).values())
    if inits == {"shared"}:
        notes.append("shared initial weights")
    elif inits:
        notes.append("different initial weights (init = framework: each framework's own initialisers)")
    return "; ".join(notes)


def weights_note(reference: pd.Series, other: pd.Series, runs: pd.DataFrame) -> str:
    """Whether both backends started from the same loaded weights (fingerprints of ``model.weights`` as loaded)."""
    prints = [set(map(str, _per_seed(config, runs, WEIGHTS).values())) for config in (reference, other)]
    if not any(prints):
        return "no weights loaded"
    if not all(prints):
        return "weights loaded on one side only"
    return "same weights" if prints[0] == prints[1] else "different weights"


def parity_note(reference: pd.Series, other: pd.Series, runs: pd.DataFrame) -> str:
    """Max |Δ logit| of the untrained models on the same test images, or why the two are not comparable."""
    inits = [_per_seed(config, runs, INIT) for config in (reference, other)]
    if not all(inits) or any(set(init.values()) != {"shared"} for init in inits):
        return "not comparable: initial weights differ (init = framework)"
    notes = {str(value) for config in (reference, other) for value in _per_seed(config, runs, PROBE_NOTE).values()}
    notes.discard("")
    if notes:
        return "not comparable: " + "; ".join(sorted(notes))
    probes = [_per_seed(config, runs, PROBE_LOGITS) for config in (reference, other)]
    seeds = sorted(set(probes[0]) & set(probes[1]))
    if not seeds:
        return "—"
    differences = [
        float(np.abs(np.asarray(json.loads(probes[0][seed])) - np.asarray(json.loads(probes[1][seed]))).max())
        for seed in seeds
    ]
    return f"max |Δ logit| {max(differences):.1e}"


def _per_seed(config: pd.Series, runs: pd.DataFrame, column: str) -> dict[int, object]:
    """``{seed: value}`` of ``column`` over the configuration's runs (missing values left out)."""
    if column not in runs or "seed" not in runs:
        return {}
    members = runs[runs["key"].isin(config["keys"])]
    return {
        int(seed): value
        for seed, value in zip(members["seed"], members[column], strict=True)
        if not fmt.is_missing(value)
    }


def _reference(group: pd.DataFrame) -> pd.Series:
    labels = sorted(group["backend_label"].unique())
    label = PREFERRED_REFERENCE if PREFERRED_REFERENCE in labels else labels[0]
    return group[group["backend_label"] == label].iloc[0]


def _pair_row(reference: pd.Series, other: pd.Series, runs: pd.DataFrame) -> dict:
    speed = other["train_ips"] / reference["train_ips"] if reference["train_ips"] else float("nan")
    return {
        "Model": reference["model"],
        "Strategy": reference["strategy"],
        "Dataset": reference["dataset"],
        "Reference": reference["backend_label"],
        "Other": other["backend_label"],
        "Seeds": f"{reference['n']} / {other['n']}",
        "Acc (reference)": reference["test_acc"],
        "Acc (other)": other["test_acc"],
        "Δ acc": other["test_acc"] - reference["test_acc"],
        "Img/s (reference)": reference["train_ips"],
        "Img/s (other)": other["train_ips"],
        "Speed ratio": speed,
        "Data": data_note(reference, other, runs),
        "Weights": weights_note(reference, other, runs),
        "Parity": parity_note(reference, other, runs),
    }


def _show(value: object) -> str:
    if fmt.is_missing(value):
        return "unset"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _differs(left: object, right: object) -> bool:
    if fmt.is_missing(left) and fmt.is_missing(right):
        return False
    return left != right


def _fingerprints(config: pd.Series, runs: pd.DataFrame) -> set[str]:
    if FINGERPRINT not in runs:
        return set()
    members = runs[runs["key"].isin(config["keys"])]
    return {str(value) for value in members[FINGERPRINT] if not fmt.is_missing(value)}
