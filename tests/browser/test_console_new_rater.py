"""An admin adds a rater from the console: a taken username is refused beside its field, then a
new ML engineer is made, listed, audited, and can sign in to their own home."""

from __future__ import annotations

import pytest

from annotation.models import AuditEvent, RaterProfile

from .conftest import Browser
from .helpers import log_in

pytestmark = [pytest.mark.postgres, pytest.mark.browser]


def test_an_admin_adds_a_rater_who_can_then_sign_in(browser: Browser) -> None:
    page = browser.page()
    log_in(page, "admin")
    page.get_by_role("navigation", name="Console sections").get_by_role(
        "link", name="Raters"
    ).click()
    page.get_by_test_id("raters-table").wait_for()

    page.get_by_role("button", name="Add rater…").click()
    dialog = page.get_by_role("dialog", name="Add a rater")
    dialog.get_by_label("Username").fill("annotator1")
    dialog.get_by_label("First password").fill("a-long-first-password")
    dialog.get_by_role("button", name="Add rater").click()
    dialog.get_by_text("This username is taken.").wait_for()

    dialog.get_by_label("Username").fill("newcomer")
    dialog.get_by_label("Role").select_option(label="ML engineer")
    dialog.get_by_role("button", name="Add rater").click()
    page.get_by_text("newcomer can now sign in as ML engineer.").wait_for()

    table = page.get_by_test_id("raters-table")
    assert table.get_by_role("row").filter(has_text="newcomer").inner_text().split("\t")[:2] == [
        "newcomer",
        "ML engineer",
    ]
    assert RaterProfile.objects.get(user__username="newcomer").role == "ml_engineer"
    event = AuditEvent.objects.get(action="rater.create", target_name="newcomer")
    assert event.actor_name == "admin"

    other = browser.page()
    other.goto("/")
    other.get_by_label("Username").fill("newcomer")
    other.get_by_label("Password").fill("a-long-first-password")
    other.get_by_role("button", name="Sign in").click()
    other.get_by_role("heading", name="Runs", level=1).wait_for()
