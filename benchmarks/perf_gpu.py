"""Does the GPU wait for the suite? The device feed, the runners against bare loops, and a run's fixed cost.

On a CUDA machine, in one run with interleaved repeats (each number is the best of ``--repeats``):
(a) the feed's own images/s at ``--size`` px: today's float32 batches (preloaded, or normalised batch by batch
    when the split's float32 form is over the core's preload limit) copied from pageable memory, against the
    device feed's CPU side (gather uint8, stage in pinned memory, copy) and, on CUDA, the whole feed
    (normalised on the GPU; streamed on a side stream, and device-resident);
(b) a bare torchvision ResNet18 loop with the data resident on the GPU (fp32; bf16 + channels_last; the same
    with torch.compile) against the torch runner on the same work (bf16 + channels_last): full fine-tune, and
    frozen all but the head with the feature cache; runner/bare ratios, the runner's epoch rate (train + val)
    against its steady-state rate, warm-up seconds, peak GPU memory;
(c) the Keras runner on JAX (its own process, ``KERAS_BACKEND=jax``) and the torch runner on a shared network
    (``simple_cnn`` at ``--keras-size`` px): train and eval images/s, warm-up seconds, peak memory.
Without CUDA only (a) runs (the GPU-side parts would measure the CPU) and the script says so; (c) is skipped
with its reason when Keras or JAX is not importable. TensorFlow is never imported.

Data: scikit-learn's digits upscaled (real, offline), tiled to ``--images`` training images; random weights.

    python benchmarks/perf_gpu.py                                  # ~4 minutes on an H200
    python benchmarks/perf_gpu.py --images 64 --size 32 --repeats 1 --epochs 1 --eval-images 32   # a smoke run
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from suite.data.bundle import DataBundle, Split
from suite.data.preprocess import Preprocessing
from suite.runners.progress import NullProgress
from suite.runners.protocol import RunOutput
from suite.spec.models import ExperimentSpec
from suite.training.batches import epoch_order, make_inputs

REPO = Path(__file__).resolve().parents[1]


def small_digits() -> tuple[np.ndarray, np.ndarray]:
    """scikit-learn's 8x8 digits as uint8 (N, 8, 8, 1); synthetic uint8 digits-shaped images without scikit-learn."""
    if importlib.util.find_spec("sklearn") is None:
        print("scikit-learn is not installed: synthetic uint8 images stand in for the digits")
        rng = np.random.default_rng(0)
        return rng.integers(0, 256, (1797, 8, 8, 1), dtype=np.uint8), np.arange(1797) % 10
    from sklearn.datasets import load_digits

    digits = load_digits()
    return np.rint(digits.images * 255.0 / 16.0).astype(np.uint8)[..., None], digits.target


def digits_bundle(size: int, n_train: int, n_eval: int) -> DataBundle:
    """Digits upscaled to ``size`` px RGB (resized once here), tiled to ``n_train`` + 2 x ``n_eval`` images."""
    small, targets = small_digits()
    picks = np.random.default_rng(0).permutation(np.resize(np.arange(len(small)), n_train + 2 * n_eval))
    prep = Preprocessing(image_size=size, channels=3, normalization="imagenet")
    images, labels = prep.resize_uint8(small[picks]), targets[picks].astype(np.int64)
    cuts = [(0, n_train), (n_train, n_train + n_eval), (n_train + n_eval, n_train + 2 * n_eval)]
    train, val, test = (Split(images[a:b], labels[a:b]) for a, b in cuts)
    return DataBundle(train, val, test, [str(d) for d in range(10)], prep, "digits")


def best_of(measures: dict[str, Callable[[], dict[str, float]]], repeats: int) -> dict[str, dict[str, Any]]:
    """Run every measure once per repeat, interleaved, and summarise each key over the repeats (:func:`_best`).

    A measure that raises is recorded as ``{"error": ...}`` and not run again; the others go on.
    """
    tries: dict[str, list[dict[str, float]]] = {name: [] for name in measures}
    errors: dict[str, dict[str, Any]] = {}
    for _ in range(repeats):
        for name, measure in measures.items():
            if name in errors:
                continue
            try:
                tries[name].append(measure())
            except Exception as error:  # a benchmark records what failed and goes on
                errors[name] = {"error": f"{type(error).__name__}: {str(error)[:300]}"}
                print(f"{name} failed: {errors[name]['error']}", flush=True)
    summary = {
        name: {key: _best(key, [run[key] for run in runs]) for key in runs[0]} for name, runs in tries.items() if runs
    }
    return {**summary, **errors}


def _best(key: str, values: list[float]) -> float:
    """Rates and peaks: the highest. Warm-up and first-epoch seconds: the first repeat's, as a run's own worker
    process pays them (later repeats reuse this process's caches). Other seconds: the lowest."""
    if key.endswith("_ips") or key.startswith("peak"):
        return max(values)
    if "warmup" in key or key.startswith("first"):
        return values[0]
    return min(values)


def synchronize() -> None:
    """Wait for the GPU (nothing to wait for without one)."""
    import torch

    if torch.cuda.is_available():
        torch.cuda.synchronize()


def reset_peak() -> None:
    """Start counting peak GPU memory afresh."""
    import torch

    if torch.cuda.is_available():
        torch.cuda.reset_peak_memory_stats()


def peak_gib() -> float:
    """Peak GPU memory torch allocated since :func:`reset_peak`, GiB (0 without a GPU)."""
    import torch

    return torch.cuda.max_memory_allocated() / 2**30 if torch.cuda.is_available() else 0.0


# (a) the feed ---------------------------------------------------------------------------------------------


def feed_equals_cpu_path(data: DataBundle, batch_size: int, device: Any, batches: int = 3) -> dict[str, bool]:
    """Whether the feed's first batches (streamed, resident) are bitwise the CPU path's normalised batches."""
    import torch

    from torch_impl.data import DeviceFeed
    from torch_impl.precision import Numerics

    numerics = Numerics(device, "bf16", True)
    pixels = make_inputs(data.train, data.preprocessing, pixels=True)
    order = epoch_order(0, 0, len(data.train))[: batches * batch_size]
    expected = [
        torch.from_numpy(data.preprocessing.normalize(x)).permute(0, 3, 1, 2)
        for x, _ in pixels.batches(batch_size, order)
    ]
    found = {}
    for name, budget in (("streamed", 0), ("resident", 2**40)):
        fed = [b.inputs.cpu() for b, _ in DeviceFeed(numerics, budget).batches(pixels, batch_size, order, 0)]
        found[f"{name}_bitwise"] = all(
            np.array_equal(a.contiguous().numpy().view(np.uint32), b.contiguous().numpy().view(np.uint32))
            for a, b in zip(expected, fed, strict=True)
        )
    return found


def feed_rates(data: DataBundle, batch_size: int, device: Any) -> dict[str, Callable[[], dict[str, float]]]:
    """The feed's images/s: today's float32 path against the device feed's (streamed and, on CUDA, resident)."""

    from torch_impl.data import DeviceFeed, input_tensor, stage
    from torch_impl.precision import Numerics

    numerics = Numerics(device, "bf16", True)
    cuda = device.type == "cuda"
    today, pixels = (
        make_inputs(data.train, data.preprocessing),
        make_inputs(data.train, data.preprocessing, pixels=True),
    )
    order = epoch_order(0, 0, len(data.train))
    print(f"today's feed at {data.train.images.shape[1]} px: {type(today).__name__} (float32 batches)")

    def timed(batches: Callable[[], Any]) -> dict[str, float]:
        synchronize()
        started = time.perf_counter()
        for batch in batches():
            del batch
        synchronize()
        return {"feed_ips": len(order) / (time.perf_counter() - started)}

    def today_feed() -> Any:  # float32 batches (preloaded, or normalised per batch when too big), pageable copies
        return (input_tensor(x, numerics) for x, _ in today.batches(batch_size, order))

    def staged() -> Any:  # the streamed feed's CPU side: gather uint8, stage (pinned on CUDA), copy to the device
        return (
            stage(x, y, cuda)[0].to(device, non_blocking=True) for x, y in pixels.host_batches(batch_size, order, 0)
        )

    measures = {"float32_today": lambda: timed(today_feed), "uint8_staged": lambda: timed(staged)}
    if cuda:  # the whole feed, normalised on the GPU (a CPU run never normalises through the feed)
        streamed, resident = DeviceFeed(numerics, 0), DeviceFeed(numerics, 2**40)
        measures["uint8_streamed_normalised"] = lambda: timed(lambda: streamed.batches(pixels, batch_size, order, 0))
        measures["uint8_resident_normalised"] = lambda: timed(lambda: resident.batches(pixels, batch_size, order, 0))
    return measures


# (b) bare loops and the torch runner ----------------------------------------------------------------------


def bare_loop(
    data: DataBundle, batch_size: int, epochs: int, precision: str, compiled: bool, device: Any
) -> Callable[[], dict]:
    """A torchvision ResNet18 trained on data resident on the GPU (normalised once), batches in the core's order."""
    import torch
    import torchvision

    layout = torch.channels_last if precision == "bf16" else torch.contiguous_format
    images = torch.from_numpy(data.preprocessing.normalize(data.train.images)).to(device).permute(0, 3, 1, 2)
    images, labels = images.contiguous(memory_format=layout), torch.from_numpy(data.train.labels).to(device)
    torch.manual_seed(0)
    model = torchvision.models.resnet18(num_classes=10).to(device).to(memory_format=layout)
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-4)
    forward = torch.compile(model) if compiled else model

    def step(index: torch.Tensor) -> None:
        optimizer.zero_grad(set_to_none=True)
        with torch.autocast(device.type, dtype=torch.bfloat16, enabled=precision == "bf16"):
            logits = forward(images.index_select(0, index))
        torch.nn.functional.cross_entropy(logits.float(), labels.index_select(0, index)).backward()
        optimizer.step()

    def measure() -> dict[str, float]:
        reset_peak()
        indices = [torch.from_numpy(epoch_order(0, e, len(labels))).to(device) for e in range(epochs)]
        batches = [order[s : s + batch_size] for order in indices for s in range(0, len(order), batch_size)]
        synchronize()
        started = time.perf_counter()
        step(batches[0])  # warm-up: kernel selection, compilation on the first call
        synchronize()
        warm = time.perf_counter()
        for index in batches[1:]:
            step(index)
        synchronize()
        steady = sum(len(index) for index in batches[1:]) / (time.perf_counter() - warm)
        return {"train_ips": steady, "warmup_s": warm - started, "peak_gib": peak_gib()}

    return measure


def runner_spec(args: argparse.Namespace, model: str, backend: str = "torch", **sections: Any) -> ExperimentSpec:
    """A spec for the runners: Adam, ``--epochs`` epochs, ``--batch-size``, precision auto (bf16 on a GPU)."""
    training = {"epochs": args.epochs, "batch_size": args.batch_size, "precision": "auto"}
    training.update(sections.pop("training", {}))
    dataset = {"source": "digits", "normalization": "imagenet"}
    raw = {"name": "perf_gpu", "backend": backend, "seed": 0, "dataset": dataset, "model": {"name": model},
           "optimizer": {"name": "adam", "lr": 1e-4}, "training": training, **sections}  # fmt: skip
    return ExperimentSpec.model_validate(raw)


def runner_numbers(out: RunOutput, n_train: int, peak_gib: float) -> dict[str, float]:
    """Steady-state rates, the epoch rate (train + val wall time) after the first epoch, warm-up seconds, memory."""
    later = [row["seconds"] for row in out.history[1:]] or [out.history[0]["seconds"]]
    timing = out.timing
    return {
        "train_ips": timing.train_images_per_second,
        "eval_ips": timing.eval_images_per_second,
        "epoch_ips": n_train / float(np.mean(later)),
        "first_epoch_s": out.history[0]["seconds"],
        "train_warmup_s": timing.train_warmup_seconds,
        "eval_warmup_s": timing.eval_warmup_seconds,
        "train_s": timing.train_seconds,
        "peak_gib": peak_gib,
    }


def torch_runner(spec: ExperimentSpec, data: DataBundle) -> Callable[[], dict[str, float]]:
    """One run through the core and the torch runner, as a worker does it (its settings printed once)."""
    told: list[bool] = []

    def measure() -> dict[str, float]:
        from suite.training.run import execute
        from torch_impl.runner import TorchRunner

        reset_peak()
        with tempfile.TemporaryDirectory() as run_dir:
            out = execute(spec, TorchRunner(), data, Path(run_dir), NullProgress())
        if not told:
            told.append(True)
            settings = {key: out.extra.get(key) for key in ("precision", "channels_last", "device", "device_feed")}
            print(f"torch runner {spec.model.name} {spec.strategy.freeze or ''}: {settings}", flush=True)
        return runner_numbers(out, len(data.train), peak_gib())

    return measure


# (c) Keras on JAX, in its own process ---------------------------------------------------------------------


def keras_jax(argv: list[str]) -> dict[str, Any]:
    """The Keras runner on JAX, in a child process (JAX and torch in one process fight over GPU memory)."""
    missing = [name for name in ("keras", "jax") if importlib.util.find_spec(name) is None]
    if missing:
        return {"skipped": f"{' and '.join(missing)} not importable here: the Keras-on-JAX part is skipped"}
    env = {**os.environ, "KERAS_BACKEND": "jax", "XLA_PYTHON_CLIENT_PREALLOCATE": "false",
           "PYTHONPATH": os.pathsep.join([str(REPO), os.environ.get("PYTHONPATH", "")])}  # fmt: skip
    command = [sys.executable, __file__, "--keras-child", *argv]
    done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=1200)
    lines = [line for line in done.stdout.splitlines() if line.startswith("KERAS ")]
    if done.returncode != 0 or not lines:
        return {"skipped": f"the Keras-on-JAX process failed: {done.stderr.strip()[-1500:]}"}
    return json.loads(lines[-1][len("KERAS ") :])


def keras_child(args: argparse.Namespace) -> None:
    """Runs in the child: ``--repeats`` Keras-on-JAX runs of simple_cnn; prints the best numbers as one line."""
    import jax

    from keras_impl import create_keras_runner
    from suite.training.run import execute

    data = digits_bundle(args.keras_size, args.images, args.eval_images)
    spec = runner_spec(args, "simple_cnn", backend="keras", engine="jax")
    tries = []
    for _ in range(args.repeats):
        with tempfile.TemporaryDirectory() as run_dir:
            out = execute(spec, create_keras_runner(), data, Path(run_dir), NullProgress())
        stats = jax.devices()[0].memory_stats() or {}
        tries.append(runner_numbers(out, len(data.train), stats.get("peak_bytes_in_use", 0) / 2**30))
    best = {key: _best(key, [run[key] for run in tries]) for key in tries[0]}
    print("KERAS " + json.dumps({**best, "device": str(jax.devices()[0]), "engine": out.extra.get("engine")}))


# the run --------------------------------------------------------------------------------------------------


def gpu_parts(args: argparse.Namespace, device: Any) -> dict[str, Any]:
    """(b) and the torch side of (c), interleaved; (a) is measured by :func:`main` on every machine."""
    data = digits_bundle(args.size, args.images, args.eval_images)
    loop = {"data": data, "batch_size": args.batch_size, "epochs": args.bare_epochs, "device": device}
    measures = {
        "bare_fp32": bare_loop(**loop, precision="fp32", compiled=False),
        "bare_bf16_cl": bare_loop(**loop, precision="bf16", compiled=False),
        "runner_full": torch_runner(runner_spec(args, "resnet18"), data),
        "runner_frozen_cached": torch_runner(
            runner_spec(args, "resnet18", strategy={"freeze": "all_but_head"}, training={"feature_cache": True}), data
        ),
    }
    if not args.skip_compile:
        measures["bare_bf16_cl_compile"] = bare_loop(**loop, precision="bf16", compiled=True)
    small = digits_bundle(args.keras_size, args.images, args.eval_images)
    measures["runner_simple_cnn"] = torch_runner(runner_spec(args, "simple_cnn"), small)
    return best_of(measures, args.repeats)


def ratios(gpu: dict[str, Any], keras: dict[str, Any]) -> dict[str, float]:
    """The ratios the issue asks about (those whose measures ran)."""
    rate = {name: value.get("train_ips") for name, value in {**gpu, "keras_jax": keras}.items()}
    pairs = {
        "runner_vs_bare_bf16_cl": (rate.get("runner_full"), rate.get("bare_bf16_cl")),
        "runner_vs_bare_compiled": (rate.get("runner_full"), rate.get("bare_bf16_cl_compile")),
        "compile_speedup_bare": (rate.get("bare_bf16_cl_compile"), rate.get("bare_bf16_cl")),
        "runner_epoch_rate_vs_steady": (gpu.get("runner_full", {}).get("epoch_ips"), rate.get("runner_full")),
        "runner_eval_vs_train": (gpu.get("runner_full", {}).get("eval_ips"), rate.get("runner_full")),
        "keras_jax_eval_vs_train": (keras.get("eval_ips"), rate.get("keras_jax")),
        "keras_jax_vs_torch_simple_cnn": (rate.get("keras_jax"), rate.get("runner_simple_cnn")),
    }
    return {name: top / bottom for name, (top, bottom) in pairs.items() if top and bottom}


def parse(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=int, default=4096, help="training images (val and test: --eval-images)")
    parser.add_argument("--eval-images", type=int, default=1024)
    parser.add_argument("--size", type=int, default=224, help="image size of the ResNet18 and feed parts")
    parser.add_argument("--keras-size", type=int, default=64, help="image size of the shared-network part (c)")
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument("--epochs", type=int, default=5, help="epochs of every runner run")
    parser.add_argument("--bare-epochs", type=int, default=2, help="epochs of every bare-loop measurement")
    parser.add_argument("--repeats", type=int, default=3, help="interleaved repeats; each number is the best")
    parser.add_argument("--skip-compile", action="store_true", help="leave out the torch.compile bare loop")
    parser.add_argument("--skip-keras", action="store_true", help="leave out the Keras-on-JAX part (c)")
    parser.add_argument("--json", type=Path, help="also write the numbers here")
    parser.add_argument("--all-on-cpu", action="store_true", help="run every part without CUDA (tests the script)")
    parser.add_argument("--keras-child", action="store_true", help=argparse.SUPPRESS)
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> dict[str, Any]:
    argv = sys.argv[1:] if argv is None else argv
    args = parse(argv)
    if args.keras_child:
        keras_child(args)
        return {}
    import torch

    cuda = torch.cuda.is_available()
    device = torch.device("cuda" if cuda else "cpu")
    feed_data = digits_bundle(args.size, args.images, 0)
    report: dict[str, Any] = {"device": torch.cuda.get_device_name() if cuda else "cpu", "torch": torch.__version__}
    report["feed"] = best_of(feed_rates(feed_data, args.batch_size, device), args.repeats)
    report["feed_equals_cpu_path"] = feed_equals_cpu_path(feed_data, args.batch_size, device)
    del feed_data
    if cuda or args.all_on_cpu:
        report["gpu"] = gpu_parts(args, device)
        report["keras_jax"] = keras_jax(argv) if not args.skip_keras else {"skipped": "--skip-keras"}
        report["ratios"] = ratios(report["gpu"], report["keras_jax"])
    else:
        report["skipped"] = (
            "no CUDA device: the bare loops, the runners and Keras on JAX are GPU measurements "
            "(on a CPU the feed is not the bottleneck); only the feed's images/s were measured"
        )
    print(json.dumps(report, indent=1))
    print_summary(report)
    if args.json:
        args.json.write_text(json.dumps(report, indent=1))
    return report


def print_summary(report: dict[str, Any]) -> None:
    """The headline numbers, one line each."""
    feed = report["feed"]
    old = feed["float32_today"]["feed_ips"]
    for name, value in feed.items():
        print(f"feed {name}: {value['feed_ips']:.0f} img/s ({value['feed_ips'] / old:.2f}x today's float32 feed)")
    print(f"feed batches bitwise equal to the CPU path's: {report['feed_equals_cpu_path']}")
    if "skipped" in report:
        print(report["skipped"])
        return
    for name, value in report["gpu"].items():
        print(f"{name}: " + ", ".join(f"{key} {_shown(number)}" for key, number in value.items()))
    keras = report["keras_jax"]
    print("keras_jax: " + (keras["skipped"] if "skipped" in keras else
                           ", ".join(f"{k} {v:.3g}" for k, v in keras.items() if isinstance(v, float))))  # fmt: skip
    for name, value in report["ratios"].items():
        print(f"ratio {name}: {value:.2f}")


def _shown(value: Any) -> str:
    return f"{value:.3g}" if isinstance(value, float) else str(value)


if __name__ == "__main__":
    main()
