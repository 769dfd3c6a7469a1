"""The CLI end to end: validate, run a shrunk quickstart in both frameworks, report, bad input exits non-zero."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]
QUICKSTART = ROOT / "benchmarks" / "quickstart.toml"


def _suite(*args: str) -> subprocess.CompletedProcess:
    environment = {**os.environ, "COLUMNS": "200"}
    return subprocess.run(
        [sys.executable, "-m", "suite", *args], capture_output=True, text=True, cwd=ROOT, env=environment
    )


@pytest.mark.slow
def test_describe_prints_forward_and_training_costs() -> None:
    completed = _suite("describe", "simple_cnn", "--input-size", "32", "--freeze", "1")
    assert completed.returncode == 0, completed.stderr[-2000:]
    # forward 2 x 7,705,600 MACs; conv1 frozen: + input grads (dense, head) + weight grads (conv2, dense, head)
    assert "0.0154" in completed.stdout and "0.03326 GFLOPs per image" in completed.stdout
    assert "2,121,290 trainable parameters, trainable state 33.94 MB" in completed.stdout  # x 4 bytes x 4 (Adam)
    bad = _suite("describe", "simple_cnn", "--input-size", "32", "--freeze", "conv9")
    assert bad.returncode == 2 and len(bad.stderr.strip().splitlines()) == 1 and "--freeze" in bad.stderr


def test_validate_bad_spec_exits_with_one_line(tmp_path: Path) -> None:
    bad = tmp_path / "quickstart.toml"
    text = QUICKSTART.read_text().replace(
        'model = { name = "simple_cnn" }', 'model = { name = "simple_cnn" }\noptimizer = { lr = -0.1 }'
    )
    bad.write_text(text)
    completed = _suite("validate", str(bad))
    assert completed.returncode == 2
    assert completed.stderr.strip() == "quickstart.toml: experiments[1].optimizer.lr: must be > 0, got -0.1"


def test_run_refuses_bad_spec_before_training(tmp_path: Path) -> None:
    bad = tmp_path / "q.toml"
    bad.write_text(QUICKSTART.read_text().replace('name = "adam"', 'name = "adagrad"'))
    completed = _suite("run", str(bad), "--out", str(tmp_path / "out"))
    assert completed.returncode == 2 and "optimizer.name" in completed.stderr
    assert not (tmp_path / "out").exists()


@pytest.mark.slow
def test_quickstart_run_and_report(tmp_path: Path) -> None:
    out = tmp_path / "quick"
    shrink = ["--set", "training.epochs=2", "--set", "dataset.subset.train=300", "--quiet"]
    completed = _suite("run", str(QUICKSTART), "--out", str(out), *shrink)
    assert completed.returncode == 0, completed.stderr[-3000:]
    assert len(list((out / "runs").iterdir())) == 4

    completed = _suite("report", str(out))
    assert completed.returncode == 0, completed.stderr[-3000:]
    report = (out / "report.md").read_text()
    assert "## Efficiency" in report and "Accuracy vs training FLOPs per image" in report
    for name in ("mlp[backend=torch]", "mlp[backend=keras]", "simple_cnn[backend=torch]", "simple_cnn[backend=keras]"):
        assert name in report
    pngs = list(out.rglob("*.png"))
    assert pngs and all(p.stat().st_size > 1000 for p in pngs)

    rerun = _suite("run", str(QUICKSTART), "--out", str(out), *shrink[:-1])
    assert rerun.returncode == 0 and rerun.stderr.count("already completed") == 4


def test_report_on_missing_dir_fails(tmp_path: Path) -> None:
    completed = _suite("report", str(tmp_path / "nope"))
    assert completed.returncode == 2 and "not a directory" in completed.stderr


def test_report_on_empty_dir_fails_cleanly(tmp_path: Path) -> None:
    completed = _suite("report", str(tmp_path))
    assert completed.returncode == 2 and "no runs found" in completed.stderr
    assert "Traceback" not in completed.stderr
