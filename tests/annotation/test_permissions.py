"""Who may call what: one table of every /api/v1/ endpoint by role, plus the rules that keep
raters to their own assignments and keep model names and ids out of what they see."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from rest_framework.test import APIClient

from annotation.models import (
    Assignment,
    AssignmentStatus,
    Campaign,
    Judgment,
    Prompt,
    RankingTask,
    Response,
)
from annotation.services.assignments import claim_next_assignment
from annotation.services.judgments import Submission, submit_judgment
from annotation.services.tokens import issue_token
from common.roles import Role
from tests.factories import make_campaign, make_pool, make_user, setup_campaign

# An APIClient; those from `client_for` also carry the logged-in `.user`.
Client = Any
ClientFor = Callable[..., Client]
ANONYMOUS = "anonymous"
ROLES = (ANONYMOUS, Role.ANNOTATOR, Role.ML_ENGINEER, Role.ADMIN)
PASSWORD = "pw-12345678"  # the factories' default


@dataclass
class World:
    """What one matrix row acts on. `me` is the caller (None when anonymous)."""

    client: Client
    me: Any
    other: Any
    campaign_id: int
    pool_id: int
    spare_pool_id: int
    own_assignment_id: int | None
    judgment_id: int
    task_id: int
    task_response_ids: list[int]
    other_token_id: int
    newcomer_id: int


def build_world(role: str, client_for: ClientFor) -> World:
    client = APIClient() if role == ANONYMOUS else client_for(role)
    me = getattr(client, "user", None)
    other = make_user(username="bystander")
    campaign, _ = setup_campaign(
        [u for u in (me, other) if u is not None], tasks=3, responses_per_task=2, overlap=2
    )
    own = claim_next_assignment(rater=me) if me is not None else None
    others = claim_next_assignment(rater=other)
    assert others is not None
    judgment = submit_judgment(
        rater=other,
        assignment_id=others.pk,
        submission=Submission(ranking=[["A"], ["B"]], idempotency_key="bystander-1"),
    ).judgment
    return World(
        client=client,
        me=me,
        other=other,
        campaign_id=campaign.pk,
        pool_id=campaign.pools.get().pk,
        spare_pool_id=make_pool(members=[], campaigns=[], name="spare").pk,
        own_assignment_id=own.pk if own is not None else None,
        judgment_id=judgment.pk,
        task_id=judgment.task_id,
        task_response_ids=list(judgment.task.response_ids),
        other_token_id=issue_token(user=other, name="bystander's script")[0].pk,
        newcomer_id=make_user(username="newcomer").pk,
    )


def upload() -> dict[str, Any]:
    return {
        "file": SimpleUploadedFile("matrix.jsonl", b'{"prompt": "Hi", "responses": ["a", "b"]}\n')
    }


# Each endpoint: method, path (formatted with the world), and a body builder.
Body = Callable[["World"], dict[str, Any] | None]
NO_BODY: Body = lambda w: None  # noqa: E731
CREDENTIALS: Body = lambda w: {"username": "bystander", "password": PASSWORD}  # noqa: E731

ENDPOINTS: dict[str, tuple[str, str, Body]] = {
    "auth/csrf": ("get", "/api/v1/auth/csrf/", NO_BODY),
    "auth/login": ("post", "/api/v1/auth/login/", CREDENTIALS),
    "auth/logout": ("post", "/api/v1/auth/logout/", NO_BODY),
    "auth/token": ("post", "/api/v1/auth/token/", CREDENTIALS),
    "auth/tokens": ("get", "/api/v1/auth/tokens/", NO_BODY),
    "auth/token revoke": ("delete", "/api/v1/auth/tokens/{other_token}/", NO_BODY),
    "me/password": (
        "post",
        "/api/v1/me/password/",
        lambda w: {"old_password": PASSWORD, "new_password": "a-new-long-passphrase-9"},
    ),
    "me": ("get", "/api/v1/me/", NO_BODY),
    "me/stats": ("get", "/api/v1/me/stats/", NO_BODY),
    "assignments/next": ("post", "/api/v1/assignments/next/", NO_BODY),
    "assignment detail": ("get", "/api/v1/assignments/{own}/", NO_BODY),
    "assignment submit": (
        "post",
        "/api/v1/assignments/{own}/submit/",
        lambda w: {"ranking": [["B"], ["A"]], "idempotency_key": "matrix-1"},
    ),
    "assignment skip": ("post", "/api/v1/assignments/{own}/skip/", lambda w: {"reason": "x"}),
    "campaign list": ("get", "/api/v1/campaigns/", NO_BODY),
    "campaign detail": ("get", "/api/v1/campaigns/{campaign}/", NO_BODY),
    "campaign create": (
        "post",
        "/api/v1/campaigns/",
        lambda w: {"name": "new", "responses_per_task": 2, "overlap": 1},
    ),
    "campaign update": (
        "patch",
        "/api/v1/campaigns/{campaign}/",
        lambda w: {"guidelines": "Be careful."},
    ),
    "campaign import": ("post", "/api/v1/campaigns/{campaign}/import/", lambda w: upload()),
    "campaign tasks": ("get", "/api/v1/campaigns/{campaign}/tasks/", NO_BODY),
    "campaign quality": ("get", "/api/v1/campaigns/{campaign}/quality/", NO_BODY),
    "task gold": (
        "put",
        "/api/v1/tasks/{task}/gold/",
        lambda w: {"ranking": [w.task_response_ids]},
    ),
    "task ungold": ("delete", "/api/v1/tasks/{task}/gold/", NO_BODY),
    "pool list": ("get", "/api/v1/pools/", NO_BODY),
    "pool create": ("post", "/api/v1/pools/", lambda w: {"name": "new pool"}),
    "pool detail": ("get", "/api/v1/pools/{pool}/", NO_BODY),
    "pool update": ("patch", "/api/v1/pools/{pool}/", lambda w: {"description": "x"}),
    "pool delete": ("delete", "/api/v1/pools/{spare_pool}/", NO_BODY),
    "pool members": (
        "post",
        "/api/v1/pools/{spare_pool}/members/",
        lambda w: {"add": [w.other.pk]},
    ),
    "pool campaigns": (
        "post",
        "/api/v1/pools/{spare_pool}/campaigns/",
        lambda w: {"add": [w.campaign_id]},
    ),
    "rater list": ("get", "/api/v1/raters/", NO_BODY),
    "rater create": (
        "post",
        "/api/v1/raters/",
        lambda w: {"username": "newbie", "password": PASSWORD, "role": "annotator"},
    ),
    "rater delete": ("delete", "/api/v1/raters/{newcomer}/", NO_BODY),
    "rater role": ("post", "/api/v1/raters/{newcomer}/role/", lambda w: {"role": "ml_engineer"}),
    "rater tokens": ("get", "/api/v1/raters/{other}/tokens/", NO_BODY),
    "rater tokens revoke": ("post", "/api/v1/raters/{other}/tokens/revoke/", NO_BODY),
    "rater pause": ("post", "/api/v1/raters/{other}/pause/", lambda w: {"reason": "x"}),
    "rater resume": ("post", "/api/v1/raters/{other}/resume/", NO_BODY),
    "judgment list": ("get", "/api/v1/judgments/", NO_BODY),
    "judgment detail": ("get", "/api/v1/judgments/{judgment}/", NO_BODY),
    "audit events": ("get", "/api/v1/audit-events/", NO_BODY),
    "export": ("get", "/api/v1/export/", lambda w: {"format": "trl"}),
    "schema": ("get", "/api/v1/schema/", NO_BODY),
}

# fmt: off
MATRIX: list[tuple[str, int, int, int, int]] = [
    # endpoint             anonymous annotator ml_engineer admin
    ("auth/csrf",            200,     200,      200,       200),
    ("auth/login",           200,     200,      200,       200),
    ("auth/logout",          401,     204,      204,       204),
    ("auth/token",           200,     200,      200,       200),
    ("auth/tokens",          401,     200,      200,       200),
    ("auth/token revoke",    401,     404,      404,       204),
    ("me/password",          401,     200,      200,       200),
    ("me",                   401,     200,      200,       200),
    ("me/stats",             401,     200,      200,       200),
    ("assignments/next",     401,     200,      200,       200),
    ("assignment detail",    401,     200,      200,       200),
    ("assignment submit",    401,     201,      201,       201),
    ("assignment skip",      401,     200,      200,       200),
    ("campaign list",        401,     403,      200,       200),
    ("campaign detail",      401,     403,      200,       200),
    ("campaign create",      401,     403,      403,       201),
    ("campaign update",      401,     403,      403,       200),
    ("campaign import",      401,     403,      403,       201),
    ("campaign tasks",       401,     403,      403,       200),
    ("campaign quality",     401,     403,      403,       200),
    ("task gold",            401,     403,      403,       200),
    ("task ungold",          401,     403,      403,       200),
    ("pool list",            401,     403,      403,       200),
    ("pool create",          401,     403,      403,       201),
    ("pool detail",          401,     403,      403,       200),
    ("pool update",          401,     403,      403,       200),
    ("pool delete",          401,     403,      403,       204),
    ("pool members",         401,     403,      403,       200),
    ("pool campaigns",       401,     403,      403,       200),
    ("rater list",           401,     403,      403,       200),
    ("rater create",         401,     403,      403,       201),
    ("rater delete",         401,     403,      403,       204),
    ("rater role",           401,     403,      403,       200),
    ("rater tokens",         401,     403,      403,       200),
    ("rater tokens revoke",  401,     403,      403,       200),
    ("rater pause",          401,     403,      403,       200),
    ("rater resume",         401,     403,      403,       200),
    ("judgment list",        401,     403,      403,       200),
    ("judgment detail",      401,     403,      403,       200),
    ("audit events",         401,     403,      403,       200),
    ("export",               401,     403,      200,       200),
    ("schema",               401,     200,      200,       200),
]
# fmt: on

ERROR_CODES = {401: "not_authenticated", 403: "permission_denied"}
CASES = [
    pytest.param(endpoint, role, expected, id=f"{endpoint}-{role}")
    for endpoint, *statuses in MATRIX
    for role, expected in zip(ROLES, statuses, strict=True)
]


def test_matrix_covers_every_endpoint_once() -> None:
    assert [row[0] for row in MATRIX] == list(ENDPOINTS)


@pytest.mark.parametrize(("endpoint", "role", "expected"), CASES)
def test_permission_matrix(endpoint: str, role: str, expected: int, client_for: ClientFor) -> None:
    # given
    world = build_world(role, client_for)
    method, template, body = ENDPOINTS[endpoint]
    path = template.format(
        own=world.own_assignment_id or 999_999,
        campaign=world.campaign_id,
        pool=world.pool_id,
        spare_pool=world.spare_pool_id,
        other=world.other.pk,
        judgment=world.judgment_id,
        task=world.task_id,
        other_token=world.other_token_id,
        newcomer=world.newcomer_id,
    )
    data = body(world)
    multipart = endpoint == "campaign import"

    # when
    response = getattr(world.client, method)(
        path, data, **({"format": "multipart"} if multipart else {})
    )

    # then
    assert response.status_code == expected, getattr(response, "data", None)
    if expected in ERROR_CODES:
        assert response.json()["code"] == ERROR_CODES[expected]


# --- raters only ever reach their own assignments -----------------------------------------


@pytest.mark.parametrize("role", [Role.ANNOTATOR, Role.ADMIN])
@pytest.mark.parametrize(
    ("method", "suffix", "data"),
    [
        ("get", "", None),
        ("post", "submit/", {"ranking": [["A"], ["B"]], "idempotency_key": "intruder-1"}),
        ("post", "skip/", {"reason": "not mine"}),
    ],
)
def test_another_raters_assignment_is_not_found(
    role: str,
    method: str,
    suffix: str,
    data: dict[str, Any] | None,
    client_for: ClientFor,
) -> None:
    # given: the owner holds a lease; the intruder is in the same pool
    owner, intruder = client_for(), client_for(role)
    setup_campaign([owner.user, intruder.user], tasks=1, responses_per_task=2, overlap=2)
    assignment_id = owner.post("/api/v1/assignments/next/").json()["id"]

    # when
    response = getattr(intruder, method)(f"/api/v1/assignments/{assignment_id}/{suffix}", data)
    missing = getattr(intruder, method)(
        f"/api/v1/assignments/{assignment_id + 1000}/{suffix}", data
    )

    # then: indistinguishable from an id that does not exist, and nothing changed
    assert response.status_code == 404
    assert response.json() == {"code": "assignment_not_found", "detail": "No such assignment."}
    assert missing.json() == response.json()
    assert Assignment.objects.get(pk=assignment_id).status == AssignmentStatus.LEASED
    assert Judgment.objects.count() == 0


# --- what raters see ----------------------------------------------------------------------

RESPONSE_IDS = (9_100_001, 9_100_002, 9_100_003)
GENERATOR_VERSION = 8_800_123


def judged_task_with_recognisable_ids(first: Any, second: Any) -> tuple[Campaign, list[str]]:
    """A task whose responses have recognisable ids, generators and version ids, already
    judged (with a rationale) by `first`; returns its campaign and its responses' texts."""
    campaign = make_campaign(responses_per_task=3, overlap=2, guidelines="Rank by helpfulness.")
    make_pool(members=[first.user, second.user], campaigns=[campaign])
    prompt = Prompt.objects.create(
        campaign=campaign, conversation=[{"role": "user", "content": "Explain tides."}]
    )
    texts = ["The moon pulls the sea.", "Wind.", "Gravity from the moon and sun."]
    for pk, text in zip(RESPONSE_IDS, texts, strict=True):
        Response.objects.create(
            pk=pk,
            prompt=prompt,
            text=text,
            generator=f"secret-model-{pk}",
            generator_version_id=GENERATOR_VERSION,
        )
    RankingTask.objects.create(
        campaign=campaign, prompt=prompt, response_ids=list(RESPONSE_IDS), required_judgments=2
    )
    first_id = first.post("/api/v1/assignments/next/").json()["id"]
    submitted = first.post(
        f"/api/v1/assignments/{first_id}/submit/",
        {
            "ranking": [["C"], ["A", "B"]],
            "idempotency_key": "first-rater-1",
            "rationale": "rationale-of-the-first-rater",
        },
    )
    assert submitted.status_code == 201
    return campaign, texts


def test_rater_payload_carries_no_model_names_ids_or_other_answers(
    client_for: ClientFor,
) -> None:
    # given: a task whose responses have recognisable ids, generators and version ids,
    # already judged (with a rationale) by another rater
    first, second = client_for(), client_for()
    campaign, texts = judged_task_with_recognisable_ids(first, second)

    # when
    response = second.post("/api/v1/assignments/next/")

    # then
    assert response.status_code == 200
    payload = response.json()
    text = response.content.decode()
    assert "secret-model-" not in text
    assert "rationale-of-the-first-rater" not in text
    for forbidden in (*RESPONSE_IDS, GENERATOR_VERSION):
        assert str(forbidden) not in text
    assert set(payload) == {
        "id",
        "status",
        "campaign",
        "conversation",
        "responses",
        "leased_at",
        "expires_at",
        "strengths",
        "flags",
        "response_flags",
    }
    assert payload["campaign"] == {
        "id": campaign.pk,
        "name": campaign.name,
        "guidelines": "Rank by helpfulness.",
        "judgment_mode": "rank",
    }
    assert payload["conversation"] == [{"role": "user", "content": "Explain tides."}]
    assert [r["label"] for r in payload["responses"]] == ["A", "B", "C"]
    assert all(set(r) == {"label", "text"} for r in payload["responses"])
    assert sorted(r["text"] for r in payload["responses"]) == sorted(texts)
