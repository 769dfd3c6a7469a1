"""Loss, accuracy and probabilities from logits, computed once for every backend (float64, stable)."""

from __future__ import annotations

import numpy as np

from suite.runners.protocol import TrainingSession
from suite.timing import ThroughputMeter
from suite.training.batches import ArrayInputs, session_batches


def log_softmax(logits: np.ndarray) -> np.ndarray:
    """Row-wise log-softmax in float64."""
    shifted = logits.astype(np.float64) - logits.max(axis=1, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))


def evaluate_logits(logits: np.ndarray, labels: np.ndarray) -> tuple[float, float]:
    """(mean cross-entropy, accuracy) of ``logits`` (N, C) against integer ``labels``."""
    log_probs = log_softmax(logits)
    loss = float(-log_probs[np.arange(len(labels)), labels].mean())
    return loss, float((logits.argmax(axis=1) == labels).mean())


def probabilities(logits: np.ndarray) -> np.ndarray:
    """Softmax probabilities as float32."""
    return np.exp(log_softmax(logits)).astype(np.float32)


def predict_all(
    session: TrainingSession, inputs: ArrayInputs, batch_size: int, meter: ThroughputMeter | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Logits for every sample of ``inputs`` in stored order, optionally timed batch by batch.

    A device feed may pad the last batch to ``batch_size`` rows (one compiled shape); its extra logits are dropped.
    """
    outputs, labels = [], []
    for batch, batch_labels in session_batches(session, inputs, batch_size):
        if meter is not None:
            meter.start_batch()
        outputs.append(np.asarray(session.predict(batch), dtype=np.float32)[: len(batch_labels)])
        if meter is not None:
            meter.end_batch(len(batch_labels))
        labels.append(batch_labels)
    return np.concatenate(outputs), np.concatenate(labels)
