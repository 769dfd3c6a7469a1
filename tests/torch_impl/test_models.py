import pytest
import torch

from suite.spec.models import ModelSpec
from torch_impl.models import build_model, known_models, model_problems
from torch_impl.params import count_params
from torch_impl.runner import TorchRunner

RESNET18_GROUPS = {
    "stem": 9_536,
    "layer1": 147_968,
    "layer2": 525_568,
    "layer3": 2_099_712,
    "layer4": 8_393_728,
    "head": 5_130,
}


def group_totals(model: str, shape: tuple[int, int, int], classes: int = 10, **fields) -> dict[str, int]:
    counts = count_params(build_model(ModelSpec(name=model, **fields), shape, classes))
    return {name: group["total"] for name, group in counts.groups.items()}


def test_resnet18_groups_match_seed_004():
    assert group_totals("resnet18", (224, 224, 3)) == RESNET18_GROUPS


def test_simple_cnn_matches_keras_count():
    counts = count_params(build_model(ModelSpec(name="simple_cnn"), (32, 32, 3), 10))
    assert counts.total == 2_122_186
    assert list(counts.groups) == ["conv1", "conv2", "dense", "head"]


def test_mlp_count_on_mnist_shape():
    counts = count_params(build_model(ModelSpec(name="mlp"), (28, 28, 1), 10))
    assert counts.total == 109_386
    assert list(counts.groups) == ["hidden1", "hidden2", "head"]
    assert counts.buffers == 0


def test_buffers_count_float_statistics_only():
    counts = count_params(build_model(ModelSpec(name="resnet18"), (32, 32, 3), 10))
    bn_channels = sum(m.num_features for m in build_model(ModelSpec(name="resnet18"), (32, 32, 3), 10).module.modules()
                      if isinstance(m, torch.nn.BatchNorm2d))  # fmt: skip
    assert counts.buffers == 2 * bn_channels  # running mean + var, no num_batches_tracked


@pytest.mark.parametrize(
    ("name", "first", "count"),
    [("mobilenet_v2", "features.0", 20), ("efficientnet_b0", "features.0", 10), ("vgg11", "block1", 7)],
)
def test_family_tables_group_features(name, first, count):
    built = build_model(ModelSpec(name=name), (32, 32, 3), 5)
    names = list(built.groups)
    assert names[0] == first and names[-1] == "head" and len(names) == count
    counts = count_params(built)
    assert sum(g["total"] for g in counts.groups.values()) == counts.total
    assert built.module(torch.zeros(2, 3, 32, 32)).shape == (2, 5)


def test_generic_model_uses_top_level_children():
    built = build_model(ModelSpec(name="shufflenet_v2_x0_5"), (64, 64, 3), 4)
    assert list(built.groups) == ["conv1", "stage2", "stage3", "stage4", "conv5", "head"]
    assert not built.staged
    built.module.eval()
    assert built.module(torch.zeros(1, 3, 64, 64)).shape == (1, 4)


def test_heads_gap_flatten_and_hidden_layers():
    gap = build_model(ModelSpec(name="resnet18", head="gap", head_hidden=[16], head_dropout=[0.5]), (64, 64, 3), 3)
    flatten = build_model(ModelSpec(name="resnet18", head="flatten"), (64, 64, 3), 3)
    assert count_params(gap).groups["head"]["total"] == 512 * 16 + 16 + 16 * 3 + 3
    assert count_params(flatten).groups["head"]["total"] == 512 * 2 * 2 * 3 + 3
    for built in (gap, flatten):
        assert built.module(torch.zeros(2, 3, 64, 64)).shape == (2, 3)


def test_mobilenet_v3_default_head_keeps_pretrained_classifier_as_group():
    names = list(build_model(ModelSpec(name="mobilenet_v3_small"), (32, 32, 3), 3).groups)
    assert names[-2:] == ["classifier", "head"]


def test_depth_truncates_resnet_and_resnet10():
    assert group_totals("resnet18", (64, 64, 3), depth=2) == {
        "stem": 9_536, "layer1": 147_968, "layer2": 525_568, "head": 128 * 10 + 10,
    }  # fmt: skip
    resnet10 = count_params(build_model(ModelSpec(name="resnet10"), (64, 64, 3), 10))
    assert list(resnet10.groups) == ["stem", "layer1", "layer2", "layer3", "layer4", "head"]
    assert resnet10.total == 4_910_922


def test_model_problems_and_listing():
    assert model_problems(ModelSpec(name="resnet18")) == []
    assert "unknown model" in model_problems(ModelSpec(name="resnet_nope"))[0]
    assert model_problems(ModelSpec(name="mobilenet_v2", depth=2))
    assert model_problems(ModelSpec(name="mlp", weights="imagenet"))
    assert model_problems(ModelSpec(name="resnet10", weights="imagenet"))
    unknown = model_problems(ModelSpec(name="resnet18", weights="imagenet21k"))
    assert "weights file imagenet21k: unknown format" in unknown[0]
    models = TorchRunner().list_models()
    assert {"mlp", "simple_cnn", "resnet10", "resnet18", "mobilenet_v2"} <= set(models) == set(known_models())
