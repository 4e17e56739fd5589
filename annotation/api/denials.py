"""The API's exception handler: every error as JSON (common.exception_handler), and refusals
leave audit events, so someone probing endpoints above their role, or trying stolen or
revoked tokens, shows up in the audit log:

- `auth.denied`: a signed-in user refused by a permission check or by a service (NotAllowed,
  e.g. a role they may not grant, or a paused rater);
- `auth.token_refused`: a 401 for a token that is invalid, expired, revoked or paused, naming
  the token's prefix when it is one of ours, never the key.
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass
from typing import Any

from django.contrib.auth.models import User
from django.core.cache import cache
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.db import DatabaseError
from rest_framework.exceptions import PermissionDenied
from rest_framework.response import Response

from annotation.authentication import TokenRefused
from annotation.services.audit import record_audit_event
from common.client_address import client_address, throttle_identity
from common.errors import NotAllowed
from common.exception_handler import json_exception_handler

logger = logging.getLogger(__name__)

# The same caller refused on the same method and URL pattern is recorded once per window:
# enough to see the probing, without letting a loop of refused calls flood the audit table.
# The pattern (/raters/<int:pk>/role/), not the path, so walking through ids counts once.
REPEAT_WINDOW_S = 60


@dataclass(frozen=True)
class UnknownToken:
    """The target of a refused key that is none of ours."""

    name: str = "unknown token"
    pk: None = None


def _first_in_window(request: Any, who: str) -> bool:
    match = getattr(request, "resolver_match", None)
    route = str(getattr(match, "route", "") or request.path)
    sample = hashlib.sha256(f"{who}\n{request.method}\n{route}".encode()).hexdigest()[:40]
    try:
        return bool(cache.add(f"audit-refused:{sample}", 1, REPEAT_WINDOW_S))
    except Exception:  # a cache outage must not hide the refusal
        return True


def _recorded(**event: Any) -> None:
    try:
        record_audit_event(**event)
    except DatabaseError:
        # The refusal stands either way; a failed audit write must not turn a 4xx into a 500.
        logger.exception("Could not record a refusal (%s)", event["action"])


def _record_denial(context: dict[str, Any], code: str | None = None) -> None:
    request = context.get("request")
    user = getattr(request, "user", None)
    if request is None or not isinstance(user, User):
        return  # anonymous refusals are sign-in failures, audited where they happen
    if not _first_in_window(request, f"user:{user.pk}"):
        return
    details = {"method": request.method or "", "path": request.path[:500]}
    _recorded(
        actor=user,
        action="auth.denied",
        target=user,
        details=details if code is None else {**details, "code": code},
    )


def _record_token_refusal(context: dict[str, Any], refused: TokenRefused) -> None:
    request = context.get("request")
    if request is None:
        return
    address = client_address(request)
    who = f"user:{refused.user.pk}" if refused.user else f"address:{throttle_identity(address)}"
    if not _first_in_window(request, who):
        return
    _recorded(
        actor=refused.user,
        action="auth.token_refused",
        target=refused.token or UnknownToken(),
        details={
            "code": refused.get_codes(),
            "prefix": refused.token.prefix if refused.token else None,
            "method": request.method or "",
            "path": request.path[:500],
            "client_address": address,
        },
    )


def audited_exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    """json_exception_handler, first recording the refusal when it is one the audit keeps."""
    if isinstance(exc, PermissionDenied | DjangoPermissionDenied):
        _record_denial(context)
    elif isinstance(exc, NotAllowed):
        _record_denial(context, code=exc.code)
    elif isinstance(exc, TokenRefused):
        _record_token_refusal(context, exc)
    return json_exception_handler(exc, context)
