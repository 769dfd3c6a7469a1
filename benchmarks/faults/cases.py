"""Fault cases beyond malformed spec files, each with its expected outcome, through the real ``suite`` command.

Families (``FAMILIES``): ``out`` (unusable ``--out``), ``files`` (what a run would read: weights headers, image
folders, system paths), ``links`` (stored files that are links leaving the study), ``damaged`` (a completed run's
predictions turned into a directory, its spec edited, a resume state that cannot be read), ``disks`` (a full and a
read-only disk on a small tmpfs where the machine lets this process mount one, and ``runs`` being a file),
``backend`` (a framework that is installed but raises on import) and ``jobs`` (a deterministic study with
``--jobs 1`` and ``--jobs 2``). ``FAST_FAMILIES`` need no training; the default ``pytest`` runs them.

A case prepares its files under a work directory (``study`` cases get a copy of one completed study), runs one
``suite`` command (``invoke``) and checks what came back; :func:`run_cases` counts the cases that held.
Every check also demands no traceback on the console.
"""

from __future__ import annotations

import json
import os
import shutil
import struct
import subprocess
import sys
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

TRACEBACK = "Traceback (most recent call last)"
SECRET = "SECRET-FROM-OUTSIDE"
Invoke = Callable[[list[str], dict[str, str]], tuple[int, str]]
"""Runs ``suite ARGS`` with extra environment variables; returns (exit status, stdout + stderr)."""

STUDY = """
[study]
name = "{name}"
seeds = [0, 1]

[defaults]
backend = "torch"
dataset = {{ source = "digits", normalization = "unit", subset = {{ train = 300 }} }}
optimizer = {{ name = "adam", lr = 0.001 }}
training = {{ epochs = {epochs}, batch_size = 32, device = "cpu", deterministic = true }}

[[experiments]]
name = "mlp"
model = {{ name = "mlp" }}
"""


@dataclass(frozen=True)
class Case:
    """One fault: ``prepare(work)`` writes what it needs and returns the ``suite`` arguments; ``check`` says what
    went wrong (None: the case held). ``study``: the work directory holds a completed study first (``out/``)."""

    family: str
    label: str
    prepare: Callable[[Path], list[str]]
    check: Callable[[Path, int, str], str | None]
    study: bool = False
    env: dict[str, str] = field(default_factory=dict)


@dataclass
class Tally:
    """Cases tried and held per family, and what went wrong in the others."""

    tried: dict[str, int] = field(default_factory=dict)
    held: dict[str, int] = field(default_factory=dict)
    defects: list[str] = field(default_factory=list)


def subprocess_invoke(args: list[str], env: dict[str, str]) -> tuple[int, str]:
    """``python -m suite ARGS`` in a fresh process (what a user runs)."""
    completed = subprocess.run(
        [sys.executable, "-m", "suite", *args],
        capture_output=True,
        text=True,
        env={**os.environ, **env},
        timeout=900,
        check=False,
    )
    return completed.returncode, completed.stdout + completed.stderr


def run_cases(cases: list[Case], invoke: Invoke, study: Path | None = None) -> Tally:
    """Run each case in a fresh work directory (with a copy of ``study`` as ``out/`` when it needs one)."""
    tally = Tally()
    for case in cases:
        with tempfile.TemporaryDirectory(prefix="tlbench-fault-") as tmp:
            work = Path(tmp)
            if case.study:
                if study is None:
                    continue
                shutil.copytree(study, work / "out", symlinks=True)
            tally.tried[case.family] = tally.tried.get(case.family, 0) + 1
            try:
                code, output = invoke(case.prepare(work), case.env)
                problem = "a traceback on the console" if TRACEBACK in output else case.check(work, code, output)
            except Exception as exc:  # noqa: BLE001 - a case that cannot even run is a defect, not a crash
                problem = f"{type(exc).__name__}: {exc}"
        if problem is None:
            tally.held[case.family] = tally.held.get(case.family, 0) + 1
        else:
            tally.defects.append(f"{case.family}/{case.label}: {problem}")
    return tally


def completed_study(work: Path, invoke: Invoke, epochs: int = 2) -> Path:
    """A completed two-run study (torch MLP on digits) at ``work/out``, its spec at ``work/study.toml``."""
    work.mkdir(parents=True, exist_ok=True)
    spec = work / "study.toml"
    spec.write_text(STUDY.format(name="faults", epochs=epochs))
    code, output = invoke(["run", str(spec), "--out", str(work / "out"), "--quiet", "--no-check"], {})
    if code != 0:
        raise RuntimeError(f"the base study did not complete: {output[-300:]}")
    return work / "out"


# --- checks ---------------------------------------------------------------------------------------------------


def _lines(output: str) -> list[str]:
    return [line for line in output.splitlines() if line.strip()]


def refused(code: int, *needles: str, lines: int | None = 1) -> Callable[[Path, int, str], str | None]:
    """Exit status ``code``, ``lines`` lines (None: any), each needle somewhere in the output."""

    def check(work: Path, actual: int, output: str) -> str | None:
        text = " ".join(output.split())
        if actual != code:
            return f"exit {actual}, expected {code}: {text[-200:]}"
        if lines is not None and len(_lines(output)) != lines:
            return f"{len(_lines(output))} lines, expected {lines}: {text[-200:]}"
        missing = [needle for needle in needles if needle.replace("{work}", str(work)) not in text]
        return f"missing {missing!r} in {text[-300:]!r}" if missing else None

    return check


def _runs(work: Path) -> list[Path]:
    return sorted(path for path in (work / "out" / "runs").iterdir() if path.is_dir())


def _result(run: Path) -> dict:
    return json.loads((run / "result.json").read_text())


# --- out ------------------------------------------------------------------------------------------------------


def _spec_file(work: Path) -> Path:
    path = work / "study.toml"
    path.write_text(STUDY.format(name="faults", epochs=1))
    return path


def _out_case(label: str, out: Callable[[Path], str], message: str) -> Case:
    def prepare(work: Path) -> list[str]:
        (work / "a_file").write_text("not a directory")
        return ["run", str(_spec_file(work)), "--out", out(work), "--quiet", "--no-check"]

    return Case("out", label, prepare, refused(2, message))


OUT_CASES = [
    _out_case("empty path", lambda work: "", "--out: empty path"),
    _out_case("a file", lambda work: str(work / "a_file"), "is a file, not a directory"),
    _out_case("under a file", lambda work: str(work / "a_file" / "sub"), "cannot be created, {work}/a_file is a file"),
    _out_case("uncreatable", lambda work: "/proc/tlbench/out", "cannot be created"),
]


# --- files behind the spec ------------------------------------------------------------------------------------


def _validate_with(model: str = '{ name = "mlp" }', dataset: str = '{ source = "digits" }') -> Callable:
    def prepare(work: Path) -> list[str]:
        text = STUDY.format(name="files", epochs=1).replace('model = { name = "mlp" }', f"model = {model}")
        text = text.replace('dataset = { source = "digits", normalization = "unit", subset = { train = 300 } }', "")
        text = text.replace("[[experiments]]", f"[[experiments]]\ndataset = {dataset}".replace("{work}", str(work)))
        (work / "study.toml").write_text(text.replace("{work}", str(work)))
        _write_files(work)
        return ["validate", str(work / "study.toml"), "--seeds", "0"]

    return prepare


def _write_files(work: Path) -> None:
    (work / "garbage.pt").write_bytes(b"this is not a checkpoint")
    (work / "empty.weights.h5").write_bytes(b"")
    header = b'{"__metadata__": {}}'
    (work / "no_tensors.safetensors").write_bytes(struct.pack("<Q", len(header)) + header)
    data = bytes(4 * 3 * 3 * 3 * 4)  # a float32 conv kernel of another network's shape
    table = {"conv1.weight": {"dtype": "F32", "shape": [4, 3, 3, 3], "data_offsets": [0, len(data)]}}
    header = json.dumps(table).encode()
    (work / "other_network.safetensors").write_bytes(struct.pack("<Q", len(header)) + header + data)
    png = bytes.fromhex(
        "89504e470d0a1a0a0000000d4948445200000001000000010800000000"
        "3a7e9b550000000a49444154789c63600000000200015e0a5c0f0000000049454e44ae426082"
    )
    for folder, classes in {"single": {"cat": png}, "corrupt": {"cat": png, "dog": b"garbage"}}.items():
        for name, content in classes.items():
            (work / folder / name).mkdir(parents=True)
            (work / folder / name / "0.png").write_bytes(content)
    (work / "no_images" / "cat").mkdir(parents=True)
    (work / "no_images" / "dog").mkdir(parents=True)


def _weights(name: str) -> str:
    return '{ name = "resnet18", weights = "{work}/' + name + '" }'


FILES_CASES = [
    Case(
        "files",
        "garbage weights",
        _validate_with(_weights("garbage.pt")),
        refused(2, "model.weights", "garbage.pt: not a weights file", lines=None),
    ),
    Case(
        "files",
        "empty weights",
        _validate_with(_weights("empty.weights.h5")),
        refused(2, "model.weights", "empty file", lines=None),
    ),
    Case(
        "files",
        "weights without tensors",
        _validate_with(_weights("no_tensors.safetensors")),
        refused(2, "a safetensors file without tensors", lines=None),
    ),
    Case(
        "files",
        "weights of another network",
        _validate_with(_weights("other_network.safetensors"), '{ source = "digits", image_size = 32, channels = 3 }'),
        refused(2, "model.weights: does not load into resnet18", "expected (64, 3, 7, 7)", lines=None),
    ),
    Case(
        "files",
        "weights in /etc",
        _validate_with('{ name = "resnet18", weights = "../../../../../../../../etc/passwd" }'),
        refused(2, "inside the system directory /etc", lines=None),
    ),
    Case(
        "files",
        "single-class folder",
        _validate_with(dataset='{ source = "folder", path = "{work}/single", image_size = 8 }'),
        refused(2, "dataset.path", "a classifier needs at least 2", lines=None),
    ),
    Case(
        "files",
        "corrupt image",
        _validate_with(dataset='{ source = "folder", path = "{work}/corrupt", image_size = 8 }'),
        refused(2, "dog/0.png: not an image", lines=None),
    ),
    Case(
        "files",
        "class without images",
        _validate_with(dataset='{ source = "folder", path = "{work}/no_images", image_size = 8 }'),
        refused(2, "no images", lines=None),
    ),
]


# --- links leaving the study ----------------------------------------------------------------------------------


def _link_case(name: str, content: str, command: str) -> Case:
    def prepare(work: Path) -> list[str]:
        outside = work / "outside.txt"
        outside.write_text(content)
        victim = _runs(work)[0] / name
        victim.unlink(missing_ok=True)
        victim.symlink_to(outside)
        if command == "export":
            return ["export", str(work / "out"), "--mlflow", f"sqlite:///{work / 'mlflow.db'}"]
        return ["report", str(work / "out"), "--out", str(work / "report.md")]

    def check(work: Path, code: int, output: str) -> str | None:
        copied = [
            path for path in work.rglob("*") if path.is_file() and not path.is_symlink() and path.name != "outside.txt"
        ]
        leaked = [str(path) for path in copied if SECRET.encode() in path.read_bytes()]
        if SECRET in output or leaked:
            return f"the outside file was read: {leaked or 'console'}"
        return None if "outside the study directory" in " ".join(output.split()) else f"no warning: {output[-200:]!r}"

    return Case("links", f"{name} via {command}", prepare, check, study=True)


LINK_CASES = [
    _link_case(
        "result.json", json.dumps({"status": "completed", "name": SECRET, "metrics": {"test_accuracy": 1}}), "report"
    ),
    _link_case("history.csv", f"{SECRET},epoch\n0,1\n", "report"),
    _link_case("plan.json", json.dumps({"secret": SECRET}), "export"),
]


# --- damaged entries of a completed study ---------------------------------------------------------------------


def _rerun(work: Path, *extra: str) -> list[str]:
    return ["run", str(_spec_file_of_study(work)), "--out", str(work / "out"), "--quiet", "--no-check", *extra]


def _spec_file_of_study(work: Path) -> Path:
    path = work / "study.toml"
    path.write_text(STUDY.format(name="faults", epochs=2))
    return path


def _predictions_directory(work: Path) -> list[str]:
    predictions = _runs(work)[0] / "predictions.npz"
    predictions.unlink()
    (predictions / "inside").mkdir(parents=True)
    return _rerun(work)


def _spec_edited(work: Path) -> list[str]:
    spec = _runs(work)[0] / "spec.toml"
    spec.write_text(spec.read_text().replace("seed = 0", "seed = 7").replace("seed = 1", "seed = 7"))
    return _rerun(work)


def _resume_state_unreadable(work: Path) -> list[str]:
    run = _runs(work)[0]
    state = run / "checkpoints" / "resume" / "epoch-0000-deadbeef"
    (state / "session").mkdir(parents=True)
    (state / "core.json").write_bytes(b"\x80\x04\x95 a pickle, not JSON")
    from suite.training.resume import ResumeStore

    pointer = {"directory": state.name, "spec_hash": ResumeStore.for_run(run).digest, "epoch": 0, "format": 1}
    (state.parent / "resume.json").write_text(json.dumps(pointer))
    result = {**_result(run), "status": "failed", "error": "killed"}
    (run / "result.json").write_text(json.dumps(result))
    return _rerun(work, "--retry-failed")


def _all_completed(aside: str | None = None) -> Callable[[Path, int, str], str | None]:
    def check(work: Path, code: int, output: str) -> str | None:
        statuses = [_result(run)["status"] for run in _runs(work)]
        if code != 0 or statuses != ["completed", "completed"]:
            return f"exit {code}, statuses {statuses}: {output[-200:]!r}"
        if aside and not list(_runs(work)[0].glob(f"{aside}.damaged-*")):
            return f"the damaged {aside} was not kept aside"
        return None

    return check


DAMAGED_CASES = [
    Case(
        "damaged",
        "predictions.npz became a directory",
        _predictions_directory,
        _all_completed("predictions.npz"),
        study=True,
    ),
    Case("damaged", "spec.toml edited (seed = 7)", _spec_edited, _all_completed("spec.toml"), study=True),
    Case("damaged", "resume state unreadable", _resume_state_unreadable, _all_completed(), study=True),
]


# --- disks ----------------------------------------------------------------------------------------------------


def can_mount() -> bool:
    """True when this process may mount a tmpfs (root in a sandbox that allows it)."""
    probe = Path(tempfile.mkdtemp(prefix="tlbench-mount-"))
    try:
        mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", str(probe)], capture_output=True)
        if mounted.returncode != 0:
            return False
        subprocess.run(["umount", str(probe)], check=False)
        return True
    except OSError:
        return False
    finally:
        probe.rmdir()


def _disk_case(label: str, size: str, read_only: bool) -> Case:
    """The study copied onto a small tmpfs (full or read-only); rerunning with one more seed must fail in one line
    with the old results intact, and complete once the disk has room again."""

    def prepare(work: Path) -> list[str]:
        disk = work / "disk"
        disk.mkdir()
        subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(disk)], check=True)
        shutil.copytree(work / "out", disk / "out", symlinks=True)
        filler = disk / "filler"
        if not read_only:
            with open(filler, "wb") as handle:  # fill what is left
                try:
                    while True:
                        handle.write(b"\0" * 65536)
                except OSError:
                    pass
        else:
            subprocess.run(["mount", "-o", "remount,ro", str(disk)], check=True)
        spec = work / "more.toml"
        spec.write_text(STUDY.format(name="faults", epochs=2).replace("seeds = [0, 1]", "seeds = [0, 1, 2]"))
        return ["run", str(spec), "--out", str(disk / "out"), "--quiet", "--no-check"]

    def check(work: Path, code: int, output: str) -> str | None:
        disk = work / "disk"
        try:
            line = " ".join(output.split())
            cause = "Read-only file system" if read_only else "No space left on device"
            if code != 1 or cause not in line or "cannot write" not in line:
                return f"exit {code}: {line[-200:]!r}"
            old = {run.name: (run / "result.json").read_bytes() for run in _runs(work)}
            kept = {name: (disk / "out" / "runs" / name / "result.json").read_bytes() for name in old}
            if kept != old:
                return "a completed result changed on the failing disk"
            temps = [path.name for path in (disk / "out").rglob(".*") if path.is_file() and ".lock" not in path.name]
            if temps:
                return f"half-written files left behind: {temps}"
            if read_only:
                subprocess.run(["mount", "-o", "remount,rw", str(disk)], check=True)
            (disk / "filler").unlink(missing_ok=True)
            again = subprocess_invoke(
                ["run", str(work / "more.toml"), "--out", str(disk / "out"), "--quiet", "--no-check"], {}
            )
            return None if again[0] == 0 else f"the rerun after freeing space failed: {again[1][-200:]!r}"
        finally:
            subprocess.run(["umount", "-l", str(disk)], check=False)

    return Case("disks", label, prepare, check, study=True)


def _runs_is_a_file(work: Path) -> list[str]:
    shutil.rmtree(work / "out" / "runs")
    (work / "out" / "runs").write_text("a file where the runs go")
    return _rerun(work)


DISK_CASES = [
    Case("disks", "runs is a file", _runs_is_a_file, refused(2, "cannot write", "Not a directory"), study=True),
]
"""Run everywhere; :func:`disk_cases` adds the tmpfs cases where mounting works."""


def disk_cases() -> list[Case]:
    """The disk cases this machine allows (the tmpfs ones need permission to mount)."""
    mounted = [_disk_case("disk full (tmpfs)", "8m", False), _disk_case("read-only disk (tmpfs)", "8m", True)]
    return [*DISK_CASES, *mounted] if can_mount() else list(DISK_CASES)


# --- a broken framework ---------------------------------------------------------------------------------------


def _broken_torch(work: Path) -> dict[str, str]:
    (work / "shim" / "torch").mkdir(parents=True, exist_ok=True)
    (work / "shim" / "torch" / "__init__.py").write_text(
        'raise ImportError("libtorch_cpu.so: cannot open shared object")'
    )
    return {"PYTHONPATH": f"{work / 'shim'}{os.pathsep}{os.environ.get('PYTHONPATH', '')}"}


BACKEND_CASES = [
    Case(
        "backend", "suite list", lambda work: ["list", "--no-models"], refused(0, "importing torch fails", lines=None)
    ),
    Case(
        "backend",
        "suite run --no-check",
        lambda work: ["run", str(_spec_file(work)), "--out", str(work / "o"), "--quiet", "--no-check"],
        refused(1, "unavailable: 2", "importing torch fails", lines=None),
    ),
]


def backend_cases(work: Path) -> list[Case]:
    """BACKEND_CASES with a shim that makes ``import torch`` raise on their PYTHONPATH (under ``work``)."""
    env = _broken_torch(work)
    return [Case(case.family, case.label, case.prepare, case.check, case.study, env) for case in BACKEND_CASES]


# --- determinism across --jobs --------------------------------------------------------------------------------


def jobs_determinism(work: Path, invoke: Invoke) -> str | None:
    """The same deterministic four-run study with --jobs 1 and --jobs 2: bitwise equal scores and losses."""
    import numpy as np

    spec = work / "jobs.toml"
    spec.write_text(STUDY.format(name="jobs", epochs=3).replace("seeds = [0, 1]", "seeds = [0, 1, 2, 3]"))
    stored = {}
    for jobs in (1, 2):
        out = work / f"jobs-{jobs}"
        code, output = invoke(["run", str(spec), "--out", str(out), "--quiet", "--no-check", "--jobs", str(jobs)], {})
        if code != 0:
            return f"--jobs {jobs}: exit {code}: {output[-200:]!r}"
        stored[jobs] = {
            run.name: np.load(run / "predictions.npz")["scores"].tobytes() for run in (out / "runs").iterdir()
        }
    differ = [name for name in stored[1] if stored[1][name] != stored[2].get(name)]
    return f"scores differ between --jobs 1 and 2 in {differ}" if differ else None


FAST_FAMILIES = ("out", "files")
FAMILIES = ("out", "files", "links", "damaged", "disks", "backend", "jobs")
CASES = {"out": OUT_CASES, "files": FILES_CASES, "links": LINK_CASES, "damaged": DAMAGED_CASES}
