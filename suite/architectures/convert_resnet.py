"""ResNet (torchvision v1.5 / timm ``resnetNN``) between torchvision's names and KerasHub's ResNetBackbone names.

KerasHub names the stem ``conv1_conv`` / ``conv1_bn`` and block ``j`` of stage ``i`` ``stack{i}_block{j}_{n}_conv``
/ ``_{n}_bn`` (``n`` = 0 for the downsample shortcut); the classifier is the suite's Dense ``logits``
(torchvision's ``fc``). The pairs follow torchvision's state-dict order, which is also its forward order.
"""

from __future__ import annotations

from suite.architectures.catalog import Architecture
from suite.architectures.convert import LayerPair

STAGE_STRIDES = (1, 2, 2, 2)


def _block(stage: int, index: int, convs: int, downsample: bool) -> list[LayerPair]:
    torch_name, keras_name = f"layer{stage + 1}.{index}", f"stack{stage}_block{index}"
    pairs = []
    for n in range(1, convs + 1):
        pairs.append(LayerPair(f"{torch_name}.conv{n}", f"{keras_name}_{n}_conv", "conv"))
        pairs.append(LayerPair(f"{torch_name}.bn{n}", f"{keras_name}_{n}_bn", "bn"))
    if downsample:
        pairs.append(LayerPair(f"{torch_name}.downsample.0", f"{keras_name}_0_conv", "conv"))
        pairs.append(LayerPair(f"{torch_name}.downsample.1", f"{keras_name}_0_bn", "bn"))
    return pairs


def layer_table(arch: Architecture) -> list[LayerPair]:
    """Every weighted layer of ``arch`` (stem, blocks, classifier) in torchvision's order."""
    bottleneck = arch.options["block"] == "bottleneck_block"
    pairs = [LayerPair("conv1", "conv1_conv", "conv"), LayerPair("bn1", "conv1_bn", "bn")]
    for stage, count in enumerate(arch.options["blocks"]):
        for index in range(count):
            downsample = index == 0 and (bottleneck or STAGE_STRIDES[stage] != 1)
            pairs += _block(stage, index, 3 if bottleneck else 2, downsample)
    pairs.append(LayerPair("fc", "logits", "dense", head=True))
    return pairs
