"""What an arena campaign holds: which models answered which prompts, and the outcomes of the
comparisons people made between them (as annotation/arena.py's arrays)."""

from __future__ import annotations

import math
from collections import Counter

import numpy as np
from django.db.models import F

from annotation.arena import Comparisons
from annotation.models import Preference, RankingTask, Response

# {prompt id: {model name: [response ids]}}
AnswersByPrompt = dict[int, dict[str, list[int]]]


def arena_answers(*, campaign_id: int) -> AnswersByPrompt:
    """Every named answer in the campaign, by prompt and model."""
    answers: AnswersByPrompt = {}
    rows = (
        Response.objects.filter(prompt__campaign_id=campaign_id)
        .exclude(generator="")
        .order_by("id")
        .values_list("prompt_id", "generator", "id")
    )
    for prompt_id, generator, response_id in rows:
        answers.setdefault(prompt_id, {}).setdefault(generator, []).append(response_id)
    return answers


def arena_models(*, campaign_id: int) -> list[str]:
    """The models that answered at least one of the campaign's prompts, by name."""
    names = (
        Response.objects.filter(prompt__campaign_id=campaign_id)
        .exclude(generator="")
        .values_list("generator", flat=True)
        .distinct()
    )
    return sorted(names)


def arena_comparisons(*, campaign_id: int, models: list[str]) -> Comparisons:
    """People's comparisons between the named models (repeats and gold tasks left out), with
    the log length ratio of the two answers; `first` is the answer they chose (a tie: 0.5).
    One task's raters form a cluster (the bootstrap resamples tasks, not judgments)."""
    index = {name: i for i, name in enumerate(models)}
    rows = Preference.objects.filter(
        task__campaign_id=campaign_id, task__is_gold=False, judgment__is_repeat=False
    ).values_list(
        "chosen__generator",
        "rejected__generator",
        "is_tie",
        "chosen__length_chars",
        "rejected__length_chars",
        "task_id",
    )
    first, second, outcome, ratio, task = [], [], [], [], []
    for chosen, rejected, tie, chosen_len, rejected_len, task_id in rows:
        if chosen not in index or rejected not in index or chosen == rejected:
            continue
        task.append(task_id)
        first.append(index[chosen])
        second.append(index[rejected])
        outcome.append(0.5 if tie else 1.0)
        ratio.append(math.log(max(chosen_len, 1) / max(rejected_len, 1)))
    return Comparisons(
        np.array(first, dtype=np.int64),
        np.array(second, dtype=np.int64),
        np.array(outcome, dtype=np.float64),
        np.array(ratio, dtype=np.float64),
        cluster=np.array(task, dtype=np.int64),
    )


def head_to_head_outcomes(*, campaign_id: int, a: str, b: str) -> np.ndarray:
    """The outcomes for `a` of people's direct comparisons of `a` with `b`, one per task (the
    mean over its raters: 1, 0, 0.5 for a tie, or between), in the order the tasks were
    first judged (repeats and gold tasks left out)."""
    rows = (
        Preference.objects.filter(
            task__campaign_id=campaign_id,
            task__is_gold=False,
            judgment__is_repeat=False,
            chosen__generator__in=(a, b),
            rejected__generator__in=(a, b),
        )
        .exclude(chosen__generator=F("rejected__generator"))
        .order_by("judgment__submitted_at", "id")
        .values_list("task_id", "chosen__generator", "is_tie")
    )
    per_task: dict[int, list[float]] = {}
    for task_id, chosen, tie in rows:
        per_task.setdefault(task_id, []).append(0.5 if tie else float(chosen == a))
    return np.array([sum(v) / len(v) for v in per_task.values()], dtype=np.float64)


def tasks_per_prompt(*, campaign_id: int) -> Counter[int]:
    """How many arena tasks each prompt already has."""
    rows = RankingTask.objects.filter(campaign_id=campaign_id).values_list("prompt_id", flat=True)
    return Counter(rows)


def open_task_count(*, campaign_id: int) -> int:
    return RankingTask.objects.filter(campaign_id=campaign_id, status="open", is_gold=False).count()
