"""The catalog of shared architectures: one declaration per network that is the same function in every backend.

A declaration names the architecture, the layout its weights use between the frameworks (``"torchvision"``: the
state-dict names and shapes of torchvision's and timm's checkpoints, converted by
``suite.architectures.convert_<family>``; ``"slots"``: hand-written toys that share seed-drawn initial weights only),
its layer groups in order (the head last) and its family's build options (for ResNets: blocks per stage, block
type, and torchvision's published checkpoint files by enum member, the first being ``"imagenet"``). Each runner
reads this catalog and builds every entry with at most one builder per family. Adding an architecture is one
declaration here (and a builder when its family is new).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, Literal

RESNET_GROUPS = ("stem", "layer1", "layer2", "layer3", "layer4", "head")


@dataclass(frozen=True)
class Architecture:
    """One shared architecture: name, weight layout, ordered group names, family and that family's options."""

    name: str
    family: str
    layout: Literal["torchvision", "slots"]
    groups: tuple[str, ...]
    description: str
    options: MappingProxyType[str, Any] = field(default_factory=lambda: MappingProxyType({}))
    grayscale: bool = False
    parity_note: str = ""

    @property
    def converts_weights(self) -> bool:
        """True when weight files of either framework load into both backends (a family converter exists)."""
        return self.layout != "slots"  # the torchvision layout: a family converter maps it to Keras


def _resnet(name: str, blocks: tuple[int, int, int, int], block: str, published: dict[str, str]) -> Architecture:
    kind = "BasicBlock" if block == "basic_block" else "Bottleneck"
    return Architecture(
        name=name,
        family="resnet",
        layout="torchvision",
        groups=RESNET_GROUPS,
        description=f"torchvision ResNet v1.5 ({kind}, {list(blocks)}); same weights and function in every backend",
        options=MappingProxyType({"blocks": blocks, "block": block, "torchvision_weights": published}),
    )


CATALOG: tuple[Architecture, ...] = (
    Architecture("mlp", "toy", "slots", ("hidden1", "hidden2", "head"), "seed 002's MLP", grayscale=True),
    Architecture("simple_cnn", "toy", "slots", ("conv1", "conv2", "dense", "head"), "seed 003's CNN", grayscale=True),
    Architecture(
        "mobilenet_v2",
        "mobilenet_v2",
        "slots",
        (*(f"features.{index}" for index in range(19)), "head"),
        "MobileNetV2 (torchvision / keras.applications)",
        parity_note="keras.applications pads stride-2 convolutions asymmetrically (ZeroPadding2D ((0,1),(0,1))), "
        "torchvision symmetrically: not the same function",
    ),
    _resnet("resnet10", (1, 1, 1, 1), "basic_block", {}),
    _resnet("resnet18", (2, 2, 2, 2), "basic_block", {"IMAGENET1K_V1": "resnet18-f37072fd.pth"}),
    _resnet("resnet34", (3, 4, 6, 3), "basic_block", {"IMAGENET1K_V1": "resnet34-b627a593.pth"}),
    _resnet(
        "resnet50",
        (3, 4, 6, 3),
        "bottleneck_block",
        {"IMAGENET1K_V2": "resnet50-11ad3fa6.pth", "IMAGENET1K_V1": "resnet50-0676ba61.pth"},
    ),
)


def _index() -> dict[str, Architecture]:
    names = [entry.name for entry in CATALOG]
    duplicates = sorted({name for name in names if names.count(name) > 1})
    if duplicates:
        raise ValueError(f"architecture catalog: duplicate name(s) {', '.join(duplicates)}")
    return {entry.name: entry for entry in CATALOG}


ARCHITECTURES: MappingProxyType[str, Architecture] = MappingProxyType(_index())


def architecture(name: str) -> Architecture | None:
    """The catalog entry of ``name``, or None for a single-backend model."""
    return ARCHITECTURES.get(name)


def shared_names() -> tuple[str, ...]:
    """Every catalog name, in declaration order."""
    return tuple(ARCHITECTURES)


def parity_note(name: str) -> str | None:
    """Why ``name`` is not the same function in every backend (``suite parity`` says so), or None."""
    entry = ARCHITECTURES.get(name)
    return entry.parity_note or None if entry else None


def grayscale_names() -> tuple[str, ...]:
    """Catalog names that take 1-channel input."""
    return tuple(entry.name for entry in CATALOG if entry.grayscale)
