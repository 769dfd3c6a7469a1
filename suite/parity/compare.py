"""``suite parity``: whether two backends compute the same function from the same weights.

For each shared architecture and each backend (and engine), a child process loads the same initial
weights, predicts one preprocessed batch in eval mode and takes one SGD step on it (dropout off), once in
float32 and once in float64. The first backend is the reference; every other one gets a row with max |Δ logit|
and max |Δ weight| after the step in both precisions, and each backend's own float32 rounding of that step
(max |float32 step − float64 step|).

Why float64: with BatchNorm in training mode, a deep network's one-step gradient is ill-conditioned in float32.
Torch against itself (contiguous against channels_last, or float32 against float64) differs by ~1e-2 relative
after one step of ResNet50, so no two float32 implementations can agree to 1e-5 there. A row passes when the
logits agree (float32), the float64 steps agree, and the float32 steps differ by no more than
:data:`ROUNDING_FACTOR` times the smaller of the two backends' own float32 rounding. When only one backend's
own float32 rounding explains the float32 difference (measured: Keras on JAX's CPU step is 1.3e-3 from its
float64 step where torch's is 4e-7), the row passes in float64 and its verdict says in words whose float32
arithmetic differs and by how much: the framework's, not the suite's.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from suite.lifeline import run_tied
from suite.runners.registry import discover

LOGIT_TOLERANCE = 1e-4
"""Largest max |Δ logit| that passes, relative to max(1, max |logit|) of the reference."""
WEIGHT_TOLERANCE = 1e-5
"""Largest max |Δ weight| after one step that passes, relative to max(1, max |weight|) of the reference."""
ROUNDING_FACTOR = 10.0
"""A float32 step difference above the tolerance passes only within this factor of the backends' own rounding."""
PROBE_TIMEOUT_S = 1800
"""A probe child still running after this many seconds is stopped and its row fails, naming the limit."""


@dataclass(frozen=True)
class ParityRow:
    """One comparison: model, reference and other backend label, the two maxima and a verdict."""

    model: str
    reference: str
    other: str
    logit_diff: float | None
    weight_diff: float | None
    verdict: str  # "ok", "FAIL", "not comparable: <reason>" or "error: <reason>"
    weight_diff_fp64: float | None = None
    own_rounding: tuple[float, float] | None = None
    """Each backend's (reference, other) max |float32 step − float64 step|: the float32 step's own error."""

    @property
    def passed(self) -> bool:
        """Within tolerance (in float64 at least, with the float32 difference said in words), or not comparable."""
        return self.verdict.startswith(("ok", "not comparable"))


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
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2", "OMP_WAIT_POLICY": "PASSIVE", "JAX_ENABLE_X64": "1"}
    env.update(entry.child_environment(entry.resolve_engine(engine)))
    args = [backend, engine or "-", model, str(size), str(channels), str(classes), str(out)]
    try:
        completed = run_tied(
            [sys.executable, "-m", "suite.parity.probe", *args],
            env,
            capture_output=True,
            text=True,
            check=False,
            timeout=PROBE_TIMEOUT_S,
        )
    except subprocess.TimeoutExpired:
        return f"the probe did not finish within {PROBE_TIMEOUT_S} s"
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
        weight = _max_difference(ref, oth, "weight", "weight", count)
        weight64 = _max_difference(ref, oth, "weight64", "weight64", count)
        rounding = (
            _max_difference(ref, ref, "weight", "weight64", count),
            _max_difference(oth, oth, "weight", "weight64", count),
        )
        weight_scale = max([1.0] + [float(np.abs(ref[f"weight_{i}"]).max()) for i in range(count)])
        note = str(ref["note"]) or str(oth["note"])
    if note:
        verdict = f"not comparable: {note}"
    else:
        verdict = _verdict(
            logit <= LOGIT_TOLERANCE * logit_scale,
            weight,
            weight64,
            WEIGHT_TOLERANCE * weight_scale,
            rounding,
            other[0],
        )
    return ParityRow(model, reference[0], other[0], logit, weight, verdict, weight64, rounding)


def _verdict(
    logits_agree: bool, weight: float, weight64: float, tolerance: float, rounding: tuple[float, float], other: str
) -> str:
    """``ok``; ``ok in float64; …`` when one backend's own float32 rounding explains the float32 steps; ``FAIL``."""
    if not logits_agree or weight64 > tolerance:
        return "FAIL"
    if weight <= tolerance or weight <= ROUNDING_FACTOR * min(rounding):
        return "ok"
    if weight <= ROUNDING_FACTOR * max(rounding):
        coarser = other if rounding[1] >= rounding[0] else "the reference"
        return (
            f"ok in float64; float32 steps differ by {coarser}'s own float32 rounding "
            f"({max(rounding):.1e} against {min(rounding):.1e})"
        )
    return "FAIL"


def _max_difference(first: Any, second: Any, first_prefix: str, second_prefix: str, count: int) -> float:
    """The largest |first[<prefix>_i] − second[<prefix>_i]| over the ``count`` weight slots."""
    return max(float(np.abs(first[f"{first_prefix}_{i}"] - second[f"{second_prefix}_{i}"]).max()) for i in range(count))


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
        f"| max abs Δ weight after 1 SGD step, float64 (≤ {WEIGHT_TOLERANCE:g} × max(1, max abs weight)) "
        f"| float32 | each float32 step's own rounding (reference / other) | verdict |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for row in rows:
        figures = [row.logit_diff, row.weight_diff_fp64, row.weight_diff]
        shown = " | ".join("—" if value is None else f"{value:.2e}" for value in figures)
        shown += " | " + ("—" if row.own_rounding is None else " / ".join(f"{v:.2e}" for v in row.own_rounding))
        lines.append(f"| {row.model} | {row.reference} | {row.other} | {shown} | {row.verdict} |")
    return "\n".join(lines)
