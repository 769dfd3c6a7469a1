import keras
import numpy as np
import pytest
from builders import keras_spec

from keras_impl.data import model_input
from keras_impl.models import HEAD_GROUP, BuildOptions, build_model
from keras_impl.models.families import APPLICATIONS
from keras_impl.params import count_params
from suite.spec.models import ModelSpec

LARGE = {"keras_efficientnet_b3"}  # the same family as keras_efficientnet_b0


@pytest.mark.parametrize(
    "app",
    [pytest.param(app, id=app.name, marks=[pytest.mark.slow] if app.name in LARGE else []) for app in APPLICATIONS],
)
def test_table_model_builds_with_published_base_size(app):
    keras.backend.clear_session()
    built = build_model(ModelSpec(name=app.name, head="gap"), (32, 32, 3), 10)
    assert built.base.count_params() == app.base_params  # include_top=False, Keras convention
    counts = count_params(built)
    assert counts.total + counts.buffers == built.model.count_params()
    assert built.group_names[-1] == HEAD_GROUP
    assert len(built.group_names) >= 5
    head_features = built.base.output_shape[-1]
    assert counts.groups[HEAD_GROUP]["total"] == head_features * 10 + 10  # 1x1 feature map at 32x32


def test_preprocess_input_is_applied_to_batches_when_inputs_are_0_to_255():
    built = build_model(ModelSpec(name="keras_mobilenet_v2"), (32, 32, 3), 10, BuildOptions(preprocess_input=True))
    assert built.notes["preprocess_input"] == "keras.applications.mobilenet_v2.preprocess_input"
    batch = np.full((1, 2, 2, 3), 255.0, dtype=np.float32)
    np.testing.assert_allclose(model_input(built, batch), 1.0)
    np.testing.assert_array_equal(batch, 255.0)  # the core's array is not modified in place
    caffe = build_model(ModelSpec(name="keras_resnet50"), (32, 32, 3), 10, BuildOptions(preprocess_input=True))
    out = model_input(caffe, np.zeros((1, 1, 1, 3), dtype=np.float32))
    np.testing.assert_allclose(out.ravel(), [-103.939, -116.779, -123.68], rtol=1e-5)  # BGR mean removed
    plain = build_model(ModelSpec(name="keras_mobilenet_v2"), (32, 32, 3), 10)
    assert plain.preprocess is None and model_input(plain, batch) is not None


def test_session_turns_preprocess_input_on_for_unnormalised_data(session):
    spec = keras_spec(
        {"name": "keras_mobilenet_v2"},
        dataset={"source": "digits", "normalization": "none"},
        strategy={"freeze": "all_but_head"},
    )
    opened, _, _ = session(spec, (32, 32, 3))
    assert opened.details()["preprocess_input"].endswith("mobilenet_v2.preprocess_input")
    images = np.full((2, 32, 32, 3), 255.0, dtype=np.float32)
    expected = keras.ops.convert_to_numpy(opened.built.model(np.ones_like(images)))
    np.testing.assert_allclose(opened.predict(images), expected, rtol=1e-5, atol=1e-5)
