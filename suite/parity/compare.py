"""``suite parity``: whether two backends compute the same function from the same weights.

For each shared architecture and each backend (and engine), a child process loads the same initial
weights, predicts one preprocessed batch in eval mode and takes one SGD step on it (dropout off). The first
backend is the reference; every other one gets a row with max |Δ logit| and max |Δ weight| after the step.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from suite.runners.registry import discover

LOGIT_TOLERANCE = 1e-4
"""Largest max |Δ logit| that passes, relative to max(1, max |logit|) of the reference."""
WEIGHT_TOLERANCE = 1e-5
"""Largest max |Δ weight| after one step that passes, relative to max(1, max |weight|) of the reference."""


@dataclass(frozen=True)
class ParityRow:
    """One comparison: model, reference and other backend label, the two maxima and a verdict."""

    model: str
    reference: str
    other: str
    logit_diff: float | None
    weight_diff: float | None
    verdict: str  # "ok", "FAIL", "not comparable: <reason>" or "error: <reason>"

    @property
    def passed(self) -> bool:
        """Within tolerance, or honestly marked not comparable."""
        return self.verdict == "ok" or self.verdict.startswith("not comparable")


def backend_labels(backends: list[str] | None) -> list[tuple[str, str | None]]:
    """(backend, engine) pairs to probe: ``name/engine`` as given, a bare name with each engine it registers."""
    entries = discover()
    pairs: list[tuple[str, str | None]] = []
    for item in backends or list(entries):
        name, _, engine = item.partition("/")
        if name not in entries:
            raise ValueError(f"--backends: unknown backend {name!r}; known: {', '.join(sorted(entries))}")
        engines = list(entries[name].engines)
        if engine:
            if engine not in engines:
                raise ValueError(
                    f"--backends: {name!r} has no engine {engine!r}; engines: {', '.join(engines) or 'none'}"
                )
            pairs.append((name, engine))
            continue
        ordered = sorted(engines, key=lambda each: each != entries[name].default_engine)
        pairs += [(name, each) for each in ordered] or [(name, None)]
    return list(dict.fromkeys(pairs))  # "keras" and "keras/jax" together probe keras/jax once


def _label(backend: str, engine: str | None) -> str:
    return f"{backend}/{engine}" if engine else backend


def _probe(backend: str, engine: str | None, model: str, size: int, channels: int, classes: int, out: Path) -> str:
    """Run one probe child; '' on success, else the last line of its error output."""
    entry = discover()[backend]
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2", "OMP_WAIT_POLICY": "PASSIVE"}
    env.update(entry.child_environment(entry.resolve_engine(engine)))
    args = [backend, engine or "-", model, str(size), str(channels), str(classes), str(out)]
    completed = subprocess.run(
        [sys.executable, "-m", "suite.parity.probe", *args], capture_output=True, text=True, env=env, check=False
    )
    if completed.returncode == 0:
        return ""
    return (completed.stderr.strip().splitlines() or [f"exit status {completed.returncode}"])[-1]


def compare(model: str, reference: tuple[str, Path], other: tuple[str, Path]) -> ParityRow:
    """Row for two probe files of ``model``."""
    with np.load(reference[1], allow_pickle=False) as ref, np.load(other[1], allow_pickle=False) as oth:
        if list(ref["slots"]) != list(oth["slots"]):
            return ParityRow(model, reference[0], other[0], None, None, "FAIL: different weight slots")
        logit = float(np.abs(ref["logits"] - oth["logits"]).max())
        logit_scale = max(1.0, float(np.abs(ref["logits"]).max()))
        count = len(ref["slots"])
        weight = max(float(np.abs(ref[f"weight_{i}"] - oth[f"weight_{i}"]).max()) for i in range(count))
        weight_scale = max([1.0] + [float(np.abs(ref[f"weight_{i}"]).max()) for i in range(count)])
        note = str(ref["note"]) or str(oth["note"])
    if note:
        verdict = f"not comparable: {note}"
    else:
        within = logit <= LOGIT_TOLERANCE * logit_scale and weight <= WEIGHT_TOLERANCE * weight_scale
        verdict = "ok" if within else "FAIL"
    return ParityRow(model, reference[0], other[0], logit, weight, verdict)


def run_parity(
    models: list[str], input_size: int | None, backends: list[str] | None, classes: int = 10
) -> list[ParityRow]:
    """Probe every (model, backend) and compare each backend with the first one."""
    pairs = backend_labels(backends)
    rows: list[ParityRow] = []
    with tempfile.TemporaryDirectory(prefix="parity-") as temp:
        for model in models:
            size, channels = _input_for(model, input_size)
            files: list[tuple[str, Path]] = []
            for backend, engine in pairs:
                out = Path(temp) / f"{model}-{backend}-{engine or 'default'}.npz"
                error = _probe(backend, engine, model, size, channels, classes, out)
                if error:
                    rows.append(
                        ParityRow(model, _label(*pairs[0]), _label(backend, engine), None, None, f"error: {error}")
                    )
                    continue
                files.append((_label(backend, engine), out))
            rows += [compare(model, files[0], other) for other in files[1:]]
    return rows


def _input_for(model: str, input_size: int | None) -> tuple[int, int]:
    """Default probe input: 8x8 grayscale for the models that take it (as digits), else 32x32x3."""
    from suite.spec.models import GRAYSCALE_MODELS

    if model in GRAYSCALE_MODELS:
        return input_size or 8, 1
    return input_size or 32, 3


def format_rows(rows: list[ParityRow]) -> str:
    """A markdown table of the rows, with the tolerances in its header."""
    lines = [
        f"| model | reference | backend | max abs Δ logit (≤ {LOGIT_TOLERANCE:g} × max(1, max abs logit)) "
        f"| max abs Δ weight after 1 SGD step (≤ {WEIGHT_TOLERANCE:g} × max(1, max abs weight)) | verdict |",
        "|---|---|---|---|---|---|",
    ]
    for row in rows:
        logit = "—" if row.logit_diff is None else f"{row.logit_diff:.2e}"
        weight = "—" if row.weight_diff is None else f"{row.weight_diff:.2e}"
        lines.append(f"| {row.model} | {row.reference} | {row.other} | {logit} | {weight} | {row.verdict} |")
    return "\n".join(lines)
