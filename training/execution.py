"""What a GPU worker does with a training run: claim the row, write the run's inputs, run the
pipeline stage as a subprocess while streaming its progress into the row, then record the
outcome (model versions, generated tasks, the next run of a schedule's chain).

The row is the truth. A claim is one conditional UPDATE, so a duplicate message runs nothing;
a run whose worker vanished (no heartbeat) is re-queued by `reconcile_stale_runs`, and the
next attempt resumes from the stage's last checkpoint (PPO keeps them in the run folder).
"""

from __future__ import annotations

import json
import logging
import os
import socket
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import partial
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import DatabaseError, transaction
from django.db.models import DateTimeField, F, Q, Value
from django.db.models.functions import Coalesce
from django.utils import timezone

from annotation.selectors import campaigns, snapshots
from training.models import ModelVersion, RunKind, RunMetric, RunStatus, TrainingRun, VersionKind
from training.runner import PollReport, metric_points, read_json, run_stage

logger = logging.getLogger(__name__)

STAGES: dict[str, str] = {
    RunKind.REWARD: "reward",
    RunKind.PPO: "ppo",
    RunKind.DPO: "dpo",
    RunKind.GENERATE: "generate",
    RunKind.EVALUATE: "evaluate-policy",
}
# Options the worker sets itself (files and models); a config key of the same name is the
# worker's own setting (`prompts` is how many prompts to write), never passed through.
INPUT_OPTIONS = frozenset({"data", "prompts", "out", "policy", "reward", "parent", "base"})
# A queued run nobody claimed for this long has probably lost its message: send another.
QUEUED_NUDGE_AFTER = timedelta(minutes=5)


class RunInputError(Exception):
    """The run cannot start as configured (a missing model version, no prompts, ...)."""


def worker_identity() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def run_folder(run_id: int) -> Path:
    return Path(settings.TRAINING_ARTIFACTS_DIR) / "runs" / str(run_id)


# -- claiming ---------------------------------------------------------------------------------


def _owner_is_gone(owner: str, me: str) -> bool:
    """True when the worker that claimed a run is known dead: same host, and its pid is gone
    or is our own (a restarted worker that got the same pid is not still running it)."""
    host, _, pid_text = owner.rpartition(":")
    my_host, _, my_pid = me.rpartition(":")
    if host != my_host or not pid_text.isdigit() or int(pid_text) <= 0:
        return False
    if pid_text == my_pid:
        return True
    try:
        os.kill(int(pid_text), 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    return False


def claim_run(run_id: int, *, worker: str, now: datetime) -> TrainingRun | None:
    """queued -> running (or a running row whose worker is lost), attempts + 1, in one
    conditional UPDATE. None when the row is not ours to run; a row out of attempts is failed."""
    row = TrainingRun.objects.filter(pk=run_id).values("status", "worker", "attempts").first()
    if row is None or row["status"] not in (RunStatus.QUEUED, RunStatus.RUNNING):
        return None
    stale_before = now - timedelta(seconds=settings.TRAINING_HEARTBEAT_STALE_S)
    claimable = Q(status=RunStatus.QUEUED) | Q(
        Q(heartbeat_at__isnull=True) | Q(heartbeat_at__lt=stale_before), status=RunStatus.RUNNING
    )
    if row["status"] == RunStatus.RUNNING and _owner_is_gone(row["worker"], worker):
        claimable |= Q(status=RunStatus.RUNNING, worker=row["worker"])
    candidates = TrainingRun.objects.filter(claimable, pk=run_id, cancel_requested=False)
    claimed = candidates.filter(attempts__lt=F("max_attempts")).update(
        status=RunStatus.RUNNING,
        attempts=F("attempts") + 1,
        heartbeat_at=now,
        worker=worker,
        started_at=Coalesce(F("started_at"), Value(now, output_field=DateTimeField())),
        error="",
    )
    if claimed:
        return TrainingRun.objects.get(pk=run_id)
    candidates.update(
        status=RunStatus.FAILED,
        finished_at=now,
        error=f"Gave up after {row['attempts']} attempts: the worker was lost each time.",
    )
    _cancel_if_requested(run_id, now=now)
    return None


def _cancel_if_requested(run_id: int, *, now: datetime) -> None:
    """A cancel that arrived while no worker held the run (e.g. between attempts)."""
    TrainingRun.objects.filter(
        pk=run_id, cancel_requested=True, status__in=[RunStatus.QUEUED, RunStatus.RUNNING]
    ).filter(Q(status=RunStatus.QUEUED) | Q(heartbeat_at__lt=now - _stale())).update(
        status=RunStatus.CANCELLED, finished_at=now
    )


def _stale() -> timedelta:
    return timedelta(seconds=settings.TRAINING_HEARTBEAT_STALE_S)


# -- inputs -----------------------------------------------------------------------------------


def stage_options(config: Mapping[str, Any]) -> list[str]:
    """Hyperparameters as command-line options: `batch_size: 8` -> `--batch-size 8`, a true
    boolean is the bare flag, false and None are left out, worker-side keys are skipped."""
    args: list[str] = []
    for key, value in sorted(config.items()):
        if key in INPUT_OPTIONS or value is None or value is False:
            continue
        flag = "--" + key.replace("_", "-")
        args.extend([flag] if value is True else [flag, str(value)])
    return args


def _model_path(version: ModelVersion | None, fallback: str) -> str:
    return version.artifact_path if version is not None else (fallback or "smollm2")


def _require(version: ModelVersion | None, what: str) -> ModelVersion:
    if version is None:
        raise RunInputError(f"This run needs {what}.")
    return version


def stage_arguments(run: TrainingRun, folder: Path) -> list[str]:
    """The command line for the run's stage (inputs already written into `folder`)."""
    start = _model_path(run.parent_version, run.base)
    kind = run.kind
    if kind in (RunKind.REWARD, RunKind.DPO):
        inputs = ["--data", str(folder / "data.jsonl"), "--base", start, "--out", str(folder)]
    elif kind == RunKind.PPO:
        reward = _require(run.reward_version, "a reward model version").artifact_path
        inputs = ["--policy", start, "--reward", reward, "--prompts", str(folder / "prompts.jsonl")]
        inputs += ["--out", str(folder)]
    elif kind == RunKind.GENERATE:
        inputs = ["--policy", start, "--prompts", str(folder / "prompts.jsonl")]
        inputs += ["--out", str(folder / "generated.jsonl")]
    else:
        reward = _require(run.reward_version, "a reward model version").artifact_path
        other = _comparison_model(run)
        inputs = ["--policy", start, "--parent", other, "--reward", reward]
        inputs += ["--prompts", str(folder / "prompts.jsonl"), "--out", str(folder)]
    return [*inputs, *stage_options(run.config)]


def _comparison_model(run: TrainingRun) -> str:
    if run.compare_version is not None:
        return run.compare_version.artifact_path
    parent = run.parent_version.parent if run.parent_version else None
    return _model_path(parent, run.base)


def _write_jsonl(path: Path, rows: Iterator[dict[str, Any]]) -> int:
    """Written under a temporary name and renamed, so a crash leaves no half file."""
    staging = path.with_suffix(".partial")
    count = 0
    with staging.open("w", encoding="utf-8") as handle:
        for row in rows:
            handle.write(json.dumps(row, ensure_ascii=False) + "\n")
            count += 1
    os.replace(staging, path)
    return count


def _pair_rows(run: TrainingRun) -> Iterator[dict[str, Any]]:
    mode = run.dataset.get("mode", "consensus")
    for row in snapshots.iter_snapshot_rows(run.snapshot_preference_ids, mode=mode):
        yield {
            "prompt": row.conversation,
            "chosen": row.chosen,
            "rejected": row.rejected,
            "margin": row.margin,
        }


def _campaign_ids(run: TrainingRun) -> list[int]:
    if run.campaign_id is not None:
        return [run.campaign_id]
    return [int(i) for i in run.dataset.get("campaign_ids") or []]


def _prompt_rows(run: TrainingRun) -> Iterator[dict[str, Any]]:
    """The campaign's prompts (with their ids, for generated tasks); a run without a campaign
    uses the prompts of its data snapshot."""
    limit = int(run.config.get("prompts", 64))
    seen = 0
    for campaign_id in _campaign_ids(run):
        for prompt in campaigns.campaign_prompts(campaign_id=campaign_id, limit=limit - seen):
            yield {"prompt": prompt.conversation, "prompt_id": prompt.prompt_id}
            seen += 1
    if seen or not run.snapshot_preference_ids:
        return
    distinct: dict[str, list[dict[str, str]]] = {}
    for row in snapshots.iter_snapshot_rows(run.snapshot_preference_ids, mode="all"):
        distinct.setdefault(json.dumps(row.conversation, sort_keys=True), row.conversation)
        if len(distinct) >= limit:
            break
    for conversation in distinct.values():
        yield {"prompt": conversation}


def prepare_inputs(run: TrainingRun, folder: Path) -> None:
    """data.jsonl (reward, DPO) or prompts.jsonl (the others) from the frozen snapshot or the
    campaign; rewritten on every attempt, which gives the same file for the same run."""
    folder.mkdir(parents=True, exist_ok=True)
    if run.kind in (RunKind.REWARD, RunKind.DPO):
        _write_jsonl(folder / "data.jsonl", _pair_rows(run))
        return
    if run.kind == RunKind.GENERATE and run.campaign_id is None:
        raise RunInputError("A generation run needs a campaign to receive the new tasks.")
    if not _write_jsonl(folder / "prompts.jsonl", _prompt_rows(run)):
        raise RunInputError("No prompts: the run's campaign has none and its snapshot is empty.")


# -- streaming --------------------------------------------------------------------------------


def newest_checkpoint(folder: Path) -> Path | None:
    """The newest complete PPO checkpoint (one with its state.json), as the pipeline reads it."""
    root = folder / "checkpoints"
    found = sorted(p for p in root.glob("step-*") if (p / "state.json").is_file())
    return found[-1] if found else None


@dataclass
class RunStream:
    """The runner's poll callback: metrics into RunMetric, progress and heartbeat into the
    row, and the answer to "go on?" (cancel requested, or the row is no longer ours)."""

    run_id: int
    worker: str
    folder: Path
    kind: str
    started: float
    first_point: tuple[float, int] | None = None

    def __call__(self, report: PollReport) -> str:
        points = [
            RunMetric(run_id=self.run_id, step=step, name=name, value=value)
            for line in report.lines
            for step, name, value in metric_points(line)
        ]
        RunMetric.objects.bulk_create(points, ignore_conflicts=True, batch_size=1000)
        fields: dict[str, Any] = {"heartbeat_at": timezone.now(), "log_tail": report.log_tail}
        fields.update(self._progress(report))
        checkpoint = newest_checkpoint(self.folder) if self.kind == RunKind.PPO else None
        if checkpoint is not None:
            fields["last_checkpoint"] = str(checkpoint)
        mine = TrainingRun.objects.filter(
            pk=self.run_id, status=RunStatus.RUNNING, worker=self.worker
        )
        if not mine.update(**fields):
            return "lost"
        return "cancelled" if mine.filter(cancel_requested=True).exists() else ""

    def _progress(self, report: PollReport) -> dict[str, Any]:
        lines = [line for line in report.lines if line.total > 0]
        if not lines:
            return {}
        last = lines[-1]
        for line in lines:  # this attempt's first line starts the ETA's clock
            if self.first_point is None and (line.time or 0) >= self.started:
                self.first_point = (line.time or time.time(), line.step)
        eta = None
        if self.first_point and last.step > self.first_point[1] and last.time:
            rate = (last.time - self.first_point[0]) / (last.step - self.first_point[1])
            eta = max(0.0, rate * (last.total - last.step))
        step = min(last.step, last.total)
        return {
            "step": step,
            "total_steps": last.total,
            "progress": step / last.total,
            "eta_s": eta,
        }


# -- outcome ----------------------------------------------------------------------------------


def _version_base(run: TrainingRun) -> str:
    return run.parent_version.base if run.parent_version else (run.base or "smollm2")


def register_version(
    run: TrainingRun, *, kind: str, path: Path, metrics: dict[str, Any]
) -> ModelVersion:
    """The version the run produced; registering twice (a retried finish) finds the first."""
    version, _ = ModelVersion.objects.get_or_create(
        name=f"{run.kind}-run-{run.pk}",
        defaults={
            "kind": kind,
            "base": _version_base(run),
            "artifact_path": str(path),
            "parent": run.parent_version,
            "produced_by": run,
            "campaign_id": run.campaign_id,
            "snapshot_hash": run.snapshot_hash,
            "metrics": metrics,
        },
    )
    return version


def _scalars(metrics: Mapping[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in metrics.items() if isinstance(v, int | float | str | bool)}


def _import_generated(run: TrainingRun, folder: Path) -> dict[str, Any]:
    from annotation.services.generated import GeneratedAnswers, add_generated_tasks

    prompt_ids = [
        json.loads(line).get("prompt_id")
        for line in (folder / "prompts.jsonl").read_text(encoding="utf-8").splitlines()
    ]
    generated = (folder / "generated.jsonl").read_text(encoding="utf-8").splitlines()
    answers = [
        GeneratedAnswers(int(prompt_id), [r["text"] for r in json.loads(line)["responses"]])
        for prompt_id, line in zip(prompt_ids, generated, strict=True)
        if prompt_id is not None
    ]
    version = run.parent_version
    campaign = run.campaign
    assert campaign is not None  # prepare_inputs refused a generation run without one
    tasks = add_generated_tasks(
        campaign=campaign,
        answers=answers,
        generator=version.name if version else _model_path(None, run.base),
        generator_version_id=version.pk if version else None,
        batch_key=f"training-run-{run.pk}",
    )
    responses = sum(len(a.texts) for a in answers)
    return {"prompts": len(answers), "responses": responses, "tasks_created": tasks}


def _outputs(run: TrainingRun, folder: Path) -> dict[str, Any]:
    """Reads what the stage wrote and registers it; returns the run's `result`."""
    metrics = {k: v for k, v in read_json(folder / "metrics.json").items() if k != "history"}
    if run.kind == RunKind.REWARD:
        register_version(
            run, kind=VersionKind.REWARD, path=folder / "model", metrics=_scalars(metrics)
        )
    elif run.kind in (RunKind.PPO, RunKind.DPO):
        flat = {**_scalars(metrics), **_scalars(metrics.get("final") or {})}
        register_version(run, kind=VersionKind.POLICY, path=folder / "policy", metrics=flat)
    elif run.kind == RunKind.GENERATE:
        metrics = _import_generated(run, folder)
    return metrics


def _chain(run: TrainingRun) -> dict[str, Any]:
    """Start the schedule's next stage; a failure to do so is recorded, not fatal."""
    if not run.follow_up:
        return {}
    from training.services import create_follow_up_run

    try:
        with transaction.atomic():
            follow = create_follow_up_run(finished=run)
    except Exception as error:
        logger.exception("Run %s: could not start its follow-up run", run.pk)
        return {"follow_up_error": str(error)}
    return {"follow_up_run_id": follow.pk} if follow is not None else {}


def _finish(run_id: int, worker: str, **fields: Any) -> int:
    return TrainingRun.objects.filter(pk=run_id, status=RunStatus.RUNNING, worker=worker).update(
        finished_at=timezone.now(), **fields
    )


def succeed(run: TrainingRun, worker: str, folder: Path) -> None:
    with transaction.atomic():
        locked = TrainingRun.objects.select_for_update().filter(
            pk=run.pk, status=RunStatus.RUNNING, worker=worker
        )
        if not locked.exists():
            return
        result = _outputs(run, folder)
        run.status = RunStatus.SUCCEEDED  # create_follow_up_run reads the finished run
        result.update(_chain(run))
        _finish(run.pk, worker, status=RunStatus.SUCCEEDED, result=result, progress=1.0, eta_s=0)


# -- the whole job ----------------------------------------------------------------------------


def _start_log(run: TrainingRun, folder: Path, log_path: Path) -> None:
    resume = newest_checkpoint(folder) if run.kind == RunKind.PPO else None
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
        prepare_inputs(run, folder)
        arguments = stage_arguments(run, folder)
    except Exception as error:  # a bad run must end failed, not be retried as "lost"
        message = str(error) if isinstance(error, RunInputError) else _describe(error)
        _finish(run.pk, worker, status=RunStatus.FAILED, error=f"Preparing inputs: {message}")
        return "failed"
    stream = RunStream(run.pk, worker, folder, run.kind, started=time.time())
    try:
        outcome = run_stage(
            STAGES[run.kind],
            arguments,
            out=folder,
            log_path=log_path,
            on_poll=stream,
            poll_s=settings.TRAINING_POLL_S,
            time_limit_s=settings.CELERY_LONGEST_TASK_S,
        )
    except Exception as error:
        _record_crash(run.pk, worker, error)
        raise
    return _record_outcome(run, worker, folder, outcome.returncode, outcome.stopped, outcome.error)


def _describe(error: Exception) -> str:
    return f"{type(error).__name__}: {error}"


def _record_crash(run_id: int, worker: str, error: Exception) -> None:
    try:
        _finish(run_id, worker, status=RunStatus.FAILED, error=f"Worker error: {error!r}")
    except DatabaseError:
        logger.exception("Run %s: could not record the worker error", run_id)


def _record_outcome(
    run: TrainingRun, worker: str, folder: Path, code: int | None, stopped: str, error: str
) -> str:
    if stopped == "lost":
        return "lost"
    if stopped == "cancelled":
        _finish(run.pk, worker, status=RunStatus.CANCELLED, eta_s=None)
        return "cancelled"
    if stopped:
        limit = settings.CELERY_LONGEST_TASK_S
        _finish(run.pk, worker, status=RunStatus.FAILED, error=f"Stopped: {stopped} ({limit} s).")
        return "failed"
    if code != 0:
        _finish(run.pk, worker, status=RunStatus.FAILED, error=error, eta_s=None)
        return "failed"
    try:
        succeed(run, worker, folder)
    except Exception as failure:  # rolled back: no half-registered outputs
        logger.exception("Run %s: recording its outputs failed", run.pk)
        message = f"Recording the outputs: {_describe(failure)}"
        _finish(run.pk, worker, status=RunStatus.FAILED, error=message)
        return "failed"
    return "succeeded"


# -- reconciling ------------------------------------------------------------------------------


def _send(run_id: int) -> None:
    from training.tasks import execute_run as execute_run_task

    execute_run_task.delay(run_id)


def reconcile_stale_runs(*, now: datetime) -> int:
    """Running runs without a heartbeat for TRAINING_HEARTBEAT_STALE_S: back to queued with a
    new message while attempts remain, else failed. Queued runs nobody claimed for a while get
    another message (it may have been lost; claiming is idempotent). Returns runs re-queued."""
    requeued = 0
    stale = TrainingRun.objects.filter(status=RunStatus.RUNNING).filter(
        Q(heartbeat_at__isnull=True) | Q(heartbeat_at__lt=now - _stale())
    )
    for run in stale.only(
        "pk", "heartbeat_at", "attempts", "max_attempts", "worker", "cancel_requested"
    ):
        same = TrainingRun.objects.filter(
            pk=run.pk, status=RunStatus.RUNNING, heartbeat_at=run.heartbeat_at
        )
        if run.cancel_requested:
            same.update(status=RunStatus.CANCELLED, finished_at=now)
            continue
        if run.attempts >= run.max_attempts:
            error = f"The worker was lost {run.attempts} times (last: {run.worker}); gave up."
            same.update(status=RunStatus.FAILED, finished_at=now, error=error)
            continue
        with transaction.atomic():
            if same.update(status=RunStatus.QUEUED, heartbeat_at=now, worker=""):
                requeued += 1
                transaction.on_commit(partial(_send, run.pk))
    _nudge_queued(now)
    return requeued


def _nudge_queued(now: datetime) -> None:
    """For a queued run `heartbeat_at` is when it was last sent a message."""
    before = now - QUEUED_NUDGE_AFTER
    waiting = TrainingRun.objects.filter(status=RunStatus.QUEUED, created_at__lt=before).filter(
        Q(heartbeat_at__isnull=True) | Q(heartbeat_at__lt=before)
    )
    for run_id in waiting.values_list("pk", flat=True):
        with transaction.atomic():
            if TrainingRun.objects.filter(pk=run_id, status=RunStatus.QUEUED).update(
                heartbeat_at=now
            ):
                transaction.on_commit(partial(_send, run_id))
