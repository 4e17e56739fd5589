"""Hyperparameters each run kind takes: defaults, ranges and one line of help.

Keys are the pipeline command line's options with dashes as underscores (`batch_size` is
`--batch-size`; a true boolean is the bare flag), so the worker can pass a run's config
straight through. One key is not an option: `prompts`, how many of the campaign's prompts
the worker writes to the prompts file. Defaults are small enough for a CPU; raise them on a GPU.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from common.errors import InvalidInput
from training.models import RunKind

Value = int | float | bool


@dataclass(frozen=True)
class Param:
    default: Value | None
    help: str
    minimum: float | None = None
    maximum: float | None = None

    @property
    def kind(self) -> type:
        return type(self.default)


def _seed() -> Param:
    return Param(0, "Random seed.", 0, 2**31 - 1)


def _bf16() -> Param:
    return Param(False, "bfloat16 weights and compute (GPUs that support it).")


PARAMS: dict[str, dict[str, Param]] = {
    RunKind.REWARD: {
        "epochs": Param(1.0, "Passes over the training pairs.", 0.01, 100),
        "lr": Param(1e-5, "Learning rate.", 1e-9, 1e-2),
        "batch_size": Param(8, "Pairs per optimiser step.", 1, 1024),
        "grad_accum": Param(1, "Gradient accumulation steps.", 1, 1024),
        "max_length": Param(512, "Longest prompt plus response, in tokens.", 16, 32768),
        "validation_fraction": Param(0.2, "Share of prompts held out for validation.", 0.0, 0.9),
        "gradient_checkpointing": Param(False, "Recompute activations to save memory."),
        "probe_head": Param(
            False,
            "Fit the head on the frozen model's features first (a linear probe), then "
            "fine-tune: more accurate on small, noisy data; one extra pass over it.",
        ),
        "seed": _seed(),
        "bf16": _bf16(),
    },
    RunKind.PPO: {
        "steps": Param(10, "PPO steps (each samples one batch of prompts).", 1, 100000),
        "batch_size": Param(4, "Prompts per step.", 1, 1024),
        "minibatch_size": Param(4, "Samples per gradient step.", 1, 1024),
        "ppo_epochs": Param(2, "Passes over each batch.", 1, 64),
        "max_new_tokens": Param(48, "Longest sampled response, in tokens.", 1, 4096),
        "lr": Param(1e-6, "Policy learning rate.", 1e-9, 1e-2),
        "value_lr": Param(1e-5, "Value head learning rate.", 1e-9, 1e-2),
        "kl_coef": Param(0.05, "Initial KL penalty coefficient (beta).", 0.0, 10.0),
        "target_kl": Param(
            6.0, "KL budget per sequence, in nats: beta adapts to keep KL near it.", 0.01, 1000
        ),
        "temperature": Param(1.0, "Sampling temperature.", 0.01, 10.0),
        "whiten_rewards": Param(False, "Normalise rewards within each batch."),
        "checkpoint_every": Param(5, "Steps between checkpoints (resume points).", 1, 100000),
        "prompts": Param(64, "How many of the campaign's prompts PPO samples from.", 1, 100000),
        "seed": _seed(),
        "bf16": _bf16(),
    },
    RunKind.DPO: {
        "epochs": Param(1.0, "Passes over the training pairs.", 0.01, 100),
        "lr": Param(5e-7, "Learning rate.", 1e-9, 1e-2),
        "batch_size": Param(4, "Pairs per optimiser step.", 1, 1024),
        "beta": Param(
            0.1, "DPO temperature: how far the policy may move from its reference.", 0.001, 10
        ),
        "max_length": Param(512, "Longest prompt plus response, in tokens.", 16, 32768),
        "lora": Param(False, "Train LoRA adapters instead of all weights (less memory)."),
        "seed": _seed(),
        "bf16": _bf16(),
    },
    RunKind.GENERATE: {
        "prompts": Param(20, "How many of the campaign's prompts to answer.", 1, 100000),
        "k": Param(4, "Responses per prompt (the new ranking tasks' K).", 2, 16),
        "max_new_tokens": Param(48, "Longest response, in tokens.", 1, 4096),
        "temperature": Param(0.8, "Sampling temperature.", 0.01, 10.0),
        "batch_size": Param(8, "Prompts per generation batch.", 1, 1024),
        "seed": _seed(),
        "bf16": _bf16(),
    },
    RunKind.EVALUATE: {
        "prompts": Param(16, "How many of the campaign's prompts both policies answer.", 1, 10000),
        "max_new_tokens": Param(48, "Longest response, in tokens.", 1, 4096),
        "seed": _seed(),
        "bf16": _bf16(),
    },
}


def defaults_for(kind: str) -> dict[str, Value | None]:
    """The default hyperparameters of a run kind."""
    return {name: param.default for name, param in PARAMS[kind].items()}


def help_for(kind: str) -> dict[str, str]:
    return {name: param.help for name, param in PARAMS[kind].items()}


def _problem(param: Param, value: Any) -> str | None:
    if param.kind is bool:
        return None if isinstance(value, bool) else "Must be true or false."
    if isinstance(value, bool) or not isinstance(value, int | float):
        return "Must be a number."
    if param.kind is int and not float(value).is_integer():
        return "Must be a whole number."
    if param.minimum is not None and value < param.minimum:
        return f"Must be at least {param.minimum:g}."
    if param.maximum is not None and value > param.maximum:
        return f"Must be at most {param.maximum:g}."
    return None


def resolve_hyperparameters(*, kind: str, overrides: Mapping[str, Any]) -> dict[str, Any]:
    """The defaults with `overrides` merged over them; unknown names and values of the wrong
    type or out of range are refused (InvalidInput, every problem listed)."""
    params = PARAMS[kind]
    errors: dict[str, list[str]] = {}
    for name, value in overrides.items():
        param = params.get(name)
        problem = (
            "Unknown hyperparameter for this kind." if param is None else _problem(param, value)
        )
        if problem:
            errors[name] = [problem]
    if errors:
        raise InvalidInput(
            "Some hyperparameters are unknown or out of range.",
            code="invalid_hyperparameters",
            errors={"hyperparameters": errors},
        )
    merged = {**defaults_for(kind), **overrides}
    return {
        name: int(value) if params[name].kind is int else value for name, value in merged.items()
    }
