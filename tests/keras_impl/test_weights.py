import numpy as np
import pytest

from keras_impl.models import build_model
from keras_impl.models.weights import WeightsUnavailableError
from suite.spec.models import ModelSpec


@pytest.mark.filterwarnings("ignore:`input_shape` is undefined")
def test_offline_imagenet_names_the_file_and_directory(monkeypatch, tmp_path):
    def no_network(*args, **kwargs):
        raise Exception("URL fetch failure on https://storage.googleapis.com/...: None -- [Errno -3] no network")

    monkeypatch.setenv("KERAS_HOME", str(tmp_path))
    monkeypatch.setattr("keras.src.utils.file_utils.get_file", no_network)
    with pytest.raises(WeightsUnavailableError) as info:
        build_model(ModelSpec(name="keras_mobilenet_v2", weights="imagenet"), (32, 32, 3), 10)
    message = str(info.value)
    assert "mobilenet_v2_weights_tf_dim_ordering_tf_kernels_1.0_224_no_top.h5" in message
    assert str(tmp_path / "models") in message
    assert "model.weights" in message and "KERAS_HOME" in message  # keras_*: the cache file, never a download here


def test_local_weights_file_is_loaded_into_the_base(tmp_path):
    source = build_model(ModelSpec(name="keras_mobilenet_v2"), (32, 32, 3), 10)
    path = tmp_path / "base.weights.h5"
    source.base.save_weights(str(path))
    loaded = build_model(ModelSpec(name="keras_mobilenet_v2", weights=str(path)), (32, 32, 3), 10)
    for expected, actual in zip(source.base.get_weights(), loaded.base.get_weights(), strict=True):
        np.testing.assert_array_equal(expected, actual)
