import importlib.util

import pytest
import torch

from torch_impl.runner import TorchRunner

# Framework-neutral rules (scheduler fields, plateau + warm-up, group names, freeze ranges, ...) are tested
# once in tests/suite; these are the torch runner's own facts.


def test_check_accepts_plain_and_fully_resolved_specs(spec_for):
    spec = spec_for({"name": "mlp"})
    resolved = type(spec).model_validate(spec.model_dump())  # every field explicitly set, as the executor writes it
    assert TorchRunner().check(spec) == [] and TorchRunner().check(resolved) == []
    groups = spec_for({"name": "resnet18"}, strategy={"freeze": ["stem", "block9"]})
    assert TorchRunner().check(groups) == []  # group names are the plan's business, not a framework fact


def test_check_reports_model_facts(spec_for):
    runner = TorchRunner()
    assert "unknown model" in runner.check(spec_for({"name": "lenet9000"}))[0]
    assert "no published weights" in runner.check(spec_for({"name": "mlp", "weights": "imagenet"}))[0]
    assert "ResNets only" in runner.check(spec_for({"name": "mobilenet_v2", "depth": 2}, dataset={"channels": 3}))[0]


def test_unfreeze_last_layers_needs_a_keras_layout_model(spec_for):
    keras_layers = {"freeze": "all_but_head", "finetune": {"epochs": 1, "lr": 1e-4, "unfreeze_last_layers": 10}}
    assert "needs a keras-layout model" in TorchRunner().check(spec_for({"name": "mlp"}, strategy=keras_layers))[0]
    keras_resnet = spec_for({"name": "keras_resnet50"}, strategy=keras_layers, dataset={"channels": 3})
    assert TorchRunner().check(keras_resnet) == []


@pytest.mark.skipif(torch.cuda.is_available(), reason="facts about a machine without CUDA")
def test_device_and_precision_facts_without_cuda(spec_for):
    runner = TorchRunner()
    assert "no CUDA device" in runner.check(spec_for({"name": "mlp"}, training={"device": "cuda"}))[0]
    assert any("fp16" in p for p in runner.check(spec_for({"name": "mlp"}, training={"precision": "fp16"})))


def test_missing_tensorboard_and_compiler_are_reported(spec_for, monkeypatch):
    real_find_spec = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util, "find_spec", lambda name, *a: None if name == "tensorboard" else real_find_spec(name, *a)
    )
    assert "tensorboard" in TorchRunner().check(spec_for({"name": "mlp"}, training={"tensorboard": True}))[0]
    monkeypatch.setenv("CXX", "/nonexistent/c++")
    assert "C++ compiler" in TorchRunner().check(spec_for({"name": "mlp"}, training={"compile": True}))[0]
