"""Postgres connections terminated under a real gunicorn: a request whose connection dies is a
503 {"code": "database_unavailable"} with Retry-After, never a 500; the next request succeeds
(CONN_HEALTH_CHECKS replaces the dead connection); and every submission the API acknowledged
is stored exactly once, however often its retries met a dead connection.

Only backends of this test's own database (by datname) are terminated, and never the test's
own connections."""

from __future__ import annotations

import functools
import json
import threading
import time
import urllib.error
import urllib.request
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psycopg
import pytest
from django.db import connection

from annotation.models import Judgment
from annotation.services.tokens import issue_token
from tests.factories import make_user, setup_campaign
from tests.faults.live import (
    Gunicorn,
    session_database_url,
    start_gunicorn,
)

pytestmark = [pytest.mark.postgres, pytest.mark.slow, pytest.mark.django_db(transaction=True)]

RATERS = 4
TASKS_EACH = 8
RANKING = [["A"], ["B"]]
DROPPED = 0  # no HTTP answer at all


@dataclass(frozen=True)
class Answer:
    status: int
    headers: dict[str, str]
    body: Any


def exchange(url: str, token: str, method: str = "POST", body: Any = None) -> Answer:
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(url, data=data, method=method)
    request.add_header("Authorization", f"Token {token}")
    request.add_header("Content-Type", "application/json")
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            raw = response.read()
            return Answer(response.status, dict(response.headers), json.loads(raw or b"null"))
    except urllib.error.HTTPError as error:
        raw = error.read()
        try:
            parsed: Any = json.loads(raw)
        except ValueError:
            parsed = raw.decode(errors="replace")
        return Answer(error.code, dict(error.headers), parsed)
    except OSError:
        return Answer(DROPPED, {}, None)


def start_app(tmp_path: Path) -> Gunicorn:
    """gunicorn as scripts/run.sh starts it (threaded workers answering errors as JSON), with
    its own control socket, on the test database."""
    threaded = (
        "--threads",
        "2",
        "--worker-class",
        "config.gunicorn_workers.ThreadWorkerJsonErrors",
    )
    return start_gunicorn(tmp_path, workers=2, worker_args=threaded)


@pytest.fixture
def admin_connection() -> Iterator[psycopg.Connection[Any]]:
    """A second connection, outside the app, that terminates the app's backends."""
    with psycopg.connect(session_database_url(), autocommit=True) as conn:
        yield conn


def app_backends(admin: psycopg.Connection[Any], *, waiting_on_lock: bool = False) -> list[int]:
    """Backends of this test's database other than the test's own connections."""
    own = [admin.info.backend_pid]
    if connection.connection is not None:
        own.append(connection.connection.info.backend_pid)
    rows = admin.execute(
        "SELECT pid FROM pg_stat_activity WHERE datname = %s AND NOT pid = ANY(%s)"
        " AND (NOT %s OR wait_event_type = 'Lock')",
        [connection.settings_dict["NAME"], own, waiting_on_lock],
    ).fetchall()
    return [row[0] for row in rows]


def terminate(admin: psycopg.Connection[Any], pids: list[int]) -> int:
    for pid in pids:
        admin.execute("SELECT pg_terminate_backend(%s)", [pid])
    return len(pids)


def submit(server: Gunicorn, token: str, assignment_id: int, key: str) -> Answer:
    return exchange(
        f"{server.url}/api/v1/assignments/{assignment_id}/submit/",
        token,
        body={"ranking": RANKING, "idempotency_key": key},
    )


def test_a_connection_terminated_mid_request_is_a_503_and_the_retry_succeeds(
    tmp_path: Path, admin_connection: psycopg.Connection[Any]
) -> None:
    # given a rater holding a task, and the judgment table locked by another session
    rater = make_user()
    setup_campaign([rater], tasks=2, responses_per_task=2, overlap=1)
    token = issue_token(user=rater)[1]
    server = start_app(tmp_path)
    try:
        claim = exchange(f"{server.url}/api/v1/assignments/next/", token)
        assert claim.status == 200, claim
        with psycopg.connect(session_database_url()) as locker:
            locker.execute(f"LOCK TABLE {Judgment._meta.db_table} IN ACCESS EXCLUSIVE MODE")
            answers: list[Answer] = []
            pending = threading.Thread(
                target=lambda: answers.append(submit(server, token, claim.body["id"], "key-one-1"))
            )
            pending.start()
            # when the app's backend, mid-request (waiting on the lock), is terminated
            waiting: list[int] = []
            deadline = time.monotonic() + 60
            while not waiting and time.monotonic() < deadline:
                waiting = app_backends(admin_connection, waiting_on_lock=True)
                time.sleep(0.02)
            assert len(waiting) == 1, "the submit never reached the locked table"
            terminate(admin_connection, waiting)
            pending.join(timeout=60)
            locker.rollback()
        # then that request is a 503 to retry, not a 500
        (answer,) = answers
        assert (answer.status, answer.body["code"]) == (503, "database_unavailable"), answer
        assert answer.headers["Retry-After"] == "5"
        # and the retry with the same key, on the same workers, is stored once
        retried = submit(server, token, claim.body["id"], "key-one-1")
        assert retried.status == 201, retried
    finally:
        server.stop()
    assert Judgment.objects.filter(rater=rater).count() == 1


@dataclass
class Traffic:
    lock: threading.Lock = field(default_factory=threading.Lock)
    statuses: Counter[int] = field(default_factory=Counter)
    acknowledged: dict[str, int] = field(default_factory=dict)  # key -> judgment id

    def note(self, answer: Answer) -> Answer:
        with self.lock:
            self.statuses[answer.status] += 1
        return answer

    def answered(self) -> int:
        with self.lock:
            return sum(n for status, n in self.statuses.items() if status < 500)


def until_answered(call: Any, traffic: Traffic) -> Answer:
    """Retry on 503 (waiting as Retry-After asks, shortened for the test) or a dropped one."""
    for _ in range(50):
        answer = traffic.note(call())
        if answer.status not in {503, DROPPED}:
            return answer
        time.sleep(0.05)
    raise AssertionError(f"still unavailable after 50 tries: {answer}")


def rate(server: Gunicorn, token: str, name: str, traffic: Traffic) -> None:
    for n in range(TASKS_EACH):
        claim = until_answered(
            lambda: exchange(f"{server.url}/api/v1/assignments/next/", token), traffic
        )
        assert claim.status == 200, claim
        key = f"{name}-task-{n}"
        assignment_id = claim.body["id"]
        stored = until_answered(
            functools.partial(submit, server, token, assignment_id, key), traffic
        )
        assert stored.status in {200, 201}, stored
        with traffic.lock:
            traffic.acknowledged[key] = stored.body["judgment_id"]


def test_raters_under_repeated_connection_kills_get_no_500_and_lose_nothing(
    tmp_path: Path, admin_connection: psycopg.Connection[Any]
) -> None:
    # given raters with a task each per round, and the app on gunicorn
    raters = [make_user(username=f"outage{i}") for i in range(RATERS)]
    setup_campaign(raters, tasks=RATERS * TASKS_EACH, responses_per_task=2, overlap=1)
    tokens = [issue_token(user=rater)[1] for rater in raters]
    server = start_app(tmp_path)
    traffic = Traffic()
    terminated = 0
    try:
        # when every app connection to the database is terminated again and again while they work
        threads = [
            threading.Thread(target=rate, args=(server, token, f"outage{i}", traffic))
            for i, token in enumerate(tokens)
        ]
        for thread in threads:
            thread.start()
        # (after each kill, until some request got through: the raters always progress)
        while any(thread.is_alive() for thread in threads):
            progress = traffic.answered()
            terminated += terminate(admin_connection, app_backends(admin_connection))
            while traffic.answered() == progress and any(t.is_alive() for t in threads):
                time.sleep(0.005)
        for thread in threads:
            thread.join()
        # then once the kills stop, the next request succeeds at once
        after = exchange(f"{server.url}/api/v1/me/", tokens[0], method="GET")
    finally:
        server.stop()

    print(
        f"\ndatabase-outage: {terminated} app connections terminated under {RATERS} raters; "
        f"{sum(traffic.statuses.values())} requests, statuses {dict(traffic.statuses)}; "
        f"{len(traffic.acknowledged)} submissions acknowledged"
    )
    assert after.status == 200, after
    assert terminated > 0
    # no 500 or other error: only successes and 503s (retried)
    assert set(traffic.statuses) <= {200, 201, 503}, traffic.statuses
    # every acknowledged submission stored exactly once, nothing else stored
    assert len(traffic.acknowledged) == RATERS * TASKS_EACH
    stored = Counter(Judgment.objects.values_list("idempotency_key", flat=True))
    assert stored == dict.fromkeys(traffic.acknowledged, 1)
    assert set(Judgment.objects.values_list("pk", flat=True)) == set(traffic.acknowledged.values())
