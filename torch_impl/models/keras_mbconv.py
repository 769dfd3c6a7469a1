"""The torch twins of keras.applications' MobileNetV2, MobileNetV3Large and EfficientNetB0 / B3: timm's networks.

timm builds each of them as TensorFlow does (its ``tf_`` ports, and ``mobilenetv2_100`` with ``pad_type="same"``
and epsilon 1e-3): TF's asymmetric 'same' padding of stride-2 convolutions is what Keras' ``ZeroPadding2D``
(``correct_pad``) + 'valid' computes. This module cuts timm's network into the catalog's groups, registers each
weighted layer under its Keras layer's name (timm's code keeps reaching it by its own attribute name), puts Keras'
preprocessing layers in front (``Rescaling``, ``Normalization``), leaves out what Keras keeps in its top
(MobileNetV3's 960 -> 1280 ``conv_2``) and lets BatchNorm update its running variance as Keras does.
Stochastic depth (EfficientNet's drop-connect, ``model.dropout``) is timm's ``DropPath``: the same rate per block
as Keras, its random masks drawn by torch.
"""

from __future__ import annotations

import functools
import math
from collections import OrderedDict
from collections.abc import Sequence
from typing import Any

import numpy as np
import torch
from torch import nn

from suite.architectures.catalog import Architecture
from suite.architectures.convert_keras_efficientnet import NORMALIZATION
from suite.architectures.keras_layout import KerasLayer, keras_layers
from suite.spec.models import ModelSpec
from torch_impl.models.batchnorm import keras_batch_norm
from torch_impl.models.keras_layout import register_twin, staged

IMAGENET_STDDEV_RGB = (0.229, 0.224, 0.225)
"""keras.applications.efficientnet's; its ``rescaling_1`` multiplies channel c by 1 / sqrt(std[c])."""
KERAS_EPSILON = 1e-7
"""``keras.backend.epsilon()``: the floor of Normalization's standard deviation."""


class Rescaling(nn.Module):
    """``keras.layers.Rescaling``: ``x * scale + offset``, the scale one number or one per channel; no weights.

    The numbers are float32 whatever the input's precision, as Keras on TensorFlow makes them (the Python numbers
    become float32 tensors before the cast to the input's dtype).
    """

    def __init__(self, scale: float | Sequence[float], offset: float = 0.0) -> None:
        super().__init__()
        self.scale = tuple(float(np.float32(value)) for value in (scale if isinstance(scale, Sequence) else (scale,)))
        self.offset = float(np.float32(offset))

    def forward(self, inputs: torch.Tensor) -> torch.Tensor:  # noqa: D102
        scale = torch.tensor(self.scale, dtype=inputs.dtype, device=inputs.device).view(1, -1, 1, 1)
        return inputs * scale + self.offset


class Normalization(nn.Module):
    """``keras.layers.Normalization`` over channels: ``(x - mean) / max(sqrt(variance), 1e-7)``.

    Its three arrays (Keras' ``mean``, ``variance``, ``count``) are float buffers, so the torch runner counts its
    7 numbers as Keras does; none is trained.
    """

    def __init__(self, channels: int) -> None:
        super().__init__()
        self.register_buffer(NORMALIZATION[0], torch.zeros(channels))
        self.register_buffer(NORMALIZATION[1], torch.ones(channels))
        self.register_buffer(NORMALIZATION[2], torch.zeros(()))

    def forward(self, inputs: torch.Tensor) -> torch.Tensor:  # noqa: D102
        deviation = torch.clamp_min(torch.sqrt(self.variance), KERAS_EPSILON)
        return (inputs - self.mean.view(1, -1, 1, 1)) / deviation.view(1, -1, 1, 1)


@functools.cache
def _keras_batchnorm_act() -> type[nn.Module]:
    """Timm's ``BatchNormAct2d`` with Keras' running-variance update (a class made once timm is imported)."""
    from timm.layers import BatchNormAct2d

    class KerasBatchNormAct2d(BatchNormAct2d):
        """timm's BatchNorm + activation whose running variance takes the biased batch variance, as Keras'."""

        def forward(self, inputs: torch.Tensor) -> torch.Tensor:  # noqa: D102
            if not (self.training and self.track_running_stats):
                return super().forward(inputs)
            return self.act(self.drop(keras_batch_norm(self, inputs)))

    return KerasBatchNormAct2d


def _timm_network(arch: Architecture, spec: ModelSpec) -> Any:
    """Timm's ``arch.options["timm_model"]`` with TF padding, the network's BatchNorm and stochastic depth."""
    try:
        import timm
    except ImportError as error:
        raise ImportError(f"{arch.name} is built from timm in torch: pip install 'tlbench[torch]' (timm)") from error
    rate = arch.options.get("drop_connect_rate", 0.0) if spec.dropout is None else spec.dropout
    network = timm.create_model(
        arch.options["timm_model"],
        pretrained=False,
        num_classes=0,
        global_pool="",
        pad_type="same",
        bn_momentum=spec.bn_momentum,
        bn_eps=spec.bn_epsilon,
        drop_path_rate=rate,
    )
    keras_rule = _keras_batchnorm_act()
    for module in network.modules():
        if type(module) is keras_rule.__base__:
            module.__class__ = keras_rule  # the same module, Keras' update of the running variance in training
    return network


def _blocks(network: Any) -> list[nn.Module]:
    return [block for stage in network.blocks for block in stage]


def _rename(parent: nn.Module, attribute: str, name: str) -> None:
    """Register ``parent``'s child ``attribute`` under ``name`` in place; ``parent.<attribute>`` still reaches it."""
    if attribute == name:
        return
    child = parent._modules[attribute]
    children = [(name if key == attribute else key, module) for key, module in parent._modules.items()]
    parent._modules.clear()
    parent._modules.update(children)
    object.__setattr__(parent, attribute, child)  # timm's forward reads self.<attribute>: a plain alias, not a child


def _fits(layer: KerasLayer, module: nn.Module) -> bool:
    """Whether ``module`` is the kind of layer the declaration says."""
    if layer.kind == "bn":
        return isinstance(module, nn.BatchNorm2d)
    if layer.kind == "plain":
        return isinstance(module, Normalization)
    if not isinstance(module, nn.Conv2d):
        return False
    depthwise = module.groups > 1 and module.groups == module.in_channels == module.out_channels
    return depthwise == layer.kind.startswith("depthwise") and (module.bias is not None) == layer.kind.endswith("bias")


def _keras_named(arch: Architecture, body: OrderedDict[str, nn.Module]) -> OrderedDict[str, nn.Module]:
    """``body`` with each weighted layer registered under its Keras layer's name (both lists in forward order)."""
    declared = [layer for layer in keras_layers(arch) if layer.weighted]
    container = staged(body)
    weighted = [
        (path, module)
        for path, module in container.named_modules()
        if any(True for _ in module.parameters(recurse=False)) or any(True for _ in module.buffers(recurse=False))
    ]
    if len(weighted) != len(declared):
        raise ValueError(f"{arch.name}: timm's network has {len(weighted)} weighted layers, Keras {len(declared)}")
    for layer, (path, module) in zip(declared, weighted, strict=True):
        if not _fits(layer, module):
            raise ValueError(f"{arch.name}: torch layer {path} ({type(module).__name__}) is not Keras' {layer.name}")
        parent, _, attribute = path.rpartition(".")
        _rename(container.get_submodule(parent), attribute, layer.name)
    return body


@register_twin("keras_mobilenet_v2")
def mobilenet_v2_twin(arch: Architecture, spec: ModelSpec) -> OrderedDict[str, nn.Module]:
    """``features.0`` .. ``features.18``: timm's ``mobilenetv2_100`` with TF padding and epsilon."""
    network = _timm_network(arch, spec)
    layers = [
        nn.Sequential(network.conv_stem, network.bn1),
        *_blocks(network),
        nn.Sequential(network.conv_head, network.bn2),
    ]
    body = OrderedDict((f"features.{index}", layer) for index, layer in enumerate(layers))
    return _keras_named(arch, body)


@register_twin("keras_mobilenet_v3")
def mobilenet_v3_twin(arch: Architecture, spec: ModelSpec) -> OrderedDict[str, nn.Module]:
    """``stem`` (with Keras' ``Rescaling(1 / 127.5, offset=-1)``), ``block_0`` .. ``block_14``, ``top``.

    timm's ``tf_mobilenetv3_large_100``; its last block (160 -> 960) is Keras' ``conv_1`` and ends the base: the
    960 -> 1280 ``conv_head`` belongs to Keras' top and is left out.
    """
    network = _timm_network(arch, spec)
    *blocks, last = _blocks(network)
    body: OrderedDict[str, nn.Module] = OrderedDict(
        stem=nn.Sequential(Rescaling(1.0 / 127.5, -1.0), network.conv_stem, network.bn1)
    )
    body.update((f"block_{index}", block) for index, block in enumerate(blocks))
    body["top"] = last
    return _keras_named(arch, body)


@register_twin("keras_efficientnet")
def efficientnet_twin(arch: Architecture, spec: ModelSpec) -> OrderedDict[str, nn.Module]:
    """``stem``, ``block1`` .. ``block7``, ``top``: timm's ``tf_efficientnet_b<n>``.

    The stem starts with Keras' preprocessing: ``Rescaling(1 / 255)``, ``Normalization`` and ImageNet's
    ``rescaling_1``.
    """
    network = _timm_network(arch, spec)
    preprocessing = (
        Rescaling(1.0 / 255.0),
        Normalization(3),
        Rescaling([1.0 / math.sqrt(deviation) for deviation in IMAGENET_STDDEV_RGB]),
    )
    body: OrderedDict[str, nn.Module] = OrderedDict(stem=nn.Sequential(*preprocessing, network.conv_stem, network.bn1))
    body.update((f"block{stage}", blocks) for stage, blocks in enumerate(network.blocks, start=1))
    body["top"] = nn.Sequential(network.conv_head, network.bn2)
    return _keras_named(arch, body)
