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
- `deepspeed-zero3`: the weights sharded too (least memory per process). After training every
  process takes part in gathering them (`whole_model`), and the first evaluates and saves an
  ordinary model built from them.

Not offered, and why (docs/operations.md, "Strategies"): FSDP, because accelerate 1.16 sets it
up only on GPUs (on CPUs it silently stays DDP, so it could not be tested here). PPO runs under
ddp only (its policy and value model are two models, which DeepSpeed and FSDP2 through
accelerate do not take in one Accelerator).

Torch-free and Django-free: the web app imports it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from training.pipeline.errors import PipelineError

STRATEGIES = ("ddp", "deepspeed-zero2", "deepspeed-zero3")
SHARDED_WEIGHTS = ("deepspeed-zero3",)
CONFIGS = Path(__file__).resolve().with_name("launch_configs")

# accelerate's DistributedType values each strategy must end up with.
EXPECTED = {
    "ddp": ("NO", "MULTI_CPU", "MULTI_GPU", "MULTI_XPU", "MULTI_NPU", "MULTI_MLU"),
    "deepspeed-zero2": ("DEEPSPEED",),
    "deepspeed-zero3": ("DEEPSPEED",),
}


def launch_environment(strategy: str) -> dict[str, str]:
    """What to add to a stage's environment for `strategy` (under torchrun or alone)."""
    if strategy == "ddp":
        return {}
    if strategy in ("deepspeed-zero2", "deepspeed-zero3"):
        return {
            "ACCELERATE_USE_DEEPSPEED": "true",
            "ACCELERATE_DEEPSPEED_CONFIG_FILE": str(CONFIGS / f"{strategy}.json"),
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


def whole_model(trainer: Any, strategy: str) -> Any:
    """The trained model with whole weights, for the first process to evaluate and save alone.
    Under ZeRO-3 each process holds a shard: every process must call this (the gathering is a
    collective); the first gets an ordinary copy built from the gathered weights (with
    transformers' DeepSpeed hook off, or building it would partition it again)."""
    if strategy not in SHARDED_WEIGHTS:
        return trainer.model
    from transformers.integrations import deepspeed as hf_deepspeed

    state = trainer.accelerator.get_state_dict(trainer.model_wrapped)
    trained = trainer.accelerator.unwrap_model(trainer.model_wrapped)
    if not trainer.accelerator.is_main_process:
        return trained
    hf_deepspeed.unset_hf_deepspeed_config()  # training is over: later loads are ordinary
    whole = type(trained)(trained.config)
    missing, unexpected = whole.load_state_dict(state, strict=False)
    whole.tie_weights()
    tied = {name for name in missing if name.endswith("lm_head.weight")}
    if unexpected or set(missing) - tied:
        raise PipelineError(f"gathering the weights left {missing} missing, {unexpected} extra")
    return whole.eval()
