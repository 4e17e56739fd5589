"""`GET /healthz/`: 200 while the database answers, whatever Redis does; plain http even where
the site redirects to https (the container's healthcheck asks from inside)."""

from __future__ import annotations

import pytest
from django.test import Client, override_settings

from tests.faults.live import free_port


@pytest.mark.django_db
def test_healthy_with_its_database() -> None:
    response = Client().get("/healthz/")
    assert response.status_code == 200
    assert response.json()["status"] == "ok"
    assert response.json()["checks"]["database"] == "ok"
    assert response["Cache-Control"] == "no-store"


@pytest.mark.django_db
def test_a_redis_outage_is_reported_but_does_not_fail_it() -> None:
    with override_settings(REDIS_URL=f"redis://127.0.0.1:{free_port()}/0"):
        response = Client().get("/healthz/")
    assert response.status_code == 200
    assert response.json()["checks"]["broker"] == "unreachable"


@pytest.mark.django_db
def test_only_reads_and_never_redirected_to_https() -> None:
    assert Client().post("/healthz/").status_code == 405
    with override_settings(SECURE_SSL_REDIRECT=True):
        client = Client()
        assert client.get("/healthz/").status_code == 200
        assert client.get("/login").status_code == 301
