"""Responses a policy generated for a campaign's prompts become ranking tasks for its raters,
which closes the loop: the next judgments are about the newest policy's answers."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from django.db import transaction

from annotation.models import Campaign, JudgmentMode, RankingTask, Response


@dataclass(frozen=True)
class GeneratedAnswers:
    prompt_id: int
    texts: list[str]


def _task_groups(texts: list[str], size: int) -> list[list[str]]:
    """Distinct, non-empty answers in groups of `size`; a last group of one is dropped (there
    is nothing to rank it against)."""
    distinct = list(dict.fromkeys(text.strip() for text in texts if text.strip()))
    groups = [distinct[start : start + size] for start in range(0, len(distinct), size)]
    return [group for group in groups if len(group) >= 2]


def add_generated_tasks(
    *,
    campaign: Campaign,
    answers: Sequence[GeneratedAnswers],
    generator: str,
    generator_version_id: int | None,
    batch_key: str,
) -> int:
    """Store the answers as responses of their (existing) prompts and open ranking tasks of at
    most the campaign's K responses each. Runs once per `batch_key`: a repeat adds nothing.
    Returns the number of tasks created."""
    with transaction.atomic():
        # K, the mode and the overlap are read from the row as it is now, locked, not from the
        # caller's copy: an edit made since the run started applies, and one made while these
        # tasks are written waits for them and then finds them (to refuse a new mode or K, or
        # to apply a new overlap to them).
        locked = Campaign.objects.select_for_update().filter(pk=campaign.pk).first()
        if locked is None:
            return 0
        campaign = locked
        size = 2 if campaign.judgment_mode == JudgmentMode.PAIRWISE else campaign.responses_per_task
        known = Response.objects.filter(
            prompt__campaign=campaign, metadata__generated_batch=batch_key
        )
        if known.exists():
            return 0
        valid_prompts = set(campaign.prompts.values_list("id", flat=True))
        grouped = [
            (item.prompt_id, group)
            for item in answers
            if item.prompt_id in valid_prompts
            for group in _task_groups(item.texts, max(size, 2))
        ]
        responses = Response.objects.bulk_create(
            Response(
                prompt_id=prompt_id,
                text=text,
                generator=generator[:200],
                generator_version_id=generator_version_id,
                metadata={"generated_batch": batch_key},
            )
            for prompt_id, group in grouped
            for text in group
        )
        ids = iter(response.pk for response in responses)
        tasks = RankingTask.objects.bulk_create(
            RankingTask(
                campaign=campaign,
                prompt_id=prompt_id,
                response_ids=[next(ids) for _ in group],
                required_judgments=campaign.overlap,
            )
            for prompt_id, group in grouped
        )
    return len(tasks)
