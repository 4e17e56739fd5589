"""An LLM judge: any causal LM asked which of two answers is better, once in each order.

The judge reads the conversation and the two answers labelled A and B, and the assistant turn
is opened; its verdict is the log-odds of its next token being "A" rather than "B" (the two
letters' logits, nothing sampled). Asking again with the answers swapped gives the second
order. A judge with no position preference gives opposite log-odds for the swapped question;
one that prefers whatever is shown first gives the same sign both times, and that verdict is
not order-consistent. Verdicts are written with the first answer's log-odds under each order
(`first_shown_first`, `first_shown_second`), so the app can score the judge like a rater.
"""

from __future__ import annotations

import itertools
import json
import math
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from tqdm.auto import tqdm
from transformers import PreTrainedModel, PreTrainedTokenizerBase

from training.pipeline.data import Messages, as_messages, encode_prompt, nonblank_lines
from training.pipeline.errors import PipelineError
from training.pipeline.model_loading import load_causal_lm, load_tokenizer, model_max_length
from training.pipeline.options import JudgeConfig
from training.pipeline.progress import ProgressLog

INSTRUCTIONS = (
    "You judge answers to a user's request. Read the conversation and the two answers, then "
    "say which answer is better: more helpful, more correct, more honest and safer. Length is "
    "not a merit in itself. Reply with one letter: A or B."
)
LETTERS = ("A", "B")


@dataclass(frozen=True)
class JudgePair:
    prompt: Messages
    first: str
    second: str
    ids: dict[str, Any]  # passed through to the verdict (the app's response ids)


@dataclass(frozen=True)
class Verdict:
    first_shown_first: float  # log-odds that `first` is better, with it shown as A
    first_shown_second: float  # the same, with it shown as B

    @property
    def consistent(self) -> bool:
        return self.first_shown_first * self.first_shown_second > 0

    @property
    def log_odds(self) -> float:
        """For `first`, averaged over the two orders: the position effect cancels."""
        return (self.first_shown_first + self.first_shown_second) / 2


def read_judge_pairs(path: Path) -> list[JudgePair]:
    """JSONL rows {prompt, first, second, ...}; the other keys ride along to the verdicts."""
    pairs = []
    for line, text in nonblank_lines(path, "pairs"):
        try:
            row = json.loads(text)
        except json.JSONDecodeError as error:
            raise PipelineError(f"line {line}: invalid JSON ({error.msg})") from None
        if not isinstance(row, dict):
            raise PipelineError(f"line {line}: expected an object with prompt, first and second")
        first, second = row.get("first"), row.get("second")
        if not (
            isinstance(first, str) and first.strip() and isinstance(second, str) and second.strip()
        ):
            raise PipelineError(f"line {line}: first and second must be non-empty text")
        extra = {k: v for k, v in row.items() if k not in ("prompt", "first", "second")}
        pairs.append(JudgePair(as_messages(row.get("prompt"), line), first, second, extra))
    return pairs


def letter_ids(tokenizer: PreTrainedTokenizerBase) -> tuple[int, int]:
    """The token ids of the answers' letters; a tokenizer that cannot spell them as two
    distinct single tokens cannot serve as a judge here."""
    ids = []
    for letter in LETTERS:
        encoded = tokenizer.encode(letter, add_special_tokens=False)
        if len(encoded) != 1:
            raise PipelineError(f"the judge's tokenizer spells {letter!r} in {len(encoded)} tokens")
        ids.append(int(encoded[0]))
    if ids[0] == ids[1]:
        raise PipelineError("the judge's tokenizer gives A and B the same token")
    return ids[0], ids[1]


def _clip(tokenizer: PreTrainedTokenizerBase, text: str, tokens: int) -> str:
    ids = tokenizer.encode(text, add_special_tokens=False)
    if len(ids) <= tokens:
        return text
    return str(tokenizer.decode(ids[:tokens], skip_special_tokens=True)) + " [...]"


def _question(conversation: str, a: str, b: str) -> Messages:
    body = f"Conversation:\n{conversation}\n\nAnswer A:\n{a}\n\nAnswer B:\n{b}\n\nBetter answer:"
    return [{"role": "system", "content": INSTRUCTIONS}, {"role": "user", "content": body}]


def _questions(
    tokenizer: PreTrainedTokenizerBase, pair: JudgePair, a: str, b: str, limit: int, number: int
) -> tuple[list[int], list[int]]:
    """The token ids of the question in each order, within the judge's context. A
    conversation too long for it keeps its end (the latest turns; a last turn too long alone
    keeps its own end), cut the same for both orders; answers that leave the conversation no
    room are the settings' fault (max_answer_tokens), said as such."""
    conversation = "\n".join(f"{m['role'].upper()}: {m['content']}" for m in pair.prompt)
    own = tokenizer.encode(conversation, add_special_tokens=False)
    keep = len(own)
    while True:
        text = (
            conversation
            if keep == len(own)
            else "[...] " + str(tokenizer.decode(own[len(own) - keep :], skip_special_tokens=True))
        )
        orders = [encode_prompt(tokenizer, _question(text, x, y)) for x, y in ((a, b), (b, a))]
        overflow = max(len(ids) for ids in orders) - limit
        if overflow <= 0:
            return orders[0], orders[1]
        # Text re-tokenises a little differently once cut: give up a few tokens more each try.
        keep -= overflow + 8
        if keep <= 0:
            raise PipelineError(
                f"pair {number}'s answers leave no room for its conversation within the "
                f"judge's {limit} tokens: lower max_answer_tokens"
            )


@torch.no_grad()
def _log_odds(
    model: PreTrainedModel, tokenizer: PreTrainedTokenizerBase, questions: list[list[int]]
) -> list[float]:
    """log P(A) - log P(B) at each question's next token, over one batch. Padded on the right,
    so every question keeps the positions it has alone; each row is read at its own end."""
    letter_a, letter_b = letter_ids(tokenizer)
    width = max(len(ids) for ids in questions)
    input_ids = torch.full((len(questions), width), int(tokenizer.pad_token_id), dtype=torch.long)
    attention = torch.zeros_like(input_ids)
    for row, ids in enumerate(questions):
        input_ids[row, : len(ids)] = torch.tensor(ids)
        attention[row, : len(ids)] = 1
    device = next(model.parameters()).device
    logits = model(input_ids=input_ids.to(device), attention_mask=attention.to(device)).logits
    ends = torch.tensor([len(ids) - 1 for ids in questions], device=logits.device)
    last = logits[torch.arange(len(questions), device=logits.device), ends].float()
    return (last[:, letter_a] - last[:, letter_b]).cpu().tolist()


def judge_pairs(
    model: PreTrainedModel,
    tokenizer: PreTrainedTokenizerBase,
    pairs: Sequence[JudgePair],
    config: JudgeConfig,
    log: ProgressLog | None = None,
) -> list[Verdict]:
    """Each pair's verdict, asked in both orders, in batches of `config.batch_size` pairs."""
    model.eval()
    limit = model_max_length(model)
    verdicts: list[Verdict] = []
    for start in tqdm(range(0, len(pairs), config.batch_size), desc="judge", unit="batch"):
        questions: list[list[int]] = []
        for number, pair in enumerate(pairs[start : start + config.batch_size], start + 1):
            first = _clip(tokenizer, pair.first, config.max_answer_tokens)
            second = _clip(tokenizer, pair.second, config.max_answer_tokens)
            questions += _questions(tokenizer, pair, first, second, limit, number)
        odds = _log_odds(model, tokenizer, questions)
        if not all(math.isfinite(v) for v in odds):
            raise PipelineError("the judge gave a log-odds that is not a number")
        # First order: A is `first`. Second order: A is `second`, so `first`'s odds flip sign.
        verdicts += [Verdict(odds[i], -odds[i + 1]) for i in range(0, len(odds), 2)]
        if log is not None:
            log.write("judge", len(verdicts), len(pairs))
    return verdicts


def judge_answers(
    judge: str | None, prompts: Sequence[Messages], answers: Sequence[Sequence[str]]
) -> list[list[dict[str, Any]]] | None:
    """Under judge routing: per prompt, the verdict on every two of its distinct, non-empty
    answers ({first, second: indices into its answers, and both orders' log-odds}); None
    without a judge."""
    if judge is None:
        return None
    config = JudgeConfig(judge=judge)
    tokenizer = load_tokenizer(judge)
    letter_ids(tokenizer)
    model = load_causal_lm(judge)
    where: list[tuple[int, int, int]] = []
    pairs: list[JudgePair] = []
    for index, (prompt, texts) in enumerate(zip(prompts, answers, strict=True)):
        kept = {text.strip(): n for n, text in reversed(list(enumerate(texts))) if text.strip()}
        order = sorted(kept.values())
        for a, b in itertools.combinations(order, 2):
            where.append((index, a, b))
            pairs.append(JudgePair(prompt, texts[a], texts[b], {}))
    verdicts = judge_pairs(model, tokenizer, pairs, config) if pairs else []
    rows: list[list[dict[str, Any]]] = [[] for _ in prompts]
    for (index, a, b), verdict in zip(where, verdicts, strict=True):
        rows[index].append(
            {
                "first": a,
                "second": b,
                "first_shown_first": round(verdict.first_shown_first, 6),
                "first_shown_second": round(verdict.first_shown_second, 6),
            }
        )
    return rows


def summarise(verdicts: Sequence[Verdict], prelabel_margin: float) -> dict[str, Any]:
    """What the stage reports: how many verdicts were order-consistent, how many are sure
    enough to pre-label, and how often the judge picked the answer shown first."""
    n = len(verdicts)
    consistent = sum(v.consistent for v in verdicts)
    sure = sum(
        v.consistent and min(abs(v.first_shown_first), abs(v.first_shown_second)) >= prelabel_margin
        for v in verdicts
    )
    # Calls that picked the answer shown first: `first` in the first order, `second` in the other.
    shown_first = sum((v.first_shown_first > 0) + (v.first_shown_second < 0) for v in verdicts)
    return {
        "pairs": n,
        "consistent": consistent,
        "consistent_share": consistent / n if n else None,
        "prelabels": sure,
        "first_shown_share": shown_first / (2 * n) if n else None,
    }


def judge_to_folder(config: JudgeConfig, pairs: Sequence[JudgePair], out: Path) -> dict[str, Any]:
    """verdicts.jsonl (one row per pair, its ids passed through) and the summary."""
    tokenizer = load_tokenizer(config.judge)
    letter_ids(tokenizer)  # refused before the model loads
    model = load_causal_lm(config.judge, dtype=torch.bfloat16 if config.bf16 else torch.float32)
    log = ProgressLog(out)
    started = time.perf_counter()
    verdicts = judge_pairs(model, tokenizer, pairs, config, log)
    staging = out / "verdicts.partial"
    with staging.open("w", encoding="utf-8") as handle:
        for pair, verdict in zip(pairs, verdicts, strict=True):
            row = pair.ids | {
                "first_shown_first": round(verdict.first_shown_first, 6),
                "first_shown_second": round(verdict.first_shown_second, 6),
            }
            handle.write(json.dumps(row) + "\n")
    staging.replace(out / "verdicts.jsonl")
    return summarise(verdicts, config.prelabel_margin) | {
        "judge": config.judge,
        "seconds": time.perf_counter() - started,
    }
