"""Role-based permissions. Roles live on the rater profile."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.models import User
from rest_framework.exceptions import NotAuthenticated, PermissionDenied
from rest_framework.permissions import BasePermission
from rest_framework.request import Request

from common.roles import Role, is_paused, role_of


class _HasRole(BasePermission):
    roles: tuple[str, ...] = ()
    message = "Your role may not use this endpoint."

    def has_permission(self, request: Request, view: Any) -> bool:
        user = request.user
        if not isinstance(user, User) or role_of(user) not in self.roles:
            return False
        if is_paused(user):
            # A paused admin or ML engineer (a compromised account, say) loses their powers
            # at once, whether they come with a session or a token.
            raise PermissionDenied("Your account is paused; ask an admin.", code="rater_paused")
        return True


class IsAdmin(_HasRole):
    roles = (Role.ADMIN,)


class IsAdminOrMLEngineer(_HasRole):
    roles = (Role.ADMIN, Role.ML_ENGINEER)


def acting_user(request: Request) -> User:
    """The authenticated user behind a request (views run after IsAuthenticated)."""
    user = request.user
    if not isinstance(user, User):
        raise NotAuthenticated()
    return user
