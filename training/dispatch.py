"""Every Celery message the training app sends, by task name and after commit.

Sending by name means the services and the worker never import `training.tasks` (which
imports them); config/celery.py routes by the same names, so `execute_run` still goes to the
`gpu` queue. After commit, because a worker must find the row its message names.
"""

from __future__ import annotations

from celery import current_app
from django.db import transaction

EXECUTE_RUN = "training.tasks.execute_run"


def send_run(run_id: int) -> None:
    """Tells a GPU worker to claim and execute the run (a nudge: the row is the truth)."""
    current_app.send_task(EXECUTE_RUN, args=(run_id,))


def send_run_on_commit(*, run_id: int, robust: bool = False) -> None:
    """send_run once the current transaction commits. robust: a broker error is logged
    instead of raised (the row stays queued and the reconciler sends it again later)."""

    # A named function, not functools.partial: Django logs a robust callback's failure under
    # its __qualname__, which a partial lacks, so a broker outage became a 500 after all.
    def send() -> None:
        send_run(run_id)

    transaction.on_commit(send, robust=robust)
