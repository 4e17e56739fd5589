"""An admin runs the console in headless Chromium: creates a campaign (after a field error from
the server), imports tasks (after a rejected file), makes a pool, adds raters and the campaign,
pauses a rater with a reason and finds it in the audit log; axe finds no violations, wide and at
375 px. Annotators and ML engineers get a plain "admins only" page, not the console."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone

from annotation.management.commands.seed_demo import PAIR_CAMPAIGN, RANK_CAMPAIGN
from annotation.models import (
    AuditEvent,
    Campaign,
    Judgment,
    RaterPool,
    RaterProfile,
    RaterStatus,
)
from annotation.services.importing import import_file

from .conftest import PHONE, Browser, screenshot
from .helpers import audited_page, log_in, violations

pytestmark = [pytest.mark.postgres, pytest.mark.browser, pytest.mark.slow]

SECTIONS = {
    "campaigns": "Campaigns",
    "pools": "Rater pools",
    "raters": "Raters",
    "audit": "Audit log",
}
GOOD_ROWS = "\n".join(
    json.dumps({"prompt": f"Question {n}?", "responses": [f"answer {n}{x}" for x in "abcd"]})
    for n in range(3)
)
BAD_ROWS = json.dumps({"prompt": "fine", "responses": ["a", "b", "c", "d"]}) + "\n{not json\n"


def admin_console(browser: Browser, **options: Any) -> Any:
    page = audited_page(browser, **options)
    log_in(page, "admin")
    page.goto("/console")
    page.get_by_role("heading", name="Campaigns", level=1).wait_for()
    return page


def open_section(page: Any, key: str) -> None:
    page.get_by_role("navigation", name="Console sections").get_by_role(
        "link", name=SECTIONS[key]
    ).click()
    page.get_by_role("heading", name=SECTIONS[key], level=1).wait_for()
    page.wait_for_function("() => !document.querySelector('.console-main [role=status] .muted')")


def test_admin_runs_a_campaign_from_the_console(browser: Browser) -> None:
    page = admin_console(browser)
    table = page.get_by_test_id("campaigns-table")
    table.get_by_role("cell", name=RANK_CAMPAIGN, exact=True).wait_for()
    assert violations(page) == []

    campaign = create_a_campaign_after_a_field_error(page)
    import_a_file_after_a_rejected_one(page, campaign)
    table.get_by_text("0 / 3 tasks").wait_for()
    change_settings_and_status(page, campaign)
    screenshot(page, "console-campaigns-1280")
    make_a_pool_with_two_raters_and_the_campaign(page)
    pause_a_rater_with_a_reason(page)
    find_the_pause_in_the_audit_log(page)


def create_a_campaign_after_a_field_error(page: Any) -> Campaign:
    """The server's field error shows beside the field, then the campaign is made."""
    page.get_by_role("button", name="New campaign").click()
    form = page.locator("#campaign-create")
    form.get_by_label("Name").fill(RANK_CAMPAIGN)
    form.get_by_label("Overlap").fill("2")
    form.get_by_label("Guidelines (markdown)").fill("Prefer **short** answers.")
    form.get_by_role("button", name="Create campaign").click()
    name_error = form.locator("#new-campaign-name-error")
    name_error.wait_for()
    assert "already exists" in name_error.inner_text()
    assert form.get_by_label("Name").get_attribute("aria-invalid") == "true"
    assert violations(page) == []
    form.get_by_label("Name").fill("Console: brevity")
    form.get_by_role("button", name="Create campaign").click()
    page.get_by_role("heading", name="Console: brevity", level=2).wait_for()
    campaign = Campaign.objects.get(name="Console: brevity")
    assert (campaign.overlap, campaign.responses_per_task, campaign.guidelines) == (
        2,
        4,
        "Prefer **short** answers.",
    )
    return campaign


def import_a_file_after_a_rejected_one(page: Any, campaign: Campaign) -> None:
    """A bad file lists its bad rows and writes nothing; a good one reports its counts."""
    detail = page.locator("#campaign-detail")
    file_input = detail.get_by_label("File")
    file_input.set_input_files(
        {"name": "bad.jsonl", "mimeType": "application/json", "buffer": BAD_ROWS.encode()}
    )
    detail.get_by_role("button", name="Import file").click()
    rejected = detail.get_by_role("list", name="Rejected rows")
    rejected.wait_for()
    assert "Line 2" in rejected.inner_text()
    assert campaign.tasks.count() == 0
    file_input.set_input_files(
        {"name": "good.jsonl", "mimeType": "application/json", "buffer": GOOD_ROWS.encode()}
    )
    detail.get_by_role("button", name="Import file").click()
    page.get_by_test_id("import-result").wait_for()
    assert "3 prompts" in page.get_by_test_id("import-result").inner_text()
    assert campaign.tasks.count() == 3


def change_settings_and_status(page: Any, campaign: Campaign) -> None:
    """Settings and status: PATCH only what changed."""
    detail = page.locator("#campaign-detail")
    detail.get_by_label("Overlap").fill("3")
    detail.get_by_role("button", name="Save settings").click()
    page.get_by_text("Saved 1 setting").wait_for()
    detail.get_by_role("button", name="Paused").click()
    page.get_by_text("is now paused").wait_for()
    campaign.refresh_from_db()
    assert (campaign.overlap, campaign.status) == (3, "paused")
    detail.get_by_role("button", name="Active").click()
    page.get_by_text("is now active").wait_for()
    # Uncertainty routing: its two numbers appear only once it is chosen.
    assert detail.get_by_label("Human tasks per prompt").count() == 0
    detail.get_by_label("Routing").select_option("uncertainty")
    detail.get_by_label("Confident at (standard deviations)").fill("1.5")
    detail.get_by_label("Human tasks per prompt").fill("2")
    detail.get_by_role("button", name="Save settings").click()
    page.get_by_text("Saved 3 settings").wait_for()
    campaign.refresh_from_db()
    assert (campaign.routing, campaign.routing_confidence, campaign.human_tasks_per_prompt) == (
        "uncertainty",
        1.5,
        2,
    )
    # Judge routing: the threshold is the judge's log-odds, and the judge is named.
    assert detail.get_by_label("Judge model").count() == 0
    detail.get_by_label("Routing").select_option("judge")
    detail.get_by_label("Sure at (log-odds)").fill("2")
    detail.get_by_label("Judge model").fill("")
    detail.get_by_role("button", name="Save settings").click()
    detail.get_by_text("Name the model that judges.").wait_for()
    detail.get_by_label("Judge model").fill("my-judge")
    detail.get_by_role("button", name="Save settings").click()
    # The notice reads as the last save's did ("Saved 3 settings"): wait for the row instead.
    for _ in range(100):
        campaign.refresh_from_db()
        if campaign.routing == "judge":
            break
        page.wait_for_timeout(100)
    assert (campaign.routing, campaign.routing_confidence, campaign.judge_model) == (
        "judge",
        2.0,
        "my-judge",
    )


def make_a_pool_with_two_raters_and_the_campaign(page: Any) -> None:
    open_section(page, "pools")
    page.get_by_label("Name").fill("Night shift")
    page.get_by_role("button", name="Create pool").click()
    page.get_by_role("heading", name="Night shift", level=2).wait_for()
    for username in ("annotator1", "annotator2"):
        page.get_by_label("Add rater").select_option(label=f"{username} (annotator)")
        page.get_by_role("button", name="Add rater").click()
        page.get_by_text(f"{username} added to").wait_for()
    page.get_by_label("Assign campaign").select_option(label="Console: brevity (active)")
    page.get_by_role("button", name="Assign campaign").click()
    page.get_by_text("“Console: brevity” assigned").wait_for()
    pool = RaterPool.objects.get(name="Night shift")
    assert sorted(pool.members.values_list("username", flat=True)) == ["annotator1", "annotator2"]
    assert list(pool.campaigns.values_list("name", flat=True)) == ["Console: brevity"]
    assert violations(page) == []
    screenshot(page, "console-pools-1280")


def pause_a_rater_with_a_reason(page: Any) -> None:
    open_section(page, "raters")
    raters = page.get_by_test_id("raters-table")
    row = raters.get_by_role("row").filter(has_text="annotator3")
    row.get_by_role("button", name="Pause…").click()
    dialog = page.get_by_role("dialog", name="Pause annotator3")
    dialog.get_by_label("Reason").fill("Answers in under two seconds")
    assert violations(page) == []
    dialog.get_by_role("button", name="Pause rater").click()
    row.get_by_text("Answers in under two seconds").wait_for()
    row.get_by_role("button", name="Resume").wait_for()
    profile = RaterProfile.objects.get(user__username="annotator3")
    assert (profile.status, profile.paused_reason) == (
        RaterStatus.PAUSED,
        "Answers in under two seconds",
    )
    assert "Night shift" in raters.get_by_role("row").filter(has_text="annotator1").inner_text()
    # Sorting by a header click: judgments, most first.
    raters.get_by_role("button", name="Judgments").click()
    assert raters.get_by_role("columnheader", name="Judgments").get_attribute("aria-sort") == (
        "descending"
    )
    assert violations(page) == []
    screenshot(page, "console-raters-1280")


def find_the_pause_in_the_audit_log(page: Any) -> None:
    """The pause is in the audit log, with its reason."""
    open_section(page, "audit")
    audit = page.get_by_test_id("audit-table")
    pause_row = audit.get_by_role("row").filter(has_text="rater.pause")
    pause_row.wait_for()
    assert "Answers in under two seconds" in pause_row.inner_text()
    assert "admin" in pause_row.inner_text()
    # the target by name (kept on the event), not only "User #id"
    target = AuditEvent.objects.get(action="rater.pause").target_id
    assert f"annotator3 (User #{target})" in pause_row.inner_text()
    assert AuditEvent.objects.filter(action="rater.pause").count() == 1
    assert violations(page) == []
    screenshot(page, "console-audit-1280")


def test_console_works_on_a_phone(browser: Browser) -> None:
    page = admin_console(browser, **PHONE)
    page.get_by_test_id("campaigns-table").locator(
        ".cell-strong", has_text=RANK_CAMPAIGN
    ).wait_for()
    assert page.evaluate("document.documentElement.scrollWidth") <= 375
    assert violations(page) == []
    screenshot(page, "console-campaigns-375")
    page.get_by_role("button", name=f"Manage {RANK_CAMPAIGN}").tap()
    page.get_by_role("heading", name=RANK_CAMPAIGN, level=2).wait_for()
    page.locator("#campaign-detail figure").wait_for()
    assert page.evaluate("document.documentElement.scrollWidth") <= 375
    screenshot(page, "console-campaign-detail-375")
    for key in ("pools", "raters", "audit"):
        open_section(page, key)
        if key == "pools":
            page.locator(".pool-item").first.tap()
            page.locator(".membership").first.wait_for()
        assert page.evaluate("document.documentElement.scrollWidth") <= 375, key
        assert violations(page) == [], key
        screenshot(page, f"console-{key}-375")


def test_judgments_chart_follows_the_pointer_and_the_arrow_keys(browser: Browser) -> None:
    campaign = Campaign.objects.get(name=PAIR_CAMPAIGN)
    rows = "\n".join(
        json.dumps({"prompt": f"Pick {n}", "chosen": f"good {n}", "rejected": f"bad {n}"})
        for n in range(12)
    )
    assert import_file(actor=None, campaign=campaign, data=rows.encode(), filename="p.jsonl").is_ok
    now = timezone.now()
    for index, pk in enumerate(
        Judgment.objects.filter(task__campaign=campaign).values_list("pk", flat=True)
    ):
        Judgment.objects.filter(pk=pk).update(submitted_at=now - timedelta(days=index % 6))

    page = admin_console(browser)
    page.get_by_role("button", name=f"Manage {PAIR_CAMPAIGN}").click()
    chart = page.get_by_role("img", name="Judgments per day")
    chart.hover()
    tooltip = page.get_by_test_id("chart-tooltip")
    assert "Judgments: 2" in tooltip.inner_text()
    assert page.locator("#campaign-detail table.visually-hidden tbody tr").count() == 6
    screenshot(page, "console-chart-hover-1280")
    page.mouse.move(0, 0)
    assert tooltip.count() == 0
    chart.focus()
    page.keyboard.press("End")
    today = page.evaluate("new Date().toLocaleString('en-GB', {day: 'numeric', month: 'short'})")
    assert today in tooltip.inner_text()
    page.keyboard.press("Escape")
    assert tooltip.count() == 0


@pytest.mark.parametrize("username", ["annotator1", "mlengineer"])
def test_non_admins_see_an_admins_only_page(browser: Browser, username: str) -> None:
    page = browser.page()
    log_in(page, username)
    page.goto("/console")
    message = page.get_by_test_id("not-allowed")
    message.wait_for()
    assert page.get_by_role("heading", level=1).inner_text() == "Not available to your role"
    assert "Console is for admins only." in message.inner_text()
    assert f"signed in as {username}" in message.inner_text()
    assert page.get_by_role("navigation", name="Console sections").count() == 0
    # The console's code was never fetched.
    assert not page.evaluate(
        "performance.getEntriesByType('resource').some(r => r.name.includes('ConsolePage'))"
    )
    if username == "annotator1":
        screenshot(page, "console-not-allowed-1280")
