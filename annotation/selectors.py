"""Reads that are reused or cross an app boundary. `training` reads annotation data only
through here, as frozen dataclasses."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime

from django.db.models import QuerySet

from annotation.models import Preference


@dataclass(frozen=True)
class PreferenceFilter:
    campaign_ids: tuple[int, ...] = ()
    since: datetime | None = None
    until: datetime | None = None
    rater_ids: tuple[int, ...] = ()
    pool_ids: tuple[int, ...] = ()
    include_ties: bool = False


@dataclass(frozen=True)
class PreferenceRow:
    preference_id: int
    judgment_id: int
    task_id: int
    campaign_id: int
    rater_id: int
    conversation: list[dict[str, str]]
    chosen: str
    rejected: str
    margin: float
    is_tie: bool
    source: str
    submitted_at: datetime


def preferences_matching(filters: PreferenceFilter) -> QuerySet[Preference]:
    queryset = Preference.objects.all()
    if not filters.include_ties:
        queryset = queryset.filter(is_tie=False)
    if filters.campaign_ids:
        queryset = queryset.filter(task__campaign_id__in=filters.campaign_ids)
    if filters.since:
        queryset = queryset.filter(judgment__submitted_at__gte=filters.since)
    if filters.until:
        queryset = queryset.filter(judgment__submitted_at__lt=filters.until)
    if filters.rater_ids:
        queryset = queryset.filter(judgment__rater_id__in=filters.rater_ids)
    if filters.pool_ids:
        queryset = queryset.filter(judgment__rater__rater_pools__in=filters.pool_ids).distinct()
    return queryset.order_by("id")


def iter_preference_rows(
    filters: PreferenceFilter, chunk_size: int = 2000
) -> Iterator[PreferenceRow]:
    """Stream matching preference pairs with their texts, oldest first, in bounded memory."""
    columns = (
        "id",
        "judgment_id",
        "task_id",
        "task__campaign_id",
        "judgment__rater_id",
        "task__prompt__conversation",
        "chosen__text",
        "rejected__text",
        "margin",
        "is_tie",
        "judgment__source",
        "judgment__submitted_at",
    )
    for values in preferences_matching(filters).values_list(*columns).iterator(chunk_size):
        yield PreferenceRow(*values)
