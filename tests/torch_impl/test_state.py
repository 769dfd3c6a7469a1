"""TorchSession.save_state / load_state: a fresh session that loads the state continues step for step."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from builders import train_steps

from suite.plan import build_request
from suite.runners.protocol import TrainableSet
from suite.training.run import describe, plan_for
from torch_impl.runner import TorchRunner

CASES = {
    "mlp": ({"name": "mlp", "dropout": 0.3}, ("hidden1", "hidden2", "head"), "digits"),
    "resnet18": ({"name": "resnet18"}, ("layer3", "layer4", "head"), "tiny_rgb"),  # BatchNorm statistics
}


def _opened(spec, data):
    runner = TorchRunner()
    request = build_request(spec, data.input_shape, data.num_classes)
    plan = plan_for(spec, describe(runner, request))
    session = runner.open_session(request, plan, None, Path("."))
    session.begin_phase(TrainableSet(tuple(plan.groups[-3:])), dict.fromkeys(plan.groups, 1e-3))
    return session


@pytest.mark.parametrize("case", ["mlp", pytest.param("resnet18", marks=pytest.mark.slow)])
def test_a_fresh_session_continues_exactly_from_the_saved_state(case, request, spec_for, tmp_path: Path) -> None:
    model, _, data_name = CASES[case]
    data = request.getfixturevalue(data_name)
    spec = spec_for(model, optimizer={"name": "adamw", "lr": 1e-3, "weight_decay": 0.01})
    first = _opened(spec, data)
    try:
        train_steps(first, data, 3)
        best = first.snapshot()
        first.save_state(tmp_path, {"best": best})
        expected = train_steps(first, data, 3, start=3)
        expected_logits = first.predict(data.preprocessing.apply(data.val.images[:16]))
    finally:
        first.close()
    torch.manual_seed(1234)  # the state must bring back the RNG (dropout) whatever it is now
    second = _opened(spec, data)
    try:
        snapshots = second.load_state(tmp_path)
        assert train_steps(second, data, 3, start=3) == expected
        np.testing.assert_array_equal(second.predict(data.preprocessing.apply(data.val.images[:16])), expected_logits)
        assert second.weights_finite()
        second.restore(snapshots["best"])
        assert all(torch.equal(second.snapshot()[key], value) for key, value in best.items())
    finally:
        second.close()


def test_weights_finite_sees_a_nan(digits, spec_for) -> None:
    session = _opened(spec_for({"name": "mlp"}), digits)
    try:
        assert session.weights_finite()
        with torch.no_grad():
            session.built.module.head.weight[0, 0] = float("nan")
        assert not session.weights_finite()
    finally:
        session.close()
