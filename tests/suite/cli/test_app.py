"""The ``suite`` application's consoles: piped output is never wrapped."""

import subprocess
import sys
from pathlib import Path

LONG_NAME = "an_experiment_with_a_name_long_enough_to_wrap_at_eighty_columns"


def test_piped_tables_keep_each_row_on_one_line(tmp_path: Path) -> None:
    spec = tmp_path / "wide.toml"
    spec.write_text(
        '[study]\nname = "wide"\n[defaults]\ndataset = { source = "digits" }\ntraining = { epochs = 1 }\n'
        f'[[experiments]]\nname = "{LONG_NAME}"\nmodel = {{ name = "mlp" }}\nbackend = "torch"\n'
    )
    completed = subprocess.run(
        [sys.executable, "-m", "suite", "validate", str(spec), "--no-check"], capture_output=True, text=True
    )
    assert completed.returncode == 0, completed.stderr
    [row] = [line for line in completed.stdout.splitlines() if LONG_NAME in line]
    assert "torch" in row and "mlp" in row and "digits" in row  # the whole row on one line
