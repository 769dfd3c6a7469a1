import numpy as np

from suite.data.bundle import Split
from suite.data.preprocess import Preprocessing
from suite.training.batches import ArrayInputs, StreamedInputs, epoch_order, make_inputs, order_fingerprint


def test_order_depends_on_seed_and_epoch_only() -> None:
    assert np.array_equal(epoch_order(3, 1, 50), epoch_order(3, 1, 50))
    assert not np.array_equal(epoch_order(3, 1, 50), epoch_order(3, 2, 50))
    assert not np.array_equal(epoch_order(3, 1, 50), epoch_order(4, 1, 50))
    assert sorted(epoch_order(0, 0, 50)) == list(range(50))


def test_batches_follow_the_order_whatever_the_batch_size() -> None:
    inputs = ArrayInputs(np.arange(10, dtype=np.float32)[:, None], np.arange(10))
    order = epoch_order(0, 0, 10)
    for size in (1, 3, 10):
        seen = np.concatenate([labels for _, labels in inputs.batches(size, order)])
        assert np.array_equal(seen, order)
    assert order_fingerprint([order]) == order_fingerprint([epoch_order(0, 0, 10)])
    assert order_fingerprint([order]) != order_fingerprint([epoch_order(0, 1, 10)])


def test_streamed_inputs_equal_preloaded() -> None:
    rng = np.random.default_rng(0)
    split = Split(rng.integers(0, 255, (12, 8, 8, 1), dtype=np.uint8), np.arange(12) % 3)
    prep = Preprocessing(image_size=6, channels=3, normalization="imagenet")
    loaded, streamed = make_inputs(split, prep), make_inputs(split, prep, limit_bytes=1)
    assert isinstance(streamed, StreamedInputs) and not isinstance(loaded, StreamedInputs)
    order = epoch_order(1, 0, 12)
    for (a, la), (b, lb) in zip(loaded.batches(5, order), streamed.batches(5, order), strict=True):
        np.testing.assert_array_equal(a, b)
        np.testing.assert_array_equal(la, lb)
