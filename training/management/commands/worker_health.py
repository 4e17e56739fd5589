"""`manage.py worker_health [--training]`: the healthcheck of a Celery worker container.

Healthy when the worker on this host answers a ping, or, when it is too busy to answer (the gpu
worker's solo pool runs a training run in its own thread, for hours), when it is running a run
whose heartbeat is fresh. With `--training` (the gpu worker) it must also have reported that its
Python can import the ML stack: a worker built from an image without torch is unhealthy, not a
worker whose every run fails. One line on stdout; exit status 0 (healthy) or 1.
"""

from __future__ import annotations

import socket
from typing import Any

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from training.models import RunStatus, TrainingRun, TrainingWorker
from training.worker.claim import stale_before


def _answers_ping(node: str, timeout: float) -> bool:
    from config.celery import app

    try:
        replies = app.control.ping(destination=[node], timeout=timeout)
    except Exception:  # the broker is unreachable: the worker cannot be working either
        return False
    return any(node in reply for reply in replies or [])


def _busy_run(host: str) -> TrainingRun | None:
    """A run this host's worker is running with a fresh heartbeat (claims name host:pid)."""
    return (
        TrainingRun.objects.filter(
            status=RunStatus.RUNNING,
            worker__startswith=f"{host}:",
            heartbeat_at__gte=stale_before(timezone.now()),
        )
        .order_by("-heartbeat_at")
        .first()
    )


class Command(BaseCommand):
    help = "Exit 0 when this host's Celery worker is alive (and, with --training, can train)."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument(
            "--training", action="store_true", help="the worker must be able to train (gpu queue)"
        )
        parser.add_argument("--timeout", type=float, default=5.0, help="ping timeout, seconds")
        parser.add_argument(
            "--node",
            default="",
            help="the worker's node name when it was started with --hostname (default: "
            "celery@ this host's name, Celery's own default)",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        host = socket.gethostname()
        node = options["node"] or f"celery@{host}"
        if options["training"]:
            report = TrainingWorker.objects.filter(hostname=node).first()
            if report is None:
                raise CommandError(f"{node} has not reported its training stack yet")
            if report.missing:
                raise CommandError(
                    f"{node} cannot train: its Python lacks {', '.join(report.missing)}"
                )
        if _answers_ping(node, options["timeout"]):
            self.stdout.write(f"{node} answers")
            return
        run = _busy_run(host)
        if run is not None:
            self.stdout.write(f"{node} is busy with run {run.pk} (heartbeat fresh)")
            return
        raise CommandError(f"{node} does not answer and runs nothing")
