"""Which process this is under a multi-process launcher (torchrun or accelerate launch set
RANK and WORLD_SIZE), and how a batch splits over the processes. One process when neither
is set."""

from __future__ import annotations

import os
import sys

from training.pipeline.errors import PipelineError


def process_rank() -> int:
    return int(os.environ.get("RANK", "0"))


def process_count() -> int:
    return int(os.environ.get("WORLD_SIZE", "1"))


def is_main_process() -> bool:
    """The first process alone writes progress, metrics and models, and prints the result."""
    return process_rank() == 0


def per_process_batch(batch_size: int, name: str = "batch_size") -> int:
    """Each process's share of a batch: `batch_size` stays what one optimiser step sees, so a
    run on N processes takes the same steps on the same data as on one."""
    processes = process_count()
    if batch_size % processes:
        raise PipelineError(f"{name} {batch_size} does not split evenly over {processes} processes")
    return batch_size // processes


def any_process(flag: bool) -> bool:
    """Whether `flag` holds on some process (every process gets the same answer, so they
    stop together: one leaving the step loop alone would leave the others waiting)."""
    import torch
    import torch.distributed as dist

    if not (dist.is_available() and dist.is_initialized()):
        return flag
    value = torch.tensor([1.0 if flag else 0.0])
    if dist.get_backend() == "nccl":
        value = value.cuda()
    dist.all_reduce(value, op=dist.ReduceOp.MAX)
    return bool(value.item() > 0)


def leave_process_group() -> None:
    """Take down the process group a launcher's run set up, before the interpreter exits.
    Left to the exit, its backend's threads can be torn down while still running, and the
    process aborts ("terminate called without an active exception") after its work is done,
    which torchrun reports as a failed run. Nothing to do where torch.distributed was never
    imported."""
    dist = sys.modules.get("torch.distributed")
    if dist is not None and dist.is_available() and dist.is_initialized():
        dist.destroy_process_group()
