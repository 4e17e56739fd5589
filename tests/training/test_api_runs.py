"""Training runs through the HTTP API: starting one (defaults, snapshot, idempotency, what
each kind needs), listing, cancelling, metrics and the form's options."""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import Any

import pytest
from rest_framework.test import APIClient

from annotation.models import Campaign, Preference
from annotation.selectors.snapshots import snapshot_hash
from common.roles import Role
from tests.factories import make_campaign, make_pool, make_task, make_user
from tests.training.test_selectors_dataset import judge, pairwise_campaign
from training.hyperparameters import defaults_for
from training.models import ModelVersion, RunMetric, RunStatus, TrainingRun

pytestmark = pytest.mark.django_db
RUNS = "/api/v1/training/runs/"


def judged_campaign(judgments_per_rater: int = 2) -> Campaign:
    raters = [make_user() for _ in range(2)]
    campaign = pairwise_campaign(raters, tasks=judgments_per_rater)
    for rater in raters:
        for _ in range(judgments_per_rater):
            judge(rater, prefer_first=True)
    return campaign


def version(kind: str, campaign: Campaign | None = None, **fields: Any) -> ModelVersion:
    name = f"{kind}-{ModelVersion.objects.count() + 1}"
    return ModelVersion.objects.create(
        name=name,
        kind=kind,
        base="smollm2",
        artifact_path=f"/artifacts/{name}",
        campaign=campaign,
        **fields,
    )


def test_a_reward_run_starts_queued_with_defaults_and_a_frozen_snapshot(
    ml: APIClient, django_capture_on_commit_callbacks: Any
) -> None:
    campaign = judged_campaign()
    with django_capture_on_commit_callbacks() as callbacks:
        response = ml.post(
            RUNS,
            {"kind": "reward", "dataset": {"campaign_ids": [campaign.pk], "mode": "all"}},
        )
    assert response.status_code == 201, response.json()
    body = response.json()
    ids = sorted(Preference.objects.values_list("id", flat=True))
    assert body["status"] == "queued"
    assert body["base"] == "smollm2"
    assert body["config"] == {**defaults_for("reward"), "max_length": 512}
    assert body["campaign"] == {"id": campaign.pk, "name": campaign.name}
    assert body["dataset"] == {
        "mode": "all",
        "campaign_ids": [campaign.pk],
        "since": None,
        "until": None,
        "pool_ids": [],
        "min_rater_quality": None,
        "exclude_paused": True,
        "exclude_gold": True,
        "exclude_all_bad": True,
        "unsafe": "below",
        "model_labels": False,
    }
    assert body["snapshot"] == {"hash": snapshot_hash(ids), "size": 4}
    assert body["created_by"] == ml.user.username  # type: ignore[attr-defined]
    assert body["produced_versions"] == []
    assert TrainingRun.objects.get().snapshot_preference_ids == ids
    assert len(callbacks) == 1  # the worker is told after commit, once


def test_a_judgment_flagged_all_bad_gives_a_reward_run_no_pairs_unless_asked(
    ml: APIClient, client_for: Any
) -> None:
    """Through the rater API: two raters rank a 4-answer task, one flags "all responses are
    bad"; a reward run's snapshot holds exactly the other rater's 6 pairs by default, and all
    12 when the dataset says to keep flagged judgments."""
    campaign = make_campaign(responses_per_task=4, overlap=2)
    make_task(campaign)
    raters = [client_for(Role.ANNOTATOR), client_for(Role.ANNOTATOR)]
    make_pool(members=[r.user for r in raters], campaigns=[campaign])
    flagged_ids: list[int] = []
    for rater, flags in zip(raters, ([], ["all_bad"]), strict=True):
        task = rater.post("/api/v1/assignments/next/").json()
        ranking = [["A"], ["B"], ["C"], ["D"]]
        body = {"ranking": ranking, "flags": flags, "idempotency_key": "flag-test-1"}
        answer = rater.post(f"/api/v1/assignments/{task['id']}/submit/", body, format="json")
        assert answer.status_code == 201, answer.json()
        if flags:
            flagged_ids.append(answer.json()["judgment_id"])
    kept = Preference.objects.exclude(judgment_id__in=flagged_ids)

    default = ml.post(
        RUNS, {"kind": "reward", "dataset": {"campaign_ids": [campaign.pk], "mode": "all"}}
    )
    everything = ml.post(
        RUNS,
        {
            "kind": "reward",
            "dataset": {"campaign_ids": [campaign.pk], "mode": "all", "exclude_all_bad": False},
        },
    )

    assert default.status_code == everything.status_code == 201
    assert default.json()["dataset"]["exclude_all_bad"] is True
    run = TrainingRun.objects.get(pk=default.json()["id"])
    assert run.snapshot_preference_ids == sorted(kept.values_list("id", flat=True))
    assert len(run.snapshot_preference_ids) == 6
    assert everything.json()["snapshot"]["size"] == 12


def test_hyperparameters_merge_over_defaults_and_bad_ones_are_refused(ml: APIClient) -> None:
    campaign = judged_campaign()
    good = ml.post(
        RUNS,
        {"kind": "reward", "campaign_id": campaign.pk, "hyperparameters": {"learning_rate": 2e-5}},
    )
    assert good.status_code == 201
    assert good.json()["config"]["learning_rate"] == 2e-5
    assert good.json()["config"]["batch_size"] == 8
    cases: list[tuple[dict[str, Any], str]] = [
        ({"nope": 1}, "Unknown hyperparameter for this kind."),
        ({"batch_size": 0}, "Must be at least 1."),
        ({"batch_size": 1.5}, "Must be a whole number."),
        ({"bf16": "yes"}, "Must be true or false."),
        ({"target_kl": 6.0}, "Unknown hyperparameter for this kind."),  # a PPO one
        ({"kl_from": "base"}, "Unknown hyperparameter for this kind."),  # a policy round's
        ({"lora": "yes"}, "Must be true or false."),
        ({"head_init": "zeros"}, "Must be one of: random, probe."),
    ]
    for bad, message in cases:
        response = ml.post(
            RUNS, {"kind": "reward", "campaign_id": campaign.pk, "hyperparameters": bad}
        )
        assert response.status_code == 400
        body = response.json()
        assert body["code"] == "invalid_hyperparameters"
        assert body["errors"] == {"hyperparameters": {next(iter(bad)): [message]}}
    assert TrainingRun.objects.count() == 1


def test_lora_is_refused_on_a_kind_that_trains_nothing(ml: APIClient) -> None:
    campaign = judged_campaign()
    policy, other, reward = (version(k, campaign) for k in ("policy", "policy", "reward"))
    versions = {
        "generate": {},
        "evaluate": {
            "parent_version_id": policy.pk,
            "compare_version_id": other.pk,
            "reward_version_id": reward.pk,
        },
    }
    for kind, models in versions.items():
        body = {"kind": kind, "campaign_id": campaign.pk, **models}
        response = ml.post(RUNS, {**body, "hyperparameters": {"lora": True}}, format="json")
        assert response.status_code == 400, kind
        assert response.json()["errors"].get("hyperparameters") == {
            "lora": ["Unknown hyperparameter for this kind."]
        }, response.json()
    assert not TrainingRun.objects.exists()


def test_a_run_with_no_matching_preferences_is_refused(ml: APIClient) -> None:
    empty = make_campaign()
    response = ml.post(RUNS, {"kind": "dpo", "campaign_id": empty.pk})
    assert response.status_code == 400
    assert response.json()["code"] == "empty_dataset"
    campaign = judged_campaign()
    future = ml.post(
        RUNS,
        {
            "kind": "reward",
            "dataset": {"campaign_ids": [campaign.pk], "since": "2999-01-01T00:00:00Z"},
        },
    )
    assert future.status_code == 400
    assert future.json()["code"] == "empty_dataset"
    assert TrainingRun.objects.count() == 0


def test_bad_dataset_filters_are_refused_field_by_field(ml: APIClient) -> None:
    judged_campaign()
    response = ml.post(
        RUNS,
        {
            "kind": "reward",
            "dataset": {"campaign_ids": [9999], "min_rater_quality": 2, "colour": "red"},
        },
    )
    assert response.status_code == 400
    assert response.json()["errors"] == {"dataset": {"colour": ["Unknown field."]}}
    response = ml.post(RUNS, {"kind": "reward", "dataset": {"campaign_ids": [9999]}})
    assert response.status_code == 400
    assert response.json()["errors"] == {"dataset": {"campaign_ids": ["Unknown ids: 9999."]}}
    response = ml.post(
        RUNS,
        {
            "kind": "reward",
            "dataset": {"since": "2024-02-01T00:00:00Z", "until": "2024-01-01T00:00:00Z"},
        },
    )
    assert response.json()["errors"] == {"dataset": {"until": ["Must be after since."]}}


def test_an_idempotency_key_makes_one_run(ml: APIClient) -> None:
    campaign = judged_campaign()
    body = {"kind": "reward", "campaign_id": campaign.pk, "idempotency_key": "nightly-1"}
    first = ml.post(RUNS, body)
    replay = ml.post(RUNS, body)
    assert (first.status_code, replay.status_code) == (201, 200)
    assert replay.json()["id"] == first.json()["id"]
    other = ml.post(RUNS, {**body, "hyperparameters": {"epochs": 2.0}})
    assert other.status_code == 409
    assert other.json()["code"] == "idempotency_key_reused"
    assert TrainingRun.objects.count() == 1


def test_each_kind_says_what_it_is_missing(ml: APIClient) -> None:
    campaign = judged_campaign()
    policy, reward = version("policy", campaign), version("reward", campaign)
    cases: list[tuple[dict[str, Any], dict[str, list[str]]]] = [
        (
            {"kind": "ppo"},
            {
                "reward_version_id": ["ppo runs need this."],
                "campaign_id": ["Say which campaign's prompts to use."],
            },
        ),
        (
            {"kind": "generate"},
            {"campaign_id": ["A generation run needs the campaign that receives its tasks."]},
        ),
        (
            {"kind": "ppo", "reward_version_id": policy.pk},
            {"reward_version_id": [f"Version {policy.pk} is a policy model; need reward."]},
        ),
        (
            {"kind": "evaluate", "reward_version_id": reward.pk, "parent_version_id": policy.pk},
            {"compare_version_id": ["evaluate runs need this."]},
        ),
    ]
    for body, errors in cases:
        response = ml.post(RUNS, body)
        assert response.status_code == 400, body
        assert response.json()["errors"] == errors
    unknown = ml.post(RUNS, {"kind": "ppo", "reward_version_id": 9999})
    assert unknown.status_code == 400
    assert unknown.json()["code"] == "does_not_exist"
    bad_kind = ml.post(RUNS, {"kind": "sft"})
    assert bad_kind.status_code == 400
    assert list(bad_kind.json()["errors"]) == ["kind"]


def test_a_ppo_run_takes_prompts_from_its_reward_models_campaign(ml: APIClient) -> None:
    campaign = judged_campaign()
    reward = version("reward", campaign)
    response = ml.post(
        RUNS, {"kind": "ppo", "reward_version_id": reward.pk, "hyperparameters": {"steps": 3}}
    )
    assert response.status_code == 201
    body = response.json()
    assert body["campaign"]["id"] == campaign.pk
    assert body["reward_version"] == {"id": reward.pk, "name": reward.name, "kind": "reward"}
    assert body["parent_version"] is None
    assert body["base"] == "smollm2"
    assert body["config"]["target_kl"] == 6.0
    assert body["config"]["steps"] == 3
    assert body["dataset"] is None
    assert body["snapshot"] == {"hash": "", "size": 0}


def test_only_admins_and_ml_engineers_may_use_training(
    client_for: Callable[..., APIClient], api: APIClient
) -> None:
    annotator = client_for(Role.ANNOTATOR)
    for path in (RUNS, "/api/v1/training/options/", "/api/v1/training/versions/"):
        assert annotator.get(path).status_code == 403
    assert annotator.post(RUNS, {"kind": "reward"}).status_code == 403
    assert api.get(RUNS).status_code == 401
    assert client_for(Role.ADMIN).get(RUNS).status_code == 200


def test_runs_list_newest_first_with_filters(ml: APIClient) -> None:
    campaign = judged_campaign()
    reward = ml.post(RUNS, {"kind": "reward", "campaign_id": campaign.pk}).json()
    generate = ml.post(RUNS, {"kind": "generate", "campaign_id": campaign.pk}).json()
    TrainingRun.objects.filter(pk=reward["id"]).update(status=RunStatus.SUCCEEDED)
    page = ml.get(RUNS).json()
    assert page["count"] == 2
    assert [r["id"] for r in page["results"]] == [generate["id"], reward["id"]]
    assert [r["id"] for r in ml.get(RUNS, {"status": "succeeded"}).json()["results"]] == [
        reward["id"]
    ]
    assert [r["id"] for r in ml.get(RUNS, {"kind": "generate"}).json()["results"]] == [
        generate["id"]
    ]
    assert ml.get(RUNS, {"campaign": 9999}).json()["count"] == 0
    assert ml.get(RUNS, {"limit": 1}).json()["next"] is not None
    assert ml.get(RUNS, {"status": "sleeping"}).status_code == 400
    assert ml.get(f"{RUNS}{generate['id']}/").json()["kind"] == "generate"
    missing = ml.get(f"{RUNS}9999/")
    assert (missing.status_code, missing.json()["code"]) == (404, "not_found")


def test_cancel_queued_running_and_finished_runs(ml: APIClient) -> None:
    campaign = judged_campaign()
    queued, running, done = (
        ml.post(RUNS, {"kind": "generate", "campaign_id": campaign.pk}).json()["id"]
        for _ in range(3)
    )
    TrainingRun.objects.filter(pk=running).update(status=RunStatus.RUNNING)
    TrainingRun.objects.filter(pk=done).update(status=RunStatus.SUCCEEDED)

    cancelled = ml.post(f"{RUNS}{queued}/cancel/").json()
    assert (cancelled["status"], cancelled["finished_at"] is not None) == ("cancelled", True)
    stopping = ml.post(f"{RUNS}{running}/cancel/").json()
    assert (stopping["status"], stopping["cancel_requested"]) == ("running", True)
    finished = ml.post(f"{RUNS}{done}/cancel/")
    assert (finished.status_code, finished.json()["code"]) == (409, "run_finished")
    again = ml.post(f"{RUNS}{queued}/cancel/")
    assert again.status_code == 409
    assert ml.post(f"{RUNS}9999/cancel/").status_code == 404


def test_metrics_come_as_series_and_after_step_returns_only_newer_points(ml: APIClient) -> None:
    campaign = judged_campaign()
    run_id = ml.post(RUNS, {"kind": "reward", "campaign_id": campaign.pk}).json()["id"]
    for step, loss in [(1, 0.7), (2, 0.6), (3, 0.5)]:
        RunMetric.objects.create(run_id=run_id, step=step, name="train/loss", value=loss)
    RunMetric.objects.create(run_id=run_id, step=3, name="validation/accuracy", value=0.75)
    series = ml.get(f"{RUNS}{run_id}/metrics/").json()["series"]
    assert series == {
        "train/loss": [[1, 0.7], [2, 0.6], [3, 0.5]],
        "validation/accuracy": [[3, 0.75]],
    }
    newer = ml.get(f"{RUNS}{run_id}/metrics/", {"after_step": 2}).json()["series"]
    assert newer == {"train/loss": [[3, 0.5]], "validation/accuracy": [[3, 0.75]]}
    assert ml.get(f"{RUNS}{run_id}/metrics/", {"after_step": "x"}).status_code == 400
    assert ml.get(f"{RUNS}9999/metrics/").status_code == 404


def test_options_offer_defaults_help_bases_campaigns_and_pools(ml: APIClient) -> None:
    campaign = make_campaign()
    options = ml.get("/api/v1/training/options/").json()
    kinds = {"reward", "ppo", "grpo", "rloo", "dpo", "generate", "evaluate", "judge", "arena"}
    assert set(options["defaults"]) == kinds
    assert options["defaults"]["grpo"]["group_size"] == 4
    assert set(options["help"]["rloo"]) == set(options["defaults"]["rloo"])
    assert options["defaults"]["ppo"]["target_kl"] == 6.0
    assert options["defaults"]["ppo"]["steps"] == 10
    assert options["defaults"]["reward"]["max_length"] == 512
    assert set(options["help"]["ppo"]) == set(options["defaults"]["ppo"])
    assert options["bases"] == ["smollm2"]
    assert {"id": campaign.pk, "name": campaign.name} in options["campaigns"]
    assert options["pools"] == []


@pytest.mark.parametrize(
    ("module", "option", "old_behaviour"),
    [
        ("0004_dataset_exclude_all_bad", "exclude_all_bad", False),
        ("0005_dataset_unsafe", "unsafe", "ignore"),
    ],
)
def test_a_dataset_stored_before_an_option_reads_back_as_it_was(
    ml: APIClient, module: str, option: str, old_behaviour: object
) -> None:
    from django.apps import apps

    migration = importlib.import_module(f"training.migrations.{module}")
    campaign = judged_campaign()
    created = ml.post(RUNS, {"kind": "reward", "dataset": {"campaign_ids": [campaign.pk]}})
    run = TrainingRun.objects.get(pk=created.json()["id"])
    old = {k: v for k, v in run.dataset.items() if k != option}
    TrainingRun.objects.filter(pk=run.pk).update(dataset=old)  # as an older version stored it

    migration.state_the_old_behaviour(apps, None)

    run.refresh_from_db()
    assert run.dataset == {**old, option: old_behaviour}
    shown = ml.get(f"{RUNS}{run.pk}/")
    assert shown.status_code == 200
    assert shown.json()["dataset"][option] == old_behaviour
