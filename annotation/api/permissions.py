"""Role-based permissions. Roles live on the rater profile."""

from __future__ import annotations

from typing import Any

from rest_framework.permissions import BasePermission
from rest_framework.request import Request

from annotation.models import Role
from annotation.services.raters import role_of


class _HasRole(BasePermission):
    roles: tuple[str, ...] = ()
    message = "Your role may not use this endpoint."

    def has_permission(self, request: Request, view: Any) -> bool:
        return bool(request.user and request.user.is_authenticated) and (
            role_of(request.user) in self.roles  # type: ignore[arg-type]
        )


class IsAdmin(_HasRole):
    roles = (Role.ADMIN,)


class IsAdminOrMLEngineer(_HasRole):
    roles = (Role.ADMIN, Role.ML_ENGINEER)
