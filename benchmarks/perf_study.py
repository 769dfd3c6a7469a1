"""A study's wall time against its runs' own training + test seconds, cold and warm; the Keras runner's step overhead.

(1) Studies through the real ``suite run`` command: the quickstart (benchmarks/quickstart.toml, 4 runs) and a
    12-run digits study (mlp and simple_cnn x torch and keras x 3 seeds, the quickstart's settings), each cold
    (``--fresh-workers``: one new process per run) and warm (the default: one warm worker per backend). Printed:
    wall seconds, the sum of every run's ``timing.train_seconds`` + test seconds (``eval_warmup_seconds`` +
    ``eval_steady_seconds``), their ratio, and the seconds from the command's start to the first run's start.
    ``--executor ray`` runs them on Ray instead (cold: a Ray task and fresh process per run; warm: warm actors), on
    the cluster at ``--address`` or, without it, on a local one each command starts (its start-up is in the wall).
(2) The Keras runner vs a bare ``model.fit`` on every installed engine (TensorFlow, JAX, torch), each engine in its
    own process: the same model, synthetic 32x32 data, batch size and Adam, runner and bare fit alternating
    ``--repeats`` times (interleaved, so a noisy machine slows both alike). Step overhead = bare train img/s /
    runner train img/s - 1 (runner: the core's ThroughputMeter, warm-up excluded; bare: epochs 2.. of fit, the
    first with its tracing left out); the median over the repeats is printed with the spread.

    python benchmarks/perf_study.py                                  # about 15 minutes on 2 cores
    python benchmarks/perf_study.py --parts overhead --engines jax --repeats 5
    python benchmarks/perf_study.py --studies digits --seeds 1 --epochs 1 --backends torch --models mlp
    python benchmarks/perf_study.py --parts studies --studies quickstart --executor ray --address 127.0.0.1:6379
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

BENCHMARKS = Path(__file__).resolve().parent
REPO = BENCHMARKS.parent
QUICKSTART = BENCHMARKS / "quickstart.toml"
ENGINES = ("tensorflow", "jax", "torch")
DIGITS_STUDY = """
[study]
name = "digits12"
seeds = {seeds}

[defaults]
dataset = {{ source = "digits", normalization = "unit", split = {{ val = 0.15, test = 0.2 }} }}
optimizer = {{ name = "adam", lr = 1e-3 }}
training = {{ epochs = {epochs}, batch_size = 32, device = "cpu", precision = "fp32" }}

[matrix]
backend = {backends}
"""
MODEL_TABLES = {"mlp": '{ name = "mlp", dropout = 0.2 }', "simple_cnn": '{ name = "simple_cnn" }'}


def digits_study(directory: Path, seeds: int, epochs: int, backends: list[str], models: list[str]) -> Path:
    """The digits study file: ``models`` x ``backends`` x ``seeds`` runs."""
    text = DIGITS_STUDY.format(seeds=list(range(seeds)), epochs=epochs, backends=json.dumps(backends))
    for model in models:
        text += f'\n[[experiments]]\nname = "{model}"\nmodel = {MODEL_TABLES[model]}\n'
    path = directory / "digits12.toml"
    path.write_text(text)
    return path


def run_seconds(out: Path) -> tuple[float, int, float | None]:
    """(sum of training + test seconds, completed runs, first run's start as a file time) of a study's runs."""
    total, completed, first = 0.0, 0, None
    for directory in sorted((out / "runs").iterdir()):
        result = json.loads((directory / "result.json").read_text())
        started = (directory / "spec.toml").stat().st_mtime
        first = started if first is None else min(first, started)
        if result.get("status") == "completed":
            timing = result["timing"]
            total += timing["train_seconds"] + timing["eval_warmup_seconds"] + timing["eval_steady_seconds"]
            completed += 1
    return total, completed, first


def time_study(spec: Path, out: Path, mode: str, overrides: list[str], executor: list[str] | None = None) -> dict:
    """Run ``suite run`` on ``spec`` (cold: ``--fresh-workers``) and measure it against its runs' own seconds.

    ``executor``: options that choose the executor (none: local).
    """
    command = [
        sys.executable,
        "-m",
        "suite",
        "run",
        str(spec),
        "--out",
        str(out),
        "--quiet",
        *overrides,
        *(executor or []),
    ]
    command += ["--fresh-workers"] if mode == "cold" else []
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")]))}
    began, wall_start = time.time(), time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True, env=env, check=False)
    wall = time.perf_counter() - wall_start
    if done.returncode != 0:
        return {"mode": mode, "error": (done.stderr.strip().splitlines() or ["no output"])[-1]}
    runs_seconds, completed, first = run_seconds(out)
    return {
        "mode": mode,
        "runs": completed,
        "wall_s": wall,
        "runs_s": runs_seconds,
        "ratio": wall / runs_seconds,
        "first_run_after_s": (first - began) if first is not None else None,
    }


def studies(args: argparse.Namespace, work: Path) -> list[dict]:
    """Every chosen study, cold and warm (as chosen), interleaved per study."""
    rows = []
    for name in args.studies:
        if name == "quickstart":
            spec, overrides = QUICKSTART, [f"--set=training.epochs={args.epochs}"] if args.epochs else []
        else:
            epochs = args.epochs or 15
            spec, overrides = digits_study(work, args.seeds, epochs, args.backends, args.models), []
        executor = ["--executor", args.executor, *(["--address", args.address] if args.address else [])]
        label = name if args.executor == "local" else f"{name} ({args.executor})"
        for mode in args.modes:
            row = time_study(spec, work / f"{name}-{mode}", mode, overrides, executor)
            rows.append({"study": label, **row})
    return rows


def overhead_worker(engine: str, n_train: int, batch_size: int, repeats: int, models: list[str]) -> list[dict]:
    """In this process (KERAS_BACKEND = ``engine``): runner and bare fit alternating ``repeats`` times per model."""
    perf_keras = _perf_keras()
    data = perf_keras._bundle(n_train, max(n_train // 4, batch_size), max(n_train // 4, batch_size))
    rows = []
    for label in models:
        model, strategy = perf_keras.MODELS[label]
        spec = perf_keras._spec(engine, model, strategy, batch_size)
        pairs = []
        for _ in range(repeats):
            runner_ips = perf_keras._execute(spec, data).timing.train_images_per_second
            bare_ips, _ = perf_keras._bare_fit(spec, data, batch_size)
            pairs.append((runner_ips, bare_ips))
        overheads = [bare / runner - 1 for runner, bare in pairs]
        rows.append(
            {
                "engine": engine,
                "model": label,
                "runner_ips": statistics.median(runner for runner, _ in pairs),
                "bare_ips": statistics.median(bare for _, bare in pairs),
                "overhead": statistics.median(overheads),
                "overhead_min": min(overheads),
                "overhead_max": max(overheads),
            }
        )
    return rows


def _perf_keras():
    spec = importlib.util.spec_from_file_location("perf_keras", BENCHMARKS / "perf_keras.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules.setdefault("perf_keras", module)
    spec.loader.exec_module(module)
    return module


def overhead(args: argparse.Namespace) -> list[dict]:
    """One child process per installed engine (KERAS_BACKEND is read when keras is imported)."""
    rows = []
    for engine in args.engines:
        if importlib.util.find_spec(engine) is None or importlib.util.find_spec("keras") is None:
            rows.append({"engine": engine, "model": "-", "error": f"{engine} or keras not installed"})
            continue
        env = {**os.environ, "KERAS_BACKEND": engine, "TF_CPP_MIN_LOG_LEVEL": "3", "OMP_WAIT_POLICY": "PASSIVE"}
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")]))
        command = [sys.executable, __file__, "--overhead-worker", engine, "--train", str(args.train)]
        command += ["--batch-size", str(args.batch_size), "--repeats", str(args.repeats)]
        command += ["--overhead-models", *args.overhead_models]
        done = subprocess.run(command, capture_output=True, text=True, env=env, check=False)
        if done.returncode != 0:
            rows.append({"engine": engine, "model": "-", "error": (done.stderr.strip().splitlines() or ["?"])[-1]})
            continue
        rows += json.loads(done.stdout.strip().splitlines()[-1])
    return rows


def study_table(rows: list[dict]) -> str:
    lines = [
        "| study | mode | runs | wall s | training + test s | wall / runs | first run after s |",
        "|---|---|---:|---:|---:|---:|---:|",
    ]
    for row in rows:
        if "error" in row:
            lines.append(f"| {row['study']} | {row['mode']} | error: {row['error']} |||||")
            continue
        first = f"{row['first_run_after_s']:.1f}" if row["first_run_after_s"] is not None else "-"
        lines.append(
            f"| {row['study']} | {row['mode']} | {row['runs']} | {row['wall_s']:.1f} | {row['runs_s']:.1f} | "
            f"**{row['ratio']:.2f}x** | {first} |"
        )
    return "\n".join(lines)


def overhead_table(rows: list[dict], repeats: int) -> str:
    lines = [
        f"| engine | model | runner img/s | bare fit img/s | step overhead (median of {repeats}) | range |",
        "|---|---|---:|---:|---:|---|",
    ]
    for row in rows:
        if "error" in row:
            lines.append(f"| {row['engine']} | error: {row['error']} ||||")
            continue
        lines.append(
            f"| {row['engine']} | {row['model']} | {row['runner_ips']:.0f} | {row['bare_ips']:.0f} | "
            f"**{row['overhead']:+.1%}** | {row['overhead_min']:+.1%} .. {row['overhead_max']:+.1%} |"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> dict:
    """Measure the chosen parts, print their tables and return ``{"studies": rows, "overhead": rows}``."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--parts", nargs="+", default=["studies", "overhead"], choices=["studies", "overhead"])
    parser.add_argument("--studies", nargs="+", default=["quickstart", "digits"], choices=["quickstart", "digits"])
    parser.add_argument("--modes", nargs="+", default=["cold", "warm"], choices=["cold", "warm"])
    parser.add_argument("--executor", default="local", choices=["local", "ray"], help="studies: suite run's executor")
    parser.add_argument("--address", help="studies with --executor ray: the Ray cluster (default: a local one)")
    parser.add_argument("--seeds", type=int, default=3, help="seeds of the digits study")
    parser.add_argument("--epochs", type=int, help="epochs of every study run (default: the quickstart's 15)")
    parser.add_argument("--backends", nargs="+", default=["torch", "keras"], help="backends of the digits study")
    parser.add_argument("--models", nargs="+", default=list(MODEL_TABLES), choices=list(MODEL_TABLES))
    parser.add_argument(
        "--overhead-models", nargs="+", default=["simple_cnn", "mobilenet_v2_frozen"], help="perf_keras.py's models"
    )
    parser.add_argument("--engines", nargs="+", default=list(ENGINES), help="Keras engines for the overhead")
    parser.add_argument("--train", type=int, default=1024, help="overhead: training images per epoch")
    parser.add_argument("--batch-size", type=int, default=64, help="overhead: batch size")
    parser.add_argument("--repeats", type=int, default=3, help="overhead: interleaved runner / bare fit pairs")
    parser.add_argument("--overhead-worker", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.overhead_worker:
        rows = overhead_worker(args.overhead_worker, args.train, args.batch_size, args.repeats, args.overhead_models)
        print(json.dumps(rows))
        return {"overhead": rows}
    report: dict = {"studies": [], "overhead": []}
    print(f"{os.cpu_count()} CPU cores; load average {os.getloadavg()[0]:.1f} at the start\n")
    if "studies" in args.parts:
        with tempfile.TemporaryDirectory(prefix="tlbench-perf-study-") as work:
            report["studies"] = studies(args, Path(work))
        print(study_table(report["studies"]) + "\n")
    if "overhead" in args.parts:
        report["overhead"] = overhead(args)
        print(f"Keras runner vs bare fit, {args.train} images 32x32x3, batch {args.batch_size}, fp32:\n")
        print(overhead_table(report["overhead"], args.repeats))
    print(f"\nload average {os.getloadavg()[0]:.1f} at the end")
    return report


if __name__ == "__main__":
    main(sys.argv[1:])
