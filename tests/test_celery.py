"""A real Celery worker process on real Redis runs a task against the test database."""

from __future__ import annotations

import os
import subprocess
import sys
import time
import uuid
from datetime import timedelta
from pathlib import Path

import pytest
from django.db import connection
from django.utils import timezone

from annotation.models import Assignment, AssignmentStatus
from annotation.tasks import expire_stale_leases
from tests.factories import make_user, setup_campaign

ROOT = Path(__file__).resolve().parents[1]
pytestmark = [
    pytest.mark.redis,
    pytest.mark.postgres,
    pytest.mark.slow,
    pytest.mark.django_db(transaction=True),
]


def test_worker_on_redis_expires_stale_leases() -> None:
    rater = make_user()
    _, [task] = setup_campaign([rater], tasks=1)
    lease = Assignment.objects.create(
        task=task,
        rater=rater,
        display_order=task.response_ids,
        expires_at=timezone.now() - timedelta(seconds=5),
    )
    queue = f"test-{uuid.uuid4().hex[:8]}"
    db = connection.settings_dict
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings_test",
        "DATABASE_URL": f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}",
    }
    worker = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "config",
            "worker",
            "-Q",
            queue,
            "--pool",
            "solo",
            "--loglevel",
            "INFO",
            "--without-heartbeat",
            "--without-gossip",
            "--without-mingle",
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        expire_stale_leases.apply_async(queue=queue)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            lease.refresh_from_db()
            if lease.status == AssignmentStatus.EXPIRED:
                break
            time.sleep(0.3)
        assert lease.status == AssignmentStatus.EXPIRED
    finally:
        worker.terminate()
        output, _ = worker.communicate(timeout=30)
    assert "annotation.tasks.expire_stale_leases" in output
    assert "succeeded" in output
