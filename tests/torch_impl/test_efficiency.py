"""Torch per-layer costs (FlopCounterMode) against hand counts, torchvision's metadata and a real training step."""

from pathlib import Path

import pytest
import torch
from torch.utils.flop_counter import FlopCounterMode

from suite.efficiency import forward_flops, train_flops, trainable_state_bytes
from suite.spec.models import ModelSpec
from torch_impl.models import build_model
from torch_impl.runner import TorchRunner

# simple_cnn on 32x32x3, 10 classes: conv 3->32 at 32x32, conv 32->64 at 16x16, dense 4096->512, 512->10 (MACs).
SIMPLE_CNN_MACS = (32 * 32 * 27 * 32, 16 * 16 * 288 * 64, 8 * 8 * 64 * 512, 512 * 10)
MLP_MACS = (64 * 128, 128 * 64, 64 * 10)


def _costs(name: str, shape: tuple[int, int, int]):
    return TorchRunner().describe(ModelSpec(name=name), shape, 10)


def test_mlp_and_simple_cnn_forward_flops_equal_the_hand_count() -> None:
    assert forward_flops(_costs("mlp", (8, 8, 1)).layer_costs) == 2 * sum(MLP_MACS)
    assert [cost.macs for cost in _costs("simple_cnn", (32, 32, 3)).layer_costs] == list(SIMPLE_CNN_MACS)


def test_simple_cnn_training_flops_equal_the_hand_count() -> None:
    costs = _costs("simple_cnn", (32, 32, 3)).layer_costs
    conv1, conv2, dense, head = SIMPLE_CNN_MACS
    forward = sum(SIMPLE_CNN_MACS)
    assert train_flops(costs, ["conv1", "conv2", "dense", "head"]) == 2 * (forward + (conv2 + dense + head) + forward)
    assert train_flops(costs, ["dense", "head"]) == 2 * (forward + head + dense + head)


@pytest.mark.parametrize("trainable", [["conv2", "dense", "head"], ["conv1", "head"]])
def test_the_training_rule_equals_flop_counter_over_a_real_step(trainable: list[str]) -> None:
    built = build_model(ModelSpec(name="simple_cnn"), (32, 32, 3), 10)
    for name, modules in built.groups.items():
        for module in modules:
            module.requires_grad_(name in trainable)
    with FlopCounterMode(display=False) as counter:
        loss = built.module(torch.zeros(1, 3, 32, 32)).sum()
        loss.backward()
    assert counter.get_total_flops() == train_flops(_costs("simple_cnn", (32, 32, 3)).layer_costs, trainable)


def test_resnet18_forward_matches_torchvision_published_macs() -> None:
    from torchvision.models import ResNet18_Weights

    published_gmacs = ResNet18_Weights.IMAGENET1K_V1.meta["_ops"]  # 1.814, metadata only (no download)
    flops = forward_flops(TorchRunner().describe(ModelSpec(name="resnet18"), (224, 224, 3), 1000).layer_costs)
    assert flops / 2 / 1e9 == pytest.approx(published_gmacs, rel=0.01)


def test_resnet18_training_flops_and_state_fall_monotonically_with_freezing() -> None:
    description = TorchRunner().describe(ModelSpec(name="resnet18"), (64, 64, 3), 10)
    names = description.group_names
    params = {group.name: group.params for group in description.groups}
    flops, state = [], []
    for frozen in range(len(names)):
        trainable = names[frozen:]
        flops.append(train_flops(description.layer_costs, trainable))
        state.append(trainable_state_bytes(sum(params[name] for name in trainable), {"name": "adam"}))
    assert all(later < earlier for earlier, later in zip(flops, flops[1:], strict=False))
    assert all(later < earlier for earlier, later in zip(state, state[1:], strict=False))
    assert flops[-1] == pytest.approx(forward_flops(description.layer_costs), rel=1e-3)  # only the head trains


def test_a_completed_run_records_every_efficiency_figure(run, spec_for, digits, tmp_path) -> None:
    from suite.efficiency.latency import LATENCY_CALLS

    output = run(spec_for({"name": "mlp"}, training={"epochs": 1}), digits, tmp_path)
    figures = output.efficiency
    assert figures["measured"] and figures["version"] == 1
    assert figures["forward_flops_per_image"] == 2 * sum(MLP_MACS)
    assert figures["train_flops_per_image"] == 2 * (sum(MLP_MACS) + MLP_MACS[1] + MLP_MACS[2] + sum(MLP_MACS))
    assert figures["latency_calls"] == LATENCY_CALLS >= 30
    assert 0 < figures["latency_b1_ms_median"] <= figures["latency_b1_ms_p90"]
    assert figures["batch_images_per_second"] > 0 and figures["peak_train_memory_bytes"] >= 0
    assert figures["trainable_delta_bytes"] == 4 * output.params.trainable
    assert figures["weights_file_bytes"] > figures["trainable_delta_bytes"]  # the file holds all weights and more
    assert figures["trainable_state_bytes"] == 4 * 4 * output.params.trainable  # Adam


@pytest.mark.slow
def test_measured_peak_training_memory_of_freeze_5_is_below_freeze_0(run, spec_for, tiny_rgb, tmp_path) -> None:
    peaks = {}
    for blocks in (0, 5):
        spec = spec_for({"name": "resnet18"}, strategy={"freeze_blocks": blocks}, training={"epochs": 1})
        output = run(spec, tiny_rgb, tmp_path / str(blocks))
        peaks[blocks] = output.efficiency["peak_train_memory_bytes"]
        assert output.efficiency["peak_memory_source"].startswith("cpu")
    assert peaks[5] < peaks[0], peaks


IMAGENETTE = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "imagenette2-160"
BENCHMARK = Path(__file__).resolve().parents[2] / "benchmarks" / "efficiency_resnet18_freezing.toml"


@pytest.mark.slow
@pytest.mark.needs_data
@pytest.mark.skipif(not IMAGENETTE.is_dir(), reason=f"needs {IMAGENETTE}")
def test_benchmark_freeze_0_and_5_on_imagenette(tmp_path: Path) -> None:
    """The benchmark's ends, shrunk: freezing all five blocks costs fewer FLOPs and bytes and less peak memory."""
    from suite.data.loading import load_bundle
    from suite.runners.progress import NullProgress
    from suite.spec.loader import load_study
    from suite.training.run import execute

    shrink = ["model.weights=none", "training.epochs=1", f"dataset.path={IMAGENETTE}", "dataset.subset.train=64",
              "dataset.subset.val=32", "dataset.subset.test=32"]  # fmt: skip
    runs = {run.strategy.freeze_blocks: run for run in load_study(BENCHMARK, overrides=shrink).runs}
    data = load_bundle(runs[0].dataset, 0)
    figures = {
        blocks: execute(runs[blocks], TorchRunner(), data, tmp_path / str(blocks), NullProgress()).efficiency
        for blocks in (0, 5)
    }
    for key in ("train_flops_per_image", "trainable_state_bytes", "peak_train_memory_bytes", "trainable_delta_bytes"):
        assert figures[5][key] < figures[0][key], key
    assert figures[5]["forward_flops_per_image"] == figures[0]["forward_flops_per_image"]
