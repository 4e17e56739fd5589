"""Preference data for training: reading pairs and rankings, splitting by prompt, and turning
them into token ids with the chat template. Pure Python plus a tokenizer; no Django.

Accepted JSONL rows (what `manage.py export_data` writes, and more):
- {"prompt": str | messages, "chosen": str | [assistant message], "rejected": ..., "margin"?: float}
- {"prompt": str | messages, "responses": [str, ...], "ranking": [[i, ...], [j, ...], ...]}:
  a K-way ranking of response indices, best tier first; it expands to all its pairs, with the
  tier distance as margin.
"""

from __future__ import annotations

import hashlib
import json
import random
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from transformers import PreTrainedTokenizerBase

from training.pipeline.errors import PipelineError

Messages = list[dict[str, str]]


@dataclass(frozen=True)
class PreferencePair:
    prompt: Messages
    chosen: str
    rejected: str
    margin: float = 0.0
    # Labelled by a model (uncertainty routing's model labels), not by people: trained on,
    # never validated on, since validation would then measure agreement with that model.
    from_model: bool = False

    @property
    def prompt_key(self) -> str:
        """Identifies the prompt, so that pairs of one prompt stay on one side of a split."""
        return hashlib.sha1(
            json.dumps(self.prompt, sort_keys=True).encode(), usedforsecurity=False
        ).hexdigest()


def as_messages(prompt: object, line: int) -> Messages:
    if isinstance(prompt, str) and prompt.strip():
        return [{"role": "user", "content": prompt}]
    if (
        isinstance(prompt, list)
        and prompt
        and all(
            isinstance(m, dict) and isinstance(m.get("content"), str) and m.get("role")
            for m in prompt
        )
    ):
        return [{"role": str(m["role"]), "content": m["content"]} for m in prompt]
    raise PipelineError(f"line {line}: prompt must be text or a list of {{role, content}} messages")


def _reply(value: object, line: int, what: str) -> str:
    if isinstance(value, list) and value and isinstance(value[-1], dict):
        value = value[-1].get("content")
    if not isinstance(value, str) or not value.strip():
        raise PipelineError(f"line {line}: {what} must be non-empty text")
    return value


def ranking_pairs(
    prompt: Messages, responses: Sequence[str], ranking: Sequence[Sequence[int]], line: int = 0
) -> list[PreferencePair]:
    """All pairs a K-way ranking implies (ties give none), margin = tier distance."""
    flat = [index for tier in ranking for index in tier]
    if sorted(flat) != list(range(len(responses))):
        raise PipelineError(
            f"line {line}: ranking must name each of the {len(responses)} responses once"
        )
    pairs = []
    for upper, better_tier in enumerate(ranking):
        for lower in range(upper + 1, len(ranking)):
            for better in better_tier:
                for worse in ranking[lower]:
                    pairs.append(
                        PreferencePair(
                            prompt, responses[better], responses[worse], float(lower - upper)
                        )
                    )
    return pairs


def pairs_from_row(row: dict[str, Any], line: int) -> list[PreferencePair]:
    prompt = as_messages(row.get("prompt"), line)
    if "ranking" in row:
        responses = [_reply(r, line, "response") for r in row.get("responses") or []]
        return ranking_pairs(prompt, responses, row["ranking"], line)
    margin = row.get("margin", 0.0)
    if not isinstance(margin, int | float):
        raise PipelineError(f"line {line}: margin must be a number")
    pair = PreferencePair(
        prompt,
        _reply(row.get("chosen"), line, "chosen"),
        _reply(row.get("rejected"), line, "rejected"),
        float(margin),
        from_model=row.get("source") == "model",
    )
    return [pair]


def validate_pairs(pairs: Sequence[PreferencePair]) -> None:
    if not pairs:
        raise PipelineError("The dataset is empty: no preference pairs to train on")
    for index, pair in enumerate(pairs, start=1):
        if pair.chosen == pair.rejected:
            raise PipelineError(f"pair {index}: chosen and rejected are identical")


def read_pairs(path: Path) -> list[PreferencePair]:
    """Read a JSONL file of pairs or rankings, refusing bad rows with their line number."""
    if not path.is_file():
        raise PipelineError(f"No such data file: {path}")
    pairs: list[PreferencePair] = []
    with path.open(encoding="utf-8") as handle:
        for line, text in enumerate(handle, start=1):
            if not text.strip():
                continue
            try:
                row = json.loads(text)
            except json.JSONDecodeError as error:
                raise PipelineError(f"line {line}: invalid JSON ({error.msg})") from None
            if not isinstance(row, dict):
                raise PipelineError(f"line {line}: each row must be a JSON object")
            pairs.extend(pairs_from_row(row, line))
    validate_pairs(pairs)
    return pairs


def split_by_prompt(
    pairs: Sequence[PreferencePair], validation_fraction: float, seed: int
) -> tuple[list[PreferencePair], list[PreferencePair]]:
    """Train / validation split where every prompt lands on one side only; pairs a model
    labelled always train (validation measures agreement with people)."""
    keys = sorted({pair.prompt_key for pair in pairs if not pair.from_model})
    random.Random(seed).shuffle(keys)
    held_out = set(keys[: round(len(keys) * validation_fraction)])
    train = [pair for pair in pairs if pair.from_model or pair.prompt_key not in held_out]
    validation = [pair for pair in pairs if not pair.from_model and pair.prompt_key in held_out]
    return train, validation


def fold_by_prompt(pairs: Sequence[PreferencePair], folds: int, seed: int) -> list[int]:
    """Each pair's fold (0 to folds - 1) for k-fold cross-validation: the prompts are shuffled
    and dealt out in turn, so all pairs of a prompt share one fold and fold sizes differ by one
    prompt at most. Fewer prompts than folds is an error: a fold would be empty."""
    keys = sorted({pair.prompt_key for pair in pairs})
    if len(keys) < folds:
        raise PipelineError(
            f"--cv-folds {folds} needs at least {folds} prompts (each fold holds out whole "
            f"prompts) but the data has {len(keys)}: use fewer folds, or 0 for none"
        )
    random.Random(seed).shuffle(keys)
    fold_of_prompt = {key: index % folds for index, key in enumerate(keys)}
    return [fold_of_prompt[pair.prompt_key] for pair in pairs]


def nonblank_lines(path: Path, what: str) -> list[tuple[int, str]]:
    """A stage's input file's lines that hold something, with their 1-based numbers; a
    missing file, or one with nothing in it, is an error that names `what` it should hold."""
    if not path.is_file():
        raise PipelineError(f"No such {what} file: {path}")
    lines = path.read_text(encoding="utf-8").splitlines()
    found = [(line, text) for line, text in enumerate(lines, start=1) if text.strip()]
    if not found:
        raise PipelineError(f"{path} holds no {what}")
    return found


def read_prompts(path: Path) -> list[Messages]:
    """JSONL rows with `prompt` (text or messages), or plain text lines."""
    prompts = []
    for line, text in nonblank_lines(path, "prompts"):
        try:
            row = json.loads(text)
        except json.JSONDecodeError:
            row = {"prompt": text}
        value = row.get("prompt", row.get("conversation")) if isinstance(row, dict) else row
        prompts.append(as_messages(value, line))
    return prompts


def encode_prompt(tokenizer: PreTrainedTokenizerBase, prompt: Messages) -> list[int]:
    """The prompt with the chat template and the assistant turn opened."""
    ids = tokenizer.apply_chat_template(prompt, add_generation_prompt=True, tokenize=True)
    return _token_list(ids)


def encode_exchange(tokenizer: PreTrainedTokenizerBase, prompt: Messages, reply: str) -> list[int]:
    """Prompt and reply through the chat template, as a reward model reads them."""
    messages = [*prompt, {"role": "assistant", "content": reply}]
    ids = tokenizer.apply_chat_template(messages, tokenize=True)
    return _token_list(ids)


def _token_list(encoded: Any) -> list[int]:
    """apply_chat_template gives a BatchEncoding (a Mapping) in transformers 5, a list before."""
    ids = encoded["input_ids"] if isinstance(encoded, Mapping) else encoded
    return [int(token) for token in ids]


def encode_pairs(
    tokenizer: PreTrainedTokenizerBase, pairs: Sequence[PreferencePair], max_length: int
) -> list[dict[str, Any]]:
    """Token ids of both sides of each pair; a pair longer than `max_length` is an error
    naming it, not a silent truncation that could cut off the difference."""
    rows = []
    for index, pair in enumerate(pairs, start=1):
        chosen = encode_exchange(tokenizer, pair.prompt, pair.chosen)
        rejected = encode_exchange(tokenizer, pair.prompt, pair.rejected)
        longest = max(len(chosen), len(rejected))
        if longest > max_length:
            raise PipelineError(
                f"pair {index} is {longest} tokens long, more than the context of {max_length}: "
                "shorten it or raise --max-length"
            )
        rows.append({"chosen_ids": chosen, "rejected_ids": rejected, "margin": pair.margin})
    return rows


def length_buckets(lengths: Sequence[int], batch_size: int, seed: int) -> list[list[int]]:
    """Batches of indices with similar lengths (sorted within shuffled windows of 50 batches),
    in random order: little padding, still a random walk through the data. The one short batch,
    if any, comes last, so a loader that chunks the flat index stream keeps the buckets."""
    rng = random.Random(seed)
    order = list(range(len(lengths)))
    rng.shuffle(order)
    window = batch_size * 50
    batches: list[list[int]] = []
    for start in range(0, len(order), window):
        chunk = sorted(order[start : start + window], key=lambda i: lengths[i], reverse=True)
        batches.extend(chunk[i : i + batch_size] for i in range(0, len(chunk), batch_size))
    full = [batch for batch in batches if len(batch) == batch_size]
    rng.shuffle(full)
    return full + [batch for batch in batches if len(batch) < batch_size]
