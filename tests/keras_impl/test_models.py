import keras
import numpy as np
import pytest

from keras_impl.freezing import apply_freezing, frozen_groups, unfreeze_for_finetune
from keras_impl.models import HEAD_GROUP, BuildOptions, build_model, model_entries
from keras_impl.models.families import APPLICATIONS
from keras_impl.params import count_params
from suite.spec.models import FinetuneSpec, ModelSpec, StrategySpec


def _build(name: str, shape=(32, 32, 3), classes=10, options=None, **model):
    return build_model(ModelSpec(name=name, **model), shape, classes, options)


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


def test_simple_cnn_layers_match_seed_003():
    built = _build("simple_cnn")
    kinds = [type(layer).__name__ for layer in built.model.layers[1:]]
    assert kinds == [
        "Conv2D",
        "Activation",
        "MaxPooling2D",
        "Conv2D",
        "Activation",
        "MaxPooling2D",
        "Flatten",
        "Dense",
        "Dense",
    ]
    assert built.model.output_shape == (None, 10)


def test_mobilenet_v2_frozen_counts_match_seed_in_both_conventions():
    built = _build("mobilenet_v2")
    apply_freezing(built, frozen_groups(StrategySpec(freeze="all_but_head"), built.group_names))
    counts = count_params(built)
    # Keras' "non-trainable" 2,257,984 = frozen learnable weights + BatchNorm moving statistics.
    assert counts.frozen == 2_223_872  # = torchvision mobilenet_v2().features parameters
    assert counts.buffers == 34_112
    assert counts.frozen + counts.buffers == 2_257_984
    assert counts.trainable == 12_810
    assert counts.total + counts.buffers == built.model.count_params() == 2_270_794
    trainable_keras = sum(int(np.prod(w.shape)) for w in built.model.trainable_weights)
    assert trainable_keras == 12_810
    assert counts.groups[HEAD_GROUP] == {"total": 12_810, "trainable": 12_810}
    assert built.group_names == ["stem", *[f"block_{i}" for i in range(1, 17)], "top", HEAD_GROUP]


def test_finetune_last_10_layers_gives_seed_745290_trainable():
    built = _build("mobilenet_v2")
    apply_freezing(built, frozen_groups(StrategySpec(freeze="all_but_head"), built.group_names))
    unfrozen = unfreeze_for_finetune(built, FinetuneSpec(epochs=1, lr=1e-4, unfreeze_last_layers=10))
    assert unfrozen[0] == "block_16_expand_BN" and unfrozen[-1] == "out_relu"
    assert count_params(built).trainable == 745_290
    assert sum(int(np.prod(w.shape)) for w in built.model.trainable_weights) == 745_290


def test_freeze_named_groups_and_blocks():
    built = _build("simple_cnn")
    apply_freezing(built, frozen_groups(StrategySpec(freeze=["conv1"]), built.group_names))
    assert count_params(built).frozen == 896
    apply_freezing(built, frozen_groups(StrategySpec(freeze_blocks=2), built.group_names))
    counts = count_params(built)
    assert counts.frozen == 896 + 18_496
    assert counts.groups["conv2"] == {"total": 18_496, "trainable": 0}
    apply_freezing(built, frozen_groups(StrategySpec(freeze="none"), built.group_names))
    assert count_params(built).frozen == 0


@pytest.mark.parametrize(
    "strategy",
    [StrategySpec(freeze=["conv9"]), StrategySpec(freeze_blocks=4)],
)
def test_bad_freeze_requests_are_errors(strategy):
    with pytest.raises(ValueError, match="group"):
        frozen_groups(strategy, ["conv1", "conv2", "dense", HEAD_GROUP])


def test_frozen_base_batchnorm_runs_in_inference_mode_even_when_unfrozen():
    images = np.random.default_rng(0).normal(size=(4, 32, 32, 3)).astype("float32")
    frozen_bn = _build("mobilenet_v2", options=BuildOptions(bn_mode="frozen"))
    unfreeze_for_finetune(frozen_bn, FinetuneSpec(epochs=1, lr=1e-4, unfreeze="all"))
    np.testing.assert_allclose(
        keras.ops.convert_to_numpy(frozen_bn.model(images, training=True)),
        keras.ops.convert_to_numpy(frozen_bn.model(images, training=False)),
        rtol=1e-5,
        atol=1e-6,
    )
    training_bn = _build("mobilenet_v2", options=BuildOptions(bn_mode="train"))
    assert not np.allclose(
        keras.ops.convert_to_numpy(training_bn.model(images, training=True)),
        keras.ops.convert_to_numpy(training_bn.model(images, training=False)),
    )


def test_head_options():
    built = _build("mobilenet_v2", head="gap", head_hidden=[256, 128], head_dropout=[0.5, 0.3])
    head_kinds = [type(layer).__name__ for layer in built.groups[HEAD_GROUP]]
    assert head_kinds == ["GlobalAveragePooling2D", "Dense", "Dropout", "Dense", "Dropout", "Dense"]
    assert count_params(built).groups[HEAD_GROUP]["total"] == 1280 * 256 + 256 + 256 * 128 + 128 + 128 * 10 + 10
    assert built.notes["head"] == "gap"
    assert _build("mobilenet_v2").notes["head"] == "flatten"  # seed 003 default


def test_every_registered_model_accounts_for_every_weight():
    for name in ("mlp", "simple_cnn", "mobilenet_v2"):
        built = _build(name)
        counts = count_params(built)
        assert counts.total + counts.buffers == built.model.count_params(), name
        assert sum(group["total"] for group in counts.groups.values()) == counts.total
    assert {app.name for app in APPLICATIONS} <= set(model_entries())
