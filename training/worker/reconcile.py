"""The beat's side of the worker: runs whose worker stopped sending heartbeats go back to the
queue (within their attempts), and queued runs nobody claimed get another message. Under the
Ray backend a re-queued run's next attempt follows the job the lost worker left running."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.db import transaction
from django.db.models import Q

from training import dispatch
from training.models import RunStatus, TrainingRun
from training.worker.claim import stale_before
from training.worker.ray_backend import stop_run_jobs

# A queued run nobody claimed for this long has probably lost its message: send another.
QUEUED_NUDGE_AFTER = timedelta(minutes=5)


def reconcile_stale_runs(*, now: datetime) -> int:
    """Running runs without a heartbeat for TRAINING_HEARTBEAT_STALE_S: back to queued with a
    new message while attempts remain, else failed. Queued runs nobody claimed for a while get
    another message (it may have been lost; claiming is idempotent). Returns runs re-queued."""
    requeued = 0
    stale = TrainingRun.objects.filter(status=RunStatus.RUNNING).filter(
        Q(heartbeat_at__isnull=True) | Q(heartbeat_at__lt=stale_before(now))
    )
    for run in stale.only(
        "pk", "heartbeat_at", "attempts", "max_attempts", "worker", "cancel_requested", "created_at"
    ):
        same = TrainingRun.objects.filter(
            pk=run.pk, status=RunStatus.RUNNING, heartbeat_at=run.heartbeat_at
        )
        # A run that ends here may have left a job on the Ray cluster: it is stopped too.
        if run.cancel_requested:
            if same.update(status=RunStatus.CANCELLED, finished_at=now):
                stop_run_jobs(run.pk, run.created_at, run.attempts)
            continue
        if run.attempts >= run.max_attempts:
            error = f"The worker was lost {run.attempts} times (last: {run.worker}); gave up."
            if same.update(status=RunStatus.FAILED, finished_at=now, error=error):
                stop_run_jobs(run.pk, run.created_at, run.attempts)
            continue
        with transaction.atomic():
            if same.update(status=RunStatus.QUEUED, heartbeat_at=now, worker=""):
                requeued += 1
                dispatch.send_run_on_commit(run_id=run.pk)
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
                dispatch.send_run_on_commit(run_id=run_id)
