"""torch_impl.seeding: a warm worker's reset puts back what a run may leave in the process."""

import torch

from torch_impl.seeding import reset_process_state, seed_framework


def test_reset_puts_back_the_fresh_process_state() -> None:
    reset_process_state()  # the first call records this process's state before any run
    fresh = (torch.get_default_dtype(), torch.are_deterministic_algorithms_enabled(), torch.get_num_threads())
    seed_framework(0, deterministic=True)  # a run that never restored its switches
    torch.set_default_dtype(torch.float64)
    torch.set_float32_matmul_precision("medium")
    try:
        reset_process_state()
        now = (torch.get_default_dtype(), torch.are_deterministic_algorithms_enabled(), torch.get_num_threads())
        assert now == fresh and torch.get_float32_matmul_precision() == "highest"
    finally:
        torch.set_default_dtype(torch.float32)
        torch.use_deterministic_algorithms(False)
        torch.set_float32_matmul_precision("highest")
