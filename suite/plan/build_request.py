"""The build request: the one thing a runner takes from the spec, to build the model before any plan exists.

A runner describes a model (its groups feed the plan) and opens a session around it; both need the
architecture, the input shape and the class count, and the Keras runner whether raw 0..255 pixels reach
the model (then a ``keras.applications`` ``preprocess_input`` runs first). Everything else a runner does
comes from the :class:`~suite.plan.plan.TrainingPlan`.
"""

from __future__ import annotations

from dataclasses import dataclass

from suite.spec.models import ExperimentSpec, ModelSpec


@dataclass(frozen=True)
class BuildRequest:
    """What to build: ``model`` (name, weights, head, dropout, depth) for ``input_shape`` (H, W, C) and classes.

    ``raw_pixels``: the dataset is not normalised (``dataset.normalization = "none"``), so pretrained
    backbones that expect 0..255 inputs apply their own preprocessing.
    """

    model: ModelSpec
    input_shape: tuple[int, int, int]
    num_classes: int
    raw_pixels: bool = False


def build_request(spec: ExperimentSpec, input_shape: tuple[int, int, int], num_classes: int) -> BuildRequest:
    """The build request of ``spec`` for data of ``input_shape`` with ``num_classes`` classes."""
    return BuildRequest(
        model=spec.model,
        input_shape=tuple(input_shape),
        num_classes=int(num_classes),
        raw_pixels=spec.dataset.normalization == "none",
    )
