"""Creating and editing campaigns: the one way, from the API, the commands and the demo. The
campaign row and its audit event are written in one transaction, both or neither."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Case, F, Value, When
from django.db.models.functions import Greatest

from annotation.models import Campaign, RankingTask, TaskStatus
from annotation.services.audit import record_audit_event
from common.errors import Conflict, InvalidInput

# What a campaign's tasks were built for: each task holds K responses and its judgments were
# given in this mode, so neither may change under them.
FIXED_ONCE_TASKS_EXIST = ("judgment_mode", "responses_per_task", "is_arena")


def _validate(campaign: Campaign) -> None:
    """The model's own rules (fields and constraints) as the API's error, never a 500."""
    try:
        campaign.full_clean()
    except ValidationError as error:
        raise InvalidInput(
            "The campaign's settings are invalid.", code="invalid", errors=error.message_dict
        ) from error


def create_campaign(*, actor: User | None, settings: Mapping[str, Any]) -> Campaign:
    """A new, model-valid campaign created by `actor`, with its audit event, atomically."""
    with transaction.atomic():
        campaign = Campaign(created_by=actor, **settings)
        _validate(campaign)
        campaign.save()
        record_audit_event(actor=actor, action="campaign.create", target=campaign)
    return campaign


def _refuse_fixed_changes(campaign: Campaign, changes: Mapping[str, Any]) -> None:
    changed = [
        name
        for name in FIXED_ONCE_TASKS_EXIST
        if name in changes and changes[name] != getattr(campaign, name)
    ]
    if changed and RankingTask.objects.filter(campaign=campaign).exists():
        raise Conflict(
            f"The campaign has tasks built for its {' and '.join(changed)}; changing "
            f"{'them' if len(changed) > 1 else 'it'} would mislabel their judgments. "
            "Create a new campaign instead.",
            code="campaign_has_tasks",
            errors={name: ["Fixed once the campaign has tasks."] for name in changed},
        )


def _apply_overlap(campaign: Campaign) -> int:
    """Every open task of the campaign now requires the campaign's overlap, never fewer than
    the judgments it already has; one that has enough is complete, as submit would leave it.
    One UPDATE, so a submit running at the same time is counted against the new number.
    Returns how many tasks changed."""
    required = Greatest(Value(campaign.overlap), F("submitted_count"))
    return (
        RankingTask.objects.filter(campaign=campaign, status=TaskStatus.OPEN)
        .exclude(required_judgments=required)
        .update(
            required_judgments=required,
            status=Case(
                When(submitted_count__gte=campaign.overlap, then=Value(TaskStatus.COMPLETE)),
                default=F("status"),
            ),
        )
    )


def update_campaign(*, actor: User, campaign: Campaign, changes: Mapping[str, Any]) -> Campaign:
    """The campaign with `changes` saved and an audit event naming the changed fields,
    atomically. A new overlap applies to the open tasks at once; the judgment mode and K
    cannot change once the campaign has tasks (Conflict)."""
    with transaction.atomic():
        # The row as it is now, locked, so two edits (or an edit and a K check) queue up.
        current = Campaign.objects.select_for_update().get(pk=campaign.pk)
        _refuse_fixed_changes(current, changes)
        old_overlap = current.overlap
        # The changes go onto the locked row, not the caller's copy: saving that copy would
        # write back every other field as it was when it was loaded, undoing an edit made since.
        for field, value in changes.items():
            setattr(current, field, value)
        _validate(current)
        current.save()
        campaign = current
        details: dict[str, Any] = {"fields": sorted(changes)}
        if campaign.overlap != old_overlap:
            details["overlap"] = {"old": old_overlap, "new": campaign.overlap}
            details["tasks_changed"] = _apply_overlap(campaign)
        record_audit_event(actor=actor, action="campaign.update", target=campaign, details=details)
    return campaign


def ensure_campaign(*, actor: User | None, name: str, **settings: Any) -> tuple[Campaign, bool]:
    """The campaign with this name, created with these settings if missing; True if created."""
    existing = Campaign.objects.filter(name=name).first()
    if existing is not None:
        return existing, False
    return create_campaign(actor=actor, settings={"name": name, **settings}), True
