"""Session-wide test setup.

Runs never share a process (the executor starts one worker per run), but pytest imports every test
module into one process. There, importing torchvision *after* TensorFlow aborts the interpreter
("CommandLine Error: Option 'bitcode-mdindex-threshold' registered more than once!": both bundle LLVM),
while the opposite order works. So when both are installed, torchvision is imported first.
"""

import importlib.util
import os

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")  # see suite.execution.executor.worker_environment
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("TLBENCH_CACHE", "off")  # tests that use the decoded-data cache point it at tmp

if importlib.util.find_spec("torchvision") and importlib.util.find_spec("tensorflow"):
    import torchvision  # noqa: F401
