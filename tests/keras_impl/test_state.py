"""KerasSession.save_state / load_state: a fresh session that loads the state continues step for step."""

from __future__ import annotations

from pathlib import Path

import keras
import numpy as np
import pytest
from builders import keras_spec, train_steps

CASES = {
    "mlp": ({"name": "mlp", "dropout": 0.3}, "digits"),  # dropout: SeedGenerator state
    "mobilenet_v2": ({"name": "keras_mobilenet_v2", "weights": "none"}, "digits_rgb32"),  # BatchNorm statistics
}


def _opened(session, spec, data):
    opened, plan, _ = session(spec, data.input_shape)
    last = plan.epochs[-1]
    opened.begin_phase(plan.trainable_set(last), dict.fromkeys(last.rates, 1e-3))
    return opened


@pytest.mark.parametrize("case", ["mlp", pytest.param("mobilenet_v2", marks=pytest.mark.slow)])
def test_a_fresh_session_continues_exactly_from_the_saved_state(case, request, session, tmp_path: Path) -> None:
    model, data_name = CASES[case]
    data = request.getfixturevalue(data_name)
    spec = keras_spec(model, optimizer={"name": "adamw", "lr": 1e-3, "weight_decay": 0.01})
    first = _opened(session, spec, data)
    train_steps(first, data, 3)
    best = first.snapshot()
    first.save_state(tmp_path, {"best": best})
    expected = train_steps(first, data, 3, start=3)
    expected_logits = first.predict(data.preprocessing.apply(data.val.images[:16]))
    first.close()
    second = _opened(session, spec, data)
    snapshots = second.load_state(tmp_path)
    assert train_steps(second, data, 3, start=3) == expected
    np.testing.assert_array_equal(second.predict(data.preprocessing.apply(data.val.images[:16])), expected_logits)
    assert second.weights_finite()
    second.restore(snapshots["best"])
    for saved, now in zip(best, second.snapshot(), strict=True):
        np.testing.assert_array_equal(saved, now)


def test_weights_finite_sees_a_nan(session, digits) -> None:
    opened = _opened(session, keras_spec({"name": "mlp"}), digits)
    assert opened.weights_finite()
    kernel = opened.built.model.trainable_variables[-2]
    kernel.assign(keras.ops.where(keras.ops.ones_like(kernel) > 0, float("nan"), kernel))
    assert not opened.weights_finite()


def test_a_state_for_another_trainable_set_is_refused(session, digits, tmp_path: Path) -> None:
    opened, plan, _ = session(keras_spec({"name": "mlp"}, strategy={"freeze": "all_but_head"}), digits.input_shape)
    first = plan.epochs[0]
    opened.begin_phase(plan.trainable_set(first), dict.fromkeys(first.rates, 1e-3))
    opened.save_state(tmp_path, {})
    other = _opened(session, keras_spec({"name": "mlp"}), digits)  # every group trains: more optimizer slots
    with pytest.raises(ValueError, match="optimizer variables"):
        other.load_state(tmp_path)
