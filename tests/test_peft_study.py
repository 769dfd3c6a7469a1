"""benchmarks/peft_strategies.toml, shrunk to digits: every method trains and the report shows every method.

The default run trains the study's torch half in this process (the worker's code, without spawning one); the
slow test runs the whole shrunk study, both frameworks, through ``suite run`` and ``suite report``.
"""

import subprocess
import sys
from pathlib import Path

import pytest

from suite import store
from suite.execution import worker
from suite.execution.executor import result_header
from suite.spec.loader import load_study
from suite.spec.serialize import run_id, spec_to_toml

REPO = Path(__file__).resolve().parents[1]
SPEC = REPO / "benchmarks" / "peft_strategies.toml"
SHRINK = [
    "dataset.source=digits",
    "dataset.image_size=32",
    "dataset.normalization=unit",
    "dataset.subset={train = 96, val = 32, test = 64}",
    "model.weights=none",
    "training.epochs=1",
    "training.batch_size=32",
]
METHODS = ["linear_probe", "freeze_blocks", "bitfit", "norm_only", "lora_r4", "lora_r8", "lora_r16", "full_finetune"]


def _report_text(out: Path) -> str:
    from reports.build import build_report

    return build_report([out]).read_text(encoding="utf-8")


def _efficiency_rows(report: str) -> list[str]:
    section = report.split("Parameter efficiency", 1)[1].split("\n#", 1)[0]
    return [line for line in section.splitlines() if line.startswith("| ") and "[" in line]


@pytest.mark.slow
def test_shrunk_study_torch_half_in_process(tmp_path):
    pytest.importorskip("peft")
    study = load_study(SPEC, SHRINK)
    runs = [spec for spec in study.runs if spec.backend == "torch" and spec.seed == study.seeds[0]]
    assert sorted({spec.name.split("[")[0] for spec in runs}) == sorted(METHODS) and len(runs) == 10
    for spec in runs:
        directory = store.run_dir(tmp_path, run_id(spec))
        directory.mkdir(parents=True)
        store.write_text(directory / store.SPEC_FILE, spec_to_toml(spec))
        store.write_json(directory / store.RESULT_FILE, result_header(spec, run_id(spec), study.name))
        assert worker.main([str(directory)]) == 0, store.read_result(directory)["error"]
    report = _report_text(tmp_path)
    rows = _efficiency_rows(report)
    assert len(rows) == 10 and all(any(f"{method}[" in row for row in rows) for method in METHODS)
    assert "acc_vs_params.png" in report and "acc_vs_time.png" in report


@pytest.mark.slow
def test_shrunk_study_end_to_end_in_both_frameworks(tmp_path):
    spec = tmp_path / "peft_one_seed.toml"
    spec.write_text(SPEC.read_text(encoding="utf-8").replace("seeds = [0, 1, 2]", "seeds = [0]"), encoding="utf-8")
    out = tmp_path / "out"
    sets = [arg for item in SHRINK for arg in ("--set", item)]
    command = [sys.executable, "-m", "suite", "run", str(spec), "--out", str(out), "--quiet", *sets]
    done = subprocess.run(command, capture_output=True, text=True, cwd=REPO)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    rows = _efficiency_rows(_report_text(out))
    assert len(rows) == 20, rows
    for backend in ("torch", "keras"):
        assert all(any(f"{method}[" in row and backend in row for row in rows) for method in METHODS)
