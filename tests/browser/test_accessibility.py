"""axe-core (from the front end's npm dev dependencies) finds no accessibility violations on
the sign-in page and the annotate page, wide and at 375 px, dialogs included; and the page can
be worked through by headings and landmarks."""

from __future__ import annotations

from itertools import pairwise

import pytest

from annotation.management.commands.seed_demo import RANK_CAMPAIGN
from annotation.models import Campaign, CampaignStatus

from .conftest import PHONE, Browser, screenshot
from .helpers import audited_page, log_in, task_id, violations

pytestmark = [pytest.mark.postgres, pytest.mark.browser, pytest.mark.slow]


def test_sign_in_and_rank_pages_have_no_violations(browser: Browser) -> None:
    page = audited_page(browser)
    page.goto("/")
    page.get_by_label("Username").wait_for()
    assert violations(page) == []
    screenshot(page, "sign-in-1280")

    log_in(page, "annotator1")
    task_id(page)
    page.keyboard.press("2")
    assert violations(page) == []
    page.keyboard.press("?")
    page.get_by_role("dialog", name="Keyboard shortcuts").wait_for()
    assert violations(page) == []
    page.keyboard.press("Escape")
    page.get_by_role("button", name="Skip…").click()
    page.get_by_role("dialog", name="Skip this task").wait_for()
    assert violations(page) == []


def test_pairwise_on_a_phone_has_no_violations(browser: Browser) -> None:
    Campaign.objects.filter(name=RANK_CAMPAIGN).update(status=CampaignStatus.PAUSED)
    page = audited_page(browser, **PHONE)
    log_in(page, "annotator2")
    task_id(page)
    page.get_by_role("button", name="A better").tap()
    assert violations(page) == []


def test_headings_and_landmarks_outline_the_task(browser: Browser) -> None:
    page = browser.page()
    log_in(page, "annotator1")
    task_id(page)
    outline = page.evaluate(
        """() => [...document.querySelectorAll('h1, h2, h3, h4, h5, h6')]
             .map(h => h.tagName + ' ' + h.textContent.trim())"""
    )
    levels = [int(entry[1]) for entry in outline]
    assert levels[0] == 1
    assert all(b - a <= 1 for a, b in pairwise(levels)), outline
    responses = [entry for entry in outline if entry.startswith("H3 Response ")]
    assert responses == ["H3 Response A", "H3 Response B", "H3 Response C", "H3 Response D"]
    assert page.get_by_role("navigation", name="Main").count() == 1
    assert page.get_by_role("main").count() == 1
    assert page.get_by_role("banner").count() == 1
