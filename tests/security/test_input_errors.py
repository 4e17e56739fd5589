"""No input gives a 500: each kind of hostile request that used to (JSON nested 100,000 deep, a
body over the upload limit, over 1,000 fields, a lone surrogate, limit=2^63) is a 4xx JSON
error with a stable code, for anonymous and signed-in callers alike, and nothing is stored."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from drf_spectacular.generators import SchemaGenerator

from annotation.models import Campaign, Judgment
from annotation.services.tokens import issue_token
from common.pagination import MAX_PAGE_SIZE
from common.parsers import MAX_JSON_DEPTH
from common.renderers import SafeJSONRenderer
from common.roles import Role
from tests.factories import make_user, setup_campaign

pytestmark = pytest.mark.django_db

LIMIT = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
FIELDS = settings.DATA_UPLOAD_MAX_NUMBER_FIELDS
CSRF_SECRET = "a" * 32  # a well-formed csrftoken cookie value (its mask is not checked here)


def web() -> Client:
    # The server's own answer, as a client over HTTP would get it: no exception re-raised.
    return Client(raise_request_exception=False, enforce_csrf_checks=True)


def token_headers(role: str) -> dict[str, str]:
    _, key = issue_token(user=make_user(role=role))
    return {"HTTP_AUTHORIZATION": f"Token {key}"}


def error_of(response: Any) -> tuple[int, str]:
    assert response["Content-Type"] == "application/json", response.content[:300]
    body = json.loads(response.content)
    assert isinstance(body["detail"], str)
    return response.status_code, body["code"]


def nested(depth: int) -> str:
    return "[" * depth + "]" * depth


@pytest.fixture
def admin_headers() -> dict[str, str]:
    return token_headers(Role.ADMIN)


@pytest.fixture
def rater_submit() -> tuple[str, dict[str, str]]:
    """A rater's token and the submit URL of the task they just claimed."""
    rater = make_user()
    setup_campaign([rater], tasks=1)
    _, key = issue_token(user=rater)
    headers = {"HTTP_AUTHORIZATION": f"Token {key}"}
    claimed = web().post("/api/v1/assignments/next/", **headers)  # type: ignore[arg-type]
    assert claimed.status_code == 200, claimed.content
    return f"/api/v1/assignments/{claimed.json()['id']}/submit/", headers


# --- (a) JSON nested deep; NaN / Infinity ------------------------------------------------


def test_json_nested_100000_deep_is_a_400_for_anonymous_and_admin(admin_headers) -> None:
    body = nested(100_000)

    anonymous = web().post("/api/v1/auth/token/", body, content_type="application/json")
    admin = web().post("/api/v1/campaigns/", body, content_type="application/json", **admin_headers)

    assert error_of(anonymous) == (400, "json_too_deep")
    assert error_of(admin) == (400, "json_too_deep")
    assert Campaign.objects.count() == 0


def test_json_depth_bound_sits_exactly_at_the_documented_level(admin_headers) -> None:
    # Given a campaign body whose name nests MAX_JSON_DEPTH and one level more
    def post(depth: int) -> Any:
        name = json.loads(nested(depth - 1)) if depth > 1 else "x"
        body = json.dumps({"name": name})
        return web().post(
            "/api/v1/campaigns/", body, content_type="application/json", **admin_headers
        )

    # Then the last allowed depth reaches the serializer, one more stops at the parser
    assert error_of(post(MAX_JSON_DEPTH)) == (400, "invalid")
    assert error_of(post(MAX_JSON_DEPTH + 1)) == (400, "json_too_deep")


@pytest.mark.parametrize("constant", ["NaN", "Infinity", "-Infinity"])
def test_non_standard_number_constants_are_a_parse_error(rater_submit, constant) -> None:
    url, headers = rater_submit
    body = '{"ranking": [["A"]], "idempotency_key": "key-00000001", "client_time_ms": %s}'

    reply = web().post(url, body % constant, content_type="application/json", **headers)

    assert error_of(reply) == (400, "parse_error")
    assert Judgment.objects.count() == 0


# --- (b) bodies over the upload limit ----------------------------------------------------


def test_json_body_over_the_upload_limit_is_a_413(admin_headers) -> None:
    body = json.dumps({"name": "x" * LIMIT})

    anonymous = web().post("/api/v1/auth/token/", body, content_type="application/json")
    admin = web().post("/api/v1/campaigns/", body, content_type="application/json", **admin_headers)

    assert error_of(anonymous) == (413, "payload_too_large")
    assert error_of(admin) == (413, "payload_too_large")
    assert Campaign.objects.count() == 0


def test_form_and_multipart_bodies_over_the_limit_are_a_413(admin_headers) -> None:
    form = "name=" + "x" * LIMIT
    campaign = Campaign.objects.create(name="target", responses_per_task=2, overlap=1)

    urlencoded = web().post(
        "/api/v1/pools/", form, content_type="application/x-www-form-urlencoded", **admin_headers
    )
    multipart = web().post(
        f"/api/v1/campaigns/{campaign.pk}/import/", {"source": "x" * LIMIT}, **admin_headers
    )

    assert error_of(urlencoded) == (413, "payload_too_large")
    assert error_of(multipart) == (413, "payload_too_large")


def test_a_session_login_form_over_the_limit_is_a_413_before_the_view(db) -> None:
    # csrf_protect reads the form before DRF sees the request: Django's handler400 answers.
    client = web()
    client.cookies["csrftoken"] = CSRF_SECRET

    reply = client.post(
        "/api/v1/auth/login/",
        "username=" + "x" * LIMIT,
        content_type="application/x-www-form-urlencoded",
    )

    assert error_of(reply) == (413, "payload_too_large")


def test_more_files_than_allowed_is_a_400(admin_headers) -> None:
    campaign = Campaign.objects.create(name="many files", responses_per_task=2, overlap=1)
    files = {
        f"file{n}": SimpleUploadedFile(f"rows{n}.jsonl", b"{}")
        for n in range(settings.DATA_UPLOAD_MAX_NUMBER_FILES + 1)
    }

    reply = web().post(f"/api/v1/campaigns/{campaign.pk}/import/", files, **admin_headers)

    assert error_of(reply) == (400, "too_many_files")
    assert campaign.prompts.count() == 0


def test_import_files_keep_their_own_larger_limit(admin_headers, settings) -> None:
    # Given an upload limit far below the import file's size
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1_000
    campaign = Campaign.objects.create(name="imports", responses_per_task=2, overlap=1)
    rows = [{"prompt": f"question {n} " + "y" * 100, "responses": ["a", "b"]} for n in range(40)]
    jsonl = "\n".join(json.dumps(row) for row in rows).encode()
    assert len(jsonl) > 4 * settings.DATA_UPLOAD_MAX_MEMORY_SIZE

    upload = SimpleUploadedFile("rows.jsonl", jsonl, content_type="application/jsonl")

    reply = web().post(
        f"/api/v1/campaigns/{campaign.pk}/import/", {"file": upload}, **admin_headers
    )

    assert reply.status_code == 201, reply.content
    assert campaign.prompts.count() == 40


# --- (c) too many fields -------------------------------------------------------------------


def _fields(count: int) -> str:
    return "&".join(f"f{n}=1" for n in range(count))


def test_over_a_thousand_query_fields_is_a_400(admin_headers) -> None:
    reply = web().get(f"/api/v1/campaigns/?{_fields(FIELDS + 1)}", **admin_headers)

    assert error_of(reply) == (400, "too_many_fields")


def test_over_a_thousand_form_fields_is_a_400_in_drf_and_before_it(admin_headers) -> None:
    form = _fields(FIELDS + 1)
    session_form = web()
    session_form.cookies["csrftoken"] = CSRF_SECRET

    signed_in = web().post(
        "/api/v1/pools/", form, content_type="application/x-www-form-urlencoded", **admin_headers
    )
    anonymous = web().post(
        "/api/v1/auth/token/", form, content_type="application/x-www-form-urlencoded"
    )
    # The session login's csrf_protect reads the form before DRF: Django's handler400 answers.
    before_view = session_form.post(
        "/api/v1/auth/login/", form, content_type="application/x-www-form-urlencoded"
    )

    assert error_of(signed_in) == (400, "too_many_fields")
    assert error_of(anonymous) == (400, "too_many_fields")
    assert error_of(before_view) == (400, "too_many_fields")


def test_outside_the_api_a_refused_request_is_the_apps_page_not_json(db) -> None:
    client = web()
    client.cookies["csrftoken"] = CSRF_SECRET

    reply = client.post(
        "/login", _fields(FIELDS + 1), content_type="application/x-www-form-urlencoded"
    )

    assert reply.status_code == 400
    assert reply["Content-Type"].startswith("text/html")
    assert b"Traceback" not in reply.content


def test_a_host_django_refuses_is_json_on_api_paths(db) -> None:
    reply = web().get("/api/v1/me/", HTTP_HOST="attacker.example")

    assert error_of(reply) == (400, "bad_request")


# --- (d) lone surrogates and NUL -----------------------------------------------------------


def test_a_lone_surrogate_echoed_into_an_error_is_a_400_invalid_text(rater_submit) -> None:
    url, headers = rater_submit
    # strength is a choice: DRF's message quotes the value back ("... is not a valid choice")
    body = '{"ranking": [["A"]], "idempotency_key": "key-00000002", "strength": "\\ud800"}'

    reply = web().post(url, body, content_type="application/json", **headers)

    assert error_of(reply) == (400, "invalid_text")
    assert Judgment.objects.count() == 0


@pytest.mark.parametrize(
    "body",
    [
        '{"name": "ok", "\\udfff": 1}',  # in a key
        '{"name": "a\\ud83d"}',  # half of a pair
        '{"name": "nul \\u0000 inside"}',  # Postgres cannot store NUL
    ],
)
def test_bad_text_anywhere_in_the_body_is_refused_before_storing(admin_headers, body) -> None:
    reply = web().post("/api/v1/campaigns/", body, content_type="application/json", **admin_headers)

    assert error_of(reply) == (400, "invalid_text")
    assert Campaign.objects.count() == 0


def test_a_proper_surrogate_pair_is_ordinary_text(admin_headers) -> None:
    body = '{"name": "smile \\ud83d\\ude00", "responses_per_task": 2, "overlap": 1}'

    reply = web().post("/api/v1/campaigns/", body, content_type="application/json", **admin_headers)

    assert reply.status_code == 201, reply.content
    assert Campaign.objects.get().name == "smile \U0001f600"


def test_the_renderer_escapes_a_surrogate_it_is_handed_instead_of_failing() -> None:
    rendered = SafeJSONRenderer().render({"detail": "bad \ud800 text", "ok": "é"})

    assert json.loads(rendered) == {"detail": "bad \ud800 text", "ok": "é"}


# --- (e) pagination ------------------------------------------------------------------------


def paginated_list_paths(campaign_id: int) -> list[str]:
    """Every list the schema says takes `limit`; a campaign's own list for that campaign."""
    schema = SchemaGenerator().get_schema(request=None, public=True)
    return sorted(
        path.replace("{id}", str(campaign_id))
        for path, operations in schema["paths"].items()
        if any(p["name"] == "limit" for p in operations.get("get", {}).get("parameters", []))
    )


def test_every_paginated_list_caps_limit_and_refuses_bad_offsets(admin_headers) -> None:
    campaign = Campaign.objects.create(name="listed", responses_per_task=2, overlap=1)
    paths = paginated_list_paths(campaign.pk)
    # campaigns, a campaign's tasks, pools, judgments, audit events, runs, versions
    assert len(paths) >= 7, paths
    for path in paths:
        huge = web().get(f"{path}?limit={2**63}", **admin_headers)
        assert huge.status_code == 200, (path, huge.content[:300])
        for offset in (str(2**63), "-1", "abc", "1e3"):
            reply = web().get(f"{path}?offset={offset}", **admin_headers)
            assert error_of(reply) == (400, "invalid_pagination"), (path, offset)
        for limit in ("0", "-5", "ten"):
            reply = web().get(f"{path}?limit={limit}", **admin_headers)
            assert error_of(reply) == (400, "invalid_pagination"), (path, limit)


def test_a_limit_past_the_maximum_serves_the_maximum(admin_headers) -> None:
    Campaign.objects.bulk_create(
        Campaign(name=f"c{n}", responses_per_task=2, overlap=1) for n in range(MAX_PAGE_SIZE + 1)
    )

    reply = web().get(f"/api/v1/campaigns/?limit={2**63}", **admin_headers)

    page = reply.json()
    assert reply.status_code == 200
    assert (page["count"], len(page["results"])) == (MAX_PAGE_SIZE + 1, MAX_PAGE_SIZE)
    assert f"limit={MAX_PAGE_SIZE}&offset={MAX_PAGE_SIZE}" in page["next"]


# --- CSRF ----------------------------------------------------------------------------------


def test_a_csrf_failure_on_the_api_is_json(db) -> None:
    make_user(username="alice", password="pw-12345678")

    reply = web().post(
        "/api/v1/auth/login/",
        {"username": "alice", "password": "pw-12345678"},
        content_type="application/json",
    )

    assert error_of(reply) == (403, "csrf_failed")
