"""The torch :class:`~suite.runners.protocol.TrainingSession`: one built model and the primitives the core drives.

The core owns the epoch loop, the learning-rate plan, batch order, timing and metrics; a session only acts:
make these groups trainable, set these learning rates, take one optimisation step, predict a batch.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from suite.architectures.catalog import architecture
from suite.plan import BuildRequest, TrainingPlan
from suite.runners.protocol import ParamCounts, TrainableSet
from suite.spec.models import SHARED_ARCHITECTURES
from torch_impl.data import DeviceBatch, DeviceFeed, batch_tensors, features_array, input_tensor
from torch_impl.efficiency import peak_memory_bytes, reset_peak_memory
from torch_impl.environment import environment
from torch_impl.feature_cache import prefix_model, suffix_model
from torch_impl.freezing import apply_trainable, configure_batchnorm, set_train_mode
from torch_impl.models import build_model
from torch_impl.models.shared import load_shared_weights, neutral_state
from torch_impl.optim import build_optimizer, set_learning_rates
from torch_impl.params import count_params
from torch_impl.peft import attach_lora, merge_lora, train_tuned_norms
from torch_impl.precision import resolve_numerics
from torch_impl.seeding import seed_framework
from torch_impl.shared_weights import SlotBinding, export_weights, load_weights, slot_bindings
from torch_impl.state import load_state, save_state, weights_finite
from torch_impl.steps import TrainSteps, train_steps


def _nothing() -> None:
    return None


class TorchSession:
    """Seeds torch, builds the requested model, applies the plan's settings and trains it step by step.

    The optimizer holds one param group per layer group (frozen ones included), so unfreezing a group keeps
    the state of the groups already training and starts the new one fresh on its first step.
    """

    def __init__(
        self, request: BuildRequest, plan: TrainingPlan, initial_weights: list[np.ndarray] | None = None
    ) -> None:
        self.plan = plan
        self._restore_flags = seed_framework(plan.seed, plan.execution.deterministic)
        try:
            self._build(request, initial_weights)
        except BaseException:
            self._restore_flags()
            raise

    def _build(self, request: BuildRequest, initial: list[np.ndarray] | None) -> None:
        plan = self.plan
        model = request.model
        deferred = initial is not None and model.weights != "none"  # the file loads over the shared draw
        first = model.model_copy(update={"weights": "none"}) if deferred else model
        self.built = build_model(first, request.input_shape, request.num_classes)
        if plan.groups != list(self.built.groups):
            raise ValueError(f"plan groups {plan.groups} differ from the model's {list(self.built.groups)}")
        configure_batchnorm(self.built.module, plan.batchnorm.momentum, plan.batchnorm.epsilon)
        self._model_name = request.model.name
        self._bindings: list[SlotBinding] | None = None
        if request.model.name in SHARED_ARCHITECTURES:
            self._bindings = slot_bindings(self.built, request.input_shape)
        if initial is not None:
            if self._bindings is None:
                raise ValueError(f"{request.model.name} has no neutral weight layout; shared init does not apply")
            load_weights(self._bindings, initial)
            if deferred:
                load_shared_weights(self.built, architecture(model.name), model.weights)
        attach_lora(self.built, plan.peft)
        self.numerics = resolve_numerics(plan.execution, self.built.module)
        self.built.module.to(self.numerics.device, self.numerics.float_dtype)
        if self.numerics.channels_last:
            self.built.module.to(memory_format=torch.channels_last)
        self.optimizer: torch.optim.Optimizer | None = None
        self._scaler = self.numerics.grad_scaler()
        self._trainable = TrainableSet(tuple(self.built.groups))
        self._modes_applied = False
        self._cached_groups: list[str] = []
        self._forward = self._compiled(self.built.module)
        self._steps: TrainSteps | None = None
        self.device_feed = DeviceFeed(self.numerics) if self.numerics.device.type == "cuda" else None

    def _compiled(self, module: nn.Module) -> nn.Module:
        return torch.compile(module) if self.plan.execution.compile else module

    def synchronize(self) -> None:
        """Wait for queued device work (a no-op on the CPU)."""
        self.numerics.synchronize()

    def begin_phase(self, trainable: TrainableSet, rates: dict[str, float]) -> None:
        """Apply ``trainable`` and start a fresh optimizer with one param group per layer group at ``rates``."""
        self.set_trainable(trainable)
        self.optimizer = build_optimizer(self.plan.optimizer, self.built, rates)
        self._scaler = self.numerics.grad_scaler()
        self._steps = None

    def set_trainable(self, trainable: TrainableSet) -> None:
        """Toggle ``requires_grad`` per group (the optimizer and its state stay)."""
        apply_trainable(self.built, trainable, self.plan.peft)
        self._trainable = trainable
        self._modes_applied = False

    def set_learning_rates(self, rates: dict[str, float]) -> None:
        """Set each layer group's learning rate (from the next step on)."""
        set_learning_rates(self._require_optimizer(), rates)

    def train_step(self, inputs: np.ndarray | DeviceBatch, labels: np.ndarray) -> tuple[float, int]:
        """One optimisation step in training mode: (mean loss, correctly classified count).

        ``labels`` are (N,) class indices or (N, C) class probabilities (mixup/CutMix): cross-entropy against
        them, and "correct" compares the arg-maxes.
        """
        optimizer = self._require_optimizer()
        self._apply_train_modes()
        x, y = batch_tensors(inputs, labels, self.numerics, nhwc=not self._cached_groups)
        if self._steps is None:
            clip = self.plan.optimizer.grad_clip
            self._steps = train_steps(self._forward, self.built.module, optimizer, self._scaler, self.numerics, clip)
        return self._steps.run(x, y)

    def predict(self, inputs: np.ndarray | DeviceBatch) -> np.ndarray:
        """Inference-mode float32 logits (N, C) for raw inputs, or for cached features while the cache is on."""
        self._eval_mode()
        with torch.no_grad(), self.numerics.autocast():
            logits = self._forward(input_tensor(inputs, self.numerics, nhwc=not self._cached_groups))
        return features_array(logits)

    def prefix_features(self, groups: list[str], inputs: np.ndarray | DeviceBatch) -> np.ndarray:
        """Output of the leading ``groups`` in inference mode, as float32 numpy (NCHW for feature maps)."""
        prefix = prefix_model(self.built, groups)
        self._eval_mode()
        with torch.no_grad(), self.numerics.autocast():
            return features_array(prefix(input_tensor(inputs, self.numerics)))

    def use_prefix_cache(self, groups: list[str] | None) -> None:
        """Train and predict on :meth:`prefix_features` outputs of ``groups`` (None: on raw inputs again)."""
        self._steps = None
        if not groups:
            self._cached_groups, self._forward = [], self._compiled(self.built.module)
            return
        self._cached_groups, self._forward = list(groups), self._compiled(suffix_model(self.built, groups))

    def reset_peak_memory(self) -> bool:
        """Reset the CUDA allocator's peak (False on the CPU: the core measures the resident set)."""
        return reset_peak_memory(self.numerics.device)

    def peak_memory_bytes(self) -> int | None:
        """The CUDA allocator's peak since :meth:`reset_peak_memory` (None on the CPU)."""
        return peak_memory_bytes(self.numerics.device)

    def prepare_for_inference(self) -> bool:
        """Merge the LoRA adapters into the base weights for the test pass; True when there were any."""
        return merge_lora(self.built)

    def snapshot(self) -> dict[str, torch.Tensor]:
        """A detached copy of every weight and buffer."""
        return {key: value.detach().clone() for key, value in self.built.module.state_dict().items()}

    def restore(self, snapshot: dict[str, torch.Tensor]) -> None:
        """Put back the weights of :meth:`snapshot`."""
        self.built.module.load_state_dict(snapshot)

    def save_checkpoint(self, directory: Path, name: str) -> Path:
        """Write ``directory/name.pt`` holding ``{"state_dict"}``; loadable again as ``model.weights = path``."""
        directory.mkdir(parents=True, exist_ok=True)
        path = directory / f"{name}.pt"
        torch.save({"state_dict": neutral_state(self.built)}, path)
        return path

    def save_state(self, directory: Path, snapshots: dict[str, Any]) -> None:
        """Write weights, buffers, optimizer, loss scaler, torch's RNG states and ``snapshots`` (one ``state.pt``)."""
        save_state(directory, self.built.module, self.optimizer, self._scaler, snapshots)

    def load_state(self, directory: Path) -> dict[str, Any]:
        """Put back what :meth:`save_state` wrote (after ``begin_phase``); returns its snapshots."""
        snapshots = load_state(directory, self.built.module, self.optimizer, self._scaler, self.numerics.device)
        self._modes_applied = False
        return snapshots

    def weights_finite(self) -> bool:
        """True when every parameter and floating-point buffer is finite."""
        return weights_finite(self.built.module)

    def export_weights(self) -> list[np.ndarray]:
        """Learnable weights and BatchNorm statistics in the neutral layout, in ``init_slots`` order."""
        if self._bindings is None:
            raise ValueError(f"{self._model_name} has no neutral weight layout")
        return export_weights(self._bindings)

    def param_counts(self) -> ParamCounts:
        """Counts in the current trainable state."""
        return count_params(self.built)

    def details(self) -> dict[str, Any]:
        """Numerics and threading facts for result.json."""
        return {
            "precision": self.numerics.precision,
            "channels_last": self.numerics.channels_last,
            "compile": self.plan.execution.compile,
            "torch_threads": torch.get_num_threads(),
            "device": str(self.numerics.device),
            "device_feed": self.device_feed is not None,
            "weights_fingerprint": self.built.weights_fingerprint,
        }

    def environment(self) -> dict[str, Any]:
        """Machine facts, torch/torchvision versions, the device and the GPU name."""
        return environment(self.numerics.device)

    def close(self) -> None:
        """Drop the optimizer, restore the global determinism flags, release cached device memory."""
        self.optimizer = self._steps = None
        if self.device_feed is not None:
            self.device_feed.release()
        self._restore_flags()
        self._restore_flags = _nothing
        if self.numerics.device.type == "cuda":
            torch.cuda.empty_cache()

    def _require_optimizer(self) -> torch.optim.Optimizer:
        if self.optimizer is None:
            raise RuntimeError("begin_phase must be called before training")
        return self.optimizer

    def _apply_train_modes(self) -> None:
        if not self._modes_applied:
            trainable = self._trainable
            set_train_mode(self.built, trainable.groups, trainable.frozen_bn_inference, trainable.last_layers)
            if self.plan.peft:
                train_tuned_norms(self.built)
            self._modes_applied = True

    def _eval_mode(self) -> None:
        self.built.module.eval()
        self._modes_applied = False
