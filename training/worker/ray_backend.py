"""TRAINING_BACKEND=ray: the gpu-queue task hands its stage to a Ray cluster as a Ray job
(RAY_ADDRESS, the dashboard's address) instead of starting a child process, then streams the
run folder exactly as for a local stage. The folder is on the artifacts filesystem that the
worker and every Ray node share: the job writes its progress, log and models there.

One job per run, whatever happens to the Celery side: the job's submission id is the run id
and the attempt that submitted it, and every attempt first looks for its predecessors' jobs.
A job still running (its Celery worker was killed, the message was delivered twice) is
followed, not submitted again; one that finished well is recorded as this attempt's outcome.
"""

from __future__ import annotations

import logging
import shlex
import time
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import TypeVar

from django.conf import settings
from django.utils import timezone

from training.models import RunStatus, TrainingRun
from training.worker.ray_jobs import JobInfo, RayJobs, RayRefused, RayUnreachable
from training.worker.runner import (
    MULTI_PROCESS_STAGES,
    PollCallback,
    PollReport,
    ProgressReader,
    StageOutcome,
    failure_message,
    log_tail,
    pipeline_python,
)

logger = logging.getLogger(__name__)

STOP_WAIT_S = 60.0
T = TypeVar("T")


def job_id(run_id: int, created_at: datetime, attempt: int) -> str:
    """The run's id and creation time (two databases may share a cluster), and the attempt."""
    created = int(created_at.timestamp() * 1_000_000)
    return f"rlhf-run-{run_id}-{created:x}-attempt-{attempt}"


def ray_jobs() -> RayJobs:
    if not settings.RAY_ADDRESS:
        raise RayRefused(
            "TRAINING_BACKEND=ray but RAY_ADDRESS is not set: give the worker the Ray "
            "dashboard's address (http://HEAD:8265)."
        )
    return RayJobs(settings.RAY_ADDRESS, token=settings.RAY_AUTH_TOKEN)


def find_job(jobs: RayJobs, run: TrainingRun) -> JobInfo | None:
    """The newest job of this run's attempts that is still running or ended well."""
    for attempt in range(run.attempts, 0, -1):
        info = jobs.info(job_id(run.pk, run.created_at, attempt))
        if info is not None and (info.alive or info.status == "SUCCEEDED"):
            return info
    return None


def job_command(
    stage: str, args: list[str], log_path: Path, *, torchrun: bool = False
) -> list[str]:
    """The job runs the node launcher, which asks the cluster for the stage's resources (a
    placement group: one bundle per node, RAY_NODE_CPUS and RAY_NODE_GPUS each) and runs the
    stage there: one process, or one torchrun per node for RAY_TRAINING_NODES nodes times
    TRAINING_PROCESSES. The job's own driver asks for nothing, so it starts at once, says in
    the run's log when the cluster has no room yet, and a cancel can stop it while it waits."""
    nodes, processes = settings.RAY_TRAINING_NODES, settings.TRAINING_PROCESSES
    if stage not in MULTI_PROCESS_STAGES:
        nodes, processes = 1, 1
    command = [pipeline_python(), "-m", "training.pipeline.ray_nodes", f"--nodes={nodes}"]
    command += [f"--processes={processes}", f"--cpus={settings.RAY_NODE_CPUS}"]
    command += [f"--gpus={settings.RAY_NODE_GPUS}", f"--log={log_path}"]
    command += [f"--wait-s={settings.RAY_PLACEMENT_WAIT_S}"]
    if torchrun and stage in MULTI_PROCESS_STAGES:  # DeepSpeed: torchrun even for one process
        command.append("--torchrun")
    return [*command, "--", stage, *args]


def _entrypoint(command: list[str], log_path: Path) -> str:
    """The job's shell line: from the project's folder (the same path in the worker image and
    on the nodes), its output appended to the run's own log."""
    root = shlex.quote(str(settings.BASE_DIR))
    return f"cd {root} && exec {shlex.join(command)} >> {shlex.quote(str(log_path))} 2>&1"


def _note(log_path: Path, text: str) -> None:
    with log_path.open("a", encoding="utf-8") as log:
        log.write(f"=== {text} ===\n")


def _submit(
    jobs: RayJobs, run: TrainingRun, stage: str, args: list[str], log: Path, env: dict[str, str]
) -> str:
    submission = job_id(run.pk, run.created_at, run.attempts)
    threads = max(1, int(settings.RAY_NODE_CPUS))
    jobs.submit(
        submission,
        _entrypoint(job_command(stage, args, log, torchrun=bool(env)), log),
        env_vars={
            "PYTHONUNBUFFERED": "1",
            "OMP_NUM_THREADS": str(threads),
            # The node launcher's Ray tasks import the project too.
            "PYTHONPATH": str(settings.BASE_DIR),
            **env,
        },
        metadata={"run_id": str(run.pk), "attempt": str(run.attempts), "kind": run.kind},
        # The launcher only waits for its nodes, which ask for the resources themselves.
        num_cpus=0,
        num_gpus=0,
    )
    _note(log, f"Ray job {submission} submitted to {jobs.address} at {timezone.now().isoformat()}")
    return submission


def _stop(jobs: RayJobs, submission: str) -> None:
    """Stop the job and wait (bounded) until the cluster says it has ended."""
    deadline = time.monotonic() + STOP_WAIT_S
    try:
        jobs.stop(submission)
        while time.monotonic() < deadline:
            info = jobs.info(submission)
            if info is None or not info.alive:
                return
            time.sleep(0.5)
    except (RayUnreachable, RayRefused):
        logger.exception("Could not stop Ray job %s", submission)


def _ended(info: JobInfo, log_path: Path) -> StageOutcome:
    if info.status == "SUCCEEDED":
        return StageOutcome(0)
    if info.status == "STOPPED":
        return StageOutcome(None, error=f"The Ray job {info.submission_id} was stopped on Ray.")
    tail, code = log_tail(log_path), info.exit_code
    if code is not None and code > 128:  # the launcher's 128 + N: the stage died of signal N
        code = 128 - code
    if code is not None and tail.strip():
        return StageOutcome(code, error=failure_message(code, tail))
    message = info.message.strip()[-2000:]
    return StageOutcome(None, error=f"The Ray job {info.submission_id} failed: {message}")


def _tail(log_path: Path, info: JobInfo | None) -> str:
    """The log's tail; while the job waits for the cluster, Ray's word on why (no resources)."""
    tail = log_tail(log_path)
    if info is not None and info.status == "PENDING" and info.message:
        tail += f"Ray: job {info.submission_id} is pending. {info.message}\n"
    return tail


def _patiently(call: Callable[[], T]) -> T:
    """`call`, retried while the cluster does not answer, for up to RAY_UNREACHABLE_GRACE_S
    (a head that blinks must not fail a run whose job may be running fine)."""
    deadline = time.monotonic() + settings.RAY_UNREACHABLE_GRACE_S
    while True:
        try:
            return call()
        except RayUnreachable:
            if time.monotonic() > deadline:
                raise
            time.sleep(2.0)


def _still_ours(run: TrainingRun) -> bool:
    """A heartbeat, on the condition that the row is still this worker's: a claim that took
    long enough for the reconciler to hand the run to another worker must not submit too."""
    mine = TrainingRun.objects.filter(pk=run.pk, status=RunStatus.RUNNING, worker=run.worker)
    return bool(mine.update(heartbeat_at=timezone.now()))


def _start(jobs: RayJobs, run: TrainingRun, stage: str, args: list[str], log: Path,
           env: dict[str, str]) -> str | None:  # fmt: skip
    """The submission id of the job this attempt follows; None when the row is no longer
    ours. A submission whose answer was lost is looked up before anything else is decided."""
    found = _patiently(lambda: find_job(jobs, run))
    if found is not None:
        _note(log, f"following Ray job {found.submission_id} ({found.status.lower()})")
        return found.submission_id
    if not _still_ours(run):
        return None
    try:
        return _submit(jobs, run, stage, args, log, env)
    except RayUnreachable:
        submission = job_id(run.pk, run.created_at, run.attempts)
        if _patiently(lambda: jobs.info(submission)) is None:
            raise
        _note(log, f"Ray job {submission} submitted (its answer was lost)")
        return submission


def run_stage_on_ray(
    run: TrainingRun,
    stage: str,
    args: list[str],
    *,
    out: Path,
    log_path: Path,
    on_poll: PollCallback,
    poll_s: float = 1.0,
    time_limit_s: float | None = None,
    env: dict[str, str] | None = None,
) -> StageOutcome:
    """Submit (or find again) the run's job and follow it to its end; stops it on cancel,
    the time limit or an error here, leaves it running when the row has been taken over by
    another worker (which follows the same job)."""
    try:
        jobs = ray_jobs()
        submission = _start(jobs, run, stage, args, log_path, env or {})
    except (RayUnreachable, RayRefused) as error:
        return StageOutcome(None, error=str(error))
    if submission is None:
        return StageOutcome(None, stopped="lost")
    try:
        return _follow(jobs, submission, out, log_path, on_poll, poll_s, time_limit_s)
    except Exception:  # a database error, say: the run fails, and so must its job
        _stop(jobs, submission)
        raise


def _follow(
    jobs: RayJobs,
    submission: str,
    out: Path,
    log_path: Path,
    on_poll: PollCallback,
    poll_s: float,
    time_limit_s: float | None,
) -> StageOutcome:
    reader = ProgressReader(out / "progress.jsonl")
    deadline = time.monotonic() + time_limit_s if time_limit_s else float("inf")
    silent_since: float | None = None
    info: JobInfo | None = None
    stopped = ""
    while True:
        try:
            info, silent_since = jobs.info(submission), None
        except (RayUnreachable, RayRefused) as error:  # a blink, or a dashboard under load
            silent_since = silent_since or time.monotonic()
            if time.monotonic() - silent_since > settings.RAY_UNREACHABLE_GRACE_S:
                grace = settings.RAY_UNREACHABLE_GRACE_S
                lost = f"{error} Lost for {grace:.0f} s while job {submission} ran; it may "
                return StageOutcome(None, error=lost + f"still run: `ray job stop {submission}`.")
        if silent_since is None and info is None:
            gone = f"The Ray job {submission} disappeared from the cluster (head restarted?)."
            return StageOutcome(None, error=gone)
        if info is not None and not info.alive:
            break
        stopped = on_poll(PollReport(reader.read_new(), _tail(log_path, info)))
        if not stopped and time.monotonic() > deadline:
            stopped = "time limit"
        if stopped:
            if stopped != "lost":  # a row taken over: its new worker follows the same job
                _stop(jobs, submission)
            break
        time.sleep(poll_s)
    on_poll(PollReport(reader.read_new(), log_tail(log_path)))
    if stopped or info is None:
        return StageOutcome(None, stopped=stopped or "lost")
    return _ended(info, log_path)


def stop_run_jobs(run_id: int, created_at: datetime, attempts: int) -> None:
    """For a run cancelled or given up while no worker followed it: stop whatever job its
    attempts left on the cluster (the beat's reconciler calls this)."""
    if settings.TRAINING_BACKEND != "ray" or not settings.RAY_ADDRESS:
        return
    jobs = ray_jobs()
    for attempt in range(1, attempts + 1):
        try:
            jobs.stop(job_id(run_id, created_at, attempt))
        except (RayUnreachable, RayRefused):
            logger.exception("Run %s: could not stop its Ray job", run_id)
