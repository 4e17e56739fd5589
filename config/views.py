"""Error pages: JSON under /api/, a plain page elsewhere; never a traceback.

Django answers through these when an error happens outside a DRF view: a request refused
while middleware reads it (too many fields, a body over the limit), a CSRF failure, or a
database that is gone before any view runs.
"""

from __future__ import annotations

import sys
from http import HTTPStatus

from django.http import HttpRequest, HttpResponse

from common.exception_handler import (
    DATABASE_RETRY_AFTER_S,
    SERVER_ERROR_DETAIL,
    api_error,
    request_error,
)
from config.spa import app_page

API_PREFIX = "/api/"


def _answer(request: HttpRequest, status: int, code: str, detail: str) -> HttpResponse:
    if request.path.startswith(API_PREFIX):
        return api_error(status, code, detail)
    # Every text here is a constant of ours: nothing from the request reaches the page.
    title = HTTPStatus(status).phrase
    page = f"<h1>{title}</h1><p>{detail}</p><p><a href='/'>RLHF Studio</a></p>"
    response = HttpResponse(page, status=status)
    if status == 503:
        response["Retry-After"] = str(DATABASE_RETRY_AFTER_S)
    return response


def bad_request(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    known = request_error(exception) if exception is not None else None
    status, code, detail = known or (400, "bad_request", "The request was refused as malformed.")
    return _answer(request, status, code, detail)


def permission_denied(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return _answer(request, 403, "permission_denied", "You may not do this.")


def csrf_failure(request: HttpRequest, reason: str = "") -> HttpResponse:
    """CSRF_FAILURE_VIEW: a session request without a valid CSRF token (Django's reason is
    for the log, not the client)."""
    detail = "CSRF check failed; fetch /api/v1/auth/csrf/ and send its token."
    return _answer(request, 403, "csrf_failed", detail)


def not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    """JSON under /api/; elsewhere the browser app itself, with a 404 status, so a mistyped
    address shows the app's "Page not found" with its header and a way home."""
    if request.method in ("GET", "HEAD") and not request.path.startswith((API_PREFIX, "/static/")):
        page = app_page(request)
        if page.status_code == 200:
            page.status_code = 404
            return page
    return _answer(request, 404, "not_found", "No such page.")


def server_error(request: HttpRequest) -> HttpResponse:
    # Django calls this while handling the exception, so it is still the current one: a lost
    # database connection in middleware or a non-API view is a 503 to retry, not a 500.
    known = request_error(sys.exc_info()[1] or Exception())
    if known is not None and known[0] == 503:
        return _answer(request, *known)
    return _answer(request, 500, "server_error", SERVER_ERROR_DETAIL)
