"""Training tasks. They only translate: the run row is the truth, the message a nudge.

`execute_run` is routed to the `gpu` queue (one run at a time per GPU worker); the beat tasks
`run_schedules` and `reconcile_runs` are light database work on `default` (task_routes in
config/celery.py). Nothing imports this module to send a task: messages go by name through
training.dispatch, so the names below are part of the contract with queued messages.
"""

from __future__ import annotations

from celery import shared_task
from django.conf import settings
from django.db import close_old_connections
from django.utils import timezone

from training import dispatch
from training.promotion import decide_promotions
from training.services import fire_due_schedules
from training.worker import job, reconcile

# Above the longest run: the runner stops the pipeline at CELERY_LONGEST_TASK_S itself and
# records why; these limits only catch a worker stuck outside the pipeline.
RUN_SOFT_LIMIT_S = settings.CELERY_LONGEST_TASK_S + 300
RUN_HARD_LIMIT_S = settings.CELERY_LONGEST_TASK_S + 600


@shared_task(
    name=dispatch.EXECUTE_RUN,
    acks_late=True,
    reject_on_worker_lost=True,
    soft_time_limit=RUN_SOFT_LIMIT_S,
    time_limit=RUN_HARD_LIMIT_S,
    ignore_result=True,
)
def execute_run(run_id: int) -> str:
    """Claim the run and execute it; does nothing if the row is not this message's to run."""
    close_old_connections()
    try:
        return job.execute_run(run_id)
    finally:
        close_old_connections()


@shared_task(acks_late=True, time_limit=300, soft_time_limit=240)
def run_schedules() -> int:
    """Start the runs whose schedule is due (after N new judgments, or on its cron), and
    decide the promotion gates people have compared enough."""
    close_old_connections()
    try:
        decide_promotions()  # logs a gate that cannot decide; the schedules fire regardless
        return len(fire_due_schedules(now=timezone.now()))
    finally:
        close_old_connections()


@shared_task(acks_late=True, time_limit=300, soft_time_limit=240)
def reconcile_runs() -> int:
    """Re-queue runs whose worker stopped sending heartbeats (bounded attempts)."""
    close_old_connections()
    try:
        return reconcile.reconcile_stale_runs(now=timezone.now())
    finally:
        close_old_connections()
