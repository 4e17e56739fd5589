"""A real `celery worker` process for the worker-path tests, and the fixtures they share:
each test's own queue (several runs may share one Redis) and artifacts folder."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from django.db import connection

from config.celery import app as celery_app
from training import dispatch

ROOT = Path(__file__).resolve().parents[2]


class Worker:
    """`celery worker` on one queue, its output in a file (a pipe could fill and block it)."""

    def __init__(self, queue: str, env: dict[str, str], log: Path) -> None:
        self.log = log
        with log.open("ab") as out:
            self.process = subprocess.Popen(
                [
                    *(sys.executable, "-m", "celery", "-A", "config", "worker", "-Q", queue),
                    *("--pool", "solo", "--concurrency", "1", "--prefetch-multiplier", "1"),
                    *("--loglevel", "INFO", "--without-heartbeat", "--without-gossip"),
                    "--without-mingle",
                ],
                cwd=ROOT,
                env=env,
                stdout=out,
                stderr=subprocess.STDOUT,
            )

    def output(self) -> str:
        return self.log.read_text(errors="replace")

    def kill9(self) -> None:
        os.kill(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=30)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=30)


@pytest.fixture
def queue(monkeypatch: pytest.MonkeyPatch) -> str:
    """execute_run messages go to this test's own queue (several runs may share one Redis)."""
    name = f"test-gpu-{uuid.uuid4().hex[:8]}"

    def send_to_this_queue(run_id: int) -> None:
        celery_app.send_task(dispatch.EXECUTE_RUN, args=(run_id,), queue=name)

    monkeypatch.setattr(dispatch, "send_run", send_to_this_queue)
    return name


@pytest.fixture
def artifacts(tmp_path: Path, settings: Any) -> Path:
    settings.TRAINING_ARTIFACTS_DIR = tmp_path / "artifacts"
    return tmp_path / "artifacts"


def worker_environment(artifacts: Path, **extra: str) -> dict[str, str]:
    """What a worker process needs to use this test's database and artifacts."""
    db = connection.settings_dict
    return {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings_test",
        "DATABASE_URL": f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}",
        "RLHF_ARTIFACTS_DIR": str(artifacts),
        "TRAINING_POLL_S": "0.2",
        **extra,
    }


def wait_for(check: Callable[[], bool], timeout: float, what: str, worker: Worker) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.2)
    pytest.fail(f"timed out waiting for {what}; worker log:\n{worker.output()[-4000:]}")
