"""An ML engineer runs training from the dashboard in headless Chromium: the server's refusal
of a reward model with no data shows beside the data filters, a PPO round with a KL budget
starts (one run for a double click), its progress bar moves and its curves draw while the run
advances, and another run is cancelled. axe finds no violations, wide and at 375 px.

No Celery worker runs here: the test sends no message (`send_run` records the id instead) and
writes the progress and metric rows a worker would write (training.worker does the same
updates), so what is under test is the dashboard reading the database through the API."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone

from annotation.management.commands.seed_demo import RANK_CAMPAIGN
from annotation.models import Campaign
from training.models import (
    ModelVersion,
    RunKind,
    RunMetric,
    RunStatus,
    TrainingRun,
    TrainingWorker,
)

from .conftest import PHONE, Browser, screenshot
from .helpers import audited_page, log_in, violations

pytestmark = [pytest.mark.postgres, pytest.mark.browser, pytest.mark.slow]


@pytest.fixture
def sent(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Run ids the server would have sent to a worker."""
    ids: list[int] = []
    monkeypatch.setattr("training.dispatch.send_run", ids.append)
    return ids


def reward_model(campaign: Campaign) -> ModelVersion:
    """A registered reward model, as a finished reward run leaves it."""
    return ModelVersion.objects.create(
        name="reward-demo-1",
        kind="reward",
        base="smollm2",
        artifact_path="/artifacts/runs/0/reward",
        campaign=campaign,
        snapshot_hash="ab" * 32,
        metrics={"validation/accuracy": 0.71},
    )


def advance(run: TrainingRun, *, step: int, total: int) -> None:
    """What the worker writes as the pipeline reports a step: progress on the row, and one
    RunMetric per reported value."""
    now = timezone.now()
    TrainingRun.objects.filter(pk=run.pk).update(
        status=RunStatus.RUNNING,
        started_at=run.started_at or now - timedelta(seconds=30),
        heartbeat_at=now,
        step=step,
        total_steps=total,
        progress=step / total,
        eta_s=12.0 * (total - step),
        log_tail="\n".join(
            f"step {s}/{total} reward_mean={0.1 * s:.2f}" for s in range(1, step + 1)
        ),
    )
    done = set(RunMetric.objects.filter(run=run).values_list("step", flat=True))
    RunMetric.objects.bulk_create(
        RunMetric(run=run, step=s, name=name, value=value)
        for s in range(1, step + 1)
        if s not in done
        for name, value in {
            "train/reward_mean": 0.1 * s,
            "train/kl": 0.3 * s,
            "train/entropy": 2.0 - 0.05 * s,
            "train/response_length": 40.0 + s,
            "train/beta": 0.05,
        }.items()
    )
    run.refresh_from_db()


def percent(page: Any) -> str:
    return str(
        page.get_by_test_id("run-detail").get_by_role("progressbar").get_attribute("aria-valuenow")
    )


def dashboard(browser: Browser, **options: Any) -> Any:
    page = audited_page(browser, **options)
    log_in(page, "mlengineer")
    page.goto("/training")
    page.get_by_role("heading", name="Runs", level=1).wait_for()
    return page


def test_ml_engineer_starts_watches_and_cancels_runs(browser: Browser, sent: list[int]) -> None:
    campaign = Campaign.objects.get(name=RANK_CAMPAIGN)
    reward = reward_model(campaign)
    TrainingWorker.objects.create(hostname="gpu@box", python="/srv/python", strategies=["ddp"])
    page = dashboard(browser)
    page.get_by_text("No runs yet").wait_for()
    assert violations(page) == []

    form = ask_for_a_reward_model_with_no_data(page)
    run = start_a_ppo_round_with_a_kl_budget(page, form)
    assert (run.kind, run.status, run.reward_version, run.campaign) == (
        RunKind.PPO,
        RunStatus.QUEUED,
        reward,
        campaign,
    )
    assert run.config["target_kl"] == 3
    assert sent == [run.pk]
    watch_the_run_advance(page, run)
    cancel_another_run_queued_behind_it(page, run, campaign)


def ask_for_a_reward_model_with_no_data(page: Any) -> Any:
    """A strategy no worker allows is refused by the form; with the default, no judgments to
    learn from: the server's refusal sits by the data. Returns the form."""
    page.get_by_role("link", name="Start a run").first.click()
    form = page.get_by_role("form", name="Start a run")
    form.get_by_role("radio", name="Reward model", exact=True).check()
    strategy = form.get_by_label("Multi-process strategy")
    assert strategy.input_value() == "ddp"
    strategy.select_option("deepspeed-zero2")
    form.get_by_role("button", name="Start run").click()
    form.get_by_text("No training worker allows the deepspeed-zero2 strategy").wait_for()
    assert violations(page) == []
    strategy.select_option("ddp")
    form.get_by_role("button", name="Start run").click()
    form.get_by_text("No preferences match this dataset's filters").wait_for()
    assert TrainingRun.objects.count() == 0
    assert violations(page) == []
    return form


def start_a_ppo_round_with_a_kl_budget(page: Any, form: Any) -> TrainingRun:
    """The reward model is required (checked before sending), the KL budget is up front; a
    double click starts one run."""
    form.get_by_role("radio", name="PPO round", exact=True).check()
    kl_budget = form.get_by_label("KL budget (target KL per answer)")
    assert kl_budget.input_value() == "6"
    kl_budget.fill("3")
    form.get_by_role("button", name="Start run").click()
    reward_error = form.locator("#run-reward_version_id-error")
    reward_error.wait_for()
    assert "reward model" in reward_error.inner_text()
    assert violations(page) == []
    screenshot(page, "training-start-run-1280")
    form.get_by_role("combobox", name="Reward model", exact=True).select_option(
        label="reward-demo-1 (reward)"
    )
    form.get_by_role("button", name="Start run").dblclick()
    page.get_by_test_id("run-detail").get_by_role("heading", name="Run #", level=2).wait_for()
    return TrainingRun.objects.get()


def watch_the_run_advance(page: Any, run: TrainingRun) -> None:
    """The worker picks it up: the bar moves and the curves draw, without a reload."""
    assert page.evaluate("location.hash") == f"#runs/{run.pk}"
    detail = page.get_by_test_id("run-detail")
    detail.get_by_text("Waiting for a GPU worker").wait_for()
    assert percent(page) == "0"
    advance(run, step=3, total=10)
    page.wait_for_function(
        "() => document.querySelector('[data-testid=run-detail] [role=progressbar]')"
        ".getAttribute('aria-valuenow') === '30'"
    )
    detail.get_by_text("Step 3 of 10 · 1 min 24 s left").wait_for()
    charts = page.get_by_test_id("run-charts")
    reward_chart = charts.locator("figure", has_text="Reward (latest")
    reward_chart.locator("path.chart-line").wait_for()
    assert reward_chart.locator("circle").count() == 3
    advance(run, step=6, total=10)
    page.wait_for_function(
        "() => document.querySelector('[data-testid=run-detail] [role=progressbar]')"
        ".getAttribute('aria-valuenow') === '60'"
    )
    page.wait_for_function(
        "() => [...document.querySelectorAll('[data-testid=run-charts] figure')]"
        ".find(f => f.textContent.startsWith('Reward (latest'))"
        "?.querySelectorAll('circle').length === 6"
    )
    assert "(latest 0.6)" in reward_chart.inner_text()
    charts.locator("figure", has_text="train/beta").wait_for()  # a series no chart plans for
    assert "step 6/10" in detail.get_by_test_id("log-tail").inner_text()
    runs_table = page.get_by_test_id("runs-table")
    assert "60 %" in runs_table.get_by_role("row").filter(has_text=f"#{run.pk}").inner_text()
    assert violations(page) == []
    screenshot(page, "training-run-1280")


def cancel_another_run_queued_behind_it(page: Any, run: TrainingRun, campaign: Campaign) -> None:
    """Cancelled from its page, after a confirmation; the running one goes on."""
    other = TrainingRun.objects.create(
        kind=RunKind.GENERATE, base="smollm2", campaign=campaign, config={"k": 4}
    )
    page.goto(f"/training#runs/{other.pk}")
    other_detail = page.get_by_test_id("run-detail")
    other_detail.get_by_role("heading", name=f"Run #{other.pk}").wait_for()
    other_detail.get_by_role("button", name="Cancel run…").click()
    other_detail.get_by_text("Cancel this run before it starts?").wait_for()
    assert violations(page) == []
    other_detail.get_by_role("button", name="Yes, cancel the run").click()
    other_detail.locator(".badge[data-status=cancelled]").wait_for()
    other.refresh_from_db()
    assert other.status == RunStatus.CANCELLED
    run.refresh_from_db()
    assert run.status == RunStatus.RUNNING
    page.get_by_test_id("runs-table").get_by_role("row").filter(
        has_text=f"#{other.pk}"
    ).get_by_text("Cancelled").wait_for()


def test_training_dashboard_works_on_a_phone(browser: Browser, sent: list[int]) -> None:
    campaign = Campaign.objects.get(name=RANK_CAMPAIGN)
    run = TrainingRun.objects.create(kind=RunKind.PPO, base="smollm2", campaign=campaign)
    advance(run, step=4, total=10)
    page = dashboard(browser, **PHONE)
    page.goto(f"/training#runs/{run.pk}")
    page.get_by_test_id("run-charts").locator("path.chart-line").first.wait_for()
    assert page.evaluate("document.documentElement.scrollWidth") <= 375
    assert violations(page) == []
    screenshot(page, "training-run-375")
    page.get_by_role("navigation", name="Training sections").get_by_role(
        "link", name="Start a run"
    ).tap()
    page.get_by_role("form", name="Start a run").wait_for()
    assert page.evaluate("document.documentElement.scrollWidth") <= 375
    assert violations(page) == []
    assert sent == []
