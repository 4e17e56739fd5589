"""Gold tasks, onboarding, repeats in swapped order and the automatic pause rule, through the
rater and admin APIs."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from rest_framework.test import APIClient

from annotation.models import (
    ApiToken,
    Assignment,
    AuditEvent,
    Judgment,
    Preference,
    RankingTask,
    RaterProfile,
    RaterStatus,
)
from annotation.services.tokens import issue_token
from common.roles import Role
from tests.factories import make_task, setup_campaign

pytestmark = pytest.mark.django_db
NEXT = "/api/v1/assignments/next/"


def _submit_in_display_order(client: Any, body: dict[str, Any], key: str) -> Any:
    labels = [response["label"] for response in body["responses"]]
    return client.post(
        f"/api/v1/assignments/{body['id']}/submit/",
        {"ranking": [[label] for label in labels], "idempotency_key": key},
        format="json",
    )


def _mark_gold(admin: Any, task: RankingTask, tiers: object) -> Any:
    return admin.put(f"/api/v1/tasks/{task.pk}/gold/", {"ranking": tiers}, format="json")


def test_admin_marks_a_task_gold_and_bad_rankings_are_refused(client_for: Any) -> None:
    admin = client_for(Role.ADMIN)
    campaign, (task, _, _) = setup_campaign([], tasks=3, responses_per_task=2)
    first, second = task.response_ids
    assert _mark_gold(admin, task, [[first, 99999]]).json()["code"] == "gold_ranking_mismatch"
    assert _mark_gold(admin, task, "nope").status_code == 400
    assert (
        admin.put("/api/v1/tasks/999999/gold/", {"ranking": [[1]]}, format="json").status_code
        == 404
    )
    task.refresh_from_db()
    assert not task.is_gold

    response = _mark_gold(admin, task, [[second], [first]])
    assert response.status_code == 200, response.content
    assert response.json()["gold_ranking"] == [[second], [first]]
    listed = admin.get(f"/api/v1/campaigns/{campaign.pk}/tasks/?gold=true").json()
    assert [row["id"] for row in listed["results"]] == [task.pk]
    assert listed["results"][0]["responses"][0]["text"]
    assert AuditEvent.objects.filter(action="task.gold", target_id=str(task.pk)).exists()
    assert admin.get(f"/api/v1/campaigns/{campaign.pk}/tasks/?gold=maybe").status_code == 400

    assert admin.delete(f"/api/v1/tasks/{task.pk}/gold/").json()["is_gold"] is False


def test_raters_cannot_touch_gold(client_for: Any) -> None:
    rater = client_for(Role.ANNOTATOR)
    campaign, (task,) = setup_campaign([rater.user], tasks=1, responses_per_task=2)
    assert _mark_gold(rater, task, [task.response_ids]).status_code == 403
    assert rater.get(f"/api/v1/campaigns/{campaign.pk}/tasks/").status_code == 403
    assert rater.get(f"/api/v1/campaigns/{campaign.pk}/quality/").status_code == 403


def test_onboarding_serves_gold_first_and_gold_looks_like_any_task(client_for: Any) -> None:
    rater = client_for(Role.ANNOTATOR)
    _, tasks = setup_campaign([rater.user], tasks=6, onboarding_gold=2)
    for task in tasks[:3]:
        task.is_gold, task.gold_ranking = True, [task.response_ids]
        task.save()
    served = []
    for i in range(5):
        body = rater.post(NEXT).json()
        assert "gold" not in json.dumps(body).lower()
        assert "repeat" not in json.dumps(body).lower()
        served.append(Assignment.objects.get(pk=body["id"]).task)
        assert _submit_in_display_order(rater, body, f"key-{i:04d}").status_code == 201
    assert [t.is_gold for t in served[:2]] == [True, True]
    # gold rate 0 after onboarding: the rest are regular tasks
    assert [t.is_gold for t in served[2:]] == [False, False, False]
    # gold judgments never fill their task and are never surplus
    gold_judgments = Judgment.objects.filter(task__is_gold=True)
    assert gold_judgments.count() == 2
    assert not gold_judgments.filter(is_surplus=True).exists()
    assert RankingTask.objects.filter(is_gold=True, submitted_count__gt=0).count() == 0


def test_gold_rate_one_serves_every_gold_task_once_then_regular_work(client_for: Any) -> None:
    rater = client_for(Role.ANNOTATOR)
    _, tasks = setup_campaign([rater.user], tasks=5, gold_rate=1.0)
    for task in tasks[:2]:
        task.is_gold, task.gold_ranking = True, [task.response_ids]
        task.save()
    seen = []
    for i in range(5):
        body = rater.post(NEXT).json()
        seen.append(Assignment.objects.get(pk=body["id"]).task_id)
        _submit_in_display_order(rater, body, f"key-{i:04d}")
    assert len(set(seen)) == 5
    assert set(seen[:2]) == {tasks[0].pk, tasks[1].pk}
    assert rater.post(NEXT).status_code == 204


def test_a_repeat_shows_the_same_task_in_reversed_order_and_is_not_trained_on(
    client_for: Any,
) -> None:
    rater = client_for(Role.ANNOTATOR)
    campaign, _ = setup_campaign([rater.user], tasks=40, responses_per_task=3)
    first = rater.post(NEXT).json()
    _submit_in_display_order(rater, first, "first-key")
    original = Assignment.objects.get(pk=first["id"])
    campaign.repeat_rate = 0.5  # the highest allowed; random draws below it repeat
    campaign.save()
    repeat = None
    for attempt in range(40):
        body = rater.post(NEXT).json()
        assignment = Assignment.objects.get(pk=body["id"])
        if assignment.is_repeat:
            repeat = assignment
            break
        rater.post(f"/api/v1/assignments/{body['id']}/skip/", {"reason": "t"}, format="json")
        if rater.post(NEXT).status_code == 204:
            pytest.fail(f"no repeat offered after {attempt} claims")
    assert repeat is not None
    assert repeat.task_id == original.task_id
    assert repeat.display_order == list(reversed(original.display_order))
    pairs_before = Preference.objects.count()
    count_before = RankingTask.objects.get(pk=original.task_id).submitted_count
    assert (
        _submit_in_display_order(rater, {"id": repeat.pk, **body}, "again-key").status_code == 201
    )
    judgment = Judgment.objects.get(assignment=repeat)
    assert judgment.is_repeat
    assert not judgment.is_surplus
    assert Preference.objects.count() == pairs_before
    assert RankingTask.objects.get(pk=original.task_id).submitted_count == count_before


def test_pause_rule_pauses_after_enough_wrong_gold_and_admin_resumes(client_for: Any) -> None:
    rater = client_for(Role.ANNOTATOR)
    admin = client_for(Role.ADMIN)
    _, tasks = setup_campaign(
        [rater.user],
        tasks=6,
        responses_per_task=2,
        judgment_mode="pairwise",
        gold_rate=1.0,
        pause_gold_accuracy_below=0.6,
        pause_gold_min_items=3,
    )
    for task in tasks[:4]:
        task.is_gold, task.gold_ranking = True, [[task.response_ids[0]], [task.response_ids[1]]]
        task.save()
    _, script_key = issue_token(user=rater.user, name="rater's script")
    statuses = []
    for i in range(3):
        body = rater.post(NEXT).json()
        assignment = Assignment.objects.get(pk=body["id"])
        assert assignment.task.is_gold
        worse = assignment.display_order.index(assignment.task.response_ids[1])
        labels = [r["label"] for r in body["responses"]]
        response = rater.post(
            f"/api/v1/assignments/{body['id']}/submit/",
            {
                "ranking": [[labels[worse]], [labels[1 - worse]]],
                "strength": "better",
                "idempotency_key": f"gold-{i:04d}",
            },
            format="json",
        )
        assert response.status_code == 201, response.content
        statuses.append(RaterProfile.objects.get(user=rater.user).status)
    assert statuses == [RaterStatus.ACTIVE, RaterStatus.ACTIVE, RaterStatus.PAUSED]
    event = AuditEvent.objects.get(action="rater.auto_pause")
    assert event.actor is None
    assert event.details["gold_items"] == 3
    assert event.details["gold_accuracy"] == 0.0
    assert rater.post(NEXT).json()["code"] == "rater_paused"
    assert Judgment.objects.filter(rater=rater.user).count() == 3  # nothing lost
    assert ApiToken.objects.get(user=rater.user).revoked_reason == "auto_pause"
    by_token = APIClient().get("/api/v1/me/", HTTP_AUTHORIZATION=f"Token {script_key}")
    assert by_token.status_code == 401

    assert admin.post(f"/api/v1/raters/{rater.user.pk}/resume/").status_code == 200
    assert rater.post(NEXT).status_code == 200


def test_gold_can_be_imported_with_the_tasks(client_for: Any) -> None:
    admin = client_for(Role.ADMIN)
    campaign, _ = setup_campaign([], tasks=0, responses_per_task=3)
    rows = [
        {"prompt": "p1", "responses": ["a", "b", "c"], "gold_ranking": [[2], [1, 3]]},
        {"prompt": "p2", "responses": ["d", "e", "f"]},
    ]
    upload = SimpleUploadedFile(
        "gold.jsonl", "\n".join(json.dumps(r) for r in rows).encode(), "application/jsonl"
    )
    response = admin.post(
        f"/api/v1/campaigns/{campaign.pk}/import/", {"file": upload}, format="multipart"
    )
    assert response.status_code == 201, response.content
    gold = RankingTask.objects.get(campaign=campaign, is_gold=True)
    a, b, c = gold.response_ids
    assert gold.gold_ranking == [[b], [a, c]]
    assert RankingTask.objects.filter(campaign=campaign, is_gold=False).count() == 1

    bad = [{"prompt": "p3", "responses": ["x", "y"], "gold_ranking": [[1], [1]]}]
    upload = SimpleUploadedFile("bad.jsonl", json.dumps(bad[0]).encode(), "application/jsonl")
    response = admin.post(
        f"/api/v1/campaigns/{campaign.pk}/import/", {"file": upload}, format="multipart"
    )
    assert response.status_code == 400
    assert "gold_ranking" in response.json()["errors"][0]["reason"]
    assert RankingTask.objects.filter(campaign=campaign).count() == 2


def test_gold_tasks_are_not_offered_as_regular_work_when_gold_is_off(client_for: Any) -> None:
    rater = client_for(Role.ANNOTATOR)
    campaign, tasks = setup_campaign([rater.user], tasks=1)
    gold = make_task(campaign)
    gold.is_gold, gold.gold_ranking = True, [gold.response_ids]
    gold.save()
    body = rater.post(NEXT).json()
    assert Assignment.objects.get(pk=body["id"]).task_id == tasks[0].pk
    _submit_in_display_order(rater, body, "only-key")
    assert rater.post(NEXT).status_code == 204
