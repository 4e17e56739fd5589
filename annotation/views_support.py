"""Read helpers for rater views: how an assignment looks to its rater, and their stats."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time
from typing import Any

from django.contrib.auth.models import User
from django.db.models import Exists, F, OuterRef
from django.utils import timezone

from annotation.models import (
    Assignment,
    AssignmentStatus,
    Judgment,
    JudgmentMode,
    RankingTask,
    Response,
    Strength,
    TaskStatus,
)
from annotation.ranking import labels_for
from annotation.services.assignments import allowed_campaign_ids, live_leases
from annotation.services.judgments import FLAG_CHOICES


def assignment_view(assignment: Assignment) -> dict[str, Any]:
    """The assignment as its rater sees it: labels in display order, no ids, no generators."""
    task = assignment.task
    campaign = task.campaign
    texts = dict(Response.objects.filter(pk__in=assignment.display_order).values_list("pk", "text"))
    labels = labels_for(len(assignment.display_order))
    pairwise = campaign.judgment_mode == JudgmentMode.PAIRWISE
    return {
        "id": assignment.pk,
        "status": assignment.status,
        "campaign": {
            "id": campaign.pk,
            "name": campaign.name,
            "guidelines": campaign.guidelines,
            "judgment_mode": campaign.judgment_mode,
        },
        "conversation": task.prompt.conversation,
        "responses": [
            {"label": label, "text": texts[response_id]}
            for label, response_id in zip(labels, assignment.display_order, strict=True)
        ],
        "leased_at": assignment.leased_at,
        "expires_at": assignment.expires_at,
        "strengths": list(Strength.values) if pairwise else [],
        "flags": list(FLAG_CHOICES),
    }


def load_assignment(pk: int) -> Assignment:
    return Assignment.objects.select_related("task__campaign", "task__prompt").get(pk=pk)


@dataclass(frozen=True)
class RaterStats:
    submitted_total: int
    submitted_today: int
    skipped_total: int
    tasks_available: int
    has_live_lease: bool


def rater_stats(rater: User) -> RaterStats:
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
