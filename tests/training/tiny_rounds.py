"""Policy-round configs sized for the tiny test models (conftest.py): two prompts a step, two
answers per group or minibatch, four new tokens, two watch prompts; a test names the models,
its folder and whatever else it is about."""

from __future__ import annotations

from typing import Any, Literal, overload

from training.pipeline.options import (
    CriticFreeConfig,
    GRPORoundConfig,
    PPOConfig,
    RLOORoundConfig,
)

TINY_ROUND = {"steps": 2, "batch_size": 2, "max_new_tokens": 4, "watch_prompts": 2}


@overload
def tiny_round_config(kind: Literal["ppo"], **overrides: Any) -> PPOConfig: ...
@overload
def tiny_round_config(kind: Literal["grpo", "rloo"], **overrides: Any) -> CriticFreeConfig: ...
@overload
def tiny_round_config(kind: str, **overrides: Any) -> PPOConfig | CriticFreeConfig: ...
def tiny_round_config(kind: str, **overrides: Any) -> PPOConfig | CriticFreeConfig:
    """A `kind` round ("ppo", "grpo" or "rloo") on the tiny scale, `overrides` on top (policy
    and out have no default here)."""
    if kind == "ppo":
        return PPOConfig(**{**TINY_ROUND, "minibatch_size": 2, **overrides})
    config_class = {"grpo": GRPORoundConfig, "rloo": RLOORoundConfig}[kind]
    return config_class(**{**TINY_ROUND, "group_size": 2, **overrides})
