"""Training runs on a real Celery worker process (Redis broker, Postgres), with tiny random
models: a reward-model run started through the API streams its metrics and registers a
version; five identical triggers and two extra messages run it once; `kill -9` of the worker
during PPO takes the pipeline down with it, and after the reconciler re-queues the run a new
worker resumes it from its checkpoint."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from annotation.services.importing import import_file
from common.roles import Role
from tests.factories import make_campaign, make_task, make_user
from tests.training.celery_worker import Worker, wait_for, worker_environment
from training import dispatch
from training.models import ModelVersion, RunMetric, TrainingRun
from training.pipeline.resume_points import resume_point
from training.worker.reconcile import reconcile_stale_runs

RUNS = "/api/v1/training/runs/"
pytestmark = [
    pytest.mark.redis,
    pytest.mark.postgres,
    pytest.mark.slow,
    pytest.mark.django_db(transaction=True),
]


@pytest.fixture
def start_worker(queue: str, artifacts: Path, tmp_path: Path) -> Iterator[Callable[..., Worker]]:
    started: list[Worker] = []

    def start(processes: int = 1) -> Worker:
        env = worker_environment(artifacts, TRAINING_PROCESSES=str(processes))
        worker = Worker(queue, env, tmp_path / f"worker-{len(started) + 1}.log")
        started.append(worker)
        return worker

    yield start
    for worker in started:
        worker.stop()


def engineer() -> APIClient:
    client = APIClient()
    client.force_authenticate(user=make_user(role=Role.ML_ENGINEER))
    return client


def import_pairs(count: int) -> Any:
    campaign = make_campaign(responses_per_task=2, overlap=1)
    rows = [
        {
            "prompt": f"Greet me, please ({i})",
            "chosen": f"Hello there, friend {i}!",
            "rejected": "No.",
        }
        for i in range(count)
    ]
    data = "\n".join(json.dumps(row) for row in rows).encode()
    report = import_file(actor=None, campaign=campaign, data=data, filename="pairs.jsonl")
    assert report.is_ok, report.errors
    return campaign


def reward_run_body(campaign: Any, tiny_model: Path, **extra: Any) -> dict[str, Any]:
    return {
        "kind": "reward",
        "base": str(tiny_model),
        "dataset": {"mode": "all", "campaign_ids": [campaign.pk]},
        "hyperparameters": {"epochs": 2.0, "batch_size": 1, "max_length": 128},
        **extra,
    }


def test_a_reward_run_started_through_the_api_streams_metrics_and_registers_a_version(
    start_worker: Callable[[], Worker], tiny_model: Path, artifacts: Path
) -> None:
    worker = start_worker()
    campaign = import_pairs(24)

    created = engineer().post(RUNS, reward_run_body(campaign, tiny_model), format="json")
    assert created.status_code == 201, created.json()
    assert created.json()["status"] == "queued"
    run = TrainingRun.objects.get(pk=created.json()["id"])

    seen: set[str] = set()
    metrics_while_running = 0

    def finished() -> bool:
        nonlocal metrics_while_running
        run.refresh_from_db()
        seen.add(run.status)
        if run.status == "running":
            metrics_while_running = max(metrics_while_running, run.metrics.count())
        return run.is_finished

    wait_for(finished, 150, "the reward run to finish", worker)

    assert run.status == "succeeded", (run.error, run.log_tail)
    assert "running" in seen
    assert metrics_while_running > 0, "no metric was stored while the run was running"
    assert (run.attempts, run.progress, run.step) == (1, 1.0, run.total_steps)
    names = set(RunMetric.objects.filter(run=run).values_list("name", flat=True))
    assert {"train/loss", "train/accuracy", "validation/accuracy"} <= names
    version = ModelVersion.objects.get(produced_by=run)
    assert version.kind == "reward"
    assert version.snapshot_hash == run.snapshot_hash != ""
    assert version.artifact_path == str(artifacts / "runs" / str(run.pk) / "model")
    assert (Path(version.artifact_path) / "config.json").is_file()
    assert "validation_accuracy" in version.metrics
    assert run.result["train_pairs"] + run.result["validation_pairs"] == 24


def test_five_identical_triggers_and_a_twice_delivered_message_run_once(
    start_worker: Callable[[], Worker], tiny_model: Path, artifacts: Path, queue: str
) -> None:
    worker = start_worker()
    campaign = import_pairs(6)
    client = engineer()
    body = reward_run_body(campaign, tiny_model, idempotency_key="nightly-2026-11-22")
    body["hyperparameters"] = {"epochs": 1.0, "batch_size": 2, "max_length": 128}

    replies = [client.post(RUNS, body, format="json") for _ in range(5)]
    run_id = replies[0].json()["id"]
    # The same message twice more (what a redelivery looks like to the worker).
    dispatch.send_run(run_id)
    dispatch.send_run(run_id)

    assert [r.status_code for r in replies] == [201, 200, 200, 200, 200]
    assert {r.json()["id"] for r in replies} == {run_id}
    assert TrainingRun.objects.count() == 1
    run = TrainingRun.objects.get(pk=run_id)
    wait_for(lambda: worker.output().count("execute_run[") >= 6, 150, "3 messages", worker)
    run.refresh_from_db()
    assert run.status == "succeeded", (run.error, run.log_tail)
    assert run.attempts == 1
    assert ModelVersion.objects.filter(produced_by=run).count() == 1
    log = (artifacts / "runs" / str(run_id) / "pipeline.log").read_text()
    assert log.count("=== attempt") == 1
    output = worker.output()
    assert output.count("'succeeded'") == 1
    assert output.count("'not ours'") == 2


def pipeline_processes(folder: Path) -> list[int]:
    """Processes whose command line names the run folder (the pipeline stage)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes()
        except OSError:
            continue
        if str(folder).encode() in cmdline and b"training.pipeline" in cmdline:
            found.append(int(entry.name))
    return found


def progress_steps(folder: Path, *, after: float) -> list[int]:
    """The steps of the progress lines written after a moment (epoch seconds)."""
    lines = [json.loads(line) for line in (folder / "progress.jsonl").read_text().splitlines()]
    return [line["step"] for line in lines if line["time"] > after]


def start_ppo_run(tiny_model: Path) -> TrainingRun:
    """An 8-step PPO run through the API, checkpointing every 2 steps."""
    campaign = make_campaign()
    for _ in range(4):
        make_task(campaign, k=2)
    reward = ModelVersion.objects.create(
        name="tiny-rm", kind="reward", base=str(tiny_model), artifact_path=str(tiny_model)
    )
    hyperparameters = {
        "steps": 8,
        "batch_size": 2,
        "minibatch_size": 2,
        "ppo_epochs": 1,
        "max_new_tokens": 8,
        "checkpoint_every": 2,
    }
    created = engineer().post(
        RUNS,
        {
            "kind": "ppo",
            "base": str(tiny_model),
            "reward_version_id": reward.pk,
            "campaign_id": campaign.pk,
            "hyperparameters": hyperparameters,
        },
        format="json",
    )
    assert created.status_code == 201, created.json()
    return TrainingRun.objects.get(pk=created.json()["id"])


@pytest.mark.parametrize("processes", [1, 2])
def test_kill_9_of_the_worker_during_ppo_resumes_from_the_checkpoint(
    start_worker: Callable[..., Worker],
    tiny_model: Path,
    artifacts: Path,
    settings: Any,
    processes: int,
) -> None:
    """With 2 processes the worker starts torchrun, and torchrun the two ranks: all three die
    with the worker."""
    first = start_worker(processes)
    run = start_ppo_run(tiny_model)
    folder = artifacts / "runs" / str(run.pk)

    def checkpointed() -> bool:
        run.refresh_from_db()
        assert not run.is_finished, (run.status, run.error, run.log_tail)
        return bool(run.last_checkpoint)

    wait_for(checkpointed, 150, "a PPO checkpoint", first)
    first.kill9()
    # The stage dies with its worker (PR_SET_PDEATHSIG), so nothing trains behind our back.
    wait_for(lambda: not pipeline_processes(folder), 10, "the orphaned pipeline to die", first)
    # Every line after this moment is the second attempt's: a rank may still write a step
    # between the worker's death and its own (torchrun, then the ranks, die in turn).
    all_dead_at = time.time()
    checkpoint = resume_point(folder)
    assert checkpoint is not None
    resumed_from = int(checkpoint.name.removeprefix("step-"))
    run.refresh_from_db()
    assert (run.status, run.attempts) == ("running", 1)
    assert resumed_from < 8, "the run finished before the kill: make it longer"

    second = start_worker(processes)
    settings.TRAINING_HEARTBEAT_STALE_S = 1
    time.sleep(1.5)
    assert reconcile_stale_runs(now=timezone.now()) == 1
    wait_for(lambda: TrainingRun.objects.get(pk=run.pk).is_finished, 150, "the end", second)
    run.refresh_from_db()

    assert run.status == "succeeded", (run.error, run.log_tail)
    assert run.attempts == 2
    # The second process started at the checkpoint, not at step 1.
    assert progress_steps(folder, after=all_dead_at) == list(range(resumed_from + 1, 9))
    log = (folder / "pipeline.log").read_text()
    assert f"resuming from checkpoint step-{resumed_from:06d}" in log
    assert log.count("=== attempt") == 2
    version = ModelVersion.objects.get(produced_by=run)
    assert (version.kind, version.parent_id) == ("policy", None)
    assert run.result["steps"] == 8
    assert run.result["processes"] == processes
    assert ModelVersion.objects.filter(produced_by=run).count() == 1
