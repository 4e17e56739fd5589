"""Role-based permissions. Roles live on the rater profile."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.models import User
from rest_framework.exceptions import NotAuthenticated
from rest_framework.permissions import BasePermission
from rest_framework.request import Request

from common.roles import Role, role_of


class _HasRole(BasePermission):
    roles: tuple[str, ...] = ()
    message = "Your role may not use this endpoint."

    def has_permission(self, request: Request, view: Any) -> bool:
        user = request.user
        return isinstance(user, User) and role_of(user) in self.roles


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
