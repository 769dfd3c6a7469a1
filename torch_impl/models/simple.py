"""Models written out by hand: the seed-002 MLP and the seed-003 simple CNN."""

from __future__ import annotations

from collections import OrderedDict

from torch import nn

from suite.spec.models import ModelSpec
from torch_impl.models.registry import BuiltModel, InputShape, register_model


def staged(stages: OrderedDict[str, nn.Module]) -> BuiltModel:
    """A sequential network whose children are its layer groups."""
    module = nn.Sequential(stages)
    return BuiltModel(module, {name: [child] for name, child in module.named_children()}, staged=True)


@register_model("mlp", description="Flatten -> 128 ReLU Dropout -> 64 ReLU -> classes (seed 002)")
def build_mlp(spec: ModelSpec, input_shape: InputShape, num_classes: int) -> BuiltModel:
    """Seed 002's sequential MLP, generalised to any input shape; dropout from ``model.dropout`` (0.2)."""
    height, width, channels = input_shape
    dropout = 0.2 if spec.dropout is None else spec.dropout
    return staged(
        OrderedDict(
            hidden1=nn.Sequential(
                nn.Flatten(), nn.Linear(height * width * channels, 128), nn.ReLU(), nn.Dropout(dropout)
            ),
            hidden2=nn.Sequential(nn.Linear(128, 64), nn.ReLU()),
            head=nn.Linear(64, num_classes),
        )
    )


@register_model("simple_cnn", description="2 x (Conv3x3 same, ReLU, MaxPool2) -> Dense 512 -> classes (seed 003)")
def build_simple_cnn(spec: ModelSpec, input_shape: InputShape, num_classes: int) -> BuiltModel:
    """Seed 003's CNN exactly: 2,122,186 parameters on 32x32x3 with 10 classes, as in Keras."""
    height, width, channels = input_shape
    if height < 4 or width < 4:
        raise ValueError(f"simple_cnn needs images of at least 4x4, got {height}x{width}")
    return staged(
        OrderedDict(
            conv1=nn.Sequential(nn.Conv2d(channels, 32, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2)),
            conv2=nn.Sequential(nn.Conv2d(32, 64, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2)),
            dense=nn.Sequential(nn.Flatten(), nn.Linear(64 * (height // 4) * (width // 4), 512), nn.ReLU()),
            head=nn.Linear(512, num_classes),
        )
    )
