"""Gold tasks: marking them, a rater's gold accuracy, and the campaign's automatic pause rule."""

from __future__ import annotations

from dataclasses import dataclass

from django.contrib.auth.models import User
from django.db import transaction

from annotation.models import Campaign, Judgment, RankingTask, RaterProfile, RaterStatus
from annotation.ranking import ranking_agreement
from annotation.services.assignments import release_leases
from annotation.services.audit import record_audit_event
from annotation.services.tokens import revoke_user_tokens
from common.errors import InvalidInput, NotFound


@dataclass(frozen=True)
class GoldAccuracy:
    items: int  # gold judgments
    agreeing_pairs: int
    pairs: int

    @property
    def accuracy(self) -> float | None:
        return self.agreeing_pairs / self.pairs if self.pairs else None


def _check_gold_ranking(task: RankingTask, ranking: object) -> list[list[int]]:
    if not isinstance(ranking, list) or not ranking:
        raise InvalidInput("The gold ranking must be a non-empty list of tiers.", code="bad_gold")
    tiers: list[list[int]] = []
    for tier in ranking:
        if not isinstance(tier, list) or not tier:
            raise InvalidInput("Each tier must be a non-empty list of ids.", code="bad_gold")
        if any(not isinstance(item, int) or isinstance(item, bool) for item in tier):
            raise InvalidInput("Tiers hold response ids (integers).", code="bad_gold")
        tiers.append(list(tier))
    named = sorted(item for tier in tiers for item in tier)
    if named != sorted(task.response_ids):
        raise InvalidInput(
            f"The gold ranking must name each of the task's responses {sorted(task.response_ids)}"
            " exactly once.",
            code="gold_ranking_mismatch",
        )
    return tiers


def mark_gold(*, actor: User, task_id: int, ranking: object) -> RankingTask:
    """Make a task gold with its expected ranking (tiers of response ids, best first). It leaves
    the regular queue and is mixed into raters' work at the campaign's gold rate."""
    with transaction.atomic():
        task = RankingTask.objects.select_for_update().filter(pk=task_id).first()
        if task is None:
            raise NotFound("No such task.", code="task_not_found")
        task.gold_ranking = _check_gold_ranking(task, ranking)
        task.is_gold = True
        task.save(update_fields=["is_gold", "gold_ranking"])
        record_audit_event(
            actor=actor, action="task.gold", target=task, details={"ranking": task.gold_ranking}
        )
    return task


def unmark_gold(*, actor: User, task_id: int) -> RankingTask:
    with transaction.atomic():
        task = RankingTask.objects.select_for_update().filter(pk=task_id).first()
        if task is None:
            raise NotFound("No such task.", code="task_not_found")
        task.is_gold, task.gold_ranking = False, None
        task.save(update_fields=["is_gold", "gold_ranking"])
        record_audit_event(actor=actor, action="task.ungold", target=task)
    return task


def gold_accuracy(*, rater_id: int, campaign_id: int) -> GoldAccuracy:
    """Pairwise agreement of a rater's gold judgments with the expected rankings."""
    rows = Judgment.objects.filter(
        rater_id=rater_id, task__campaign_id=campaign_id, task__is_gold=True, is_repeat=False
    ).values_list("ranking", "task__gold_ranking")
    items = agreeing = pairs = 0
    for given, expected in rows:
        if not expected:
            continue
        agree, compared = ranking_agreement(expected, given)
        items, agreeing, pairs = items + 1, agreeing + agree, pairs + compared
    return GoldAccuracy(items, agreeing, pairs)


def apply_pause_rule(*, rater: User, task_id: int) -> bool:
    """After a gold judgment: pause the rater when the campaign's rule says so (gold accuracy
    below the threshold after enough gold items). Runs in the submit transaction; the audit
    event has no actor (the system acted). True when the rater was paused."""
    campaign = Campaign.objects.filter(tasks__id=task_id).first()
    if campaign is None or campaign.pause_gold_accuracy_below is None:
        return False
    score = gold_accuracy(rater_id=rater.pk, campaign_id=campaign.pk)
    accuracy = score.accuracy
    if score.items < campaign.pause_gold_min_items or accuracy is None:
        return False
    if accuracy >= campaign.pause_gold_accuracy_below:
        return False
    profile = RaterProfile.objects.select_for_update().filter(user=rater).first()
    if profile is None or profile.status == RaterStatus.PAUSED:
        return False
    reason = (
        f"Gold accuracy {accuracy:.0%} after {score.items} gold tasks in campaign "
        f"{campaign.name!r} is below {campaign.pause_gold_accuracy_below:.0%}."
    )
    profile.status, profile.paused_reason = RaterStatus.PAUSED, reason
    profile.save(update_fields=["status", "paused_reason"])
    released = release_leases(rater=rater)
    # As with an admin's pause: a paused rater's tokens end, and stay ended after a resume.
    revoke_user_tokens(user=rater, actor=None, reason="auto_pause")
    record_audit_event(
        actor=None,
        action="rater.auto_pause",
        target=rater,
        details={
            "campaign_id": campaign.pk,
            "gold_accuracy": accuracy,
            "gold_items": score.items,
            "threshold": campaign.pause_gold_accuracy_below,
            "leases_released": released,
            "reason": reason,
        },
    )
    return True
