"""Keras runner performance per engine: overhead vs a bare ``model.fit``, and the frozen-prefix feature cache.

Each engine runs in its own process (KERAS_BACKEND is read when keras is imported). Data are synthetic
CIFAR-sized uint8 images, preprocessed by the suite's Preprocessing exactly as in a real run; every run goes
through the core's loop (``suite.training.run.execute``).

    .venv/bin/python benchmarks/perf_keras.py                      # all installed engines
    .venv/bin/python benchmarks/perf_keras.py --engines tensorflow --train 2048

Table 1 (overhead): runner img/s = the core's ThroughputMeter (train steps only, warm-up excluded); bare img/s
= train images / median wall time of epochs 2..3 of a plain ``model.fit`` without validation (same model,
data, batch size, Adam); epoch s = median of epochs 2..3 incl. validation, runner vs plain fit; overhead =
runner epoch s / bare epoch s - 1. The MobileNetV2 row runs without the feature cache (same work as fit).
The ``pytorch-runner`` rows run the same models, data and batch size in the PyTorch runner.

Table 2 (feature cache): head-only MobileNetV2 (random init, frozen base), 5 epochs, with the cache
(``training.feature_cache = true``: the frozen base's outputs computed once) vs without; train seconds =
the core's figure (epoch seconds plus the one-off cache pass); |Δ val loss| = the largest per-epoch gap.
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
CACHE_EPOCHS = 5
PYTORCH_RUNNER = "pytorch-runner"
MODELS = {
    "simple_cnn": ({"name": "simple_cnn"}, {"freeze": "none"}),
    "mobilenet_v2_frozen": ({"name": "keras_mobilenet_v2", "head": "flatten"}, {"freeze": "all_but_head"}),
}


def _bundle(n_train: int, n_val: int, n_test: int):
    import numpy as np

    from suite.data.bundle import DataBundle, Split
    from suite.data.preprocess import Preprocessing

    rng = np.random.default_rng(0)

    def split(size: int) -> Split:
        return Split(rng.integers(0, 256, (size, 32, 32, 3), dtype=np.uint8), rng.integers(0, 10, size))

    names, preprocessing = [str(i) for i in range(10)], Preprocessing(normalization="unit")
    return DataBundle(split(n_train), split(n_val), split(n_test), names, preprocessing, "synthetic")


def _spec(engine: str, model: dict, strategy: dict, batch_size: int, epochs: int = EPOCHS, cache: bool = False):
    from suite.spec.models import ExperimentSpec

    backend = {"backend": "torch"} if engine == PYTORCH_RUNNER else {"backend": "keras", "engine": engine}
    return ExperimentSpec.model_validate(
        {
            "name": f"perf-{model['name']}",
            **backend,
            "seed": 0,
            "dataset": {"source": "cifar10"},
            "model": model,
            "strategy": strategy,
            "optimizer": {"name": "adam", "lr": 1e-3},
            "training": {"epochs": epochs, "batch_size": batch_size, "precision": "fp32", "feature_cache": cache},
        }
    )


def _execute(spec, data):
    from suite.runners.progress import NullProgress
    from suite.runners.registry import create_runner
    from suite.training.run import execute

    return execute(spec, create_runner(spec.backend, spec.engine), data, Path(tempfile.mkdtemp()), NullProgress())


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


def _bare_fit(spec, data, batch_size: int) -> tuple[float, float]:
    """(train-only images/s, epoch seconds with validation) of plain model.fit; first epoch (tracing) dropped."""
    import keras

    from keras_impl.freezing import apply_trainable
    from keras_impl.models import build_model
    from suite.architectures.groups import HEAD_GROUP
    from suite.runners.protocol import TrainableSet

    keras.backend.clear_session()
    keras.utils.set_random_seed(0)
    built = build_model(spec.model, data.input_shape, data.num_classes)
    frozen = spec.strategy.freeze == "all_but_head"
    apply_trainable(built, TrainableSet((HEAD_GROUP,) if frozen else tuple(built.group_names)))
    loss = keras.losses.SparseCategoricalCrossentropy(from_logits=True)
    built.model.compile(optimizer=keras.optimizers.Adam(1e-3), loss=loss, metrics=["accuracy"])
    x, y = data.preprocessing.apply(data.train.images), data.train.labels
    val = (data.preprocessing.apply(data.val.images), data.val.labels)
    train_only = _epoch_seconds(built.model, x, y, batch_size, EPOCHS)[1:]
    with_val = _epoch_seconds(built.model, x, y, batch_size, EPOCHS, validation=val)[1:]
    return len(x) / statistics.median(train_only), statistics.median(with_val)


def _overhead_row(engine: str, label: str, output) -> dict:
    return {
        "engine": engine,
        "model": label,
        "runner_ips": output.timing.train_images_per_second,
        "runner_epoch_s": statistics.median(row["seconds"] for row in output.history[1:]),
        "eval_ips": output.timing.eval_images_per_second,
    }


def _cache_row(engine: str, data, batch_size: int) -> dict:
    """Head-only MobileNetV2 for CACHE_EPOCHS epochs with and without the feature cache."""
    model, strategy = MODELS["mobilenet_v2_frozen"]
    runs = {cache: _execute(_spec(engine, model, strategy, batch_size, CACHE_EPOCHS, cache), data) for cache in (1, 0)}
    gaps = [abs(a["val_loss"] - b["val_loss"]) for a, b in zip(runs[1].history, runs[0].history, strict=True)]
    return {
        "engine": engine,
        "cached_s": runs[1].timing.train_seconds,
        "uncached_s": runs[0].timing.train_seconds,
        "cache_pass_s": runs[1].extra["feature_cache"].get("seconds", 0.0),
        "val_loss_gap": max(gaps),
    }


def worker(engine: str, n_train: int, batch_size: int) -> dict:
    """Measure every model on the engine this process runs (called in a child process)."""
    data = _bundle(n_train, n_train // 4, n_train // 4)
    rows = []
    for label, (model, strategy) in MODELS.items():
        spec = _spec(engine, model, strategy, batch_size)
        output = _execute(spec, data)
        row = _overhead_row(engine, label, output)
        if engine != PYTORCH_RUNNER:
            row["bare_ips"], row["bare_epoch_s"] = _bare_fit(spec, data, batch_size)
        rows.append(row)
    return {"overhead": rows, "cache": [_cache_row(engine, data, batch_size)]}


def _run_child(engine: str, n_train: int, batch_size: int) -> dict:
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3", "PYTHONPATH": str(REPO), "OMP_WAIT_POLICY": "PASSIVE"}
    if engine != PYTORCH_RUNNER:
        env["KERAS_BACKEND"] = engine
    command = [sys.executable, __file__, "--worker", engine, "--train", str(n_train), "--batch-size", str(batch_size)]
    done = subprocess.run(command, env=env, capture_output=True, text=True)
    if done.returncode != 0:
        error = (done.stderr.strip().splitlines() or ["no output"])[-1]
        return {"overhead": [{"engine": engine, "model": "-", "error": error}], "cache": []}
    return json.loads(done.stdout.strip().splitlines()[-1])


def _overhead_table(rows: list[dict]) -> str:
    ok = [row for row in rows if "error" not in row]
    reference = {row["model"]: row["runner_ips"] for row in ok if row["engine"] == "tensorflow"}
    lines = [
        "| engine | model | runner img/s | bare fit img/s | runner epoch s | bare epoch s | overhead | eval img/s | "
        "vs tensorflow |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for row in rows:
        if "error" in row:
            lines.append(f"| {row['engine']} | error: {row['error']} |||||||")
            continue
        ratio = row["runner_ips"] / reference[row["model"]] if row["model"] in reference else float("nan")
        bare = "bare_epoch_s" in row
        overhead = f"{row['runner_epoch_s'] / row['bare_epoch_s'] - 1:+.1%}" if bare else "–"
        bare_ips = f"{row['bare_ips']:.0f}" if bare else "–"
        bare_epoch = f"{row['bare_epoch_s']:.2f}" if bare else "–"
        lines.append(
            f"| {row['engine']} | {row['model']} | {row['runner_ips']:.0f} | {bare_ips} | "
            f"{row['runner_epoch_s']:.2f} | {bare_epoch} | {overhead} | {row['eval_ips']:.0f} | {ratio:.2f}x |"
        )
    return "\n".join(lines)


def _cache_table(rows: list[dict]) -> str:
    lines = [
        f"| engine | train s with cache | of which cache pass | train s without | less training time | "
        f"max abs Δ val loss ({CACHE_EPOCHS} epochs) |",
        "|---|---|---|---|---|---|",
    ]
    for row in rows:
        lines.append(
            f"| {row['engine']} | {row['cached_s']:.2f} | {row['cache_pass_s']:.2f} | {row['uncached_s']:.2f} | "
            f"**{row['uncached_s'] / row['cached_s']:.2f}x** | {row['val_loss_gap']:.1e} |"
        )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--engines", nargs="+", default=["tensorflow", "jax", "torch", PYTORCH_RUNNER])
    parser.add_argument("--train", type=int, default=2048, help="training images per epoch")
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        print(json.dumps(worker(args.worker, args.train, args.batch_size)))
        return
    overhead, cache = [], []
    for engine in args.engines:
        module = "torch" if engine == PYTORCH_RUNNER else engine
        if importlib.util.find_spec(module) is None:
            overhead.append({"engine": engine, "model": "-", "error": f"{module} not installed"})
            continue
        result = _run_child(engine, args.train, args.batch_size)
        overhead += result["overhead"]
        cache += result["cache"]
    print(f"{os.cpu_count()} CPU cores, {args.train} train images 32x32x3, batch {args.batch_size}, fp32\n")
    print(_overhead_table(overhead))
    print(f"\nHead-only MobileNetV2 (random init, frozen base), {CACHE_EPOCHS} epochs, feature cache on vs off:\n")
    print(_cache_table(cache))


if __name__ == "__main__":
    main()
