"""Trainable-parameter counts of each PEFT method, computed by hand from the architectures (not from a model).

Shared by the torch and Keras tests, so both frameworks are checked against the same numbers. Every method
freezes every group but the head, which trains fully. LoRA rank r adds r * (c_in * k * k + c_out) to a k x k
convolution and r * (in + out) to a linear layer; depthwise convolutions get none.
"""

from __future__ import annotations

METHODS = {
    "linear_probe": {"freeze": "all_but_head"},
    "bitfit": {"freeze": "all_but_head", "train_only": ["bias"]},
    "norm": {"freeze": "all_but_head", "train_only": ["norm"]},
    "bias_norm": {"freeze": "all_but_head", "train_only": ["bias", "norm"]},
    "lora8": {"freeze": "all_but_head", "lora": {"rank": 8, "alpha": 16}},
}

# (expansion t, output channels c, repeats n) of MobileNetV2's inverted residual blocks (strides do not matter).
_MOBILENET_V2_BLOCKS = [(1, 16, 1), (6, 24, 2), (6, 32, 3), (6, 64, 4), (6, 96, 3), (6, 160, 3), (6, 320, 1)]


def _linear(fan_in: int, fan_out: int) -> int:
    return fan_in * fan_out + fan_out


def _mobilenet_v2_layers() -> tuple[list[tuple[int, int, int]], list[int]]:
    """Plain (non-depthwise) convolutions as (c_in, c_out, k) and the BatchNorm channel counts."""
    convs, norms = [(3, 32, 3)], [32]
    c_in = 32
    for t, c_out, n in _MOBILENET_V2_BLOCKS:
        for _ in range(n):
            hidden = c_in * t
            if t != 1:
                convs.append((c_in, hidden, 1))
                norms.append(hidden)
            norms.append(hidden)  # the depthwise 3x3's BatchNorm (the depthwise conv itself has no LoRA, no bias)
            convs.append((hidden, c_out, 1))
            norms.append(c_out)
            c_in = c_out
    convs.append((320, 1280, 1))
    norms.append(1280)
    return convs, norms


def expected_trainable(model: str, method: str, classes: int = 10) -> int:
    """Hand count of trainable parameters: mlp and simple_cnn on 8x8x1, (keras_)mobilenet_v2 on 32x32x3."""
    rank = 8
    if model == "mlp":  # 64 -> 128 -> 64 -> classes, linear layers with biases, no norms
        head = _linear(64, classes)
        extra = {"bitfit": 128 + 64, "norm": 0, "bias_norm": 128 + 64, "lora8": rank * (64 + 128) + rank * (128 + 64)}
    elif model == "simple_cnn":  # conv3x3 1->32, conv3x3 32->64, dense 64*2*2 -> 512
        head = _linear(512, classes)
        lora = rank * (1 * 9 + 32) + rank * (32 * 9 + 64) + rank * (256 + 512)
        extra = {"bitfit": 32 + 64 + 512, "norm": 0, "bias_norm": 32 + 64 + 512, "lora8": lora}
    elif model in ("mobilenet_v2", "keras_mobilenet_v2"):  # bias-free convolutions, each followed by BatchNorm
        head = _linear(1280, classes)
        convs, norms = _mobilenet_v2_layers()
        lora = sum(rank * (c_in * k * k + c_out) for c_in, c_out, k in convs)
        extra = {"bitfit": sum(norms), "norm": 2 * sum(norms), "bias_norm": 2 * sum(norms), "lora8": lora}
    else:
        raise KeyError(model)
    extra["linear_probe"] = 0
    return head + extra[method]


def test_the_hand_counts_themselves() -> None:
    assert expected_trainable("mlp", "lora8") == 650 + 3072
    assert expected_trainable("simple_cnn", "lora8") == 5130 + 328 + 2816 + 6144
    convs, norms = _mobilenet_v2_layers()
    assert len(convs) == 1 + 1 + 16 * 2 + 1 and sum(norms) == 17056  # torchvision: 34,112 BN params = 2 x 17,056
