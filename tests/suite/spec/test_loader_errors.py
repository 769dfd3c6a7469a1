"""Malformed specs stop before training with one line: file, key path, what was expected."""

from pathlib import Path

import pytest

from suite.spec.errors import SpecError
from suite.spec.loader import load_study
from suite.spec.models import SHARED_ARCHITECTURES

VALID = """
[study]
name = "t"

[defaults]
backend = "torch"
dataset = { source = "digits" }
training = { epochs = 2 }

[[experiments]]
name = "mlp"
model = { name = "mlp" }

[[experiments]]
name = "cnn"
model = { name = "simple_cnn" }
"""

MALFORMED = [
    # (replace this, with this, expected message)
    (
        'name = "cnn"\nmodel = { name = "simple_cnn" }',
        'name = "cnn"\nmodel = { name = "simple_cnn" }\noptimizer = { lr = -0.1 }',
        "bad.toml: experiments[1].optimizer.lr: must be > 0, got -0.1",
    ),
    (
        'model = { name = "mlp" }',
        'model = { name = "mlp" }\noptimizer = { learning_rate = 0.1 }',
        "bad.toml: experiments[0].optimizer.learning_rate: unknown key (expected one of: name, lr, weight_decay, "
        "momentum, nesterov, epsilon)",
    ),
    (
        'backend = "torch"',
        'backend = "tensorflow"',
        "bad.toml: defaults.backend: must be 'keras' or 'torch', got 'tensorflow'",
    ),
    (
        "training = { epochs = 2 }",
        'training = { epochs = "two" }',
        "bad.toml: defaults.training.epochs: must be an integer, got 'two'",
    ),
    (
        "training = { epochs = 2 }",
        "training = { epochs = 0 }",
        "bad.toml: defaults.training.epochs: must be >= 1, got 0",
    ),
    (
        "training = { epochs = 2 }",
        "training = { batch_size = 8 }",
        "bad.toml: experiments[0].training.epochs: required key is missing",
    ),
    (
        'dataset = { source = "digits" }',
        'dataset = { source = "imagenet21k" }',
        "bad.toml: defaults.dataset.source: must be 'digits', 'mnist', 'cifar10', 'folder' or 'hf', got 'imagenet21k'",
    ),
    (
        'dataset = { source = "digits" }',
        'dataset = { source = "hf" }',
        "bad.toml: defaults.dataset: source 'hf' needs id (a Hugging Face dataset id) or path (a saved copy)",
    ),
    (
        'dataset = { source = "digits" }',
        'dataset = { source = "digits", split = { val = 0.6, test = 0.5 } }',
        "bad.toml: defaults.dataset.split: val + test must be < 1, got 1.1",
    ),
    (
        'model = { name = "mlp" }',
        'model = { name = "mlp" }\nstrategy = { freeze = "partial" }',
        "bad.toml: experiments[0].strategy.freeze: must be 'none' or 'all_but_head', got 'partial'",
    ),
    (
        'model = { name = "mlp" }',
        'model = { name = "mlp" }\nstrategy = { freeze = "all_but_head", freeze_blocks = 2 }',
        "bad.toml: experiments[0].strategy: give freeze or freeze_blocks, not both",
    ),
    (
        'model = { name = "mlp" }',
        'model = { name = "mlp" }\noptimizer = { name = "adam", nesterov = true }',
        "bad.toml: experiments[0].optimizer: nesterov needs name = 'sgd' and momentum > 0",
    ),
    (
        'model = { name = "mlp" }',
        'model = { name = "mlp" }\ntraining = { epochs = 2, device = "tpu" }',
        "bad.toml: experiments[0].training.device: must be 'auto', 'cpu' or 'cuda', got 'tpu'",
    ),
    (
        'model = { name = "mlp" }',
        'model = { name = "mlp" }\nengine = "jax"',
        "bad.toml: experiments[0]: engine: backend 'torch' has no engines, got 'jax'",
    ),
    (
        'model = { name = "mlp" }',
        'model = { name = "mlp" }\nbackend = "keras"\nengine = "mxnet"',
        "bad.toml: experiments[0]: engine: backend 'keras' runs on jax, tensorflow, torch, got 'mxnet'",
    ),
    # The framework-neutral rules, each declared once in the spec models (not in the runners):
    (
        'model = { name = "mlp" }',
        'model = { name = "mlp" }\ntraining = { epochs = 2, scheduler = { name = "none", eta_min = 0.1 } }',
        "bad.toml: experiments[0].training.scheduler: scheduler 'none' does not use eta_min",
    ),
    (
        'model = { name = "mlp" }',
        'model = { name = "mlp" }\ntraining = { epochs = 2, scheduler = { name = "plateau", warmup_epochs = 1 } }',
        "bad.toml: experiments[0].training.scheduler: scheduler 'plateau' cannot be combined with warmup_epochs",
    ),
    (
        'model = { name = "mlp" }',
        'model = { name = "mlp" }\noptimizer = { name = "adam", momentum = 0.9 }',
        "bad.toml: experiments[0].optimizer: momentum applies to sgd only, not adam",
    ),
    (
        'model = { name = "mlp" }',
        'model = { name = "resnet18", dropout = 0.5 }\ndataset = { source = "digits", channels = 3 }',
        "bad.toml: experiments[0].model: dropout sets the mlp's dropout or an EfficientNet's stochastic depth "
        "(keras_efficientnet_*); for other models use head_hidden + head_dropout",
    ),
    (
        'model = { name = "mlp" }',
        'model = { name = "resnet18" }\ndataset = { source = "digits", channels = 1 }',
        "bad.toml: experiments[0]: resnet18 takes 3-channel images; set dataset.channels = 3",
    ),
    (
        'model = { name = "mlp" }',
        'model = { name = "vgg16", init = "shared" }',
        "bad.toml: experiments[0].model: init = 'shared' needs an architecture that exists in every backend "
        f"({', '.join(SHARED_ARCHITECTURES)}), got 'vgg16'",
    ),
    (
        '[study]\nname = "t"',
        '[study]\nname = "t"\nseeds = []',
        "bad.toml: study.seeds: must have at least 1 item(s), got []",
    ),
    (
        '[study]\nname = "t"',
        '[study]\nname = "t"\n[matrix]\nbackend = "torch"',
        "bad.toml: matrix.backend: must be a non-empty list of values, got 'torch'",
    ),
    (
        '[study]\nname = "t"',
        '[study]\nname = "t"\n[matrix]\nlr = [1e-3, -1.0]',
        "bad.toml: matrix.optimizer.lr: must be > 0, got -1.0 (matrix value lr, in run mlp[lr=-1])",
    ),
    (
        '[study]\nname = "t"',
        '[study]\nname = "t"\n[grid]\nlr = [1]',
        "bad.toml: grid: unknown key (expected one of: study, defaults, matrix, experiments)",
    ),
    (
        'name = "cnn"',
        'name = "mlp"',
        "bad.toml: experiments: two runs are both named 'mlp'; give experiments distinct names",
    ),
]


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "bad.toml"
    path.write_text(text)
    return path


def test_valid_spec_loads(tmp_path: Path) -> None:
    study = load_study(_write(tmp_path, VALID))
    assert [run.name for run in study.runs] == ["mlp", "cnn"]


@pytest.mark.parametrize(("old", "new", "message"), MALFORMED, ids=[m[2].split(": ")[1] for m in MALFORMED])
def test_malformed_spec_names_file_key_and_expectation(tmp_path: Path, old: str, new: str, message: str) -> None:
    assert old in VALID
    with pytest.raises(SpecError) as info:
        load_study(_write(tmp_path, VALID.replace(old, new, 1)))
    assert str(info.value) == message
    assert "\n" not in str(info.value)


def test_invalid_toml_syntax_is_one_line(tmp_path: Path) -> None:
    with pytest.raises(SpecError, match=r"^bad.toml: not valid TOML: "):
        load_study(_write(tmp_path, VALID + "\n[[experiments]\n"))


def test_bad_override_value(tmp_path: Path) -> None:
    with pytest.raises(SpecError) as info:
        load_study(_write(tmp_path, VALID), overrides=["training.epochs=-3"])
    assert str(info.value) == "bad.toml: --set training.epochs: must be >= 1, got -3"


def test_override_without_equals(tmp_path: Path) -> None:
    with pytest.raises(SpecError, match="expected KEY=VALUE"):
        load_study(_write(tmp_path, VALID), overrides=["training.epochs"])


def test_missing_file() -> None:
    with pytest.raises(SpecError, match="cannot read file"):
        load_study(Path("/nonexistent/spec.toml"))
