"""keras.applications models not yet in the catalog's keras layout, as data: one row per model, group rules per family.

Named ``keras_<name>`` as the catalog's keras-layout entries (:mod:`suite.architectures.keras_layout`), which replace
these rows family by family (a row whose name the catalog declares is not registered from here).

Each row names the ``keras.applications`` constructor, the module whose ``preprocess_input``
matches it, the resolution it was trained at, its ImageNet ``include_top=False`` weight file
(as ``keras.applications`` names it in its cache), the published parameter count of that
headless base at any input size (Keras convention: BatchNorm moving statistics included) and the
dropout of its default head (GAP + Dropout + Dense, as the torchvision model of the same name).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

# (regex on the Keras layer name, group name: a template filled with the regex groups, or a function of
# the match). Layers that match no rule (auto-named activations such as ``re_lu_7``) join the group of the
# layer before them.
GroupRules = tuple[tuple[str, str | Callable[[re.Match[str]], str]], ...]

GROUP_RULES: dict[str, GroupRules] = {
    # torchvision's vocabulary and grouping: features.0 = stem conv, features.1 = the first (t=1) block,
    # features.{k+1} = Keras' block_k, features.18 = the final 1x1 conv.
    "mobilenet_v2": (
        (r"^(Conv1|bn_Conv1|Conv1_relu)$", "features.0"),
        (r"^expanded_conv_", "features.1"),
        (r"^block_(\d+)_", lambda match: f"features.{int(match.group(1)) + 1}"),
        (r"^(Conv_1|Conv_1_bn|out_relu)$", "features.18"),
    ),
    "mobilenet_v3": (
        (r"^(rescaling|conv|conv_bn)$", "stem"),
        (r"^expanded_conv_(\d+)_", "block_{0}"),
        (r"^expanded_conv_", "block_0"),
        (r"^(conv_1|conv_1_bn)$", "top"),
    ),
    "efficientnet": (
        (r"^(rescaling|normalization|stem_)", "stem"),
        (r"^block(\d)[a-z]_", "block{0}"),
        (r"^top_", "top"),
    ),
}


@dataclass(frozen=True)
class ApplicationModel:
    """One keras.applications model: where it lives and what it expects."""

    name: str
    constructor: str
    preprocess_module: str
    family: str
    default_size: int
    weights_file: str
    base_params: int
    head_dropout: float = 0.0

    def weights_file_for(self, image_size: int) -> str:
        """ImageNet no-top weight file name keras.applications downloads for inputs of ``image_size``."""
        rows = image_size if image_size in (96, 128, 160, 192, 224) else 224
        return self.weights_file.format(rows=rows)


APPLICATIONS: tuple[ApplicationModel, ...] = (
    ApplicationModel(
        "keras_efficientnet_b0",
        "EfficientNetB0",
        "efficientnet",
        "efficientnet",
        224,
        "efficientnetb0_notop.h5",
        4_049_571,
    ),
    ApplicationModel(
        "keras_efficientnet_b3",
        "EfficientNetB3",
        "efficientnet",
        "efficientnet",
        300,
        "efficientnetb3_notop.h5",
        10_783_535,
    ),
    ApplicationModel(
        "keras_mobilenet_v2",
        "MobileNetV2",
        "mobilenet_v2",
        "mobilenet_v2",
        224,
        "mobilenet_v2_weights_tf_dim_ordering_tf_kernels_1.0_{rows}_no_top.h5",
        2_257_984,
        head_dropout=0.2,  # torchvision's classifier: Dropout(0.2) + Linear
    ),
    ApplicationModel(
        "keras_mobilenet_v3_large",
        "MobileNetV3Large",
        "mobilenet_v3",
        "mobilenet_v3",
        224,
        "weights_mobilenet_v3_large_224_1.0_float_no_top_v2.h5",
        2_996_352,
    ),
)


def application(name: str) -> ApplicationModel:
    """The keras.applications row of ``name``; ValueError naming the rows otherwise."""
    for app in APPLICATIONS:
        if app.name == name:
            return app
    known = ", ".join(app.name for app in APPLICATIONS)
    raise ValueError(f"{name!r} has no published keras.applications weights; models with them: {known}")
