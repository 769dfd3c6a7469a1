"""Child-process helper for the CLI: list a backend's models or describe one, printed as JSON.

``python -m suite.introspect models BACKEND``,
``python -m suite.introspect describe BACKEND MODEL_JSON H W C CLASSES`` and
``python -m suite.introspect plan SPEC_TOML_FILE`` (loads the run's data, describes its model and prints
its training plan). Running these in a child keeps the CLI process free of torch/TensorFlow, and lets
each framework load alone.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

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


def main(argv: list[str] | None = None) -> int:
    """Print the requested information as one JSON document on stdout."""
    args = sys.argv[1:] if argv is None else argv
    if len(args) == 2 and args[0] == "models":
        payload: object = create_runner(args[1]).list_models()
    elif len(args) == 7 and args[0] == "describe":
        _, backend, model_json, height, width, channels, classes = args
        model = ModelSpec.model_validate(json.loads(model_json))
        shape = (int(height), int(width), int(channels))
        payload = create_runner(backend).describe(model, shape, int(classes)).to_dict()
    elif len(args) == 2 and args[0] == "plan":
        payload = _plan(Path(args[1]))
    else:
        print(__doc__, file=sys.stderr)
        return 2
    sys.stdout.write(json.dumps(payload) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
