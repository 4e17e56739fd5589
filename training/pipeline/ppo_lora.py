"""A PPO round on one base model: LoRA through peft.

With `lora` on, the round holds the base weights once:
- the policy is the base plus a trainable LoRA adapter;
- the frozen reference is the same base read with the adapter switched off (`AdapterOff`),
  so no second copy is loaded;
- the value model is a shared trunk: a value head of its own on the policy's last hidden
  states (`TrunkValue`), its loss reaching the adapter as well as the head. A second adapter
  would need a second forward through the base with adapters swapped in and out between the
  two losses, for the same memory; the shared trunk is the older actor-critic arrangement
  (TRL's value-head models worked this way) and costs one extra read of the trunk, not a
  second model.
The reward model stays as it is (frozen, possibly with its own tokenizer).

A checkpoint keeps the adapter (peft's own safetensors) and the head; the run's result is the
merged policy (base + adapter folded into full weights, for serving and the next round) and
the adapter on its own, with the base it belongs to named in its adapter_config.json."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import torch
from peft import LoraConfig, PeftModel, get_peft_model
from safetensors.torch import load_file, save_file
from torch import nn
from transformers import PreTrainedModel

from training.pipeline.value_model import backbone_hidden

HEAD_FILE = "value_head.safetensors"


def lora_config(rank: int) -> LoraConfig:
    """Every linear layer but the output one, alpha twice the rank, no dropout (PPO compares
    log-probabilities across passes; dropout would make them disagree)."""
    return LoraConfig(
        r=rank,
        lora_alpha=2 * rank,
        lora_dropout=0.0,
        target_modules="all-linear",
        task_type="CAUSAL_LM",
    )


def lora_policy(base: PreTrainedModel, rank: int, adapter: Path | None = None) -> PeftModel:
    """The base with a fresh trainable adapter, or with `adapter` (a checkpoint's) loaded."""
    if adapter is not None:
        return PeftModel.from_pretrained(base, adapter, is_trainable=True)
    return get_peft_model(base, lora_config(rank))


class AdapterOff(nn.Module):
    """The policy's base model with its adapter disabled: the reference, without a copy.

    It owns no parameters (the policy's are reported by `parameters()` for device look-ups),
    so `.eval()` or an optimizer built over it never touches the policy."""

    def __init__(self, policy: PeftModel) -> None:
        super().__init__()
        self.__dict__["_policy"] = policy  # not registered: not a submodule of ours

    @property
    def policy(self) -> PeftModel:
        policy: PeftModel = self.__dict__["_policy"]
        return policy

    def parameters(self, recurse: bool = True) -> Iterator[nn.Parameter]:
        return self.policy.parameters(recurse)

    @property
    def config(self) -> Any:
        return self.policy.config

    def forward(self, **inputs: Any) -> Any:
        with self.policy.disable_adapter():
            return self.policy(**inputs)

    @torch.no_grad()
    def generate(self, **inputs: Any) -> torch.Tensor:
        with self.policy.disable_adapter():
            output: torch.Tensor = self.policy.generate(**inputs)
            return output


class TrunkValue(nn.Module):
    """Values read from the policy's own last hidden states through a head of its own."""

    def __init__(self, policy: PeftModel) -> None:
        super().__init__()
        self.__dict__["_policy"] = policy  # shared, not owned: its parameters are the policy's
        hidden = int(policy.config.hidden_size)
        self.head = nn.Linear(hidden, 1, bias=False)
        # Zero at first, so early advantages are the scores themselves, not a random head's.
        nn.init.zeros_(self.head.weight)

    def forward(
        self, input_ids: torch.Tensor, attention_mask: torch.Tensor, positions: torch.Tensor
    ) -> torch.Tensor:
        causal_lm = self.__dict__["_policy"].get_base_model()
        hidden = backbone_hidden(causal_lm, input_ids, attention_mask, positions)
        return self.head(hidden.to(self.head.weight.dtype)).squeeze(-1).float()

    def save(self, folder: Path) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        save_file({"weight": self.head.weight.detach().cpu().contiguous()}, folder / HEAD_FILE)

    def restore(self, folder: Path) -> None:
        weight = load_file(folder / HEAD_FILE)["weight"]
        with torch.no_grad():
            self.head.weight.copy_(weight.to(self.head.weight.device))


def save_lora_result(policy: PeftModel, out: Path) -> PreTrainedModel:
    """Write the adapter to out/adapter and the merged policy to out/policy; returns the
    merged model (the adapter is folded in, so the policy is no longer a PeftModel)."""
    policy.save_pretrained(str(out / "adapter"))
    merged: PreTrainedModel = policy.merge_and_unload()
    merged.save_pretrained(out / "policy", safe_serialization=True)
    return merged


def lora_models(
    policy_source: str, rank: int, resume: Path | None
) -> tuple[PeftModel, AdapterOff, TrunkValue]:
    """Policy, reference and value over one copy of the base; from `resume` (a checkpoint
    folder) when given."""
    from training.pipeline.model_loading import load_causal_lm

    policy = lora_policy(load_causal_lm(policy_source), rank, resume / "policy" if resume else None)
    value = TrunkValue(policy)
    if resume is not None:
        value.restore(resume / "value")
    return policy, AdapterOff(policy), value
