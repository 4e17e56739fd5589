"""Tiny models built by hand for the reward-hacking watch's tests: a reward model that scores
an answer by its length (so a PPO round against it lengthens its answers: reward hacking by
length, made certain), and a policy that ends some answers at once (so lengths can move)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch

from training.pipeline.data import Messages
from training.pipeline.model_loading import load_causal_lm, load_reward_model, load_tokenizer
from training.pipeline.round_watch import answer


def length_reward_model(base: Path, out: Path, scale: float) -> Path:
    """A reward model whose score rises with the length of the exchange when `scale` > 0 and
    falls with it when `scale` < 0 (the same model, its head negated).

    All weights are zero but one path: every token's embedding holds a constant 1, and
    <|im_start|> also a marker 1; the first layer attends uniformly (zero queries and keys),
    so at the last token the marker channel holds (markers so far) / (tokens so far), which
    the template's fixed number of markers makes a decreasing function of the length; the
    final norm keeps the two channels' ratio and the head reads the marker channel."""
    tokenizer = load_tokenizer(base, padding_side="right")
    model: Any = load_reward_model(base, tokenizer)
    marker = tokenizer.convert_tokens_to_ids("<|im_start|>")
    with torch.no_grad():
        for parameter in model.parameters():
            parameter.zero_()
        embedding = model.get_input_embeddings().weight
        embedding[:, 0] = 1.0
        embedding[marker, 1] = 1.0
        for layer in model.model.layers:
            layer.input_layernorm.weight.fill_(1.0)
            layer.post_attention_layernorm.weight.fill_(1.0)
        attention = model.model.layers[0].self_attn
        attention.v_proj.weight[0, 1] = 1.0
        attention.o_proj.weight[1, 0] = 1.0
        model.model.norm.weight.fill_(1.0)
        model.score.weight[0, 1] = -scale
    model.save_pretrained(out, safe_serialization=True)
    tokenizer.save_pretrained(out)
    return out


def eos_prone_policy(peaked: Path, out: Path, prompts: list[Messages], strength: float) -> Path:
    """The peaked tiny policy with its end-of-text embedding pointed along the mean final
    hidden state of its own answers to these prompts, so that on some prompts it ends its
    answer at once and on others it runs on: answer lengths a round can move."""
    tokenizer = load_tokenizer(peaked, padding_side="left")
    model: Any = load_causal_lm(peaked)
    answers = answer(model, tokenizer, prompts, max_new_tokens=12, temperature=1.0, seed=0)
    with torch.no_grad():
        states = [
            model(input_ids=ids, attention_mask=mask, output_hidden_states=True)
            .hidden_states[-1][:, width - 1 :]
            .reshape(-1, model.config.hidden_size)
            for ids, mask, width in answers.sequences
        ]
        direction = torch.cat(states).mean(dim=0)
        embedding = model.get_input_embeddings().weight
        embedding[int(tokenizer.eos_token_id)] = strength * direction / direction.norm() ** 2
    model.save_pretrained(out, safe_serialization=True)
    tokenizer.save_pretrained(out)
    return out
