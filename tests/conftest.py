"""Session-wide test setup.

Runs never share a process (the executor starts one worker per run), but pytest imports every test
module into one process. There, importing torchvision *after* TensorFlow aborts the interpreter
("CommandLine Error: Option 'bitcode-mdindex-threshold' registered more than once!": both bundle LLVM),
while the opposite order works. So when both are installed, torchvision is imported first.

The tests run in parallel (``-n auto`` in pyproject.toml, pytest-xdist): one worker per core, as many as memory
allows at ``WORKER_MEMORY_BYTES`` each (a worker imports torch, TensorFlow and JAX, and builds networks up to
ResNet152); ``-n 0`` runs them in this one process.
"""

import importlib.util
import os

WORKER_MEMORY_BYTES = 4 * 2**30

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")  # see suite.execution.executor.worker_environment
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("TLBENCH_CACHE", "off")  # tests that use the decoded-data cache point it at tmp

if importlib.util.find_spec("torchvision") and importlib.util.find_spec("tensorflow"):
    import torchvision  # noqa: F401


def pytest_xdist_auto_num_workers(config) -> int:  # noqa: ANN001 - pytest's hook signature
    """``-n auto``: a worker per core, no more than the available memory holds at ``WORKER_MEMORY_BYTES`` each."""
    import psutil

    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
    return max(1, min(cores, psutil.virtual_memory().available // WORKER_MEMORY_BYTES))
