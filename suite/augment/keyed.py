"""Random numbers keyed by (seed, epoch, sample id, stream): a counter-based generator, vectorised.

Every augmentation parameter of a sample is a function of these four numbers only, so it is the same
whatever the batch size, the number of worker threads, the order batches are prepared in, or the backend.
The hash is SplitMix64's finaliser (Steele, Lea and Flood 2014) chained over the key; draws are the top 53
bits of a hashed counter, so one call gives a whole batch's numbers without a generator object per sample.
"""

from __future__ import annotations

import numpy as np

_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_M1 = np.uint64(0xBF58476D1CE4E5B9)
_M2 = np.uint64(0x94D049BB133111EB)


def _mix(x: np.ndarray) -> np.ndarray:
    """SplitMix64 on a uint64 array (wrapping arithmetic)."""
    x = x + _GOLDEN
    x = (x ^ (x >> np.uint64(30))) * _M1
    x = (x ^ (x >> np.uint64(27))) * _M2
    return x ^ (x >> np.uint64(31))


def uniforms(seed: int, epoch: int, ids: np.ndarray, stream: int, count: int) -> np.ndarray:
    """``(len(ids), count)`` float64 in [0, 1): the ``count`` draws of each sample for ``stream``."""
    with np.errstate(over="ignore"):
        key = np.zeros(1, dtype=np.uint64)
        for part in (seed, epoch, stream):
            key = _mix(key ^ np.asarray([part], dtype=np.uint64))
        per_sample = _mix(key ^ np.asarray(ids, dtype=np.int64).astype(np.uint64))
        counters = np.arange(1, count + 1, dtype=np.uint64) * _GOLDEN
        words = _mix(_mix(per_sample[:, None] ^ counters[None, :]))
    return (words >> np.uint64(11)).astype(np.float64) * (1.0 / 2**53)
