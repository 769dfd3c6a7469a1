"""Preflight: every problem of every run of a study, found before any training, one line each.

:func:`check_study` groups the runs by (backend, engine) and asks one child process per group, the groups
side by side (``python -m suite.preflight.introspect check FILE``, in the backend's own environment), so this module
never imports a framework; ``suite run`` asks its warm workers the same question instead (one framework import
per backend, paid once for the checks and the runs: :mod:`suite.execution.warm_check`).
In the child, :func:`check_runs` asks the runner for its framework facts
(``runner.check``), compares the spec with what the runner declares (its capabilities), looks the model up in
the runner's registry, describes it (random weights, no download) for the input the spec implies without
loading the data, and builds the training plan: unknown layer groups,
``freeze_blocks`` beyond the model and an impossible feature cache all surface here. A weights file already on
this machine is then loaded into the model once (``runner.weights_problem``): another architecture's file is
said here, not after the data has loaded. A backend that is not
installed reports nothing (its runs are stored as ``unavailable``).

Each problem reads ``<run name>: <key>: <what is wrong>``.
"""

from __future__ import annotations

import difflib
import json
import os
import re
import subprocess
import sys
import tempfile
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from suite.lifeline import run_tied
from suite.preflight.files import file_problems
from suite.spec.errors import one_line
from suite.spec.loader import MATRIX_ALIASES, Study
from suite.spec.models import DatasetSpec, ExperimentSpec, ModelSpec
from suite.spec.serialize import spec_from_toml, spec_to_toml

CHILD_TIMEOUT_SECONDS = 900
"""How long one backend's preflight process may take (it imports the framework and builds each model once)."""
NATIVE_INPUTS: dict[str, tuple[tuple[int, int, int], int]] = {
    "digits": ((8, 8, 1), 10),
    "mnist": ((28, 28, 1), 10),
    "cifar10": ((32, 32, 3), 10),
}
"""(H, W, C) and class count of the sources whose images all share one published shape."""
PLACEHOLDER_SIZE = 32
"""Image side assumed for a folder/hf source without ``dataset.image_size`` (every keras.applications model builds)."""
PLACEHOLDER_CLASSES = 2
"""Class count assumed when the source cannot say it cheaply: layer groups do not depend on it."""

Problem = dict[str, str]
_DOTTED_KEY = re.compile(r"\b((?:dataset|model|strategy|optimizer|training)(?:\.[A-Za-z_]\w*)+)")
_UNKNOWN_MODEL = re.compile(r"^unknown (?:\w+ )?model\b")
_BLOCKING_KEYS = ("model", "backend", "engine")


Ask = Callable[[str, str | None, list[ExperimentSpec]], list[Problem]]
"""Asks a backend (name, engine as the spec names it) for the problems of its runs; raises :class:`CheckFailed`
when it cannot answer."""


class CheckFailed(RuntimeError):
    """The process asked to check a backend's runs gave no answer; the text says why, in one line."""


def check_study(study: Study, ask: Ask | None = None) -> list[str]:
    """Every problem of every run, one line each (``<run name>: <key>: <what is wrong>``), in run order.

    ``ask`` puts the question to a backend; by default one child process per backend answers it
    (``suite run`` asks the warm workers that will run the study instead: :mod:`suite.execution.warm_check`).
    """
    ask = ask or ask_child_process
    order = {run.name: index for index, run in enumerate(study.runs)}
    groups = group_runs(study.runs)
    workers = max(1, min(len(groups), os.cpu_count() or 1))
    with ThreadPoolExecutor(max_workers=workers) as pool:  # each group waits on its own process
        answers = pool.map(lambda item: _check_group(item[0][0], item[0][1], item[1], ask), groups.items())
    problems = [problem for answer in answers for problem in answer] + file_problems(study.runs)
    problems.sort(key=lambda problem: order.get(problem["run"], len(order)))
    return [one_line(f"{problem['run']}: {problem['key']}: {problem['message']}") for problem in problems]


def group_runs(runs: list[ExperimentSpec]) -> dict[tuple[str, str | None], list[ExperimentSpec]]:
    """Runs by (backend, engine as the spec names it), in order of first appearance."""
    groups: dict[tuple[str, str | None], list[ExperimentSpec]] = {}
    for run in runs:
        groups.setdefault((run.backend, run.engine), []).append(run)
    return groups


def _check_group(backend: str, engine: str | None, runs: list[ExperimentSpec], ask: Ask) -> list[Problem]:
    """The problems of ``runs`` (one backend and engine), or each run's line saying the check itself failed."""
    from suite.runners.registry import get_runner_entry

    entry = get_runner_entry(backend)
    if not entry.availability(engine)[0]:
        return []  # stored as `unavailable` when run; nothing to check here
    resolved = entry.resolve_engine(engine)
    label = f"{backend}/{resolved}" if resolved else backend
    try:
        answer = ask(backend, engine, runs)
    except CheckFailed as exc:
        return _group_failed(runs, label, str(exc))
    return [{key: str(problem[key]) for key in ("run", "key", "message")} for problem in answer]


def ask_child_process(backend: str, engine: str | None, runs: list[ExperimentSpec]) -> list[Problem]:
    """Ask one child process, in the backend's environment, for the problems of ``runs``."""
    from suite.runners.registry import get_runner_entry

    entry = get_runner_entry(backend)
    resolved = entry.resolve_engine(engine)
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2", "OMP_WAIT_POLICY": "PASSIVE", **entry.child_environment(resolved)}
    with tempfile.TemporaryDirectory(prefix="tlbench-preflight-") as tmp:
        path = Path(tmp) / "runs.json"
        path.write_text(json.dumps([spec_to_toml(run) for run in runs]), encoding="utf-8")
        command = [sys.executable, "-m", "suite.preflight.introspect", "check", str(path)]
        try:
            completed = run_tied(
                command, env, capture_output=True, text=True, timeout=CHILD_TIMEOUT_SECONDS, check=False
            )
        except subprocess.TimeoutExpired:
            raise CheckFailed(f"no answer within {CHILD_TIMEOUT_SECONDS} s") from None
    return _read_answer(completed)


def _read_answer(completed: subprocess.CompletedProcess) -> list[Problem]:
    lines = completed.stdout.strip().splitlines()
    if completed.returncode != 0 or not lines:
        raise CheckFailed((completed.stderr.strip().splitlines() or ["no output"])[-1])
    try:
        return json.loads(lines[-1])
    except json.JSONDecodeError:
        raise CheckFailed(f"unreadable answer {lines[-1][:200]!r}") from None


def _group_failed(runs: list[ExperimentSpec], label: str, reason: str) -> list[Problem]:
    message = f"the {label} preflight process failed: {reason.strip()}"
    return [{"run": run.name, "key": "backend", "message": message} for run in runs]


def check_runs(spec_texts: list[str]) -> list[Problem]:
    """Child side: the problems of runs of one backend and engine, given as ``spec.toml`` texts."""
    from suite.runners.registry import BackendUnavailableError, create_runner

    specs = [spec_from_toml(text) for text in spec_texts]
    if not specs:
        return []
    try:
        runner = create_runner(specs[0].backend, specs[0].engine)
    except BackendUnavailableError:
        return []
    models = runner.list_models()
    describe = _memoised_describe(runner)
    problems = []
    for spec in specs:
        try:
            found = run_problems(spec, runner, models, describe)
        except Exception as exc:  # noqa: BLE001 - one run's surprise must not hide the other runs' problems
            found = [("backend", f"preflight failed: {type(exc).__name__}: {exc}")]
        problems += [{"run": spec.name, "key": key, "message": message} for key, message in found]
    return problems


def run_problems(
    spec: ExperimentSpec,
    runner: Any,
    models: dict[str, str],
    describe: Callable[[ModelSpec, tuple[int, int, int], int], Any],
) -> list[tuple[str, str]]:
    """(key, message) for each problem of one run: data, model name, framework facts, then the plan."""
    problems = dataset_problems(spec.dataset)
    known = spec.model.name in models
    if not known:
        problems.append(("model.name", _unknown_model(spec.model.name, spec.backend, models)))
    facts = [split_key(text) for text in [*runner.capabilities.problems(spec), *runner.check(spec)]]
    if not known:  # said once above, with a suggestion
        facts = [(key, text) for key, text in facts if key != "model.name" and repr(spec.model.name) not in text]
    problems += facts
    if known and not any(key.startswith(_BLOCKING_KEYS) for key, _ in facts):
        planned = _plan_problems(spec, describe)
        problems += planned or _weights_problems(spec, runner)
    return problems


def _weights_problems(spec: ExperimentSpec, runner: Any) -> list[tuple[str, str]]:
    """A weights file on this machine that does not load into the model, said before training.

    Another architecture's file, other shapes, not a checkpoint. Missing files are :func:`file_problems`' lines.
    """
    if spec.model.weights == "none":
        return []
    shape, classes = input_facts(spec.dataset)
    files = runner.weights_files(spec.model, shape[0], False)
    if not files or not all(entry["present"] for entry in files):
        return []
    problem = runner.weights_problem(spec.model, shape, classes)
    if problem is None:
        return []
    return [("model.weights", f"does not load into {spec.model.name}: {problem}")]


def _plan_problems(spec: ExperimentSpec, describe: Callable[..., Any]) -> list[tuple[str, str]]:
    """The model built for the spec's input (random weights), then the plan: groups, freeze range, cache."""
    from suite.plan import build_plan

    shape, classes = input_facts(spec.dataset)
    try:
        description = describe(spec.model, shape, classes)
    except Exception as exc:  # noqa: BLE001 - any build failure is this run's problem
        size = "x".join(map(str, shape))
        return [split_key(f"cannot build {spec.model.name} for {size} input: {exc}", default="model.name")]
    try:
        build_plan(spec, description)
    except ValueError as exc:
        return [split_key(str(exc), default="strategy")]
    return []


def _memoised_describe(runner: Any) -> Callable[[ModelSpec, tuple[int, int, int], int], Any]:
    """``runner.describe`` remembered per (model, input shape, classes): each model is built once per group."""
    memo: dict[tuple[str, tuple[int, int, int], int], Any] = {}

    def describe(model: ModelSpec, shape: tuple[int, int, int], classes: int) -> Any:
        key = (model.model_dump_json(), shape, classes)
        if key not in memo:
            memo[key] = runner.describe(model, shape, classes)
        return memo[key]

    return describe


def input_facts(dataset: DatasetSpec) -> tuple[tuple[int, int, int], int]:
    """(H, W, C) the model will see and the class count, from the spec alone (the data is not loaded)."""
    (height, width, channels), classes = NATIVE_INPUTS.get(dataset.source, ((PLACEHOLDER_SIZE,) * 2 + (3,), 0))
    if dataset.image_size is not None:
        height = width = dataset.image_size
    if dataset.channels is not None:
        channels = dataset.channels
    if not classes and dataset.source == "folder":
        classes = _folder_classes(Path(dataset.path or "").expanduser())
    return (height, width, channels), classes or PLACEHOLDER_CLASSES


def _folder_classes(root: Path) -> int:
    """Class directories of an ImageFolder (under ``train/`` when it has splits); 0 when it cannot tell."""
    base = root / "train" if (root / "train").is_dir() else root
    try:
        return sum(1 for child in base.iterdir() if child.is_dir() and not child.name.startswith("."))
    except OSError:
        return 0


def dataset_problems(dataset: DatasetSpec) -> list[tuple[str, str]]:
    """What is visibly wrong with the data without reading it (a folder source's missing directory)."""
    if dataset.source == "folder" and dataset.path and not Path(dataset.path).expanduser().is_dir():
        return [("dataset.path", f"{dataset.path!r} is not a directory")]
    return []


def _unknown_model(name: str, backend: str, models: dict[str, str]) -> str:
    close = difflib.get_close_matches(name, list(models), n=1)
    hint = f"; did you mean {close[0]!r}?" if close else ""
    return f"unknown model {name!r} for backend {backend}{hint} (suite list shows every model)"


def split_key(text: str, default: str = "backend") -> tuple[str, str]:
    """(spec key, message) for a runner's or the plan's problem text.

    ``"strategy.freeze: unknown group"`` -> ``("strategy.freeze", "unknown group")``; otherwise the key is the
    first dotted spec key the text names, or its first word when that is a matrix alias (``precision``,
    ``freeze_blocks``), else ``engine`` or ``default``. The message is the whole text, except that a leading
    ``key = value`` reads ``is value`` (``training.device = 'cuda' but ...`` -> ``is 'cuda' but ...``).
    """
    text = one_line(text.strip())
    head, separator, rest = text.partition(": ")
    if separator and _DOTTED_KEY.fullmatch(head):
        return head, rest
    if _UNKNOWN_MODEL.match(text):
        return "model.name", text
    found = _DOTTED_KEY.search(text)
    first = re.match(r"\w+", text)
    if found:
        key, named = found.group(1), found.group(1)
    elif first and first.group(0) in MATRIX_ALIASES:
        key, named = MATRIX_ALIASES[first.group(0)], first.group(0)
    else:
        return ("engine" if "engine" in text.lower() else default), text
    if text.startswith(f"{named} = "):  # "training.device = 'cuda' but ..." -> "is 'cuda' but ..."
        return key, "is " + text[len(named) + 3 :]
    return key, text
