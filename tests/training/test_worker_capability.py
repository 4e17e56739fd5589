"""A training worker says, when it starts, whether its pipeline's Python has the ML stack, and
the start-a-run form's options carry it, so a missing install is known before a run fails."""

from __future__ import annotations

import stat
import sys
from pathlib import Path
from typing import Any

import pytest

from common.roles import Role
from config.celery import _report_training_stack
from config.celery import app as celery_app
from training.models import TrainingWorker
from training.worker.capability import TRAINING_MODULES, record_training_worker

pytestmark = pytest.mark.django_db
OPTIONS = "/api/v1/training/options/"


def python_without_site_packages(tmp_path: Path) -> str:
    """This interpreter with site-packages off: what a worker without the extra has."""
    wrapper = tmp_path / "bare-python"
    wrapper.write_text(f'#!/bin/sh\nexec "{sys.executable}" -S "$@"\n')
    wrapper.chmod(wrapper.stat().st_mode | stat.S_IEXEC)
    return str(wrapper)


def test_a_worker_with_the_stack_can_train(client_for: Any) -> None:
    record_training_worker(hostname="gpu@full")

    workers = client_for(Role.ML_ENGINEER).get(OPTIONS).json()["workers"]

    assert [(w["hostname"], w["can_train"], w["missing"]) for w in workers] == [
        ("gpu@full", True, [])
    ]


def test_the_options_say_how_many_processes_each_worker_runs(
    client_for: Any, settings: Any
) -> None:
    """The form checks a run's batch against it (it must split evenly over the processes)."""
    settings.TRAINING_PROCESSES = 2
    record_training_worker(hostname="gpu@pair")

    (worker,) = client_for(Role.ML_ENGINEER).get(OPTIONS).json()["workers"]
    assert (worker["hostname"], worker["processes"]) == ("gpu@pair", 2)


def test_a_worker_without_the_stack_is_known_before_any_run(
    client_for: Any, settings: Any, tmp_path: Path
) -> None:
    settings.TRAINING_PIPELINE_PYTHON = python_without_site_packages(tmp_path)

    record_training_worker(hostname="gpu@bare")

    (worker,) = client_for(Role.ML_ENGINEER).get(OPTIONS).json()["workers"]
    assert worker["hostname"] == "gpu@bare"
    assert worker["can_train"] is False
    assert worker["missing"] == list(TRAINING_MODULES)


class StartedWorker:
    """What Celery's worker_ready signal passes: the worker's consumer (app and hostname)."""

    def __init__(self, hostname: str) -> None:
        self.hostname = hostname
        self.app = celery_app


def test_only_workers_that_take_training_runs_report(monkeypatch: Any) -> None:
    # as `celery worker --queues default` selects them
    queues = celery_app.amqp.queues
    monkeypatch.setattr(queues, "_consume_from", {"default": queues["default"]})
    _report_training_stack(sender=StartedWorker("default@host"))
    assert not TrainingWorker.objects.exists()

    monkeypatch.setattr(queues, "_consume_from", {"gpu": queues["gpu"]})
    _report_training_stack(sender=StartedWorker("gpu@host"))
    assert list(TrainingWorker.objects.values_list("hostname", flat=True)) == ["gpu@host"]
