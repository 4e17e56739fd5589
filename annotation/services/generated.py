"""Responses a policy generated for a campaign's prompts become ranking tasks for its raters,
which closes the loop: the next judgments are about the newest policy's answers. Under a
campaign's uncertainty routing, the tasks the reward-model ensemble is sure of are labelled by
it instead (annotation/routing.py)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from django.db import transaction

from annotation.models import (
    Campaign,
    JudgmentMode,
    LabelSource,
    ModelLabel,
    RankingTask,
    Response,
    RoutingMode,
)
from annotation.routing import HeadScores, confident, model_pairs, task_confidence, to_raters

CONFIDENCE_CAP = 1e9  # stored in place of an infinite confidence (heads agreeing exactly)


@dataclass(frozen=True)
class GeneratedAnswers:
    prompt_id: int
    texts: list[str]
    # Each answer's reward under every head of the routing reward model (None: not scored).
    heads: list[list[float]] | None = None


@dataclass(frozen=True)
class Labeller:
    """The reward model that scored the answers."""

    name: str
    version_id: int | None


@dataclass(frozen=True)
class GeneratedBatch:
    tasks: int  # opened for raters
    model_tasks: int = 0  # labelled by the model instead
    model_labels: int = 0  # the pairs those hold
    over_budget: int = 0  # uncertain, but over the human budget per prompt: neither


def _task_groups(
    texts: list[str], size: int, heads: list[list[float]] | None = None
) -> list[list[tuple[str, HeadScores]]]:
    """Distinct, non-empty answers (with their head scores) in groups of `size`; a last group
    of one is dropped (there is nothing to rank it against)."""
    scores = heads if heads is not None else [[] for _ in texts]
    distinct: dict[str, HeadScores] = {}
    # A repeated answer keeps its first copy's scores (copies differing only in surrounding
    # space were scored apart; their scores differ little).
    for text, score in zip(texts, scores, strict=True):
        if text.strip():
            distinct.setdefault(text.strip(), score)
    items = list(distinct.items())
    groups = [items[start : start + size] for start in range(0, len(items), size)]
    return [group for group in groups if len(group) >= 2]


def _routes(
    campaign: Campaign, grouped: list[tuple[int, list[tuple[str, HeadScores]]]], scored: bool
) -> tuple[set[int], set[int]]:
    """The indices of the groups people judge and of those the model labels: all to people,
    unless the campaign routes by uncertainty and the answers were scored."""
    if campaign.routing != RoutingMode.UNCERTAINTY or not scored:
        return set(range(len(grouped))), set()
    by_prompt: dict[int, list[tuple[int, float]]] = {}
    for index, (prompt_id, group) in enumerate(grouped):
        confidence = task_confidence([score for _, score in group])
        by_prompt.setdefault(prompt_id, []).append((index, confidence))
    threshold = campaign.routing_confidence
    human = to_raters(by_prompt, threshold, campaign.human_tasks_per_prompt)
    return human, confident(by_prompt, threshold)


def _model_labels(
    grouped: list[tuple[int, list[tuple[str, HeadScores]]]],
    group_ids: list[list[int]],
    labelled: set[int],
    labeller: Labeller,
) -> list[ModelLabel]:
    """Every pair of each group the model labels, in the order of the heads' mean reward."""
    return [
        ModelLabel(
            prompt_id=prompt_id,
            chosen_id=group_ids[index][pair.chosen],
            rejected_id=group_ids[index][pair.rejected],
            source=LabelSource.MODEL,
            labeller=labeller.name[:200],
            labeller_version_id=labeller.version_id,
            margin=pair.margin,
            confidence=min(pair.confidence, CONFIDENCE_CAP),
        )
        for index, (prompt_id, group) in enumerate(grouped)
        if index in labelled
        for pair in model_pairs([score for _, score in group])
    ]


def _store_responses(
    grouped: list[tuple[int, list[tuple[str, HeadScores]]]],
    generator: str,
    generator_version_id: int | None,
    batch_key: str,
) -> list[list[int]]:
    """Every group's answers as responses of their prompt; their ids, group by group."""
    responses = Response.objects.bulk_create(
        Response(
            prompt_id=prompt_id,
            text=text,
            generator=generator[:200],
            generator_version_id=generator_version_id,
            metadata={"generated_batch": batch_key},
        )
        for prompt_id, group in grouped
        for text, _ in group
    )
    ids = iter(response.pk for response in responses)
    return [[next(ids) for _ in group] for _, group in grouped]


def add_generated_tasks(
    *,
    campaign: Campaign,
    answers: Sequence[GeneratedAnswers],
    generator: str,
    generator_version_id: int | None,
    batch_key: str,
    labeller: Labeller | None = None,
) -> GeneratedBatch:
    """Store the answers as responses of their (existing) prompts and open ranking tasks of at
    most the campaign's K responses each; under uncertainty routing, with answers scored by
    `labeller`, the groups it does not send to people get model labels instead. Runs once per
    `batch_key`: a repeat adds nothing."""
    with transaction.atomic():
        # K, the mode and the overlap are read from the row as it is now, locked, not from the
        # caller's copy: an edit made since the run started applies, and one made while these
        # tasks are written waits for them and then finds them (to refuse a new mode or K, or
        # to apply a new overlap to them).
        locked = Campaign.objects.select_for_update().filter(pk=campaign.pk).first()
        if locked is None:
            return GeneratedBatch(0)
        campaign = locked
        size = 2 if campaign.judgment_mode == JudgmentMode.PAIRWISE else campaign.responses_per_task
        known = Response.objects.filter(
            prompt__campaign=campaign, metadata__generated_batch=batch_key
        )
        if known.exists():
            return GeneratedBatch(0)
        valid_prompts = set(campaign.prompts.values_list("id", flat=True))
        grouped = [
            (item.prompt_id, group)
            for item in answers
            if item.prompt_id in valid_prompts
            for group in _task_groups(item.texts, max(size, 2), item.heads)
        ]
        scored = labeller is not None and all(item.heads is not None for item in answers)
        human, labelled = _routes(campaign, grouped, scored)
        group_ids = _store_responses(grouped, generator, generator_version_id, batch_key)
        tasks = RankingTask.objects.bulk_create(
            RankingTask(
                campaign=campaign,
                prompt_id=prompt_id,
                response_ids=group_ids[index],
                required_judgments=campaign.overlap,
            )
            for index, (prompt_id, group) in enumerate(grouped)
            if index in human
        )
        labels = [] if labeller is None else _model_labels(grouped, group_ids, labelled, labeller)
        for label in labels:
            label.campaign = campaign
        ModelLabel.objects.bulk_create(labels)
    over_budget = len(grouped) - len(tasks) - len(labelled)
    return GeneratedBatch(len(tasks), len(labelled), len(labels), over_budget)
