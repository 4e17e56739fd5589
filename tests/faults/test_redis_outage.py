"""Redis (the Celery broker) dies while raters work through a real gunicorn: raters do not
notice, a training run started meanwhile is stored as queued, and once Redis is back the
reconciler (beat's job) sends its lost message again."""

from __future__ import annotations

import base64
import json
import os
import signal
import subprocess
import sys
import threading
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
import redis

from annotation.models import Judgment
from annotation.services.tokens import issue_token
from common.roles import Role
from tests.conftest import REQUIRE_SERVICES
from tests.factories import make_user, setup_campaign
from training.dispatch import EXECUTE_RUN
from training.models import RunStatus, TrainingRun

from .live import (
    REDIS_SERVER,
    ROOT,
    Gunicorn,
    Reply,
    app_environment,
    call,
    free_port,
    start_gunicorn,
    start_redis,
    stop,
)

pytestmark = [pytest.mark.postgres, pytest.mark.redis, pytest.mark.slow]

RATERS = 4
BEFORE, DURING, AFTER = 2, 3, 1  # tasks each rater judges before, during and after the outage
RUNS = "/api/v1/training/runs/"
# The reconciler as beat runs it, with its clock past the delay after which it presumes a
# queued run's message lost (instead of this test waiting five minutes).
RECONCILE = """
import django
django.setup()
from datetime import timedelta
from django.utils import timezone
from training.worker.reconcile import QUEUED_NUDGE_AFTER, reconcile_stale_runs
reconcile_stale_runs(now=timezone.now() + QUEUED_NUDGE_AFTER + timedelta(seconds=1))
"""


@pytest.fixture
def redis_port() -> int:
    if not os.access(REDIS_SERVER, os.X_OK):
        reason = f"needs redis-server at {REDIS_SERVER} (apt-get install redis-server)"
        if REQUIRE_SERVICES:
            pytest.fail(reason, pytrace=False)
        pytest.skip(reason)
    return free_port()


def queued_run_ids(port: int) -> list[int]:
    """The run ids of the execute_run messages waiting in the `gpu` queue of this Redis."""
    ids = []
    for raw in redis.Redis(port=port, db=0).lrange("gpu", 0, -1):
        message = json.loads(raw)
        assert message["headers"]["task"] == EXECUTE_RUN
        args, _kwargs, _embed = json.loads(base64.b64decode(message["body"]))
        ids.append(args[0])
    return sorted(ids)


def judge(server: Gunicorn, token: str, tasks: int, tag: str, replies: list[Reply]) -> None:
    """Next, then submit, `tasks` times; every reply kept."""
    for n in range(tasks):
        claim = call(f"{server.url}/api/v1/assignments/next/", token=token, method="POST")
        replies.append(claim)
        if claim.status != 200:
            return
        body = {"ranking": [["A"], ["B"]], "idempotency_key": f"{tag}-{n}"}
        url = f"{server.url}/api/v1/assignments/{claim.body['id']}/submit/"
        replies.append(call(url, token=token, method="POST", body=body))


def all_raters_judge(server: Gunicorn, tokens: list[str], tasks: int, phase: str) -> list[Reply]:
    replies: list[Reply] = []
    threads = [
        threading.Thread(target=judge, args=(server, token, tasks, f"{phase}-{i}", replies))
        for i, token in enumerate(tokens)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=300)
    return replies


def start_run(server: Gunicorn, token: str, campaign_id: int, key: str) -> Reply:
    body = {
        "kind": "reward",
        "dataset": {"campaign_ids": [campaign_id], "mode": "all"},
        "idempotency_key": key,
    }
    return call(f"{server.url}{RUNS}", token=token, method="POST", body=body)


def reconcile_as_beat(tmp_path: Path, env: dict[str, str]) -> None:
    reconciled = subprocess.run(
        [sys.executable, "-c", RECONCILE],
        cwd=ROOT,
        env=app_environment(tmp_path / "var", env),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert reconciled.returncode == 0, reconciled.stderr


def judge_while_a_run_starts(
    server: Gunicorn, tokens: list[str], engineer: str, campaign_id: int
) -> tuple[list[Reply], Reply]:
    """Raters judge while, at the same time, the engineer starts a run."""
    outcome: dict[str, Reply] = {}
    starter = threading.Thread(
        target=lambda: outcome.update(run=start_run(server, engineer, campaign_id, "run-during"))
    )
    starter.start()
    during = all_raters_judge(server, tokens, DURING, "during")
    starter.join(timeout=300)
    return during, outcome["run"]


def test_raters_ride_out_a_redis_outage_and_the_reconciler_resends_queued_runs(
    transactional_db: Any, tmp_path: Path, redis_port: int
) -> None:
    # given raters and an ML engineer on a gunicorn whose broker is a Redis of this test's own
    raters = [make_user(username=f"rater{i}") for i in range(RATERS)]
    campaign, _ = setup_campaign(
        raters, tasks=RATERS * (BEFORE + DURING + AFTER), responses_per_task=2, overlap=1
    )
    tokens = [issue_token(user=rater)[1] for rater in raters]
    engineer = issue_token(user=make_user(role=Role.ML_ENGINEER))[1]
    broker = start_redis(redis_port, tmp_path / "redis.log")
    env = {"REDIS_URL": f"redis://127.0.0.1:{redis_port}/0"}
    server = start_gunicorn(tmp_path, env=env)
    try:
        before = all_raters_judge(server, tokens, BEFORE, "before")
        run_before = start_run(server, engineer, campaign.pk, "run-before-outage")
        assert run_before.status == 201, run_before
        assert queued_run_ids(redis_port) == [run_before.body["id"]]  # the app uses this Redis

        # when Redis dies while raters work and the engineer starts a run
        broker.send_signal(signal.SIGKILL)
        broker.wait(timeout=30)
        during, run_during = judge_while_a_run_starts(server, tokens, engineer, campaign.pk)

        # then raters saw only successes, and the run was stored as queued, not lost
        assert Counter(r.status for r in before + during) == Counter(
            {200: RATERS * (BEFORE + DURING), 201: RATERS * (BEFORE + DURING)}
        )
        assert run_during.status == 201, run_during
        assert run_during.body["status"] == "queued"
        assert TrainingRun.objects.get(pk=run_during.body["id"]).status == RunStatus.QUEUED

        # when Redis comes back empty (it kept nothing), raters go on and the reconciler runs
        broker = start_redis(redis_port, tmp_path / "redis.log")
        assert queued_run_ids(redis_port) == []
        after = all_raters_judge(server, tokens, AFTER, "after")
        reconcile_as_beat(tmp_path, env)

        # then both queued runs (their messages died with the old Redis) are sent again, once
        resent = queued_run_ids(redis_port)
        assert resent == sorted([run_before.body["id"], run_during.body["id"]])
    finally:
        server.stop()
        stop(broker)

    print(
        f"\nredis-outage: {len(during)} rater requests during the outage "
        f"({Counter(r.status for r in during)}), run started meanwhile: {run_during.status} "
        f"{run_during.body['status']}; re-sent by the reconciler: {resent}"
    )
    # and no rater lost a judgment, before, during or after
    assert Counter(r.status for r in after) == Counter({200: RATERS, 201: RATERS})
    judged = Counter(Judgment.objects.values_list("rater__username", flat=True))
    assert judged == {f"rater{i}": BEFORE + DURING + AFTER for i in range(RATERS)}
