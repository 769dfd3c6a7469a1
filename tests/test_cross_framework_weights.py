"""Weights of a catalog architecture written by one runner load into the other and back, bit for bit."""

from pathlib import Path

import numpy as np
import pytest

from suite.runners.registry import discover
from suite.spec.models import ModelSpec

pytestmark = pytest.mark.skipif(
    not all(entry.availability()[0] for entry in discover().values()), reason="needs both backends installed"
)
SHAPE = (32, 32, 3)


def _torch_model(weights: str = "none", name: str = "resnet18"):
    from torch_impl.models import build_model

    return build_model(ModelSpec(name=name, weights=weights), SHAPE, 10)


def _keras_model(weights: str = "none", name: str = "resnet18"):
    import keras

    from keras_impl.models import build_model

    keras.backend.clear_session()
    return build_model(ModelSpec(name=name, weights=weights), SHAPE, 10)


def _torch_arrays(built) -> dict[str, np.ndarray]:
    from torch_impl.models.shared import neutral_state

    return {k: v.numpy().copy() for k, v in neutral_state(built).items() if v.is_floating_point()}


def _save_torch(built, path: Path) -> Path:
    import torch

    from torch_impl.models.shared import neutral_state

    torch.save({"state_dict": neutral_state(built)}, path)  # what TorchSession.save_checkpoint writes
    return path


def _randomise_torch(built) -> None:
    import torch

    generator = torch.Generator().manual_seed(3)
    with torch.no_grad():
        for tensor in built.module.state_dict().values():
            if tensor.is_floating_point():
                tensor.copy_(torch.rand(tensor.shape, generator=generator) + 0.5)  # BN variances stay positive


def test_torch_checkpoint_to_keras_and_back_is_bitwise_equal(tmp_path: Path) -> None:
    from keras_impl.models.weights import save_named_weights

    original = _torch_model()
    _randomise_torch(original)
    first = _save_torch(original, tmp_path / "best.pt")
    keras_built = _keras_model(str(first))
    save_named_weights(keras_built.model, tmp_path / "best.weights.h5")
    back = _torch_model(str(tmp_path / "best.weights.h5"))
    before, after = _torch_arrays(original), _torch_arrays(back)
    assert before.keys() == after.keys()
    for key in before:
        np.testing.assert_array_equal(after[key], before[key], err_msg=key)
    assert keras_built.notes["weights_fingerprint"] == back.weights_fingerprint


def test_keras_weights_file_to_torch_and_back_is_bitwise_equal(tmp_path: Path) -> None:
    import keras

    from keras_impl.models.weights import save_named_weights

    source = _keras_model()
    rng = np.random.default_rng(5)
    for variable in source.model.weights:
        variable.assign(rng.uniform(0.5, 1.5, variable.shape).astype(np.float32))
    expected = {v.path: keras.ops.convert_to_numpy(v).copy() for v in source.model.weights}
    save_named_weights(source.model, tmp_path / "start.weights.h5")
    torch_built = _torch_model(str(tmp_path / "start.weights.h5"))
    _save_torch(torch_built, tmp_path / "middle.pt")
    back = _keras_model(str(tmp_path / "middle.pt"))
    got = {v.path: keras.ops.convert_to_numpy(v) for v in back.model.weights}
    assert got.keys() == expected.keys()
    for key in expected:
        np.testing.assert_array_equal(got[key], expected[key], err_msg=key)
    assert back.notes["weights_fingerprint"] == torch_built.weights_fingerprint


def test_a_file_that_does_not_fit_fails_in_one_line_naming_file_and_tensor(tmp_path: Path) -> None:
    from suite.architectures.convert import WeightsMismatchError

    deeper = _save_torch(_torch_model(name="resnet34"), tmp_path / "resnet34.pt")
    for build in (_torch_model, _keras_model):
        with pytest.raises(WeightsMismatchError) as error:
            build(str(deeper), "resnet18")
        message = str(error.value)
        assert "\n" not in message and str(deeper) in message and "'layer1.2.conv1.weight'" in message


def test_a_plain_keras_file_loads_in_keras_and_says_what_to_do_in_torch(tmp_path: Path) -> None:
    """A .weights.h5 saved by Keras itself names layers by class: Keras pairs them by position, torch cannot."""
    import keras

    from suite.architectures.convert import WeightsMismatchError

    source = _keras_model()
    path = tmp_path / "plain.weights.h5"
    source.model.save_weights(str(path))
    expected = [keras.ops.convert_to_numpy(v).copy() for v in source.model.weights]
    again = _keras_model(str(path))
    for variable, array in zip(again.model.weights, expected, strict=True):
        np.testing.assert_array_equal(keras.ops.convert_to_numpy(variable), array)
    with pytest.raises(WeightsMismatchError, match="names its layers by class .*start a Keras run from it"):
        _torch_model(str(path))
