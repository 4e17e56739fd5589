"""Rater profiles and roles. A user made outside the app (createsuperuser) has no profile until
first needed, and then gets the role their Django flags imply."""

from __future__ import annotations

from django.contrib.auth.models import User

from annotation.models import RaterProfile
from common.roles import default_role


def ensure_profile(user: User) -> RaterProfile:
    """The user's rater profile, created with their default role if they have none."""
    profile, _ = RaterProfile.objects.get_or_create(
        user=user, defaults={"role": default_role(user)}
    )
    return profile
