"""``KerasRunner.check`` keeps framework facts only."""

import keras
import pytest
from builders import keras_spec


@pytest.mark.parametrize(
    ("model", "sections", "fragment"),
    [
        ({"name": "nope"}, {}, "unknown keras model 'nope'"),
        ({"name": "mlp", "depth": 2}, {}, "model.depth is not used"),
        ({"name": "mlp", "weights": "imagenet"}, {}, "trains from scratch"),
        ({"name": "simple_cnn", "head": "gap"}, {}, "fixed head"),
        ({"name": "keras_mobilenet_v2", "weights": "/no/such/file.h5"}, {}, "/no/such/file.h5 does not exist"),
        ({"name": "mlp"}, {"training": {"epochs": 1, "channels_last": False}}, "channels_last"),
        (
            {"name": "keras_mobilenet_v2"},
            {"strategy": {"freeze": "all_but_head", "bn_mode": "train"}},
            "Keras 3 runs a BatchNormalization layer whose weights are frozen in inference mode",
        ),
    ],
)
def test_check_reports_what_keras_cannot_do(runner, model, sections, fragment):
    problems = runner.check(keras_spec(model, **sections))
    assert any(fragment in problem for problem in problems), problems


def test_compile_with_determinism_is_a_tensorflow_fact(runner):
    problems = runner.check(keras_spec({"name": "mlp"}, training={"epochs": 1, "compile": True, "deterministic": True}))
    assert bool(problems) == (keras.backend.backend() == "tensorflow")


@pytest.mark.parametrize(
    "sections",
    [
        {"strategy": {"freeze": ["features.0", "last:2"], "discriminative_lr": {"lr_mult": 0.5}}},
        {"strategy": {"freeze": "all_but_head", "unfreeze_schedule": {2: ["last:1"]}}},
        {"strategy": {"freeze": "none", "bn_mode": "train"}},
        {"training": {"epochs": 2, "scheduler": {"name": "cosine", "warmup_epochs": 1}, "feature_cache": True}},
        {"training": {"epochs": 1, "tensorboard": True}},
    ],
)
def test_check_accepts_what_keras_now_runs(runner, sections):
    assert runner.check(keras_spec({"name": "keras_mobilenet_v2"}, **sections)) == []


def test_check_rejects_an_engine_this_process_does_not_run(runner):
    other = "torch" if keras.backend.backend() != "torch" else "tensorflow"
    problems = runner.check(keras_spec({"name": "mlp"}, engine=other))
    assert len(problems) == 1 and f"KERAS_BACKEND={other}" in problems[0]


def test_fp64_on_jax_without_x64_is_one_line(monkeypatch):
    import keras_impl.checks as checks

    monkeypatch.setattr(checks, "engine_name", lambda: "jax")
    monkeypatch.setattr(checks, "_jax_x64_enabled", lambda: False)
    problems = checks._training_problems(keras_spec({"name": "mlp"}, training={"epochs": 1, "precision": "fp64"}))
    assert problems == [
        "training.precision = 'fp64' on the JAX engine needs 64-bit JAX: set JAX_ENABLE_X64=1 "
        "(without it JAX computes float64 requests in float32)"
    ]
