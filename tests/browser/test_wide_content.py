"""A response with a wide code block and a long unbroken URL stays inside its card at 320 px
and 1280 px: the page never scrolls sideways and no card runs under the side panel. The
console and the dashboard keep to the screen's width too."""

from __future__ import annotations

from typing import Any

import pytest

from annotation.models import Assignment, Response

from .conftest import Browser, screenshot
from .helpers import log_in, task_id

pytestmark = [pytest.mark.browser, pytest.mark.postgres]

WIDE = (
    "See https://example.org/" + "a-very-long-path-segment-" * 12 + "end?q=1\n\n"
    "```python\n" + "value = " + " + ".join(f"term_{i}" for i in range(60)) + "\n```\n"
)
WIDTHS = (320, 1280)


def _overlaps(a: dict[str, float], b: dict[str, float]) -> bool:
    return (
        a["x"] < b["x"] + b["width"]
        and b["x"] < a["x"] + a["width"]
        and (a["y"] < b["y"] + b["height"] and b["y"] < a["y"] + a["height"])
    )


WIDEST = """w => [...document.querySelectorAll('body *')]
  .filter(e => e.getBoundingClientRect().right > w + 1)
  .slice(0, 5)
  .map(e => e.tagName + '.' + e.className + ' ' + Math.round(e.getBoundingClientRect().right))"""


def _assert_fits(page: Any, width: int) -> None:
    scroll = page.evaluate("document.documentElement.scrollWidth")
    assert scroll <= width, page.evaluate(WIDEST, width)


@pytest.mark.parametrize("width", WIDTHS)
def test_wide_response_stays_in_its_card(browser: Browser, width: int) -> None:
    page = browser.page(viewport={"width": width, "height": 900})
    log_in(page, "annotator1")
    task = Assignment.objects.get(pk=task_id(page)).task
    Response.objects.filter(pk__in=task.response_ids).update(text=WIDE)  # whichever shows as A
    page.reload()
    page.locator("#response-A pre").first.wait_for()

    _assert_fits(page, width)
    panel = page.locator("aside.guidelines").bounding_box()
    cards = [page.locator(f"#response-{label}").bounding_box() for label in "AB"]
    assert not any(_overlaps(card, panel) for card in cards if card and panel)
    screenshot(page, f"annotate-wide-{width}")


@pytest.mark.parametrize("width", WIDTHS)
def test_console_and_dashboard_keep_to_the_screen(browser: Browser, width: int) -> None:
    page = browser.page(viewport={"width": width, "height": 900})
    log_in(page, "admin")
    for path, heading in (("/console", "Campaigns"), ("/training", "Runs")):
        page.goto(path)
        page.get_by_role("heading", name=heading, exact=True).wait_for()
        _assert_fits(page, width)
        screenshot(page, f"{path.strip('/')}-{width}")


@pytest.mark.parametrize("width", WIDTHS)
def test_the_new_pages_keep_to_the_screen(browser: Browser, width: int) -> None:
    """The sign-in page, the 404 page with a long unbroken address, the console's add-rater
    dialog and the run form with its worker notice (pages this change added or touched)."""
    page = browser.page(viewport={"width": width, "height": 900})
    page.goto("/login?next=/training")
    page.get_by_role("heading", name="Sign in to RLHF Studio").wait_for()
    _assert_fits(page, width)
    # (each segment under the 255 bytes the test server's file lookup takes as a name)
    page.goto("/" + "/".join(["an-unbroken-old-bookmark-segment-" * 6] * 2))
    page.get_by_role("heading", name="Page not found").wait_for()
    _assert_fits(page, width)
    screenshot(page, f"not-found-{width}")

    log_in(page, "admin")
    page.goto("/console")
    page.get_by_role("navigation", name="Console sections").get_by_role(
        "link", name="Raters"
    ).click()
    page.get_by_role("button", name="Add rater…").click()
    page.get_by_role("dialog", name="Add a rater").wait_for()
    _assert_fits(page, width)
    screenshot(page, f"add-rater-{width}")
    page.keyboard.press("Escape")

    page.goto("/training")
    page.get_by_role("heading", name="Runs", level=1).wait_for()
    page.get_by_role("link", name="Start a run").first.click()
    page.get_by_test_id("worker-warning").wait_for()
    _assert_fits(page, width)
    screenshot(page, f"run-form-{width}")
