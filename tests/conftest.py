"""Shared fixtures. Tests that need real Postgres or Redis are marked `postgres` / `redis`, and
browser tests `browser` (Chromium, Playwright and the built front end): they skip with a reason
when what they need is absent, and fail instead when REQUIRE_SERVICES=1 (CI), so nothing
silently skips there."""

from __future__ import annotations

import importlib.util
import os
import socket
from collections.abc import Callable
from pathlib import Path
from urllib.parse import urlparse

import pytest
from django.core.cache import cache
from django.db import connection
from rest_framework.test import APIClient

from common.roles import Role
from tests.factories import make_user

REQUIRE_SERVICES = os.environ.get("REQUIRE_SERVICES") == "1"
CHROMIUM = Path(os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium"))
FRONTEND_INDEX = Path(__file__).resolve().parents[1] / "frontend" / "dist" / "index.html"


def redis_reachable() -> bool:
    url = os.environ.get("REDIS_URL")
    if not url:
        return False
    parsed = urlparse(url)
    try:
        with socket.create_connection((parsed.hostname or "127.0.0.1", parsed.port or 6379), 2):
            return True
    except OSError:
        return False


def _missing_browser() -> str | None:
    if not os.access(CHROMIUM, os.X_OK):
        return f"needs Chromium at {CHROMIUM}: apt-get install chromium (or set CHROMIUM_PATH)"
    if importlib.util.find_spec("playwright") is None:
        return "needs the playwright package: pip install -e '.[dev]'"
    if not FRONTEND_INDEX.exists():
        return "needs the built front end: make frontend"
    return None


def _missing_services(item: pytest.Item) -> str | None:
    if item.get_closest_marker("postgres") and connection.vendor != "postgresql":
        return "needs PostgreSQL: set DATABASE_URL=postgres://..."
    if item.get_closest_marker("redis") and not redis_reachable():
        return "needs Redis: set REDIS_URL=redis://... to a running server"
    if item.get_closest_marker("browser"):
        return _missing_browser()
    return None


def pytest_runtest_setup(item: pytest.Item) -> None:
    reason = _missing_services(item)
    if reason is None:
        return
    if REQUIRE_SERVICES:
        pytest.fail(f"REQUIRE_SERVICES=1 but this test {reason}", pytrace=False)
    pytest.skip(reason)


@pytest.fixture(autouse=True)
def _fresh_throttles() -> None:
    """Login throttles count calls in the cache; each test starts from zero."""
    cache.clear()


@pytest.fixture
def api() -> APIClient:
    return APIClient()


@pytest.fixture
def client_for(db: None) -> Callable[..., APIClient]:
    """An API client logged in (by token) as a new user of the given role."""

    def build(role: str = Role.ANNOTATOR, username: str | None = None) -> APIClient:
        client = APIClient()
        user = make_user(role=role, username=username)
        client.force_authenticate(user=user)
        client.user = user  # type: ignore[attr-defined]
        return client

    return build


@pytest.fixture
def admin(client_for: Callable[..., APIClient]) -> APIClient:
    """An admin's API client, named admin-amy (the audit log tests read the name)."""
    return client_for(Role.ADMIN, username="admin-amy")
