"""An LLM judge's verdicts on a campaign's pairs, stored; the order-consistent, sure ones
also become pre-labels (model labels with source `judge`)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from django.db import transaction
from django.db.models import Q

from annotation.models import Campaign, JudgeVerdict, LabelSource, ModelLabel, Response


@dataclass(frozen=True)
class VerdictRow:
    first_id: int
    second_id: int
    first_shown_first: float  # log-odds that `first` is better, shown first
    first_shown_second: float  # the same, shown second


@dataclass(frozen=True)
class Judge:
    name: str
    version_id: int | None
    run_id: int | None


@dataclass(frozen=True)
class VerdictBatch:
    verdicts: int
    prelabels: int


def _prelabel(row: JudgeVerdict, margin: float) -> ModelLabel | None:
    """A pre-label when both orders pick the same answer with log-odds of at least `margin`."""
    sure = min(abs(row.first_shown_first), abs(row.first_shown_second))
    if not row.consistent or sure < margin or sure == 0:
        return None
    chosen, rejected = (row.first, row.second) if row.log_odds > 0 else (row.second, row.first)
    return ModelLabel(
        campaign_id=row.campaign_id,
        prompt_id=row.prompt_id,
        chosen=chosen,
        rejected=rejected,
        source=LabelSource.JUDGE,
        labeller=row.judge,
        labeller_version_id=row.judge_version_id,
        margin=abs(row.log_odds),
        confidence=sure,
    )


def record_judge_verdicts(
    *, campaign: Campaign, judge: Judge, rows: Sequence[VerdictRow], prelabel_margin: float
) -> VerdictBatch:
    """Stores each verdict (a later verdict of the same judge on a pair replaces the earlier
    one) and the pre-labels, in one transaction. Pairs whose responses are gone, or no longer
    in the campaign, are skipped."""
    ids = {i for row in rows for i in (row.first_id, row.second_id)}
    responses = Response.objects.filter(pk__in=ids, prompt__campaign=campaign)
    known = {r.pk: r for r in responses.only("id", "prompt_id")}
    verdicts = [
        JudgeVerdict(
            campaign=campaign,
            prompt_id=known[row.first_id].prompt_id,
            first=known[row.first_id],
            second=known[row.second_id],
            judge=judge.name[:200],
            judge_version_id=judge.version_id,
            run_id=judge.run_id,
            first_shown_first=row.first_shown_first,
            first_shown_second=row.first_shown_second,
        )
        for row in rows
        if row.first_id in known and row.second_id in known and row.first_id < row.second_id
    ]
    labels = [label for v in verdicts if (label := _prelabel(v, prelabel_margin)) is not None]
    with transaction.atomic():
        JudgeVerdict.objects.bulk_create(
            verdicts,
            update_conflicts=True,
            unique_fields=["campaign", "judge", "first", "second"],
            update_fields=["first_shown_first", "first_shown_second", "run_id", "created_at"],
        )
        # This judge's earlier pre-labels on these pairs go: a new verdict may turn a pair
        # round or no longer be sure. (One pre-label per pair: another judge's stays.)
        either_way = Q()
        for v in verdicts:
            either_way |= Q(chosen=v.first, rejected=v.second) | Q(
                chosen=v.second, rejected=v.first
            )
        if verdicts:
            ModelLabel.objects.filter(
                either_way, campaign=campaign, source=LabelSource.JUDGE, labeller=judge.name[:200]
            ).delete()
        # One judge pre-label per pair: another judge's label on it, either way round, stays
        # and this one is not added (two judges' opposite labels would both reach training).
        taken = (
            {
                frozenset(pair)
                for pair in ModelLabel.objects.filter(either_way, campaign=campaign)
                .filter(source=LabelSource.JUDGE)
                .values_list("chosen_id", "rejected_id")
            }
            if verdicts
            else set()
        )
        labels = [x for x in labels if frozenset((x.chosen_id, x.rejected_id)) not in taken]
        ModelLabel.objects.bulk_create(labels)
    return VerdictBatch(len(verdicts), len(labels))
