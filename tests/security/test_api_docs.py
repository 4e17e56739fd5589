"""The OpenAPI schema and its docs page need a login (docs/security.md says why)."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from rest_framework.test import APIClient

from common.roles import Role

pytestmark = pytest.mark.django_db
ClientFor = Callable[..., APIClient]


def test_an_anonymous_caller_gets_a_json_401_for_the_schema(api: APIClient) -> None:
    reply = api.get("/api/v1/schema/")

    assert reply.status_code == 401
    assert reply["Content-Type"].startswith("application/json")
    assert reply.json()["code"] == "not_authenticated"


def test_an_anonymous_visitor_of_the_docs_is_sent_to_sign_in_and_back(api: APIClient) -> None:
    reply = api.get("/api/v1/docs/")

    assert reply.status_code == 302
    assert reply["Location"] == "/login?next=%2Fapi%2Fv1%2Fdocs%2F"


@pytest.mark.parametrize("role", [Role.ANNOTATOR, Role.ML_ENGINEER, Role.ADMIN])
def test_a_signed_in_user_reads_the_schema_as_json_and_the_docs(
    role: str, client_for: ClientFor
) -> None:
    client = client_for(role)

    schema = client.get("/api/v1/schema/")
    docs = client.get("/api/v1/docs/")

    assert schema.status_code == 200
    assert schema.json()["info"]["title"] == "RLHF Studio API"
    assert docs.status_code == 200
    assert b"swagger-ui" in docs.content
