"""Keras per-layer costs (the analytic rule from layer shapes) against hand counts, and a run's efficiency figures."""

import pytest
from builders import keras_spec

from suite.efficiency import forward_flops, train_flops
from suite.spec.models import ModelSpec

SIMPLE_CNN_MACS = (32 * 32 * 27 * 32, 16 * 16 * 288 * 64, 8 * 8 * 64 * 512, 512 * 10)
MLP_MACS = (64 * 128, 128 * 64, 64 * 10)


def test_mlp_and_simple_cnn_costs_equal_the_hand_count(runner) -> None:
    mlp = runner.describe(ModelSpec(name="mlp"), (8, 8, 1), 10).layer_costs
    assert forward_flops(mlp) == 2 * sum(MLP_MACS)
    cnn = runner.describe(ModelSpec(name="simple_cnn"), (32, 32, 3), 10).layer_costs
    assert [cost.macs for cost in cnn] == list(SIMPLE_CNN_MACS)
    conv1, conv2, dense, head = SIMPLE_CNN_MACS
    forward = sum(SIMPLE_CNN_MACS)
    assert train_flops(cnn, ["conv1", "conv2", "dense", "head"]) == 2 * (forward + (conv2 + dense + head) + forward)


def test_depthwise_and_batchnorm_layers_are_costed(runner) -> None:
    costs = runner.describe(ModelSpec(name="keras_mobilenet_v2", head="flatten"), (32, 32, 3), 10).layer_costs
    kinds = {cost.kind for cost in costs}
    assert kinds == {"conv", "depthwise", "dense", "norm"}
    assert all(cost.macs == 0 for cost in costs if cost.kind == "norm")


@pytest.fixture(scope="module")
def mlp_run(runner, digits, tmp_path_factory):
    from suite.efficiency.latency import LatencyProtocol
    from suite.runners.progress import NullProgress
    from suite.training.run import execute

    spec = keras_spec({"name": "mlp"}, training={"epochs": 1})
    directory = tmp_path_factory.mktemp("mlp")
    return execute(spec, runner, digits, directory, NullProgress(), latency=LatencyProtocol(calls=5, warmup_calls=2))


def test_a_completed_run_records_latency_and_every_cost(mlp_run) -> None:
    figures = mlp_run.efficiency
    assert figures["measured"] and figures["forward_flops_per_image"] == 2 * sum(MLP_MACS)
    assert figures["latency_calls"] == 5  # shortened for the test; the definition's default is 30
    assert 0 < figures["latency_b1_ms_median"] <= figures["latency_b1_ms_p90"]
    assert figures["batch_images_per_second"] > 0 and figures["weights_file_bytes"] > 0
    assert figures["trainable_delta_bytes"] == 4 * mlp_run.params.trainable
    assert figures["peak_memory_source"].startswith("cpu")
