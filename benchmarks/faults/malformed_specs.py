"""Spec files the suite must refuse before any training: one line, exit status 2, no traceback.

``MALFORMED_SPECS``: (label, file content) pairs that ``suite validate --no-check`` must reject while reading
and validating the file. ``PREFLIGHT_SPECS``: specs that pass that validation but must fail the preflight
(``suite validate`` without ``--no-check``), one line per run naming the run and the key.
Labels starting with ``yaml-`` are YAML files (see :func:`file_name`); the others are TOML.

Run ``python benchmarks/faults/malformed_specs.py`` to send every case through the real command, each in a
fresh process, and print what it answered (exit status 1 when a case misbehaves).
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
from pathlib import Path

VALID = """\
[study]
name = "faults"

[defaults]
backend = "torch"
dataset = { source = "digits" }
optimizer = { name = "adam", lr = 0.001 }
training = { epochs = 1, batch_size = 32, device = "cpu" }

[[experiments]]
name = "mlp"
model = { name = "mlp" }
"""
"""The valid minimal study every TOML case is derived from (the quickstart's MLP, on the bundled digits)."""

VALID_YAML = """\
study: {name: faults}
defaults:
  backend: torch
  dataset: {source: digits}
  training: {epochs: 1, device: cpu}
experiments:
  - name: mlp
    model: {name: mlp}
"""
"""The same study in YAML."""


def _toml(old: str, new: str) -> str:
    """VALID with ``old`` replaced by ``new`` (``old`` must occur)."""
    if old not in VALID:
        raise ValueError(f"{old!r} is not in the base spec")
    return VALID.replace(old, new, 1)


def _yaml(old: str, new: str) -> str:
    if old not in VALID_YAML:
        raise ValueError(f"{old!r} is not in the base YAML spec")
    return VALID_YAML.replace(old, new, 1)


_STUDY = 'name = "faults"'
_TRAINING = 'training = { epochs = 1, batch_size = 32, device = "cpu" }'
_OPTIMIZER = 'optimizer = { name = "adam", lr = 0.001 }'
_MODEL = 'model = { name = "mlp" }'
_DATASET = 'dataset = { source = "digits" }'

_ENCODING: list[tuple[str, str | bytes]] = [
    ("binary-bytes", bytes(range(256))),
    ("png-header", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x08"),
    ("latin-1-bytes", VALID.replace("faults", "f\xe9aults").encode("latin-1")),
    ("utf-16-bytes", VALID.encode("utf-16")),
    ("nul-bytes", b"\x00" * 64),
    ("empty-file", b""),
    ("whitespace-only", "  \n\t\n"),
    ("comments-only", "# a study with nothing in it\n"),
]
_SYNTAX: list[tuple[str, str | bytes]] = [
    ("toml-unclosed-table", "[study\n" + VALID),
    ("toml-duplicate-key", _toml(_STUDY, _STUDY + "\nname = 'again'")),
    ("toml-missing-value", _toml(_STUDY, "name =")),
    ("toml-unterminated-string", _toml(_STUDY, 'name = "faults')),
    ("toml-deep-nesting", "a = " + "[" * 50_000 + "]" * 50_000 + "\n"),
    ("yaml-bad-mapping", "study: name: faults\n"),
    ("yaml-tab-indent", _yaml("  backend: torch", "\tbackend: torch")),
    ("yaml-two-documents", VALID_YAML + "---\n" + VALID_YAML),
    ("yaml-python-tag", "study: !!python/object/apply:os.system ['true']\n"),
    ("yaml-list-top-level", "- study\n- experiments\n"),
    ("yaml-scalar-top-level", "42\n"),
    ("yaml-null-top-level", "~\n"),
    ("yaml-empty", ""),
    ("yaml-nul-character", "study: {name: fa\x00ults}\n"),
    ("yaml-integer-matrix-key", VALID_YAML + "matrix: {1: [a]}\n"),
    ("yaml-duplicate-top-level-key", VALID_YAML + "experiments:\n  - name: cnn\n    model: {name: simple_cnn}\n"),
    ("yaml-duplicate-nested-key", _yaml("{epochs: 1, device: cpu}", "{epochs: 1, device: cpu, epochs: 2}")),
    ("yaml-set-tag", _yaml("  backend: torch", "  backend: !!set {torch}")),
    ("yaml-timestamp", _yaml("name: mlp", "name: 2024-01-01")),
    ("yaml-binary-tag", _yaml("name: mlp", "name: !!binary bWxw")),
    ("yaml-custom-tag", _yaml("name: mlp", "name: !secret mlp")),
]
_STRUCTURE: list[tuple[str, str | bytes]] = [
    ("unknown-top-level-key", VALID + "\n[grid]\nlr = [0.1]\n"),
    ("study-not-a-table", VALID.replace("[study]\n" + _STUDY, "study = 3")),
    ("experiments-missing", VALID.split("[[experiments]]")[0]),
    ("experiments-empty", VALID.split("[[experiments]]")[0] + "experiments = []\n"),
    ("experiments-not-tables", VALID.split("[[experiments]]")[0] + "experiments = [1, 2]\n"),
    ("experiment-without-name", _toml('name = "mlp"\n', "")),
    (
        "defaults-not-a-table",
        "defaults = 1\n" + VALID.split("[defaults]")[0] + "[[experiments]]" + VALID.split("[[experiments]]")[1],
    ),
    ("matrix-not-a-list", VALID + '\n[matrix]\nbackend = "torch"\n'),
    ("matrix-empty-list", VALID + "\n[matrix]\nlr = []\n"),
    ("matrix-key-into-a-value", VALID + '\n[matrix]\n"model.name.x" = [1]\n'),
    ("duplicate-run-names", VALID + '\n[[experiments]]\nname = "mlp"\nmodel = { name = "simple_cnn" }\n'),
    ("unknown-optimizer-key", _toml("lr = 0.001", "learning_rate = 0.001")),
    ("unknown-training-key", _toml("epochs = 1,", "epochs = 1, epoch = 1,")),
    ("unknown-experiment-key", _toml(_MODEL, _MODEL + "\nnotes = 'x'")),
    ("unknown-key-with-newline", _toml("epochs = 1,", 'epochs = 1, "a\\nb" = 1,')),
    ("unknown-key-with-escape", '"\\u001b[31mred" = 1\n' + VALID),
]
_TYPES: list[tuple[str, str | bytes]] = [
    ("epochs-a-string", _toml("epochs = 1,", 'epochs = "two",')),
    ("lr-a-word", _toml("lr = 0.001", 'lr = "fast"')),
    ("lr-like-a-set-flag", _toml("lr = 0.001", 'lr = "optimizer.lr=0.1"')),
    ("batch-size-a-list", _toml("batch_size = 32", "batch_size = [32]")),
    ("model-a-string", _toml(_MODEL, 'model = "mlp"')),
    ("head-hidden-strings", _toml(_MODEL, 'model = { name = "resnet18", head_hidden = ["wide"] }')),
    ("epochs-fractional", _toml("epochs = 1,", "epochs = 2.5,")),
    ("epochs-true", _toml("epochs = 1,", "epochs = true,")),
    ("batch-size-false", _toml("batch_size = 32", "batch_size = false")),
    ("channels-true", _toml(_DATASET, 'dataset = { source = "digits", channels = true }')),
    ("lr-true", _toml("lr = 0.001", "lr = true")),
    ("deterministic-one", _toml('device = "cpu"', 'device = "cpu", deterministic = 1')),
    ("resumable-yes-string", _toml('device = "cpu"', 'device = "cpu", resumable = "yes"')),
    ("lr-inf", _toml("lr = 0.001", "lr = inf")),
    ("lr-nan", _toml("lr = 0.001", "lr = nan")),
    ("lr-overflows-to-inf", _toml("lr = 0.001", "lr = 1e400")),
    ("weight-decay-inf", _toml("lr = 0.001", "lr = 0.001, weight_decay = inf")),
    ("time-limit-inf", _toml('device = "cpu"', 'device = "cpu", time_limit = inf')),
    ("split-nan", _toml(_DATASET, 'dataset = { source = "digits", split = { val = nan } }')),
    ("yaml-lr-inf", _yaml("training: {epochs: 1, device: cpu}", "optimizer: {lr: .inf}\n  training: {epochs: 1}")),
]
_SEEDS: list[tuple[str, str | bytes]] = [
    ("seeds-negative", _toml(_STUDY, _STUDY + "\nseeds = [-1]")),
    ("seeds-beyond-32-bits", _toml(_STUDY, _STUDY + "\nseeds = [8589934592]")),
    ("seeds-empty", _toml(_STUDY, _STUDY + "\nseeds = []")),
    ("seeds-repeated", _toml(_STUDY, _STUDY + "\nseeds = [1, 1]")),
    ("seeds-boolean", _toml(_STUDY, _STUDY + "\nseeds = [true]")),
    ("seeds-fractional", _toml(_STUDY, _STUDY + "\nseeds = [1.5]")),
    ("experiment-seed-beyond-32-bits", _toml('name = "mlp"\n', 'name = "mlp"\nseed = 4294967296\n')),
    ("experiment-seed-and-study-seeds", _toml(_STUDY, _STUDY + "\nseeds = [0]").replace(_MODEL, _MODEL + "\nseed = 1")),
]
_NAMES: list[tuple[str, str | bytes]] = [
    ("name-parent-path", _toml(_STUDY, 'name = "../x"')),
    ("name-absolute-path", _toml(_STUDY, 'name = "/tmp/x"')),
    ("name-subdirectory", _toml(_STUDY, 'name = "a/b"')),
    ("name-backslash", _toml(_STUDY, 'name = "a\\\\b"')),
    ("name-dot", _toml(_STUDY, 'name = "."')),
    ("name-dot-dot", _toml(_STUDY, 'name = ".."')),
    ("name-hidden", _toml(_STUDY, 'name = ".cache"')),
    ("name-empty", _toml(_STUDY, 'name = ""')),
    ("name-newline", _toml(_STUDY, 'name = "a\\nb"')),
    ("name-nul", _toml(_STUDY, 'name = "a\\u0000b"')),
    ("name-ansi-escape", _toml(_STUDY, 'name = "\\u001b[2Jx"')),
    ("name-right-to-left-override", _toml(_STUDY, 'name = "a\\u202eb"')),
    ("name-only-spaces", _toml(_STUDY, 'name = "   "')),
    ("name-300-characters", _toml(_STUDY, f'name = "{"n" * 300}"')),
    ("experiment-name-newline", _toml('name = "mlp"', 'name = "m\\nlp"')),
    ("experiment-name-ansi-escape", _toml('name = "mlp"', 'name = "\\u001b[2Jmlp"')),
    ("experiment-name-right-to-left-override", _toml('name = "mlp"', 'name = "m\\u202elp"')),
    ("experiment-name-whitespace", _toml('name = "mlp"', 'name = " \\t "')),
    ("experiment-name-300-characters", _toml('name = "mlp"', f'name = "{"m" * 300}"')),
    ("yaml-experiment-name-ansi", _yaml("name: mlp", 'name: "\\e[2Jmlp"')),
]
_SIZES: list[tuple[str, str | bytes]] = [
    ("epochs-int64-max", _toml("epochs = 1,", "epochs = 9223372036854775807,")),
    ("yaml-epochs-1e29", _yaml("{epochs: 1,", "{epochs: 1e29,")),
    ("epochs-beyond-bound", _toml("epochs = 1,", "epochs = 10001,")),
    (
        "finetune-epochs-huge",
        _toml(_MODEL, _MODEL + '\nstrategy = { finetune = { epochs = 99999999, lr = 0.1, unfreeze = "all" } }'),
    ),
    ("batch-size-huge", _toml("batch_size = 32", "batch_size = 9223372036854775807")),
    ("patience-huge", _toml('device = "cpu"', 'device = "cpu", early_stopping = { patience = 99999999 }')),
    ("warmup-huge", _toml('device = "cpu"', 'device = "cpu", scheduler = { warmup_epochs = 99999999 }')),
    ("image-size-huge", _toml(_DATASET, 'dataset = { source = "digits", image_size = 1000000 }')),
    ("head-hidden-too-many", _toml(_MODEL, 'model = { name = "mlp", head_hidden = [' + ", ".join(["8"] * 65) + "] }")),
    ("subset-huge", _toml(_DATASET, 'dataset = { source = "digits", subset = { train = 9223372036854775807 } }')),
    ("seeds-too-many", _toml(_STUDY, _STUDY + "\nseeds = [" + ", ".join(map(str, range(1001))) + "]")),
    ("num-workers-huge", _toml('device = "cpu"', 'device = "cpu", num_workers = 100000')),
    (
        "matrix-160000-runs",
        VALID
        + "\n[matrix]\nlr = ["
        + ", ".join(f"{0.0001 * (i + 1):.4f}" for i in range(400))
        + "]\nbatch_size = ["
        + ", ".join(str(i + 1) for i in range(400))
        + "]\n",
    ),
    ("max-runs-beyond-ceiling", _toml(_STUDY, _STUDY + "\nmax_runs = 1000000000")),
]
_VALUES: list[tuple[str, str | bytes]] = [
    ("missing-epochs", _toml("epochs = 1, ", "")),
    ("missing-dataset", _toml(_DATASET + "\n", "")),
    ("missing-model-name", _toml(_MODEL, "model = {}")),
    ("missing-backend", _toml('backend = "torch"\n', "")),
    ("hf-without-id", _toml(_DATASET, 'dataset = { source = "hf" }')),
    ("folder-without-path", _toml(_DATASET, 'dataset = { source = "folder" }')),
    ("backend-tensorflow", _toml('backend = "torch"', 'backend = "tensorflow"')),
    ("engine-on-torch", _toml('backend = "torch"', 'backend = "torch"\nengine = "jax"')),
    ("keras-engine-mxnet", _toml('backend = "torch"', 'backend = "keras"\nengine = "mxnet"')),
    ("optimizer-adagrad", _toml('name = "adam"', 'name = "adagrad"')),
    ("device-tpu", _toml('device = "cpu"', 'device = "tpu"')),
    ("precision-fp8", _toml('device = "cpu"', 'device = "cpu", precision = "fp8"')),
    ("scheduler-unknown", _toml('device = "cpu"', 'device = "cpu", scheduler = { name = "linear" }')),
    ("freeze-unknown-word", _toml(_MODEL, _MODEL + '\nstrategy = { freeze = "partial" }')),
    ("lr-negative", _toml("lr = 0.001", "lr = -0.1")),
    ("epochs-zero", _toml("epochs = 1,", "epochs = 0,")),
    ("nesterov-with-adam", _toml("lr = 0.001", "lr = 0.001, nesterov = true")),
    (
        "split-leaves-no-training-data",
        _toml(_DATASET, 'dataset = { source = "digits", split = { val = 0.6, test = 0.5 } }'),
    ),
    ("matrix-negative-lr", VALID + "\n[matrix]\nlr = [0.001, -1.0]\n"),
    ("freeze-and-freeze-blocks", _toml(_MODEL, _MODEL + '\nstrategy = { freeze = "all_but_head", freeze_blocks = 1 }')),
]

MALFORMED_SPECS: list[tuple[str, str | bytes]] = [
    *_ENCODING, *_SYNTAX, *_STRUCTURE, *_TYPES, *_SEEDS, *_NAMES, *_SIZES, *_VALUES,
]  # fmt: skip
"""(label, content): each must make ``suite validate --no-check`` print one line and exit with status 2."""

PREFLIGHT_SPECS: list[tuple[str, str | bytes]] = [
    ("unknown-model", _toml(_MODEL, 'model = { name = "resnet181" }\ndataset = { source = "digits", channels = 3 }')),
    ("unknown-freeze-group", _toml(_MODEL, 'model = { name = "simple_cnn" }\nstrategy = { freeze = ["conv9"] }')),
    (
        "freeze-blocks-beyond-the-model",
        _toml(_MODEL, 'model = { name = "simple_cnn" }\nstrategy = { freeze_blocks = 99 }'),
    ),
    ("cuda-on-a-cpu-machine", _toml('device = "cpu"', 'device = "cuda"')),
]
"""(label, content): valid specs whose preflight must fail (``cuda-on-a-cpu-machine`` only where no GPU is)."""
PREFLIGHT_KEYS = {
    "unknown-model": "model.name",
    "unknown-freeze-group": "strategy.freeze",
    "freeze-blocks-beyond-the-model": "strategy.freeze_blocks",
    "cuda-on-a-cpu-machine": "training.device",
}
"""The key each PREFLIGHT_SPECS problem line names."""


def file_name(label: str) -> str:
    """The file name a case is written to: ``spec.yaml`` for ``yaml-`` labels, else ``spec.toml``."""
    return "spec.yaml" if label.startswith("yaml-") else "spec.toml"


def write_case(directory: Path, label: str, content: str | bytes) -> Path:
    """Write one case into ``directory`` under :func:`file_name`; returns the path."""
    path = directory / file_name(label)
    path.write_bytes(content if isinstance(content, bytes) else content.encode("utf-8"))
    return path


def main() -> int:
    """Run every MALFORMED_SPECS case through ``python -m suite validate --no-check``; 1 when one misbehaves."""
    bad = 0
    for label, content in MALFORMED_SPECS:
        with tempfile.TemporaryDirectory() as tmp:
            path = write_case(Path(tmp), label, content)
            command = [sys.executable, "-m", "suite", "validate", "--no-check", str(path)]
            completed = subprocess.run(command, capture_output=True, text=True, check=False)
        lines = [line for line in (completed.stdout + completed.stderr).splitlines() if line.strip()]
        ok = completed.returncode == 2 and len(lines) == 1 and "Traceback" not in completed.stderr
        bad += not ok
        print(f"{'ok  ' if ok else 'FAIL'} {label}: exit {completed.returncode}: {' | '.join(lines)[:300]}")
    print(f"{len(MALFORMED_SPECS) - bad} of {len(MALFORMED_SPECS)} cases refused cleanly")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
