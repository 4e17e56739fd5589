"""No side door around the API's rules: the Django admin is off unless RLHF_DJANGO_ADMIN=1, and
when on it is read-only, lists no tokens, lets only app admins in and signs in on the app's
page; deleting a rater who has judged is refused; role changes are an audited service that
grants no more than the actor holds; a pause ends the rater's tokens."""

from __future__ import annotations

import importlib
from collections.abc import Iterator
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.test import Client as BrowserClient
from django.urls import clear_url_caches
from rest_framework.test import APIClient

import config.urls
from annotation.models import ApiToken, AuditEvent, Judgment, RankingTask, RaterProfile
from annotation.services.tokens import issue_token
from common.roles import Role
from tests.annotation.admin_api.helpers import API, Client, ClientFor, rate
from tests.factories import make_user, setup_campaign

pytestmark = pytest.mark.django_db
User = get_user_model()


def _remount() -> None:
    importlib.reload(config.urls)
    clear_url_caches()


@pytest.fixture
def django_admin_on(settings: Any) -> Iterator[None]:
    """The Django admin mounted, as with RLHF_DJANGO_ADMIN=1 (urls read the flag on import)."""
    settings.DJANGO_ADMIN_ENABLED = True
    _remount()
    yield
    settings.DJANGO_ADMIN_ENABLED = False
    _remount()


def _browser(user: Any) -> BrowserClient:
    browser = BrowserClient()
    browser.force_login(user)
    return browser


# -- the Django admin ---------------------------------------------------------------------------


@pytest.mark.parametrize("path", ["/admin/", "/admin/login/", "/admin/annotation/apitoken/"])
def test_the_django_admin_is_off_by_default(path: str) -> None:
    # given: an app admin signed in
    browser = _browser(make_user(Role.ADMIN))

    # when
    response = browser.get(path)

    # then
    assert response.status_code == 404


def test_signing_in_to_the_admin_happens_on_the_app_page(django_admin_on: None) -> None:
    # when
    anonymous = BrowserClient().get("/admin/", follow=True)

    # then: one sign-in path, the app's (throttled) one
    assert anonymous.redirect_chain[-1] == ("/login?next=/admin/", 302)
    posted = BrowserClient().post("/admin/login/", {"username": "x", "password": "y"})
    assert (posted.status_code, posted["Location"]) == (302, "/login?next=/admin/")


@pytest.mark.parametrize("role", [Role.ANNOTATOR, Role.ML_ENGINEER])
def test_only_app_admins_get_in(django_admin_on: None, role: str) -> None:
    # given: even a Django superuser and staff member, if their app role is not admin
    user = make_user(role)
    User.objects.filter(pk=user.pk).update(is_superuser=True, is_staff=True)

    # when
    response = _browser(User.objects.get(pk=user.pk)).get("/admin/annotation/judgment/")

    # then
    assert response.status_code == 302
    assert response["Location"].startswith("/admin/login/")


def test_an_inactive_admin_does_not_get_in(django_admin_on: None) -> None:
    user = make_user(Role.ADMIN)
    browser = _browser(user)
    User.objects.filter(pk=user.pk).update(is_active=False)
    assert browser.get("/admin/").status_code == 302


READABLE = [
    "/admin/",
    "/admin/auth/user/",
    "/admin/annotation/campaign/",
    "/admin/annotation/rankingtask/",
    "/admin/annotation/judgment/",
    "/admin/annotation/auditevent/",
    "/admin/training/trainingrun/",
]


def test_an_app_admin_reads_everything_but_tokens(django_admin_on: None) -> None:
    # given
    amy = make_user(Role.ADMIN, username="amy")
    issue_token(user=amy)
    browser = _browser(amy)

    # when
    statuses = {path: browser.get(path).status_code for path in READABLE}
    tokens = browser.get("/admin/annotation/apitoken/")

    # then
    assert statuses == dict.fromkeys(READABLE, 200)
    assert tokens.status_code == 404
    assert b"apitoken" not in browser.get("/admin/").content.lower()


def _write_attempts(campaign_id: int, task_id: int, user_id: int, event_id: int) -> list[Any]:
    """Every write the issue found through the admin, as (method, path, form)."""
    return [
        ("get", "/admin/auth/user/add/", {}),
        ("post", "/admin/auth/user/add/", {"username": "mallory", "password1": "x" * 12}),
        ("post", f"/admin/auth/user/{user_id}/change/", {"username": "x", "is_superuser": "on"}),
        ("post", f"/admin/auth/user/{user_id}/delete/", {"post": "yes"}),
        ("post", f"/admin/annotation/raterprofile/{user_id}/change/", {"role": "admin"}),
        ("post", f"/admin/annotation/rankingtask/{task_id}/change/", {"required_judgments": 99}),
        ("post", f"/admin/annotation/campaign/{campaign_id}/delete/", {"post": "yes"}),
        ("get", "/admin/annotation/auditevent/add/", {}),
        ("post", "/admin/annotation/auditevent/add/", {"action": "forged", "target_type": "x"}),
        ("post", f"/admin/annotation/auditevent/{event_id}/change/", {"action": "edited"}),
        ("post", f"/admin/annotation/auditevent/{event_id}/delete/", {"post": "yes"}),
        (
            "post",
            "/admin/annotation/judgment/",
            {"action": "delete_selected", "_selected_action": [1], "post": "yes"},
        ),
    ]


def test_nothing_can_be_written_through_the_admin(django_admin_on: None) -> None:
    # given: a rater who judged a task, and the audit log so far
    rater = make_user(username="rita")
    campaign, [task] = setup_campaign([rater], tasks=1, overlap=2)
    rater_client = APIClient()
    rater_client.force_authenticate(user=rater)
    rate(rater_client, "side-door-1")
    event = AuditEvent.objects.create(action="real", target_type="x", target_id="1")
    before = (
        list(User.objects.values_list("username", "is_superuser", "is_staff", "password")),
        list(RaterProfile.objects.values_list("user_id", "role")),
        list(RankingTask.objects.values_list("id", "required_judgments", "submitted_count")),
        list(AuditEvent.objects.values_list("id", "action")),
        Judgment.objects.count(),
    )
    browser = _browser(make_user(Role.ADMIN, username="amy"))

    # when
    attempts = _write_attempts(campaign.pk, task.pk, rater.pk, event.pk)
    statuses = [getattr(browser, method)(path, form).status_code for method, path, form in attempts]

    # then: every one refused (the list's bulk delete is no action there: the list shows
    # again), and nothing changed
    assert statuses == [403] * (len(attempts) - 1) + [200]
    after = (
        list(
            User.objects.exclude(username="amy").values_list(
                "username", "is_superuser", "is_staff", "password"
            )
        ),
        list(RaterProfile.objects.exclude(user__username="amy").values_list("user_id", "role")),
        list(RankingTask.objects.values_list("id", "required_judgments", "submitted_count")),
        list(AuditEvent.objects.filter(pk__lte=event.pk).values_list("id", "action")),
        Judgment.objects.count(),
    )
    assert after == before
    # there is no password form either (Django's UserAdmin has one; this admin does not)
    password_page = browser.get(f"/admin/auth/user/{rater.pk}/password/", follow=True)
    assert b"password1" not in password_page.content
    print(f"\nDjango admin writes attempted: {len(attempts)}, rows changed: 0")


# -- deleting raters ----------------------------------------------------------------------------


def test_deleting_a_rater_who_has_judged_is_refused(admin: Client, client_for: ClientFor) -> None:
    # given
    rater = client_for(username="rita")
    setup_campaign([rater.user], tasks=1, overlap=2)
    rate(rater, "delete-refused-1")
    counts = RankingTask.objects.values_list("submitted_count", flat=True)
    before = list(counts)

    # when
    response = admin.delete(f"{API}/raters/{rater.user.pk}/")

    # then
    assert response.status_code == 409
    assert response.json()["code"] == "rater_has_judgments"
    assert User.objects.filter(pk=rater.user.pk).exists()
    assert Judgment.objects.filter(rater=rater.user).count() == 1
    assert list(counts) == before


def test_deleting_a_rater_who_never_judged_is_audited(admin: Client) -> None:
    # given
    newcomer = make_user(username="nina")

    # when
    response = admin.delete(f"{API}/raters/{newcomer.pk}/")

    # then
    assert response.status_code == 204
    assert not User.objects.filter(pk=newcomer.pk).exists()
    event = AuditEvent.objects.get(action="rater.delete")
    assert (event.actor_name, event.target_type, event.target_id, event.target_name) == (
        "admin-amy",
        "User",
        str(newcomer.pk),
        "nina",
    )
    assert event.details == {"role": "annotator"}


def test_deleting_oneself_or_nobody_or_as_non_admin_is_refused(
    admin: Client, client_for: ClientFor
) -> None:
    engineer = client_for(Role.ML_ENGINEER)
    target = make_user()
    assert admin.delete(f"{API}/raters/{admin.user.pk}/").json()["code"] == "cannot_delete_self"
    assert admin.delete(f"{API}/raters/999999/").status_code == 404
    assert engineer.delete(f"{API}/raters/{target.pk}/").status_code == 403
    assert User.objects.filter(pk__in=[admin.user.pk, target.pk]).count() == 2


# -- role changes -------------------------------------------------------------------------------


def _role(user: Any) -> str:
    return str(RaterProfile.objects.get(user=user).role)


def test_an_admin_changes_a_role_audited_with_old_and_new(admin: Client) -> None:
    # given
    rita = make_user(username="rita")

    # when
    engineer = admin.post(f"{API}/raters/{rita.pk}/role/", {"role": "ml_engineer"})
    promoted = admin.post(f"{API}/raters/{rita.pk}/role/", {"role": "admin"})

    # then
    assert (engineer.status_code, engineer.json()["role"]) == (200, "ml_engineer")
    assert (promoted.status_code, promoted.json()["role"]) == (200, "admin")
    rita.refresh_from_db()
    assert (rita.is_superuser, rita.is_staff) == (False, False)
    events = AuditEvent.objects.filter(action="rater.role_change").order_by("id")
    assert [(e.actor_name, e.target_name, e.details) for e in events] == [
        ("admin-amy", "rita", {"old_role": "annotator", "new_role": "ml_engineer"}),
        ("admin-amy", "rita", {"old_role": "ml_engineer", "new_role": "admin"}),
    ]


@pytest.mark.parametrize("role", ["external", "superuser", ""])
def test_roles_nobody_may_grant_are_refused(admin: Client, role: str) -> None:
    rita = make_user(username="rita")
    response = admin.post(f"{API}/raters/{rita.pk}/role/", {"role": role})
    assert response.status_code == 400
    assert _role(rita) == "annotator"
    assert not AuditEvent.objects.filter(action="rater.role_change").exists()


@pytest.mark.parametrize("role", [Role.ANNOTATOR, Role.ML_ENGINEER])
def test_only_admins_change_roles_not_even_their_own(client_for: ClientFor, role: str) -> None:
    # given
    client = client_for(role)

    # when
    response = client.post(f"{API}/raters/{client.user.pk}/role/", {"role": "admin"})

    # then
    assert response.status_code == 403
    assert _role(client.user) == role


def test_the_last_active_admin_cannot_be_demoted(admin: Client) -> None:
    # when: the only admin demotes themself
    alone = admin.post(f"{API}/raters/{admin.user.pk}/role/", {"role": "annotator"})

    # then
    assert (alone.status_code, alone.json()["code"]) == (409, "last_admin")
    assert _role(admin.user) == "admin"

    # given a second admin, one may demote the other
    bea = make_user(Role.ADMIN, username="bea")
    assert admin.post(f"{API}/raters/{bea.pk}/role/", {"role": "annotator"}).status_code == 200
    assert _role(bea) == "annotator"


# -- pausing ends tokens ------------------------------------------------------------------------


def test_pausing_a_rater_ends_their_tokens(admin: Client) -> None:
    # given
    rita = make_user(username="rita")
    _, key = issue_token(user=rita)
    script = APIClient()
    script.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    assert script.get(f"{API}/me/").status_code == 200

    # when
    admin.post(f"{API}/raters/{rita.pk}/pause/", {"reason": "checking"})

    # then
    assert script.get(f"{API}/me/").status_code == 401
    assert ApiToken.objects.get(user=rita).revoked_reason == "paused"
