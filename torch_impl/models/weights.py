"""Starting weights: random, torchvision's published weights (through the normal cache) or a local file."""

from __future__ import annotations

import re
import urllib.error
from pathlib import Path
from typing import Any

import torch
from torch import nn
from torchvision.models import WeightsEnum, get_model_weights

_ENUM_MEMBER = re.compile(r"^[A-Z][A-Z0-9_]*$")
_AUX_PREFIXES = ("aux1.", "aux2.", "AuxLogits.")  # googlenet / inception_v3 auxiliary heads


def weights_kind(weights: str) -> str:
    """Classify a ``model.weights`` value: ``"none"``, ``"imagenet"``, ``"enum"`` (e.g. IMAGENET1K_V2) or ``"file"``."""
    if weights == "none":
        return "none"
    if weights == "imagenet":
        return "imagenet"
    if _ENUM_MEMBER.match(weights):
        return "enum"
    return "file"


def resolve_torchvision_weights(model_name: str, weights: str) -> WeightsEnum | None:
    """The torchvision weights enum member for ``weights`` ("imagenet" = DEFAULT), or None for random/file."""
    kind = weights_kind(weights)
    if kind in ("none", "file"):
        return None
    try:
        enum = get_model_weights(model_name)
    except (ValueError, KeyError) as exc:
        raise ValueError(f"torchvision publishes no weights for {model_name!r}") from exc
    member = "DEFAULT" if kind == "imagenet" else weights
    if member not in enum.__members__:
        valid = ", ".join(name for name in enum.__members__ if name != "DEFAULT")
        raise ValueError(f"{model_name!r} has no weights {weights!r}; valid: imagenet, {valid}")
    return enum[member]


def weights_cache_file(weights: WeightsEnum) -> Path:
    """Where torchvision looks for ``weights`` before downloading (``$TORCH_HOME/hub/checkpoints/<file>``)."""
    return Path(torch.hub.get_dir()) / "checkpoints" / Path(weights.url).name


def fetch_state_dict(weights: WeightsEnum) -> dict[str, torch.Tensor]:
    """Load published weights from the cache, downloading when possible; clear error when offline."""
    cached = weights_cache_file(weights)
    try:
        return weights.get_state_dict(progress=False, check_hash=False)
    except (urllib.error.URLError, OSError, ConnectionError) as exc:
        if cached.exists() and cached.stat().st_size > 0:
            raise
        cached.unlink(missing_ok=True)  # a failed download may leave an empty file behind
        raise RuntimeError(
            f"cannot download pretrained weights {weights} ({exc}). Expected file {cached.name!r} in the "
            f"torchvision cache {cached.parent} (set TORCH_HOME to move it). Copy the file from {weights.url} "
            "there on a machine with internet access, or set model.weights to a local .pth file."
        ) from exc


def load_local_state_dict(path: str | Path) -> dict[str, torch.Tensor]:
    """A state dict from a ``.pt``/``.pth`` file (also unwraps ``{"state_dict": ...}`` / ``{"model": ...}``)."""
    path = Path(path).expanduser()
    if not path.is_file():
        raise FileNotFoundError(f"weights file {path} does not exist")
    try:
        loaded: Any = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # garbage, a pickle with code, a truncated zip: one line naming the file
        raise ValueError(f"model.weights: {path} is not a readable PyTorch weights file: {_first_line(exc)}") from exc
    for key in ("state_dict", "model"):
        if isinstance(loaded, dict) and isinstance(loaded.get(key), dict):
            loaded = loaded[key]
    if not isinstance(loaded, dict):
        raise ValueError(f"{path} does not hold a state dict (got {type(loaded).__name__})")
    return loaded


def load_matching(module: nn.Module, state_dict: dict[str, torch.Tensor], head_prefixes: tuple[str, ...]) -> list[str]:
    """Load ``state_dict`` into ``module``, skipping head tensors whose shape differs.

    Every non-head tensor of ``module`` must be present with the right shape, and the file may hold
    no extra non-head tensors (e.g. a deeper network's blocks); torchvision's auxiliary
    classifiers are the one tolerated extra. Returns the keys left at their fresh initialisation.
    """
    own = module.state_dict()
    usable = {key: value for key, value in state_dict.items() if key in own and own[key].shape == value.shape}
    skipped = sorted(set(own) - set(usable))
    missing = [key for key in skipped if not key.startswith(head_prefixes)]
    extra = [key for key in state_dict if key not in own and not key.startswith((*head_prefixes, *_AUX_PREFIXES))]
    if missing or extra:
        shown = ", ".join((missing + extra)[:5]) + (" ..." if len(missing) + len(extra) > 5 else "")
        raise ValueError(
            f"weights do not fit this model: {len(missing)} tensor(s) missing or mis-shaped, "
            f"{len(extra)} unexpected ({shown})"
        )
    module.load_state_dict(usable, strict=False)
    return skipped


def _first_line(exc: BaseException) -> str:
    """The first line of the framework's message (they run to dozens of lines), with the exception's name."""
    lines = [line.strip() for line in str(exc).splitlines() if line.strip()]
    return f"{type(exc).__name__}: {lines[0][:300] if lines else ''}"
