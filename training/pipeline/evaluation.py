"""Evaluation: reward-model accuracy on held-out pairs, a policy's win rate over its parent
under a reward model, and win rate under a known gold preference function."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from training.pipeline.data import Messages, PreferencePair
from training.pipeline.generation import policy_dtype, sample
from training.pipeline.model_loading import load_causal_lm, load_reward_model, load_tokenizer
from training.pipeline.options import EvaluationConfig, GenerationConfig
from training.pipeline.reward import evaluate_pairs, score_texts

GoldPreference = Callable[[Messages, str, str], float]
"""gold(prompt, a, b): 1.0 if a is better, 0.0 if b is, 0.5 for a tie."""


def reward_model_accuracy(reward: str, pairs: Sequence[PreferencePair]) -> dict[str, Any]:
    tokenizer = load_tokenizer(reward, padding_side="right")
    model = load_reward_model(reward, tokenizer)
    return evaluate_pairs(model, tokenizer, pairs)


def _replies(policy: str, prompts: Sequence[Messages], config: EvaluationConfig) -> list[str]:
    generation = GenerationConfig(
        policy=policy, k=1, max_new_tokens=config.max_new_tokens, seed=config.seed, bf16=config.bf16
    )
    model = load_causal_lm(policy, dtype=policy_dtype(generation))
    return [s.text for s in sample(model, load_tokenizer(policy), prompts, generation)]


def _rate(outcomes: Sequence[float]) -> dict[str, float]:
    """The mean outcome (win 1, tie 0.5, loss 0) and its standard error: the outcomes' spread
    over root n, which is the binomial sqrt(p (1 - p) / n) when nothing ties, and smaller with
    ties, which sit halfway."""
    n = len(outcomes)
    rate = sum(outcomes) / n
    spread = sum((outcome - rate) ** 2 for outcome in outcomes) / n
    return {"win_rate": rate, "n": float(n), "stderr": (spread / n) ** 0.5}


def win_rate(config: EvaluationConfig, prompts: Sequence[Messages]) -> dict[str, Any]:
    """Share of prompts where the policy's reply out-scores the parent's (ties count half),
    with the first `config.samples` prompts' replies side by side."""
    ours = _replies(config.policy, prompts, config)
    theirs = _replies(config.parent, prompts, config)
    tokenizer = load_tokenizer(config.reward, padding_side="right")
    model = load_reward_model(config.reward, tokenizer)
    ours_scores = score_texts(model, tokenizer, prompts, ours)
    theirs_scores = score_texts(model, tokenizer, prompts, theirs)
    outcomes = [
        1.0 if a > b else 0.5 if a == b else 0.0
        for a, b in zip(ours_scores.tolist(), theirs_scores.tolist(), strict=True)
    ]
    return {
        **_rate(outcomes),
        "reward_mean": float(ours_scores.mean()),
        "parent_reward_mean": float(theirs_scores.mean()),
        "samples": side_by_side(
            prompts, ours, theirs, ours_scores.tolist(), theirs_scores.tolist(), config.samples
        ),
    }


def side_by_side(
    prompts: Sequence[Messages],
    ours: Sequence[str],
    theirs: Sequence[str],
    ours_scores: Sequence[float],
    theirs_scores: Sequence[float],
    limit: int,
) -> list[dict[str, Any]]:
    """The first `limit` prompts with both replies and their rewards, for people to read:
    `a` is the policy's reply, `b` the parent's; the prompt is its last message's text."""
    rows = zip(prompts, ours, theirs, ours_scores, theirs_scores, strict=True)
    return [
        {"prompt": prompt[-1]["content"], "a": a, "b": b, "reward_a": ra, "reward_b": rb}
        for prompt, a, b, ra, rb in list(rows)[:limit]
    ]


def gold_win_rate(
    policy_replies: Sequence[str],
    parent_replies: Sequence[str],
    prompts: Sequence[Messages],
    gold: GoldPreference,
) -> dict[str, float]:
    """Win rate judged by a known (synthetic) gold preference instead of a learned model, ties
    counting half, with its standard error."""
    outcomes = [
        gold(prompt, ours, theirs)
        for prompt, ours, theirs in zip(prompts, policy_replies, parent_replies, strict=True)
    ]
    return _rate(outcomes)
