"""The keras.applications layout (``keras_<name>``): each entry is the same function, with the same weights, in torch.

One table of published no-top parameter counts (add a row per keras-layout entry), groups and ``last:N``
counted alike, the layer list the same, weight files of every kind both ways, ``suite parity``.
"""

from pathlib import Path

import numpy as np
import pytest
from builders import legacy_h5

from suite.architectures.catalog import CATALOG, architecture
from suite.architectures.keras_layout import keras_layers
from suite.parity.compare import LOGIT_TOLERANCE, format_rows, run_parity
from suite.runners.registry import create_runner, discover
from suite.spec.models import ModelSpec

pytestmark = pytest.mark.skipif(
    not all(entry.availability()[0] for entry in discover().values()), reason="needs both backends installed"
)
SHAPE = (32, 32, 3)
PUBLISHED_NO_TOP = {  # keras.applications' base (include_top=False), BatchNorm moving statistics included
    "keras_resnet50": 23_587_712,
    "keras_resnet101": 42_658_176,
    "keras_resnet152": 58_370_944,
    "keras_vgg16": 14_714_688,
    "keras_vgg19": 20_024_384,
    "keras_mobilenet_v2": 2_257_984,
    "keras_mobilenet_v3_large": 2_996_352,
    "keras_efficientnet_b0": 4_049_571,  # Normalization's mean, variance and count (7) included
    "keras_efficientnet_b3": 10_783_535,
}
KERAS_LAYOUT = [arch.name for arch in CATALOG if arch.layout == "keras.applications"]
SMALL = ("keras_resnet50", "keras_vgg16")  # one per family in the default run; the rest are slow


def _param(name: str):
    return pytest.param(name, id=name, marks=[] if name in SMALL else [pytest.mark.slow])


def _torch(name: str, weights: str = "none", **model):
    from torch_impl.models import build_model

    return build_model(ModelSpec(name=name, weights=weights, **model), SHAPE, 10)


def _keras(name: str, weights: str = "none", **model):
    import keras

    from keras_impl.models import build_model

    keras.backend.clear_session()
    return build_model(ModelSpec(name=name, weights=weights, **model), SHAPE, 10)


def test_every_keras_layout_entry_has_a_published_count() -> None:
    assert set(KERAS_LAYOUT) == set(PUBLISHED_NO_TOP)
    assert all(architecture(name).options["base_params"] == count for name, count in PUBLISHED_NO_TOP.items())


@pytest.mark.parametrize("name", KERAS_LAYOUT)
def test_no_top_parameter_count_and_groups_are_keras_in_torch(name: str) -> None:
    """The table: torch's body (parameters + BatchNorm statistics) = Keras' base = the published count, by group."""
    counts = {backend: create_runner(backend).describe(ModelSpec(name=name), SHAPE, 10).params for backend in
              ("torch", "keras")}  # fmt: skip
    for numbers in counts.values():
        body = sum(group["total"] for group_name, group in numbers.groups.items() if group_name != "head")
        assert body + numbers.buffers == PUBLISHED_NO_TOP[name]
    assert counts["torch"].groups == counts["keras"].groups
    assert list(counts["torch"].groups) == list(architecture(name).groups)


@pytest.mark.parametrize("name", [_param(name) for name in KERAS_LAYOUT])
def test_the_torch_twin_holds_every_keras_layer_in_order(name: str) -> None:
    torch_built, keras_built = _torch(name), _keras(name)
    keras_names = [layer.name for layer in keras_built.backbone_layers if type(layer).__name__ != "InputLayer"]
    assert [layer for layer, _ in torch_built.keras_layers] == keras_names == [x.name for x in keras_layers(
        architecture(name))]  # fmt: skip
    for (layer, module), keras_layer in zip(torch_built.keras_layers, keras_built.backbone_layers[1:], strict=True):
        torch_count = 0 if module is None else sum(p.numel() for p in module.parameters())
        assert torch_count == sum(int(np.prod(v.shape)) for v in keras_layer.trainable_weights), layer


# conv5_block3: out, add (weightless), 3_bn (gamma, beta), 3_conv, 2_relu, 2_bn, 2_conv, 1_relu, 1_bn, 1_conv
BLOCK = 2 * 2048 + (512 * 2048 + 2048) + 2 * 512 + (512 * 9 * 512 + 512) + 2 * 512 + (2048 * 512 + 512)
EXTRA_AFTER_LAST = {1: 0, 3: 2 * 2048, 10: BLOCK}


@pytest.mark.parametrize("last", [1, 3, 10])
def test_unfreeze_last_layers_trains_the_same_keras_layers_in_torch(last: int) -> None:
    """``finetune.unfreeze_last_layers = N``: Keras' ``base.layers[-N:]`` in both, weightless layers counted."""
    from keras_impl.freezing import apply_trainable as keras_trainable
    from keras_impl.params import count_params
    from suite.runners.protocol import TrainableSet
    from torch_impl.freezing import apply_trainable as torch_trainable

    trainable = TrainableSet(("head",), True, last)
    torch_built, keras_built = _torch("keras_resnet50", head="flatten"), _keras("keras_resnet50", head="flatten")
    torch_trainable(torch_built, trainable)
    keras_trainable(keras_built, trainable)
    torch_count = sum(p.numel() for p in torch_built.module.parameters() if p.requires_grad)
    head = 2048 * 10 + 10
    assert torch_count == count_params(keras_built).trainable == head + EXTRA_AFTER_LAST[last]


def test_batchnorm_among_the_last_layers_trains_in_batch_mode_as_in_keras() -> None:
    from torch_impl.freezing import set_train_mode

    built = _torch("keras_resnet50")
    set_train_mode(built, ["head"], frozen_bn_inference=True, last=4)  # conv5_block3_3_bn, _add, _out ... trains
    modes = {name: module.training for name, module in built.keras_layers if module is not None}
    assert modes["conv5_block3_3_bn"] and not modes["conv5_block3_2_bn"]


def test_the_networks_own_batchnorm_settings_are_the_defaults() -> None:
    assert (ModelSpec(name="keras_resnet50").bn_momentum, ModelSpec(name="keras_resnet50").bn_epsilon) == (
        0.01,
        1.001e-5,
    )
    assert ModelSpec(name="keras_resnet50", bn_epsilon=1e-3).bn_epsilon == 1e-3
    assert (ModelSpec(name="resnet50").bn_momentum, ModelSpec(name="resnet50").bn_epsilon) == (0.1, 1e-5)
    built = _torch("keras_resnet50")
    norms = [m for _, m in built.keras_layers if m is not None and hasattr(m, "running_var")]
    assert {(m.momentum, m.eps) for m in norms} == {(0.01, 1.001e-5)}


@pytest.mark.parametrize("name", SMALL)
def test_a_weights_file_saved_by_keras_loads_into_torch_and_back_bitwise(name: str, tmp_path: Path) -> None:
    """keras.applications' base with random weights, ``save_weights`` by Keras itself (class-named paths)."""
    import keras
    import torch

    from torch_impl.models.shared import neutral_state

    keras.backend.clear_session()
    base = getattr(keras.applications, architecture(name).options["constructor"])(
        include_top=False, weights=None, input_shape=SHAPE
    )
    rng = np.random.default_rng(7)
    for variable in base.weights:
        variable.assign(rng.uniform(0.5, 1.5, variable.shape).astype(np.float32))
    expected = {layer.name: [keras.ops.convert_to_numpy(v).copy() for v in layer.weights] for layer in base.layers}
    base.save_weights(str(tmp_path / "base.weights.h5"))
    torch_built = _torch(name, str(tmp_path / "base.weights.h5"))
    torch.save({"state_dict": neutral_state(torch_built)}, tmp_path / "middle.pt")
    back = _keras(name, str(tmp_path / "middle.pt"))
    for layer, arrays in expected.items():
        for got, want in zip(back.model.get_layer(layer).weights, arrays, strict=True):
            np.testing.assert_array_equal(keras.ops.convert_to_numpy(got), want, err_msg=layer)


def test_imagenet_is_keras_cache_file_in_both_runners_and_one_line_when_missing(tmp_path: Path, monkeypatch) -> None:
    import keras
    import torch

    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "keras_home"))
    source = _keras("keras_vgg16")
    rng = np.random.default_rng(11)
    layers = {layer.name: [rng.standard_normal(v.shape).astype(np.float32) for v in layer.weights]
              for layer in source.base.layers if layer.weights}  # fmt: skip
    for runner_build in (_torch, _keras):
        with pytest.raises(Exception, match=r"vgg16_weights_tf_dim_ordering_tf_kernels_notop\.h5") as error:
            runner_build("keras_vgg16", "imagenet")
        assert "\n" not in str(error.value) and "KERAS_HOME" in str(error.value)
    cache = tmp_path / "keras_home" / "models"
    cache.mkdir(parents=True)
    legacy_h5(cache / architecture("keras_vgg16").options["weights_file"], layers)
    keras_built, torch_built = _keras("keras_vgg16", "imagenet"), _torch("keras_vgg16", "imagenet")
    for name, arrays in layers.items():
        np.testing.assert_array_equal(keras.ops.convert_to_numpy(keras_built.model.get_layer(name).kernel), arrays[0])
        module = dict(torch_built.keras_layers)[name]
        np.testing.assert_array_equal(module.weight.detach().numpy(), arrays[0].transpose(3, 2, 0, 1))
        assert torch.equal(module.bias, torch.from_numpy(arrays[1]))
    assert keras_built.notes["weights_fingerprint"] == torch_built.weights_fingerprint


def test_a_keras_archive_loads_into_torch(tmp_path: Path) -> None:
    import keras

    source = _keras("keras_resnet50")
    rng = np.random.default_rng(3)
    for variable in source.model.weights:
        variable.assign(rng.uniform(0.5, 1.5, variable.shape).astype(np.float32))
    source.model.save(tmp_path / "model.keras")
    torch_built = _torch("keras_resnet50", str(tmp_path / "model.keras"))
    kernel = keras.ops.convert_to_numpy(source.model.get_layer("conv4_block2_2_conv").kernel)
    module = dict(torch_built.keras_layers)["conv4_block2_2_conv"]
    np.testing.assert_array_equal(module.weight.detach().numpy(), kernel.transpose(3, 2, 0, 1))


def test_plain_names_the_keras_runner_lacks_name_their_keras_twin() -> None:
    from builders import keras_spec

    problems = create_runner("keras").check(keras_spec({"name": "vgg16"}, dataset={"source": "digits", "channels": 3}))
    assert len(problems) == 1 and "'vgg16' is the torchvision layout" in problems[0] and "'keras_vgg16'" in problems[0]


@pytest.mark.slow
def test_parity_at_64px_on_keras_tensorflow() -> None:
    """Both pass ``suite parity``: logits in float32 and the one SGD step in float64 (ResNet50's float32 step is
    ill-conditioned with train-mode BatchNorm over 32 values per channel at 64 px: within each backend's own
    float32 rounding, which the row prints)."""
    rows = run_parity(list(SMALL), 64, ["torch", "keras/tensorflow"])
    assert [row.model for row in rows] == list(SMALL), format_rows(rows)
    assert all(row.passed and row.verdict.startswith("ok") for row in rows), format_rows(rows)
    assert all(row.logit_diff <= LOGIT_TOLERANCE for row in rows), format_rows(rows)


@pytest.mark.parametrize("name", [_param(name) for name in ("keras_resnet50", "keras_resnet101", "keras_resnet152")])
def test_one_sgd_step_of_the_resnets_is_the_same_in_float64(name: str) -> None:
    """Train-mode forward, backward, SGD step and BatchNorm statistics (Keras' rule) agree to 1e-10 x max(1, max |w|)
    in float64 (the step blows the deeper ResNets' weights up to 47 and 116: that is the float32 probe's trouble)."""
    from float64_step import keras_step, torch_step

    torch_after, keras_after = torch_step(name, SHAPE), keras_step(name, SHAPE)
    assert torch_after.keys() == keras_after.keys()
    worst = max(float(np.abs(torch_after[key] - keras_after[key]).max()) for key in torch_after)
    scale = max(1.0, *(float(np.abs(array).max()) for array in keras_after.values()))
    assert worst <= 1e-10 * scale, (worst, scale)  # measured: 6.7e-12 / 8.6, 2.4e-10 / 47, 1.8e-9 / 116


@pytest.mark.slow
def test_parity_of_the_large_members_at_64px() -> None:
    rows = run_parity(["keras_resnet101", "keras_resnet152", "keras_vgg19"], 64, ["torch", "keras/tensorflow"])
    assert all(row.passed and row.verdict.startswith("ok") for row in rows), format_rows(rows)


@pytest.mark.slow
def test_parity_at_224px() -> None:
    """One member per hand-written or torchvision twin family (the MBConv families: their own test file)."""
    rows = run_parity(list(SMALL), 224, ["torch", "keras/tensorflow"])
    assert all(row.passed and row.verdict.startswith("ok") for row in rows), format_rows(rows)


@pytest.mark.slow
def test_seed003_recipe_trains_the_same_counts_in_both_and_its_checkpoint_is_a_run_reference(tmp_path: Path) -> None:
    """Frozen base + Flatten head, then the last 10 Keras layers at 1e-4, in torch and Keras; then ``run:``."""
    import csv

    from suite import store
    from suite.execution.executor import run_study
    from suite.spec.loader import build_study

    raw = {
        "study": {"name": "pair"},
        "defaults": {
            "dataset": {"source": "digits", "image_size": 32, "channels": 3, "subset": {"train": 64, "val": 32,
                                                                                          "test": 32}},
            "model": {"name": "keras_resnet50", "head": "flatten"},
            "strategy": {"freeze": "all_but_head", "finetune": {"epochs": 1, "lr": 1e-4, "unfreeze_last_layers": 10}},
            "training": {"epochs": 1, "batch_size": 32, "device": "cpu", "checkpoint": True},
        },
        "matrix": {"backend": ["torch", "keras"]},
        "experiments": [{"name": "run"}],
    }  # fmt: skip
    records = run_study(build_study(raw, Path("pair.toml")), tmp_path, quiet=True)
    counts = []
    for record in records:
        assert record.status == "completed", store.read_result(record.directory).get("error")
        with (record.directory / store.HISTORY_FILE).open() as handle:
            counts.append([int(float(row["trainable_params"])) for row in csv.DictReader(handle)])
    assert counts[0] == counts[1] == [20_490, 20_490 + BLOCK]
    from_torch = _keras("keras_resnet50", f"run:{tmp_path}/run[backend=torch]", head="flatten")
    assert from_torch.notes["weights_fingerprint"]


@pytest.mark.slow
def test_keras_vgg16_is_the_same_function_on_the_other_keras_engines() -> None:
    rows = run_parity(["keras_vgg16"], 64, ["torch", "keras/jax", "keras/torch"])
    assert [row.other for row in rows] == ["keras/jax", "keras/torch"] and all(row.verdict == "ok" for row in rows), (
        format_rows(rows)
    )
