"""API tokens end: they expire, their owner or an admin revokes them, and a password change,
a pause or a logout that asks for it ends them. Through HTTP; given / when / then."""

from __future__ import annotations

from datetime import datetime, timedelta
from io import StringIO
from typing import Any

import pytest
from django.core.management import call_command
from django.test import override_settings
from django.utils import timezone
from rest_framework.test import APIClient

from annotation.models import ApiToken, AuditEvent
from common.roles import Role
from tests.factories import make_user

pytestmark = pytest.mark.django_db
API = "/api/v1"
PASSWORD = "correct-horse-battery"


def new_token(username: str, name: str = "") -> dict[str, Any]:
    response = APIClient().post(
        f"{API}/auth/token/", {"username": username, "password": PASSWORD, "name": name}
    )
    assert response.status_code == 200, response.content
    body: dict[str, Any] = response.json()
    return body


def with_token(key: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    return client


def me_with(key: str) -> tuple[int, str]:
    response = with_token(key).get(f"{API}/me/")
    return response.status_code, response.json().get("code", response.json().get("username"))


@pytest.fixture
def alice() -> Any:
    return make_user(username="alice", password=PASSWORD)


@pytest.fixture
def admin() -> Any:
    return make_user(role=Role.ADMIN, username="admin-amy", password=PASSWORD)


@override_settings(API_TOKEN_LIFETIME_DAYS=7)
def test_each_call_issues_a_new_token_that_expires(alice: Any) -> None:
    # when
    first, second = new_token("alice", name="laptop"), new_token("alice")

    # then
    assert set(first) == {"token", "id", "name", "prefix", "expires_at"}
    assert first["token"] != second["token"]
    assert first["id"] != second["id"]
    assert first["name"] == "laptop"
    assert first["token"].startswith(first["prefix"])
    lifetime = datetime.fromisoformat(first["expires_at"]) - timezone.now()
    assert timedelta(days=7) - timedelta(minutes=1) < lifetime <= timedelta(days=7)
    assert me_with(first["token"]) == me_with(second["token"]) == (200, "alice")


@override_settings(API_TOKEN_LIFETIME_DAYS=0)
def test_an_expired_token_is_refused(alice: Any) -> None:
    # given: tokens that live no time at all
    token = new_token("alice")

    # then
    assert me_with(token["token"]) == (401, "token_invalid")


def test_owner_lists_their_tokens_without_keys(alice: Any) -> None:
    # given
    kept, revoked = new_token("alice", name="ci"), new_token("alice", name="old")
    client = with_token(kept["token"])
    client.delete(f"{API}/auth/tokens/{revoked['id']}/")

    # when
    listed = client.get(f"{API}/auth/tokens/").json()

    # then
    assert [(row["id"], row["name"], row["is_live"], row["revoked_reason"]) for row in listed] == [
        (revoked["id"], "old", False, "revoked"),
        (kept["id"], "ci", True, ""),
    ]
    assert set(listed[0]) == {
        "id",
        "name",
        "prefix",
        "created_at",
        "expires_at",
        "last_used_at",
        "revoked_at",
        "revoked_reason",
        "is_live",
    }
    assert kept["token"] not in str(listed)
    assert revoked["token"] not in str(listed)
    assert me_with(revoked["token"]) == (401, "token_invalid")


def test_one_user_cannot_see_or_revoke_anothers_token(alice: Any) -> None:
    # given
    make_user(username="bob", password=PASSWORD)
    alices, bobs = new_token("alice"), new_token("bob")
    bob = with_token(bobs["token"])

    # when
    listed = bob.get(f"{API}/auth/tokens/").json()
    revoke = bob.delete(f"{API}/auth/tokens/{alices['id']}/")
    admin_list = bob.get(f"{API}/raters/{alice.pk}/tokens/")
    admin_revoke = bob.post(f"{API}/raters/{alice.pk}/tokens/revoke/")

    # then: alice's token is not bob's to know about
    assert [row["id"] for row in listed] == [bobs["id"]]
    assert (revoke.status_code, revoke.json()["code"]) == (404, "token_not_found")
    assert (admin_list.status_code, admin_revoke.status_code) == (403, 403)
    assert me_with(alices["token"]) == (200, "alice")


def test_an_admin_lists_and_revokes_anyones_tokens(alice: Any, admin: Any) -> None:
    # given
    one, two, three = new_token("alice"), new_token("alice"), new_token("alice")
    amy = with_token(new_token("admin-amy")["token"])

    # when
    listed = amy.get(f"{API}/raters/{alice.pk}/tokens/").json()
    single = amy.delete(f"{API}/auth/tokens/{one['id']}/")
    everything = amy.post(f"{API}/raters/{alice.pk}/tokens/revoke/")
    unknown = amy.get(f"{API}/raters/999999/tokens/")

    # then
    assert [row["id"] for row in listed] == [three["id"], two["id"], one["id"]]
    assert single.status_code == 204
    assert everything.json() == {"revoked": 2}
    assert (unknown.status_code, unknown.json()["code"]) == (404, "user_not_found")
    assert [me_with(t["token"]) for t in (one, two, three)] == [(401, "token_invalid")] * 3
    revocations = AuditEvent.objects.filter(action="token.revoke").order_by("id")
    assert [(e.actor_name, e.target_name, e.details.get("reason")) for e in revocations] == [
        ("admin-amy", "alice", "revoked"),
        ("admin-amy", "alice", "revoked_by_admin"),
    ]


def test_password_change_keeps_the_session_and_ends_every_token(alice: Any) -> None:
    # given: alice signed in in the browser, with two tokens
    tokens = [new_token("alice"), new_token("alice")]
    browser = APIClient()
    browser.post(f"{API}/auth/login/", {"username": "alice", "password": PASSWORD})
    url = f"{API}/me/password/"

    # when
    wrong = browser.post(url, {"old_password": "nope", "new_password": "a-new-long-pass-42"})
    weak = browser.post(url, {"old_password": PASSWORD, "new_password": "123"})
    changed = browser.post(url, {"old_password": PASSWORD, "new_password": "a-new-long-pass-42"})

    # then
    assert (wrong.status_code, wrong.json()["code"]) == (400, "wrong_password")
    assert (weak.status_code, weak.json()["code"]) == (400, "password_rejected")
    assert changed.json() == {"tokens_revoked": 2}
    assert browser.get(f"{API}/me/").status_code == 200
    assert [me_with(t["token"]) for t in tokens] == [(401, "token_invalid")] * 2
    event = AuditEvent.objects.get(action="auth.password_change")
    assert (event.actor_name, event.target_name, event.details["tokens_revoked"]) == (
        "alice",
        "alice",
        2,
    )


def test_a_password_set_outside_the_api_ends_tokens(alice: Any) -> None:
    # given
    token = new_token("alice")

    # when: an admin's reset or `manage.py changepassword` sets it on the model
    alice.set_password("reset-by-an-admin-77")
    alice.save()

    # then
    assert me_with(token["token"]) == (401, "token_invalid")
    listed = with_token(
        APIClient()
        .post(f"{API}/auth/token/", {"username": "alice", "password": "reset-by-an-admin-77"})
        .json()["token"]
    ).get(f"{API}/auth/tokens/")
    assert [row["is_live"] for row in listed.json()] == [True, False]


def test_pausing_a_rater_ends_their_tokens(alice: Any, admin: Any) -> None:
    # given
    token = new_token("alice")
    amy = with_token(new_token("admin-amy")["token"])

    # when
    amy.post(f"{API}/raters/{alice.pk}/pause/", {"reason": "spam"})
    while_paused = me_with(token["token"])
    refused = APIClient().post(f"{API}/auth/token/", {"username": "alice", "password": PASSWORD})
    amy.post(f"{API}/raters/{alice.pk}/resume/")

    # then: refused while paused, and still dead after the resume
    assert while_paused[0] == 401
    assert (refused.status_code, refused.json()["code"]) == (403, "rater_paused")
    assert me_with(token["token"]) == (401, "token_invalid")


def test_a_paused_raters_token_is_refused_with_a_clear_code(alice: Any) -> None:
    # given: paused without a revoke (as the gold-accuracy rule does)
    token = new_token("alice")
    alice.rater_profile.status = "paused"
    alice.rater_profile.save()

    # then
    assert me_with(token["token"]) == (401, "rater_paused")


def test_logout_with_a_token_revokes_it_unless_asked_not_to(alice: Any) -> None:
    # given
    ended, kept, other = new_token("alice"), new_token("alice"), new_token("alice")

    # when
    first = with_token(ended["token"]).post(f"{API}/auth/logout/")
    second = with_token(kept["token"]).post(f"{API}/auth/logout/", {"revoke_token": False})

    # then
    assert (first.status_code, second.status_code) == (204, 204)
    assert me_with(ended["token"]) == (401, "token_invalid")
    assert me_with(kept["token"]) == me_with(other["token"]) == (200, "alice")


def test_session_logout_can_revoke_every_token(alice: Any) -> None:
    # given
    token = new_token("alice")
    browser = APIClient()
    browser.post(f"{API}/auth/login/", {"username": "alice", "password": PASSWORD})

    # when
    browser.post(f"{API}/auth/logout/", {"revoke_all_tokens": True})

    # then
    assert browser.get(f"{API}/me/").status_code == 401
    assert me_with(token["token"]) == (401, "token_invalid")


def test_last_used_is_written_at_most_once_a_minute(alice: Any) -> None:
    # given
    token = new_token("alice")
    row = ApiToken.objects.filter(pk=token["id"])
    recently = timezone.now() - timedelta(seconds=30)
    long_ago = timezone.now() - timedelta(minutes=2)

    # when / then: the first use is recorded
    me_with(token["token"])
    first_use = row.get().last_used_at
    assert first_use is not None
    # a use 30 s after the last one writes nothing
    row.update(last_used_at=recently)
    me_with(token["token"])
    assert row.get().last_used_at == recently
    # a use 2 min after the last one is recorded
    row.update(last_used_at=long_ago)
    me_with(token["token"])
    latest = row.get().last_used_at
    assert latest is not None
    assert latest > recently


def test_the_command_prints_a_working_token(alice: Any) -> None:
    # when
    out = StringIO()
    call_command("create_api_token", "alice", "--name", "cron", stdout=out, stderr=StringIO())

    # then
    key = out.getvalue().strip()
    assert me_with(key) == (200, "alice")
    assert ApiToken.objects.get(user=alice).name == "cron"
