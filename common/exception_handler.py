"""Every API error is JSON with a stable `code` and a human `detail`; never a traceback."""

from __future__ import annotations

import logging
from typing import Any

from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, JsonResponse
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler

from common.errors import ServiceError

logger = logging.getLogger(__name__)


def _first_code(codes: Any) -> str:
    if isinstance(codes, str):
        return codes
    if isinstance(codes, dict):
        return next((_first_code(value) for value in codes.values()), "invalid")
    if isinstance(codes, list) and codes:
        return _first_code(codes[0])
    return "invalid"


def json_exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    if isinstance(exc, ServiceError):
        body: dict[str, Any] = {"code": exc.code, "detail": exc.detail}
        if exc.errors is not None:
            body["errors"] = exc.errors
        return Response(body, status=exc.status)
    if isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, PermissionDenied):
        exc = exceptions.PermissionDenied()
    response = exception_handler(exc, context)
    if response is None:
        logger.exception("Unhandled API error", exc_info=exc)
        return Response(
            {"code": "server_error", "detail": "Something went wrong on our side; it was logged."},
            status=status.HTTP_500_INTERNAL_SERVER_ERROR,
        )
    assert isinstance(exc, exceptions.APIException)
    if isinstance(exc, exceptions.ValidationError):
        response.data = {
            "code": _first_code(exc.get_codes()),
            "detail": "The request has invalid fields.",
            "errors": exc.detail,
        }
    else:
        response.data = {"code": _first_code(exc.get_codes()), "detail": str(exc.detail)}
    return response


def api_not_found(request: HttpRequest, exception: Exception | None = None) -> JsonResponse:
    return JsonResponse({"code": "not_found", "detail": "No such page."}, status=404)


def api_server_error(request: HttpRequest) -> JsonResponse:
    return JsonResponse(
        {"code": "server_error", "detail": "Something went wrong on our side; it was logged."},
        status=500,
    )
