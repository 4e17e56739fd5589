"""Reads about raters: the admin's rater list and a rater's own figures."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time
from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.models import User
from django.db.models import Count, Exists, F, OuterRef, QuerySet
from django.utils import timezone

from annotation.models import (
    Assignment,
    AssignmentStatus,
    Judgment,
    RankingTask,
    RaterStatus,
    TaskStatus,
)
from annotation.selectors.assignments import allowed_campaign_ids, live_leases
from common.roles import Role, role_of


@dataclass(frozen=True)
class RaterRow:
    """A rater as the admin's list shows them."""

    id: int
    username: str
    role: str | None
    status: str
    paused_reason: str
    pool_ids: list[int]
    judgment_count: int


def _rater_queryset() -> QuerySet[Any]:
    return (
        get_user_model()
        .objects.exclude(rater_profile__role=Role.EXTERNAL)
        .select_related("rater_profile")
        .prefetch_related("rater_pools")
        .annotate(judgment_count=Count("judgments"))
        .order_by("username")
    )


def _rater_row(user: Any) -> RaterRow:
    profile = getattr(user, "rater_profile", None)
    return RaterRow(
        id=user.pk,
        username=user.username,
        role=role_of(user),
        status=profile.status if profile else "active",
        paused_reason=profile.paused_reason if profile else "",
        pool_ids=[pool.pk for pool in user.rater_pools.all()],
        judgment_count=getattr(user, "judgment_count", 0),
    )


def rater_rows() -> list[RaterRow]:
    """Every rater (not the external authors of imported data), by username."""
    return [_rater_row(user) for user in _rater_queryset()]


def rater_row(*, user_id: int) -> RaterRow:
    return _rater_row(_rater_queryset().get(pk=user_id))


@dataclass(frozen=True)
class Me:
    id: int
    username: str
    role: str | None
    status: str


def me(user: Any) -> Me:
    """Who the requesting user is, as the browser app needs it."""
    profile = getattr(user, "rater_profile", None)
    return Me(
        id=user.pk,
        username=user.get_username(),
        role=role_of(user),
        status=profile.status if profile else RaterStatus.ACTIVE,
    )


@dataclass(frozen=True)
class RaterStats:
    submitted_total: int
    submitted_today: int
    skipped_total: int
    tasks_available: int
    has_live_lease: bool


def rater_stats(rater: User) -> RaterStats:
    """The rater's judgments (all, since local midnight), skips, open tasks they may still
    take, and whether they hold a live lease."""
    now = timezone.now()
    midnight = timezone.make_aware(datetime.combine(timezone.localdate(now), time.min))
    judgments = Judgment.objects.filter(rater=rater)
    open_tasks = RankingTask.objects.filter(
        campaign_id__in=allowed_campaign_ids(rater=rater),
        status=TaskStatus.OPEN,
        submitted_count__lt=F("required_judgments"),
    ).exclude(Exists(Assignment.objects.filter(task=OuterRef("pk"), rater=rater)))
    return RaterStats(
        submitted_total=judgments.count(),
        submitted_today=judgments.filter(submitted_at__gte=midnight).count(),
        skipped_total=Assignment.objects.filter(
            rater=rater, status=AssignmentStatus.SKIPPED
        ).count(),
        tasks_available=open_tasks.count(),
        has_live_lease=live_leases(now).filter(rater=rater).exists(),
    )
