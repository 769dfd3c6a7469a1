import numpy as np

from suite.data.bundle import Split
from suite.data.preprocess import Preprocessing
from suite.training.batches import (
    ArrayInputs,
    PixelInputs,
    ResidentSplits,
    StreamedInputs,
    epoch_order,
    has_device_feed,
    make_inputs,
    order_fingerprint,
    session_batches,
)


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


def _split() -> Split:
    rng = np.random.default_rng(0)
    return Split(rng.integers(0, 255, (12, 8, 8, 1), dtype=np.uint8), np.arange(12) % 3)


def test_pixel_inputs_hand_over_the_resized_uint8_images_in_the_same_order() -> None:
    prep = Preprocessing(image_size=6, channels=3, normalization="imagenet")
    loaded, pixels = make_inputs(_split(), prep), make_inputs(_split(), prep, pixels=True)
    assert isinstance(pixels, PixelInputs) and pixels.pixels and pixels.static and not loaded.pixels
    order = epoch_order(1, 0, 12)
    for (a, la), (b, lb) in zip(loaded.batches(5, order), pixels.host_batches(5, order, 0), strict=True):
        assert b.dtype == np.uint8 and b.shape[1:] == (6, 6, 3)
        np.testing.assert_array_equal(pixels.table[b, np.arange(3)], a)
        np.testing.assert_array_equal(la, lb)
    np.testing.assert_array_equal(pixels.positions(None), np.arange(12))


def test_resident_splits_keep_static_splits_within_the_budget_once() -> None:
    prep = Preprocessing(channels=1)
    small, other = make_inputs(_split(), prep, pixels=True), make_inputs(_split(), prep, pixels=True)
    uploads: list[int] = []
    resident = ResidentSplits(lambda: 12 * 64 + 10)

    def upload(pixels: np.ndarray, labels: np.ndarray) -> int:
        uploads.append(len(pixels))
        return len(uploads)

    assert resident.get(small, upload) == 1 and resident.get(small, upload) == 1 and uploads == [12]
    assert resident.get(other, upload) is None  # the budget is spent
    resident.clear()
    assert resident.get(small, upload) is None  # cleared copies do not give the budget back
    small.static = False
    assert ResidentSplits(lambda: 10**9).get(small, upload) is None


class _Feed:
    def batches(self, source, batch_size, order, epoch):
        return iter([("device", source.labels[:batch_size])])


class _Session:
    device_feed = _Feed()


class _HostSession:
    device_feed = None


def test_session_batches_go_through_the_feed_only_for_pixel_inputs() -> None:
    prep = Preprocessing(channels=1)
    pixels, floats = make_inputs(_split(), prep, pixels=True), make_inputs(_split(), prep)
    assert has_device_feed(_Session()) and not has_device_feed(_HostSession())
    assert next(session_batches(_Session(), pixels, 4))[0] == "device"
    batch, _ = next(session_batches(_Session(), floats, 4))
    assert batch.dtype == np.float32
    batch, _ = next(session_batches(_HostSession(), pixels, 4, epoch_order(0, 0, 12), 0))
    assert batch.dtype == np.uint8


def test_batches_of_a_partial_order_cover_that_order_only() -> None:
    inputs = ArrayInputs(np.arange(10, dtype=np.float32)[:, None], np.arange(10))
    assert [labels.tolist() for _, labels in inputs.batches(3, np.array([7, 2, 5, 1]))] == [[7, 2, 5], [1]]
