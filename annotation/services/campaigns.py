"""Creating and editing campaigns: the one way, from the API, the commands and the demo. The
campaign row and its audit event are written in one transaction, both or neither."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.db import transaction

from annotation.models import Campaign
from annotation.services.audit import record_audit_event
from common.errors import InvalidInput


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


def update_campaign(*, actor: User, campaign: Campaign, changes: Mapping[str, Any]) -> Campaign:
    """The campaign with `changes` saved and an audit event naming the changed fields,
    atomically."""
    with transaction.atomic():
        for field, value in changes.items():
            setattr(campaign, field, value)
        _validate(campaign)
        campaign.save()
        record_audit_event(
            actor=actor,
            action="campaign.update",
            target=campaign,
            details={"fields": sorted(changes)},
        )
    return campaign


def ensure_campaign(*, actor: User | None, name: str, **settings: Any) -> tuple[Campaign, bool]:
    """The campaign with this name, created with these settings if missing; True if created."""
    existing = Campaign.objects.filter(name=name).first()
    if existing is not None:
        return existing, False
    return create_campaign(actor=actor, settings={"name": name, **settings}), True
