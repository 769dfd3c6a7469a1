"""The core and its CLI never load a deep-learning framework."""

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

FRAMEWORKS = ("torch", "tensorflow", "keras", "jax", "torchvision")


def test_importing_suite_and_cli_loads_no_framework() -> None:
    code = (
        "import sys, suite, suite.cli, suite.execution.executor, suite.execution.worker, suite.metrics, "
        "suite.spec.loader, "
        "suite.data.loading, suite.runners.registry; "
        "suite.runners.registry.discover(); "
        f"print([m for m in {FRAMEWORKS!r} if m in sys.modules])"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT).stdout
    assert out.strip() == "[]"


def test_cli_help_and_validate_load_no_framework() -> None:
    code = (
        "import sys; from typer.testing import CliRunner; from suite.cli import app; "
        "r = CliRunner().invoke(app, ['validate', 'benchmarks/quickstart.toml']); assert r.exit_code == 0, r.output; "
        f"print([m for m in {FRAMEWORKS!r} if m in sys.modules])"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT).stdout
    assert out.strip().splitlines()[-1] == "[]"
