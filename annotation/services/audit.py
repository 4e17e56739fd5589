"""The append-only audit log: changes, sign-ins, token use and denials."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser, User

from annotation.models import AuditEvent


def readable_name(target: Any) -> str:
    """What a person reads for a target: a username, a campaign's or version's name, else str()."""
    for attribute in ("username", "name"):
        value = getattr(target, attribute, None)
        if isinstance(value, str) and value:
            return value[:200]
    return str(target)[:200]


def record_audit_event(
    *,
    actor: User | AbstractBaseUser | AnonymousUser | None,
    action: str,
    target: Any,
    details: dict[str, Any] | None = None,
) -> AuditEvent:
    """Append one audit event naming the actor, the action and its target (ids and names)."""
    known_actor = actor if isinstance(actor, User) else None
    return AuditEvent.objects.create(
        actor=known_actor,
        actor_name=known_actor.username if known_actor is not None else "",
        action=action,
        target_type=type(target).__name__,
        target_id=str(getattr(target, "pk", "") or ""),
        target_name=readable_name(target),
        details=details or {},
    )
