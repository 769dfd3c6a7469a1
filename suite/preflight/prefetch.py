"""``suite prefetch SPEC``: get a study's datasets onto this machine, or list what is present and missing.

Online, every missing dataset the study names is downloaded into the frameworks' normal caches (keras'
``~/.keras/datasets``, the Hugging Face cache) by the very loaders the runs use; then, or offline
(``--offline``), every need is listed with where it is or where it was looked for, one line each, followed
by the paths to copy to an offline machine. Pretrained weights are asked of each run's backend, in a child
process (the framework loads there, never here): the file its own loader reads (torchvision's
``TORCH_HOME/hub/checkpoints``, keras.applications' ``KERAS_HOME/models``), present or missing, and online
fetched first by that loader.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from suite.data.registry import get_source
from suite.preflight.ask import BackendQuestionError, ask_backend
from suite.runners.registry import get_runner_entry
from suite.spec.models import DatasetSpec, ExperimentSpec

_SHOWN_PATHS = 3
DEFAULT_WEIGHTS_SIZE = 224  # the resolution keras.applications picks a weights file for when none is set


@dataclass
class Need:
    """One thing a study needs: ``status`` is present or missing; ``paths`` where it is or was sought."""

    kind: str
    name: str
    status: str
    paths: list[Path] = field(default_factory=list)
    note: str = ""

    def line(self) -> str:
        """One line for the terminal."""
        shown = self.paths[:_SHOWN_PATHS]
        where = ", ".join(str(path) for path in shown)
        if len(self.paths) > len(shown):
            where += f" (+{len(self.paths) - len(shown)} more)"
        if self.status == "missing" and where:
            where = f"looked in {where}"
        return "  ".join(part for part in (f"{self.status:9}", f"{self.kind:8}", self.name, where, self.note) if part)


def study_needs(runs: list[ExperimentSpec]) -> tuple[list[DatasetSpec], list[tuple[ExperimentSpec, str]]]:
    """The distinct datasets, and one run per distinct (backend, model, weights, image size), first seen first."""
    datasets: dict[tuple, DatasetSpec] = {}
    weights: dict[tuple, ExperimentSpec] = {}
    for run in runs:
        dataset = run.dataset
        datasets.setdefault((dataset.source, dataset.path, dataset.id, dataset.image_size), dataset)
        if run.model.weights != "none":
            weights.setdefault((run.backend_label, run.model.name, run.model.weights, dataset.image_size), run)
    return list(datasets.values()), [(run, run.backend_label) for run in weights.values()]


def check_dataset(spec: DatasetSpec) -> Need:
    """Whether ``spec``'s files are on this machine (nothing is downloaded)."""
    name = _dataset_name(spec)
    if spec.source == "digits":
        return Need("dataset", name, "present", note="bundled with scikit-learn")
    if spec.source in ("folder", "hf") and spec.path is not None:
        path = Path(spec.path).expanduser()
        return Need("dataset", name, "present" if path.exists() else "missing", [path])
    if spec.source == "hf":
        found = [path for path in _hf_cache_dirs(spec.id or "") if path.exists()]
        return Need("dataset", name, "present" if found else "missing", found or _hf_cache_dirs(spec.id or ""))
    candidates = _archive_candidates(spec)
    found = [path for path in candidates if _usable(spec.source, path)]
    return Need("dataset", name, "present" if found else "missing", found[:1] or candidates)


def fetch_dataset(spec: DatasetSpec) -> Need:
    """Download ``spec`` through its loader when it is missing, then check it again."""
    need = check_dataset(spec)
    if need.status == "present":
        return need
    try:
        get_source(spec.source).loader(spec)
    except Exception as error:  # noqa: BLE001 - every failure becomes the line that explains it
        need.note = str(error).strip().splitlines()[0]
        return need
    return check_dataset(spec)


def check_weights(run: ExperimentSpec, download: bool) -> list[Need]:
    """The pretrained weights files ``run``'s backend reads, asked of it in a child process."""
    name = f"{run.model.name} ({run.backend_label}) weights={run.model.weights}"
    size = run.dataset.image_size or DEFAULT_WEIGHTS_SIZE
    args = ["weights", run.backend, run.model.model_dump_json(), str(size), *(["download"] if download else [])]
    entry = get_runner_entry(run.backend)
    try:
        answer = ask_backend(args, entry.child_environment(entry.resolve_engine(run.engine)))
    except BackendQuestionError as exc:
        return [Need("weights", name, "missing", note=str(exc))]
    files = answer["files"]
    return [
        Need(
            "weights", name, "present" if item["present"] else "missing", [Path(item["path"])], f"from {item['source']}"
        )
        for item in files
    ]


def prefetch(runs: list[ExperimentSpec], offline: bool) -> list[Need]:
    """Every need of ``runs``, downloaded first unless ``offline``."""
    datasets, weights = study_needs(runs)
    needs = [check_dataset(spec) if offline else fetch_dataset(spec) for spec in datasets]
    return needs + [need for run, _ in weights for need in check_weights(run, download=not offline)]


def missing_needs(runs: list[ExperimentSpec]) -> list[Need]:
    """What ``runs`` need that is not on this machine, downloading nothing (``suite validate``).

    Datasets are checked by existence (no decoding); weights files by asking each available backend where its
    loader reads them. Backends that cannot run here are skipped: their runs are stored as ``unavailable``.
    """
    datasets, weights = study_needs(runs)
    needs = [check_dataset(spec) for spec in datasets]
    for run, _ in weights:
        if get_runner_entry(run.backend).availability(run.engine)[0]:
            needs += check_weights(run, download=False)
    return [need for need in needs if need.status == "missing"]


def _dataset_name(spec: DatasetSpec) -> str:
    detail = spec.path or spec.id
    return f"{spec.source} {detail}" if detail else spec.source


def _archive_candidates(spec: DatasetSpec) -> list[Path]:
    """Where the mnist and cifar10 loaders look, in their order."""
    if spec.source == "mnist":
        from suite.data.sources import mnist

        npz, idx = mnist._candidates(spec.path)
        return npz + idx
    from suite.data.sources import cifar10

    return cifar10._candidates(spec.path)


def _usable(source: str, path: Path) -> bool:
    if source == "mnist" and path.is_dir():
        from suite.data.sources import mnist

        return mnist._idx_path(path, mnist.IDX_FILES["train"][0]) is not None
    if path.is_dir():
        return (path / "batches.meta").is_file()
    return path.is_file()


def _hf_cache_dirs(dataset_id: str) -> list[Path]:
    """The ``datasets`` cache and the hub cache directories that hold ``dataset_id`` once downloaded."""
    home = Path(os.environ.get("HF_HOME", "~/.cache/huggingface")).expanduser()
    datasets_cache = Path(os.environ.get("HF_DATASETS_CACHE", home / "datasets")).expanduser()
    hub_cache = Path(os.environ.get("HF_HUB_CACHE", home / "hub")).expanduser()
    return [datasets_cache / dataset_id.replace("/", "___"), hub_cache / f"datasets--{dataset_id.replace('/', '--')}"]
