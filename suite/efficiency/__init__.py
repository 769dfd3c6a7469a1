"""What a run costs, defined once: compute, memory, latency and size (``result.json`` ``efficiency``).

Owns the definitions every backend reports through, in the worker process next to :mod:`suite.timing`:

- :mod:`suite.efficiency.flops`: forward FLOPs per image from the runner's per-layer costs, and FLOPs per
  training image under the run's freezing (the analytic rule, one for every backend).
- :mod:`suite.efficiency.state`: the analytic bytes of trainable parameters, gradients and optimizer state.
- :mod:`suite.efficiency.memory`: peak training memory (allocator peak on an accelerator, resident-set
  high-water mark on the CPU).
- :mod:`suite.efficiency.latency`: batch-1 latency and batch-N throughput of the final model.
- :mod:`suite.efficiency.measure`: those measurements and the weights file's size, taken after the test pass.
- :mod:`suite.efficiency.record`: the ``efficiency`` section of ``result.json`` (with :data:`EFFICIENCY_VERSION`).
- :mod:`suite.efficiency.describe`: the costs ``suite describe`` prints (no training).

Nothing here imports a framework; runners supply layer costs (``ModelDescription.layer_costs``) and, on an
accelerator, the allocator's peak (``TrainingSession.peak_memory_bytes``).
"""

from __future__ import annotations

from suite.efficiency.flops import FLOP_CONVENTION, forward_flops, plan_train_flops, train_flops
from suite.efficiency.record import VERSION as EFFICIENCY_VERSION
from suite.efficiency.record import RunCosts, efficiency_record, not_measured
from suite.efficiency.state import trainable_state_bytes

__all__ = [
    "EFFICIENCY_VERSION",
    "FLOP_CONVENTION",
    "RunCosts",
    "efficiency_record",
    "not_measured",
    "forward_flops",
    "plan_train_flops",
    "train_flops",
    "trainable_state_bytes",
]
