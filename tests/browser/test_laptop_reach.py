"""At laptop size (1280×800), with long responses and long guidelines, Submit and the line
beside it stay in sight wherever the rater has scrolled; the guidelines are one keystroke (g)
and one click (the Guidelines button beside Submit) away; an unsent submission is announced
beside Submit, not only at the top of the page."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from annotation.models import Assignment, Response

from .conftest import Browser
from .helpers import log_in, task_id

pytestmark = [pytest.mark.browser, pytest.mark.postgres]

LAPTOP = {"viewport": {"width": 1280, "height": 800}}
LONG_TEXT = "\n\n".join(f"Paragraph {n}: " + "a reasoned sentence " * 30 for n in range(25))
SHOTS = Path(__file__).resolve().parents[2] / "artifacts" / "browser"

IN_SIGHT = """sel => {
  const el = document.querySelector(sel);
  const box = el.getBoundingClientRect();
  if (box.height === 0 || box.top < 0 || box.bottom > innerHeight) return false;
  const hit = document.elementFromPoint(box.left + box.width / 2, box.top + box.height / 2);
  return el === hit || el.contains(hit);
}"""


def in_sight(page: Any, selector: str) -> bool:
    """Wholly inside the viewport and not covered by anything else."""
    return bool(page.evaluate(IN_SIGHT, selector))


def long_task(page: Any) -> None:
    assignment = Assignment.objects.get(pk=task_id(page))
    Response.objects.filter(pk__in=assignment.task.response_ids).update(text=LONG_TEXT)
    campaign = assignment.task.campaign
    campaign.guidelines = LONG_TEXT
    campaign.save(update_fields=["guidelines"])
    page.reload()
    page.locator("#response-D").wait_for()


def shot(page: Any, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"))  # the viewport: what the rater sees


@pytest.mark.parametrize("size", [(1280, 800), (1366, 768), (1100, 650)])
def test_submit_and_guidelines_stay_in_reach_at_laptop_size(
    browser: Browser, size: tuple[int, int]
) -> None:
    page = browser.page(viewport={"width": size[0], "height": size[1]})
    log_in(page, "annotator1")
    long_task(page)
    submit = ".actions .button.primary"

    # wherever the page and the side column are scrolled, Submit and its line are in sight
    for page_y, side_y in ((0, 0), (4000, 0), (10**6, 0), (0, 10**6), (10**6, 10**6)):
        page.evaluate(f"window.scrollTo(0, {page_y})")
        page.evaluate(f"document.querySelector('.task-side').scrollTop = {side_y}")
        assert in_sight(page, submit), (page_y, side_y)
        assert in_sight(page, "[data-testid=submit-state]"), (page_y, side_y)
    shot(page, f"laptop-scrolled-{size[0]}x{size[1]}")

    # the guidelines are open beside the task; g folds them, g again opens them in sight
    page.evaluate("document.querySelector('.task-side').scrollTop = 0")
    page.keyboard.press("g")
    assert page.locator(".guidelines details").get_attribute("open") is None
    page.keyboard.press("g")
    page.wait_for_function(IN_SIGHT, arg=".guidelines summary")
    shot(page, f"laptop-guidelines-by-key-{size[0]}x{size[1]}")

    # read to the end of the long guidelines (their heading scrolls away), then one click on
    # Guidelines beside Submit brings their start back into sight
    page.evaluate("document.querySelector('.task-side').scrollTop = 10 ** 6")
    assert not in_sight(page, ".guidelines summary")
    page.get_by_role("button", name="Guidelines", exact=True).click()
    page.wait_for_function(IN_SIGHT, arg=".guidelines summary")
    assert page.locator(".guidelines details").get_attribute("open") is not None


def test_an_unsent_submission_is_announced_beside_submit(browser: Browser) -> None:
    page = browser.page(**LAPTOP)
    log_in(page, "annotator1")
    long_task(page)
    page.route("**/api/v1/assignments/*/submit/", lambda route: route.abort("internetdisconnected"))
    for key in ("1", "2", "3", "4"):
        page.keyboard.press(key)
    page.evaluate("window.scrollTo(0, 10 ** 6)")  # far from the notices at the top
    page.keyboard.press("Enter")

    state = page.get_by_test_id("submit-state")
    state.filter(has_text="Not sent yet").wait_for()
    assert in_sight(page, "[data-testid=submit-state]")
    assert not in_sight(page, "[data-testid=pending]")  # the top notice is out of sight
    shot(page, "laptop-unsent")
    page.unroute("**/api/v1/assignments/*/submit/")


def test_on_a_phone_the_guidelines_are_one_tap_away(browser: Browser) -> None:
    page = browser.page(viewport={"width": 375, "height": 700})
    log_in(page, "annotator1")
    long_task(page)
    page.evaluate("window.scrollTo(0, 10 ** 6)")  # down at the last response
    assert in_sight(page, ".actions .button.primary")
    assert not in_sight(page, ".guidelines summary")
    page.get_by_role("button", name="Guidelines", exact=True).click()
    page.wait_for_function(IN_SIGHT, arg=".guidelines summary")
    assert page.locator(".guidelines details").get_attribute("open") is not None
    assert in_sight(page, ".actions .button.primary")
    shot(page, "phone-guidelines")
