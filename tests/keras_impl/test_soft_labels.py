"""Mixup/CutMix soft labels: the Keras session trains on class probabilities like torch's cross-entropy."""

import numpy as np
import pytest
from builders import keras_spec


def test_the_keras_runner_declares_soft_labels(runner) -> None:
    assert runner.capabilities.soft_labels


def _step(session, augment: dict | None, labels: np.ndarray) -> tuple[tuple[float, int], np.ndarray]:
    spec = keras_spec({"name": "mlp", "dropout": 0.0, "init": "shared"})
    if augment is not None:
        spec = spec.model_copy(update={"dataset": spec.dataset.model_copy(update={"augment": augment})})
    opened, plan, _ = session(spec, (8, 8, 1))
    inputs = np.random.default_rng(0).random((16, 8, 8, 1), dtype=np.float32)
    first = plan.epochs[0]
    opened.begin_phase(plan.trainable_set(first), dict.fromkeys(first.rates, 0.1))
    result = opened.train_step(inputs, labels)
    return result, opened.predict(inputs)


def test_one_hot_probabilities_give_the_same_step_as_indices(session) -> None:
    from suite.spec.models import AugmentSpec

    indices = np.arange(16) % 10
    (loss, correct), logits = _step(session, None, indices)
    soft_labels = np.eye(10, dtype=np.float32)[indices]
    (soft_loss, soft_correct), soft_logits = _step(session, AugmentSpec(mixup=0.2), soft_labels)
    assert soft_loss == pytest.approx(loss, rel=1e-5) and soft_correct == correct
    np.testing.assert_allclose(soft_logits, logits, rtol=1e-5, atol=1e-6)
