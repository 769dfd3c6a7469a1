"""Child process of ``suite parity``: one backend loads the shared weights, predicts, takes one SGD step.

``python -m suite.parity.probe BACKEND ENGINE|- MODEL SIZE CHANNELS CLASSES OUT.npz`` writes ``logits``
(eval mode, before the step), ``weight_<i>`` (neutral layout, after one SGD step at lr 0.1 on the same
batch, float32), ``weight64_<i>`` (the same step computed in float64: ``training.precision = "fp64"``),
``slots`` (slot names) and ``note`` (why the implementations differ, when they do).
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

from suite.architectures.catalog import takes_stochastic_depth
from suite.architectures.shared_init import draw_initial_weights
from suite.plan import build_plan, build_request
from suite.runners.registry import create_runner
from suite.spec.models import ExperimentSpec

PROBE_SEED = 0
PROBE_BATCH = 8
PROBE_LR = 0.1


def probe_batch(shape: tuple[int, int, int], classes: int) -> tuple[np.ndarray, np.ndarray]:
    """The preprocessed batch every backend receives: uniform in [0, 1) (as ``normalization = "unit"``)."""
    rng = np.random.default_rng([PROBE_SEED, 0xBA7])
    inputs = rng.random((PROBE_BATCH, *shape), dtype=np.float32)
    return inputs, rng.integers(0, classes, PROBE_BATCH).astype(np.int64)


def _has_dropout(model: str) -> bool:
    """Whether ``model.dropout`` applies: the mlp's dropout, an EfficientNet's stochastic depth (random masks)."""
    return model == "mlp" or takes_stochastic_depth(model)


def probe_spec(backend: str, engine: str | None, model: str, classes: int, precision: str = "fp32") -> ExperimentSpec:
    """A one-step SGD spec with dropout off and shared initial weights, in ``precision`` (fp32 or fp64)."""
    return ExperimentSpec.model_validate(
        {
            "name": f"parity[{model}]",
            "backend": backend,
            "engine": engine,
            "seed": PROBE_SEED,
            "dataset": {"source": "digits"},
            "model": {"name": model, "init": "shared", **({"dropout": 0.0} if _has_dropout(model) else {})},
            "optimizer": {"name": "sgd", "lr": PROBE_LR},
            "training": {"epochs": 1, "batch_size": PROBE_BATCH, "device": "cpu", "precision": precision},
        }
    )


def main(argv: list[str] | None = None) -> int:
    """Run the probe for one backend and write its npz."""
    from suite.lifeline import watch_parent

    watch_parent()  # a probe dies with the `suite parity` that started it
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 7:
        print(__doc__, file=sys.stderr)
        return 2
    backend, engine_arg, model, size, channels, classes, out = args
    engine = None if engine_arg == "-" else engine_arg
    shape, num_classes = (int(size), int(size), int(channels)), int(classes)
    runner = create_runner(backend, engine)
    inputs, labels = probe_batch(shape, num_classes)
    arrays: dict[str, np.ndarray] = {}
    for precision, prefix in (("fp32", "weight"), ("fp64", "weight64")):
        spec = probe_spec(backend, engine, model, num_classes, precision)
        description = runner.describe(spec.model, shape, num_classes)
        plan = build_plan(spec, description)
        weights = draw_initial_weights(description.init_slots, PROBE_SEED)
        session = runner.open_session(build_request(spec, shape, num_classes), plan, weights, Path(out).parent)
        try:
            if precision == "fp32":
                logits = np.asarray(session.predict(inputs), dtype=np.float32)
            first = plan.epochs[0]
            session.begin_phase(plan.trainable_set(first), first.rates)
            session.train_step(inputs, labels)
            after = session.export_weights()
        finally:
            session.close()
        arrays |= {f"{prefix}_{index}": np.asarray(array) for index, array in enumerate(after)}
    names = np.array([slot.name for slot in description.init_slots])
    np.savez(out, logits=logits, slots=names, note=np.array(description.parity_note or ""), **arrays)
    return 0


if __name__ == "__main__":
    sys.exit(main())
