import json
import os
import subprocess
import sys
from pathlib import Path

import keras
import numpy as np
import pytest
from builders import keras_spec, small_bundle
from peft_counts import METHODS, expected_trainable

from keras_impl.freezing import apply_trainable
from keras_impl.models import build_model
from keras_impl.params import count_params
from keras_impl.peft import attach_lora
from suite.spec.models import ModelSpec
from suite.training.run import plan_for

REPO = Path(__file__).resolve().parents[2]


def opened(session, spec, data):
    """The session after the core's first begin_phase."""
    opened_session, plan, _ = session(spec, data.input_shape, data.num_classes)
    opened_session.begin_phase(plan.trainable_set(plan.epochs[0]), plan.epochs[0].rates)
    return opened_session


@pytest.mark.parametrize("model", ["mlp", "simple_cnn", "keras_mobilenet_v2"])
def test_trainable_counts_match_the_hand_counts(model, runner):
    """The session's own steps (attach_lora, apply_trainable, count_params) on one build; LoRA, which adds
    variables, comes last."""
    shape = (32, 32, 3) if model == "keras_mobilenet_v2" else (8, 8, 1)
    description = runner.describe(ModelSpec(name=model), shape, 10)
    keras.backend.clear_session()
    built = build_model(ModelSpec(name=model), shape, 10)
    for method in sorted(METHODS, key=lambda name: name.startswith("lora")):
        plan = plan_for(keras_spec({"name": model}, strategy=METHODS[method]), description)
        attach_lora(built, plan.peft)
        apply_trainable(built, plan.trainable_set(plan.epochs[0]), plan.peft)
        counts = count_params(built)
        assert counts.trainable == expected_trainable(model, method), method
        assert counts.total == counts.trainable + counts.frozen, method
        trained = sum(int(np.prod(v.shape)) for v in built.model.trainable_variables)
        assert trained == counts.trainable, method  # what the optimizer receives is what is counted


def test_lora_follows_the_convention_and_merges_exactly(digits, session):
    spec = keras_spec({"name": "simple_cnn"}, strategy={"freeze": "all_but_head", "lora": {"rank": 4, "alpha": 8}})
    opened_session = opened(session, spec, digits)
    conv = next(x for x in opened_session.built.groups["conv2"] if isinstance(x, keras.layers.Conv2D))
    a = keras.ops.convert_to_numpy(conv.lora_kernel_a)
    assert conv.lora_alpha / conv.lora_rank == 2.0 and not keras.ops.convert_to_numpy(conv.lora_kernel_b).any()
    bound = (6 / (32 * 9)) ** 0.5  # He-uniform on fan_in = c_in * k * k
    assert np.abs(a).max() <= bound and np.abs(a).max() > 0.9 * bound
    assert not conv._kernel.trainable and not conv.bias.trainable
    images = digits.preprocessing.apply(digits.train.images[:32])
    for _ in range(3):
        opened_session.train_step(images, digits.train.labels[:32])
    assert keras.ops.convert_to_numpy(conv.lora_kernel_b).any()
    before = opened_session.predict(images)
    assert opened_session.prepare_for_inference() and not conv.lora_enabled
    np.testing.assert_allclose(opened_session.predict(images), before, rtol=1e-4, atol=1e-5)


def test_lora_dropout_is_refused(runner):
    spec = keras_spec({"name": "mlp"}, strategy={"freeze": "all_but_head", "lora": {"dropout": 0.1}})
    assert any("dropout" in problem for problem in runner.check(spec))


@pytest.mark.parametrize("method", ["bitfit", "norm", "lora8"])
def test_each_method_beats_chance_on_digits(method, digits, run):
    digits = small_bundle(digits, 400, 120)
    model = "mlp" if method != "norm" else "simple_cnn"
    spec = keras_spec(
        {"name": model}, strategy=METHODS[method], optimizer={"lr": 1e-2}, training={"epochs": 3, "batch_size": 32}
    )
    output = run(spec, digits)
    accuracy = float(np.mean(output.test_scores.argmax(axis=1) == output.test_labels))
    assert accuracy > 0.3, accuracy  # chance is 0.1 (400 training digits, 3 epochs)
    assert output.params.trainable == expected_trainable(model, method)
    if method == "lora8":
        speeds = output.extra["peft"]
        assert speeds["eval_images_per_second_unmerged"] > 0 and speeds["eval_images_per_second_merged"] > 0


ENGINE_SCRIPT = """
import json, sys, tempfile
from pathlib import Path
sys.path += [{tests!r}]
import keras
import numpy as np
from builders import digits_bundle, keras_spec
from peft_counts import METHODS, expected_trainable
from keras_impl import create_keras_runner
from suite.runners.progress import NullProgress
from suite.training.run import execute

runner, data, engine = create_keras_runner(), digits_bundle(limit=600), keras.backend.backend()
rows = {{}}
for method, model in (("bitfit", "mlp"), ("norm", "simple_cnn"), ("lora8", "mlp")):
    spec = keras_spec({{"name": model}}, engine=engine, strategy=METHODS[method], optimizer={{"lr": 1e-2}},
                      training={{"epochs": 3, "batch_size": 32, "device": "cpu"}})
    out = execute(spec, runner, data, Path(tempfile.mkdtemp()), NullProgress())
    rows[method] = {{"accuracy": float((out.test_scores.argmax(1) == out.test_labels).mean()),
                    "trainable": out.params.trainable, "expected": expected_trainable(model, method),
                    "merged": "peft" in out.extra}}
print("RESULT" + json.dumps({{"engine": engine, "rows": rows}}))
"""


@pytest.mark.slow
@pytest.mark.parametrize("engine", ["jax", "torch"])
def test_each_method_on_the_other_keras_engines(engine):
    pytest.importorskip(engine)
    env = {**os.environ, "KERAS_BACKEND": engine, "TF_CPP_MIN_LOG_LEVEL": "3", "PYTHONPATH": str(REPO)}
    env["OMP_WAIT_POLICY"] = "PASSIVE"
    code = ENGINE_SCRIPT.format(tests=str(Path(__file__).parents[1]))
    done = subprocess.run([sys.executable, "-c", code], env=env, cwd=REPO, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    result = json.loads(next(line for line in done.stdout.splitlines() if line.startswith("RESULT"))[len("RESULT") :])
    assert result["engine"] == engine
    for method, row in result["rows"].items():
        assert row["trainable"] == row["expected"], method
        assert row["accuracy"] > 0.3, (method, row)
    assert result["rows"]["lora8"]["merged"]
