"""The closed loop on the worker's code path (in this process, the pipeline as a real
subprocess, tiny models standing in for SmolLM2): a schedule fires after N new judgments,
the reward run chains to PPO, PPO to generation, and the new policy's answers become open
ranking tasks in the campaign."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest
from django.utils import timezone

from annotation.models import RankingTask, Response, TaskStatus
from annotation.services.importing import import_file
from tests.factories import make_campaign, make_task
from training.models import ModelVersion, RunStatus, TrainingRun, TrainingSchedule
from training.pipeline.cli import build_parser
from training.services import fire_due_schedules
from training.worker.inputs import stage_command, stage_options
from training.worker.job import execute_run

pytestmark = [pytest.mark.slow, pytest.mark.django_db]


@pytest.fixture
def tiny_smollm2(tiny_model: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """`smollm2` (every schedule's base) resolves to the tiny model, in the pipeline too."""
    cache = tmp_path / "model-cache"
    shutil.copytree(tiny_model, cache / "smollm2-135m-instruct")
    monkeypatch.setenv("RLHF_MODEL_CACHE", str(cache))


def test_every_kinds_default_hyperparameters_are_valid_pipeline_options() -> None:
    from training.hyperparameters import defaults_for

    required = {
        "reward": ["--data", "d", "--out", "o"],
        "ppo": ["--reward", "r", "--prompts", "p", "--out", "o"],
        "grpo": ["--reward", "r", "--prompts", "p", "--out", "o"],
        "rloo": ["--reward", "r", "--prompts", "p", "--out", "o"],
        "dpo": ["--data", "d", "--out", "o"],
        "generate": ["--prompts", "p", "--out", "o"],
        "evaluate": ["--policy", "a", "--parent", "b", "--reward", "r", "--prompts", "p"],
        "judge": ["--data", "d", "--out", "o"],
    }
    parser = build_parser()
    for kind, inputs in required.items():
        stage = stage_command(kind)
        options = stage_options(kind, {**defaults_for(kind), "bf16": True})
        parsed = parser.parse_args([stage, *inputs, *options])
        assert parsed.bf16 is True, kind
    reward = {**defaults_for("reward"), "head_init": "probe"}
    parsed = parser.parse_args(["reward", *required["reward"], *stage_options("reward", reward)])
    assert parsed.head_init == "probe"


def test_a_schedule_fires_and_chains_reward_ppo_generation_into_new_tasks(
    tiny_smollm2: None, tmp_path: Path, settings: Any
) -> None:
    settings.TRAINING_ARTIFACTS_DIR = tmp_path / "artifacts"
    settings.TRAINING_POLL_S = 0.2
    campaign = make_campaign(responses_per_task=2, overlap=2)
    rows = [
        {"prompt": f"Greet me ({i})", "chosen": f"Hello, friend {i}!", "rejected": "No."}
        for i in range(12)
    ]
    data = "\n".join(json.dumps(row) for row in rows).encode()
    assert import_file(actor=None, campaign=campaign, data=data, filename="hh.jsonl").is_ok
    imported = set(RankingTask.objects.values_list("pk", flat=True))
    TrainingSchedule.objects.create(
        campaign=campaign,
        every_n_judgments=10,
        generate_prompts=3,
        responses_per_prompt=2,
        dataset={"mode": "all"},
        hyperparameters={
            "reward": {"epochs": 1.0, "batch_size": 4, "max_length": 128},
            "ppo": {"steps": 2, "batch_size": 2, "minibatch_size": 2, "max_new_tokens": 6},
            "generate": {"max_new_tokens": 6},
        },
    )

    fired = fire_due_schedules(now=timezone.now())
    assert [(run.kind, run.follow_up) for run in fired] == [("reward", ["ppo", "generate"])]
    kinds = []
    while (run := TrainingRun.objects.filter(status=RunStatus.QUEUED).first()) is not None:
        kinds.append(run.kind)
        assert execute_run(run.pk) == "succeeded", TrainingRun.objects.get(pk=run.pk)
        assert len(kinds) <= 3, kinds

    assert kinds == ["reward", "ppo", "generate"]
    reward, policy = (ModelVersion.objects.get(kind=kind) for kind in ("reward", "policy"))
    ppo_run = TrainingRun.objects.get(kind="ppo")
    assert (ppo_run.reward_version, policy.produced_by) == (reward, ppo_run)
    generated = set(Response.objects.filter(generator_version_id=policy.pk).values_list("pk"))
    new_tasks = RankingTask.objects.filter(campaign=campaign).exclude(pk__in=imported)
    assert new_tasks.count() == 3  # 3 prompts, K = 2 answers each
    assert {(r,) for task in new_tasks for r in task.response_ids} == generated
    assert len(generated) == 6
    assert set(new_tasks.values_list("status", flat=True)) == {TaskStatus.OPEN}
    generate_run = TrainingRun.objects.get(kind="generate")
    assert generate_run.result["tasks_created"] == 3


def test_an_evaluation_run_stores_win_rate_and_replies_side_by_side(
    tiny_model: Path, tmp_path: Path, settings: Any
) -> None:
    from training.hyperparameters import defaults_for

    settings.TRAINING_ARTIFACTS_DIR = tmp_path / "artifacts"
    campaign = make_campaign()
    for _ in range(3):
        make_task(campaign, k=2)
    path = str(tiny_model)
    a, b = (
        ModelVersion.objects.create(name=n, kind="policy", base=path, artifact_path=path)
        for n in ("a", "b")
    )
    reward = ModelVersion.objects.create(name="r", kind="reward", base=path, artifact_path=path)
    run = TrainingRun.objects.create(
        kind="evaluate",
        parent_version=a,
        compare_version=b,
        reward_version=reward,
        campaign=campaign,
        config={**defaults_for("evaluate"), "max_new_tokens": 4},
    )

    assert execute_run(run.pk) == "succeeded"

    run.refresh_from_db()
    assert run.result["n"] == 3
    assert run.result["win_rate"] == 0.5  # the same model and seed: every prompt ties
    assert [set(s) for s in run.result["samples"]] == [
        {"prompt", "a", "b", "reward_a", "reward_b"}
    ] * 3
    assert [s["prompt"] for s in run.result["samples"]] == [
        p.conversation[-1]["content"] for p in campaign.prompts.order_by("id")
    ]
    assert not ModelVersion.objects.filter(produced_by=run).exists()
