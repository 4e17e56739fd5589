"""Claiming a run: queued (or running, with its worker lost) -> running in one conditional
UPDATE, so of two messages for the same run only one does anything."""

from __future__ import annotations

import os
import socket
from datetime import datetime, timedelta

from django.conf import settings
from django.db.models import DateTimeField, F, Q, Value
from django.db.models.functions import Coalesce

from training.models import RunStatus, TrainingRun
from training.worker.ray_backend import stop_run_jobs


def worker_identity() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def stale_before(now: datetime) -> datetime:
    """A running run whose last heartbeat is older than this has lost its worker."""
    return now - timedelta(seconds=settings.TRAINING_HEARTBEAT_STALE_S)


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
    fields = ("status", "worker", "attempts", "created_at")
    row = TrainingRun.objects.filter(pk=run_id).values(*fields).first()
    if row is None or row["status"] not in (RunStatus.QUEUED, RunStatus.RUNNING):
        return None
    claimable = Q(status=RunStatus.QUEUED) | Q(
        Q(heartbeat_at__isnull=True) | Q(heartbeat_at__lt=stale_before(now)),
        status=RunStatus.RUNNING,
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
    gave_up = candidates.update(
        status=RunStatus.FAILED,
        finished_at=now,
        error=f"Gave up after {row['attempts']} attempts: the worker was lost each time.",
    )
    if gave_up or _cancel_if_requested(run_id, now=now):
        stop_run_jobs(
            run_id, row["created_at"], row["attempts"]
        )  # what a Ray-backed attempt left running
    return None


def _cancel_if_requested(run_id: int, *, now: datetime) -> int:
    """A cancel that arrived while no worker held the run (e.g. between attempts)."""
    return (
        TrainingRun.objects.filter(
            pk=run_id, cancel_requested=True, status__in=[RunStatus.QUEUED, RunStatus.RUNNING]
        )
        .filter(Q(status=RunStatus.QUEUED) | Q(heartbeat_at__lt=stale_before(now)))
        .update(status=RunStatus.CANCELLED, finished_at=now)
    )
