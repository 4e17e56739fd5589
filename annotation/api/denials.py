"""The API's exception handler: every error as JSON (common.exception_handler), and a signed-in
user refused by a permission check leaves an `auth.denied` audit event naming the path and
method, so someone probing endpoints above their role shows up in the audit log."""

from __future__ import annotations

import logging
from typing import Any

from django.contrib.auth.models import User
from django.core.cache import cache
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.db import DatabaseError
from rest_framework.exceptions import PermissionDenied
from rest_framework.response import Response

from annotation.services.audit import record_audit_event
from common.exception_handler import json_exception_handler

logger = logging.getLogger(__name__)

# The same user refused on the same method and path is recorded once per window: enough to
# see the probing, without letting a loop of forbidden calls flood the audit table.
REPEAT_WINDOW_S = 60


def _first_in_window(user: User, method: str, path: str) -> bool:
    key = f"audit-denied:{user.pk}:{method}:{path}"[:250]
    try:
        return bool(cache.add(key, 1, REPEAT_WINDOW_S))
    except Exception:  # a cache outage must not hide the denial
        return True


def _record_denial(context: dict[str, Any]) -> None:
    request = context.get("request")
    user = getattr(request, "user", None)
    if request is None or not isinstance(user, User):
        return
    method, path = request.method or "", request.path[:500]
    if not _first_in_window(user, method, path):
        return
    try:
        record_audit_event(
            actor=user,
            action="auth.denied",
            target=user,
            details={"method": method, "path": path},
        )
    except DatabaseError:
        # The refusal stands either way; a failed audit write must not turn a 403 into a 500.
        logger.exception("Could not record a permission denial for user %s", user.pk)


def audited_exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    """json_exception_handler, first recording permission denials of signed-in users."""
    if isinstance(exc, PermissionDenied | DjangoPermissionDenied):
        _record_denial(context)
    return json_exception_handler(exc, context)
