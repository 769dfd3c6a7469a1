"""The Keras device feed: batches bitwise equal to the CPU path on every engine, and a run through it unchanged."""

import importlib.util
import os
import subprocess
import sys
from pathlib import Path

import keras
import numpy as np
import pytest
from builders import PIXEL_AUGMENTATIONS, digits_bundle, keras_spec, small_bundle

from keras_impl import create_keras_runner
from keras_impl.data import DeviceFeed
from suite.augment import Augmenter
from suite.data.bundle import Split
from suite.data.preprocess import NORMALIZATION_STATS, Preprocessing
from suite.runners.progress import NullProgress
from suite.spec.models import AugmentSpec
from suite.training.batches import epoch_order, make_inputs, make_train_inputs
from suite.training.run import execute

REPO = Path(__file__).resolve().parents[2]


def feed_matches_cpu_path() -> None:
    """Every normalisation, 1 and 3 channels, resident or streamed, augmented, padded eval: bitwise equal."""
    rng = np.random.default_rng(0)
    split = Split(rng.integers(0, 256, (37, 9, 9, 1), dtype=np.uint8), np.arange(37) % 4)
    augmenter = Augmenter(AugmentSpec.model_validate(PIXEL_AUGMENTATIONS), seed=1, num_classes=4)
    for normalization in sorted(NORMALIZATION_STATS):
        for channels in (1, 3):
            prep = Preprocessing(image_size=12, channels=channels, normalization=normalization)
            pairs = [(make_inputs(split, prep), make_inputs(split, prep, pixels=True))] * 2
            pairs.append(
                (make_train_inputs(split, prep, augmenter), make_train_inputs(split, prep, augmenter, pixels=True))
            )
            for (floats, pixels), budget in zip(pairs, (0, 10**9, 10**9), strict=True):
                order = epoch_order(0, 1, 37)
                fed = DeviceFeed(budget, pad_eval=False).batches(pixels, 8, order, 1)
                for (a, la), (b, lb) in zip(floats.epoch_batches(8, order, 1), fed, strict=True):
                    got = np.asarray(keras.ops.convert_to_numpy(b.inputs))
                    assert got.dtype == np.float32 and np.array_equal(got.view(np.uint32), a.view(np.uint32))
                    assert np.array_equal(la, lb)
                assert floats.fingerprint == pixels.fingerprint
            padded = list(DeviceFeed(0, pad_eval=True).batches(pixels, 8, None, None))
            assert [len(labels) for _, labels in padded] == [8, 8, 8, 8, 5]
            assert {tuple(batch.inputs.shape) for batch, _ in padded} == {(8, 12, 12, channels)}


def test_feed_batches_equal_the_cpu_path_on_this_engine() -> None:
    feed_matches_cpu_path()


@pytest.mark.parametrize("engine", ["jax", pytest.param("torch", marks=pytest.mark.slow)])
def test_feed_batches_equal_the_cpu_path_on_other_engines(engine: str) -> None:
    """JAX matters most (XLA's float32 division on the CPU is not correctly rounded; the lookup is exact)."""
    if importlib.util.find_spec(engine) is None:
        pytest.skip(f"{engine} is not installed")
    code = f"import sys; sys.path += [{str(REPO / 'tests')!r}, {str(Path(__file__).parent)!r}]; " \
           "from test_data import feed_matches_cpu_path; feed_matches_cpu_path()"  # fmt: skip
    env = {
        **os.environ,
        "KERAS_BACKEND": engine,
        "PYTHONPATH": os.pathsep.join([str(REPO), os.environ.get("PYTHONPATH", "")]),
    }
    done = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]


class _FeedRunner:
    """The Keras runner with its accelerator feed forced on the CPU (resident splits, no padding)."""

    def __init__(self) -> None:
        self.inner = create_keras_runner()
        self.name = self.inner.name

    def __getattr__(self, name: str):
        return getattr(self.inner, name)

    def open_session(self, *args, **kwargs):
        session = self.inner.open_session(*args, **kwargs)
        session.device_feed = DeviceFeed(10**9, pad_eval=False)
        return session


def test_a_run_through_the_feed_equals_the_cpu_path(tmp_path: Path) -> None:
    spec = keras_spec({"name": "simple_cnn"}, dataset={"normalization": "imagenet"}, training={"epochs": 2})
    data = small_bundle(digits_bundle(channels=3, normalization="imagenet"), 160, 40)
    plain = execute(spec, create_keras_runner(), data, tmp_path / "plain", NullProgress())
    fed = execute(spec, _FeedRunner(), data, tmp_path / "fed", NullProgress())
    for a, b in zip(plain.history, fed.history, strict=True):
        assert {k: v for k, v in a.items() if k != "seconds"} == {k: v for k, v in b.items() if k != "seconds"}
    np.testing.assert_array_equal(plain.test_scores, fed.test_scores)
