"""Users, roles, API tokens, pausing and deleting (pools are in `pools`)."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.contrib.auth.models import User
from django.db import transaction

from annotation.models import Judgment, RaterProfile, RaterStatus
from annotation.services.assignments import release_leases
from annotation.services.audit import record_audit_event
from annotation.services.profiles import ensure_profile
from annotation.services.tokens import revoke_user_tokens
from common.errors import Conflict, InvalidInput, NotAllowed, NotFound
from common.roles import Role, role_of

# Which roles each role may grant. Only admins change roles; an admin holds the highest role, so
# may grant any a person can hold. Nobody grants "external": it stands for imported data's
# authors, who never log in.
GRANTABLE_ROLES: dict[str, frozenset[str]] = {
    Role.ADMIN: frozenset({Role.ANNOTATOR, Role.ML_ENGINEER, Role.ADMIN}),
}


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


def create_rater(
    *,
    actor: User | None,
    username: str,
    password: str | None,
    role: str,
    email: str = "",
    via: str = "",
) -> User:
    """A new user with their profile and an audit event naming the role (and `via`, how they
    were made when not through the API), atomically."""
    details = {"role": role, **({"via": via} if via else {})}
    with transaction.atomic():
        user = create_user_with_role(username=username, password=password, role=role, email=email)
        record_audit_event(actor=actor, action="rater.create", target=user, details=details)
    return user


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
        _keep_an_admin(profile)
        profile.status = RaterStatus.PAUSED
        profile.paused_reason = reason[:500]
        profile.save(update_fields=["status", "paused_reason"])
        released = release_leases(rater=profile.user)
        # A paused rater's scripts stop too: their tokens end with the pause.
        revoke_user_tokens(user=profile.user, actor=actor, reason="paused")
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


def _check_grant(actor: User, profile: RaterProfile, role: str) -> None:
    if role not in GRANTABLE_ROLES.get(role_of(actor) or "", frozenset()):
        raise NotAllowed(f"You may not grant the role {role!r}.", code="role_not_grantable")
    if role != Role.ADMIN:
        _keep_an_admin(profile)


def _keep_an_admin(profile: RaterProfile) -> None:
    """Refuse to demote or pause the last admin who can still act (active, not paused): the
    console would have nobody left to resume or promote anyone."""
    if profile.role != Role.ADMIN or not profile.user.is_active or profile.is_paused:
        return
    # Locking every admin's profile makes two admins demoting each other at once queue up.
    admins = RaterProfile.objects.select_for_update(of=("self",)).filter(
        role=Role.ADMIN, user__is_active=True, status=RaterStatus.ACTIVE
    )
    if not any(other.pk != profile.pk for other in admins):
        raise Conflict(
            "This is the last active admin; make another admin first.", code="last_admin"
        )


def change_role(*, actor: User, user_id: int, role: str) -> RaterProfile:
    """The rater with a new role, granted by an actor allowed to grant it, with an audit event
    naming the old and the new role. Never makes a Django superuser or staff member."""
    with transaction.atomic():
        profile = _locked_profile(user_id)
        old_role = str(profile.role)
        _check_grant(actor, profile, role)
        if old_role == role:
            return profile
        profile.role = role
        profile.save(update_fields=["role"])
        user = profile.user
        if user.is_superuser or user.is_staff:
            user.is_superuser = user.is_staff = False
            user.save(update_fields=["is_superuser", "is_staff"])
        record_audit_event(
            actor=actor,
            action="rater.role_change",
            target=user,
            details={"old_role": old_role, "new_role": role},
        )
    return profile


def delete_rater(*, actor: User, user_id: int) -> None:
    """Delete a rater who has never judged, with an audit event. One with judgments is refused:
    their judgments are data, so pause them instead."""
    with transaction.atomic():
        profile = _locked_profile(user_id)
        user = profile.user
        if user.pk == actor.pk:
            raise Conflict("You cannot delete yourself.", code="cannot_delete_self")
        judgments = Judgment.objects.filter(rater=user).count()
        if judgments:
            raise Conflict(
                f"{user.username} has {judgments} judgments; pause them instead of deleting.",
                code="rater_has_judgments",
            )
        record_audit_event(
            actor=actor, action="rater.delete", target=user, details={"role": str(profile.role)}
        )
        user.delete()
