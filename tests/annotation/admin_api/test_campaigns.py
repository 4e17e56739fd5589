"""Campaigns through the admin API: create, validate, update, list with progress."""

from __future__ import annotations

from typing import Any

import pytest

from annotation.models import (
    Campaign,
)
from tests.annotation.admin_api.helpers import (
    API,
    Client,
    ClientFor,
    audit_log,
    jsonl,
    rate,
    upload,
)
from tests.factories import make_campaign, setup_campaign

CAMPAIGN = {
    "name": "Helpfulness",
    "guidelines": "Pick the most *helpful* answer.",
    "responses_per_task": 4,
    "overlap": 3,
    "lease_ttl_s": 600,
    "gold_rate": 0.1,
    "judgment_mode": "rank",
    "status": "active",
}


def test_create_campaign(admin: Client) -> None:
    # when
    response = admin.post(f"{API}/campaigns/", CAMPAIGN)

    # then
    assert response.status_code == 201
    body = response.json()
    campaign = Campaign.objects.get()
    assert {k: v for k, v in body.items() if k != "created_at"} == {
        "id": campaign.pk,
        **CAMPAIGN,
        "onboarding_gold": 0,
        "repeat_rate": 0.0,
        "pause_gold_accuracy_below": None,
        "pause_gold_min_items": 10,
        "reading_floor_ms_per_char": 15.0,
        "routing": "everything",
        "routing_confidence": 2.0,
        "human_tasks_per_prompt": 0,
        "judge_model": "smollm2",
        "is_arena": False,
        "task_count": 0,
        "complete_count": 0,
        "judgment_count": 0,
        "gold_count": 0,
        "model_label_count": 0,
    }
    assert campaign.created_by == admin.user
    assert audit_log(admin) == [
        {
            "actor_username": "admin-amy",
            "action": "campaign.create",
            "target_type": "Campaign",
            "target_id": str(campaign.pk),
            "details": {},
        }
    ]


@pytest.mark.parametrize(
    ("changes", "code", "errors"),
    [
        (
            {"judgment_mode": "pairwise", "responses_per_task": 3},
            "pairwise_needs_two",
            {"responses_per_task": ["A pairwise campaign has exactly 2 responses per task."]},
        ),
        (
            {"judgment_mode": "pairwise", "responses_per_task": None},
            "pairwise_needs_two",
            {"responses_per_task": ["A pairwise campaign has exactly 2 responses per task."]},
        ),
        (
            {"overlap": 0},
            "min_value",
            {"overlap": ["Ensure this value is greater than or equal to 1."]},
        ),
        (
            {"overlap": 101},
            "max_value",
            {"overlap": ["Ensure this value is less than or equal to 100."]},
        ),
        (
            {"responses_per_task": 1},
            "min_value",
            {"responses_per_task": ["Ensure this value is greater than or equal to 2."]},
        ),
        (
            {"lease_ttl_s": 29},
            "min_value",
            {"lease_ttl_s": ["Ensure this value is greater than or equal to 30."]},
        ),
        (
            {"gold_rate": 1.5},
            "max_value",
            {"gold_rate": ["Ensure this value is less than or equal to 1.0."]},
        ),
        (
            {"judgment_mode": "vote"},
            "invalid_choice",
            {"judgment_mode": ['"vote" is not a valid choice.']},
        ),
        ({"name": None}, "required", {"name": ["This field is required."]}),
    ],
)
def test_create_campaign_rejects_bad_settings(
    admin: Client, changes: dict[str, Any], code: str, errors: dict[str, Any]
) -> None:
    # given: None means "leave the field out"
    data = {k: v for k, v in {**CAMPAIGN, **changes}.items() if v is not None}

    # when
    response = admin.post(f"{API}/campaigns/", data)

    # then
    assert response.status_code == 400
    assert response.json() == {
        "code": code,
        "detail": "The request has invalid fields.",
        "errors": errors,
    }
    assert Campaign.objects.count() == 0


def test_create_campaign_with_a_taken_name(admin: Client) -> None:
    # given
    make_campaign(name="Helpfulness")

    # when
    response = admin.post(f"{API}/campaigns/", CAMPAIGN)

    # then
    assert response.status_code == 400
    assert response.json()["code"] == "unique"
    assert response.json()["errors"] == {"name": ["campaign with this name already exists."]}
    assert Campaign.objects.count() == 1


def test_update_campaign(admin: Client) -> None:
    # given
    campaign = make_campaign(responses_per_task=4, overlap=3)

    # when
    response = admin.patch(
        f"{API}/campaigns/{campaign.pk}/", {"guidelines": "New rules.", "overlap": 5}
    )

    # then
    assert response.status_code == 200
    assert (response.json()["guidelines"], response.json()["overlap"]) == ("New rules.", 5)
    campaign.refresh_from_db()
    assert (campaign.guidelines, campaign.overlap) == ("New rules.", 5)
    assert audit_log(admin)[0] == {
        "actor_username": "admin-amy",
        "action": "campaign.update",
        "target_type": "Campaign",
        "target_id": str(campaign.pk),
        "details": {
            "fields": ["guidelines", "overlap"],
            "overlap": {"old": 3, "new": 5},
            "tasks_changed": 0,
        },
    }


def test_update_campaign_to_pairwise_checks_the_stored_k(admin: Client) -> None:
    # given
    campaign = make_campaign(responses_per_task=4)

    # when
    refused = admin.patch(f"{API}/campaigns/{campaign.pk}/", {"judgment_mode": "pairwise"})
    accepted = admin.patch(
        f"{API}/campaigns/{campaign.pk}/", {"judgment_mode": "pairwise", "responses_per_task": 2}
    )

    # then
    assert refused.status_code == 400
    assert refused.json()["code"] == "pairwise_needs_two"
    assert accepted.status_code == 200
    campaign.refresh_from_db()
    assert (campaign.judgment_mode, campaign.responses_per_task) == ("pairwise", 2)


def test_campaign_list_and_detail_show_progress(admin: Client, client_for: ClientFor) -> None:
    # given: three tasks needing one judgment each, two of them judged
    rater = client_for()
    busy, _ = setup_campaign([rater.user], tasks=3, overlap=1)
    rate(rater, "progress-1")
    rate(rater, "progress-2")
    quiet = make_campaign()
    imported = make_campaign(overlap=2)
    assert (
        upload(
            admin,
            imported.pk,
            "pairs.jsonl",
            jsonl({"prompt": "Hi", "chosen": "Hello!", "rejected": "Go away."}),
        ).status_code
        == 201
    )

    # when
    listing = admin.get(f"{API}/campaigns/")
    detail = admin.get(f"{API}/campaigns/{busy.pk}/")

    # then: newest first; an imported judgment counts as a judgment but completes nothing
    progress = [
        (c["id"], c["task_count"], c["complete_count"], c["judgment_count"])
        for c in listing.json()["results"]
    ]
    assert listing.json()["count"] == 3
    assert progress == [(imported.pk, 1, 0, 1), (quiet.pk, 0, 0, 0), (busy.pk, 3, 2, 2)]
    assert (
        detail.json()["task_count"],
        detail.json()["complete_count"],
        detail.json()["judgment_count"],
    ) == (3, 2, 2)
