"""Measure what the torch runner's defaults buy, on this machine, in one run.

(a) ResNet18 training throughput at 224x224: runner defaults (precision=auto -> bf16 autocast where the
    hardware has it, channels_last=auto -> on) vs a plain fp32 NCHW loop.
(b) 5-epoch head-only training of ResNet18 with vs without the frozen-prefix feature cache
    (wall time and test accuracy: they must agree).
(c) Runner vs a bare loop on identical work (fp32, NCHW): the overhead of the core's shared loop driving
    the torch session, in percent.

Data: scikit-learn's digits (real, offline) resized to --image-size RGB; weights are random
(pretrained files are not needed to time things). Throughput excludes 2 warm-up batches.

    python benchmarks/perf_torch.py                        # a few minutes on a laptop CPU
    python benchmarks/perf_torch.py --train-images 512 --repeats 3 --json perf.json
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import torch
import torchvision
from sklearn.datasets import load_digits

from suite.data.bundle import DataBundle, Split
from suite.data.preprocess import Preprocessing
from suite.plan.sections import execution_plan
from suite.runners.progress import NullProgress
from suite.runners.protocol import RunOutput
from suite.spec.models import ExperimentSpec
from suite.timing import ThroughputMeter
from suite.training.run import execute
from torch_impl.precision import Numerics, resolve_numerics
from torch_impl.runner import TorchRunner


def digits_bundle(image_size: int, n_train: int, n_eval: int) -> DataBundle:
    digits = load_digits()
    images = np.round(digits.images * 255 / 16).astype(np.uint8)[..., None]
    order = np.random.default_rng(0).permutation(len(images))
    images, labels = images[order], digits.target[order].astype(np.int64)
    cuts = [(0, n_train), (n_train, n_train + n_eval), (n_train + n_eval, n_train + 2 * n_eval)]
    train, val, test = (Split(images[a:b], labels[a:b]) for a, b in cuts)
    preprocessing = Preprocessing(image_size=image_size, channels=3, normalization="imagenet")
    return DataBundle(train, val, test, [str(d) for d in range(10)], preprocessing, "digits")


def spec(args: argparse.Namespace, lr: float = 1e-4, **training: object) -> ExperimentSpec:
    strategy = training.pop("strategy", {})
    return ExperimentSpec.model_validate({
        "name": "perf", "backend": "torch", "seed": 0, "dataset": {"source": "digits"},
        "model": {"name": "resnet18"}, "strategy": strategy, "optimizer": {"name": "adam", "lr": lr},
        "training": {"epochs": 1, "batch_size": args.batch_size, "device": args.device, **training},
    })  # fmt: skip


def bare_loop(data: DataBundle, numerics: Numerics, batch_size: int) -> tuple[float, float]:
    """Plain torchvision loop over the same preprocessed images, then a validation pass.

    Returns (steady-state train images/s, wall seconds of the train + validation passes).
    """
    torch.manual_seed(0)
    device = numerics.device
    model = torchvision.models.resnet18(num_classes=10).to(device)
    inputs = torch.from_numpy(data.preprocessing.apply(data.train.images)).permute(0, 3, 1, 2).contiguous()
    labels = torch.from_numpy(data.train.labels)
    val = torch.from_numpy(data.preprocessing.apply(data.val.images)).permute(0, 3, 1, 2).contiguous()
    if numerics.channels_last:
        model = model.to(memory_format=torch.channels_last)
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-4)
    meter = ThroughputMeter(2, numerics.synchronize)
    model.train()
    started = time.perf_counter()
    for start in range(0, len(labels), batch_size):
        x, y = inputs[start : start + batch_size].to(device), labels[start : start + batch_size].to(device)
        if numerics.channels_last:
            x = x.contiguous(memory_format=torch.channels_last)
        meter.start_batch()
        optimizer.zero_grad(set_to_none=True)
        with numerics.autocast():
            loss = torch.nn.functional.cross_entropy(model(x).float(), y)
        loss.backward()
        optimizer.step()
        meter.end_batch(len(y))
    model.eval()
    with torch.no_grad():
        for start in range(0, len(val), batch_size):
            x = val[start : start + batch_size].to(device)
            if numerics.channels_last:
                x = x.contiguous(memory_format=torch.channels_last)
            with numerics.autocast():
                model(x)
    numerics.synchronize()
    return meter.images_per_second, time.perf_counter() - started


def run_through_core(run_spec: ExperimentSpec, data: DataBundle) -> RunOutput:
    """One run as the worker does it: the core's plan and epoch loop driving a torch session."""
    with tempfile.TemporaryDirectory() as run_dir:
        return execute(run_spec, TorchRunner(), data, Path(run_dir), NullProgress())


def runner_numbers(args: argparse.Namespace, data: DataBundle, **training: object) -> tuple[float, float]:
    """(steady-state train images/s, wall seconds of the one epoch: train + validation passes)."""
    out = run_through_core(spec(args, **training), data)
    return out.timing.train_images_per_second, out.history[0]["seconds"]


def part_a_and_c(args: argparse.Namespace, data: DataBundle) -> dict:
    """Interleave the three measurements ``repeats`` times; keep each one's best (noise only ever adds time)."""
    defaults_spec = spec(args, precision="auto", channels_last="auto")
    numerics_default = resolve_numerics(execution_plan(defaults_spec), torchvision.models.resnet18())
    fp32 = Numerics(numerics_default.device, "fp32", False)
    measures = {
        "plain": lambda: bare_loop(data, fp32, args.batch_size),
        "defaults": lambda: runner_numbers(args, data, precision="auto", channels_last="auto"),
        "runner_fp32": lambda: runner_numbers(args, data, precision="fp32", channels_last=False),
    }
    tries: dict[str, list[tuple[float, float]]] = {name: [] for name in measures}
    for _ in range(args.repeats):
        for name, measure in measures.items():
            tries[name].append(measure())
    best = {name: (max(t[0] for t in runs), min(t[1] for t in runs)) for name, runs in tries.items()}
    plain, runner_default, runner_fp32 = best["plain"], best["defaults"], best["runner_fp32"]
    return {
        "device": str(numerics_default.device),
        "default_precision": numerics_default.precision,
        "plain_fp32_nchw_ips": plain[0],
        "runner_defaults_ips": runner_default[0],
        "runner_fp32_nchw_ips": runner_fp32[0],
        "a_speedup_defaults_vs_plain": runner_default[0] / plain[0],
        "c_runner_overhead_percent_steady_state": (plain[0] / runner_fp32[0] - 1) * 100,
        "c_bare_epoch_seconds": plain[1],
        "c_runner_epoch_seconds": runner_fp32[1],
        "c_runner_overhead_percent_epoch_wall": (runner_fp32[1] / plain[1] - 1) * 100,
        "tries_ips_and_epoch_seconds": tries,
    }


def part_b(args: argparse.Namespace, data: DataBundle) -> dict:
    results = {}
    for cache in (False, True):
        training = {"epochs": args.cache_epochs, "precision": "fp32", "feature_cache": cache,
                    "strategy": {"freeze": "all_but_head"}}  # fmt: skip
        started = time.perf_counter()
        out = run_through_core(spec(args, lr=1e-3, **training), data)
        accuracy = float((out.test_scores.argmax(1) == out.test_labels).mean())
        results[cache] = {"wall_seconds": time.perf_counter() - started, "train_seconds": out.timing.train_seconds,
                          "test_accuracy": accuracy, "final_val_loss": out.history[-1]["val_loss"]}  # fmt: skip
    return {
        "uncached": results[False],
        "cached": results[True],
        "b_speedup_train_seconds": results[False]["train_seconds"] / results[True]["train_seconds"],
        "b_same_test_accuracy": results[False]["test_accuracy"] == results[True]["test_accuracy"],
        "b_val_loss_difference": abs(results[False]["final_val_loss"] - results[True]["final_val_loss"]),
    }


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--image-size", type=int, default=224)
    parser.add_argument("--train-images", type=int, default=96)
    parser.add_argument("--eval-images", type=int, default=64)
    parser.add_argument("--batch-size", type=int, default=16)
    parser.add_argument("--cache-epochs", type=int, default=5)
    parser.add_argument("--repeats", type=int, default=1, help="best of N for throughput numbers")
    parser.add_argument("--device", default="auto", choices=["auto", "cpu", "cuda"])
    parser.add_argument("--json", type=Path, help="also write the numbers here")
    args = parser.parse_args(argv)
    data = digits_bundle(args.image_size, args.train_images, args.eval_images)
    report = {"args": {k: str(v) for k, v in vars(args).items()}, "torch": torch.__version__,
              "threads": torch.get_num_threads(), **part_a_and_c(args, data), **part_b(args, data)}  # fmt: skip
    print(json.dumps(report, indent=2))
    print(
        f"\n(a) runner defaults ({report['default_precision']}, channels_last) vs plain fp32 NCHW: "
        f"{report['a_speedup_defaults_vs_plain']:.2f}x  ({report['runner_defaults_ips']:.1f} vs "
        f"{report['plain_fp32_nchw_ips']:.1f} img/s)\n"
        f"(b) head-only {args.cache_epochs} epochs, feature cache: {report['b_speedup_train_seconds']:.2f}x faster "
        f"({report['cached']['train_seconds']:.1f} s vs {report['uncached']['train_seconds']:.1f} s), "
        f"test accuracy {report['cached']['test_accuracy']:.3f} vs {report['uncached']['test_accuracy']:.3f}\n"
        f"(c) runner overhead vs bare loop (fp32 NCHW): steady-state step "
        f"{report['c_runner_overhead_percent_steady_state']:+.1f}%, "
        f"epoch wall (train + val) {report['c_runner_overhead_percent_epoch_wall']:+.1f}%"
    )
    if args.json:
        args.json.write_text(json.dumps(report, indent=2))
    return report


if __name__ == "__main__":
    main(sys.argv[1:])
