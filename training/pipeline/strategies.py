"""How several processes share a model (a run's `strategy`), and how each one is launched:
the same torchrun command for all, plus the environment accelerate reads to set the strategy
up (what `accelerate launch --config_file` would export), with the configuration file this
project ships for it in launch_configs/.

- `ddp`: every process holds the whole model and optimiser; gradients are averaged.
- `deepspeed-zero2`: DeepSpeed ZeRO stage 2, optimiser state and gradients sharded over the
  processes (less memory per process; the weights stay whole, so evaluating and saving on the
  first process alone work as under ddp). Needs the `deepspeed` package; on CPUs it compiles a
  small communication op the first time (a C++ compiler and ninja; kept under
  TORCH_EXTENSIONS_DIR).

Not offered, and why (docs/operations.md, "Strategies"): FSDP, because accelerate 1.16 sets it
up only on GPUs (on CPUs it silently stays DDP), and ZeRO-3, because the weights are then
sharded too and the stages' evaluation and save on the first process alone would need them
gathered first. PPO runs under ddp only (its policy and value model are two models, which
DeepSpeed and FSDP2 through accelerate do not take in one Accelerator).

Torch-free and Django-free: the web app imports it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from training.pipeline.errors import PipelineError

STRATEGIES = ("ddp", "deepspeed-zero2")
CONFIGS = Path(__file__).resolve().with_name("launch_configs")

# accelerate's DistributedType values each strategy must end up with.
EXPECTED = {
    "ddp": ("NO", "MULTI_CPU", "MULTI_GPU", "MULTI_XPU", "MULTI_NPU", "MULTI_MLU"),
    "deepspeed-zero2": ("DEEPSPEED",),
}


def launch_environment(strategy: str) -> dict[str, str]:
    """What to add to a stage's environment for `strategy` (under torchrun or alone)."""
    if strategy == "ddp":
        return {}
    if strategy == "deepspeed-zero2":
        return {
            "ACCELERATE_USE_DEEPSPEED": "true",
            "ACCELERATE_DEEPSPEED_CONFIG_FILE": str(CONFIGS / "deepspeed-zero2.json"),
        }
    raise ValueError(f"unknown strategy {strategy!r}; known: {', '.join(STRATEGIES)}")


def strategy_problem(strategy: str, accelerator: Any) -> str | None:
    """Why the accelerator accelerate set up is not the one the run asked for, or None. A
    strategy must never be ignored in silence: the run would train, differently."""
    found = str(getattr(accelerator.distributed_type, "value", accelerator.distributed_type))
    if found.upper() in EXPECTED.get(strategy, ()):
        return None
    hint = ""
    if strategy.startswith("deepspeed"):
        hint = " (is the deepspeed package installed, and did the worker set the environment?)"
    return f"strategy {strategy} was asked for, but accelerate set up {found}{hint}"


def require_strategy(strategy: str, accelerator: Any) -> None:
    """Stops the stage (every process: each checks) before it trains the wrong way."""
    problem = strategy_problem(strategy, accelerator)
    if problem:
        raise PipelineError(problem)
