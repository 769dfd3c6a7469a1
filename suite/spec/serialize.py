"""Resolved spec <-> TOML, and the stable run id derived from it."""

from __future__ import annotations

import hashlib
import json
import tomllib
from typing import Any

import tomli_w

from suite.spec.models import ExperimentSpec


def spec_to_data(spec: ExperimentSpec) -> dict[str, Any]:
    """Plain JSON-compatible dict of the resolved spec (None values dropped)."""
    return spec.model_dump(mode="json", exclude_none=True)


def spec_to_toml(spec: ExperimentSpec) -> str:
    """The resolved spec as TOML text (what ``spec.toml`` holds)."""
    return tomli_w.dumps(spec_to_data(spec))


def spec_from_toml(text: str) -> ExperimentSpec:
    """Parse a resolved ``spec.toml`` back into an ExperimentSpec."""
    return ExperimentSpec.model_validate(tomllib.loads(text))


EXECUTION_ONLY_KEYS = {"training": ("time_limit", "resumable", "resources")}
"""Keys that say how a run is executed, not what it computes: left out of the run id, so changing them (or
adding them to the spec format) never turns a completed run into a new one."""


def run_id(spec: ExperimentSpec) -> str:
    """12-hex-digit id: SHA-256 of the canonical JSON of the resolved spec (stable across runs and machines).

    The :data:`EXECUTION_ONLY_KEYS` are not part of it.
    """
    return data_run_id(spec_to_data(spec))


def data_run_id(data: dict[str, Any]) -> str:
    """:func:`run_id` of a resolved spec given as plain data (a stored ``spec.toml`` read back, not revalidated)."""
    data = dict(data)
    for section, keys in EXECUTION_ONLY_KEYS.items():
        data[section] = {key: value for key, value in data.get(section, {}).items() if key not in keys}
    canonical = json.dumps(data, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()[:12]
