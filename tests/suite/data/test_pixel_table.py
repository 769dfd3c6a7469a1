"""The normalisation table a device feed looks pixels up in: bitwise the CPU path's, for every normalisation."""

import numpy as np
import pytest

from suite.data.preprocess import NORMALIZATION_STATS, Preprocessing


@pytest.mark.parametrize("normalization", sorted(NORMALIZATION_STATS))
@pytest.mark.parametrize("channels", [1, 3])
def test_lookup_equals_normalize_bit_for_bit(normalization: str, channels: int) -> None:
    prep = Preprocessing(channels=channels, normalization=normalization)
    images = np.random.default_rng(1).integers(0, 256, (4, 9, 7, channels), dtype=np.uint8)
    table = prep.pixel_table(channels)
    assert table.shape == (256, channels) and table.dtype == np.float32
    looked_up = table[images, np.arange(channels)]
    np.testing.assert_array_equal(looked_up.view(np.uint32), prep.normalize(images).view(np.uint32))
