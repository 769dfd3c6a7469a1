import numpy as np
import torch

from torch_impl.data import features_array, input_tensor, label_tensor
from torch_impl.precision import Numerics

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
