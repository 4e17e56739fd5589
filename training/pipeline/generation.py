"""Sampling K responses per prompt from a policy, batched, with the chat template."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from tqdm.auto import tqdm
from transformers import PreTrainedModel, PreTrainedTokenizerBase

from training.pipeline.data import Messages, encode_prompt
from training.pipeline.errors import PipelineError
from training.pipeline.judge import judge_answers
from training.pipeline.model_loading import (
    load_causal_lm,
    load_reward_model,
    load_tokenizer,
    model_max_length,
    reward_heads,
)
from training.pipeline.options import GenerationConfig
from training.pipeline.ppo_maths import response_mask
from training.pipeline.progress import ProgressLog
from training.pipeline.reward import text_heads

# on_batch(samples done, samples in all, completion tokens so far)
BatchCallback = Callable[[int, int, int], None]


@dataclass(frozen=True)
class Sample:
    prompt_index: int
    text: str
    prompt_tokens: int
    completion_tokens: int
    finished: bool


def policy_dtype(config: GenerationConfig) -> torch.dtype:
    return torch.bfloat16 if config.bf16 else torch.float32


@torch.no_grad()
def sample(
    model: PreTrainedModel,
    tokenizer: PreTrainedTokenizerBase,
    prompts: Sequence[Messages],
    config: GenerationConfig,
    on_batch: BatchCallback | None = None,
) -> list[Sample]:
    """K samples per prompt, in batches of left-padded prompts; stops at each row's first EOS.
    `on_batch` hears after each batch how far it got."""
    if config.k < 1:
        raise PipelineError("k must be at least 1")
    encoded = [encode_prompt(tokenizer, prompt) for prompt in prompts]
    limit = model_max_length(model) - config.max_new_tokens
    for index, ids in enumerate(encoded):
        if len(ids) > limit:
            raise PipelineError(
                f"prompt {index + 1} is {len(ids)} tokens; the context leaves "
                f"room for {limit} with {config.max_new_tokens} new tokens"
            )
    jobs = [(index, ids) for index, ids in enumerate(encoded) for _ in range(config.k)]
    device = next(model.parameters()).device
    torch.manual_seed(config.seed)
    model.eval()
    samples: list[Sample] = []
    for start in tqdm(range(0, len(jobs), config.batch_size), desc="generate", unit="batch"):
        batch = jobs[start : start + config.batch_size]
        width = max(len(ids) for _, ids in batch)
        input_ids = torch.full((len(batch), width), tokenizer.pad_token_id, dtype=torch.long)
        attention = torch.zeros_like(input_ids)
        for row, (_, ids) in enumerate(batch):
            input_ids[row, width - len(ids) :] = torch.tensor(ids)
            attention[row, width - len(ids) :] = 1
        output = model.generate(  # type: ignore[operator]
            input_ids=input_ids.to(device),
            attention_mask=attention.to(device),
            do_sample=True,
            temperature=config.temperature,
            top_p=config.top_p,
            max_new_tokens=config.max_new_tokens,
            pad_token_id=tokenizer.pad_token_id,
            eos_token_id=tokenizer.eos_token_id,
        )
        replies = output[:, width:].cpu()
        mask = response_mask(replies, int(tokenizer.eos_token_id))
        for row, (index, ids) in enumerate(batch):
            length = int(mask[row].sum())
            finished = bool((replies[row, :length] == tokenizer.eos_token_id).any())
            text = str(tokenizer.decode(replies[row, :length], skip_special_tokens=True)).strip()
            samples.append(Sample(index, text, len(ids), length, finished))
        if on_batch is not None:
            on_batch(len(samples), len(jobs), sum(s.completion_tokens for s in samples))
    return samples


def routing_heads(
    reward: str | None, prompts: Sequence[Messages], samples: Sequence[Sample]
) -> list[list[float]] | None:
    """Each sample's reward under every head of the routing reward model (None without one);
    a model of one head is an error: routing needs the heads' spread."""
    if reward is None:
        return None
    if reward_heads(reward) < 2:
        raise PipelineError(
            f"the routing reward model {reward} has one score head: uncertainty routing needs "
            "an ensemble (a reward run with ensemble 2 or more)"
        )
    tokenizer = load_tokenizer(reward, padding_side="right")
    model = load_reward_model(reward, tokenizer)
    conversations = [prompts[s.prompt_index] for s in samples]
    scores = text_heads(model, tokenizer, conversations, [s.text for s in samples])
    if not bool(torch.isfinite(scores).all()):
        raise PipelineError(f"the routing reward model {reward} gave a score that is not a number")
    return [[round(float(v), 6) for v in row] for row in scores]


def _answer(s: Sample) -> dict[str, Any]:
    return {"text": s.text, "tokens": s.completion_tokens, "finished": s.finished}


def rival_samples(
    config: GenerationConfig, prompts: Sequence[Messages], report: BatchCallback
) -> list[Sample] | None:
    """The rival policy's answers to the same prompts (arena answers), or None without one;
    progress counts on from the first policy's."""
    if config.rival is None:
        return None
    tokenizer = load_tokenizer(config.rival)
    model = load_causal_lm(config.rival, dtype=policy_dtype(config))
    first = len(prompts) * config.k
    samples = sample(
        model, tokenizer, prompts, config, on_batch=lambda d, t, n: report(first + d, first + t, n)
    )
    del model
    return samples


def generate_to_file(
    config: GenerationConfig, prompts: Sequence[Messages], out: Path
) -> dict[str, Any]:
    """Write one JSONL row per prompt: {prompt, responses: [{text, tokens, finished}]}, and a
    progress line per batch into progress.jsonl beside it."""
    tokenizer = load_tokenizer(config.policy)
    model = load_causal_lm(config.policy, dtype=policy_dtype(config))
    log = ProgressLog(out.parent)
    started = time.perf_counter()

    def report(done: int, total: int, tokens: int) -> None:
        speed = tokens / max(time.perf_counter() - started, 1e-9)
        log.write("generate", done, total, {"tokens_per_second": speed})

    samples = sample(model, tokenizer, prompts, config, on_batch=report)
    del model
    rival = rival_samples(config, prompts, report)
    seconds = time.perf_counter() - started
    heads = routing_heads(config.routing_reward, prompts, samples)
    texts = [[s.text for s in samples if s.prompt_index == i] for i in range(len(prompts))]
    verdicts = judge_answers(config.judge, prompts, texts)
    out.parent.mkdir(parents=True, exist_ok=True)
    with out.open("w", encoding="utf-8") as handle:
        for index, prompt in enumerate(prompts):
            mine = [(n, s) for n, s in enumerate(samples) if s.prompt_index == index]
            row: dict[str, Any] = {
                "prompt": prompt,
                "responses": [
                    _answer(s) | ({"heads": heads[n]} if heads is not None else {}) for n, s in mine
                ],
            }
            if verdicts is not None:
                row |= {"judge": config.judge, "verdicts": verdicts[index]}
            if rival is not None:
                row["rival_responses"] = [_answer(s) for s in rival if s.prompt_index == index]
            handle.write(json.dumps(row, ensure_ascii=False) + "\n")
    tokens = sum(s.completion_tokens for s in [*samples, *(rival or [])])
    return {
        "prompts": len(prompts),
        "samples": len(samples),
        "completion_tokens": tokens,
        "seconds": seconds,
        "tokens_per_second": tokens / seconds if seconds else 0.0,
        "out": str(out),
    }
