"""Training-set augmentation, written once in the core: every backend trains on the same augmented pixels.

:class:`Augmenter` turns uint8 training batches into augmented ones; its random numbers are a function of
(seed, epoch, sample id) only (:mod:`suite.augment.keyed`). Validation and test data are never augmented.
"""

from suite.augment.pipeline import Augmenter

__all__ = ["Augmenter"]
