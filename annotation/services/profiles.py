"""Rater profiles and roles. A user made outside the app (createsuperuser) has no profile until
first needed, and then gets the role their Django flags imply."""

from __future__ import annotations

from django.contrib.auth.models import User

from annotation.models import RaterProfile, Role


def role_of(user: User) -> str | None:
    if not user.is_authenticated:
        return None
    profile = getattr(user, "rater_profile", None)
    if profile is not None:
        return str(profile.role)
    return default_role(user)


def default_role(user: User) -> str:
    """The role of a user made outside this app (e.g. createsuperuser) who has no profile."""
    return Role.ADMIN if user.is_superuser else Role.ANNOTATOR


def ensure_profile(user: User) -> RaterProfile:
    """The user's rater profile, created with their default role if they have none."""
    profile, _ = RaterProfile.objects.get_or_create(
        user=user, defaults={"role": default_role(user)}
    )
    return profile
