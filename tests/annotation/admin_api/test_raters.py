"""Raters through the admin API: list, create, pause and resume."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model

from annotation.models import (
    Assignment,
    AssignmentStatus,
    Judgment,
)
from common.roles import Role
from tests.annotation.admin_api.helpers import (
    API,
    RANKING,
    Client,
    ClientFor,
    audit_log,
    jsonl,
    rate,
    upload,
)
from tests.factories import make_campaign, make_user, setup_campaign


def test_list_raters(admin: Client, client_for: ClientFor) -> None:
    # given: an annotator with one judgment, a paused ML engineer, and an import's author
    rater = client_for(username="bob")
    engineer = make_user(role=Role.ML_ENGINEER, username="carol")
    campaign, _ = setup_campaign([rater.user], tasks=1, overlap=1)
    pool = campaign.pools.get()
    rate(rater, "listing-1")
    assert (
        admin.post(f"{API}/raters/{engineer.pk}/pause/", {"reason": "Holiday"}).status_code == 200
    )
    upload(
        admin, campaign.pk, "pairs.jsonl", jsonl({"prompt": "Hi", "chosen": "a", "rejected": "b"})
    )

    # when
    response = admin.get(f"{API}/raters/")

    # then
    assert response.status_code == 200
    assert response.json() == [
        {
            "id": admin.user.pk,
            "username": "admin-amy",
            "role": "admin",
            "status": "active",
            "paused_reason": "",
            "pool_ids": [],
            "judgment_count": 0,
        },
        {
            "id": rater.user.pk,
            "username": "bob",
            "role": "annotator",
            "status": "active",
            "paused_reason": "",
            "pool_ids": [pool.pk],
            "judgment_count": 1,
        },
        {
            "id": engineer.pk,
            "username": "carol",
            "role": "ml_engineer",
            "status": "paused",
            "paused_reason": "Holiday",
            "pool_ids": [],
            "judgment_count": 0,
        },
    ]


def test_list_raters_shows_a_profileless_superuser_as_admin(admin: Client) -> None:
    # given: a superuser made by `createsuperuser`, who has no rater profile
    root = get_user_model().objects.create_superuser("root", "root@example.com", "pw-12345678")

    # when
    rows = {row["username"]: row for row in admin.get(f"{API}/raters/").json()}

    # then: the same role the permissions give them
    assert rows["root"] == {
        "id": root.pk,
        "username": "root",
        "role": "admin",
        "status": "active",
        "paused_reason": "",
        "pool_ids": [],
        "judgment_count": 0,
    }


def test_create_rater_who_can_then_log_in(admin: Client, api: Client) -> None:
    # when
    response = admin.post(
        f"{API}/raters/", {"username": "dana", "password": "long-enough-pw", "role": "ml_engineer"}
    )

    # then
    assert response.status_code == 201
    assert response.json() == {
        "id": response.json()["id"],
        "username": "dana",
        "role": "ml_engineer",
        "status": "active",
        "paused_reason": "",
        "pool_ids": [],
        "judgment_count": 0,
    }
    token = api.post(f"{API}/auth/token/", {"username": "dana", "password": "long-enough-pw"})
    assert token.status_code == 200
    api.credentials(HTTP_AUTHORIZATION=f"Token {token.json()['token']}")
    assert api.get(f"{API}/me/").json()["role"] == "ml_engineer"
    log = audit_log(admin)
    assert [(event["actor_username"], event["action"]) for event in log] == [
        ("dana", "token.issue"),
        ("dana", "auth.login"),
        ("admin-amy", "rater.create"),
    ]
    assert log[-1] == {
        "actor_username": "admin-amy",
        "action": "rater.create",
        "target_type": "User",
        "target_id": str(response.json()["id"]),
        "details": {"role": "ml_engineer"},
    }


@pytest.mark.parametrize(
    ("data", "code", "errors"),
    [
        (
            {"username": "taken", "password": "long-enough-pw", "role": "annotator"},
            "user_exists",
            {"username": ["This username is taken."]},
        ),
        (
            {"username": "ext", "password": "long-enough-pw", "role": "external"},
            "invalid_choice",
            {"role": ['"external" is not a valid choice.']},
        ),
        (
            {"username": "shorty", "password": "short", "role": "annotator"},
            "min_length",
            {"password": ["Ensure this field has at least 8 characters."]},
        ),
        (
            {"username": "no spaces", "password": "long-enough-pw", "role": "annotator"},
            "invalid",
            {"username": ["This value does not match the required pattern."]},
        ),
        (
            {"username": "erin", "password": "password123", "role": "annotator"},
            "weak_password",
            {"password": ["This password is too common."]},
        ),
        (
            {"username": "frederick", "password": "frederick1", "role": "annotator"},
            "weak_password",
            {"password": ["The password is too similar to the username."]},
        ),
    ],
)
def test_create_rater_refuses_bad_input(
    admin: Client, data: dict[str, str], code: str, errors: dict[str, list[str]]
) -> None:
    # given
    make_user(username="taken")
    before = list(admin.get(f"{API}/raters/").json())

    # when
    response = admin.post(f"{API}/raters/", data)

    # then
    assert response.status_code == 400
    assert response.json() == {
        "code": code,
        "detail": "The request has invalid fields.",
        "errors": errors,
    }
    assert admin.get(f"{API}/raters/").json() == before


def test_pause_releases_live_leases_and_blocks_new_work(
    admin: Client, client_for: ClientFor
) -> None:
    # given: the rater holds a lease on the only slot of a task
    rater, colleague = client_for(), client_for()
    setup_campaign([rater.user, colleague.user], tasks=2, overlap=1)
    lease = rater.post(f"{API}/assignments/next/").json()
    colleague_first = colleague.post(f"{API}/assignments/next/").json()
    colleague.post(f"{API}/assignments/{colleague_first['id']}/skip/")

    # when
    paused = admin.post(f"{API}/raters/{rater.user.pk}/pause/", {"reason": "Too fast"})

    # then
    assert paused.status_code == 200
    assert (paused.json()["status"], paused.json()["paused_reason"]) == ("paused", "Too fast")
    assert Assignment.objects.get(pk=lease["id"]).status == AssignmentStatus.RELEASED
    blocked = rater.post(f"{API}/assignments/next/")
    assert blocked.status_code == 403
    assert blocked.json() == {
        "code": "rater_paused",
        "detail": "Your account is paused; ask an admin.",
    }
    submit = rater.post(
        f"{API}/assignments/{lease['id']}/submit/",
        {"ranking": RANKING, "idempotency_key": "paused-1"},
    )
    assert submit.status_code == 403
    assert submit.json()["code"] == "rater_paused"
    # the released slot is free again for someone else
    assert (
        colleague.post(f"{API}/assignments/next/").json()["conversation"] == lease["conversation"]
    )
    log = audit_log(admin)
    assert [event for event in log if event["action"] == "rater.pause"] == [
        {
            "actor_username": "admin-amy",
            "action": "rater.pause",
            "target_type": "User",
            "target_id": str(rater.user.pk),
            "details": {"reason": "Too fast", "leases_released": 1},
        }
    ]
    # the refused work after the pause is on record too
    assert {event["details"].get("code") for event in log if event["action"] == "auth.denied"} == {
        "rater_paused"
    }


def test_resume_lets_a_paused_rater_work_again(admin: Client, client_for: ClientFor) -> None:
    # given
    rater = client_for()
    setup_campaign([rater.user], tasks=2, overlap=1)
    first = rater.post(f"{API}/assignments/next/").json()
    admin.post(f"{API}/raters/{rater.user.pk}/pause/", {"reason": "Check"})

    # when
    resumed = admin.post(f"{API}/raters/{rater.user.pk}/resume/")

    # then: working again, on a task not yet seen (the released one is not offered again)
    assert resumed.status_code == 200
    assert (resumed.json()["status"], resumed.json()["paused_reason"]) == ("active", "")
    claimed = rater.post(f"{API}/assignments/next/")
    assert claimed.status_code == 200
    assert claimed.json()["id"] != first["id"]
    assert [(e["action"], e["target_id"]) for e in audit_log(admin)[:2]] == [
        ("rater.resume", str(rater.user.pk)),
        ("rater.pause", str(rater.user.pk)),
    ]


@pytest.mark.parametrize("action", ["pause", "resume"])
def test_pause_or_resume_someone_who_is_not_a_rater(admin: Client, action: str) -> None:
    # given: the invisible author of imported preferences, and an id nobody has
    campaign = make_campaign()
    upload(
        admin, campaign.pk, "pairs.jsonl", jsonl({"prompt": "Hi", "chosen": "a", "rejected": "b"})
    )
    external_id = Judgment.objects.get().rater_id

    # when
    responses = [admin.post(f"{API}/raters/{pk}/{action}/") for pk in (external_id, 999_999)]

    # then
    for response in responses:
        assert response.status_code == 404
        assert response.json() == {"code": "rater_not_found", "detail": "No such rater."}
