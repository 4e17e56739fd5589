"""An unknown address shows the app's own "Page not found" (with a 404 status), signed in or
not, with a way back home."""

from __future__ import annotations

import pytest

from .conftest import Browser
from .helpers import log_in

pytestmark = [pytest.mark.browser, pytest.mark.postgres]


def test_an_anonymous_visitor_gets_the_apps_404_page(browser: Browser) -> None:
    page = browser.page()

    response = page.goto("/no-such-page")

    assert response.status == 404
    page.get_by_role("heading", name="Page not found", level=1).wait_for()
    assert "/no-such-page" in page.get_by_test_id("not-found").inner_text()
    assert page.get_by_role("link", name="Sign in to RLHF Studio").get_attribute("href") == "/login"


def test_a_signed_in_ml_engineer_is_offered_the_dashboard(browser: Browser) -> None:
    page = browser.page()
    log_in(page, "mlengineer")

    response = page.goto("/console/old-bookmark")

    assert response.status == 404
    page.get_by_role("heading", name="Page not found", level=1).wait_for()
    page.get_by_role("link", name="Go to Training").click()
    page.get_by_role("heading", name="Runs", level=1).wait_for()
