import keras
import numpy as np
import pytest

from keras_impl.freezing import apply_trainable
from keras_impl.models import HEAD_GROUP, build_model, model_entries
from keras_impl.models.families import APPLICATIONS
from keras_impl.params import count_params, group_facts
from suite.architectures.groups import body_groups
from suite.runners.protocol import TrainableSet
from suite.spec.models import ModelSpec

MOBILENET_GROUPS = [f"features.{index}" for index in range(19)] + [HEAD_GROUP]


def _build(name: str, shape=(32, 32, 3), classes=10, **model):
    return build_model(ModelSpec(name=name, **model), shape, classes)


def _head_only(built) -> None:
    apply_trainable(built, TrainableSet((HEAD_GROUP,)))


@pytest.mark.parametrize(
    ("name", "shape", "expected"),
    [("mlp", (28, 28, 1), 109_386), ("simple_cnn", (32, 32, 3), 2_122_186)],
)
def test_scratch_models_have_the_seed_parameter_counts(name, shape, expected):
    built = _build(name, shape)
    counts = count_params(built)
    assert (counts.total, counts.trainable, counts.frozen, counts.buffers) == (expected, expected, 0, 0)
    assert built.model.count_params() == expected
    assert list(built.groups)[-1] == HEAD_GROUP


@pytest.mark.parametrize("name", ["mlp", "simple_cnn", "keras_mobilenet_v2"])
def test_models_output_float32_logits(name):
    shape = (8, 8, 1) if name == "mlp" else (32, 32, 3)
    built = _build(name, shape)
    final = built.groups[HEAD_GROUP][-1]
    assert isinstance(final, keras.layers.Dense) and final.activation is keras.activations.linear
    assert final.dtype_policy.name == "float32"
    logits = keras.ops.convert_to_numpy(built.model(np.ones((2, *shape), np.float32)))
    assert logits.shape == (2, 10) and not np.allclose(logits.sum(axis=1), 1.0)


def test_simple_cnn_layers_match_seed_003():
    built = _build("simple_cnn")
    kinds = [type(layer).__name__ for layer in built.model.layers[1:]]
    assert kinds == [
        "Conv2D", "Activation", "MaxPooling2D", "Conv2D", "Activation", "MaxPooling2D", "Flatten", "Dense", "Dense",
    ]  # fmt: skip


def test_mobilenet_v2_uses_torchvisions_group_names_and_head():
    built = _build("keras_mobilenet_v2")
    assert built.group_names == MOBILENET_GROUPS
    assert [layer.name for layer in built.groups["features.0"]] == ["Conv1", "bn_Conv1", "Conv1_relu"]
    assert built.groups["features.1"][0].name == "expanded_conv_depthwise"
    assert built.groups["features.17"][0].name == "block_16_expand"
    assert [layer.name for layer in built.groups["features.18"]] == ["Conv_1", "Conv_1_bn", "out_relu"]
    head = [type(layer).__name__ for layer in built.groups[HEAD_GROUP]]
    assert head == ["GlobalAveragePooling2D", "Dense"]  # the keras layout's default head, as in torch


def test_mobilenet_v2_group_counts_equal_torchvisions():
    torchvision = pytest.importorskip("torchvision")
    torch_model = torchvision.models.mobilenet_v2(num_classes=10)
    expected = {
        f"features.{i}": sum(p.numel() for p in block.parameters()) for i, block in enumerate(torch_model.features)
    }
    expected[HEAD_GROUP] = sum(p.numel() for p in torch_model.classifier.parameters())
    facts = {fact.name: fact for fact in group_facts(_build("keras_mobilenet_v2"))}
    assert {name: fact.params for name, fact in facts.items()} == expected
    assert all(facts[name].has_batchnorm for name in body_groups(MOBILENET_GROUPS))
    assert not facts[HEAD_GROUP].has_dropout and not facts[HEAD_GROUP].has_batchnorm


def test_mobilenet_v2_frozen_counts_match_seed_in_both_conventions():
    built = _build("keras_mobilenet_v2", head="flatten")
    _head_only(built)
    counts = count_params(built)
    # Keras' "non-trainable" 2,257,984 = frozen learnable weights + BatchNorm moving statistics.
    assert counts.frozen == 2_223_872  # = torchvision mobilenet_v2().features parameters
    assert counts.buffers == 34_112
    assert counts.trainable == 12_810
    assert counts.total + counts.buffers == built.model.count_params() == 2_270_794
    assert sum(int(np.prod(w.shape)) for w in built.model.trainable_weights) == 12_810


def test_last_10_layers_give_seed_745290_trainable():
    built = _build("keras_mobilenet_v2", head="flatten")
    apply_trainable(built, TrainableSet((HEAD_GROUP,), last_layers=10))
    trainable = [layer.name for layer in built.backbone_layers if layer.trainable and layer.weights]
    assert trainable[0] == "block_16_expand_BN" and trainable[-1] == "Conv_1_bn"
    assert count_params(built).trainable == 745_290
    assert sum(int(np.prod(w.shape)) for w in built.model.trainable_weights) == 745_290


def test_trainable_groups():
    built = _build("simple_cnn")
    apply_trainable(built, TrainableSet(("conv2", "dense", HEAD_GROUP)))
    assert count_params(built).frozen == 896
    apply_trainable(built, TrainableSet(("dense", HEAD_GROUP)))
    counts = count_params(built)
    assert counts.frozen == 896 + 18_496
    assert counts.groups["conv2"] == {"total": 18_496, "trainable": 0}


def test_frozen_batchnorm_runs_in_inference_mode_and_trainable_batchnorm_in_training_mode():
    images = np.random.default_rng(0).normal(size=(4, 32, 32, 3)).astype("float32")
    built = _build("keras_mobilenet_v2", head="flatten")
    _head_only(built)
    outputs = [keras.ops.convert_to_numpy(built.model(images, training=flag)) for flag in (True, False)]
    np.testing.assert_allclose(*outputs, rtol=1e-5, atol=1e-6)
    apply_trainable(built, TrainableSet(tuple(built.group_names)))
    outputs = [keras.ops.convert_to_numpy(built.model(images, training=flag)) for flag in (True, False)]
    assert not np.allclose(*outputs)


def test_head_options():
    built = _build("keras_mobilenet_v2", head="gap", head_hidden=[256, 128], head_dropout=[0.5, 0.3])
    head_kinds = [type(layer).__name__ for layer in built.groups[HEAD_GROUP]]
    assert head_kinds == ["GlobalAveragePooling2D", "Dense", "Dropout", "Dense", "Dropout", "Dense"]
    assert count_params(built).groups[HEAD_GROUP]["total"] == 1280 * 256 + 256 + 256 * 128 + 128 + 128 * 10 + 10
    assert built.notes["head"] == "gap"
    assert [type(layer).__name__ for layer in _build("keras_mobilenet_v2", head="flatten").groups[HEAD_GROUP]] == [
        "Flatten",
        "Dense",
    ]


def test_every_registered_model_accounts_for_every_weight():
    for name in ("mlp", "simple_cnn", "keras_mobilenet_v2"):
        built = _build(name)
        counts = count_params(built)
        assert counts.total + counts.buffers == built.model.count_params(), name
        assert sum(group["total"] for group in counts.groups.values()) == counts.total
    assert {app.name for app in APPLICATIONS} <= set(model_entries())
