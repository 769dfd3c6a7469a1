import numpy as np
import pytest

from suite.runners.protocol import TrainableSet
from suite.spec.models import ModelSpec
from torch_impl.feature_cache import prefix_length, prefix_model, suffix_model
from torch_impl.models import build_model


def test_prefix_and_suffix_models_cut_at_leading_groups_only():
    built = build_model(ModelSpec(name="resnet18"), (32, 32, 3), 3)
    prefix, rest = prefix_model(built, ["stem", "layer1"]), suffix_model(built, ["stem", "layer1"])
    assert len(prefix) == 2 and len(rest) == 4 and rest[0] is built.groups["layer2"][0]
    for groups in (["layer1"], ["stem", "layer2"], [], ["stem", "layer1", "layer2", "layer3", "layer4", "head"]):
        with pytest.raises(ValueError, match="leading prefix"):
            prefix_length(built, groups)
    with pytest.raises(ValueError, match="staged"):
        prefix_length(build_model(ModelSpec(name="shufflenet_v2_x0_5"), (64, 64, 3), 4), ["conv1"])


def test_cached_session_trains_the_suffix_on_prefix_features(digits, spec_for, session_for):
    images = digits.preprocessing.apply(digits.train.images[:16])
    labels = digits.train.labels[:16]
    with session_for(spec_for({"name": "simple_cnn"}), digits) as session:
        session.begin_phase(TrainableSet(("dense", "head")), dict.fromkeys(("conv1", "conv2", "dense", "head"), 1e-3))
        features = session.prefix_features(["conv1", "conv2"], images)
        assert features.shape == (16, 64, 2, 2) and features.dtype == np.float32  # NCHW feature maps
        logits = session.predict(images)
        session.use_prefix_cache(["conv1", "conv2"])
        np.testing.assert_allclose(session.predict(features), logits, rtol=1e-5, atol=1e-6)
        session.train_step(features, labels)
        session.use_prefix_cache(None)
        assert session.predict(images).shape == (16, 10)


def test_mlp_cached_run_equals_uncached(digits, spec_for, run, tmp_path):
    def run_with(cache):
        spec = spec_for({"name": "mlp", "dropout": 0.0}, strategy={"freeze": ["hidden1"]},
                        training={"epochs": 3, "feature_cache": cache})  # fmt: skip
        return run(spec, digits, tmp_path / str(cache))

    cached, plain = run_with(True), run_with(False)
    assert cached.extra["feature_cache"]["groups"] == ["hidden1"] and cached.extra["feature_cache"]["shape"] == [128]
    assert plain.extra["feature_cache"]["active"] is False
    for a, b in zip(cached.history, plain.history, strict=True):
        assert a["val_loss"] == pytest.approx(b["val_loss"], abs=1e-5)
        assert a["train_loss"] == pytest.approx(b["train_loss"], abs=1e-5)
    np.testing.assert_allclose(cached.test_scores, plain.test_scores, atol=1e-5)


def test_resnet_cached_run_matches_uncached(tiny_rgb, spec_for, run, tmp_path):
    def run_with(cache):
        spec = spec_for({"name": "resnet18"}, strategy={"freeze_blocks": 3},
                        training={"epochs": 2, "batch_size": 32, "feature_cache": cache})  # fmt: skip
        return run(spec, tiny_rgb, tmp_path / str(cache))

    cached, plain = run_with(True), run_with(False)
    assert cached.extra["feature_cache"]["groups"] == ["stem", "layer1", "layer2"]
    for a, b in zip(cached.history, plain.history, strict=True):
        for key in ("train_loss", "val_loss"):
            assert a[key] == pytest.approx(b[key], abs=1e-4)
        assert a["train_accuracy"] == b["train_accuracy"] and a["val_accuracy"] == b["val_accuracy"]
    np.testing.assert_allclose(cached.test_scores, plain.test_scores, atol=1e-4)
