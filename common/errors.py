"""Domain errors raised by services. Each carries a stable `code` the API returns as is."""

from __future__ import annotations


class ServiceError(Exception):
    status = 400
    default_code = "invalid"

    def __init__(self, detail: str, *, code: str | None = None, errors: object = None) -> None:
        super().__init__(detail)
        self.detail = detail
        self.code = code or self.default_code
        self.errors = errors


class InvalidInput(ServiceError):
    status = 400
    default_code = "invalid"


class NotAllowed(ServiceError):
    status = 403
    default_code = "forbidden"


class NotFound(ServiceError):
    status = 404
    default_code = "not_found"


class Conflict(ServiceError):
    status = 409
    default_code = "conflict"
