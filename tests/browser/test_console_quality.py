"""The console's quality parts in headless Chromium, on data from simulated raters (one with a
strong position bias, one spammer) who worked through the rater API: an admin makes a pool,
reads the agreement figures and the bias report, finds the position-biased rater flagged and
pauses them from the flagged list, sees the report's columns in the raters table, sets the
gold settings and marks a task gold with a ranking (after the server refused a first try);
axe finds no violations on the Quality and Gold sections, wide and at 375 px."""

from __future__ import annotations

import io
import json
from datetime import timedelta
from typing import Any

import pytest
from django.core.management import call_command
from django.utils import timezone

from annotation.models import Campaign, Judgment, RankingTask, RaterProfile, RaterStatus
from annotation.services.judging import Judge, VerdictRow, record_judge_verdicts

from .conftest import PHONE, Browser, screenshot
from .helpers import violations
from .test_console import admin_console

pytestmark = [pytest.mark.postgres, pytest.mark.browser, pytest.mark.slow]

CAMPAIGN = "Quality demo"
REGIONS = ["EU"] * 6 + ["US"] * 5 + ["APAC"]  # APAC has too few raters to be compared


@pytest.fixture
def simulated(browser: Browser) -> dict[str, Any]:
    """12 simulated raters, 60 pairwise judgments each (overlap 6 on 120 tasks, so every rater
    reaches 60); one has a position bias of 0.9, one is a spammer. Judgments are spread over
    six days and the raters have consented self-reported regions. Returns the run's summary."""
    out = io.StringIO()
    call_command(
        "simulate_raters",
        "--create-campaign",
        CAMPAIGN,
        "--tasks",
        "120",
        "--overlap",
        "6",
        "--raters",
        "12",
        "--position-biased",
        "1",
        "--position-bias",
        "0.9",
        "--spammers",
        "1",
        "--judgments-per-rater",
        "60",
        "--seed",
        "3",
        stdout=out,
        stderr=io.StringIO(),
    )
    summary: dict[str, Any] = json.loads(out.getvalue().strip().splitlines()[-1])
    assert summary["judgments"] == 720, summary["errors"]
    ids = list(
        Judgment.objects.filter(task__campaign__name=CAMPAIGN)
        .order_by("id")
        .values_list("id", flat=True)
    )
    now = timezone.now()
    for index, pk in enumerate(ids):
        Judgment.objects.filter(pk=pk).update(
            submitted_at=now - timedelta(days=5 - 6 * index // len(ids), minutes=len(ids) - index)
        )
    for number, region in enumerate(REGIONS, start=1):
        RaterProfile.objects.filter(user__username=f"sim-{number:02d}").update(
            demographics={"region": region}, demographics_consent=True
        )
    # An LLM judge's verdicts on 40 of the pairs: sure of the lower id when it is shown
    # first, and on every other pair also when it is shown second (order-consistent).
    campaign = Campaign.objects.get(name=CAMPAIGN)
    tasks = RankingTask.objects.filter(campaign=campaign).order_by("id")[:40]
    rows = [
        VerdictRow(min(ids), max(ids), 2.0, 1.5 if number % 2 else -1.0)
        for number, ids in enumerate(task.response_ids for task in tasks)
    ]
    judge = Judge(JUDGE, None, None)
    record_judge_verdicts(campaign=campaign, judge=judge, rows=rows, prelabel_margin=1.0)
    return summary


# A judge named by a long path (what a worker's local model often is): the table must wrap or
# scroll in its own frame, never widen the page.
JUDGE = "/srv/models/an-organisation/judge-model-with-a-long-name-2026-instruct-preview"


def position_biased(summary: dict[str, Any]) -> str:
    (name,) = [r["username"] for r in summary["raters"] if r["traits"]["position_bias"] > 0]
    return str(name)


def open_section(page: Any, nav: str, heading: str) -> None:
    page.get_by_role("navigation", name="Console sections").get_by_role(
        "link", name=nav, exact=True
    ).click()
    page.get_by_role("heading", name=heading, level=1).wait_for()


def choose_campaign(page: Any, label: str) -> None:
    campaign = Campaign.objects.get(name=CAMPAIGN)
    page.get_by_label(label, exact=True).select_option(str(campaign.pk))


def wait_for_report(page: Any) -> Any:
    report = page.get_by_test_id("quality-report")
    report.wait_for()
    return report


def test_admin_finds_and_pauses_a_biased_rater_and_marks_gold(
    browser: Browser, simulated: dict[str, Any]
) -> None:
    biased = position_biased(simulated)
    page = admin_console(browser)

    make_a_pool_of_five_simulated_raters(page)
    read_the_agreement_figures(page)
    flagged = read_the_bias_report(page, biased)
    download_the_report(page, biased)
    pause_from_the_flagged_list(page, flagged, biased)
    see_the_report_columns_in_the_raters_table(page, biased)
    save_the_gold_settings(page)
    mark_a_task_gold_after_a_refusal(page)


def make_a_pool_of_five_simulated_raters(page: Any) -> None:
    """Big enough to be compared with the others."""
    open_section(page, "Rater pools", "Rater pools")
    page.get_by_label("Name").fill("Reviewers")
    page.get_by_role("button", name="Create pool").click()
    page.get_by_role("heading", name="Reviewers", level=2).wait_for()
    for number in range(1, 6):
        page.get_by_label("Add rater").select_option(label=f"sim-{number:02d} (annotator)")
        page.get_by_role("button", name="Add rater").click()
        page.get_by_text(f"sim-{number:02d} added to").wait_for()


def read_the_agreement_figures(page: Any) -> None:
    """Every headline figure with its interval and n; nothing reads NaN."""
    open_section(page, "Quality", "Quality")
    choose_campaign(page, "Campaign")
    report = wait_for_report(page)
    cards = page.get_by_test_id("agreement-cards")
    for title in ("Percent agreement", "Agreement without ties", "Krippendorff's α, pairs"):
        card = cards.get_by_role("listitem").filter(
            has=page.get_by_role("heading", name=title, exact=True)
        )
        assert "95% CI" in card.inner_text(), title
        assert "n = 120 response pairs" in card.inner_text(), title
    assert "NaN" not in report.inner_text()
    assert "the ceiling a reward model can reach on this data" in (
        page.get_by_test_id("ceiling-note").inner_text()
    )
    page.get_by_role("img", name="Agreement per day").wait_for()
    assert page.locator(".line-chart .chart-band").count() == 1
    assert page.locator(".line-chart table tbody tr").count() > 1  # judgments over several days


def read_the_bias_report(page: Any, biased: str) -> Any:
    """Campaign-level figures, the biased rater flagged in words and in the position-bias
    chart, the pools and regions compared. Returns the biased rater's flagged entry."""
    campaign_bias = page.get_by_test_id("campaign-bias")
    assert "chose the response shown first" in campaign_bias.inner_text(), (
        "no campaign-level bias figures: annotation/selectors/quality.py overwrites the "
        "report's 'campaign' figures with the campaign's name"
    )
    flagged = page.get_by_test_id("flagged-raters").locator(f"[data-rater='{biased}']")
    assert "Position bias:" in flagged.inner_text()
    assert "Chose the response shown first in 9" in flagged.inner_text()
    assert "after Holm's correction" in flagged.inner_text()
    chart = page.locator("figure").filter(
        has=page.get_by_text("Position bias: share choosing the response shown first")
    )
    assert chart.locator(".interval-row.is-flagged").count() == 1
    assert biased in (chart.locator(".interval-row.is-flagged").text_content() or "")
    judges = page.get_by_test_id("judge-scores")
    judge_row = judges.locator("tbody tr").filter(has_text=JUDGE)
    assert "Same verdict in both orders" in judges.inner_text()
    assert "50%" in judge_row.inner_text()  # half its verdicts are order-consistent
    assert "of 40" in judge_row.inner_text()
    assert "of 80" in judge_row.inner_text()  # two calls per pair
    pools = page.locator(".group-comparison").filter(has_text="Pools")
    assert "Reviewers" in pools.inner_text()
    regions = page.locator(".group-comparison").filter(has_text="Self-reported region")
    assert "Left out for having fewer than 5 raters: APAC." in regions.inner_text()
    page.get_by_text("How to read this").click()
    assert "Holm's correction" in page.locator(".how-to-read").inner_text()
    assert page.evaluate("document.documentElement.scrollWidth") <= 1280
    assert violations(page) == []
    screenshot(page, "console-quality-1280")
    return flagged


def download_the_report(page: Any, biased: str) -> None:
    """The JSON the page shows, and the CSV from the server."""
    with page.expect_download() as download:
        page.get_by_role("button", name="Download JSON").click()
    saved = json.loads(download.value.path().read_text())
    assert biased in [row["username"] for row in saved["rater_rows"] if row["flags"]]
    with page.expect_download() as download:
        page.get_by_role("button", name="Download CSV").click()
    assert download.value.suggested_filename.endswith(".csv")
    assert download.value.path().read_text().startswith("level,name,figure,value")


def pause_from_the_flagged_list(page: Any, flagged: Any, biased: str) -> None:
    """With the reason the flags prefill."""
    flagged.get_by_role("button", name="Pause…").click()
    dialog = page.get_by_role("dialog", name=f"Pause {biased}")
    reason = dialog.get_by_label("Reason").input_value()
    assert reason.startswith(
        f"Quality report for “{CAMPAIGN}”: position bias (first shown chosen 9"
    )
    assert violations(page) == []
    dialog.get_by_role("button", name="Pause rater").click()
    flagged.get_by_role("button", name="Resume").wait_for()
    page.get_by_text(f"{biased} is paused").wait_for()
    profile = RaterProfile.objects.get(user__username=biased)
    assert (profile.status, profile.paused_reason) == (RaterStatus.PAUSED, reason)


def see_the_report_columns_in_the_raters_table(page: Any, biased: str) -> None:
    open_section(page, "Raters", "Raters")
    choose_campaign(page, "Quality figures from")
    raters = page.get_by_test_id("raters-table")
    raters.get_by_role("columnheader", name="Flags").wait_for()
    assert page.evaluate("document.documentElement.scrollWidth") <= 1280
    row = raters.get_by_role("row").filter(has_text=biased)
    assert "position bias" in row.locator("td[data-label='Flags']").inner_text()
    assert row.locator("td[data-label='Median time']").inner_text().endswith(" s")
    assert "Paused" in row.inner_text()
    screenshot(page, "console-raters-quality-1280")


def save_the_gold_settings(page: Any) -> None:
    open_section(page, "Gold", "Gold tasks")
    settings = page.locator("section").filter(has=page.get_by_role("heading", name="Gold settings"))
    settings.get_by_label("Gold rate").fill("0.1")
    settings.get_by_label("Pause below gold accuracy").fill("0.7")
    settings.get_by_label("Pause only after (gold tasks)").fill("5")
    settings.get_by_role("button", name="Save gold settings").click()
    settings.get_by_text("Saved 3 settings.").wait_for()
    campaign = Campaign.objects.get(name=CAMPAIGN)
    assert (campaign.gold_rate, campaign.pause_gold_accuracy_below) == (0.1, 0.7)
    assert campaign.pause_gold_min_items == 5


def mark_a_task_gold_after_a_refusal(page: Any) -> None:
    """The server's refusal shows, a retry saves, and the task is listed as gold."""
    card = page.get_by_test_id("task-list").get_by_role("listitem").first
    task = RankingTask.objects.get(pk=int(card.get_attribute("data-task-id")))
    first, second = task.response_ids
    card.get_by_role("button", name="Make gold").click()
    editor = card.get_by_role("group", name=f"Gold ranking for task {task.pk}")
    editor.get_by_role("button", name="Down: response A").click()
    # The moved response keeps the keyboard focus (on its other button, at the bottom).
    assert page.evaluate("document.activeElement.getAttribute('aria-label')") == "Up: response A"
    assert "B, then A" in editor.inner_text()
    refusal = {"code": "gold_ranking_mismatch", "detail": "The task changed meanwhile."}
    page.route(
        "**/api/v1/tasks/*/gold/",
        lambda route: route.fulfill(status=400, json=refusal),
        times=1,
    )
    editor.get_by_role("button", name="Save gold ranking").click()
    editor.get_by_role("alert").get_by_text("The task changed meanwhile.").wait_for()
    assert not RankingTask.objects.get(pk=task.pk).is_gold
    assert violations(page) == []
    screenshot(page, "console-gold-editor-1280")
    editor.get_by_role("button", name="Save gold ranking").click()
    page.get_by_text(f"Task {task.pk} is gold: B, then A.").wait_for()
    task.refresh_from_db()
    assert (task.is_gold, task.gold_ranking) == (True, [[second], [first]])

    page.get_by_role("button", name="Gold tasks", exact=True).click()
    gold_card = page.locator(f"[data-task-id='{task.pk}']")
    assert "Gold ranking: B, then A" in gold_card.inner_text()
    assert "has 1 gold task of 120" in page.get_by_test_id("gold-count").inner_text()
    assert violations(page) == []
    screenshot(page, "console-gold-1280")


def test_quality_and_gold_on_a_phone(browser: Browser, simulated: dict[str, Any]) -> None:
    campaign = Campaign.objects.get(name=CAMPAIGN)
    page = admin_console(browser, **PHONE)
    page.goto(f"/console#quality/{campaign.pk}")
    wait_for_report(page)
    flagged = page.get_by_test_id("flagged-raters")
    flagged.get_by_role("heading", name=position_biased(simulated)).wait_for()
    assert page.evaluate("document.documentElement.scrollWidth") <= 375
    assert violations(page) == []
    screenshot(page, "console-quality-375")

    page.goto(f"/console#gold/{campaign.pk}")
    card = page.get_by_test_id("task-list").get_by_role("listitem").first
    card.get_by_role("button", name="Make gold").tap()
    card.get_by_role("button", name="Tie with above: response B").tap()
    assert card.get_by_role("button", name="Tie with above: response B").get_attribute(
        "aria-pressed"
    ) == ("true")
    assert "A = B" in card.locator(".gold-editor").inner_text()
    assert page.evaluate("document.documentElement.scrollWidth") <= 375
    assert violations(page) == []
    screenshot(page, "console-gold-375")

    # A tie is a gold ranking too; removing the gold makes the task regular again.
    task = RankingTask.objects.get(pk=int(card.get_attribute("data-task-id")))
    card.get_by_role("button", name="Save gold ranking").tap()
    page.get_by_text(f"Task {task.pk} is gold: A = B.").wait_for()
    task.refresh_from_db()
    assert task.gold_ranking == [list(task.response_ids)]
    page.get_by_role("button", name="Gold tasks", exact=True).tap()
    gold_card = page.locator(f"[data-task-id='{task.pk}']")
    gold_card.get_by_role("button", name="Remove gold").tap()
    gold_card.get_by_role("group", name=f"Remove gold from task {task.pk}?").get_by_role(
        "button", name="Remove", exact=True
    ).tap()
    page.get_by_text(f"Task {task.pk} is a regular task again.").wait_for()
    task.refresh_from_db()
    assert (task.is_gold, task.gold_ranking) == (False, None)
