import urllib.error

import pytest
import torch
import torchvision

from suite.spec.models import ModelSpec
from torch_impl.models import build_model
from torch_impl.models.weights import resolve_torchvision_weights, weights_kind

RESNET18_FILE = "resnet18-f37072fd.pth"


@pytest.fixture
def offline(monkeypatch):
    def refuse(url, *args, **kwargs):
        raise urllib.error.URLError("no network in tests")

    monkeypatch.setattr(torch.hub, "download_url_to_file", refuse)


@pytest.fixture
def torch_home(tmp_path, monkeypatch):
    monkeypatch.setenv("TORCH_HOME", str(tmp_path))
    return tmp_path


def test_weights_kinds_and_enum_resolution():
    assert [weights_kind(w) for w in ("none", "imagenet", "IMAGENET1K_V2", "w/best.pt")] == [
        "none", "imagenet", "enum", "file",
    ]  # fmt: skip
    assert resolve_torchvision_weights("resnet18", "imagenet").name == "IMAGENET1K_V1"  # seed 000's weights
    assert resolve_torchvision_weights("resnet50", "IMAGENET1K_V2").name == "IMAGENET1K_V2"
    with pytest.raises(ValueError, match="valid: imagenet, IMAGENET1K_V1"):
        resolve_torchvision_weights("resnet18", "IMAGENET1K_V9")


def test_offline_without_cached_file_names_file_and_cache(offline, torch_home):
    with pytest.raises(RuntimeError) as error:
        build_model(ModelSpec(name="resnet18", weights="imagenet"), (32, 32, 3), 3)
    message = str(error.value)
    assert RESNET18_FILE in message and str(torch_home / "hub" / "checkpoints") in message and "TORCH_HOME" in message
    assert not (torch_home / "hub" / "checkpoints" / RESNET18_FILE).exists()


def test_imagenet_weights_load_from_cache_without_network(offline, torch_home):
    reference = torchvision.models.resnet18()
    cache = torch_home / "hub" / "checkpoints"
    cache.mkdir(parents=True)
    torch.save(reference.state_dict(), cache / RESNET18_FILE)
    built = build_model(ModelSpec(name="resnet18", weights="imagenet"), (32, 32, 3), 3)
    stem_conv = built.groups["stem"][0][0]
    assert torch.equal(stem_conv.weight, reference.conv1.weight)
    assert torch.equal(built.groups["layer4"][0][1].bn2.running_var, reference.layer4[1].bn2.running_var)
    assert built.groups["head"][0][-1].out_features == 3


def test_local_file_with_other_head_loads_body(tmp_path):
    reference = torchvision.models.resnet18(num_classes=7)
    path = tmp_path / "mine.pth"
    torch.save(reference.state_dict(), path)
    built = build_model(ModelSpec(name="resnet18", weights=str(path)), (32, 32, 3), 3)
    assert torch.equal(built.groups["layer1"][0][0].conv1.weight, reference.layer1[0].conv1.weight)


def test_local_file_that_does_not_fit_is_an_error(tmp_path):
    path = tmp_path / "wrong.pth"
    torch.save(torchvision.models.resnet34().state_dict(), path)
    with pytest.raises(ValueError, match="'layer1.2.conv1.weight' does not fit the architecture"):
        build_model(ModelSpec(name="resnet18", weights=str(path)), (32, 32, 3), 3)


def test_runner_checkpoint_reloads_as_weights(tmp_path):
    first = build_model(ModelSpec(name="resnet18", depth=2), (32, 32, 3), 3)
    torch.save({"state_dict": first.module.state_dict(), "epoch": 4}, tmp_path / "best.pt")
    again = build_model(ModelSpec(name="resnet18", depth=2, weights=str(tmp_path / "best.pt")), (32, 32, 3), 3)
    for key, value in first.module.state_dict().items():
        assert torch.equal(value, again.module.state_dict()[key]), key


def test_small_model_file_weights_skip_mismatched_head(tmp_path):
    source = build_model(ModelSpec(name="mlp"), (8, 8, 1), 10)
    torch.save(source.module.state_dict(), tmp_path / "mlp.pt")
    target = build_model(ModelSpec(name="mlp", weights=str(tmp_path / "mlp.pt")), (8, 8, 1), 4)
    assert torch.equal(target.groups["hidden2"][0][0].weight, source.groups["hidden2"][0][0].weight)
    with pytest.raises(ValueError, match="no published weights"):
        build_model(ModelSpec(name="mlp", weights="imagenet"), (8, 8, 1), 4)
