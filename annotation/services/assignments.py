"""Leases: claiming the next task, skipping, expiring. The overlap cap and the claim are one
atomic decision, made under the task's row lock (SELECT ... FOR UPDATE SKIP LOCKED)."""

from __future__ import annotations

import random
from datetime import datetime, timedelta

from django.contrib.auth.models import User
from django.db import transaction
from django.db.models import Count, Exists, F, IntegerField, OuterRef, QuerySet, Subquery, Value
from django.db.models.functions import Coalesce
from django.utils import timezone

from annotation.errors import Conflict, NotAllowed, NotFound
from annotation.models import (
    Assignment,
    AssignmentStatus,
    Campaign,
    CampaignStatus,
    RankingTask,
    RaterProfile,
    TaskStatus,
)
from annotation.services.profiles import ensure_profile

# How many locked-but-full candidates to step over before giving up; a candidate is only
# full here when a concurrent claim filled it between the scan and the lock.
MAX_CLAIM_ATTEMPTS = 8
_shuffler = random.SystemRandom()


def allowed_campaign_ids(*, rater: User) -> list[int]:
    return list(
        Campaign.objects.filter(pools__members=rater, status=CampaignStatus.ACTIVE)
        .values_list("id", flat=True)
        .distinct()
    )


def live_leases(now: datetime) -> QuerySet[Assignment]:
    return Assignment.objects.filter(status=AssignmentStatus.LEASED, expires_at__gt=now)


def _lock_rater(rater: User) -> RaterProfile:
    """Lock the rater's profile: one rater's claims and a pause are serialized."""
    profile = RaterProfile.objects.select_for_update().get(pk=ensure_profile(rater).pk)
    if profile.is_paused:
        raise NotAllowed("Your account is paused; ask an admin.", code="rater_paused")
    return profile


def _own_live_lease(rater: User, campaign_ids: list[int], now: datetime) -> Assignment | None:
    return (
        live_leases(now)
        .filter(rater=rater, task__campaign_id__in=campaign_ids)
        .order_by("leased_at")
        .first()
    )


def _lock_candidate(
    rater: User, campaign_ids: list[int], now: datetime, skip_ids: list[int]
) -> RankingTask | None:
    live_count = Coalesce(
        Subquery(
            live_leases(now)
            .filter(task=OuterRef("pk"))
            .order_by()
            .values("task")
            .annotate(n=Count("pk"))
            .values("n"),
            output_field=IntegerField(),
        ),
        Value(0),
    )
    seen_before = Assignment.objects.filter(task=OuterRef("pk"), rater=rater)
    return (
        RankingTask.objects.filter(
            campaign_id__in=campaign_ids,
            status=TaskStatus.OPEN,
            submitted_count__lt=F("required_judgments"),
        )
        .exclude(id__in=skip_ids)
        .alias(live=live_count)
        .filter(live__lt=F("required_judgments") - F("submitted_count"))
        .exclude(Exists(seen_before))
        .order_by("id")
        .select_for_update(skip_locked=True, of=("self",))
        .first()
    )


def _has_free_slot(task: RankingTask, now: datetime) -> bool:
    # A new statement, so under READ COMMITTED it sees every claim committed before our lock.
    live = live_leases(now).filter(task=task).count()
    return task.submitted_count + live < task.required_judgments


def _new_assignment(task: RankingTask, rater: User, now: datetime) -> Assignment:
    order = list(task.response_ids)
    _shuffler.shuffle(order)
    campaign = Campaign.objects.only("lease_ttl_s").get(pk=task.campaign_id)
    return Assignment.objects.create(
        task=task,
        rater=rater,
        display_order=order,
        leased_at=now,
        expires_at=now + timedelta(seconds=campaign.lease_ttl_s),
    )


def claim_next_assignment(*, rater: User) -> Assignment | None:
    """The rater's own live lease if any, else a newly claimed one below the overlap cap;
    None when no task is left for them."""
    with transaction.atomic():
        _lock_rater(rater)
        now = timezone.now()
        campaign_ids = allowed_campaign_ids(rater=rater)
        own = _own_live_lease(rater, campaign_ids, now)
        if own is not None:
            return own
        stepped_over: list[int] = []
        for _ in range(MAX_CLAIM_ATTEMPTS):
            task = _lock_candidate(rater, campaign_ids, now, stepped_over)
            if task is None:
                return None
            if _has_free_slot(task, now):
                return _new_assignment(task, rater, now)
            stepped_over.append(task.id)
        return None


def lock_own_assignment(*, rater: User, assignment_id: int) -> Assignment:
    """Lock one of the rater's assignments; anything else is reported as not found."""
    assignment = (
        Assignment.objects.select_for_update()
        .filter(pk=assignment_id, rater=rater)
        .select_related("task")
        .first()
    )
    if assignment is None:
        raise NotFound("No such assignment.", code="assignment_not_found")
    return assignment


def skip_assignment(*, rater: User, assignment_id: int, reason: str = "") -> Assignment:
    """Release the rater's lease; the task is never offered to them again."""
    with transaction.atomic():
        assignment = lock_own_assignment(rater=rater, assignment_id=assignment_id)
        if assignment.status == AssignmentStatus.SUBMITTED:
            raise Conflict("This task was already submitted.", code="already_submitted")
        if assignment.status == AssignmentStatus.SKIPPED:
            return assignment
        assignment.status = AssignmentStatus.SKIPPED
        assignment.skip_reason = reason[:500]
        assignment.finished_at = timezone.now()
        assignment.save(update_fields=["status", "skip_reason", "finished_at"])
        return assignment


def release_leases(*, rater: User) -> int:
    """Release every live lease of a rater (on pause); returns how many."""
    return Assignment.objects.filter(rater=rater, status=AssignmentStatus.LEASED).update(
        status=AssignmentStatus.RELEASED, finished_at=timezone.now()
    )


def expire_stale_leases(*, now: datetime | None = None) -> int:
    """Mark leases past their expiry as expired (they already stopped counting)."""
    moment = now or timezone.now()
    return Assignment.objects.filter(status=AssignmentStatus.LEASED, expires_at__lte=moment).update(
        status=AssignmentStatus.EXPIRED
    )
