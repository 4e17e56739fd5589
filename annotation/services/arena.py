"""A private arena: its leaderboards, and the blind pairwise tasks it asks people for.

An arena campaign's prompts are answered by models (registered versions through an "arena
answers" run, external models through an import naming each answer's generator). Its tasks
are never built from those answers directly: the arena keeps a few open tasks, and each new
one compares the two models whose comparison narrows the leaderboard most (annotation/arena.py
chooses), or the pair a promotion gate is waiting on. A task's two answers are in a random
order, recorded in the task, and every rater sees them in an order of their own, recorded in
the assignment; raters never see which model wrote what.
"""

from __future__ import annotations

import logging
import random
from dataclasses import dataclass
from itertools import combinations, cycle, islice

from django.db import transaction

from annotation.arena import N_BOOT, Comparisons, Leaderboard, fit_leaderboard, next_pair
from annotation.models import Campaign, CampaignStatus, Prompt, RankingTask, Response
from annotation.selectors.arena import (
    AnswersByPrompt,
    arena_answers,
    arena_comparisons,
    arena_models,
    open_task_count,
    tasks_per_prompt,
)
from common.errors import InvalidInput

logger = logging.getLogger(__name__)

# Open tasks an arena keeps ready: enough for a few raters at once, few enough that each new
# task is chosen from a recent fit.
ARENA_OPEN_TASKS = 6
# The top is not called separated on fewer tasks than this (a task's raters count once),
# whatever the bootstrap says.
ARENA_MIN_TASKS = 20
# Up to this many comparisons the leaderboard's intervals come from annotation.arena.N_BOOT
# bootstrap resamples of the tasks; beyond it (where each fit of a resample costs more than a
# page should wait, about 0.6 s per 5,000 comparisons here), from the fit's task-clustered
# Wald covariance, which that much data makes accurate.
LEADERBOARD_BOOTSTRAP_MAX = 10_000

_random = random.SystemRandom()


@dataclass(frozen=True)
class ArenaBoards:
    models: tuple[str, ...]
    plain: Leaderboard
    length_controlled: Leaderboard
    next_pair: tuple[str, str]
    open_tasks: int
    min_tasks: int = ARENA_MIN_TASKS


def _require_arena(campaign: Campaign) -> list[str]:
    if not campaign.is_arena:
        raise InvalidInput(
            f"Campaign {campaign.name!r} is not an arena: create one with is_arena set.",
            code="not_an_arena",
        )
    models = arena_models(campaign_id=campaign.pk)
    if len(models) < 2:
        have = f"only {models[0]!r}" if models else "none yet"
        raise InvalidInput(
            f"An arena needs answers from at least two models to rank; this one has {have}. "
            "Import answers that name their generator, or start an arena-answers run.",
            code="arena_needs_two_models",
        )
    return models


def arena_boards(campaign: Campaign) -> ArenaBoards:
    """The arena's Bradley-Terry leaderboard and its length-controlled variant."""
    models = _require_arena(campaign)
    comparisons = arena_comparisons(campaign_id=campaign.pk, models=models)
    resamples = N_BOOT if comparisons.size <= LEADERBOARD_BOOTSTRAP_MAX else 0
    plain, controlled = (
        fit_leaderboard(
            comparisons,
            len(models),
            length_controlled=controlled,
            n_boot=resamples,
            min_tasks=ARENA_MIN_TASKS,
        )
        for controlled in (False, True)
    )
    answers = arena_answers(campaign_id=campaign.pk)
    allowed = askable_pairs(answers, models)
    focus = _focus(campaign, models)
    if focus is not None and frozenset(focus) in allowed:
        a, b = focus
    else:
        a, b = _choice(comparisons, models, allowed)
    return ArenaBoards(
        tuple(models),
        plain,
        controlled,
        (models[a], models[b]),
        open_task_count(campaign_id=campaign.pk),
    )


def _focus(campaign: Campaign, models: list[str]) -> tuple[int, int] | None:
    """The first pair a promotion gate waits on whose models both answered."""
    for pair in campaign.arena_focus or []:
        if len(pair) == 2 and pair[0] in models and pair[1] in models:
            return models.index(pair[0]), models.index(pair[1])
    return None


def askable_pairs(answers: AnswersByPrompt, models: list[str]) -> set[frozenset[int]]:
    """The model pairs that answered at least one prompt in common (the only ones a task can
    compare)."""
    index = {name: i for i, name in enumerate(models)}
    pairs: set[frozenset[int]] = set()
    for by in answers.values():
        answered = sorted(index[name] for name in by if name in index)
        pairs.update(frozenset(pair) for pair in combinations(answered, 2))
    return pairs


def _pairs_to_ask(
    campaign: Campaign, answers: AnswersByPrompt, models: list[str], need: int
) -> list[tuple[int, int]]:
    """The model pairs of the next `need` tasks: a gate's pair; before any comparison, every
    pair in turn; otherwise the pair the current fit most wants compared. Only pairs that
    answered a prompt in common (else a pair no task can compare would be asked forever)."""
    allowed = askable_pairs(answers, models)
    focus = _focus(campaign, models)
    if focus is not None and frozenset(focus) in allowed:
        return [focus] * need
    if not allowed:
        return []
    comparisons = arena_comparisons(campaign_id=campaign.pk, models=models)
    if comparisons.size == 0:
        in_turn = [
            pair for pair in combinations(range(len(models)), 2) if frozenset(pair) in allowed
        ]
        return list(islice(cycle(in_turn), need))
    return [_choice(comparisons, models, allowed)] * need


def _choice(
    comparisons: Comparisons, models: list[str], allowed: set[frozenset[int]]
) -> tuple[int, int]:
    """The pair the current fit most wants compared, from its Wald intervals: milliseconds
    where a bootstrap took 0.5 s at 5,000 comparisons, in a rater's request, and chose as
    well (20 simulated arenas of five models: the top separated after 124 ± 72 comparisons,
    against 120 ± 71 choosing from 100 resamples and 306 ± 236 choosing at random)."""
    return next_pair(fit_leaderboard(comparisons, len(models), n_boot=0), allowed or None)


def _new_tasks(
    campaign: Campaign, answers: AnswersByPrompt, pairs: list[tuple[str, str]]
) -> list[RankingTask]:
    """One task per pair, on the prompts both models answered that have fewest tasks yet; the
    answers drawn at random among each model's, in a random order."""
    used = tasks_per_prompt(campaign_id=campaign.pk)
    tasks = []
    for a, b in pairs:
        shared = [p for p, by in answers.items() if a in by and b in by]
        if not shared:
            continue
        prompt = min(shared, key=lambda p: (used[p], _random.random()))
        used[prompt] += 1
        ids = [_random.choice(answers[prompt][a]), _random.choice(answers[prompt][b])]
        _random.shuffle(ids)
        tasks.append(
            RankingTask(
                campaign=campaign,
                prompt_id=prompt,
                response_ids=ids,
                required_judgments=campaign.overlap,
            )
        )
    return RankingTask.objects.bulk_create(tasks)


def _wanted(campaign_id: int) -> tuple[Campaign, AnswersByPrompt, list[str], int] | None:
    campaign = Campaign.objects.filter(pk=campaign_id).first()
    if campaign is None or not campaign.is_arena or campaign.status == CampaignStatus.ARCHIVED:
        return None
    need = ARENA_OPEN_TASKS - open_task_count(campaign_id=campaign_id)
    if need <= 0:
        return None
    answers = arena_answers(campaign_id=campaign_id)
    models = sorted({name for by in answers.values() for name in by})
    return (campaign, answers, models, need) if len(models) >= 2 else None


def top_up_arena(*, campaign_id: int) -> int:
    """Up to ARENA_OPEN_TASKS open tasks, each new one chosen from the current comparisons;
    returns how many were created. The choice is computed first; the tasks are written under
    the campaign's row lock, after counting the open ones again (so two top-ups at once never
    overfill, and an import or an edit of the campaign never waits on a fit)."""
    wanted = _wanted(campaign_id)
    if wanted is None:
        return 0
    campaign, answers, models, need = wanted
    pairs = [(models[a], models[b]) for a, b in _pairs_to_ask(campaign, answers, models, need)]
    with transaction.atomic():
        if Campaign.objects.select_for_update().filter(pk=campaign_id).first() is None:
            return 0
        need = ARENA_OPEN_TASKS - open_task_count(campaign_id=campaign_id)
        return len(_new_tasks(campaign, answers, pairs[: max(need, 0)]))


def top_up_arena_after_commit(campaign_id: int) -> None:
    """After a judgment or new answers: the arena's next tasks, once the transaction commits
    (a failure here is logged; what was stored stays stored)."""
    transaction.on_commit(lambda: top_up_arena(campaign_id=campaign_id), robust=True)


def set_arena_focus(*, campaign_id: int, pair: tuple[str, str], waiting: bool) -> None:
    """Adds (waiting) or removes a model pair a promotion gate waits on."""
    with transaction.atomic():
        campaign = Campaign.objects.select_for_update().filter(pk=campaign_id).first()
        if campaign is None:  # the arena is gone: nothing waits on it any more
            return
        focus = [list(p) for p in campaign.arena_focus or [] if list(p) != list(pair)]
        if waiting:
            focus.append(list(pair))
        Campaign.objects.filter(pk=campaign_id).update(arena_focus=focus)


def add_arena_answers(
    *,
    campaign: Campaign,
    answers: dict[int, list[str]],
    generator: str,
    generator_version_id: int | None,
    batch_key: str,
) -> int:
    """One model's answers (prompt id -> texts) stored in the arena under its name, and the
    arena's open tasks topped up with them, in one transaction. Once per (batch_key,
    generator): a retried finish adds nothing. Returns how many answers were stored."""
    name = generator[:200]
    with transaction.atomic():
        known = Response.objects.filter(
            prompt__campaign=campaign, generator=name, metadata__arena_batch=batch_key
        )
        if known.exists():
            return 0
        existing = set(
            Prompt.objects.filter(campaign=campaign, pk__in=answers).values_list("pk", flat=True)
        )
        stored = Response.objects.bulk_create(
            Response(
                prompt_id=prompt_id,
                text=text,
                generator=name,
                generator_version_id=generator_version_id,
                metadata={"arena_batch": batch_key},
            )
            for prompt_id, texts in answers.items()
            if prompt_id in existing
            for text in texts
        )
        top_up_arena(campaign_id=campaign.pk)
    return len(stored)
