"""A shrunk study on the plain-numpy backend, run through the real ``suite run`` in a fresh process."""

import json
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]
FRAMEWORKS = ("torch", "tensorflow", "keras", "jax", "torchvision")
STUDY = """
[study]
name = "tracked"

[defaults]
backend = "centroid"
dataset = { source = "digits", normalization = "unit", subset = { train = 400 } }
optimizer = { name = "sgd", lr = 0.5 }
training = { epochs = 3, tensorboard = true }

[[experiments]]
name = "discriminative"
model = { name = "mlp2" }
strategy = { discriminative_lr = { lr_mult = 0.1 } }

[[experiments]]
name = "raises"
model = { name = "raise" }
"""

# The CLI's main() in a fresh interpreter; afterwards it reports its exit status and which frameworks got loaded.
_CLI = """
import json, sys
from suite.cli import main
sys.argv = ["suite", *json.loads(sys.argv[1])]
try:
    main()
except SystemExit as exit:
    code = exit.code
print(json.dumps({{"exit": code, "frameworks": [m for m in {frameworks!r} if m in sys.modules]}}))
"""


@pytest.fixture(scope="session")
def suite_cli(plugin_site: Path) -> Callable[..., dict]:
    """``suite_cli(*args)`` runs ``suite ARGS`` with the numpy plugin; returns its exit status and loaded frameworks."""

    def run(*args: str) -> dict:
        env = {**os.environ, "PYTHONPATH": str(plugin_site)}
        code = _CLI.format(frameworks=FRAMEWORKS)
        done = subprocess.run(
            [sys.executable, "-c", code, json.dumps(list(args))],
            capture_output=True,
            text=True,
            env=env,
            cwd=ROOT,
            timeout=300,
        )
        assert done.returncode == 0, done.stderr[-3000:]
        return {**json.loads(done.stdout.strip().splitlines()[-1]), "stderr": done.stderr}

    return run


@pytest.fixture(scope="module")
def study_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The shrunk study: a run that trains (with a learning rate per group) and one that fails."""
    path = tmp_path_factory.mktemp("spec") / "tracked.toml"
    path.write_text(STUDY)
    return path
