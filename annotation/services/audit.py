"""The append-only audit log of admin actions."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.models import User

from annotation.models import AuditEvent


def record_audit_event(
    *,
    actor: User | None,
    action: str,
    target: Any,
    details: dict[str, Any] | None = None,
) -> AuditEvent:
    """Append one audit event naming the actor, the action and its target."""
    return AuditEvent.objects.create(
        actor=actor,
        action=action,
        target_type=type(target).__name__,
        target_id=str(target.pk),
        details=details or {},
    )
