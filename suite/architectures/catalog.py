"""The catalog of shared architectures: one declaration per network that is the same function in every backend.

A declaration names the architecture, the layout its weights use between the frameworks (``"torchvision"``: the
state-dict names and shapes of torchvision's and timm's checkpoints, converted by
``suite.architectures.convert_<family>``; ``"keras.applications"``: the network ``keras.applications`` builds, named
``keras_<name>`` beside the torchvision layout's ``<name>``, its layers declared by
``suite.architectures.convert_<family>`` as :mod:`suite.architectures.keras_layout` describes; ``"slots"``: hand-
written toys that share seed-drawn initial weights only), its layer groups in order (the head last) and its family's
build options (for ResNets: blocks per stage, block type, and torchvision's published checkpoint files by enum
member, the first being ``"imagenet"``; for the keras layout: the ``keras.applications`` constructor, its
``preprocess_input`` module, its no-top ImageNet file in Keras' cache, the published no-top parameter count and the
default head's dropout) and, for the keras layout, the network's own BatchNorm momentum (torch's convention) and
epsilon, the defaults of ``model.bn_momentum`` / ``model.bn_epsilon`` for it. Each runner reads this catalog and
builds every entry with at most one builder per family. Adding an architecture is one declaration here (and a
builder when its family is new).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, Literal

RESNET_GROUPS = ("stem", "layer1", "layer2", "layer3", "layer4", "head")
KERAS_PREFIX = "keras_"
"""The keras.applications layout's names: ``keras_<name>`` beside the torchvision layout's ``<name>``."""


@dataclass(frozen=True)
class Architecture:
    """One shared architecture: name, weight layout, ordered group names, family and that family's options."""

    name: str
    family: str
    layout: Literal["torchvision", "keras.applications", "slots"]
    groups: tuple[str, ...]
    description: str
    options: MappingProxyType[str, Any] = field(default_factory=lambda: MappingProxyType({}))
    grayscale: bool = False
    parity_note: str = ""
    batchnorm: tuple[float, float] | None = None

    @property
    def converts_weights(self) -> bool:
        """True when weight files of either framework load into both backends (a family converter exists)."""
        return self.layout != "slots"  # the torchvision and keras layouts: a family converter maps them


def _keras(
    name: str, family: str, groups: tuple[str, ...], application: dict[str, Any], batchnorm: tuple[float, float] | None
) -> Architecture:
    """A keras.applications network (``include_top=False``) under ``keras_<name>``, the same function in torch."""
    return Architecture(
        name=KERAS_PREFIX + name,
        family=family,
        layout="keras.applications",
        groups=(*groups, "head"),
        description=f"keras.applications.{application['constructor']} (no top) + head; the same function in torch",
        options=MappingProxyType(application),
        batchnorm=batchnorm,
    )


def _keras_resnet(depth: int, blocks: tuple[int, int, int, int], params: int) -> Architecture:
    application = {
        "constructor": f"ResNet{depth}",
        "preprocess_module": "resnet",
        "weights_file": f"resnet{depth}_weights_tf_dim_ordering_tf_kernels_notop.h5",
        "base_params": params,
        "blocks": blocks,
        "min_size": 32,
    }
    groups = ("stem", "conv2", "conv3", "conv4", "conv5")
    return _keras(f"resnet{depth}", "keras_resnet", groups, application, (0.01, 1.001e-5))


def _keras_vgg(depth: int, convs: tuple[int, ...], params: int) -> Architecture:
    application = {
        "constructor": f"VGG{depth}",
        "preprocess_module": f"vgg{depth}",
        "weights_file": f"vgg{depth}_weights_tf_dim_ordering_tf_kernels_notop.h5",
        "base_params": params,
        "convs": convs,
        "min_size": 32,
    }
    return _keras(f"vgg{depth}", "keras_vgg", tuple(f"block{b}" for b in range(1, 6)), application, None)


def _keras_mobilenet(version: str, constructor: str, weights_file: str, params: int, blocks: int) -> Architecture:
    application = {
        "constructor": constructor,
        "preprocess_module": f"mobilenet_{version}",
        "weights_file": weights_file,  # Keras reads the 224 file for every input size but 96, 128, 160 and 192
        "base_params": params,
        "min_size": 32,
        "timm_model": "mobilenetv2_100" if version == "v2" else "tf_mobilenetv3_large_100",
    }
    if version == "v2":  # torchvision's vocabulary, as the Keras runner's MobileNetV2 has always named its groups
        groups: tuple[str, ...] = tuple(f"features.{index}" for index in range(blocks + 2))
    else:
        groups = ("stem", *(f"block_{index}" for index in range(blocks)), "top")
    name = "mobilenet_v2" if version == "v2" else "mobilenet_v3_large"
    return _keras(name, f"keras_mobilenet_{version}", groups, application, (0.001, 1e-3))


def _keras_efficientnet(variant: str, width: float, depth: float, params: int) -> Architecture:
    application = {
        "constructor": f"EfficientNet{variant.upper()}",
        "preprocess_module": "efficientnet",
        "weights_file": f"efficientnet{variant}_notop.h5",
        "base_params": params,
        "min_size": 32,
        "timm_model": f"tf_efficientnet_{variant}",
        "width_coefficient": width,
        "depth_coefficient": depth,
        "drop_connect_rate": 0.2,  # keras.applications' stochastic depth; model.dropout sets it (0 in suite parity)
    }
    groups = ("stem", *(f"block{stage}" for stage in range(1, 8)), "top")
    return _keras(f"efficientnet_{variant}", "keras_efficientnet", groups, application, (0.01, 1e-3))


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
    _resnet("resnet10", (1, 1, 1, 1), "basic_block", {}),
    _resnet("resnet18", (2, 2, 2, 2), "basic_block", {"IMAGENET1K_V1": "resnet18-f37072fd.pth"}),
    _resnet("resnet34", (3, 4, 6, 3), "basic_block", {"IMAGENET1K_V1": "resnet34-b627a593.pth"}),
    _resnet(
        "resnet50",
        (3, 4, 6, 3),
        "bottleneck_block",
        {"IMAGENET1K_V2": "resnet50-11ad3fa6.pth", "IMAGENET1K_V1": "resnet50-0676ba61.pth"},
    ),
    _keras_resnet(50, (3, 4, 6, 3), 23_587_712),
    _keras_resnet(101, (3, 4, 23, 3), 42_658_176),
    _keras_resnet(152, (3, 8, 36, 3), 58_370_944),
    _keras_vgg(16, (2, 2, 3, 3, 3), 14_714_688),
    _keras_vgg(19, (2, 2, 4, 4, 4), 20_024_384),
    _keras_mobilenet(
        "v2", "MobileNetV2", "mobilenet_v2_weights_tf_dim_ordering_tf_kernels_1.0_224_no_top.h5", 2_257_984, 17
    ),
    _keras_mobilenet("v3", "MobileNetV3Large", "weights_mobilenet_v3_large_224_1.0_float_no_top_v2.h5", 2_996_352, 15),
    _keras_efficientnet("b0", 1.0, 1.0, 4_049_571),
    _keras_efficientnet("b3", 1.2, 1.4, 10_783_535),
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


def keras_layout_names() -> tuple[str, ...]:
    """Catalog names in the keras.applications layout."""
    return tuple(entry.name for entry in CATALOG if entry.layout == "keras.applications")


def keras_twin(name: str) -> str | None:
    """``keras_<name>`` when the catalog has it in the keras.applications layout (the Keras twin of ``name``)."""
    twin = ARCHITECTURES.get(KERAS_PREFIX + name)
    return twin.name if twin is not None and twin.layout == "keras.applications" else None


def takes_stochastic_depth(name: str) -> bool:
    """True when ``model.dropout`` of ``name`` is its stochastic-depth rate (the entry declares a default one)."""
    entry = ARCHITECTURES.get(name)
    return entry is not None and "drop_connect_rate" in entry.options


def grayscale_names() -> tuple[str, ...]:
    """Catalog names that take 1-channel input."""
    return tuple(entry.name for entry in CATALOG if entry.grayscale)
