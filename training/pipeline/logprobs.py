"""Log-probabilities of a response's tokens under a causal LM, as PPO's losses and the round
watch's KL read them (left padding shifts nothing: positions come from the attention mask)."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from training.pipeline.ppo_maths import position_ids


def sequence_logprobs(
    model: nn.Module,
    sequences: torch.Tensor,
    attention_mask: torch.Tensor,
    prompt_width: int,
    temperature: float,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Log-probabilities of the response tokens, and the policy's entropy at each of them."""
    logits = model(
        input_ids=sequences,
        attention_mask=attention_mask,
        position_ids=position_ids(attention_mask),
        use_cache=False,
    ).logits
    logits = logits[:, prompt_width - 1 : -1].float() / temperature
    log_probs = F.log_softmax(logits, dim=-1)
    tokens = sequences[:, prompt_width:]
    chosen = log_probs.gather(-1, tokens.unsqueeze(-1)).squeeze(-1)
    entropy = -(log_probs.exp() * log_probs).sum(-1)
    return chosen, entropy
