"""Where a policy round's KL counts from, and the base its drift is measured against.

A lineage of policy rounds starts at a base model (`lineage_base`: the worker passes the
version's base); each round starts from its parent. With `kl_from` `parent` (the default) the
KL term, its budget and the watch's KL count from the round's starting policy, so drift adds
up over the rounds unseen; with `base` they count from the lineage's base, so one budget holds
for the whole lineage. Either way the watch also measures the new policy's KL to the base
(`kl_to_base`), which the dashboard draws across rounds.

Memory: with `parent` and LoRA the reference costs nothing (the adapter switched off); with
`base`, after a lineage's first round, the base is one more model in memory (a LoRA round's
base is its starting policy, merged from the rounds before)."""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any, Protocol

import torch

from training.pipeline.model_loading import load_causal_lm, resolve_model


class RoundOptions(Protocol):
    policy: str
    lineage_base: str | None
    kl_from: str


def same_model(first: str, second: str) -> bool:
    """Whether two names load the same model (a folder however it is written)."""
    return os.path.realpath(resolve_model(first)) == os.path.realpath(resolve_model(second))


def base_source(policy: str, lineage_base: str | None) -> str | None:
    """The lineage's base when it is not the round's starting policy; None when the parent
    is the base (a lineage's first round, or no base named)."""
    if lineage_base is None or same_model(lineage_base, policy):
        return None
    return lineage_base


def counts_from_base(config: RoundOptions) -> bool:
    """Whether the KL term's reference is a model other than the round's starting policy."""
    return config.kl_from == "base" and base_source(config.policy, config.lineage_base) is not None


def frozen(source: str, device: torch.device) -> Any:
    model: Any = load_causal_lm(source)
    return model.to(device).eval().requires_grad_(False)


def reference_model(config: RoundOptions, device: torch.device, adapter_off: Any = None) -> Any:
    """The model the KL term counts from: the base under `kl_from` base (loaded), else the
    starting policy (the LoRA adapter switched off when there is one, else loaded)."""
    if counts_from_base(config):
        return frozen(str(config.lineage_base), device)
    return adapter_off if adapter_off is not None else frozen(config.policy, device)


def watch_models(
    config: RoundOptions, reference: Any, device: torch.device, adapter_off: Any = None
) -> tuple[Any, Callable[[], Any] | None]:
    """The watch's parent (the round's starting policy) and what loads the lineage's base
    (None when the parent is the base), reusing the KL reference where it is one of them;
    the base is loaded only when the watch reads it, so a failure costs only its figure."""
    from_base = counts_from_base(config)
    if adapter_off is not None:
        parent = adapter_off
    else:
        parent = frozen(config.policy, device) if from_base else reference
    source = base_source(config.policy, config.lineage_base)
    if source is None:
        return parent, None
    return parent, (lambda: reference) if from_base else (lambda: frozen(source, device))
