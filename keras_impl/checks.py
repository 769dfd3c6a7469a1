"""``KerasRunner.check``: the framework facts that stop a spec from running on Keras in this process.

It runs before planning, so it is the one runner module besides the model builders that reads the spec.
Framework-neutral rules (scheduler fields, group names, 3-channel input, ...) are the spec validators' and
the plan's; what the backend supports at all is its declared capabilities (``keras_impl.CAPABILITIES``).
Only what is true of Keras, its engines and its models is checked here; ``torch_impl.checks`` is the same
job for torch.
"""

from __future__ import annotations

import importlib.util
from functools import cache
from pathlib import Path

from keras_impl.environment import DEFAULT_ENGINE, engine_name, gpu_names
from keras_impl.models import build_model, get_model_entry
from keras_impl.params import group_facts
from suite.architectures.catalog import architecture
from suite.architectures.groups import initially_frozen
from suite.architectures.parity_notes import KERAS_FROZEN_BATCHNORM, KERAS_LORA_DROPOUT
from suite.architectures.weight_files import shared_weights_problems
from suite.spec.models import ExperimentSpec, ModelSpec, StrategySpec
from suite.store.weights_ref import run_weights_problem

_CHECK_INPUT_SHAPE = (32, 32, 3)  # smallest size every keras.applications model builds at


def check_spec(spec: ExperimentSpec) -> list[str]:
    """Problems that stop ``spec`` from running on the Keras runner in this process (empty = runnable)."""
    problems = _engine_problems(spec)
    if problems:
        return problems
    problems += _model_problems(spec.model)
    problems += _training_problems(spec)
    problems += peft_problems(spec.strategy)
    if not problems:
        problems += _batchnorm_problems(spec)
    return problems


def _engine_problems(spec: ExperimentSpec) -> list[str]:
    if spec.backend != "keras":
        return [f"backend is {spec.backend!r}, not 'keras'"]
    wanted = spec.engine or DEFAULT_ENGINE
    if importlib.util.find_spec(wanted) is None:
        return [f'keras engine {wanted!r} unavailable: pip install "tlbench[{wanted}]"']
    active = engine_name()
    if active != wanted:
        return [
            f"Keras in this process runs on engine '{active}' but the spec asks for '{wanted}': "
            f"set KERAS_BACKEND={wanted} before keras is imported (the executor does so in each run's process)"
        ]
    return []


def _model_problems(model: ModelSpec) -> list[str]:
    try:
        entry = get_model_entry(model.name)
    except KeyError as error:
        return [str(error.args[0])]
    arch = architecture(model.name)
    if arch is not None and arch.converts_weights:
        problems = shared_weights_problems(arch, model)
        return problems + [problem] if (problem := run_weights_problem(model.weights)) else problems
    problems = []
    if model.depth is not None:
        problems.append(f"model.depth is not used by keras model '{model.name}'; pick a named variant instead")
    if not entry.pretrained:
        if model.weights != "none":
            problems.append(f"keras model '{model.name}' trains from scratch: model.weights must be 'none'")
        if model.head != "default" or model.head_hidden:
            problems.append(f"keras model '{model.name}' has a fixed head: leave model.head / head_hidden unset")
    elif model.weights not in ("none", "imagenet") and not Path(model.weights).expanduser().is_file():
        problems.append(f"model.weights = '{model.weights}' is not 'none', 'imagenet' or an existing weights file")
    return problems


def _training_problems(spec: ExperimentSpec) -> list[str]:
    training = spec.training
    problems = []
    if training.device == "cuda" and not gpu_names():
        problems.append(f"training.device = 'cuda' but Keras ({engine_name()}) sees no GPU here")
    if training.channels_last is False:
        problems.append("training.channels_last = false: the keras runner is channels_last (NHWC) only")
    if training.precision == "fp64" and engine_name() == "jax" and not _jax_x64_enabled():
        problems.append(
            "training.precision = 'fp64' on the JAX engine needs 64-bit JAX: set JAX_ENABLE_X64=1 "
            "(without it JAX computes float64 requests in float32)"
        )
    if training.compile and training.deterministic and engine_name() == "tensorflow":
        problems.append(
            "training.compile with training.deterministic: Keras turns XLA off on TensorFlow while op "
            "determinism is on; drop one of them"
        )
    return problems


def _jax_x64_enabled() -> bool:
    import jax

    return bool(jax.config.read("jax_enable_x64"))


def peft_problems(strategy: StrategySpec) -> list[str]:
    """What Keras cannot do of ``strategy``'s PEFT settings."""
    if strategy.lora is not None and strategy.lora.dropout > 0:
        return [f"strategy.lora.dropout: {KERAS_LORA_DROPOUT}; use 0.0 to compare frameworks"]
    return []


def _batchnorm_problems(spec: ExperimentSpec) -> list[str]:
    """bn_mode = "train" on a frozen group with BatchNorm: the one rule where the frameworks truly differ."""
    if spec.strategy.bn_mode != "train":
        return []
    facts = _group_facts(spec.model.name)
    try:
        frozen = set(initially_frozen(spec.strategy, list(facts)))
    except ValueError:
        return []  # the plan names the bad group
    with_bn = [name for name in facts if name in frozen and facts[name]]
    if not with_bn:
        return []
    return [
        f"strategy.bn_mode = 'train' with frozen BatchNorm groups ({', '.join(with_bn)}): "
        f"{KERAS_FROZEN_BATCHNORM}; use bn_mode = 'frozen' or the torch backend"
    ]


@cache
def _group_facts(model_name: str) -> dict[str, bool]:
    """Group name -> has BatchNorm, for ``model_name`` built once without pretrained weights."""
    built = build_model(ModelSpec(name=model_name), _CHECK_INPUT_SHAPE, 10)
    return {facts.name: facts.has_batchnorm for facts in group_facts(built)}
