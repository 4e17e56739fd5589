"""Creating campaigns outside the API (commands, demo)."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.models import User

from annotation.models import Campaign
from annotation.services.audit import record_audit_event


def ensure_campaign(*, actor: User | None, name: str, **settings: Any) -> tuple[Campaign, bool]:
    """Return the campaign with this name, creating it with these settings if missing."""
    campaign, created = Campaign.objects.get_or_create(
        name=name, defaults={"created_by": actor, **settings}
    )
    if created:
        campaign.full_clean()
        record_audit_event(actor=actor, action="campaign.create", target=campaign)
    return campaign, created
