"""Signing in goes where the user meant: each role to its home, a deep link through the sign-in,
never to another site, and no task leased to someone who did not ask for work."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode, urlparse

import pytest

from annotation.models import Assignment

from .conftest import PASSWORD, Browser

pytestmark = [pytest.mark.browser, pytest.mark.postgres]


def sign_in_on(page: Any, username: str, *, to_app: bool = True) -> None:
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    if to_app:
        page.locator("main#main:not(.login)").wait_for()


def path_of(page: Any) -> str:
    parsed = urlparse(page.url)
    return parsed.path + (f"?{parsed.query}" if parsed.query else "")


@pytest.mark.parametrize(
    ("username", "home", "heading"),
    [("admin", "/console", "Campaigns"), ("mlengineer", "/training", "Runs")],
)
def test_admins_and_ml_engineers_land_on_their_home_and_lease_nothing(
    browser: Browser, username: str, home: str, heading: str
) -> None:
    page = browser.page()
    leases_before = Assignment.objects.count()
    page.goto("/")

    sign_in_on(page, username)

    page.get_by_role("heading", name=heading, level=1).wait_for()
    assert path_of(page) == home
    assert Assignment.objects.count() == leases_before


def test_an_annotator_lands_on_annotate(browser: Browser) -> None:
    page = browser.page()
    page.goto("/")

    sign_in_on(page, "annotator1")

    page.locator("main[data-assignment-id]").wait_for()
    assert path_of(page) == "/annotate"


def test_a_deep_link_survives_the_sign_in(browser: Browser) -> None:
    page = browser.page()

    page.goto("/training?run=1")
    page.get_by_role("heading", name="Sign in to RLHF Studio").wait_for()
    assert path_of(page) == "/login?next=%2Ftraining%3Frun%3D1"
    sign_in_on(page, "mlengineer")

    page.get_by_role("heading", name="Runs", level=1).wait_for()
    assert path_of(page) == "/training?run=1"


def test_a_server_page_asked_for_is_loaded_after_the_sign_in(browser: Browser) -> None:
    page = browser.page()

    page.goto("/api/v1/docs/")  # the server sends an anonymous visitor to /login?next=...
    page.get_by_role("heading", name="Sign in to RLHF Studio").wait_for()
    sign_in_on(page, "admin", to_app=False)

    page.wait_for_url("**/api/v1/docs/")
    page.locator("#swagger-ui").wait_for()
    assert path_of(page) == "/api/v1/docs/"


@pytest.mark.parametrize(
    "hostile", ["//evil.example/x", "https://evil.example/", "/\\evil.example", "/login"]
)
def test_next_never_leads_off_the_site(browser: Browser, hostile: str) -> None:
    page = browser.page()
    page.goto("/login?" + urlencode({"next": hostile}))

    sign_in_on(page, "admin")

    page.get_by_role("heading", name="Campaigns", level=1).wait_for()
    assert urlparse(page.url).netloc == urlparse(browser.base_url).netloc
    assert path_of(page) == "/console"
