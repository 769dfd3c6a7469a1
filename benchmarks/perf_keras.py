"""Keras runner performance: overhead vs a bare ``model.fit``, and images/s per Keras backend.

Each backend runs in its own process (KERAS_BACKEND is read when keras is imported). Data are synthetic
CIFAR-sized uint8 images, preprocessed by the suite's Preprocessing exactly as in a real run.

    .venv/bin/python benchmarks/perf_keras.py                      # all installed backends
    .venv/bin/python benchmarks/perf_keras.py --backends tensorflow --train 2048

The last rows run the same models, data and batch size in the PyTorch runner (``pytorch-runner``, fp32).
Columns: runner img/s = the runner's ThroughputMeter (train steps only, 2 warm-up batches excluded);
bare img/s = train images / median wall time of epochs 2..3 of a plain ``model.fit`` without validation (same
model, data, batch size, optimizer); epoch s = median of epochs 2..3 incl. validation, runner (its history) vs
plain fit; overhead = runner epoch s / bare epoch s - 1 (the runner's per-batch callbacks make Keras wait for
every step, which plain fit does not).
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
EPOCHS = 3  # the first epoch (tracing / compilation) is left out of every epoch-time figure
MODELS = {
    "simple_cnn": ({"name": "simple_cnn"}, {"freeze": "none"}),
    "mobilenet_v2_frozen": ({"name": "mobilenet_v2", "head": "flatten"}, {"freeze": "all_but_head"}),
}


def _bundle(n_train: int, n_val: int, n_test: int):
    import numpy as np

    from suite.data.bundle import DataBundle, Split
    from suite.data.preprocess import Preprocessing

    rng = np.random.default_rng(0)

    def split(size: int) -> Split:
        return Split(rng.integers(0, 256, (size, 32, 32, 3), dtype=np.uint8), rng.integers(0, 10, size))

    return DataBundle(
        split(n_train),
        split(n_val),
        split(n_test),
        [str(i) for i in range(10)],
        Preprocessing(normalization="unit"),
        source="synthetic",
    )


PYTORCH_RUNNER = "pytorch-runner"


def _spec(backend: str, model: dict, strategy: dict, batch_size: int):
    from suite.spec.models import ExperimentSpec

    runner = {"backend": "torch"} if backend == PYTORCH_RUNNER else {"backend": "keras", "keras_backend": backend}
    return ExperimentSpec.model_validate(
        {
            "name": f"perf-{model['name']}",
            **runner,
            "seed": 0,
            "dataset": {"source": "cifar10"},
            "model": model,
            "strategy": strategy,
            "optimizer": {"name": "adam", "lr": 1e-3},
            "training": {"epochs": EPOCHS, "batch_size": batch_size},
        }
    )


def _epoch_seconds(model, x, y, batch_size: int, epochs: int, validation=None) -> list[float]:
    """Wall seconds of each epoch of one plain ``model.fit`` (epoch-level callback only: no per-batch sync)."""
    import keras

    seconds: list[float] = []

    class EpochClock(keras.callbacks.Callback):
        def on_epoch_begin(self, epoch, logs=None):
            self.started = time.perf_counter()

        def on_epoch_end(self, epoch, logs=None):
            seconds.append(time.perf_counter() - self.started)

    model.fit(
        x, y, batch_size=batch_size, epochs=epochs, validation_data=validation, verbose=0, callbacks=[EpochClock()]
    )
    return seconds


def _bare_fit(spec, data, batch_size: int, epochs: int) -> tuple[float, float]:
    """(train-only images/s, epoch seconds with validation) of plain model.fit; first epoch (tracing) dropped."""
    import keras

    from keras_impl.freezing import apply_freezing, frozen_groups
    from keras_impl.models import build_model

    keras.backend.clear_session()
    keras.utils.set_random_seed(0)
    built = build_model(spec.model, data.input_shape, data.num_classes)
    apply_freezing(built, frozen_groups(spec.strategy, built.group_names))
    built.model.compile(
        optimizer=keras.optimizers.Adam(1e-3), loss="sparse_categorical_crossentropy", metrics=["accuracy"]
    )
    x, y = data.preprocessing.apply(data.train.images), data.train.labels
    val = (data.preprocessing.apply(data.val.images), data.val.labels)
    train_only = _epoch_seconds(built.model, x, y, batch_size, epochs)[1:]
    with_val = _epoch_seconds(built.model, x, y, batch_size, epochs, validation=val)[1:]
    return len(x) / statistics.median(train_only), statistics.median(with_val)


def worker(backend: str, n_train: int, batch_size: int) -> list[dict]:
    """Measure every model on the backend this process runs (called in a child process)."""
    from keras_impl import create_keras_runner
    from suite.runners.progress import NullProgress

    runner = create_keras_runner()
    data = _bundle(n_train, n_train // 4, n_train // 4)
    rows = []
    for label, (model, strategy) in MODELS.items():
        spec = _spec(backend, model, strategy, batch_size)
        output = runner.run(spec, data, Path(tempfile.mkdtemp()), NullProgress())
        bare_ips, bare_epoch = _bare_fit(spec, data, batch_size, EPOCHS)
        rows.append(
            {
                "backend": backend,
                "model": label,
                "runner_ips": output.timing.train_images_per_second,
                "bare_ips": bare_ips,
                "bare_epoch_s": bare_epoch,
                "runner_epoch_s": statistics.median(row["seconds"] for row in output.history[1:]),
                "eval_ips": output.timing.eval_images_per_second,
                "trainable": output.params.trainable,
                "jit_compile": output.extra["phases"][0]["jit_compile"],
            }
        )
    return rows


def torch_worker(n_train: int, batch_size: int) -> list[dict]:
    """The same models, data and batch size in the PyTorch runner (fp32, its defaults otherwise)."""
    from suite.runners.progress import NullProgress
    from torch_impl.runner import TorchRunner

    data = _bundle(n_train, n_train // 4, n_train // 4)
    rows = []
    for label, (model, strategy) in MODELS.items():
        spec = _spec(PYTORCH_RUNNER, model, strategy, batch_size)
        spec.training.precision = "fp32"
        output = TorchRunner().run(spec, data, Path(tempfile.mkdtemp()), NullProgress())
        cached = output.extra["feature_cache"].get("active", False)
        rows.append(
            {
                "backend": PYTORCH_RUNNER,
                "model": f"{label} (feature cache)" if cached else label,
                "runner_ips": output.timing.train_images_per_second,
                "runner_epoch_s": statistics.median(row["seconds"] for row in output.history[1:]),
                "eval_ips": output.timing.eval_images_per_second,
                "trainable": output.params.trainable,
            }
        )
    return rows


def _run_child(backend: str, n_train: int, batch_size: int) -> list[dict]:
    env = {
        **os.environ,
        "KERAS_BACKEND": backend,
        "TF_CPP_MIN_LOG_LEVEL": "3",
        "PYTHONPATH": str(REPO),
        "OMP_WAIT_POLICY": "PASSIVE",
    }
    command = [sys.executable, __file__, "--worker", backend, "--train", str(n_train), "--batch-size", str(batch_size)]
    done = subprocess.run(command, env=env, capture_output=True, text=True)
    if done.returncode != 0:
        return [{"backend": backend, "model": "-", "error": done.stderr.strip().splitlines()[-1]}]
    return json.loads(done.stdout.strip().splitlines()[-1])


def _table(rows: list[dict]) -> str:
    ok = [row for row in rows if "error" not in row]
    reference = {row["model"]: row["runner_ips"] for row in ok if row["backend"] == "tensorflow"}
    lines = [
        "| backend | model | runner img/s | bare fit img/s | runner epoch s | bare epoch s | overhead | "
        "eval img/s | vs tensorflow |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for row in rows:
        if "error" in row:
            lines.append(f"| {row['backend']} | error: {row['error']} |||||||")
            continue
        model = row["model"].split(" (")[0]
        ratio = row["runner_ips"] / reference[model] if model in reference else float("nan")
        bare = "bare_epoch_s" in row
        overhead = f"{row['runner_epoch_s'] / row['bare_epoch_s'] - 1:+.1%}" if bare else "–"
        bare_ips = f"{row['bare_ips']:.0f}" if bare else "–"
        bare_epoch = f"{row['bare_epoch_s']:.2f}" if bare else "–"
        lines.append(
            f"| {row['backend']} | {row['model']} | {row['runner_ips']:.0f} | {bare_ips} | "
            f"{row['runner_epoch_s']:.2f} | {bare_epoch} | {overhead} | {row['eval_ips']:.0f} | {ratio:.2f}x |"
        )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backends", nargs="+", default=["tensorflow", "jax", "torch", PYTORCH_RUNNER])
    parser.add_argument("--train", type=int, default=2048, help="training images per epoch")
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        rows = torch_worker if args.worker == PYTORCH_RUNNER else lambda *a: worker(args.worker, *a)
        print(json.dumps(rows(args.train, args.batch_size)))
        return
    rows = []
    for backend in args.backends:
        module = "torch" if backend == PYTORCH_RUNNER else backend
        if importlib.util.find_spec(module) is None:
            rows.append({"backend": backend, "model": "-", "error": f"{backend} not installed"})
            continue
        rows += _run_child(backend, args.train, args.batch_size)
    print(f"{os.cpu_count()} CPU cores, {args.train} train images 32x32x3, batch {args.batch_size}, fp32\n")
    print(_table(rows))


if __name__ == "__main__":
    main()
