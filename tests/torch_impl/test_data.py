import numpy as np
import pytest
import torch
from builders import PIXEL_AUGMENTATIONS, digits_bundle, make_spec, small_bundle

from suite.data.preprocess import NORMALIZATION_STATS, Preprocessing
from suite.runners.progress import NullProgress
from suite.training.batches import epoch_order, make_inputs, make_train_inputs
from suite.training.run import execute
from torch_impl.data import DeviceFeed, features_array, input_tensor, label_tensor
from torch_impl.precision import Numerics
from torch_impl.runner import TorchRunner

CPU = torch.device("cpu")


def test_nhwc_batches_become_nchw_in_the_chosen_memory_format():
    batch = np.random.default_rng(0).random((2, 5, 4, 3), dtype=np.float32)
    expected = torch.from_numpy(batch.transpose(0, 3, 1, 2).copy())
    channels_last = input_tensor(batch, Numerics(CPU, "fp32", True))
    standard = input_tensor(batch, Numerics(CPU, "fp32", False))
    assert channels_last.shape == standard.shape == (2, 3, 5, 4)
    assert channels_last.is_contiguous(memory_format=torch.channels_last) and standard.is_contiguous()
    assert torch.equal(channels_last, expected) and torch.equal(standard, expected)


def test_features_pass_through_and_come_back_as_float32_nchw():
    features = np.random.default_rng(0).random((2, 8, 3, 3), dtype=np.float32)
    tensor = input_tensor(features, Numerics(CPU, "bf16", True), nhwc=False)
    assert torch.equal(tensor, torch.from_numpy(features))
    back = features_array(tensor.to(torch.bfloat16))
    assert back.dtype == np.float32 and back.shape == features.shape and back.flags["C_CONTIGUOUS"]
    flat = np.ones((4, 7), dtype=np.float32)
    assert input_tensor(flat, Numerics(CPU, "fp32", True)).shape == (4, 7)
    assert label_tensor(np.array([1, 2], dtype=np.int32), CPU).dtype == torch.int64


def _pixel_split():
    from suite.data.bundle import Split

    rng = np.random.default_rng(0)
    return Split(rng.integers(0, 256, (37, 9, 9, 1), dtype=np.uint8), np.arange(37) % 4)


def _bits(tensor: torch.Tensor) -> np.ndarray:
    return tensor.contiguous().numpy().view(np.uint32)


@pytest.mark.parametrize("normalization", sorted(NORMALIZATION_STATS))
@pytest.mark.parametrize("channels", [1, 3])
@pytest.mark.parametrize("resident", [False, True])
def test_device_feed_batches_equal_the_cpu_path_bit_for_bit(normalization, channels, resident):
    prep = Preprocessing(image_size=12, channels=channels, normalization=normalization)
    floats, pixels = make_inputs(_pixel_split(), prep), make_inputs(_pixel_split(), prep, pixels=True)
    order = epoch_order(0, 1, 37)
    for channels_last in (True, False):
        numerics = Numerics(CPU, "fp32", channels_last)
        feed = DeviceFeed(numerics, resident_bytes=10**9 if resident else 0)
        layout = torch.channels_last if channels_last else torch.contiguous_format
        for (a, la), (b, lb) in zip(floats.batches(8, order), feed.batches(pixels, 8, order, 1), strict=True):
            assert b.inputs.is_contiguous(memory_format=layout) and b.inputs.shape == (len(la), channels, 12, 12)
            np.testing.assert_array_equal(_bits(b.inputs), _bits(torch.from_numpy(a).permute(0, 3, 1, 2)))
            np.testing.assert_array_equal(lb, la)
            np.testing.assert_array_equal(b.labels.numpy(), la)
        assert (feed._resident.get(pixels, feed._upload) is not None) == resident


def test_device_feed_carries_augmented_batches_unchanged():
    from suite.augment import Augmenter
    from suite.spec.models import AugmentSpec

    augmenter = Augmenter(AugmentSpec.model_validate(PIXEL_AUGMENTATIONS), seed=1, num_classes=4)
    prep = Preprocessing(image_size=12, channels=3, normalization="imagenet")
    floats = make_train_inputs(_pixel_split(), prep, augmenter)
    pixels = make_train_inputs(_pixel_split(), prep, augmenter, pixels=True)
    feed = DeviceFeed(Numerics(CPU, "fp32", True), resident_bytes=10**9)  # augmented: never resident
    order = epoch_order(0, 2, 37)
    for (a, la), (b, lb) in zip(floats.epoch_batches(8, order, 2), feed.batches(pixels, 8, order, 2), strict=True):
        np.testing.assert_array_equal(_bits(b.inputs), _bits(torch.from_numpy(a).permute(0, 3, 1, 2)))
        np.testing.assert_array_equal(lb, la)
    assert pixels.fingerprint == floats.fingerprint and not feed._resident._held


def test_evaluation_batches_are_padded_to_one_shape_when_asked():
    prep = Preprocessing(channels=3, normalization="half")
    pixels = make_inputs(_pixel_split(), prep, pixels=True)
    batches = list(DeviceFeed(Numerics(CPU, "fp32", False), pad_eval=True).batches(pixels, 8, None, None))
    assert [len(labels) for _, labels in batches] == [8, 8, 8, 8, 5]
    assert {tuple(batch.inputs.shape) for batch, _ in batches} == {(8, 3, 9, 9)}
    expected = torch.from_numpy(prep.normalize(pixels.inputs[32:])).permute(0, 3, 1, 2)
    assert torch.equal(batches[-1][0].inputs[:5], expected) and not batches[-1][0].inputs[5:].any()
    training = list(DeviceFeed(Numerics(CPU, "fp32", False), pad_eval=True).batches(pixels, 8, np.arange(37), 0))
    assert training[-1][0].inputs.shape[0] == 5  # training batches are never padded


class _CountingFeed(DeviceFeed):
    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.passes: list[int | None] = []

    def batches(self, source, batch_size, order, epoch):
        self.passes.append(epoch)
        return super().batches(source, batch_size, order, epoch)


class _FeedRunner(TorchRunner):
    """The torch runner with its CUDA feed forced on the CPU (resident splits or not, no padding)."""

    def __init__(self, resident: bool) -> None:
        self.resident = resident
        self.feed: _CountingFeed | None = None

    def open_session(self, *args, **kwargs):
        session = super().open_session(*args, **kwargs)
        self.feed = _CountingFeed(session.numerics, resident_bytes=10**9 if self.resident else 0)
        session.device_feed = self.feed
        return session


RUN_CASES = {
    "resident": ({"name": "simple_cnn"}, {}, {}, True),
    "augmented": ({"name": "simple_cnn"}, {"augment": PIXEL_AUGMENTATIONS}, {}, True),
    "feature cache": ({"name": "mlp", "dropout": 0.0}, {}, {"freeze": ["hidden1"]}, False),
}


@pytest.mark.parametrize("case", sorted(RUN_CASES))
def test_a_run_through_the_feed_equals_the_cpu_path(case, tmp_path):
    model, dataset, strategy, resident = RUN_CASES[case]
    training = {"epochs": 2, "batch_size": 48, "feature_cache": bool(strategy)}
    spec = make_spec(model, dataset={"normalization": "imagenet", **dataset}, strategy=strategy, training=training)
    data = small_bundle(digits_bundle(channels=3, normalization="imagenet"), 200, 50)
    plain = execute(spec, TorchRunner(), data, tmp_path / "plain", NullProgress())
    runner = _FeedRunner(resident)
    fed = execute(spec, runner, data, tmp_path / "fed", NullProgress())
    # training epochs (unless features are cached), a validation pass per epoch, the test pass (+ cache passes)
    assert runner.feed.passes == ([None, None] if strategy else [0, None, 1, None]) + [None]
    for a, b in zip(plain.history, fed.history, strict=True):
        assert {k: v for k, v in a.items() if k != "seconds"} == {k: v for k, v in b.items() if k != "seconds"}
    np.testing.assert_array_equal(plain.test_scores, fed.test_scores)
    if dataset:
        assert plain.extra["batch_fingerprints"] == fed.extra["batch_fingerprints"]
    assert fed.extra["feature_cache"]["active"] == bool(strategy)


@pytest.mark.gpu
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
@pytest.mark.parametrize("resident", [False, True])
def test_the_cuda_feed_equals_the_cpu_path_bit_for_bit(resident):
    from suite.augment import Augmenter
    from suite.spec.models import AugmentSpec

    cuda = torch.device("cuda")
    prep = Preprocessing(image_size=12, channels=3, normalization="imagenet")
    augmenter = Augmenter(AugmentSpec.model_validate(PIXEL_AUGMENTATIONS), seed=1, num_classes=4)
    split = _pixel_split()
    pairs = [tuple(make_inputs(split, prep, pixels=flag) for flag in (False, True))]
    pairs.append(tuple(make_train_inputs(split, prep, augmenter, pixels=flag) for flag in (False, True)))
    order = epoch_order(0, 3, 37)
    for floats, pixels in pairs:
        feed = DeviceFeed(Numerics(cuda, "bf16", True), resident_bytes=10**9 if resident else 0)
        for (a, la), (b, lb) in zip(floats.epoch_batches(8, order, 3), feed.batches(pixels, 8, order, 3), strict=True):
            torch.cuda.current_stream().synchronize()
            assert b.inputs.is_cuda and b.inputs.is_contiguous(memory_format=torch.channels_last)
            np.testing.assert_array_equal(_bits(b.inputs.cpu()), _bits(torch.from_numpy(a).permute(0, 3, 1, 2)))
            np.testing.assert_array_equal(b.labels.cpu().numpy(), la)
            np.testing.assert_array_equal(lb, la)
    padded = list(DeviceFeed(Numerics(cuda, "fp32", False)).batches(pairs[0][1], 8, None, None))
    assert {tuple(batch.inputs.shape) for batch, _ in padded} == {(8, 3, 12, 12)} and len(padded[-1][1]) == 5
