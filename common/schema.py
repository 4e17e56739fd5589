"""OpenAPI: every operation documents the errors any request can get, in the one JSON shape
every error has ({"code", "detail"}, plus "errors" for field errors).

Views document their successes and the errors particular to them; the errors below come
from the request itself or from the framework (a malformed body, no or a bad login, a missing
row, a throttle, a lost database), so they are added here once instead of on every view.
"""

from __future__ import annotations

from typing import Any

ERROR_REF = {"$ref": "#/components/schemas/Error"}
ERROR_SCHEMA: dict[str, Any] = {
    "type": "object",
    "description": "Every error the API answers: a stable code and a human detail.",
    "properties": {
        "code": {"type": "string", "description": "Stable, e.g. not_found, json_too_deep."},
        "detail": {"type": "string"},
        "errors": {"description": "Field errors: field name to messages."},
    },
    "required": ["code", "detail"],
}
RETRY_AFTER = {
    "Retry-After": {
        "description": "Seconds to wait before retrying.",
        "schema": {"type": "integer"},
    }
}
EVERY_OPERATION = {
    "400": "Malformed request: bad JSON, bad fields, too many fields, invalid text.",
    "401": "Not signed in, or the token is unknown, expired or revoked.",
    "403": "Signed in, but this role may not do this (or the CSRF check failed).",
    "404": "No such row, or not one this user may see.",
    "429": "Too many requests; see Retry-After.",
    "503": "The database is unavailable; retry after Retry-After seconds.",
}
# A write the current state refuses (ServiceError Conflict), whichever operation it is.
WRITES = {"409": "The request conflicts with the current state (e.g. the row is in use)."}
WITH_A_BODY = {
    "413": "The request body is larger than this endpoint takes.",
    "415": "The body's Content-Type is not one this endpoint takes.",
}
HTTP_METHODS = {"get", "put", "post", "delete", "options", "head", "patch", "trace"}


def _error_response(description: str, status: str) -> dict[str, Any]:
    response: dict[str, Any] = {
        "description": description,
        "content": {"application/json": {"schema": ERROR_REF}},
    }
    if status in {"429", "503"}:
        response["headers"] = RETRY_AFTER
    return response


def _merge(responses: dict[str, Any], status: str, description: str) -> None:
    documented = responses.get(status)
    if documented is None:
        responses[status] = _error_response(description, status)
        return
    content = documented.setdefault("content", {})
    own = content.get("application/json", {}).get("schema")
    if own is None:
        content["application/json"] = {"schema": ERROR_REF}
    elif own != ERROR_REF:
        # The view's own error body, or the generic one when the framework answers first.
        content["application/json"] = {"schema": {"anyOf": [own, ERROR_REF]}}
    if status in {"429", "503"}:
        documented.setdefault("headers", {}).update(RETRY_AFTER)


def document_error_responses(result: dict[str, Any], **_: Any) -> dict[str, Any]:
    """drf-spectacular postprocessing hook: add the Error schema and the common errors."""
    result.setdefault("components", {}).setdefault("schemas", {})["Error"] = ERROR_SCHEMA
    for operations in result.get("paths", {}).values():
        for method, operation in operations.items():
            if method not in HTTP_METHODS:
                continue
            responses = operation.setdefault("responses", {})
            errors = {
                **EVERY_OPERATION,
                **(WRITES if method not in {"get", "head", "options"} else {}),
                **(WITH_A_BODY if "requestBody" in operation else {}),
            }
            for status, description in errors.items():
                _merge(responses, status, description)
    return result
