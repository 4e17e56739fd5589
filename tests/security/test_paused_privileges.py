"""Pausing an admin or ML engineer (a compromised account, say) takes their powers at once,
through a session as through a token, and the last admin who can act is never paused or
demoted away."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client as BrowserClient

from annotation.models import RaterProfile, RaterStatus
from common.roles import Role
from tests.annotation.admin_api.helpers import API, Client
from tests.factories import make_user
from tests.security.test_admin_side_door import _remount

pytestmark = pytest.mark.django_db


def _signed_in(user: Any) -> BrowserClient:
    browser = BrowserClient()
    browser.force_login(user)
    return browser


def _pause(user: Any) -> None:
    RaterProfile.objects.filter(user=user).update(status=RaterStatus.PAUSED)


@pytest.mark.parametrize(
    ("role", "path"),
    [
        (Role.ADMIN, f"{API}/campaigns/"),
        (Role.ADMIN, f"{API}/audit-events/"),
        (Role.ML_ENGINEER, f"{API}/training/runs/"),
        (Role.ML_ENGINEER, f"{API}/export/?format=trl"),
    ],
)
def test_a_paused_session_loses_admin_and_training_endpoints(role: str, path: str) -> None:
    # given: signed in and working
    user = make_user(role)
    browser = _signed_in(user)
    assert browser.get(path).status_code == 200

    # when
    _pause(user)
    refused = browser.get(path)

    # then: refused with a reason, and back after a resume
    assert (refused.status_code, refused.json()["code"]) == (403, "rater_paused")
    RaterProfile.objects.filter(user=user).update(status=RaterStatus.ACTIVE)
    assert browser.get(path).status_code == 200


def test_a_paused_admin_is_turned_away_from_the_django_admin(settings: Any) -> None:
    settings.DJANGO_ADMIN_ENABLED = True
    _remount()
    try:
        user = make_user(Role.ADMIN)
        browser = _signed_in(user)
        assert browser.get("/admin/").status_code == 200
        _pause(user)
        assert browser.get("/admin/").status_code == 302  # to the sign-in page
    finally:
        settings.DJANGO_ADMIN_ENABLED = False
        _remount()


def test_the_last_admin_who_can_act_is_neither_paused_nor_demoted(admin: Client) -> None:
    # given: a second admin, but paused, so amy is the only one who can act
    bea = make_user(Role.ADMIN, username="bea")
    _pause(bea)

    # when
    pause = admin.post(f"{API}/raters/{admin.user.pk}/pause/", {"reason": "oops"})
    demote = admin.post(f"{API}/raters/{admin.user.pk}/role/", {"role": "annotator"})

    # then
    assert (pause.status_code, pause.json()["code"]) == (409, "last_admin")
    assert (demote.status_code, demote.json()["code"]) == (409, "last_admin")
    assert RaterProfile.objects.get(user=admin.user).status == RaterStatus.ACTIVE

    # given bea resumed, amy may pause the other admin, and not then herself
    assert admin.post(f"{API}/raters/{bea.pk}/resume/").status_code == 200
    assert admin.post(f"{API}/raters/{bea.pk}/pause/", {"reason": "away"}).status_code == 200
    again = admin.post(f"{API}/raters/{admin.user.pk}/pause/", {"reason": "oops"})
    assert (again.status_code, again.json()["code"]) == (409, "last_admin")
