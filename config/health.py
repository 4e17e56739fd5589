"""`GET /healthz/`: whether this web process can serve, for container healthchecks and load
balancers. It needs its database; Redis only carries new training runs and throttle counters
(the app serves through a Redis outage), so the broker is reported but does not fail the check.
The answer names no host, version or error text.
"""

from __future__ import annotations

from django.conf import settings
from django.db import connection
from django.http import HttpRequest, JsonResponse
from django.views.decorators.http import require_safe

OK, UNREACHABLE, NOT_USED = "ok", "unreachable", "not used"


def _database() -> str:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except Exception:  # any failure to reach it is the answer, not an error
        return UNREACHABLE
    return OK


def _broker() -> str:
    if not settings.REDIS_URL:
        return NOT_USED
    import redis

    try:
        client = redis.Redis.from_url(
            settings.REDIS_URL, socket_timeout=1, socket_connect_timeout=1
        )
        client.ping()
        client.close()
    except redis.RedisError:
        return UNREACHABLE
    return OK


@require_safe
def health(request: HttpRequest) -> JsonResponse:
    checks = {"database": _database(), "broker": _broker()}
    healthy = checks["database"] == OK
    response = JsonResponse(
        {"status": OK if healthy else UNREACHABLE, "checks": checks}, status=200 if healthy else 503
    )
    response["Cache-Control"] = "no-store"
    return response
