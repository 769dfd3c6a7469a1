"""Inject faults into real studies through the real ``suite`` command and count what survives.

Every fault goes through ``python -m suite ...`` in child processes, exactly as a user would meet it:

- kill -9 at random points: the executor (``suite run``) or its worker, ``--kills`` times; each time the
  next ``suite run --retry-failed`` continues, and a study that finished starts a fresh round. At the end of
  each round every run must be completed, with test metrics identical to an uninterrupted reference
  (``training.deterministic = true``).
- two executors started at once on one output directory.
- runs whose loss is NaN (sgd with lr 1e6 and 1e12): they must end ``diverged`` and stay out of the tables.
- damaged stored files (``--damage`` kinds): ``suite report`` must still succeed and name them, and the
  next ``suite run`` must rerun exactly the damaged runs.
- malformed spec files (benchmarks/faults/malformed_specs.py: syntax, YAML duplicates and tags, sizes, names):
  one line each, exit status 2.
- the case families of benchmarks/faults/cases.py: unusable ``--out``, files behind the spec, links leaving the
  study, damaged entries, full and read-only disks (tmpfs, where the machine allows mounting), a broken
  framework, and ``--jobs 1`` vs ``--jobs 2`` determinism; each case with its expected outcome.

Counted: runs lost (not completed at the end, or metrics that differ from the reference), runs executed
twice (a completed run's stored result rewritten by a later command it had no reason to touch, or two live
workers on one run), and Python tracebacks printed by any ``suite`` command.

    python benchmarks/reliability.py                   # about 10 minutes on 2 cores (torch backend)
    python benchmarks/reliability.py --kills 5 --markdown reliability.md
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import psutil

sys.path.insert(0, str(Path(__file__).parent))
from faults import cases as fault_cases  # noqa: E402
from faults.malformed_specs import MALFORMED_SPECS, write_case  # noqa: E402

TRACEBACK = "Traceback (most recent call last)"
COMMAND_TIMEOUT = 600

STUDY = """
[study]
name = "{name}"
seeds = {seeds}

[defaults]
backend = "{backend}"
dataset = {{ source = "digits", normalization = "unit", split = {{ val = 0.15, test = 0.2 }} }}
optimizer = {{ name = "{optimizer}", lr = {lr} }}
training = {{ epochs = {epochs}, batch_size = 32, device = "cpu", deterministic = true }}

[[experiments]]
name = "mlp"
model = {{ name = "mlp" }}
"""


@dataclass
class Row:
    """One line of the reliability table."""

    fault: str
    injected: int = 0
    survived: int = 0
    lost: int = 0
    twice: int = 0
    tracebacks: int = 0
    notes: list[str] = field(default_factory=list)


@dataclass
class Command:
    """What one ``suite`` command did."""

    code: int
    output: str


def suite(*args: str, timeout: float = COMMAND_TIMEOUT) -> Command:
    """Run ``python -m suite ARGS`` to its end."""
    completed = subprocess.run(
        [sys.executable, "-m", "suite", *args], capture_output=True, text=True, timeout=timeout, check=False
    )
    return Command(completed.returncode, completed.stdout + completed.stderr)


def write_study(directory: Path, name: str, backend: str, seeds: list[int], epochs: int, **optimizer: object) -> Path:
    """A digits MLP study file."""
    path = directory / f"{name}.toml"
    values = {"optimizer": "adam", "lr": 1e-3, **optimizer}
    path.write_text(STUDY.format(name=name, backend=backend, seeds=seeds, epochs=epochs, **values))
    return path


def stored_results(out: Path) -> dict[str, dict]:
    """run id -> result.json of every readable run under ``out``."""
    results = {}
    for directory in sorted((out / "runs").glob("*")):
        try:
            results[directory.name] = json.loads((directory / "result.json").read_text())
        except (OSError, ValueError):
            continue
    return results


def completed_fingerprints(out: Path) -> dict[str, str]:
    """run id -> hash of result.json + predictions.npz, for completed runs (changes iff the run was rewritten)."""
    prints = {}
    for run_id, result in stored_results(out).items():
        if isinstance(result, dict) and result.get("status") == "completed":
            digest = hashlib.sha256()
            for name in ("result.json", "predictions.npz"):
                path = out / "runs" / run_id / name
                digest.update(path.read_bytes() if path.exists() else b"")
            prints[run_id] = digest.hexdigest()
    return prints


def rewritten(before: dict[str, str], after: dict[str, str], allowed: set[str] = frozenset()) -> int:
    """How many runs completed before were rewritten since (excluding ``allowed``)."""
    return sum(1 for run_id, print_ in before.items() if run_id not in allowed and after.get(run_id) != print_)


def metrics_of(out: Path) -> dict[str, tuple[float, bytes]]:
    """run id -> (test accuracy, test scores bytes) of completed runs."""
    metrics = {}
    for run_id, result in stored_results(out).items():
        if result.get("status") == "completed":
            with np.load(out / "runs" / run_id / "predictions.npz", allow_pickle=False) as arrays:
                metrics[run_id] = (result["metrics"]["test_accuracy"], arrays["scores"].tobytes())
    return metrics


class WorkerWatch:
    """Samples the process table: live worker processes per run directory (duplicates = executed twice)."""

    def __init__(self, out: Path) -> None:
        self.out = str(out)
        self.duplicates = 0
        self.pids: dict[str, set[int]] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._watch, daemon=True)

    def __enter__(self) -> WorkerWatch:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(timeout=10)

    def live_workers(self) -> list[str]:
        """Run directories of the live workers under this output directory (a warm worker's: the one it runs now)."""
        found = []
        for process in psutil.process_iter(["cmdline"]):
            cmdline = process.info.get("cmdline") or []
            if "suite.execution.worker" not in cmdline:
                continue
            try:
                run = cmdline[-1] if cmdline[-1].startswith(self.out) else _serving(process, self.out)
                if run is not None and process.status() != psutil.STATUS_ZOMBIE:
                    found.append(run)
                    self.pids.setdefault(run, set()).add(process.pid)
            except (psutil.NoSuchProcess, psutil.AccessDenied):
                continue
        return found

    def executions_beyond_one(self) -> int:
        """Runs seen executed by more than one worker process."""
        return sum(len(pids) - 1 for pids in self.pids.values())

    def _watch(self) -> None:
        while not self._stop.wait(0.2):
            workers = self.live_workers()
            if len(workers) != len(set(workers)):
                self.duplicates += 1


def _serving(process: psutil.Process, out: str) -> str | None:
    """The run directory a warm worker (``worker --serve``) runs now: where its output goes (RUN_DIR/worker.log)."""
    if "--serve" not in process.cmdline():
        return None
    for handle in process.open_files():
        if handle.path.startswith(out) and handle.path.endswith("/worker.log"):
            return str(Path(handle.path).parent)
    return None


def wait_for_orphans(watch: WorkerWatch, executor: int | None = None, timeout: float = 15.0) -> int:
    """Workers still alive ``timeout`` seconds after their executor died (should be 0).

    Counted: workers on a run under the watched directory, and every warm worker (busy or idle) of ``executor``.
    """
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not watch.live_workers() and not _warm_workers_of(executor):
            return 0
        time.sleep(0.2)
    return len(watch.live_workers()) + len(_warm_workers_of(executor))


def _warm_workers_of(executor: int | None) -> list[int]:
    """Live warm workers (``worker --serve``) started by the process ``executor`` (their lifeline names it)."""
    if executor is None:
        return []
    pids = []
    for process in psutil.process_iter(["cmdline"]):
        cmdline = process.info.get("cmdline") or []
        if "suite.execution.worker" not in cmdline or "--serve" not in cmdline:
            continue
        try:
            parent = process.environ().get("TLBENCH_PARENT_PID")
            if parent == str(executor) and process.status() != psutil.STATUS_ZOMBIE:
                pids.append(process.pid)
        except (psutil.NoSuchProcess, psutil.AccessDenied):
            continue
    return pids


KILL_EPOCHS = 30


def kill_test(work: Path, backend: str, kills: int, rng: random.Random) -> Row:
    """kill -9 of the executor or its worker at a random point of training, resuming each time."""
    row = Row("kill -9 at a random point (executor or worker; half during start-up, half during training)")
    spec = write_study(work, "kills", backend, [0, 1], epochs=KILL_EPOCHS)
    reference = work / "reference"
    row.tracebacks += suite("run", str(spec), "--out", str(reference), "--quiet").output.count(TRACEBACK)
    expected = metrics_of(reference)
    round_index, out = 0, work / "kills-0"
    with WorkerWatch(work) as watch:
        for _ in range(3 * kills):  # bounded: a round that finishes before its kill costs an attempt
            if row.injected == kills:
                break
            before = completed_fingerprints(out) if out.exists() else {}
            command = ["run", str(spec), "--out", str(out), "--quiet", "--retry-failed", "--no-check"]
            process = subprocess.Popen(
                [sys.executable, "-m", "suite", *command], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True
            )
            saved = _resume_epochs(out)
            worker = _first_worker(process)
            if worker is not None:
                if row.injected % 4 < 2:  # while the worker starts up (imports, data, model)
                    time.sleep(rng.uniform(0.2, 6.0))
                else:  # during training: after it wrote a new resume state
                    _wait_for_new_state(out, saved, process)
                    time.sleep(rng.uniform(0.0, 1.5))
                target = worker if row.injected % 2 else psutil.Process(process.pid)
                try:
                    target.kill()
                    row.injected += 1
                except psutil.NoSuchProcess:
                    pass
            _, stderr = process.communicate(timeout=COMMAND_TIMEOUT)
            row.tracebacks += stderr.count(TRACEBACK)
            row.lost += wait_for_orphans(watch, process.pid)
            row.twice += rewritten(before, completed_fingerprints(out))
            if len(completed_fingerprints(out)) == len(expected):  # this round finished: start a fresh one
                _finish_round(spec, out, expected, row)
                round_index += 1
                out = work / f"kills-{round_index}"
        if out.exists():
            _finish_round(spec, out, expected, row)
        row.twice += watch.duplicates
    resumed = sum(int(note.split()[1]) for note in row.notes if note.startswith("kills-"))
    row.notes = [
        f"{round_index + (1 if out.exists() else 0)} rounds of 2 runs x {KILL_EPOCHS} epochs; {resumed} mid-run "
        "resumes; every round's metrics identical to an uninterrupted run's"
        if row.lost == 0
        else f"{row.lost} run(s) lost or with metrics unlike the uninterrupted run's",
    ]
    row.survived = max(row.injected - row.lost, 0)
    return row


def _resume_epochs(out: Path) -> dict[str, int]:
    """run id -> epoch of its resume state, for every run under ``out`` that has one."""
    epochs = {}
    for pointer in out.glob("runs/*/checkpoints/resume/resume.json"):
        try:
            epochs[pointer.parents[2].name] = int(json.loads(pointer.read_text())["epoch"])
        except (OSError, ValueError, KeyError, TypeError):
            continue
    return epochs


def _wait_for_new_state(out: Path, saved: dict[str, int], process: subprocess.Popen[str], timeout: float = 120) -> None:
    """Until some run under ``out`` has a resume state newer than ``saved`` (or the executor ended)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and process.poll() is None:
        if any(saved.get(run_id, -1) < epoch for run_id, epoch in _resume_epochs(out).items()):
            return
        time.sleep(0.05)


def _first_worker(process: subprocess.Popen[str], timeout: float = 120.0) -> psutil.Process | None:
    """The executor's first worker once it is training, or None when the executor ended first."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and process.poll() is None:
        try:
            children = psutil.Process(process.pid).children(recursive=True)
        except psutil.NoSuchProcess:
            return None
        for child in children:
            try:
                if "suite.execution.worker" in child.cmdline():
                    return child
            except psutil.NoSuchProcess:
                continue
        time.sleep(0.1)
    return None


def _finish_round(spec: Path, out: Path, expected: dict, row: Row) -> None:
    """Complete a round with a clean ``suite run --retry-failed`` and compare with the reference."""
    before = completed_fingerprints(out)
    done = suite("run", str(spec), "--out", str(out), "--quiet", "--retry-failed")
    row.tracebacks += done.output.count(TRACEBACK)
    row.twice += rewritten(before, completed_fingerprints(out))
    got = metrics_of(out)
    lost = sum(1 for run_id, value in expected.items() if got.get(run_id) != value)
    resumed = sum(int(result.get("resumes") or 0) for result in stored_results(out).values())
    row.notes.append(f"{out.name}: {resumed} resumed")
    row.lost += lost


def concurrency_test(work: Path, backend: str) -> Row:
    """Two executors at once on one output directory, and the same study with --jobs 1 vs --jobs 2."""
    row = Row("two executors on one output directory")
    spec = write_study(work, "twice", backend, [0, 1, 2, 3], epochs=4)
    out = work / "twice"
    with WorkerWatch(out) as watch:
        processes = [
            subprocess.Popen(
                [sys.executable, "-m", "suite", "run", str(spec), "--out", str(out), "--quiet"],
                stdout=subprocess.DEVNULL,
                stderr=subprocess.PIPE,
                text=True,
            )
            for _ in range(2)
        ]
        outputs = [process.communicate(timeout=COMMAND_TIMEOUT)[1] for process in processes]
    row.injected = 4
    row.tracebacks = sum(text.count(TRACEBACK) for text in outputs)
    row.twice = watch.duplicates + watch.executions_beyond_one()
    results = stored_results(out)
    row.survived = sum(1 for result in results.values() if result.get("status") == "completed")
    row.lost = 4 - row.survived
    skipped = sum(_count(text, "running elsewhere") for text in outputs)
    row.notes.append(f"{skipped} run(s) skipped as 'running elsewhere' by the other executor")
    return row


def _count(output: str, status: str) -> int:
    """The number on ``suite run``'s ``STATUS: N`` line (0 when absent)."""
    for line in output.splitlines():
        if line.startswith(f"{status}: ") and line.split(": ", 1)[1].strip().isdigit():
            return int(line.split(": ", 1)[1])
    return 0


def parallel_speed(work: Path, backend: str) -> str:
    """Wall time of a 4-run study with --jobs 1 and --jobs 2 (a fresh output directory each)."""
    spec = write_study(work, "jobs", backend, [0, 1, 2, 3], epochs=6)
    seconds = {}
    for jobs in (1, 2):
        started = time.perf_counter()
        suite("run", str(spec), "--out", str(work / f"jobs-{jobs}"), "--quiet", "--jobs", str(jobs))
        seconds[jobs] = time.perf_counter() - started
    return (
        f"4-run digits study: --jobs 1 {seconds[1]:.1f} s, --jobs 2 {seconds[2]:.1f} s ({seconds[1] / seconds[2]:.2f}x)"
    )


def divergence_test(work: Path, backend: str) -> Row:
    """Runs whose loss is NaN must end ``diverged``, exit status 1, and stay out of the report's tables."""
    row = Row("NaN loss (sgd, lr 1e6 and 1e12)")
    for lr in (1e6, 1e12):
        spec = write_study(work, f"nan{lr:g}".replace("+", ""), backend, [0], epochs=3, optimizer="sgd", lr=lr)
        out = work / spec.stem
        ran = suite("run", str(spec), "--out", str(out), "--quiet")
        report = suite("report", str(out), "--out", str(out / "report.md"))
        row.injected += 1
        row.tracebacks += ran.output.count(TRACEBACK) + report.output.count(TRACEBACK)
        statuses = [result.get("status") for result in stored_results(out).values()]
        text = (out / "report.md").read_text() if (out / "report.md").exists() else ""
        if ran.code == 1 and statuses == ["diverged"] and report.code == 0 and "diverged" in text:
            row.survived += 1
        else:
            row.lost += 1
            row.notes.append(f"lr {lr:g}: exit {ran.code}, statuses {statuses}, report exit {report.code}")
    return row


def _damage_result_garbage(run: Path) -> None:
    (run / "result.json").write_bytes(b'{"status": "completed", "metrics": {')


DAMAGES = {
    "result.json cut mid-object": _damage_result_garbage,
    "result.json is a list": lambda run: (run / "result.json").write_text("[1, 2, 3]"),
    "result.json is binary": lambda run: (run / "result.json").write_bytes(os.urandom(64)),
    "result.json empty": lambda run: (run / "result.json").write_bytes(b""),
    "history.csv garbage": lambda run: (run / "history.csv").write_bytes(b"\x00\xffnot,a\ncsv"),
    "history.csv deleted": lambda run: (run / "history.csv").unlink(),
    "predictions.npz truncated": lambda run: (run / "predictions.npz").write_bytes(
        (run / "predictions.npz").read_bytes()[:100]
    ),
    "predictions.npz deleted": lambda run: (run / "predictions.npz").unlink(),
    "predictions.npz holds a pickle": lambda run: np.savez(
        run / "predictions.npz", labels=np.array([object()], dtype=object), scores=np.zeros((1, 10))
    ),
    "spec.toml binary": lambda run: (run / "spec.toml").write_bytes(b"\x89PNG\r\n\x1a\n" + os.urandom(32)),
    "study.json garbage": lambda run: (run.parent.parent / "study.json").write_text("{not json"),
}


def damage_test(work: Path, backend: str, count: int) -> Row:
    """Damage stored files one kind at a time; report must survive and name them, run must redo them."""
    row = Row("damaged stored files")
    spec = write_study(work, "damage", backend, [0, 1], epochs=2)
    out = work / "damage"
    row.tracebacks += suite("run", str(spec), "--out", str(out), "--quiet").output.count(TRACEBACK)
    kinds = list(DAMAGES.items())[:count]
    for index, (kind, damage) in enumerate(kinds):
        runs = sorted((out / "runs").iterdir())
        victim = runs[index % len(runs)]
        before = completed_fingerprints(out)
        damage(victim)
        row.injected += 1
        report = suite("report", str(out), "--out", str(out / "report.md"))
        rerun = suite("run", str(spec), "--out", str(out), "--quiet")
        row.tracebacks += report.output.count(TRACEBACK) + rerun.output.count(TRACEBACK)
        row.twice += rewritten(before, completed_fingerprints(out), allowed={victim.name})
        healthy = completed_fingerprints(out)
        if report.code == 0 and rerun.code == 0 and len(healthy) == len(runs):
            row.survived += 1
        else:
            row.lost += 1
            row.notes.append(f"{kind}: report exit {report.code}, rerun exit {rerun.code}: {rerun.output[-200:]!r}")
    return row


def malformed_spec_test(work: Path, count: int = len(MALFORMED_SPECS)) -> Row:
    """Each of the first ``count`` malformed spec files: exit status 2, one line, no traceback."""
    row = Row("malformed spec files")
    (work / "malformed").mkdir()
    for label, content in MALFORMED_SPECS[:count]:
        path = write_case(work / "malformed", label, content)
        checked = suite("validate", str(path), "--no-check")
        row.injected += 1
        row.tracebacks += checked.output.count(TRACEBACK)
        lines = [line for line in checked.output.splitlines() if line.strip()]
        if checked.code == 2 and len(lines) == 1:
            row.survived += 1
        else:
            row.lost += 1
            row.notes.append(f"{label}: exit {checked.code}, {len(lines)} lines")
    return row


CASE_FAMILIES = {
    "out": "unusable --out (empty, a file, under a file, uncreatable)",
    "files": (
        "files behind the spec (garbage, empty or foreign weights, /etc paths, single-class, corrupt, empty folders)"
    ),
    "links": "stored files linked outside the study (report, export)",
    "damaged": "damaged entries (predictions a directory, spec edited, resume state unreadable)",
    "disks": "runs a file; full and read-only disks (tmpfs)",
    "backend": "a framework that raises on import (list, run --no-check)",
    "determinism": "deterministic study, --jobs 1 vs --jobs 2 (bitwise scores)",
}
"""The families of benchmarks/faults/cases.py, with the table's description of each."""


def case_rows(work: Path, families: list[str]) -> list[Row]:
    """One row per family of benchmarks/faults/cases.py: cases tried, held, and each defect as a note."""
    invoke = fault_cases.subprocess_invoke
    needs_study = {"links", "damaged", "disks"} & set(families)
    study = fault_cases.completed_study(work / "base", invoke) if needs_study else None
    rows = []
    for family in families:
        row = Row(CASE_FAMILIES[family])
        if family == "determinism":
            problem = fault_cases.jobs_determinism(work, invoke)
            row.injected, row.survived, row.lost = 1, int(problem is None), int(problem is not None)
            row.notes += [problem] if problem else []
            rows.append(row)
            continue
        if family == "disks":
            chosen = fault_cases.disk_cases()
        elif family == "backend":
            chosen = fault_cases.backend_cases(work)
        else:
            chosen = fault_cases.CASES[family]
        tally = fault_cases.run_cases(chosen, invoke, study)
        row.injected, row.survived = tally.tried.get(family, 0), tally.held.get(family, 0)
        row.lost, row.notes = len(tally.defects), list(tally.defects)
        if family == "disks" and len(chosen) == len(fault_cases.DISK_CASES):
            row.notes.append("no tmpfs: this machine does not let the benchmark mount one")
        rows.append(row)
    return rows


def markdown(rows: list[Row], speed: str) -> str:
    """The README's reliability table."""
    lines = [
        "| fault | injected | survived | lost | executed twice | tracebacks |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for row in rows:
        lines.append(f"| {row.fault} | {row.injected} | {row.survived} | {row.lost} | {row.twice} | {row.tracebacks} |")
    lines.append("")
    lines.append(f"Parallel runs: {speed}.")
    for row in rows:
        for note in row.notes:
            lines.append(f"- {row.fault}: {note}")
    return "\n".join(lines) + "\n"


FAMILIES = ("malformed", *CASE_FAMILIES, "nan", "damage", "concurrency", "kills", "jobs")


def main(argv: list[str] | None = None) -> int:
    """Run every fault family; exit 1 when anything was lost, executed twice or printed a traceback."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backend", default="torch", help="backend of the studies (default torch)")
    parser.add_argument("--kills", type=int, default=20, help="kill -9 injections (default 20)")
    parser.add_argument("--damage", type=int, default=len(DAMAGES), help=f"damage kinds (max {len(DAMAGES)})")
    parser.add_argument("--seed", type=int, default=0, help="seed of the random kill points")
    parser.add_argument(
        "--malformed", type=int, default=len(MALFORMED_SPECS), help=f"malformed specs (max {len(MALFORMED_SPECS)})"
    )
    parser.add_argument(
        "--faults", default=",".join(FAMILIES), help=f"comma-separated families (default all: {','.join(FAMILIES)})"
    )
    parser.add_argument("--markdown", type=Path, help="also write the table to this file")
    parser.add_argument("--keep", action="store_true", help="keep the work directory")
    args = parser.parse_args(argv)
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
    work = Path(tempfile.mkdtemp(prefix="tlbench-faults-"))
    try:
        chosen = [name.strip() for name in args.faults.split(",") if name.strip()]
        unknown = [name for name in chosen if name not in FAMILIES]
        if unknown:
            parser.error(f"--faults: unknown {', '.join(unknown)}; choose from {', '.join(FAMILIES)}")
        runs = {
            "malformed": lambda: malformed_spec_test(work, args.malformed),
            "nan": lambda: divergence_test(work, args.backend),
            "damage": lambda: damage_test(work, args.backend, args.damage),
            "concurrency": lambda: concurrency_test(work, args.backend),
            "kills": lambda: kill_test(work, args.backend, args.kills, random.Random(args.seed)),
        }
        rows = [runs[name]() for name in chosen if name in runs]
        at = 1 if "malformed" in chosen else 0  # the case families follow the malformed specs
        rows[at:at] = case_rows(work, [name for name in chosen if name in CASE_FAMILIES])
        speed = parallel_speed(work, args.backend) if "jobs" in chosen else "not measured"
    finally:
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)
        else:
            print(f"work directory kept: {work}", file=sys.stderr)
    table = markdown(rows, speed)
    print(table)
    if args.markdown:
        args.markdown.write_text(table)
    bad = sum(row.lost + row.twice + row.tracebacks for row in rows)
    return 1 if bad else 0


if __name__ == "__main__":
    signal.signal(signal.SIGINT, signal.default_int_handler)
    sys.exit(main(sys.argv[1:]))
