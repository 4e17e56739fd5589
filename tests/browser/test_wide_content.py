"""A prompt and responses full of wide code, long unbroken URLs, wide tables and long words stay
inside their cards at 320, 375, 768, 1280 and 1920 px: nothing in a card reaches past its
right edge (a code block or a table scrolls inside itself), the page never scrolls sideways
and no card runs under the side column. The console and the dashboard keep to the screen's
width too."""

from __future__ import annotations

from typing import Any

import pytest

from annotation.management.commands.seed_demo import RANK_CAMPAIGN
from annotation.models import Assignment, Campaign, Prompt, Response
from annotation.ranking import labels_for
from annotation.services.assignments import claim_next_assignment
from annotation.services.judgments import Submission, submit_judgment
from training.models import RunKind, RunMetric, RunStatus, TrainingRun

from .conftest import Browser, screenshot
from .helpers import log_in, task_id

pytestmark = [pytest.mark.browser, pytest.mark.postgres]

TABLE_HEAD = "| " + " | ".join(f"column_heading_{i}" for i in range(10)) + " |"
TABLE_RULE = "|" + "---|" * 10
TABLE_ROW = "| " + " | ".join(["Pneumonoultramicroscopicsilicovolcanoconiosis"] * 10) + " |"
WIDE = (
    "See https://example.org/" + "a-very-long-path-segment-" * 12 + "end?q=1\n\n"
    "```python\n" + "value = " + " + ".join(f"term_{i}" for i in range(60)) + "\n```\n\n"
    f"{TABLE_HEAD}\n{TABLE_RULE}\n{TABLE_ROW}\n{TABLE_ROW}\n\n"
    "Donaudampfschifffahrtselektrizitätenhauptbetriebswerkbauunterbeamtengesellschaft "
    + "x" * 300
    + " and `inline_code_that_never_breaks_"
    + "y" * 120
    + "`\n"
)
WIDTHS = (320, 375, 768, 1280, 1920)
LONG_CAMPAIGN_NAME = "https://models.example.org/" + "an-unbroken-name-segment-" * 6 + "v2"

# Every element of a card whose right edge passes the card's, unless it sits inside a code
# block or table of the card (those scroll sideways within themselves, and are checked too).
OVERFLOWING = """() => {
  const out = [];
  const cards = 'article.response, .conversation, .task-side .panel';
  for (const card of document.querySelectorAll(cards)) {
    const edge = card.getBoundingClientRect().right + 1;
    for (const el of card.querySelectorAll('*')) {
      const scroller = el.parentElement && el.parentElement.closest('pre, .md table');
      if (scroller && card.contains(scroller)) continue;
      const box = el.getBoundingClientRect();
      if (box.width && box.right > edge) {
        out.push(`${el.tagName}.${el.className} ${Math.round(box.right)} > ${Math.round(edge)}`);
      }
    }
  }
  return out.slice(0, 5);
}"""


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
    prompt = [{"role": "user", "content": WIDE}]
    Prompt.objects.filter(pk=task.prompt_id).update(conversation=prompt)
    # The page's heading is the campaign's name: one long unbroken word must wrap too.
    Campaign.objects.filter(pk=task.campaign_id).update(name=LONG_CAMPAIGN_NAME)
    page.reload()
    page.locator("#response-A .md table").first.wait_for()

    _assert_fits(page, width)
    assert page.evaluate(OVERFLOWING) == []
    side = page.locator(".task-side").bounding_box()
    cards = [page.locator(f"#response-{label}").bounding_box() for label in "ABCD"]
    assert not any(_overlaps(card, side) for card in cards if card and side)
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


def _flagged_with_a_wide_rationale() -> None:
    """annotator1 judges a task with the wide text as rationale, and a flag."""
    from django.contrib.auth import get_user_model

    rater = get_user_model().objects.get(username="annotator1")
    assignment = claim_next_assignment(rater=rater)
    assert assignment is not None
    ranking = [[label] for label in labels_for(len(assignment.display_order))]
    submission = Submission(ranking, "wide-rationale-1", flags=["unsafe"], rationale=WIDE)
    submit_judgment(rater=rater, assignment_id=assignment.pk, submission=submission)


def _run_with_wide_results(campaign: Campaign) -> TrainingRun:
    long_name = "validation/" + "an_unbroken_metric_name_" * 2  # the column holds 64
    run = TrainingRun.objects.create(
        kind=RunKind.REWARD,
        base="smollm2",
        campaign=campaign,
        status=RunStatus.SUCCEEDED,
        result={long_name: 0.5, "note": WIDE},
    )
    RunMetric.objects.create(run=run, step=3, name=long_name, value=0.5)
    return run


@pytest.mark.parametrize("width", [320, 1280])
def test_the_panels_this_change_touched_keep_to_the_screen(browser: Browser, width: int) -> None:
    """The console's flags and rationales (a wide code line and a long URL in a rationale), the
    dashboard's ceiling panel, and a run's results with long names and values reported once."""
    campaign = Campaign.objects.get(name=RANK_CAMPAIGN)
    _flagged_with_a_wide_rationale()
    run = _run_with_wide_results(campaign)
    page = browser.page(viewport={"width": width, "height": 900})
    log_in(page, "admin")
    page.goto("/console")
    page.get_by_role("button", name=f"Manage {RANK_CAMPAIGN}").click()
    page.get_by_test_id("annotated-judgments").locator(".rationale").wait_for()
    _assert_fits(page, width)
    screenshot(page, f"console-flags-wide-{width}")
    page.goto(f"/training#campaigns/{campaign.pk}")
    page.get_by_test_id("ceiling").wait_for()
    _assert_fits(page, width)
    page.goto(f"/training#runs/{run.pk}")
    page.get_by_role("heading", name="Values reported once").wait_for()
    _assert_fits(page, width)
    screenshot(page, f"run-results-wide-{width}")
