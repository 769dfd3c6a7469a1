"""One optimizer step per batch: the torch session's training step (``keras_impl.steps`` is the same job in Keras).

Forward under the plan's autocast, cross-entropy in float32 against class indices or (mixup/CutMix) class
probabilities, backward through the AMP grad scaler when there is one, torch's ``clip_grad_norm_`` when the plan
clips, then the optimizer's step. Parameters change in place, so :meth:`TrainSteps.flush` has nothing to do; the
session makes a new driver whenever its forward, optimizer or scaler changes.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from torch_impl.precision import Numerics


@dataclass(frozen=True)
class TrainSteps:
    """Training steps of ``forward`` (the model, or its suffix under the feature cache) with ``optimizer``.

    ``module``'s gradients are clipped to ``clip`` when it is set; ``scaler`` is the AMP grad scaler, if any.
    """

    forward: Callable[[torch.Tensor], torch.Tensor]
    module: nn.Module
    optimizer: torch.optim.Optimizer
    scaler: torch.amp.GradScaler | None
    numerics: Numerics
    clip: float | None

    def run(self, inputs: torch.Tensor, labels: torch.Tensor) -> tuple[float, int]:
        """One optimizer step on (``inputs``, ``labels``): (mean loss, correctly classified count) of this batch."""
        self.optimizer.zero_grad(set_to_none=True)
        with self.numerics.autocast():
            logits = self.forward(inputs)
        loss = F.cross_entropy(logits.float(), labels)
        self._backward_and_step(loss)
        targets = labels if labels.dim() == 1 else labels.argmax(dim=1)
        correct = (logits.detach().argmax(dim=1) == targets).sum()
        return float(loss.detach()), int(correct)

    def flush(self) -> None:
        """Bring the parameters up to date with the steps made (torch steps in place: nothing to do)."""

    def _backward_and_step(self, loss: torch.Tensor) -> None:
        optimizer, scaler = self.optimizer, self.scaler
        if scaler is not None:
            scaler.scale(loss).backward()
            if self.clip is not None:
                scaler.unscale_(optimizer)
                nn.utils.clip_grad_norm_(self.module.parameters(), self.clip)
            scaler.step(optimizer)
            scaler.update()
            return
        loss.backward()
        if self.clip is not None:
            nn.utils.clip_grad_norm_(self.module.parameters(), self.clip)
        optimizer.step()


train_steps = TrainSteps
"""The step driver for the session's current forward, optimizer and scaler: one kind on torch (Keras picks one per
engine, ``keras_impl.steps.train_steps``)."""
