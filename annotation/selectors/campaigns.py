"""A campaign's figures that other apps read: agreement, prompts, trainable judgments."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from annotation.models import Campaign, Judgment, Prompt


@dataclass(frozen=True)
class AgreementFigures:
    """A campaign's human agreement on regular (non-gold) pairs: percent agreement and
    Krippendorff's ordinal alpha, with `n` the pairs rated by two or more raters."""

    percent: float | None
    alpha: float | None
    n: int


def campaign_agreement(*, campaign_id: int) -> AgreementFigures:
    """The agreement figures of the campaign's (cached) quality report."""
    from annotation.services.quality import quality_report

    agreement = quality_report(Campaign.objects.get(pk=campaign_id))["agreement"]
    percent: dict[str, Any] = agreement["percent_agreement"]
    return AgreementFigures(
        percent=percent["value"], alpha=agreement["alpha_pairwise"]["value"], n=int(percent["n"])
    )


@dataclass(frozen=True)
class PromptRow:
    prompt_id: int
    conversation: list[dict[str, str]]


def campaign_prompts(*, campaign_id: int, limit: int) -> list[PromptRow]:
    """Up to `limit` of the campaign's prompts, oldest first (the same ones each round, so
    successive policies answer the same questions)."""
    rows = Prompt.objects.filter(campaign_id=campaign_id).order_by("id")[:limit]
    return [PromptRow(*values) for values in rows.values_list("id", "conversation")]


def count_campaign_judgments(*, campaign_id: int) -> int:
    """Judgments in the campaign that can become training data: not on gold tasks, not
    repeats (a schedule's trigger counts these)."""
    return Judgment.objects.filter(
        task__campaign_id=campaign_id, task__is_gold=False, is_repeat=False
    ).count()
