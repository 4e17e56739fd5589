"""Every API error is JSON with a stable `code` and a human `detail`; never a traceback.

Besides DRF's own exceptions and the services' ServiceError, input Django refuses while
reading the request (a body over the upload limit, too many fields) is a 4xx here, and a
database the app cannot reach is a 503 with a retry hint instead of a 500.
"""

from __future__ import annotations

import logging
from typing import Any

from django.core.exceptions import (
    PermissionDenied,
    RequestDataTooBig,
    SuspiciousOperation,
    TooManyFieldsSent,
    TooManyFilesSent,
)
from django.db import DataError, InterfaceError, OperationalError
from django.http import Http404, HttpRequest, JsonResponse
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler

from common.errors import ServiceError

logger = logging.getLogger(__name__)

# Seconds a client should wait before retrying after a 503: a lost database connection is
# usually back (or failed over) within a few seconds.
DATABASE_RETRY_AFTER_S = 5
SERVER_ERROR_DETAIL = "Something went wrong on our side; it was logged."


def _first_code(codes: Any) -> str:
    if isinstance(codes, str):
        return codes
    if isinstance(codes, dict):
        return next((_first_code(value) for value in codes.values()), "invalid")
    if isinstance(codes, list) and codes:
        return _first_code(codes[0])
    return "invalid"


def request_error(exc: BaseException) -> tuple[int, str, str] | None:
    """(status, code, detail) for an exception caused by the request or by an unreachable
    database, raised inside a view or in Django's own request handling; None for others."""
    if isinstance(exc, RequestDataTooBig):
        return 413, "payload_too_large", "The request body is larger than this endpoint takes."
    if isinstance(exc, TooManyFieldsSent):
        return 400, "too_many_fields", "The request has more query or form fields than allowed."
    if isinstance(exc, TooManyFilesSent):
        return 400, "too_many_files", "The request has more files than allowed."
    if isinstance(exc, SuspiciousOperation):
        return 400, "bad_request", "The request was refused as malformed."
    if isinstance(exc, OperationalError | InterfaceError):
        return 503, "database_unavailable", "The database is unavailable; retry shortly."
    if isinstance(exc, DataError):
        # Class 22 of SQLSTATE: a value the column cannot hold (out of range, NUL byte).
        return 400, "invalid_value", "A value is out of the range the database can store."
    return None


def _request_error_response(exc: Exception) -> Response | None:
    known = request_error(exc)
    if known is None:
        return None
    status_code, code, detail = known
    if status_code >= 500:
        logger.warning("API request failed: %s: %s", type(exc).__name__, exc)
    response = Response({"code": code, "detail": detail}, status=status_code)
    if status_code == status.HTTP_503_SERVICE_UNAVAILABLE:
        response["Retry-After"] = str(DATABASE_RETRY_AFTER_S)
    return response


def json_exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    if isinstance(exc, ServiceError):
        body: dict[str, Any] = {"code": exc.code, "detail": exc.detail}
        if exc.errors is not None:
            body["errors"] = exc.errors
        return Response(body, status=exc.status)
    known = _request_error_response(exc)
    if known is not None:
        return known
    if isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, PermissionDenied):
        exc = exceptions.PermissionDenied()
    response = exception_handler(exc, context)
    if response is None:
        logger.exception("Unhandled API error", exc_info=exc)
        return Response(
            {"code": "server_error", "detail": SERVER_ERROR_DETAIL},
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


def api_error(status_code: int, code: str, detail: str) -> JsonResponse:
    response = JsonResponse({"code": code, "detail": detail}, status=status_code)
    if status_code == status.HTTP_503_SERVICE_UNAVAILABLE:
        response["Retry-After"] = str(DATABASE_RETRY_AFTER_S)
    return response


def api_not_found(request: HttpRequest, exception: Exception | None = None) -> JsonResponse:
    return api_error(404, "not_found", "No such page.")


def api_server_error(request: HttpRequest) -> JsonResponse:
    return api_error(500, "server_error", SERVER_ERROR_DETAIL)
