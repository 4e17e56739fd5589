"""Every list's pagination: `limit` is capped, a bad `offset` is a 400, never a database error.

DRF's LimitOffsetPagination passes any `limit` to the database, and Postgres refuses a LIMIT
past 2^63 - 1 with an error that surfaced as a 500.
"""

from __future__ import annotations

from typing import Any

from rest_framework.exceptions import ValidationError
from rest_framework.pagination import LimitOffsetPagination
from rest_framework.request import Request

MAX_PAGE_SIZE = 500
# Far past any list here, and far from the 2^63 - 1 the database's LIMIT/OFFSET can take.
MAX_OFFSET = 1_000_000_000


class BoundedLimitOffsetPagination(LimitOffsetPagination):
    """limit: 1 to 500 (more is served as 500; absent is the page size);
    offset: 0 to 1,000,000,000, anything else a 400 with code invalid_pagination."""

    max_limit = MAX_PAGE_SIZE

    def get_limit(self, request: Request) -> int | None:
        raw = request.query_params.get(self.limit_query_param)
        if raw is None:
            return self.default_limit
        return min(_whole_number(self.limit_query_param, raw, minimum=1), MAX_PAGE_SIZE)

    def get_offset(self, request: Request) -> int:
        raw = request.query_params.get(self.offset_query_param)
        if raw is None:
            return 0
        offset = _whole_number(self.offset_query_param, raw, minimum=0)
        if offset > MAX_OFFSET:
            raise _invalid(self.offset_query_param, f"at most {MAX_OFFSET}")
        return offset

    def get_schema_operation_parameters(self, view: Any) -> list[dict[str, Any]]:
        parameters: list[dict[str, Any]] = super().get_schema_operation_parameters(view)
        bounds = {
            self.limit_query_param: {"minimum": 1, "maximum": MAX_PAGE_SIZE},
            self.offset_query_param: {"minimum": 0, "maximum": MAX_OFFSET},
        }
        for parameter in parameters:
            parameter["schema"] = {**parameter["schema"], **bounds.get(parameter["name"], {})}
        return parameters


def _whole_number(name: str, raw: str, *, minimum: int) -> int:
    # int() alone would take " 7", "+7" and "1_0"; a query parameter is plain digits.
    if not raw.isascii() or not raw.isdigit():
        raise _invalid(name, f"a whole number of at least {minimum}")
    value = int(raw) if len(raw) <= 20 else MAX_OFFSET + 1  # no 4,300-digit int() parsing
    if value < minimum:
        raise _invalid(name, f"a whole number of at least {minimum}")
    return value


def _invalid(name: str, expected: str) -> ValidationError:
    return ValidationError({name: [f"Must be {expected}."]}, code="invalid_pagination")
