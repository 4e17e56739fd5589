"""Roles: what a user may do. Stored on the annotation app's rater profile (`rater_profile`);
read here without importing that app, so permissions can live in `common`."""

from __future__ import annotations

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser, User
from django.db import models


class Role(models.TextChoices):
    ANNOTATOR = "annotator", "Annotator"
    ADMIN = "admin", "Admin"
    ML_ENGINEER = "ml_engineer", "ML engineer"
    # Stands for the authors of imported preference data; never logs in.
    EXTERNAL = "external", "External source"


def role_of(user: User | AbstractBaseUser | AnonymousUser) -> str | None:
    if not user.is_authenticated:
        return None
    profile = getattr(user, "rater_profile", None)
    if profile is not None:
        return str(profile.role)
    assert isinstance(user, User)
    return default_role(user)


def default_role(user: User) -> str:
    """The role of a user made outside this app (e.g. createsuperuser) who has no profile."""
    return Role.ADMIN if user.is_superuser else Role.ANNOTATOR


def is_paused(user: User | AbstractBaseUser | AnonymousUser) -> bool:
    """A paused user keeps their session but may use no admin or training endpoint, and gets
    no tasks or tokens (status "paused" on the profile)."""
    profile = getattr(user, "rater_profile", None)
    return profile is not None and getattr(profile, "status", None) == "paused"
