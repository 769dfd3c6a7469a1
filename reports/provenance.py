"""Provenance footer: hardware, framework versions, run ids (spec hashes), commands and dates."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

from reports.load import RunRecord, study_name


def hardware_lines(records: list[RunRecord]) -> list[str]:
    """One line per distinct machine: CPU model, cores, device, GPU, with how many runs used it."""
    machines: Counter[str] = Counter()
    for record in records:
        env = record.result.get("environment") or {}
        if not env:
            continue
        gpu = env.get("gpu") or "none"
        machines[
            f"CPU {env.get('cpu', '?')} ({env.get('cores', '?')} cores), device {env.get('device', '?')}, GPU {gpu}"
        ] += 1
    return [f"{machine} — {runs} run(s)" for machine, runs in sorted(machines.items())]


def framework_lines(records: list[RunRecord]) -> list[str]:
    """Every framework version seen (several versions of one framework are all listed)."""
    versions: dict[str, set[str]] = {}
    for record in records:
        env = record.result.get("environment") or {}
        if env.get("python"):
            versions.setdefault("python", set()).add(str(env["python"]))
        for name, version in (env.get("frameworks") or {}).items():
            versions.setdefault(name, set()).add(str(version))
    return [f"{name} {', '.join(sorted(found))}" for name, found in sorted(versions.items())]


def study_lines(study_dirs: list[Path], studies: list[dict]) -> list[str]:
    """Per study directory: its name, the command that produced it and its date, then every later invocation."""
    lines = []
    for directory, study in zip(study_dirs, studies, strict=True):
        name = study_name(study, directory)
        command = study.get("command")
        date = study.get("date")
        line = f"**{name}** (`{directory}`)"
        if date:
            line += f", {date}"
        if command:
            line += f": `{command}`"
        lines.append(line)
        invocations = study.get("invocations")
        for later in (invocations if isinstance(invocations, list) else [])[1:]:
            runs = len(later.get("run_ids") or [])
            lines.append(f"**{name}** again, {later.get('date', '?')}: `{later.get('command', '?')}` ({runs} run(s))")
    return lines


def run_id_lines(records: list[RunRecord]) -> list[str]:
    """``run_id`` (the hash of the resolved spec) and name of every run."""
    return [f"`{record.result.get('run_id', record.key)}` {record.result.get('name', '')}" for record in records]


def footer(study_dirs: list[Path], studies: list[dict], records: list[RunRecord]) -> str:
    """Markdown provenance section."""
    generated = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    parts = ["## Provenance", "", f"Report generated {generated} from stored results only.", ""]
    for title, lines in (
        ("Studies and commands", study_lines(study_dirs, studies)),
        ("Hardware", hardware_lines(records)),
        ("Software", framework_lines(records)),
    ):
        if lines:
            parts += [f"**{title}**", "", *[f"- {line}" for line in lines], ""]
    ids = run_id_lines(records)
    if ids:
        parts += [
            "<details><summary>Run ids (spec hashes)</summary>",
            "",
            *[f"- {line}" for line in ids],
            "",
            "</details>",
            "",
        ]
    return "\n".join(parts)
