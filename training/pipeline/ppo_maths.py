"""PPO's pure maths, written out so each piece can be checked against a hand computation:
response masks cut at the first EOS, position ids under left padding, masked means and
whitening (summed across processes when a batch is split), GAE, the per-token KL reward, the
clipped policy and value losses, the adaptive KL controller, and which prompts each step
draws. No models, no I/O."""

from __future__ import annotations

import random
from collections.abc import Callable

import torch

SumFn = Callable[[torch.Tensor], torch.Tensor]


def response_mask(responses: torch.Tensor, eos_token_id: int) -> torch.Tensor:
    """1 up to and including the first EOS of each row, 0 after it (whatever token follows)."""
    is_eos = responses == eos_token_id
    seen_before = (is_eos.cumsum(dim=1) - is_eos.long()) > 0
    return (~seen_before).long()


def position_ids(attention_mask: torch.Tensor) -> torch.Tensor:
    """Positions counted from each row's first real token, so left padding shifts nothing."""
    return (attention_mask.cumsum(dim=1) - 1).clamp(min=0)


def masked_mean(
    values: torch.Tensor, mask: torch.Tensor, total: SumFn | None = None
) -> torch.Tensor:
    """Mean over the unmasked entries; `total` sums across processes, for a whole-batch mean
    when each process holds part of the batch."""
    sums = torch.stack([(values * mask).sum(), mask.sum()])
    if total is not None:
        sums = total(sums)
    return sums[0] / sums[1].clamp(min=1)


def masked_whiten(
    values: torch.Tensor, mask: torch.Tensor, shift_mean: bool = True, total: SumFn | None = None
) -> torch.Tensor:
    mean = masked_mean(values, mask, total)
    variance = masked_mean((values - mean) ** 2, mask, total)
    whitened = (values - mean) * torch.rsqrt(variance + 1e-8)
    return (whitened if shift_mean else whitened + mean) * mask


def gae(
    rewards: torch.Tensor, values: torch.Tensor, mask: torch.Tensor, gamma: float, lam: float
) -> tuple[torch.Tensor, torch.Tensor]:
    """Generalised advantage estimation over response tokens; masked positions hold nothing."""
    rewards, values = rewards * mask, values * mask
    advantages = torch.zeros_like(rewards)
    running = torch.zeros(rewards.shape[0], device=rewards.device)
    for t in reversed(range(rewards.shape[1])):
        next_value = values[:, t + 1] if t + 1 < rewards.shape[1] else torch.zeros_like(running)
        delta = rewards[:, t] + gamma * next_value - values[:, t]
        running = (delta + gamma * lam * running) * mask[:, t]
        advantages[:, t] = running
    return advantages, (advantages + values) * mask


def token_rewards(
    scores: torch.Tensor,
    logprobs: torch.Tensor,
    ref_logprobs: torch.Tensor,
    mask: torch.Tensor,
    beta: float,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Per-token reward -β·KL, plus the sequence score on each row's last response token."""
    kl = (logprobs - ref_logprobs) * mask
    rewards = -beta * kl
    last = (mask.sum(dim=1).long() - 1).clamp(min=0)
    rewards[torch.arange(rewards.shape[0]), last] += scores
    return rewards * mask, kl


def policy_loss(
    new_logprobs: torch.Tensor,
    old_logprobs: torch.Tensor,
    advantages: torch.Tensor,
    mask: torch.Tensor,
    clip: float,
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Clipped surrogate; also the clip fraction and an approximate KL to the rollout policy."""
    log_ratio = new_logprobs - old_logprobs
    ratio = torch.exp(log_ratio)
    unclipped = -advantages * ratio
    clipped = -advantages * ratio.clamp(1 - clip, 1 + clip)
    loss = masked_mean(torch.maximum(unclipped, clipped), mask)
    clip_fraction = masked_mean((clipped > unclipped).float(), mask)
    approx_kl = 0.5 * masked_mean(log_ratio**2, mask)
    return loss, clip_fraction, approx_kl


def value_loss(
    new_values: torch.Tensor,
    old_values: torch.Tensor,
    returns: torch.Tensor,
    mask: torch.Tensor,
    clip: float,
) -> torch.Tensor:
    clipped = old_values + (new_values - old_values).clamp(-clip, clip)
    worst = torch.maximum((new_values - returns) ** 2, (clipped - returns) ** 2)
    return 0.5 * masked_mean(worst, mask)


class AdaptiveKL:
    """Ziegler et al.'s controller: nudges β so the per-sequence KL tracks the target."""

    def __init__(self, beta: float, target: float, horizon: int) -> None:
        self.beta, self.target, self.horizon = beta, target, horizon

    def update(self, kl: float, batch: int) -> None:
        error = max(-0.2, min(0.2, kl / self.target - 1))
        self.beta *= 1 + error * batch / self.horizon


def drawn_prompt_indices(step: int, batch_size: int, count: int, seed: int) -> list[int]:
    """The prompts a step samples, from a seeded permutation per pass over the `count`
    prompts: the data position is the step number, so a resumed run reads exactly what the
    straight run read, and the round watch knows which prompts the round never drew."""
    chosen = []
    for offset in range(step * batch_size, (step + 1) * batch_size):
        epoch, index = divmod(offset, count)
        order = list(range(count))
        random.Random(seed * 1_000_003 + epoch).shuffle(order)
        chosen.append(order[index])
    return chosen
