"""Users, roles, API tokens and pausing (pools are in `pools`)."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.contrib.auth.models import User
from django.db import transaction

from annotation.models import RaterProfile, RaterStatus
from annotation.services.assignments import release_leases
from annotation.services.audit import record_audit_event
from annotation.services.profiles import ensure_profile
from annotation.services.tokens import issue_token
from common.errors import Conflict, InvalidInput, NotFound
from common.roles import Role


def create_user_with_role(
    *, username: str, password: str | None, role: str = Role.ANNOTATOR, email: str = ""
) -> User:
    """Create a user and their rater profile. No role makes a Django superuser: the app's rules
    are enforced by its services, which the Django admin would go around."""
    if role not in Role.values:
        raise InvalidInput(f"Unknown role {role!r}.", code="unknown_role")
    user_model = get_user_model()
    if user_model.objects.filter(username=username).exists():
        raise Conflict(f"User {username!r} already exists.", code="user_exists")
    with transaction.atomic():
        user: User = user_model.objects.create_user(
            username=username, email=email, password=password
        )
        if role == Role.EXTERNAL:
            user.is_active = False
            user.save(update_fields=["is_active"])
        RaterProfile.objects.create(user=user, role=role)
    return user


def create_rater(*, actor: User, username: str, password: str, role: str) -> User:
    """A new user with their profile and an audit event naming the role, atomically."""
    with transaction.atomic():
        user = create_user_with_role(username=username, password=password, role=role)
        record_audit_event(actor=actor, action="rater.create", target=user, details={"role": role})
    return user


def issue_api_token(*, user: User, name: str = "") -> str:
    """A new API token for the user (the key, shown once); it expires after the set lifetime."""
    return issue_token(user=user, name=name)[1]


def _locked_profile(user_id: int) -> RaterProfile:
    user = get_user_model().objects.filter(pk=user_id).first()
    if user is not None:
        ensure_profile(user)
    profile = (
        RaterProfile.objects.select_for_update()
        .filter(user_id=user_id)
        .exclude(role=Role.EXTERNAL)  # the author of imported data, not listed as a rater
        .first()
    )
    if profile is None:
        raise NotFound("No such rater.", code="rater_not_found")
    return profile


def pause_rater(*, actor: User, user_id: int, reason: str = "") -> RaterProfile:
    """Pause a rater and release their live leases, in one transaction, with an audit event."""
    with transaction.atomic():
        profile = _locked_profile(user_id)
        profile.status = RaterStatus.PAUSED
        profile.paused_reason = reason[:500]
        profile.save(update_fields=["status", "paused_reason"])
        released = release_leases(rater=profile.user)
        record_audit_event(
            actor=actor,
            action="rater.pause",
            target=profile.user,
            details={"reason": reason, "leases_released": released},
        )
    return profile


def resume_rater(*, actor: User, user_id: int) -> RaterProfile:
    """Let a paused rater work again, with an audit event."""
    with transaction.atomic():
        profile = _locked_profile(user_id)
        profile.status = RaterStatus.ACTIVE
        profile.paused_reason = ""
        profile.save(update_fields=["status", "paused_reason"])
        record_audit_event(actor=actor, action="rater.resume", target=profile.user)
    return profile
