"""Pure: which of a generation round's new tasks go to people and which the reward model labels
(a campaign's `routing` setting). No ORM.

Every answer comes with its reward under each of the reward-model ensemble's heads. A pair's
margin under one head is the difference of the two answers' rewards; its confidence is how
many head standard deviations the mean margin lies from zero, |mean| / std. It is small when
the heads disagree, and small when they agree the pair is a coin toss. A task is as confident
as its least confident pair.

Per prompt, the tasks below the campaign's `routing_confidence` go to raters, at most
`human_tasks_per_prompt` of them (0: no limit): first those whose labels would tell the
ensemble most (BALD: the mutual information between a person's label and the heads, high
where the heads disagree and zero where they all call the pair a coin toss, whose label would
teach nothing). `make bench-active` measured that order against the least confident first:
on HH it saved 64 % of the judgments where least-confident-first lost (docs/training.md).
A task at or above the threshold is labelled by the model: each of its pairs in the order of
the heads' mean reward, stored as a model label, never as a judgment. An uncertain task over
the budget gets neither: its answers are kept as responses of the prompt, and the round
counts it (`over_budget_tasks`).

Under judge routing an LLM judge compared every two answers in both orders instead. A pair's
confidence is then the judge's log-odds in the less sure order when both orders pick the same
answer, and minus infinity when they disagree (its position bias decided it); the same
threshold and budget apply, the least sure first, and the judge's pre-labels are stored with
source `judge`."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from itertools import combinations
from statistics import fmean, stdev

HeadScores = Sequence[float]  # one answer's reward under each head


def pair_confidence(first: HeadScores, second: HeadScores) -> float:
    """|mean margin| / its standard deviation over the heads (infinite when the heads agree
    exactly on a margin other than zero; zero for a zero mean)."""
    margins = [a - b for a, b in zip(first, second, strict=True)]
    mean = fmean(margins)
    if mean == 0:
        return 0.0
    spread = stdev(margins) if len(margins) > 1 else 0.0
    return abs(mean) / spread if spread > 0 else math.inf


def task_confidence(answers: Sequence[HeadScores]) -> float:
    """The confidence of the task's least confident pair."""
    return min(pair_confidence(a, b) for a, b in combinations(answers, 2))


@dataclass(frozen=True)
class ModelPair:
    """One pair the model labels: indices into the task's answers, chosen first."""

    chosen: int
    rejected: int
    margin: float  # mean reward margin over the heads, chosen - rejected (>= 0)
    confidence: float


def model_pairs(answers: Sequence[HeadScores]) -> list[ModelPair]:
    """Every pair of the task, the answer of higher mean reward chosen."""
    means = [fmean(scores) for scores in answers]
    pairs = []
    for a, b in combinations(range(len(answers)), 2):
        chosen, rejected = (a, b) if means[a] >= means[b] else (b, a)
        pairs.append(
            ModelPair(
                chosen,
                rejected,
                means[chosen] - means[rejected],
                pair_confidence(answers[chosen], answers[rejected]),
            )
        )
    return pairs


def confident(tasks_by_prompt: dict[int, list[tuple[int, float]]], threshold: float) -> set[int]:
    """The tasks the model labels: those whose confidence reaches `threshold`."""
    return {i for tasks in tasks_by_prompt.values() for i, c in tasks if c >= threshold}


def to_raters(
    tasks_by_prompt: dict[int, list[tuple[int, float]]],
    threshold: float,
    per_prompt: int,
    information: dict[int, float] | None = None,
) -> set[int]:
    """Which tasks people judge: `tasks_by_prompt` maps a prompt to its (task index,
    confidence) pairs; per prompt, of the tasks below `threshold`, at most `per_prompt` (0: no
    limit): those whose labels would tell the ensemble most first (`information`), else the
    least confident first."""
    chosen: set[int] = set()
    for tasks in tasks_by_prompt.values():
        uncertain = [(c, i) for i, c in tasks if c < threshold]
        if information is not None:
            uncertain.sort(key=lambda task: (-information[task[1]], task[1]))
        else:
            uncertain.sort()
        limit = len(uncertain) if per_prompt == 0 else per_prompt
        chosen.update(i for _, i in uncertain[:limit])
    return chosen


def _entropy(p: float) -> float:
    q = min(max(p, 1e-12), 1 - 1e-12)
    return -(q * math.log(q) + (1 - q) * math.log(1 - q))


def pair_information(first: HeadScores, second: HeadScores) -> float:
    """How much a person's label on the pair would tell the ensemble, in nats (BALD: the
    entropy of the heads' mean P(first wins) minus their mean entropy, each head's P being
    σ(its margin)). Large when the heads disagree; zero when they all agree, even on a coin
    toss, whose label would teach nothing."""
    p = [
        1 / (1 + math.exp(-max(min(a - b, 50.0), -50.0)))
        for a, b in zip(first, second, strict=True)
    ]
    return _entropy(fmean(p)) - fmean(_entropy(q) for q in p)


def task_information(answers: Sequence[HeadScores]) -> float:
    """What a ranking of the task would tell: the sum over its pairs."""
    return sum(pair_information(a, b) for a, b in combinations(answers, 2))


# -- judge routing: an LLM judge's verdicts in both orders instead of the heads' spread ----------

# The judge on answers (a, b): its log-odds that a is better with a shown first, then second.
OrderedVerdict = tuple[float, float]


def swapped(verdict: OrderedVerdict) -> OrderedVerdict:
    """The same verdict read for (b, a): b shown first is a shown second, and the odds flip."""
    return -verdict[1], -verdict[0]


def verdict_confidence(verdict: OrderedVerdict | None) -> float:
    """The log-odds of the less sure order when both orders pick the same answer; minus
    infinity when they disagree or the pair was not judged, so that no threshold, not even 0,
    lets the judge label it."""
    if verdict is None or verdict[0] * verdict[1] <= 0:
        return -math.inf
    return min(abs(verdict[0]), abs(verdict[1]))


def judge_task_confidence(verdicts: Sequence[OrderedVerdict | None]) -> float:
    """A task is as sure as the judge's least sure pair."""
    return min(verdict_confidence(v) for v in verdicts)


def judge_label(first: int, second: int, verdict: OrderedVerdict) -> ModelPair:
    """The pair (indices `first`, `second`) in the order the judge picked, averaged over both
    orders; its margin is that mean log-odds."""
    mean = (verdict[0] + verdict[1]) / 2
    chosen, rejected = (first, second) if mean >= 0 else (second, first)
    return ModelPair(chosen, rejected, abs(mean), verdict_confidence(verdict))
