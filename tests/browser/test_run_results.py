"""A finished run reads cleanly: values reported once are listed, not drawn as one-dot
"curves"; long result names wrap beside their values, never under them (at 1280 and 375 px).
A run cancelled in one tab shows as cancelled in another (in the background meanwhile) as soon
as that tab is back in front.

No worker runs: the rows a worker writes are written here (see test_training_dashboard)."""

from __future__ import annotations

import time
from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.utils import timezone

from annotation.management.commands.seed_demo import RANK_CAMPAIGN
from annotation.models import Campaign
from annotation.ranking import labels_for
from annotation.services.assignments import claim_next_assignment
from annotation.services.judgments import Submission, submit_judgment
from training.models import ModelVersion, RunKind, RunMetric, RunStatus, TrainingRun

from .conftest import Browser, screenshot
from .helpers import audited_page, log_in, violations

pytestmark = [pytest.mark.postgres, pytest.mark.browser]

LONG_NAMES = {
    "validation/preference_accuracy_on_the_held_out_pairs": 0.6875,
    "calibration/expected_calibration_error_over_ten_bins": 0.0421,
    "training_pairs": 174,
}

# Each dt of the Results list against its own dd: the boxes must not overlap.
OVERLAPS = """() => [...document.querySelectorAll('dl[aria-label=Results] > div')].filter(row => {
  const t = row.querySelector('dt').getBoundingClientRect();
  const d = row.querySelector('dd').getBoundingClientRect();
  return t.right > d.left + 1 && t.bottom > d.top + 1 && d.bottom > t.top + 1;
}).map(row => row.querySelector('dt').textContent)"""


def finished_reward_run(campaign: Campaign) -> TrainingRun:
    now = timezone.now()
    run = TrainingRun.objects.create(
        kind=RunKind.REWARD,
        base="smollm2",
        campaign=campaign,
        status=RunStatus.SUCCEEDED,
        started_at=now - timedelta(minutes=3),
        finished_at=now,
        step=20,
        total_steps=20,
        progress=1.0,
        result=LONG_NAMES,
    )
    loss = [0.7 - 0.01 * s for s in range(20)]
    points = [RunMetric(run=run, step=s, name="train/loss", value=v) for s, v in enumerate(loss)]
    points += [
        RunMetric(run=run, step=20, name="train/accuracy", value=0.5),
        RunMetric(run=run, step=20, name="validation/accuracy", value=0.6875),
        RunMetric(run=run, step=20, name="eval/runtime_seconds", value=3.5),
    ]
    RunMetric.objects.bulk_create(points)
    return run


@pytest.mark.parametrize("width", [1280, 375])
def test_end_of_run_values_are_listed_and_long_names_wrap(browser: Browser, width: int) -> None:
    run = finished_reward_run(Campaign.objects.get(name=RANK_CAMPAIGN))
    page = audited_page(browser, viewport={"width": width, "height": 900})
    log_in(page, "mlengineer")
    page.goto(f"/training#runs/{run.pk}")
    detail = page.get_by_test_id("run-detail")
    once = detail.get_by_role("definition").filter(has_text="at step 20")
    once.first.wait_for()

    titles = detail.locator("[data-testid=run-charts] figure").all_inner_texts()
    assert [t.split("\n")[0] for t in titles] == ["Loss (latest 0.51)"]  # the only curve
    listed = detail.locator("dl[aria-label='Values reported once']").inner_text()
    for name in ("train/accuracy", "validation/accuracy", "eval/runtime_seconds"):
        assert name in listed
    assert "0.688 at step 20" in listed or "0.6875 at step 20" in listed
    assert page.evaluate(OVERLAPS) == []
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    assert violations(page) == []
    screenshot(page, f"run-results-{width}")


def test_a_run_cancelled_in_one_tab_shows_cancelled_in_another(browser: Browser) -> None:
    campaign = Campaign.objects.get(name=RANK_CAMPAIGN)
    queued = TrainingRun.objects.create(kind=RunKind.GENERATE, base="smollm2", campaign=campaign)
    first = browser.page()
    log_in(first, "mlengineer")
    second = first.context.new_page()  # another tab, same session
    second.goto(f"/training#runs/{queued.pk}")
    second.get_by_test_id("run-detail").get_by_text("Waiting for a GPU worker").wait_for()
    # the second tab goes to the background, as a user's would: hidden, its polling paused
    # (headless Chromium keeps every tab visible, so its state is set as the browser would)
    second.evaluate(
        "() => { Object.defineProperty(document, 'hidden', {value: true, configurable: true});"
        " document.dispatchEvent(new Event('visibilitychange')); }"
    )

    first.goto(f"/training#runs/{queued.pk}")
    first.get_by_role("button", name="Cancel run…").click()
    first.get_by_role("button", name="Yes, cancel the run").click()
    first.get_by_test_id("run-detail").locator(".badge[data-status=cancelled]").wait_for()

    time.sleep(3)  # longer than a poll: a hidden tab must not have asked meanwhile
    badge = second.get_by_test_id("run-detail").locator(".badge[data-status=queued]")
    assert badge.count() == 1  # (still as it was: it was not polling)
    second.evaluate(  # the user switches back
        "() => { Object.defineProperty(document, 'hidden', {value: false, configurable: true});"
        " document.dispatchEvent(new Event('visibilitychange')); }"
    )
    cancelled_at = time.monotonic()
    second.get_by_test_id("run-detail").locator(".badge[data-status=cancelled]").wait_for()
    row = second.get_by_test_id("runs-table").get_by_role("row").filter(has_text=f"#{queued.pk}")
    row.get_by_text("Cancelled").wait_for()
    seen = time.monotonic() - cancelled_at
    print(f"\ncancelled in one tab, shown in the other {seen:.1f} s after it came back")
    assert seen < 5


def test_the_ceiling_panel_compares_like_with_like(browser: Browser) -> None:
    """Three demo annotators rate the same pairs; the panel shows each figure with its
    interval and claims no verdict the intervals do not allow."""
    campaign = Campaign.objects.get(name=RANK_CAMPAIGN)
    ModelVersion.objects.create(
        name="reward-ceiling-1",
        kind="reward",
        base="smollm2",
        artifact_path="/artifacts/runs/0/model",
        campaign=campaign,
        metrics={
            "validation_accuracy": 0.7,
            "validation_accuracy_ci_low": 0.6,
            "validation_accuracy_ci_high": 0.8,
        },
    )
    for rater in ("annotator1", "annotator2", "annotator3"):
        user = get_user_model().objects.get(username=rater)
        for _ in range(3):  # the same three tasks each, ranked alike but for one pair
            assignment = claim_next_assignment(rater=user)
            assert assignment is not None
            tiers = [[label] for label in labels_for(len(assignment.display_order))]
            if rater == "annotator3":
                tiers[0], tiers[1] = tiers[1], tiers[0]
            key = f"ceiling-{assignment.pk}"
            submit_judgment(
                rater=user, assignment_id=assignment.pk, submission=Submission(tiers, key)
            )

    page = audited_page(browser)
    log_in(page, "mlengineer")
    page.goto(f"/training#campaigns/{campaign.pk}")
    panel = page.get_by_test_id("ceiling")
    panel.get_by_text("Reward model on held-out pairs").wait_for()
    text = panel.inner_text()
    assert "reward-ceiling-1; 95 % 60–80 %" in text
    assert "A rater vs. the others' majority" in text
    assert "of decided pairs (95 % interval" in text
    assert violations(page) == []
    screenshot(page, "ceiling-panel")
