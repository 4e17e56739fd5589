"""Reads of leases and assignments: which campaigns a rater may work on, the live leases, and
how an assignment looks to its rater (labels in display order, no ids, no generators)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.contrib.auth.models import User
from django.db.models import QuerySet

from annotation.models import (
    RESPONSE_FLAG_CHOICES,
    SET_FLAG_CHOICES,
    Assignment,
    AssignmentStatus,
    Campaign,
    CampaignStatus,
    JudgmentMode,
    Response,
    Strength,
)
from annotation.ranking import labels_for


def allowed_campaign_ids(*, rater: User) -> list[int]:
    """The active campaigns the rater's pools allow."""
    return list(
        Campaign.objects.filter(pools__members=rater, status=CampaignStatus.ACTIVE)
        .values_list("id", flat=True)
        .distinct()
    )


def live_leases(now: datetime) -> QuerySet[Assignment]:
    return Assignment.objects.filter(status=AssignmentStatus.LEASED, expires_at__gt=now)


def has_assignment(*, rater: User, assignment_id: int) -> bool:
    return Assignment.objects.filter(pk=assignment_id, rater=rater).exists()


def load_assignment(pk: int) -> Assignment:
    """The assignment with its task's campaign and prompt, as `rater_assignment` needs."""
    return Assignment.objects.select_related("task__campaign", "task__prompt").get(pk=pk)


@dataclass(frozen=True)
class RaterCampaign:
    id: int
    name: str
    guidelines: str
    judgment_mode: str


@dataclass(frozen=True)
class LabelledResponse:
    label: str
    text: str


@dataclass(frozen=True)
class RaterAssignment:
    """An assignment as its rater sees it."""

    id: int
    status: str
    campaign: RaterCampaign
    conversation: list[dict[str, str]]
    responses: list[LabelledResponse]
    leased_at: datetime
    expires_at: datetime
    strengths: list[str]
    flags: list[str]
    response_flags: list[str]


def rater_assignment(assignment: Assignment) -> RaterAssignment:
    """The assignment (its task's campaign and prompt loaded) with its responses' texts
    labelled A, B, ... in the rater's display order."""
    task = assignment.task
    campaign = task.campaign
    texts = dict(Response.objects.filter(pk__in=assignment.display_order).values_list("pk", "text"))
    labels = labels_for(len(assignment.display_order))
    pairwise = campaign.judgment_mode == JudgmentMode.PAIRWISE
    return RaterAssignment(
        id=assignment.pk,
        status=assignment.status,
        campaign=RaterCampaign(
            id=campaign.pk,
            name=campaign.name,
            guidelines=campaign.guidelines,
            judgment_mode=campaign.judgment_mode,
        ),
        conversation=task.prompt.conversation,
        responses=[
            LabelledResponse(label=label, text=texts[response_id])
            for label, response_id in zip(labels, assignment.display_order, strict=True)
        ],
        leased_at=assignment.leased_at,
        expires_at=assignment.expires_at,
        strengths=list(Strength.values) if pairwise else [],
        flags=list(SET_FLAG_CHOICES),
        response_flags=list(RESPONSE_FLAG_CHOICES),
    )
