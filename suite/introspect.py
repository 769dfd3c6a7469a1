"""Child-process helper for the CLI: list a backend's models or describe one, printed as JSON.

``python -m suite.introspect models BACKEND`` and
``python -m suite.introspect describe BACKEND MODEL_JSON H W C CLASSES``. Running these in a child keeps
the CLI process free of torch/TensorFlow, and lets each framework load alone.
"""

from __future__ import annotations

import json
import sys

from suite.runners.registry import create_runner
from suite.spec.models import ModelSpec


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
    else:
        print(__doc__, file=sys.stderr)
        return 2
    sys.stdout.write(json.dumps(payload) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
