"""The whole job for one `execute_run` message: claim the run, write its inputs, run its
stage while streaming progress into the row, then record the outcome."""

from __future__ import annotations

import os
import time
from pathlib import Path

from django.conf import settings
from django.utils import timezone

from training.models import REWARD_DRIVEN_KINDS, RunStatus, TrainingRun
from training.pipeline.resume_points import resume_point
from training.pipeline.strategies import launch_environment
from training.worker.claim import claim_run, worker_identity
from training.worker.inputs import (
    RunInputError,
    check_process_split,
    check_strategy,
    prepare_inputs,
    stage_arguments,
    stage_command,
)
from training.worker.outcome import describe_error, finish_attempt, record_crash, record_outcome
from training.worker.ray_backend import run_stage_on_ray
from training.worker.runner import StageOutcome, run_stage
from training.worker.streaming import RunStream


def run_folder(run_id: int) -> Path:
    return Path(settings.TRAINING_ARTIFACTS_DIR) / "runs" / str(run_id)


def _start_log(run: TrainingRun, folder: Path, log_path: Path) -> None:
    resume = resume_point(folder) if run.kind in REWARD_DRIVEN_KINDS else None
    lines = [f"=== attempt {run.attempts} on {run.worker} at {timezone.now().isoformat()} ==="]
    if resume is not None:
        lines.append(f"resuming from checkpoint {resume.name}")
    folder.mkdir(parents=True, exist_ok=True)
    with log_path.open("a", encoding="utf-8") as log:
        log.write("\n".join(lines) + "\n")


def execute_run(run_id: int, *, worker: str | None = None) -> str:
    """Claim, run and record one training run; returns what happened, for the task's log."""
    worker = worker or worker_identity()
    run = claim_run(run_id, worker=worker, now=timezone.now())
    if run is None:
        return "not ours"
    folder = run_folder(run.pk)
    log_path = folder / "pipeline.log"
    TrainingRun.objects.filter(pk=run.pk).update(artifact_dir=str(folder))
    try:
        _start_log(run, folder, log_path)
        check_process_split(run)
        check_strategy(run)
        prepare_inputs(run, folder)
        arguments = stage_arguments(run, folder)
    except Exception as error:  # a bad run must end failed, not be retried as "lost"
        message = str(error) if isinstance(error, RunInputError) else describe_error(error)
        error_text = f"Preparing inputs: {message}"
        finish_attempt(run.pk, worker, status=RunStatus.FAILED, error=error_text)
        return "failed"
    stream = RunStream(run.pk, worker, folder, run.kind, started=time.time())
    try:
        outcome = _run(run, arguments, folder, stream)
    except Exception as error:
        record_crash(run.pk, worker, error)
        raise
    return record_outcome(run, worker, folder, outcome)


def _run(run: TrainingRun, arguments: list[str], folder: Path, stream: RunStream) -> StageOutcome:
    """The stage on this machine, or as a Ray job (TRAINING_BACKEND=ray), with what its
    strategy adds to the environment (training/pipeline/strategies.py)."""
    stage, log_path = stage_command(run.kind), folder / "pipeline.log"
    poll_s, limit_s = settings.TRAINING_POLL_S, settings.CELERY_LONGEST_TASK_S
    launch = launch_environment(str(run.config.get("strategy", "ddp")))
    if settings.TRAINING_BACKEND == "ray":
        return run_stage_on_ray(
            run, stage, arguments, out=folder, log_path=log_path, on_poll=stream,
            poll_s=poll_s, time_limit_s=limit_s, env=launch,
        )  # fmt: skip
    return run_stage(
        stage, arguments, out=folder, log_path=log_path, on_poll=stream,
        poll_s=poll_s, time_limit_s=limit_s, env={**os.environ, **launch} if launch else None,
        launcher=bool(launch),  # DeepSpeed wants torchrun's process group, even for one
    )  # fmt: skip
