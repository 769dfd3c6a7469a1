"""Child-process helper for the CLI: list a backend's models or describe one, printed as JSON.

``python -m suite.preflight.introspect models BACKEND``,
``python -m suite.preflight.introspect describe BACKEND MODEL_JSON H W C CLASSES [LORA_RANK]`` (with a rank, also the
trainable parameters of each PEFT method, counted by the backend's own session; a model the backend does not have
answers ``{"unknown_model", "models"}``) and
``python -m suite.preflight.introspect plan SPEC_TOML_FILE`` (loads the run's data, describes its model and prints
its training plan) and ``python -m suite.preflight.introspect check RUNS_JSON_FILE`` (the preflight of runs of one
backend: a JSON list of ``spec.toml`` texts in, a JSON list of ``{run, key, message}`` problems out; see
:mod:`suite.preflight.check`). Running these in a child keeps the CLI process free of torch/TensorFlow, and lets
each framework load alone.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from suite.lifeline import watch_parent
from suite.runners.registry import create_runner
from suite.spec.models import ModelSpec
from suite.spec.serialize import spec_from_toml


def _plan(spec_file: Path) -> dict:
    from suite.data.loading import load_bundle
    from suite.plan import build_plan

    spec = spec_from_toml(spec_file.read_text(encoding="utf-8"))
    runner = create_runner(spec.backend, spec.engine)
    problems = runner.check(spec)
    if problems:
        raise ValueError("; ".join(problems))
    data = load_bundle(spec.dataset, spec.seed)
    description = runner.describe(spec.model, data.input_shape, data.num_classes)
    return build_plan(spec, description).to_dict()


def peft_strategies(rank: int) -> dict[str, dict]:
    """The PEFT methods ``describe --lora-rank`` counts, as ``strategy`` tables (the head always trains)."""
    probe = {"freeze": "all_but_head"}
    return {
        "linear probe": probe,
        "BitFit (bias)": {**probe, "train_only": ["bias"]},
        "norm-only": {**probe, "train_only": ["norm"]},
        f"LoRA r={rank}": {**probe, "lora": {"rank": rank, "alpha": 2 * rank}},
        "full fine-tuning": {},
    }


def _peft_counts(backend: str, model: ModelSpec, shape: tuple[int, int, int], classes: int, rank: int) -> dict:
    """Trainable parameters of each PEFT method, from a session opened and set up as the core does it."""
    import tempfile

    from suite.plan import build_plan, build_request
    from suite.spec.models import ExperimentSpec

    runner = create_runner(backend)
    description = runner.describe(model, shape, classes)
    counts = {}
    for method, strategy in peft_strategies(rank).items():
        spec = ExperimentSpec.model_validate(
            {"name": "describe", "backend": backend, "dataset": {"source": "digits"}, "model": model.model_dump(),
             "strategy": strategy, "training": {"epochs": 1, "device": "cpu"}}
        )  # fmt: skip
        plan = build_plan(spec, description)
        with tempfile.TemporaryDirectory() as run_dir:
            session = runner.open_session(build_request(spec, shape, classes), plan, None, Path(run_dir))
            try:
                session.begin_phase(plan.trainable_set(plan.epochs[0]), plan.epochs[0].rates)
                counts[method] = session.param_counts().trainable
            finally:
                session.close()
    return counts


def _describe(backend: str, model: ModelSpec, sizes: list[str]) -> dict:
    """Groups and counts of ``model`` for input H W C and CLASSES [LORA_RANK]; ``unknown_model`` when it has none."""
    runner = create_runner(backend)
    known = runner.list_models()
    if model.name not in known:
        return {"unknown_model": model.name, "models": sorted(known)}
    height, width, channels, classes = (int(size) for size in sizes[:4])
    payload = runner.describe(model, (height, width, channels), classes).to_dict()
    if len(sizes) == 5:
        payload["peft"] = _peft_counts(backend, model, (height, width, channels), classes, int(sizes[4]))
    return payload


def main(argv: list[str] | None = None) -> int:
    """Print the requested information as one JSON document on stdout."""
    args = sys.argv[1:] if argv is None else argv
    if len(args) == 2 and args[0] == "models":
        payload: object = create_runner(args[1]).list_models()
    elif len(args) in (7, 8) and args[0] == "describe":
        payload = _describe(args[1], ModelSpec.model_validate(json.loads(args[2])), args[3:])
    elif len(args) in (4, 5) and args[0] == "weights":
        model = ModelSpec.model_validate(json.loads(args[2]))
        download = args[4:] == ["download"]
        payload = {"files": create_runner(args[1]).weights_files(model, int(args[3]), download)}
    elif len(args) == 2 and args[0] == "plan":
        payload = _plan(Path(args[1]))
    elif len(args) == 2 and args[0] == "check":
        from suite.preflight.check import check_runs

        payload = check_runs(json.loads(Path(args[1]).read_text(encoding="utf-8")))
    else:
        print(__doc__, file=sys.stderr)
        return 2
    sys.stdout.write(json.dumps(payload) + "\n")
    return 0


if __name__ == "__main__":
    watch_parent()  # never outlive the suite command that asked
    sys.exit(main())
