"""The one entry point the executor calls: a DatasetSpec and a seed in, a DataBundle out."""

from __future__ import annotations

from suite.data.bundle import DataBundle, Split
from suite.data.decoded_cache import load_cached
from suite.data.preprocess import Preprocessing
from suite.data.registry import DatasetUnavailableError, get_source
from suite.data.splits import split_dataset
from suite.spec.models import DatasetSpec

__all__ = ["DatasetUnavailableError", "load_bundle"]


def load_bundle(spec: DatasetSpec, seed: int) -> DataBundle:
    """Load ``spec``'s source, split it deterministically from ``seed`` and attach the shared preprocessing.

    Images stay uint8 at their native size (variable-size sources are resized to
    ``image_size`` at load time); runners call ``bundle.preprocessing.apply`` per batch.
    ``bundle.sample_ids`` holds each split's sample ids (see :mod:`suite.data.splits`).
    Image folders and saved Hugging Face copies go through the decoded-data cache
    (:mod:`suite.data.decoded_cache`). Raises :class:`DatasetUnavailableError` when the files are missing
    and cannot be downloaded.
    """
    raw = load_cached(spec, get_source(spec.source).loader)  # decoded once per dataset, then memory-mapped
    parts = split_dataset(raw, spec.split, spec.subset, seed)
    preprocessing = Preprocessing(image_size=spec.image_size, channels=spec.channels, normalization=spec.normalization)
    return DataBundle(
        train=Split(parts["train"][0], parts["train"][1]),
        val=Split(parts["val"][0], parts["val"][1]),
        test=Split(parts["test"][0], parts["test"][1]),
        class_names=list(raw.class_names),
        preprocessing=preprocessing,
        source=raw.description,
        sample_ids={name: ids for name, (_, _, ids) in parts.items()},
    )
