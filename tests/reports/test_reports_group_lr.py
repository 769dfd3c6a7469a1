from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from reports.figures import _group_lrs_across_backends


@dataclass
class FakeRecord:
    result: dict
    frame: pd.DataFrame
    completed: bool = True

    def history(self) -> pd.DataFrame:
        return self.frame


def _record(backend: str, engine: str | None, seed: int = 0) -> FakeRecord:
    spec = {"name": f"r[{backend}]", "seed": seed, "backend": backend, "engine": engine, "model": {"name": "mlp"}}
    history = pd.DataFrame({"epoch": [0, 1], "lr": [1e-3, 5e-4], "lr_hidden1": [1e-4, 5e-5], "lr_head": [1e-3, 5e-4]})
    return FakeRecord({"spec": spec}, history)


def test_one_overlay_per_configuration_run_on_several_backends(tmp_path: Path) -> None:
    figures = _group_lrs_across_backends([_record("torch", None), _record("keras", "tensorflow")], tmp_path)
    assert len(figures) == 1 and figures[0].path.stat().st_size > 0
    assert figures[0].title == "Per-group learning rates, keras/tensorflow vs torch"


def test_no_overlay_for_a_single_backend(tmp_path: Path) -> None:
    assert _group_lrs_across_backends([_record("torch", None), _record("torch", None, seed=1)], tmp_path) == []
