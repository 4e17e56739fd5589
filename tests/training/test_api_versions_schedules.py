"""The model registry (lineage, comparison), retraining schedules and the ceiling through the
HTTP API; then the schedule's firing and the chain it starts, at the service level."""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from django.db import connection
from django.utils import timezone
from rest_framework.test import APIClient

from common.roles import Role
from tests.factories import make_campaign, make_user
from tests.training.test_api_runs import judged_campaign, version
from tests.training.test_selectors_dataset import judge, pairwise_campaign
from training.follow_ups import create_follow_up_run
from training.models import ModelVersion, RunKind, RunStatus, TrainingRun, TrainingSchedule
from training.selectors import ceiling_verdict
from training.services import (
    create_schedule,
    fire_due_schedules,
    register_base_version,
)

VERSIONS = "/api/v1/training/versions/"
SCHEDULES = "/api/v1/training/schedules/"


def finished_run(kind: str, campaign: Any, **fields: Any) -> TrainingRun:
    return TrainingRun.objects.create(
        kind=kind, status=RunStatus.SUCCEEDED, campaign=campaign, base="smollm2", **fields
    )


@pytest.mark.django_db
def test_versions_list_by_kind_and_one_with_its_lineage(ml: APIClient) -> None:
    campaign = judged_campaign()
    dataset = {"mode": "all", "campaign_ids": [campaign.pk]}
    run = finished_run("dpo", campaign, dataset=dataset, snapshot_hash="abc", snapshot_size=4)
    root = version("policy")
    child = version("policy", campaign, parent=root)
    grandchild = version(
        "policy", campaign, parent=child, produced_by=run, snapshot_hash="abc", metrics={"x": 1}
    )
    reward = version("reward", campaign)
    listed = ml.get(VERSIONS, {"kind": "policy"}).json()
    assert [v["id"] for v in listed["results"]] == [grandchild.pk, child.pk, root.pk]
    assert ml.get(VERSIONS, {"kind": "reward"}).json()["count"] == 1
    assert ml.get(VERSIONS, {"kind": "nope"}).status_code == 400

    body = ml.get(f"{VERSIONS}{grandchild.pk}/").json()
    assert body["parent"] == {"id": child.pk, "name": child.name, "kind": "policy"}
    assert body["produced_by"] == {"id": run.pk, "kind": "dpo", "status": "succeeded"}
    assert body["snapshot"] == {"hash": "abc", "size": 4}
    assert body["dataset"] == dataset
    assert body["metrics"] == {"x": 1}
    assert [(e["id"], e["produced_by_run_id"]) for e in body["lineage"]] == [
        (grandchild.pk, run.pk),
        (child.pk, None),
        (root.pk, None),
    ]
    assert body["lineage"][0]["dataset"] == dataset
    assert body["lineage"][2]["dataset"] is None
    assert ml.get(f"{VERSIONS}{reward.pk}/").json()["lineage"][0]["kind"] == "reward"
    assert ml.get(f"{VERSIONS}9999/").status_code == 404


@pytest.mark.django_db
def test_compare_shows_metrics_side_by_side_and_the_newest_evaluation_samples(
    ml: APIClient,
) -> None:
    a = version("policy", metrics={"win_rate": 0.6, "kl": 2.0})
    b = version("policy", metrics={"win_rate": 0.5, "note": "text"})
    reward = version("reward")
    empty = ml.get(f"{VERSIONS}compare/", {"a": a.pk, "b": b.pk}).json()
    assert empty["samples"] == []
    assert empty["evaluation_run"] is None
    assert empty["metrics"] == [
        {"name": "kl", "a": 2.0, "b": None},
        {"name": "win_rate", "a": 0.6, "b": 0.5},
    ]
    sample = {"prompt": "hi", "a": "b's text", "b": "a's text", "reward_a": 0.1, "reward_b": 0.9}
    run = finished_run(
        "evaluate",
        None,
        parent_version=b,
        compare_version=a,
        reward_version=reward,
        result={"samples": [sample]},
        finished_at=timezone.now(),
    )
    body = ml.get(f"{VERSIONS}compare/", {"a": a.pk, "b": b.pk}).json()
    assert body["evaluation_run"]["id"] == run.pk
    # The run evaluated b against a, so its sides are swapped back to the request's order.
    assert body["samples"] == [
        {"prompt": "hi", "a": "a's text", "b": "b's text", "reward_a": 0.9, "reward_b": 0.1}
    ]
    assert (body["a"]["id"], body["b"]["id"]) == (a.pk, b.pk)
    assert ml.get(f"{VERSIONS}compare/", {"a": a.pk, "b": 9999}).status_code == 404
    assert ml.get(f"{VERSIONS}compare/", {"a": a.pk}).status_code == 400


@pytest.mark.django_db
def test_schedule_create_edit_list_and_delete(ml: APIClient) -> None:
    campaign = judged_campaign()
    created = ml.post(
        SCHEDULES,
        {
            "campaign_id": campaign.pk,
            "every_n_judgments": 50,
            "cron": "0 3 * * *",
            "hyperparameters": {"ppo": {"steps": 5}},
            "dataset": {"min_rater_quality": 0.6},
        },
    )
    assert created.status_code == 201, created.json()
    body = created.json()
    assert body["campaign"] == {"id": campaign.pk, "name": campaign.name}
    assert body["judgments_at_last_fire"] == 4  # counts from now on
    assert body["judgments_since_last_fire"] == 0
    assert body["policy_kind"] == "ppo"
    assert body["dataset"]["campaign_ids"] == [campaign.pk]
    assert body["dataset"]["min_rater_quality"] == 0.6
    again = ml.post(SCHEDULES, {"campaign_id": campaign.pk, "every_n_judgments": 5})
    assert (again.status_code, again.json()["code"]) == (409, "schedule_exists")

    path = f"{SCHEDULES}{body['id']}/"
    stale = ml.patch(path, {"policy_kind": "dpo"})  # its overrides are still for PPO
    assert stale.json()["errors"] == {
        "hyperparameters": {"ppo": ["The schedule starts no run of this kind."]}
    }
    patched = ml.patch(
        path,
        {"policy_kind": "dpo", "cron": "", "enabled": False, "hyperparameters": {"dpo": {}}},
    )
    assert patched.status_code == 200
    assert (patched.json()["policy_kind"], patched.json()["cron"]) == ("dpo", "")
    assert patched.json()["enabled"] is False
    listed = ml.get(SCHEDULES).json()
    assert [s["id"] for s in listed] == [body["id"]]
    assert ml.delete(path).status_code == 204
    assert ml.get(path).status_code == 404
    assert ml.patch(f"{SCHEDULES}9999/", {"enabled": True}).status_code == 404


@pytest.mark.django_db
def test_bad_schedules_are_refused(ml: APIClient, client_for: Callable[..., APIClient]) -> None:
    campaign = make_campaign()
    cases: list[tuple[dict[str, Any], str]] = [
        ({"cron": "0 25 * * *"}, "cron"),
        ({"cron": "every day"}, "cron"),
        ({}, "every_n_judgments"),
        ({"every_n_judgments": 0}, "every_n_judgments"),
        ({"every_n_judgments": 5, "hyperparameters": {"ppo": {"steps": -1}}}, "hyperparameters"),
        ({"every_n_judgments": 5, "hyperparameters": {"evaluate": {}}}, "hyperparameters"),
        ({"every_n_judgments": 5, "responses_per_prompt": 1}, "responses_per_prompt"),
        ({"every_n_judgments": 5, "dataset": {"pool_ids": [9999]}}, "dataset"),
    ]
    for body, field in cases:
        response = ml.post(SCHEDULES, {"campaign_id": campaign.pk, **body})
        assert response.status_code == 400, body
        assert list(response.json()["errors"]) == [field], response.json()
    unknown = ml.post(SCHEDULES, {"campaign_id": 9999, "every_n_judgments": 5})
    assert unknown.status_code == 400
    assert client_for(Role.ANNOTATOR).get(SCHEDULES).status_code == 403
    assert TrainingSchedule.objects.count() == 0


def interval(low: float, high: float) -> dict[str, float]:
    return {"validation_accuracy_ci_low": low, "validation_accuracy_ci_high": high}


@pytest.mark.django_db
def test_ceiling_sets_human_agreement_beside_reward_accuracy(ml: APIClient) -> None:
    raters = [make_user() for _ in range(3)]
    campaign = pairwise_campaign(raters, tasks=2)
    for rater in raters:
        judge(rater, prefer_first=True)
        judge(rater, prefer_first=rater is not raters[2])
    before = ml.get("/api/v1/training/ceiling/", {"campaign": campaign.pk}).json()
    assert before["reward_model"] == {
        "version": None,
        "val_accuracy": None,
        "val_ci_low": None,
        "val_ci_high": None,
    }
    assert before["verdict"] == "unknown"
    held_out = {"validation_accuracy": 0.7, **interval(0.6, 0.8)}
    reward = version("reward", campaign, metrics=held_out)
    body = ml.get("/api/v1/training/ceiling/", {"campaign": campaign.pk}).json()
    assert body["campaign"] == {"id": campaign.pk, "name": campaign.name}
    # Task 1: all three agree (3 of 3 rater pairs); task 2: one dissents (1 of 3). Like for
    # like with the reward model, each rater against the others' decided majority: on task 1,
    # 3 of 3 agree; on task 2 only the dissenter meets a decided majority, and disagrees.
    # Clustered by task (3 of 3, then 0 of 1): p = 0.75, se = sqrt(2 * 1.125) / 4 = 0.375.
    human = body["human_agreement"]
    assert human == {
        "percent": pytest.approx(4 / 6),
        "alpha": human["alpha"],
        "n": 2,
        "consensus": 0.75,
        "consensus_ci_low": pytest.approx(0.75 - 1.96 * 0.375),
        "consensus_ci_high": 1.0,
        "consensus_n": 4,
    }
    assert human["alpha"] is not None
    assert body["reward_model"] == {
        "version": {"id": reward.pk, "name": reward.name, "kind": "reward"},
        "val_accuracy": 0.7,
        "val_ci_low": 0.6,
        "val_ci_high": 0.8,
    }
    assert body["verdict"] == "at"  # the intervals overlap: no claim either way
    # above or below only when the intervals are apart
    assert ceiling_verdict((0.80, 0.90), (0.60, 0.75)) == "above"
    assert ceiling_verdict((0.50, 0.59), (0.60, 0.75)) == "below"
    assert ceiling_verdict((0.50, 0.61), (0.60, 0.75)) == "at"
    assert ceiling_verdict((None, None), (0.60, 0.75)) == "unknown"
    assert ml.get("/api/v1/training/ceiling/", {"campaign": 9999}).status_code == 404
    assert ml.get("/api/v1/training/ceiling/").status_code == 400


# Services: firing schedules, and the chain -------------------------------------------------


@pytest.mark.django_db
def test_a_schedule_fires_after_n_new_judgments_once(
    django_capture_on_commit_callbacks: Any,
) -> None:
    raters = [make_user() for _ in range(3)]
    campaign = pairwise_campaign(raters, tasks=2)
    judge(raters[0], prefer_first=True)
    schedule = create_schedule(
        campaign=campaign,
        values={"every_n_judgments": 2, "hyperparameters": {"reward": {"epochs": 2.0}}},
    )
    now = timezone.now()
    judge(raters[1], prefer_first=True)
    assert fire_due_schedules(now=now) == []  # one new judgment of two
    judge(raters[2], prefer_first=True)
    with django_capture_on_commit_callbacks() as callbacks:
        fired = fire_due_schedules(now=now)
    assert len(fired) == 1
    run = fired[0]
    assert (run.kind, run.status, run.schedule_id) == ("reward", "queued", schedule.pk)
    assert run.follow_up == ["ppo", "generate"]
    assert run.config["epochs"] == 2.0
    assert run.snapshot_size == 3
    assert run.idempotency_key == f"schedule-{schedule.pk}-3-{now:%Y%m%dT%H%M%S}"
    assert len(callbacks) == 1
    schedule.refresh_from_db()
    assert (schedule.judgments_at_last_fire, schedule.last_fired_at) == (3, now)
    assert fire_due_schedules(now=now) == []  # nothing new, and its run is still queued


@pytest.mark.django_db
def test_a_cron_schedule_fires_when_its_time_has_come_and_waits_for_its_chain() -> None:
    campaign = judged_campaign()
    schedule = create_schedule(campaign=campaign, values={"cron": "0 3 * * *"})
    created = schedule.created_at.replace(hour=1, minute=0, second=0, microsecond=0)
    TrainingSchedule.objects.filter(pk=schedule.pk).update(created_at=created)
    assert fire_due_schedules(now=created + timedelta(hours=1)) == []
    fired = fire_due_schedules(now=created + timedelta(hours=2, minutes=1))
    assert [r.kind for r in fired] == ["reward"]
    assert fire_due_schedules(now=created + timedelta(days=1, hours=3)) == []  # chain busy
    fired[0].status = RunStatus.SUCCEEDED
    fired[0].save()
    assert len(fire_due_schedules(now=created + timedelta(days=1, hours=3))) == 1


@pytest.mark.django_db
def test_the_chain_runs_reward_then_ppo_then_generate_with_the_new_versions() -> None:
    campaign = judged_campaign()
    schedule = create_schedule(
        campaign=campaign,
        values={
            "every_n_judgments": 1,
            "generate_prompts": 7,
            "responses_per_prompt": 3,
            "hyperparameters": {"ppo": {"steps": 2}},
        },
    )
    old_policy = version("policy", campaign)
    reward_run = finished_run("reward", campaign, schedule=schedule, follow_up=["ppo", "generate"])
    reward = version("reward", campaign, produced_by=reward_run)

    ppo = create_follow_up_run(finished=reward_run)
    assert ppo is not None
    assert (ppo.kind, ppo.reward_version_id, ppo.parent_version_id) == (
        "ppo",
        reward.pk,
        old_policy.pk,
    )
    assert (ppo.follow_up, ppo.config["steps"], ppo.schedule_id) == (["generate"], 2, schedule.pk)
    assert create_follow_up_run(finished=reward_run) == ppo  # a redelivered message: same run

    ppo.status = RunStatus.SUCCEEDED
    ppo.save()
    new_policy = version("policy", campaign, parent=old_policy, produced_by=ppo)
    generate = create_follow_up_run(finished=ppo)
    assert generate is not None
    assert (generate.kind, generate.parent_version_id, generate.campaign_id) == (
        "generate",
        new_policy.pk,
        campaign.pk,
    )
    assert (generate.config["prompts"], generate.config["k"]) == (7, 3)
    assert generate.follow_up == []
    generate.status = RunStatus.SUCCEEDED
    generate.save()
    assert create_follow_up_run(finished=generate) is None
    failed = TrainingRun.objects.create(kind="reward", status=RunStatus.FAILED, follow_up=["ppo"])
    assert create_follow_up_run(finished=failed) is None


@pytest.mark.django_db
def test_a_schedule_names_the_second_reward_model_every_round_is_watched_with(
    ml: APIClient,
) -> None:
    """Without it a scheduled round could never warn that its reward rose while the win rate
    under a second reward model fell."""
    campaign = judged_campaign()
    gold = version("reward", campaign)
    policy = version("policy", campaign)
    refused = ml.post(
        SCHEDULES,
        {"campaign_id": campaign.pk, "every_n_judgments": 1, "check_reward_version_id": policy.pk},
    )
    assert refused.status_code == 400
    assert refused.json()["errors"]["check_reward_version_id"] == [
        f"Version {policy.pk} is a policy model; need reward."
    ]
    missing = ml.post(
        SCHEDULES,
        {"campaign_id": campaign.pk, "every_n_judgments": 1, "check_reward_version_id": 9999},
    )
    assert missing.status_code == 400
    assert not TrainingSchedule.objects.exists()

    created = ml.post(
        SCHEDULES,
        {"campaign_id": campaign.pk, "every_n_judgments": 1, "check_reward_version_id": gold.pk},
    )
    assert created.status_code == 201, created.json()
    assert created.json()["check_reward_version"] == {
        "id": gold.pk,
        "name": gold.name,
        "kind": "reward",
    }
    schedule = TrainingSchedule.objects.get()
    for policy_kind in ("ppo", "dpo"):
        schedule.policy_kind = policy_kind
        schedule.save()
        reward_run = finished_run("reward", campaign, schedule=schedule, follow_up=[policy_kind])
        version("reward", campaign, produced_by=reward_run)
        round_run = create_follow_up_run(finished=reward_run)
        assert round_run is not None
        assert (round_run.kind, round_run.check_reward_version_id) == (policy_kind, gold.pk)

    cleared = ml.patch(f"{SCHEDULES}{schedule.pk}/", {"check_reward_version_id": None})
    assert cleared.status_code == 200
    assert cleared.json()["check_reward_version"] is None


@pytest.mark.django_db
def test_without_a_policy_version_the_chain_starts_from_the_base_model() -> None:
    campaign = judged_campaign()
    reward_run = finished_run("reward", campaign, follow_up=["dpo", "generate"])
    ppo_like = create_follow_up_run(finished=reward_run)
    assert ppo_like is not None
    assert (ppo_like.kind, ppo_like.parent_version_id, ppo_like.base) == ("dpo", None, "smollm2")
    assert ppo_like.snapshot_size == 4  # DPO trains on preferences: its own snapshot
    assert ModelVersion.objects.count() == 0


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_beats_at_once_fire_a_schedule_once(monkeypatch: pytest.MonkeyPatch) -> None:
    sent: list[int] = []  # the run ids sent to workers (no broker in this test)
    monkeypatch.setattr("training.dispatch.send_run", sent.append)
    campaign = judged_campaign()
    create_schedule(campaign=campaign, values={"every_n_judgments": 1})
    TrainingSchedule.objects.update(judgments_at_last_fire=0)
    now = timezone.now()
    barrier = threading.Barrier(2)
    results: list[int] = []

    def beat() -> None:
        try:
            barrier.wait()
            results.append(len(fire_due_schedules(now=now)))
        finally:
            connection.close()

    threads = [threading.Thread(target=beat) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(results) == [0, 1]
    assert (
        list(TrainingRun.objects.filter(kind=RunKind.REWARD).values_list("id", flat=True)) == sent
    )


@pytest.mark.django_db
def test_a_base_model_registers_once_as_a_reference_a_run_can_start_from(ml: APIClient) -> None:
    base = register_base_version(base="smollm2")
    assert register_base_version(base="smollm2") == base
    assert (base.name, base.kind, base.base, base.artifact_path) == (
        "base:smollm2",
        "reference",
        "smollm2",
        "smollm2",
    )
    campaign = make_campaign()
    reply = ml.post(
        "/api/v1/training/runs/",
        {"kind": "generate", "parent_version_id": base.pk, "campaign_id": campaign.pk},
        format="json",
    )
    assert reply.status_code == 201, reply.content
    assert reply.json()["parent_version"] == {
        "id": base.pk,
        "name": "base:smollm2",
        "kind": "reference",
    }
