"""The visible training loop: one function trains an epoch, one evaluates a split."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn
from torch.optim import Optimizer

from suite.runners.progress import ProgressReporter
from suite.timing import ThroughputMeter
from torch_impl.data import Batch
from torch_impl.precision import Numerics
from torch_impl.tensorboard import TensorBoardLogger


@dataclass
class StepContext:
    """Everything one optimisation step needs; ``global_step`` counts steps across epochs and phases."""

    model: nn.Module
    optimizer: Optimizer
    numerics: Numerics
    meter: ThroughputMeter
    progress: ProgressReporter
    grad_clip: float | None = None
    scaler: torch.amp.GradScaler | None = None
    logger: TensorBoardLogger | None = None
    global_step: int = 0


def _backward_and_step(context: StepContext, loss: torch.Tensor) -> None:
    optimizer, scaler = context.optimizer, context.scaler
    if scaler is not None:
        scaler.scale(loss).backward()
        if context.grad_clip is not None:
            scaler.unscale_(optimizer)
            nn.utils.clip_grad_norm_(context.model.parameters(), context.grad_clip)
        scaler.step(optimizer)
        scaler.update()
        return
    loss.backward()
    if context.grad_clip is not None:
        nn.utils.clip_grad_norm_(context.model.parameters(), context.grad_clip)
    optimizer.step()


def train_one_epoch(context: StepContext, batches: Iterable[Batch]) -> tuple[float, float]:
    """One pass over ``batches``; returns (mean loss, accuracy) over the samples seen in training mode."""
    loss_sum = torch.zeros((), dtype=torch.float64, device=context.numerics.device)
    correct = torch.zeros((), dtype=torch.int64, device=context.numerics.device)
    seen = 0
    for batch_index, (inputs, labels) in enumerate(batches, start=1):
        context.meter.start_batch()
        context.optimizer.zero_grad(set_to_none=True)
        with context.numerics.autocast():
            logits = context.model(inputs)
        loss = F.cross_entropy(logits.float(), labels)
        _backward_and_step(context, loss)
        context.meter.end_batch(len(labels))
        context.global_step += 1
        loss_sum += loss.detach() * len(labels)
        correct += (logits.detach().argmax(dim=1) == labels).sum()
        seen += len(labels)
        if context.logger is not None:
            context.logger.train_step(context.global_step, loss)
        context.progress.batch_end(batch_index)
    return float(loss_sum) / max(seen, 1), float(correct) / max(seen, 1)


@torch.no_grad()
def evaluate(
    model: nn.Module, batches: Iterable[Batch], numerics: Numerics, meter: ThroughputMeter | None = None
) -> tuple[float, float, np.ndarray, np.ndarray]:
    """Eval-mode pass: (mean loss, accuracy, softmax probabilities (N, C), labels (N,))."""
    was_training = model.training
    model.eval()
    losses, scores, labels_seen = [], [], []
    for inputs, labels in batches:
        if meter is not None:
            meter.start_batch()
        with numerics.autocast():
            logits = model(inputs)
        logits = logits.float()
        losses.append(F.cross_entropy(logits, labels, reduction="sum"))
        scores.append(torch.softmax(logits, dim=1))
        labels_seen.append(labels)
        if meter is not None:
            meter.end_batch(len(labels))
    model.train(was_training)
    all_scores = torch.cat(scores).cpu().numpy()
    all_labels = torch.cat(labels_seen).cpu().numpy()
    loss = float(torch.stack(losses).sum()) / len(all_labels)
    accuracy = float((all_scores.argmax(axis=1) == all_labels).mean())
    return loss, accuracy, all_scores, all_labels
