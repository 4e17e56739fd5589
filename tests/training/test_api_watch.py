"""The reward-hacking watch through the API, each round a real PPO run on the worker's code
path (the pipeline as a subprocess) with tiny models built to make the outcome certain: a
reward model that pays for brevity without limit, no KL penalty and a KL budget far below what
the round reaches, so the policy learns to answer with nothing and the run and its version end
with the watch's warnings; and the same models at the default settings, a calm round that ends
with none. The chart's series are read back through the API."""

from __future__ import annotations

import random
from pathlib import Path
from typing import Any

import pytest
from rest_framework.test import APIClient

from annotation.models import Campaign, Prompt, Response
from annotation.ranking import labels_for
from annotation.selectors.quality import campaign_quality_report
from annotation.services.assignments import claim_next_assignment
from annotation.services.judgments import Submission, submit_judgment
from tests.factories import make_campaign, make_pool, make_task, make_user
from tests.training.watch_models import eos_prone_policy, length_reward_model
from training.models import ModelVersion, RunMetric, RunStatus, TrainingRun
from training.pipeline.data import PreferencePair
from training.pipeline.evaluation import reward_model_accuracy
from training.worker.job import execute_run

pytestmark = [pytest.mark.slow, pytest.mark.django_db]
RUNS = "/api/v1/training/runs/"
VERSIONS = "/api/v1/training/versions/"
QUESTIONS = [f"Question {i}?" for i in range(16)]


@pytest.fixture(scope="module")
def models(peaked_policy: Path, tiny_model: Path, tmp_path_factory: Any) -> dict[str, Path]:
    """A policy whose answers end at once on some prompts and run on for others; a reward
    model that scores shorter exchanges higher ("brevity") and its negation ("verbosity")."""
    root = tmp_path_factory.mktemp("watch-models")
    prompts = [[{"role": "user", "content": text}] for text in QUESTIONS]
    return {
        "policy": eos_prone_policy(peaked_policy, root / "policy", prompts, strength=26.0),
        "brevity": length_reward_model(tiny_model, root / "brevity", scale=-20.0),
        "verbosity": length_reward_model(tiny_model, root / "verbosity", scale=20.0),
    }


@pytest.fixture
def artifacts(tmp_path: Path, settings: Any) -> None:
    settings.TRAINING_ARTIFACTS_DIR = tmp_path / "artifacts"
    settings.TRAINING_POLL_S = 0.2


def length_pairs() -> list[PreferencePair]:
    """Validation pairs whose chosen answer is the shorter one in half of them."""
    short, long = "Yes.", "Yes, and here is a much longer answer with many more words in it."
    pairs = []
    for i in range(8):
        chosen, rejected = (short, long) if i % 2 == 0 else (long, short)
        pairs.append(PreferencePair([{"role": "user", "content": f"Q{i}?"}], chosen, rejected))
    return pairs


def register(models: dict[str, Path], campaign: Campaign) -> dict[str, ModelVersion]:
    """The policy, and both reward models with the figures a reward run stores (its
    validation metrics, the length slope among them)."""

    def reward(name: str) -> ModelVersion:
        path = str(models[name])
        metrics = {
            f"validation_{k}": v for k, v in reward_model_accuracy(path, length_pairs()).items()
        }
        return ModelVersion.objects.create(
            name=name,
            kind="reward",
            base=path,
            artifact_path=path,
            metrics=metrics,
            campaign=campaign,
        )

    path = str(models["policy"])
    policy = ModelVersion.objects.create(
        name="eos-prone", kind="policy", base=path, artifact_path=path, campaign=campaign
    )
    return {"policy": policy, "brevity": reward("brevity"), "verbosity": reward("verbosity")}


def campaign_with_questions() -> Campaign:
    campaign = make_campaign()
    for text in QUESTIONS:
        Prompt.objects.create(campaign=campaign, conversation=[{"role": "user", "content": text}])
    return campaign


def run_round(
    ml: APIClient,
    versions: dict[str, ModelVersion],
    campaign: Campaign,
    *,
    with_check: bool = True,
    **hyperparameters: Any,
) -> dict[str, Any]:
    """A PPO round against the brevity model, verbosity its second judge (unless not
    `with_check`), through the API and the worker; returns the finished run as GET shows it."""
    check = {"check_reward_version_id": versions["verbosity"].pk} if with_check else {}
    created = ml.post(
        RUNS,
        {
            "kind": "ppo",
            "parent_version_id": versions["policy"].pk,
            "reward_version_id": versions["brevity"].pk,
            **check,
            "campaign_id": campaign.pk,
            "hyperparameters": {"max_new_tokens": 16, "watch_prompts": 8, **hyperparameters},
        },
        format="json",
    )
    assert created.status_code == 201, created.json()
    assert (created.json()["check_reward_version"] or {}).get("name") == (
        "verbosity" if with_check else None
    )
    run_id = created.json()["id"]
    assert execute_run(run_id) == "succeeded", TrainingRun.objects.get(pk=run_id).log_tail
    return ml.get(f"{RUNS}{run_id}/").json()


def test_a_round_that_over_optimises_ends_with_warnings_on_the_run_and_the_version(
    ml: APIClient, models: dict[str, Path], artifacts: None
) -> None:
    campaign = campaign_with_questions()
    versions = register(models, campaign)

    run = run_round(
        ml,
        versions,
        campaign,
        steps=5,
        batch_size=8,
        minibatch_size=8,
        learning_rate=3e-3,
        kl_coef=0.0,
        target_kl=0.05,
        watch_prompts=16,
    )

    watch = run["watch"]
    assert run["status"] == RunStatus.SUCCEEDED
    assert [w["code"] for w in watch["warnings"]] == [
        "length_drift",
        "kl_over_budget",
        "second_reward_disagrees",
    ]
    assert watch["length_ratio"] < 1 / 1.3  # it learned to answer with (almost) nothing
    assert watch["length_chars"] < watch["parent_length_chars"]
    assert watch["kl"] > 1.5 * watch["kl_budget"] == 1.5 * 0.05
    assert watch["reward_gain"] > 0  # the brevity model is pleased...
    assert watch["check_win_rate"] < 0.5 - watch["check_win_rate_se"]  # ...verbosity is not
    assert (watch["prompts"], watch["kl_source"], len(watch["reward_kl"])) == (16, "samples", 5)
    assert (watch.pop("error"), watch.pop("kl_to_base_error")) == (None, None)  # all measured
    assert watch == run["result"]["watch"]
    # the over-optimisation curve: each step's answers scored by both models, at its KL
    checks = RunMetric.objects.filter(run_id=run["id"], name="train/check_reward_mean")
    assert [m.step for m in checks] == [1, 2, 3, 4, 5]
    assert watch["check_reward_kl"] == [
        [kl, m.value] for (kl, _), m in zip(watch["reward_kl"], checks, strict=True)
    ]
    # verbosity is brevity's head negated: on the same answers, the opposite score
    assert [c for _, c in watch["check_reward_kl"]] == pytest.approx(
        [-r for _, r in watch["reward_kl"]], abs=1e-5
    )
    assert watch["check_reward_kl"][-1][1] < watch["check_reward_kl"][0][1]
    (produced,) = run["produced_versions"]
    version = ml.get(f"{VERSIONS}{produced['id']}/").json()
    assert version["watch_warnings"] == watch["warnings"]
    assert version["metrics"]["watch_length_ratio"] == watch["length_ratio"]

    chart = ml.get(f"{VERSIONS}{produced['id']}/length-preference/").json()
    (round_,) = chart["rounds"]
    assert round_["run_id"] == run["id"]
    assert round_["kind"] == "ppo"
    assert round_["reward_version"]["name"] == "brevity"
    assert round_["length_ratio"] == watch["length_ratio"]
    assert round_["warnings"] == ["length_drift", "kl_over_budget", "second_reward_disagrees"]
    # the brevity model leans to the shorter answer beyond the pairs' labels
    assert round_["reward_slope"] == versions["brevity"].metrics["validation_length_slope"] < 0
    assert chart["length_drift_factor"] == 1.3


def test_a_calm_round_has_no_warnings(
    ml: APIClient, models: dict[str, Path], artifacts: None
) -> None:
    campaign = campaign_with_questions()
    versions = register(models, campaign)

    run = run_round(ml, versions, campaign, steps=2, batch_size=4, minibatch_size=4)

    watch = run["watch"]
    assert watch["warnings"] == []
    assert watch["held_out_prompts"] == 8  # 2 steps of 4 drew 8 of the 16 prompts
    assert watch["kl"] < watch["kl_budget"] == 6.0
    assert 1 / 1.3 < watch["length_ratio"] < 1.3
    (produced,) = run["produced_versions"]
    assert ml.get(f"{VERSIONS}{produced['id']}/").json()["watch_warnings"] == []


def test_a_round_without_a_second_reward_model_has_no_check_rewards(
    ml: APIClient, models: dict[str, Path], artifacts: None
) -> None:
    campaign = campaign_with_questions()
    versions = register(models, campaign)

    run = run_round(
        ml, versions, campaign, with_check=False, steps=1, batch_size=4, minibatch_size=4
    )

    watch = run["watch"]
    assert len(watch["reward_kl"]) == 1
    assert watch["check_reward_kl"] == []
    assert watch["check_win_rate"] is None
    assert RunMetric.objects.filter(run_id=run["id"], name="train/kl").count() == 1
    assert not RunMetric.objects.filter(run_id=run["id"], name="train/check_reward_mean").exists()


def test_a_second_round_may_count_its_kl_from_the_base_and_the_chart_shows_the_drift(
    ml: APIClient, models: dict[str, Path], artifacts: None
) -> None:
    campaign = campaign_with_questions()
    versions = register(models, campaign)
    steps = {"steps": 2, "batch_size": 4, "minibatch_size": 4, "learning_rate": 3e-3}
    first = run_round(ml, versions, campaign, with_check=False, kl_coef=0.0, **steps)
    (moved,) = first["produced_versions"]
    later = {**versions, "policy": ModelVersion.objects.get(pk=moved["id"])}

    second = run_round(ml, later, campaign, with_check=False, kl_from="base", **steps)

    def first_step_kl(run: dict[str, Any]) -> float:
        return RunMetric.objects.get(run_id=run["id"], name="train/kl", step=1).value

    assert first_step_kl(first) == pytest.approx(0.0, abs=1e-4)  # from its own start
    assert first_step_kl(second) > 0.1  # from the base, which the first round left
    assert second["watch"]["kl_from"] == "base"
    (produced,) = second["produced_versions"]
    chart = ml.get(f"{VERSIONS}{produced['id']}/length-preference/").json()
    one, two = chart["rounds"]
    assert [one["run_id"], two["run_id"]] == [first["id"], second["id"]]
    assert [one["kl_from"], two["kl_from"]] == ["parent", "base"]
    assert one["kl_to_base"] == one["kl_to_parent"] > 0  # the first round's parent is the base
    assert two["kl_to_base"] == second["watch"]["kl_to_base"] > 0
    assert two["kl_to_parent"] == second["watch"]["kl"]
    assert two["kl_budget"] == 6.0


def judge_leaning_long(rater: Any, rng: random.Random) -> None:
    """The rater's next task, the longer answer ranked first seven times in ten."""
    assignment = claim_next_assignment(rater=rater)
    assert assignment is not None
    texts = {
        r.pk: len(r.text) for r in Response.objects.filter(pk__in=assignment.task.response_ids)
    }
    ordered = sorted(texts, key=texts.__getitem__, reverse=rng.random() < 0.7)
    labels = labels_for(len(assignment.display_order))
    submit_judgment(
        rater=rater,
        assignment_id=assignment.pk,
        submission=Submission(
            ranking=[[labels[assignment.display_order.index(r)]] for r in ordered],
            idempotency_key=f"k-{assignment.pk}-000000",
        ),
    )


def test_the_chart_puts_the_raters_slope_from_the_quality_report_beside_the_rounds(
    ml: APIClient,
) -> None:
    raters = [make_user() for _ in range(3)]
    campaign = make_campaign(responses_per_task=2, overlap=3)
    for i in range(12):
        short, long = "Short.", f"A much longer answer, number {i}, that goes on and on."
        make_task(campaign, k=2, texts=[short, long] if i % 2 else [long, short])
    make_pool(members=raters, campaigns=[campaign])
    rng = random.Random(0)
    for rater in raters:
        for _ in range(12):
            judge_leaning_long(rater, rng)
    policy = ModelVersion.objects.create(
        name="p", kind="policy", base="smollm2", artifact_path="/p", campaign=campaign
    )

    chart = ml.get(f"{VERSIONS}{policy.pk}/length-preference/").json()

    figures = campaign_quality_report(campaign=campaign).campaign
    assert figures is not None
    assert figures.length_bias.slope is not None
    assert chart["campaign"]["id"] == campaign.pk
    assert chart["raters_slope"] == figures.length_bias.slope
    assert chart["raters_slope_se"] == figures.length_bias.slope_se
    assert chart["raters_pairs"] == figures.length_bias.n == 36
    assert chart["rounds"] == []  # not trained here: no round along its lineage


def test_a_second_reward_model_must_be_a_reward_model_on_a_policy_round(ml: APIClient) -> None:
    campaign = campaign_with_questions()
    reward = ModelVersion.objects.create(name="r", kind="reward", base="x", artifact_path="/r")
    policy = ModelVersion.objects.create(name="p", kind="policy", base="x", artifact_path="/p")

    wrong_kind = ml.post(
        RUNS,
        {
            "kind": "ppo",
            "reward_version_id": reward.pk,
            "check_reward_version_id": policy.pk,
            "campaign_id": campaign.pk,
        },
        format="json",
    )
    wrong_run = ml.post(
        RUNS,
        {
            "kind": "generate",
            "parent_version_id": policy.pk,
            "check_reward_version_id": reward.pk,
            "campaign_id": campaign.pk,
        },
        format="json",
    )

    assert wrong_kind.status_code == 400
    assert wrong_kind.json()["errors"]["check_reward_version_id"] == [
        f"Version {policy.pk} is a policy model; need reward."
    ]
    same_model = ml.post(
        RUNS,
        {
            "kind": "ppo",
            "reward_version_id": reward.pk,
            "check_reward_version_id": reward.pk,
            "campaign_id": campaign.pk,
        },
        format="json",
    )

    assert wrong_run.status_code == 400
    assert wrong_run.json()["errors"]["check_reward_version_id"] == [
        "Only policy rounds use a second reward model."
    ]
    # A reward model checked against itself always agrees: that would hide what the watch is for.
    assert same_model.status_code == 400
    assert same_model.json()["errors"]["check_reward_version_id"] == [
        "The second reward model must be another model."
    ]
    assert not TrainingRun.objects.exists()
