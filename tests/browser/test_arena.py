"""Arenas in headless Chromium. An admin makes one with the campaign form's Arena box (pairwise,
K = 2); three named models' answers imported through the import service and judged through the
rater API, the campaigns table marks it "Arena" and the Quality section shows its leaderboard
(both charts, the standings table with every model's name, however long) with no axe violations
and no sideways scroll at 320 px; an arena with one model says in words why it has no
leaderboard yet. On the training dashboard a gated version shows its promotion and the gate's
figures, a schedule names its arena gate, and the run form offers arena answers."""

from __future__ import annotations

import json
from typing import Any

import pytest
from rest_framework.test import APIClient

from annotation.models import Assignment, Campaign, Response
from annotation.services.campaigns import create_campaign
from annotation.services.importing import import_file
from tests.factories import make_pool, make_user
from training.models import ModelVersion, TrainingSchedule

from .conftest import PHONE, Browser, screenshot
from .helpers import audited_page, log_in, violations
from .test_console import admin_console

pytestmark = [pytest.mark.postgres, pytest.mark.browser, pytest.mark.slow]

LONG_NAME = "an-organisation-with-a-long-name/model-c-instruct-2026-preview-with-a-very-long-suffix"
MODELS = ["model-a", "model-b", LONG_NAME]
NARROW = {**PHONE, "viewport": {"width": 320, "height": 720}}


def arena_with(name: str, models: list[str], prompts: int = 4) -> Campaign:
    """An arena campaign whose prompts each have one answer from every model."""
    campaign = create_campaign(
        actor=None,
        settings={
            "name": name,
            "judgment_mode": "pairwise",
            "responses_per_task": 2,
            "overlap": 1,
            "is_arena": True,
        },
    )
    rows = [
        {
            "prompt": f"Question {number}: how do tides work?",
            "responses": [
                {"text": f"{model} answers question {number}.", "generator": model}
                for model in models
            ],
        }
        for number in range(prompts)
    ]
    data = "\n".join(json.dumps(row) for row in rows).encode()
    report = import_file(
        actor=None, campaign=campaign, data=data, filename="arena.jsonl", source="test"
    )
    assert report.is_ok, report.errors
    return campaign


def judge(campaign: Campaign, judgments: int) -> None:
    """A rater who, through the rater API, always prefers the answer of the model listed
    first in MODELS (model-a beats model-b beats the long-named one)."""
    rater = APIClient()
    user = make_user()
    make_pool(members=[user], campaigns=[campaign])
    rater.force_authenticate(user=user)
    for number in range(judgments):
        reply = rater.post("/api/v1/assignments/next/")
        assert reply.status_code == 200, reply.content
        body = reply.json()
        order = Assignment.objects.get(pk=body["id"]).display_order
        names = dict(Response.objects.filter(pk__in=order).values_list("pk", "generator"))
        first, second = (MODELS.index(names[pk]) for pk in order)
        ranking = [["A"], ["B"]] if first < second else [["B"], ["A"]]
        submitted = rater.post(
            f"/api/v1/assignments/{body['id']}/submit/",
            {
                "ranking": ranking,
                "strength": "better",
                "idempotency_key": f"key-arena-{number:04d}",
            },
            format="json",
        )
        assert submitted.status_code == 201, submitted.content


def open_arena(page: Any, campaign: Campaign) -> Any:
    page.goto(f"/console#quality/{campaign.pk}")
    page.get_by_role("heading", name="Quality", level=1).wait_for()
    panel = page.get_by_test_id("arena-leaderboard")
    panel.wait_for()
    return panel


def test_an_arena_shows_its_leaderboard_at_any_width(browser: Browser) -> None:
    campaign = arena_with("Tides arena", MODELS, prompts=12)
    judge(campaign, 24)
    page = admin_console(browser)
    row = page.get_by_test_id("campaigns-table").get_by_role("row").filter(has_text="Tides arena")
    assert "Arena" in (row.text_content() or "")

    panel = open_arena(page, campaign)
    table = panel.get_by_test_id("arena-table")
    table.wait_for()
    for model in MODELS:
        assert table.get_by_text(model, exact=True).count() == 1, model
    assert panel.get_by_role("img", name="Scores", exact=True).count() == 1
    assert panel.get_by_role("img", name="Scores with answer length taken out").count() == 1
    summary = panel.get_by_test_id("arena-summary").text_content() or ""
    assert summary.startswith("24 comparisons. model-a leads")
    assert violations(page) == []
    screenshot(page, "arena-leaderboard")

    narrow = admin_console(browser, **NARROW)
    panel = open_arena(narrow, campaign)
    panel.get_by_test_id("arena-table").wait_for()
    assert panel.get_by_text(LONG_NAME, exact=True).first.is_visible()
    assert narrow.evaluate("document.documentElement.scrollWidth") <= 320
    assert violations(narrow) == []
    screenshot(narrow, "arena-leaderboard-320")


def test_an_admin_creates_an_arena_from_the_campaign_form(browser: Browser) -> None:
    page = admin_console(browser)
    page.get_by_role("button", name="New campaign").click()
    form = page.locator("#campaign-create")
    form.get_by_label("Name").fill("Console arena")
    form.get_by_label("Responses per task (K)").fill("4")
    form.get_by_label("Arena (blind model comparisons)").check()
    assert form.get_by_label("Judgment mode").input_value() == "pairwise"
    assert form.get_by_label("Responses per task (K)").input_value() == "2"
    assert "uses pairwise mode with K = 2" in (form.text_content() or "")
    assert violations(page) == []
    form.get_by_role("button", name="Create campaign").click()
    page.get_by_role("heading", name="Console arena", level=2).wait_for()
    created = Campaign.objects.get(name="Console arena")
    assert (created.is_arena, created.judgment_mode, created.responses_per_task) == (
        True,
        "pairwise",
        2,
    )


def test_an_arena_with_one_model_says_why_it_has_no_leaderboard(browser: Browser) -> None:
    campaign = arena_with("Lonely arena", ["model-a"])
    page = admin_console(browser)
    panel = open_arena(page, campaign)
    notice = panel.get_by_test_id("arena-not-ready")
    notice.wait_for()
    assert (notice.text_content() or "").strip() != ""
    assert panel.get_by_role("alert").count() == 0  # said as information, not as a failure
    assert violations(page) == []


def held_back_policy(campaign: Campaign) -> ModelVersion:
    """A policy the gate on `campaign` kept back: 41 wins in 100 against its parent."""
    parent = ModelVersion.objects.create(
        name="policy-1", kind="policy", base="smollm2", artifact_path="/artifacts/p1"
    )
    return ModelVersion.objects.create(
        name="policy-2",
        kind="policy",
        base="smollm2",
        artifact_path="/artifacts/p2",
        parent=parent,
        promotion="held",
        promotion_detail={
            "arena_campaign_id": campaign.pk,
            "arena_campaign": campaign.name,
            "arena_run_id": None,
            "rival": "policy-1",
            "rival_version_id": parent.pk,
            "max_comparisons": 100,
            "min_comparisons": 20,
            "comparisons": 100,
            "wins": 41,
            "win_probability": 0.41,
            "low": 0.32,
            "high": 0.5,
            "decided_at": "2026-12-01T10:00:00Z",
            "reason": "The raters did not prefer it to its parent.",
        },
    )


def test_the_training_dashboard_gates_promotion_on_an_arena(browser: Browser) -> None:
    campaign = arena_with("Gate arena", MODELS[:2])
    held = held_back_policy(campaign)
    page = audited_page(browser)
    log_in(page, "mlengineer")

    page.goto(f"/training#versions/{held.pk}")
    gate = page.get_by_test_id("promotion-gate")
    gate.wait_for()
    assert "Kept, not promoted" in (gate.text_content() or "")
    assert "100 of at most 100 comparisons" in (gate.text_content() or "")
    assert "41 % (95 %: 32 % to 50 %)" in (gate.text_content() or "")
    assert violations(page) == []
    screenshot(page, "training-promotion-gate")
    page.set_viewport_size({"width": 320, "height": 800})
    gate.wait_for()
    assert page.evaluate("document.documentElement.scrollWidth") <= 320
    screenshot(page, "training-promotion-gate-320")
    page.set_viewport_size({"width": 1280, "height": 800})

    ranked = Campaign.objects.create(name="Tides ranking", responses_per_task=2, overlap=1)
    page.goto(f"/training#campaigns/{ranked.pk}")
    form = page.get_by_role("form", name=f"Retraining schedule for {ranked.name}")
    form.get_by_label("Promotion gate: arena").select_option(label=campaign.name)
    form.get_by_label("At most N comparisons").fill("300")
    form.get_by_role("button", name="Create schedule").click()
    form.get_by_role("button", name="Save schedule").wait_for()
    schedule = TrainingSchedule.objects.get(campaign=ranked)
    assert (schedule.arena_campaign_id, schedule.gate_max_comparisons) == (campaign.pk, 300)
    assert violations(page) == []

    page.goto("/training#new")
    run_form = page.get_by_role("form", name="Start a run")
    run_form.get_by_role("radio", name="Arena answers").check()
    run_form.get_by_label("Arena campaign").select_option(label=campaign.name)
    assert run_form.get_by_label("Rival policy (optional)").count() == 1
    assert violations(page) == []
