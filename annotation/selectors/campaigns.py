"""Campaigns with their progress, and a campaign's figures that other apps read: agreement,
prompts, trainable judgments."""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Count, OuterRef, Q, QuerySet, Subquery
from django.db.models.functions import Coalesce

from annotation.models import Campaign, Judgment, ModelLabel, Prompt, TaskStatus


@dataclass(frozen=True)
class AgreementFigures:
    """A campaign's human agreement on regular (non-gold) pairs: percent agreement and
    Krippendorff's ordinal alpha, with `n` the pairs rated by two or more raters."""

    percent: float | None
    alpha: float | None
    n: int
    # Leave-one-out, ties left out (the report's consensus_agreement): value, 95 % interval
    # and the ratings compared.
    consensus: float | None = None
    consensus_low: float | None = None
    consensus_high: float | None = None
    consensus_n: int = 0


def campaign_agreement(*, campaign_id: int) -> AgreementFigures:
    """The agreement figures of the campaign's (cached) quality report."""
    from annotation.selectors.quality import campaign_quality_report

    campaign = Campaign.objects.get(pk=campaign_id)
    agreement = campaign_quality_report(campaign=campaign).agreement
    percent = agreement.percent_agreement
    alpha = agreement.alpha_pairwise.value
    loo = agreement.consensus_agreement
    return AgreementFigures(
        percent=percent.value,
        alpha=alpha,
        n=percent.n,
        consensus=loo.value,
        consensus_low=loo.ci_low,
        consensus_high=loo.ci_high,
        consensus_n=loo.n,
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


def campaigns_with_progress() -> QuerySet[Campaign]:
    """Every campaign, newest first, annotated with its task, complete, judgment, gold and
    model-label counts."""
    return Campaign.objects.annotate(
        task_count=Count("tasks", distinct=True),
        complete_count=Count("tasks", filter=Q(tasks__status=TaskStatus.COMPLETE), distinct=True),
        judgment_count=Count("tasks__judgments", distinct=True),
        gold_count=Count("tasks", filter=Q(tasks__is_gold=True), distinct=True),
        # A sub-query, not one more join: a join would multiply the rows the counts above walk.
        model_label_count=Coalesce(
            Subquery(
                ModelLabel.objects.filter(campaign=OuterRef("pk"))
                .values("campaign")
                .annotate(n=Count("id"))
                .values("n")
            ),
            0,
        ),
    ).order_by("-id")


def judgments_with_raters(
    *, campaign: str | None = None, annotated: bool = False
) -> QuerySet[Judgment]:
    """Judgments, newest first, with task and rater; `campaign` (an id as the query string
    gives it) narrows them to one campaign, and matches nothing when it is not a number;
    `annotated` keeps those with a flag or a rationale."""
    queryset = Judgment.objects.select_related("task", "rater").order_by("-id")
    if campaign is not None:
        queryset = queryset.filter(task__campaign_id=campaign if campaign.isdigit() else -1)
    if annotated:
        queryset = queryset.filter(~Q(flags=[]) | ~Q(response_flags={}) | ~Q(rationale=""))
    return queryset
