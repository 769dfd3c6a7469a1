import json

import numpy as np
import pytest
import torch
from peft_counts import METHODS, expected_trainable
from peft_counts import test_the_hand_counts_themselves as check_hand_counts

from suite.training.run import plan_for
from torch_impl.runner import TorchRunner

pytest.importorskip("peft")


def opened(session_for, spec, data):
    """The session after the core's first begin_phase."""
    context = session_for(spec, data)
    session = context.__enter__()
    plan = plan_for(spec, TorchRunner().describe(spec.model, data.input_shape, data.num_classes))
    session.begin_phase(plan.trainable_set(plan.epochs[0]), plan.epochs[0].rates)
    return context, session


def test_hand_counts_are_self_consistent() -> None:
    check_hand_counts()


@pytest.mark.parametrize("method", sorted(METHODS))
@pytest.mark.parametrize("model", ["mlp", "simple_cnn", "mobilenet_v2"])
def test_trainable_counts_match_the_hand_counts(model, method, digits, digits_rgb32, spec_for, session_for):
    data = digits_rgb32 if model == "mobilenet_v2" else digits
    context, session = opened(session_for, spec_for({"name": model}, strategy=METHODS[method]), data)
    try:
        counts = session.param_counts()
    finally:
        context.__exit__(None, None, None)
    assert counts.trainable == expected_trainable(model, method)
    assert counts.total == counts.trainable + counts.frozen


def test_lora_follows_the_convention_and_merges_exactly(digits, spec_for, session_for):
    spec = spec_for({"name": "simple_cnn"}, strategy={"freeze": "all_but_head", "lora": {"rank": 4, "alpha": 8}})
    context, session = opened(session_for, spec, digits)
    try:
        conv = session.built.module.conv2[0]
        a = conv.lora_A["default"].weight
        assert conv.scaling["default"] == 2.0 and torch.count_nonzero(conv.lora_B["default"].weight) == 0
        bound = (6 / (32 * 9)) ** 0.5  # He-uniform on fan_in = c_in * k * k
        assert a.abs().max() <= bound and a.abs().max() > 0.9 * bound
        assert not conv.base_layer.weight.requires_grad and not conv.base_layer.bias.requires_grad
        images = digits.preprocessing.apply(digits.train.images[:32])
        for _ in range(3):
            session.train_step(images, digits.train.labels[:32])
        assert torch.count_nonzero(conv.lora_B["default"].weight) > 0
        before = session.predict(images)
        assert session.prepare_for_inference() and conv.merged
        np.testing.assert_allclose(session.predict(images), before, rtol=1e-4, atol=1e-5)
    finally:
        context.__exit__(None, None, None)


def test_norm_only_trains_batchnorm_in_training_mode(digits_rgb32, spec_for, session_for):
    spec = spec_for({"name": "mobilenet_v2"}, strategy={"freeze": "all_but_head", "train_only": ["norm"]})
    context, session = opened(session_for, spec, digits_rgb32)
    try:
        images = digits_rgb32.preprocessing.apply(digits_rgb32.train.images[:8])
        session.train_step(images, digits_rgb32.train.labels[:8])
        block = session.built.groups["features.1"][0]
        norms = [m for m in block.modules() if isinstance(m, torch.nn.BatchNorm2d)]
        assert norms and all(m.training and m.weight.requires_grad for m in norms)
        assert not any(m.weight.requires_grad for m in block.modules() if isinstance(m, torch.nn.Conv2d))
    finally:
        context.__exit__(None, None, None)


@pytest.mark.parametrize("method", ["bitfit", "norm", "lora8"])
def test_each_method_beats_chance_on_digits(method, digits, spec_for, run, tmp_path):
    model = "mlp" if method != "norm" else "simple_cnn"  # norm-only needs norms: the CNN has none, the head learns
    spec = spec_for(
        {"name": model}, strategy=METHODS[method], optimizer={"lr": 1e-2}, training={"epochs": 3, "batch_size": 32}
    )
    output = run(spec, digits, tmp_path)
    accuracy = float(np.mean(output.test_scores.argmax(axis=1) == output.test_labels))
    assert accuracy > 0.5, accuracy  # chance is 0.1
    assert output.params.trainable == expected_trainable(model, method)
    if method == "lora8":
        speeds = output.extra["peft"]
        assert speeds["eval_images_per_second_unmerged"] > 0 and speeds["eval_images_per_second_merged"] > 0


def test_describe_lora_rank_counts_each_method(capsys):
    from suite.preflight.introspect import main

    assert main(["describe", "torch", '{"name": "mlp"}', "8", "8", "1", "10", "8"]) == 0
    counts = json.loads(capsys.readouterr().out)["peft"]
    assert counts == {
        "linear probe": expected_trainable("mlp", "linear_probe"),
        "BitFit (bias)": expected_trainable("mlp", "bitfit"),
        "norm-only": expected_trainable("mlp", "norm"),
        "LoRA r=8": expected_trainable("mlp", "lora8"),
        "full fine-tuning": 8192 + 128 + 8192 + 64 + 650,
    }
