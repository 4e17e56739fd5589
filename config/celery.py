"""The Celery app: queues `default` and `gpu`, reliability settings from NOTES.md.

A task message is only a nudge; the database row it names is the truth about the job.
"""

import logging
import os

from celery import Celery
from celery.signals import beat_init, worker_ready
from kombu import Queue

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

app = Celery("rlhf_studio")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.conf.update(
    task_queues=[Queue("default"), Queue("gpu")],
    task_default_queue="default",
    # Exact names win over patterns: only training runs need a GPU; the beat tasks of
    # training (schedules, reconciler) are light database work.
    task_routes={
        "training.tasks.execute_run": {"queue": "gpu"},
        "annotation.tasks.*": {"queue": "default"},
        "training.tasks.*": {"queue": "default"},
    },
    # A killed worker's task goes back to the queue instead of vanishing.
    task_acks_late=True,
    task_reject_on_worker_lost=True,
    worker_prefetch_multiplier=1,
    task_ignore_result=True,
    task_time_limit=int(os.environ.get("CELERY_TASK_TIME_LIMIT", "600")),
    task_soft_time_limit=int(os.environ.get("CELERY_TASK_SOFT_TIME_LIMIT", "540")),
    broker_connection_retry_on_startup=True,
    beat_schedule={
        "expire-stale-leases": {
            "task": "annotation.tasks.expire_stale_leases",
            "schedule": float(os.environ.get("LEASE_SWEEP_INTERVAL_S", "60")),
            "options": {"queue": "default", "expires": 50},
        },
        "run-training-schedules": {
            "task": "training.tasks.run_schedules",
            "schedule": float(os.environ.get("TRAINING_SCHEDULE_INTERVAL_S", "60")),
            "options": {"queue": "default", "expires": 50},
        },
        "reconcile-training-runs": {
            "task": "training.tasks.reconcile_runs",
            "schedule": float(os.environ.get("TRAINING_RECONCILE_INTERVAL_S", "60")),
            "options": {"queue": "default", "expires": 50},
        },
    },
)
app.autodiscover_tasks()


@beat_init.connect
def _one_beat_only(**kwargs: object) -> None:
    """Exactly one beat per deployment (see config/beat_guard.py and docs/operations.md)."""
    from config.beat_guard import acquire_beat_lock

    acquire_beat_lock(**kwargs)


@worker_ready.connect
def _report_training_stack(sender: object = None, **kwargs: object) -> None:
    """A worker that takes training runs (queue gpu) says whether it can train, once it is up."""
    queues = getattr(getattr(getattr(sender, "app", None), "amqp", None), "queues", None)
    consumed = set(getattr(queues, "consume_from", None) or {})
    if "gpu" not in consumed:
        return
    from training.worker.capability import record_training_worker

    try:
        record_training_worker(hostname=str(getattr(sender, "hostname", "") or "worker"))
    except Exception:  # a report that fails must not stop the worker from working
        logging.getLogger(__name__).exception("Could not record this worker's training stack")
