"""The reward-hacking watch's measurements at the end of a policy round (the figures and
thresholds are in watch.py): the new policy and its parent answer the same prompts, once
each, sampled the same way from the same seed (pure sampling at the round's temperature, no
top-k or top-p, so the KL estimate is the one PPO's curves use); the answers are scored by the
round's reward model and, when the run names one, by a second reward model.

PPO watches up to `watch_prompts` of its prompts, those no step drew first (held out from the
round); DPO watches the first distinct prompts of its pairs (it trains on all of them)."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from transformers import PreTrainedModel, PreTrainedTokenizerBase

from training.pipeline.data import Messages, PreferencePair, encode_prompt
from training.pipeline.errors import PipelineError
from training.pipeline.kl_reference import base_source, frozen
from training.pipeline.logprobs import sequence_logprobs
from training.pipeline.model_loading import load_reward_model, load_tokenizer
from training.pipeline.options import (
    CriticFreeConfig,
    DPOTrainingConfig,
    GenerationConfig,
    PPOConfig,
)
from training.pipeline.ppo_lora import AdapterOff
from training.pipeline.ppo_maths import drawn_prompt_indices, response_mask
from training.pipeline.reward import score_texts
from training.pipeline.watch import RoundSamples, round_watch, watch_prompt_indices

RewardFn = Callable[[Sequence[Messages], Sequence[str]], torch.Tensor]
BATCH = 8


@dataclass(frozen=True)
class Answers:
    texts: list[str]
    tokens: list[int]
    sequences: list[tuple[torch.Tensor, torch.Tensor, int]]  # per batch: ids, mask, width


def _left_padded(
    tokenizer: PreTrainedTokenizerBase, prompts: Sequence[Messages], device: torch.device
) -> tuple[torch.Tensor, torch.Tensor]:
    encoded = [encode_prompt(tokenizer, prompt) for prompt in prompts]
    width = max(len(ids) for ids in encoded)
    ids = torch.full((len(encoded), width), int(tokenizer.pad_token_id), dtype=torch.long)
    mask = torch.zeros_like(ids)
    for row, tokens in enumerate(encoded):
        ids[row, width - len(tokens) :] = torch.tensor(tokens)
        mask[row, width - len(tokens) :] = 1
    return ids.to(device), mask.to(device)


@torch.no_grad()
def answer(
    model: PreTrainedModel | AdapterOff,
    tokenizer: PreTrainedTokenizerBase,
    prompts: Sequence[Messages],
    *,
    max_new_tokens: int,
    temperature: float,
    seed: int,
) -> Answers:
    """One answer per prompt, ending at the first EOS; the global generators are left as
    they were."""
    eos = int(tokenizer.eos_token_id)
    device = next(model.parameters()).device
    texts, tokens, sequences = [], [], []
    model.eval()
    with torch.random.fork_rng(devices=[device] if device.type == "cuda" else []):
        torch.manual_seed(seed)
        for start in range(0, len(prompts), BATCH):
            ids, mask = _left_padded(tokenizer, prompts[start : start + BATCH], device)
            output = model.generate(  # type: ignore[operator]
                input_ids=ids,
                attention_mask=mask,
                do_sample=True,
                top_k=0,
                top_p=1.0,
                temperature=temperature,
                max_new_tokens=max_new_tokens,
                pad_token_id=int(tokenizer.pad_token_id),
                eos_token_id=eos,
            )
            replies = output[:, ids.shape[1] :]
            kept = response_mask(replies, eos)
            replies = replies.masked_fill(kept == 0, int(tokenizer.pad_token_id))
            texts += tokenizer.batch_decode(replies, skip_special_tokens=True)
            tokens += [int(n) for n in kept.sum(dim=1)]
            attention = torch.cat([mask, kept], dim=1)
            sequences.append((torch.cat([ids, replies], dim=1), attention, ids.shape[1]))
    return Answers([text.strip() for text in texts], tokens, sequences)


@torch.no_grad()
def kl_per_answer(
    policy: PreTrainedModel,
    parent: PreTrainedModel | AdapterOff,
    answers: Answers,
    temperature: float,
) -> list[float]:
    """Σ (log π - log π_parent) over each of the policy's own answers' tokens."""
    kl: list[float] = []
    for ids, attention, width in answers.sequences:
        ours, _ = sequence_logprobs(policy, ids, attention, width, temperature)
        theirs, _ = sequence_logprobs(parent, ids, attention, width, temperature)
        kl += (((ours - theirs) * attention[:, width:]).sum(dim=1)).tolist()
    return kl


def reward_model_fn(
    path: str, device: torch.device | None = None, uncertainty_penalty: float = 0.0
) -> RewardFn:
    """The reward model at `path`, loaded once, frozen, as a function of prompts and replies.
    Replies are text: it encodes them with its own tokenizer and chat template, so it need
    not share the policy's. An ensemble's reward is its heads' mean minus
    `uncertainty_penalty` standard deviations (ensemble.py)."""
    tokenizer = load_tokenizer(path, padding_side="right")
    model: Any = load_reward_model(path, tokenizer)
    if uncertainty_penalty > 0 and model.config.num_labels < 2:
        raise PipelineError(
            f"uncertainty_penalty needs an ensemble reward model (one trained with ensemble "
            f"above 1); {path} has one head, so it would change nothing"
        )
    if device is not None:
        model.to(device)
    model.eval().requires_grad_(False)

    def reward(prompts: Sequence[Messages], replies: Sequence[str]) -> torch.Tensor:
        return score_texts(model, tokenizer, prompts, list(replies), penalty=uncertainty_penalty)

    return reward


def _scores(path: str | None, prompts: Sequence[Messages], *sides: Sequence[str]) -> list[Any]:
    """Each side's scores under the reward model at `path`; Nones without one."""
    if path is None:
        return [None for _ in sides]
    tokenizer = load_tokenizer(path, padding_side="right")
    model = load_reward_model(path, tokenizer)
    return [score_texts(model, tokenizer, prompts, list(side)).tolist() for side in sides]


def paired_samples(
    policy: PreTrainedModel,
    parent: PreTrainedModel | AdapterOff,
    tokenizer: PreTrainedTokenizerBase,
    prompts: Sequence[Messages],
    *,
    max_new_tokens: int,
    temperature: float,
    seed: int,
) -> tuple[Answers, Answers, list[float]]:
    """Both policies' answers to the same prompts, and the policy's KL from the parent on its
    own."""
    ours, theirs = (
        answer(
            model,
            tokenizer,
            prompts,
            max_new_tokens=max_new_tokens,
            temperature=temperature,
            seed=seed,
        )
        for model in (policy, parent)
    )
    return ours, theirs, kl_per_answer(policy, parent, ours, temperature)


def watch_ppo_round(
    *,
    policy: PreTrainedModel,
    reference: PreTrainedModel | AdapterOff,
    tokenizer: PreTrainedTokenizerBase,
    reward_fn: RewardFn,
    prompts: Sequence[Messages],
    config: PPOConfig | CriticFreeConfig,
    history: Sequence[dict[str, float]],
    check_fn: RewardFn | None = None,
    drawn: set[int] | None = None,
    base: Callable[[], Any] | None = None,
) -> dict[str, Any]:
    """A policy round's watch: its reference is the parent (the round's starting policy);
    `base` loads the lineage's base when it is another model (kl_reference.py); its reward
    function the proxy; `check_fn`, the second reward model already loaded for the steps
    (else it is loaded here when the run names one). `drawn`: the prompts some step drew
    (PPO's own draw when not given), so the watch prefers the others."""
    budget: dict[str, Any] = {"kl_budget": config.target_kl, "kl_from": config.kl_from}
    if config.watch_prompts == 0:
        return round_watch(samples=None, history=history, **budget)
    if drawn is None:
        drawn = drawn_prompts(config.steps, config.batch_size, len(prompts), config.seed)
    indices, held_out = watch_prompt_indices(len(prompts), drawn, config.watch_prompts)
    chosen = [prompts[index] for index in indices]
    ours, theirs, kl = paired_samples(
        policy,
        reference,
        tokenizer,
        chosen,
        max_new_tokens=config.max_new_tokens,
        temperature=config.temperature,
        seed=config.seed,
    )
    if check_fn is not None:
        check, parent_check = (check_fn(chosen, side.texts).tolist() for side in (ours, theirs))
    else:
        check, parent_check = _scores(config.check_reward, chosen, ours.texts, theirs.texts)
    samples = RoundSamples(
        texts=ours.texts,
        parent_texts=theirs.texts,
        tokens=ours.tokens,
        parent_tokens=theirs.tokens,
        kl=kl,
        held_out=held_out,
        reward=reward_fn(chosen, ours.texts).tolist(),
        parent_reward=reward_fn(chosen, theirs.texts).tolist(),
        check=check,
        parent_check=parent_check,
        **base_kl(policy, base, ours, config.temperature),
    )
    return round_watch(samples=samples, history=history, **budget)


def watch_dpo_round(
    *,
    policy: PreTrainedModel,
    base: str | Path,
    tokenizer: PreTrainedTokenizerBase,
    pairs: Sequence[PreferencePair],
    config: DPOTrainingConfig,
    reward_gain: float | None,
) -> dict[str, Any]:
    """DPO's watch: length drift and KL from its reference on the pairs' first prompts, at
    the generation stage's answer length; no KL budget, and its implicit reward margin's
    rise stands in for the proxy reward's."""
    if config.watch_prompts == 0:
        return round_watch(samples=None, kl_budget=None, reward_gain=reward_gain)
    distinct: dict[str, Messages] = {}
    for pair in pairs:
        distinct.setdefault(pair.prompt_key, pair.prompt)
    chosen = list(distinct.values())[: config.watch_prompts]
    device = next(policy.parameters()).device
    parent = frozen(str(base), device)
    ours, theirs, kl = paired_samples(
        policy,
        parent,
        tokenizer,
        chosen,
        max_new_tokens=GenerationConfig.max_new_tokens,
        temperature=1.0,
        seed=config.seed,
    )
    del parent
    check, parent_check = _scores(config.check_reward, chosen, ours.texts, theirs.texts)
    lineage_base = base_source(str(base), config.lineage_base)
    load_base = (lambda: frozen(str(lineage_base), device)) if lineage_base else None
    samples = RoundSamples(
        texts=ours.texts,
        parent_texts=theirs.texts,
        tokens=ours.tokens,
        parent_tokens=theirs.tokens,
        kl=kl,
        check=check,
        parent_check=parent_check,
        **base_kl(policy, load_base, ours, temperature=1.0),
    )
    return round_watch(samples=samples, kl_budget=None, reward_gain=reward_gain)


def base_kl(
    policy: PreTrainedModel,
    load_base: Callable[[], Any] | None,
    answers: Answers,
    temperature: float,
) -> dict[str, Any]:
    """RoundSamples' fields for the KL from the lineage's base on the policy's answers: none
    when the parent is the base; when the base cannot be loaded or read, why (the rest of the
    watch stands)."""
    if load_base is None:
        return {}
    try:
        return {"base_kl": kl_per_answer(policy, load_base(), answers, temperature)}
    except Exception as error:  # reported with the watch's figures, never raised
        return {"base_is_parent": False, "base_error": f"{type(error).__name__}: {error}"}


def drawn_prompts(steps: int, batch_size: int, count: int, seed: int) -> set[int]:
    """The indices of the prompts some step drew; every one when the steps drew at least as
    many prompts as there are (each pass over the prompts draws all of them before any again),
    so a long round does not replay its whole shuffle here."""
    if steps * batch_size >= count:
        return set(range(count))
    return {
        index
        for step in range(steps)
        for index in drawn_prompt_indices(step, batch_size, count, seed)
    }


def guarded_watch(watch: Callable[[], dict[str, Any]]) -> dict[str, Any]:
    """The watch's figures, or its error: the round has trained and saved its policy by then,
    and a watch that fails (memory, an unreadable second model) must not fail the round. What
    it cost (both policies answering and being scored) is `seconds`."""
    started = time.perf_counter()
    try:
        figures = watch()
    except Exception as error:  # any failure of the check is reported, not raised
        figures = {"error": f"{type(error).__name__}: {error}", "warnings": [], "reward_kl": []}
    return {**figures, "seconds": round(time.perf_counter() - started, 1)}
