"""``TorchRunner.check``: the framework facts that stop a spec from running on torch in this process.

It runs before planning, so it is the one runner module besides the model builders that reads the spec.
Framework-neutral rules (scheduler fields, group names, freeze ranges, ...) are the spec validators' and the
plan's; what the backend supports at all is its declared capabilities (``torch_impl.CAPABILITIES``). Only
what is true of torch, torchvision, HF peft and this machine is checked here; ``keras_impl.checks`` is the
same job for Keras.
"""

from __future__ import annotations

import importlib.util
import os
import shutil

from suite.architectures.catalog import architecture
from suite.spec.models import ExperimentSpec
from torch_impl.models import model_problems
from torch_impl.precision import precision_problems, resolve_device

_CXX_COMPILERS = ("c++", "g++", "clang++")


def check_spec(spec: ExperimentSpec) -> list[str]:
    """Every problem found in ``spec`` for this backend (empty list = it can run)."""
    if spec.backend != "torch":
        return [f"backend is {spec.backend!r}, not 'torch'"]
    training = spec.training
    return [
        *model_problems(spec.model),
        *precision_problems(training.device, training.precision),
        *_training_problems(spec),
    ]


def _training_problems(spec: ExperimentSpec) -> list[str]:
    problems = []
    finetune = spec.strategy.finetune
    keras_layout = (arch := architecture(spec.model.name)) is not None and arch.layout == "keras.applications"
    if finetune is not None and finetune.unfreeze_last_layers is not None and not keras_layout:
        problems.append(
            "strategy.finetune.unfreeze_last_layers counts Keras layers: in torch it needs a keras-layout model "
            "(keras_<name>, see `suite list`); otherwise give finetune.unfreeze = 'all' or a list of layer groups"
        )
    if spec.strategy.lora is not None and importlib.util.find_spec("peft") is None:
        problems.append('strategy.lora needs Hugging Face peft (pip install "tlbench[peft]")')
    if spec.training.tensorboard and importlib.util.find_spec("tensorboard") is None:
        problems.append("training.tensorboard needs the tensorboard package (pip install tensorboard)")
    if spec.training.compile and resolve_device(spec.training.device).type == "cpu" and not _cxx_compiler():
        problems.append("training.compile on the CPU needs a C++ compiler (torch.compile's inductor); none found")
    return problems


def _cxx_compiler() -> str | None:
    candidates = [os.environ["CXX"]] if os.environ.get("CXX") else list(_CXX_COMPILERS)
    return next((path for path in map(shutil.which, candidates) if path), None)
