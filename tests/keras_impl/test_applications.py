import keras
import numpy as np
import pytest

from keras_impl.models import HEAD_GROUP, BuildOptions, build_model
from keras_impl.models.applications import PreprocessInput
from keras_impl.models.families import APPLICATIONS
from keras_impl.params import count_params
from suite.spec.models import ModelSpec

LARGE = {"resnet101", "resnet152", "vgg19", "efficientnet_b3"}  # same families as resnet50 / vgg16 / b0


@pytest.mark.parametrize(
    "app",
    [pytest.param(app, id=app.name, marks=[pytest.mark.slow] if app.name in LARGE else []) for app in APPLICATIONS],
)
def test_table_model_builds_with_published_base_size(app):
    keras.backend.clear_session()
    built = build_model(ModelSpec(name=app.name), (32, 32, 3), 10)
    assert built.base.count_params() == app.base_params  # include_top=False, Keras convention
    counts = count_params(built)
    assert counts.total + counts.buffers == built.model.count_params()
    assert built.group_names[0] == "stem" or app.family == "vgg"
    assert built.group_names[-1] == HEAD_GROUP
    assert len(built.group_names) >= 5
    head_features = built.base.output_shape[-1]
    assert counts.groups[HEAD_GROUP]["total"] == head_features * 10 + 10  # 1x1 feature map at 32x32


def test_preprocess_input_runs_inside_the_model_when_inputs_are_0_to_255():
    built = build_model(ModelSpec(name="mobilenet_v2"), (32, 32, 3), 10, BuildOptions(preprocess_input=True))
    assert any(isinstance(layer, PreprocessInput) for layer in built.model.layers)
    assert built.notes["preprocess_input"] == "keras.applications.mobilenet_v2.preprocess_input"
    layer = PreprocessInput("mobilenet_v2")
    out = keras.ops.convert_to_numpy(layer(np.full((1, 2, 2, 3), 255.0, dtype="float32")))
    np.testing.assert_allclose(out, 1.0)
    caffe = keras.ops.convert_to_numpy(PreprocessInput("resnet")(np.zeros((1, 1, 1, 3), dtype="float32")))
    np.testing.assert_allclose(caffe.ravel(), [-103.939, -116.779, -123.68], rtol=1e-5)  # BGR mean removed
    plain = build_model(ModelSpec(name="mobilenet_v2"), (32, 32, 3), 10)
    assert not any(isinstance(layer, PreprocessInput) for layer in plain.model.layers)


def test_runner_turns_preprocess_input_on_for_unnormalised_data(runner, tmp_path):
    from builders import digits_bundle
    from builders import keras_spec as make_spec

    from suite.runners.progress import NullProgress

    data = digits_bundle(image_size=32, channels=3, normalization="none", limit=100)
    spec = make_spec(
        {"name": "mobilenet_v2"},
        dataset={"source": "digits", "normalization": "none"},
        strategy={"freeze": "all_but_head"},
        training={"epochs": 1, "batch_size": 50},
    )
    output = runner.run(spec, data, tmp_path, NullProgress())
    assert output.extra["preprocess_input"].endswith("mobilenet_v2.preprocess_input")
    assert output.params.trainable == 12_810
