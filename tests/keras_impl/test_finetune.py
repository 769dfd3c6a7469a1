import keras
import numpy as np
import pytest
from builders import digits_bundle
from builders import keras_spec as make_spec

from suite.runners.progress import NullProgress


@pytest.fixture(scope="module")
def finetune_run(runner, tmp_path_factory):
    data = digits_bundle(image_size=32, channels=3, limit=240)
    spec = make_spec(
        {"name": "mobilenet_v2"},
        strategy={"freeze": "all_but_head", "finetune": {"epochs": 2, "lr": 1e-4, "unfreeze_last_layers": 10}},
        training={"epochs": 2, "batch_size": 32},
    )
    assert runner.check(spec) == []
    captured = {}

    class Capture(NullProgress):
        def message(self, text):
            captured["message"] = text

    import keras_impl.fitting as fitting

    original = fitting.unfreeze_for_finetune

    def spy(built, finetune):
        moving_mean = built.base.get_layer("Conv_1_bn").moving_mean
        captured["moving_mean_before"] = np.array(keras.ops.convert_to_numpy(moving_mean))
        captured["built"] = built
        return original(built, finetune)

    fitting.unfreeze_for_finetune = spy
    try:
        output = runner.run(spec, data, tmp_path_factory.mktemp("ft"), Capture())
    finally:
        fitting.unfreeze_for_finetune = original
    return output, captured


def test_history_continues_across_phases(finetune_run):
    output, captured = finetune_run
    assert [row["epoch"] for row in output.history] == [0, 1, 2, 3]
    assert [row["phase"] for row in output.history] == [1, 1, 2, 2]
    assert [row["lr"] for row in output.history] == pytest.approx([1e-3, 1e-3, 1e-4, 1e-4])
    assert "epoch 2: fine-tuning, unfroze 10 layers, 745,290 trainable" in captured["message"]


def test_finetune_trains_seed_number_of_parameters(finetune_run):
    output, _ = finetune_run
    phases = output.extra["phases"]
    assert [phase["trainable"] for phase in phases] == [12_810, 745_290]
    assert output.params.trainable == 745_290
    assert phases[1]["unfrozen_layers"][0] == "block_16_expand_BN"


def test_unfrozen_batchnorm_keeps_its_moving_statistics(finetune_run):
    _, captured = finetune_run
    after = keras.ops.convert_to_numpy(captured["built"].base.get_layer("Conv_1_bn").moving_mean)
    np.testing.assert_array_equal(captured["moving_mean_before"], after)
