"""The Ray backend against a real local Ray head (CPU): with TRAINING_BACKEND=ray a Celery
worker hands the stage to the cluster as a Ray job and streams the run folder as for a local
stage. A reward run ends with its metrics and version; a run cancelled mid-way stops its job;
`kill -9` of the Celery worker leaves the job running, and the next attempt follows that job
instead of submitting a second one; a stage over two Ray "nodes" (two torchruns rendezvousing
through the job's launcher; both on this one machine) gives the one-process result."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from django.utils import timezone

from tests.training.celery_worker import Worker, wait_for, worker_environment
from tests.training.ray_head import RayHead, processes_mentioning
from tests.training.test_worker_celery import RUNS, engineer, import_pairs, reward_run_body
from tests.training.test_worker_processes import (
    LOSS_REL,
    assert_same_weights,
    campaign_with_pairs,
    pairs_request,
)
from training.models import ModelVersion, RunMetric, TrainingRun
from training.services import create_run
from training.worker.job import execute_run
from training.worker.ray_backend import job_id
from training.worker.reconcile import reconcile_stale_runs

pytest.importorskip("ray", reason="the Ray backend needs ray: pip install -e .[train]")

pytestmark = [pytest.mark.slow, pytest.mark.postgres]


@pytest.fixture(scope="module")
def ray_head() -> Iterator[RayHead]:
    head = RayHead(cpus=2)
    try:
        head.wait_ready()
        yield head
    finally:
        head.stop()


@pytest.fixture
def on_ray(ray_head: RayHead, settings: Any) -> RayHead:
    settings.TRAINING_BACKEND = "ray"
    settings.RAY_ADDRESS = ray_head.address
    settings.TRAINING_POLL_S = 0.2
    return ray_head


@pytest.fixture
def start_ray_worker(
    on_ray: RayHead, queue: str, artifacts: Path, tmp_path: Path
) -> Iterator[Callable[[], Worker]]:
    started: list[Worker] = []

    def start() -> Worker:
        env = worker_environment(artifacts, TRAINING_BACKEND="ray", RAY_ADDRESS=on_ray.address)
        worker = Worker(queue, env, tmp_path / f"worker-{len(started) + 1}.log")
        started.append(worker)
        return worker

    yield start
    for worker in started:
        worker.stop()


def jobs_of(head: RayHead, run: TrainingRun) -> dict[str, str]:
    """This run's jobs on the cluster: submission id -> status."""
    prefix = job_id(run.pk, run.created_at, 0).removesuffix("0")
    found = {str(row["submission_id"]): str(row["status"]) for row in head.jobs()}
    return {name: status for name, status in found.items() if name.startswith(prefix)}


def start_reward_run(tiny_model: Path, epochs: float) -> TrainingRun:
    """A reward run through the API on 24 pairs, one pair a step."""
    body = reward_run_body(import_pairs(24), tiny_model)
    body["hyperparameters"]["epochs"] = epochs
    created = engineer().post(RUNS, body, format="json")
    assert created.status_code == 201, created.json()
    return TrainingRun.objects.get(pk=created.json()["id"])


def wait_for_steps(run: TrainingRun, steps: int, worker: Worker) -> None:
    def stepped() -> bool:
        run.refresh_from_db()
        assert not run.is_finished, (run.status, run.error, run.log_tail)
        return run.step >= steps

    wait_for(stepped, 240, f"step {steps}", worker)


def wait_until_finished(run: TrainingRun, worker: Worker) -> None:
    def finished() -> bool:
        run.refresh_from_db()
        return run.is_finished

    wait_for(finished, 300, "the run to end", worker)


def progress_points(run: TrainingRun) -> list[tuple[str, int]]:
    """(event, step) of each progress line the job wrote."""
    path = Path(run.artifact_dir) / "progress.jsonl"
    rows = [json.loads(line) for line in path.read_text().splitlines()]
    return [(row["event"], row["step"]) for row in rows]


@pytest.mark.django_db
def test_an_unreachable_or_missing_ray_address_fails_the_run_with_a_clear_error(
    settings: Any, tiny_model: Path, artifacts: Path
) -> None:
    settings.TRAINING_BACKEND = "ray"
    settings.RAY_UNREACHABLE_GRACE_S = 4  # retried for this long first (120 s by default)
    campaign = campaign_with_pairs(4)
    request = pairs_request("reward", tiny_model, campaign, batch_size=2, epochs=1.0)
    for address, expected in [
        ("http://127.0.0.1:9", "Cannot reach the Ray cluster at http://127.0.0.1:9"),
        ("", "RAY_ADDRESS is not set"),
    ]:
        settings.RAY_ADDRESS = address
        run = create_run(request=request, actor=None)
        assert execute_run(run.pk) == "failed"
        run.refresh_from_db()
        assert run.status == "failed"
        assert expected in run.error
        assert "Traceback" not in run.error
        assert not ModelVersion.objects.filter(produced_by=run).exists()


@pytest.mark.redis
@pytest.mark.django_db(transaction=True)
def test_a_reward_run_on_ray_streams_metrics_and_registers_a_version(
    start_ray_worker: Callable[[], Worker], tiny_model: Path, on_ray: RayHead
) -> None:
    worker = start_ray_worker()
    run = start_reward_run(tiny_model, epochs=2.0)
    metrics_while_running = 0

    def finished() -> bool:
        nonlocal metrics_while_running
        run.refresh_from_db()
        if run.status == "running":
            metrics_while_running = max(metrics_while_running, run.metrics.count())
        return run.is_finished

    wait_for(finished, 300, "the reward run to finish", worker)
    assert run.status == "succeeded", (run.error, run.log_tail)
    assert metrics_while_running > 0, "no metric was stored while the job ran"
    assert (run.attempts, run.progress, run.step) == (1, 1.0, run.total_steps)
    assert {"train/loss", "validation/accuracy"} <= set(
        RunMetric.objects.filter(run=run).values_list("name", flat=True)
    )
    assert jobs_of(on_ray, run) == {job_id(run.pk, run.created_at, 1): "SUCCEEDED"}
    version = ModelVersion.objects.get(produced_by=run)
    assert (Path(version.artifact_path) / "config.json").is_file()
    log = (Path(run.artifact_dir) / "pipeline.log").read_text()
    assert f"Ray job {job_id(run.pk, run.created_at, 1)} submitted" in log
    assert "validation_accuracy" in run.log_tail  # the log streamed as for a local stage


@pytest.mark.redis
@pytest.mark.django_db(transaction=True)
def test_cancelling_a_ray_backed_run_stops_its_job(
    start_ray_worker: Callable[[], Worker], tiny_model: Path, on_ray: RayHead
) -> None:
    worker = start_ray_worker()
    run = start_reward_run(tiny_model, epochs=30.0)
    wait_for_steps(run, 2, worker)

    reply = engineer().post(f"{RUNS}{run.pk}/cancel/")
    assert reply.status_code in (200, 202), reply.json()
    wait_until_finished(run, worker)

    assert run.status == "cancelled", (run.error, run.log_tail)
    assert jobs_of(on_ray, run) == {job_id(run.pk, run.created_at, 1): "STOPPED"}
    wait_for(lambda: not processes_mentioning(run.artifact_dir), 30, "the job to end", worker)
    assert not ModelVersion.objects.filter(produced_by=run).exists()


@pytest.mark.redis
@pytest.mark.django_db(transaction=True)
def test_kill_9_of_the_celery_worker_leaves_the_job_running_and_the_retry_follows_it(
    start_ray_worker: Callable[[], Worker], tiny_model: Path, on_ray: RayHead, settings: Any
) -> None:
    first = start_ray_worker()
    run = start_reward_run(tiny_model, epochs=4.0)
    wait_for_steps(run, 2, first)
    first.kill9()
    submitted = job_id(run.pk, run.created_at, 1)
    # The job does not depend on the Celery worker that submitted it.
    assert jobs_of(on_ray, run) == {submitted: "RUNNING"}

    second = start_ray_worker()
    settings.TRAINING_HEARTBEAT_STALE_S = 1
    time.sleep(1.5)
    assert reconcile_stale_runs(now=timezone.now()) == 1
    wait_until_finished(run, second)

    assert run.status == "succeeded", (run.error, run.log_tail)
    assert run.attempts == 2
    # One job, run once: every step once, in order; one version.
    assert jobs_of(on_ray, run) == {submitted: "SUCCEEDED"}
    # (a second run of the stage would start again at step 1)
    train = [step for event, step in progress_points(run) if event == "train"]
    assert train == sorted(train)
    assert (train.count(1), train[-1]) == (1, run.total_steps)
    log = (Path(run.artifact_dir) / "pipeline.log").read_text()
    assert log.count("submitted to") == 1
    assert f"following Ray job {submitted} (running)" in log
    assert ModelVersion.objects.filter(produced_by=run).count() == 1


@pytest.mark.django_db
def test_a_reward_stage_over_two_ray_nodes_gives_the_one_process_result(
    on_ray: RayHead, settings: Any, tiny_model: Path, artifacts: Path
) -> None:
    """Two node launches (each a torchrun with --nnodes 2) placed by the job on this one-node
    cluster: the rendezvous and the split are those of two machines. (20 pairs leave full
    batches of 4 for training: a short last batch is padded by repeating pairs on 2 processes.)"""
    campaign = campaign_with_pairs(20)
    request = pairs_request(
        "reward", tiny_model, campaign, epochs=1.0, batch_size=4, max_length=128, learning_rate=1e-3
    )
    settings.TRAINING_BACKEND = "local"
    one = create_run(request=request, actor=None)
    assert execute_run(one.pk) == "succeeded"
    settings.TRAINING_BACKEND, settings.RAY_TRAINING_NODES = "ray", 2
    two = create_run(request=request, actor=None)
    assert execute_run(two.pk) == "succeeded", TrainingRun.objects.get(pk=two.pk).log_tail
    one.refresh_from_db()
    two.refresh_from_db()
    assert (one.result["processes"], two.result["processes"]) == (1, 2)
    assert two.result["train_loss"] == pytest.approx(one.result["train_loss"], rel=LOSS_REL)
    assert_same_weights(one, two)


@pytest.mark.redis
@pytest.mark.django_db(transaction=True)
def test_a_run_cancelled_while_no_worker_follows_it_has_its_job_stopped_by_the_reconciler(
    start_ray_worker: Callable[[], Worker], tiny_model: Path, on_ray: RayHead, settings: Any
) -> None:
    worker = start_ray_worker()
    run = start_reward_run(tiny_model, epochs=30.0)
    wait_for_steps(run, 2, worker)
    worker.kill9()
    submitted = job_id(run.pk, run.created_at, 1)
    reply = engineer().post(f"{RUNS}{run.pk}/cancel/")
    assert reply.status_code in (200, 202), reply.json()

    settings.TRAINING_HEARTBEAT_STALE_S = 1
    time.sleep(1.5)
    reconcile_stale_runs(now=timezone.now())
    run.refresh_from_db()
    assert run.status == "cancelled"
    stopped = lambda: jobs_of(on_ray, run) == {submitted: "STOPPED"}  # noqa: E731
    wait_for(stopped, 60, "the reconciler to stop the job", worker)
    wait_for(lambda: not processes_mentioning(run.artifact_dir), 30, "the job to end", worker)


@pytest.mark.redis
@pytest.mark.django_db(transaction=True)
def test_a_job_waiting_for_resources_says_so_and_can_be_cancelled(
    on_ray: RayHead, queue: str, artifacts: Path, tmp_path: Path, tiny_model: Path
) -> None:
    """The run asks for more CPUs than the cluster has: the job waits for room, the run's log
    says so, and cancelling it stops the job (a job stopped while still pending would not
    stop: the job's own driver asks for no resources, so it always starts)."""
    env = worker_environment(
        artifacts, TRAINING_BACKEND="ray", RAY_ADDRESS=on_ray.address, RAY_NODE_CPUS="64"
    )
    worker = Worker(queue, env, tmp_path / "worker.log")
    try:
        run = start_reward_run(tiny_model, epochs=1.0)

        def waiting() -> bool:
            run.refresh_from_db()
            return "Ray: waiting for room on the cluster for 1 x {'CPU': 64.0}" in run.log_tail

        wait_for(waiting, 120, "the waiting job's message", worker)
        assert engineer().post(f"{RUNS}{run.pk}/cancel/").status_code in (200, 202)
        wait_until_finished(run, worker)
        assert run.status == "cancelled"
        assert jobs_of(on_ray, run) == {job_id(run.pk, run.created_at, 1): "STOPPED"}
    finally:
        worker.stop()


@pytest.mark.redis
@pytest.mark.django_db(transaction=True)
def test_a_requeued_run_cancelled_in_the_queue_has_its_old_job_stopped(
    start_ray_worker: Callable[[], Worker], tiny_model: Path, on_ray: RayHead, settings: Any
) -> None:
    worker = start_ray_worker()
    run = start_reward_run(tiny_model, epochs=30.0)
    wait_for_steps(run, 2, worker)
    worker.kill9()
    settings.TRAINING_HEARTBEAT_STALE_S = 1
    time.sleep(1.5)
    assert reconcile_stale_runs(now=timezone.now()) == 1  # queued again; no worker takes it
    reply = engineer().post(f"{RUNS}{run.pk}/cancel/")
    assert reply.status_code in (200, 202), reply.json()
    run.refresh_from_db()
    assert run.status == "cancelled"
    stopped = lambda: jobs_of(on_ray, run) == {job_id(run.pk, run.created_at, 1): "STOPPED"}  # noqa: E731
    wait_for(stopped, 60, "the old job to be stopped", worker)


@pytest.mark.django_db
def test_a_failing_job_is_the_runs_one_line_error(
    on_ray: RayHead, settings: Any, tiny_model: Path, artifacts: Path
) -> None:
    """The stage's input error (exit 2) reaches the run as on the local backend."""
    request = pairs_request(
        "reward", tiny_model, campaign_with_pairs(8), batch_size=2, max_length=16
    )
    run = create_run(request=request, actor=None)
    assert execute_run(run.pk) == "failed"
    run.refresh_from_db()
    assert run.error.startswith("pair 1 is "), run.error
    assert run.error.endswith("more than the context of 16: shorten it or raise --max-length")
    assert jobs_of(on_ray, run) == {job_id(run.pk, run.created_at, 1): "FAILED"}
