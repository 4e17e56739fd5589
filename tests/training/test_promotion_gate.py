"""The promotion gate through the worker's code path (the pipeline as a real subprocess, tiny
models for SmolLM2): a gated schedule's policy round ends in the arena, people compare the new
policy with its parent there, and the gate promotes the better policy and holds back the worse
one; whichever is current then writes the campaign's next candidates."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from django.utils import timezone

from annotation.models import Assignment, Campaign, RankingTask, Response
from annotation.services.arena import ARENA_OPEN_TASKS
from annotation.services.importing import import_file
from common.roles import Role
from tests.factories import make_campaign, make_pool
from tests.training.test_worker_chain import tiny_smollm2
from training.models import ModelVersion, Promotion, RunStatus, TrainingRun, TrainingSchedule
from training.promotion import (
    GATE_LOOK_EVERY,
    _figures,
    _verdict,
    current_policy,
    decide_promotions,
)
from training.services import fire_due_schedules
from training.worker.job import execute_run

__all__ = ["tiny_smollm2"]

RUNS = "/api/v1/training/runs/"
SCHEDULES = "/api/v1/training/schedules/"

pytestmark = [pytest.mark.django_db]


def _import(campaign: Campaign, rows: list[dict[str, Any]], name: str) -> None:
    data = "\n".join(json.dumps(row) for row in rows).encode()
    report = import_file(actor=None, campaign=campaign, data=data, filename=name)
    assert report.is_ok, report.errors


def _run_queued(limit: int) -> list[str]:
    kinds = []
    while (run := TrainingRun.objects.filter(status=RunStatus.QUEUED).first()) is not None:
        kinds.append(run.kind)
        assert execute_run(run.pk) == "succeeded", TrainingRun.objects.get(pk=run.pk).error
        assert len(kinds) <= limit, kinds
    return kinds


def _judge_arena(rater: Any, prefer: str, judgments: int, on_commit: Any) -> None:
    """A rater who always prefers `prefer`'s answer (the test knows who wrote what; the rater's
    screen does not say)."""
    for n in range(judgments):
        reply = rater.post("/api/v1/assignments/next/")
        assert reply.status_code == 200, reply.content
        body = reply.json()
        order = Assignment.objects.get(pk=body["id"]).display_order
        names = dict(Response.objects.filter(pk__in=order).values_list("pk", "generator"))
        first_wins = names[order[0]] == prefer
        with on_commit(execute=True):
            submitted = rater.post(
                f"/api/v1/assignments/{body['id']}/submit/",
                {
                    "ranking": [["A"], ["B"]] if first_wins else [["B"], ["A"]],
                    "strength": "better",
                    "idempotency_key": f"key-{prefer}-{n:04d}",
                },
                format="json",
            )
        assert submitted.status_code == 201, submitted.content


def _preferences(campaign: Campaign, offset: int) -> None:
    rows = [
        {"prompt": f"Greet me ({i})", "chosen": f"Hello, friend {i}!", "rejected": "No."}
        for i in range(offset, offset + 12)
    ]
    _import(campaign, rows, f"hh-{offset}.jsonl")


def _gated_schedule(campaign: Campaign, arena: Campaign) -> TrainingSchedule:
    return TrainingSchedule.objects.create(
        campaign=campaign,
        every_n_judgments=10,
        generate_prompts=2,
        responses_per_prompt=2,
        dataset={"mode": "all"},
        arena_campaign=arena,
        gate_max_comparisons=12,
        hyperparameters={
            "reward": {"epochs": 1.0, "batch_size": 4, "max_length": 128},
            "ppo": {"steps": 2, "batch_size": 2, "minibatch_size": 2, "max_new_tokens": 6},
            "arena": {"prompts": 3, "k": 2, "max_new_tokens": 6},
            "generate": {"max_new_tokens": 6},
        },
    )


def _round_one_is_held_back(
    campaign: Campaign, arena: Campaign, rater: Any, on_commit: Any
) -> ModelVersion:
    """The chain stops at the arena; people prefer the parent's answers: held back."""
    fired = fire_due_schedules(now=timezone.now())
    assert [(r.kind, r.follow_up) for r in fired] == [("reward", ["ppo", "arena"])]
    assert _run_queued(limit=3) == ["reward", "ppo", "arena"]
    first = ModelVersion.objects.get(kind="policy")
    assert first.promotion == Promotion.PENDING
    assert first.promotion_detail["rival"] == "base:smollm2"
    assert current_policy(campaign) is None  # waiting in the arena, not current
    answered = Response.objects.filter(prompt__campaign=arena).values_list("generator", flat=True)
    assert set(answered) == {first.name, "base:smollm2"}
    assert decide_promotions() == []  # nobody has compared them yet

    _judge_arena(rater, "base:smollm2", 12, on_commit)  # the gate's 12 comparisons

    assert [v.pk for v in decide_promotions()] == [first.pk]
    first.refresh_from_db()
    assert first.promotion == Promotion.HELD
    detail = first.promotion_detail
    assert (detail["comparisons"], detail["wins"]) == (12, 0)
    assert detail["high"] < 0.5
    assert "did not pass 0.5" in detail["reason"]
    assert current_policy(campaign) is None
    assert Campaign.objects.get(pk=arena.pk).arena_focus == []
    # The chain goes on with the current policy (still the base model).
    generation = TrainingRun.objects.get(pk=detail["generation_run_id"])
    assert (generation.kind, generation.parent_version, generation.campaign) == (
        "generate",
        None,
        campaign,
    )
    assert _run_queued(limit=1) == ["generate"]
    return first


def _round_two_is_promoted(campaign: Campaign, rater: Any, on_commit: Any, held: Any) -> None:
    """The next round starts from the current policy; people prefer the new one: promoted,
    and it writes the campaign's next candidates."""
    fired = fire_due_schedules(now=timezone.now())
    assert [r.kind for r in fired] == ["reward"]
    assert _run_queued(limit=3) == ["reward", "ppo", "arena"]
    second = ModelVersion.objects.filter(kind="policy").exclude(pk=held.pk).get()
    assert second.parent is None  # not the held-back policy
    assert second.promotion == Promotion.PENDING
    # (The arena's tasks still open from round 1 come first: the gate's pair follows them.)
    _judge_arena(rater, second.name, ARENA_OPEN_TASKS + GATE_LOOK_EVERY, on_commit)

    assert [v.pk for v in decide_promotions()] == [second.pk]
    second.refresh_from_db()
    assert second.promotion == Promotion.PROMOTED
    detail = second.promotion_detail
    assert detail["comparisons"] >= GATE_LOOK_EVERY
    assert detail["wins"] == detail["comparisons"]
    assert detail["low"] > 0.5
    assert current_policy(campaign) == second
    generation = TrainingRun.objects.get(pk=detail["generation_run_id"])
    assert generation.parent_version == second
    before = RankingTask.objects.filter(campaign=campaign).count()
    assert _run_queued(limit=1) == ["generate"]
    new_answers = Response.objects.filter(prompt__campaign=campaign, generator=second.name)
    assert new_answers.count() == 4  # 2 prompts, K = 2: the promoted policy wrote them
    assert RankingTask.objects.filter(campaign=campaign).count() == before + 2


@pytest.mark.slow
def test_the_gate_holds_back_a_worse_policy_and_promotes_a_better_one(
    tiny_smollm2: None,
    tmp_path: Path,
    settings: Any,
    client_for: Any,
    django_capture_on_commit_callbacks: Any,
) -> None:
    settings.TRAINING_ARTIFACTS_DIR = tmp_path / "artifacts"
    settings.TRAINING_POLL_S = 0.2
    campaign = make_campaign(responses_per_task=2, overlap=2)
    arena = make_campaign(is_arena=True, judgment_mode="pairwise", responses_per_task=2, overlap=1)
    _import(arena, [{"prompt": f"Tell me about tides ({i})"} for i in range(3)], "arena.jsonl")
    rater = client_for(Role.ANNOTATOR)
    make_pool(members=[rater.user], campaigns=[arena])
    _preferences(campaign, 0)
    _gated_schedule(campaign, arena)

    held = _round_one_is_held_back(campaign, arena, rater, django_capture_on_commit_callbacks)
    _preferences(campaign, 100)  # enough new judgments for the schedule to fire again
    _round_two_is_promoted(campaign, rater, django_capture_on_commit_callbacks, held)


def test_a_gate_whose_arena_answers_failed_holds_the_version_back() -> None:
    campaign = make_campaign()
    arena = make_campaign(is_arena=True, judgment_mode="pairwise", responses_per_task=2)
    failed = TrainingRun.objects.create(kind="arena", campaign=arena, status=RunStatus.FAILED)
    version = ModelVersion.objects.create(
        name="ppo-run-x",
        kind="policy",
        base="smollm2",
        artifact_path="/nowhere",
        campaign=campaign,
        promotion=Promotion.PENDING,
        promotion_detail={
            "arena_campaign_id": arena.pk,
            "arena_run_id": failed.pk,
            "rival": "base:smollm2",
            "max_comparisons": 50,
        },
    )
    ungated = ModelVersion.objects.create(
        name="older", kind="policy", base="smollm2", artifact_path="/x", campaign=campaign
    )
    ModelVersion.objects.filter(pk=ungated.pk).update(created_at=timezone.now().replace(year=2020))

    assert current_policy(campaign) == ungated  # the pending version is newer, not current
    assert [v.pk for v in decide_promotions()] == [version.pk]
    version.refresh_from_db()
    assert version.promotion == Promotion.HELD
    assert "arena run did not succeed" in version.promotion_detail["reason"]
    assert current_policy(campaign) == ungated


def test_a_schedule_gate_names_an_arena_and_a_positive_budget(ml: Any) -> None:
    campaign, ranked = make_campaign(), make_campaign()
    arena = make_campaign(is_arena=True, judgment_mode="pairwise", responses_per_task=2)
    base = {"campaign_id": campaign.pk, "every_n_judgments": 5}

    refused = [
        ml.post(SCHEDULES, {**base, "arena_campaign_id": ranked.pk}, format="json"),
        ml.post(SCHEDULES, {**base, "arena_campaign_id": arena.pk, "gate_max_comparisons": 5}),
    ]
    assert [r.status_code for r in refused] == [400, 400]
    assert refused[0].json()["errors"]["arena_campaign_id"] == [
        f"Campaign {ranked.pk} is not an arena campaign."
    ]
    assert list(refused[1].json()["errors"]) == ["gate_max_comparisons"]
    assert not TrainingSchedule.objects.exists()

    body = {**base, "arena_campaign_id": arena.pk, "gate_max_comparisons": 40}
    created = ml.post(SCHEDULES, body, format="json")
    assert created.status_code == 201, created.json()
    assert created.json()["arena_campaign"] == {"id": arena.pk, "name": arena.name}
    assert created.json()["gate_max_comparisons"] == 40
    schedule_id = created.json()["id"]
    off = ml.patch(f"{SCHEDULES}{schedule_id}/", {"arena_campaign_id": None}, format="json")
    assert off.status_code == 200
    assert off.json()["arena_campaign"] is None


def test_arena_answers_go_to_an_arena_campaign(ml: Any) -> None:
    ranked = make_campaign()
    arena = make_campaign(is_arena=True, judgment_mode="pairwise", responses_per_task=2)

    refused = ml.post(RUNS, {"kind": "arena", "campaign_id": ranked.pk}, format="json")
    started = ml.post(RUNS, {"kind": "arena", "campaign_id": arena.pk}, format="json")

    assert refused.status_code == 400
    assert refused.json()["errors"]["campaign_id"] == [
        "Arena answers go to an arena campaign: name one."
    ]
    assert started.status_code == 201, started.json()
    run = TrainingRun.objects.get(pk=started.json()["id"])
    assert (run.kind, run.campaign, run.config["prompts"]) == ("arena", arena, 50)


def _gate_on_simulated_people(win_probability: float, seed: int, budget: int = 100) -> str:
    """The gate's decision when people prefer the new policy with this probability, looked at
    after every comparison (as a busy beat would)."""
    rng = np.random.default_rng(seed)
    outcomes = (rng.random(budget) < win_probability).astype(float)
    detail: dict[str, Any] = {"max_comparisons": budget, "rival": "parent"}
    for n in range(1, budget + 1):
        verdict = _verdict(detail | _figures(detail, outcomes[:n]), None)
        if verdict is not None:
            return verdict[0]
    return "waiting"


def test_the_gate_seldom_promotes_an_equal_policy_however_often_it_looks() -> None:
    equal = [_gate_on_simulated_people(0.5, seed) for seed in range(400)]
    better = [_gate_on_simulated_people(0.75, seed) for seed in range(200)]

    assert equal.count(Promotion.PROMOTED) / len(equal) <= 0.04  # designed for 2.5 %
    assert "waiting" not in equal  # the budget always ends the gate
    assert better.count(Promotion.PROMOTED) / len(better) >= 0.9


def test_a_schedule_waits_while_its_policy_waits_on_the_gate() -> None:
    campaign = make_campaign()
    arena = make_campaign(is_arena=True, judgment_mode="pairwise", responses_per_task=2)
    schedule = TrainingSchedule.objects.create(
        campaign=campaign, every_n_judgments=1, arena_campaign=arena, judgments_at_last_fire=0
    )
    finished = TrainingRun.objects.create(
        kind="ppo", status=RunStatus.SUCCEEDED, campaign=campaign, schedule=schedule
    )
    version = ModelVersion.objects.create(
        name="ppo-run-waiting",
        kind="policy",
        base="smollm2",
        artifact_path="/x",
        campaign=campaign,
        produced_by=finished,
        promotion=Promotion.PENDING,
    )
    _import(campaign, [{"prompt": "Hi", "chosen": "Hello!", "rejected": "No."}], "one.jsonl")

    fire_due_schedules(now=timezone.now())  # a judgment came, but the gate waits
    assert TrainingSchedule.objects.get(pk=schedule.pk).last_fired_at is None

    # A version registered pending whose gate never opened is held, and the beat goes on.
    assert [v.pk for v in decide_promotions()] == [version.pk]
    version.refresh_from_db()
    assert version.promotion == Promotion.HELD
    assert version.promotion_detail["reason"] == "no arena comparison was ever set up"
    # The chain goes on (the current policy generates); once that is done, the next round.
    generation = TrainingRun.objects.get(pk=version.promotion_detail["generation_run_id"])
    assert (generation.kind, generation.schedule) == ("generate", schedule)
    TrainingRun.objects.filter(pk=generation.pk).update(status=RunStatus.SUCCEEDED)
    fire_due_schedules(now=timezone.now())
    assert TrainingSchedule.objects.get(pk=schedule.pk).last_fired_at is not None


def test_runs_and_schedules_that_would_mix_an_arena_up_are_refused(ml: Any) -> None:
    arena = make_campaign(is_arena=True, judgment_mode="pairwise", responses_per_task=2)
    policy = ModelVersion.objects.create(name="p", kind="policy", base="s", artifact_path="/p")

    generate = ml.post(RUNS, {"kind": "generate", "campaign_id": arena.pk}, format="json")
    same = {"kind": "arena", "campaign_id": arena.pk}
    same |= {"parent_version_id": policy.pk, "compare_version_id": policy.pk}
    rival = ml.post(RUNS, same, format="json")
    schedule = ml.post(SCHEDULES, {"campaign_id": arena.pk, "every_n_judgments": 5})

    assert [r.status_code for r in (generate, rival, schedule)] == [400, 400, 400]
    assert "arena-answers run" in generate.json()["errors"]["campaign_id"][0]
    assert rival.json()["errors"]["compare_version_id"] == ["The rival must be another policy."]
    assert "ranking campaign" in schedule.json()["errors"]["campaign_id"][0]
    assert not TrainingRun.objects.exists()
