"""An ML engineer sets a campaign's retraining schedule in headless Chromium, naming the second
reward model each round is watched with; the schedule saved through the API carries it, and
clearing it saves null. axe finds no violations on the editor."""

from __future__ import annotations

import pytest

from annotation.management.commands.seed_demo import RANK_CAMPAIGN
from annotation.models import Campaign
from training.models import ModelVersion, TrainingSchedule

from .conftest import Browser, screenshot
from .helpers import audited_page, log_in, violations

pytestmark = [pytest.mark.postgres, pytest.mark.browser, pytest.mark.slow]


def test_a_schedule_names_the_second_reward_model_for_the_watch(browser: Browser) -> None:
    campaign = Campaign.objects.get(name=RANK_CAMPAIGN)
    gold = ModelVersion.objects.create(
        name="gold-rm-1", kind="reward", base="smollm2", artifact_path="/artifacts/gold"
    )
    page = audited_page(browser)
    log_in(page, "mlengineer")
    page.goto(f"/training#campaigns/{campaign.pk}")
    form = page.get_by_role("form", name=f"Retraining schedule for {campaign.name}")
    watch = form.get_by_label("Second reward model for the watch")
    watch.select_option(label="gold-rm-1")
    form.get_by_role("button", name="Create schedule").click()
    form.get_by_role("button", name="Save schedule").wait_for()

    schedule = TrainingSchedule.objects.get(campaign=campaign)
    assert schedule.check_reward_version_id == gold.pk
    assert watch.input_value() == str(gold.pk)  # read back from the saved schedule
    assert violations(page) == []
    screenshot(page, "schedule-editor")

    watch.select_option(value="")
    form.get_by_role("button", name="Save schedule").click()
    form.get_by_text("Schedule saved.").wait_for()
    schedule.refresh_from_db()
    assert schedule.check_reward_version_id is None
