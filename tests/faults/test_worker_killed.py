"""A gunicorn worker SIGKILLed while raters submit: clients retry what broke with the same
idempotency key, and every rater's judgments are stored exactly once, none lost, none doubled."""

from __future__ import annotations

import os
import signal
import socket
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from annotation.models import Judgment
from annotation.services.tokens import issue_token
from tests.factories import make_user, setup_campaign

from .live import DROPPED, Gunicorn, Reply, call, start_gunicorn

pytestmark = [pytest.mark.postgres, pytest.mark.slow]

RATERS = 8
TASKS_EACH = 10
MAX_KILLS = 3
RANKING = [["A"], ["B"]]
# Every other submit holds its body half-sent this long, so the killer always finds one in
# flight; the others go at full speed, so a kill can also land after a commit (a replay).
SUBMIT_PAUSE = 0.2


@dataclass
class Tally:
    """What the clients saw, shared by their threads."""

    lock: threading.Lock = field(default_factory=threading.Lock)
    statuses: Counter[int] = field(default_factory=Counter)
    dropped_submits: int = 0
    retried_submit_answers: Counter[str] = field(default_factory=Counter)
    submit_ports: set[int] = field(default_factory=set)  # client ports of submits in flight

    def saw(self, reply: Reply) -> None:
        with self.lock:
            self.statuses[reply.status] += 1


def retrying(send: Callable[[], Reply], tally: Tally, on_drop: Callable[[], None]) -> Reply:
    """Sends again (the same request) while the connection breaks before an answer."""
    for _ in range(30):
        reply = send()
        tally.saw(reply)
        if reply.status != DROPPED:
            return reply
        on_drop()
        time.sleep(0.1)
    raise AssertionError("the server never answered")


def submit_retrying(
    server: Gunicorn, token: str, assignment_id: int, key: str, tally: Tally, pause: float
) -> Reply:
    url = f"{server.url}/api/v1/assignments/{assignment_id}/submit/"
    body = {"ranking": RANKING, "idempotency_key": key}
    ports: list[int] = []
    drops = 0

    def connected(port: int) -> None:
        ports.append(port)
        with tally.lock:
            tally.submit_ports.add(port)

    def dropped() -> None:
        nonlocal drops
        drops += 1

    def send() -> Reply:
        reply = call(
            url,
            token=token,
            method="POST",
            body=body,
            on_connect=connected,
            body_pause=pause,
        )
        with tally.lock:
            tally.submit_ports.difference_update(ports)
        return reply

    reply = retrying(send, tally, dropped)
    if drops:
        with tally.lock:
            tally.dropped_submits += drops
            answer = "200 seen before" if reply.body.get("replayed") else f"{reply.status} stored"
            tally.retried_submit_answers[answer] += 1
    return reply


def rate(server: Gunicorn, token: str, index: int, tally: Tally, finals: list[Reply]) -> None:
    """One rater: next, then submit under a key of its own, TASKS_EACH times."""
    for n in range(TASKS_EACH):
        claim = retrying(
            lambda: call(f"{server.url}/api/v1/assignments/next/", token=token, method="POST"),
            tally,
            lambda: None,
        )
        assert claim.status == 200, claim
        pause = SUBMIT_PAUSE if n % 2 else 0.0
        key = f"rater{index}-{n}"
        finals.append(submit_retrying(server, token, claim.body["id"], key, tally, pause))


def kill_busy_workers(server: Gunicorn, tally: Tally, running: Callable[[], bool]) -> list[int]:
    """While raters are at work, SIGKILL the worker serving a submit (found by the client's
    port), and wait for the master to replace it; MAX_KILLS times at most."""
    killed: list[int] = []
    while running() and len(killed) < MAX_KILLS:
        with tally.lock:
            submits = set(tally.submit_ports)
        busy = server.busy_workers(submits) if submits else []
        if busy:
            os.kill(busy[0], signal.SIGKILL)
            killed.append(busy[0])
            server.wait_until_serving(2)
        time.sleep(0.005)
    return killed


def held_submit(server: Gunicorn, token: str, assignment_id: int) -> socket.socket:
    """A submit whose body has not all arrived: its worker is surely mid-request."""
    body = b'{"ranking": [["A"], ["B"]], "idempotency_key": "held-submit-1"}'
    head = (
        f"POST /api/v1/assignments/{assignment_id}/submit/ HTTP/1.1\r\n"
        f"Host: 127.0.0.1:{server.port}\r\nAuthorization: Token {token}\r\n"
        f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n"
    ).encode()
    client = socket.create_connection(("127.0.0.1", server.port), timeout=60)
    client.sendall(head + body[:10])
    return client


def wait_for_busy_worker(server: Gunicorn) -> int:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        busy = server.busy_workers()
        if busy:
            return busy[0]
        time.sleep(0.01)
    raise AssertionError("no worker took the held request")


def test_a_worker_killed_mid_submit_loses_and_doubles_nothing(
    transactional_db: Any, tmp_path: Path
) -> None:
    # given raters with tasks enough for all of them, and a gunicorn with 2 sync workers
    raters = [make_user(username=f"steady{i}") for i in range(RATERS)]
    setup_campaign(raters, tasks=RATERS * TASKS_EACH + 1, responses_per_task=2, overlap=1)
    tokens = [issue_token(user=rater)[1] for rater in raters]
    server = start_gunicorn(tmp_path, workers=2)
    tally = Tally()
    try:
        # when a worker is killed while it reads a submit (the body still on its way)
        claim = call(f"{server.url}/api/v1/assignments/next/", token=tokens[0], method="POST")
        client = held_submit(server, tokens[0], claim.body["id"])
        os.kill(wait_for_busy_worker(server), signal.SIGKILL)
        assert client.recv(1024) == b""  # the connection closed without an answer
        client.close()
        server.wait_until_serving(2)
        # then the client's retry with the same key is stored once
        retried = call(
            f"{server.url}/api/v1/assignments/{claim.body['id']}/submit/",
            token=tokens[0],
            method="POST",
            body={"ranking": RANKING, "idempotency_key": "held-submit-1"},
        )
        assert retried.status == 201, retried

        # when raters submit concurrently and busy workers are killed under them
        finals: list[Reply] = []
        threads = [
            threading.Thread(target=rate, args=(server, token, i, tally, finals))
            for i, token in enumerate(tokens)
        ]
        for thread in threads:
            thread.start()
        killed = kill_busy_workers(server, tally, lambda: any(t.is_alive() for t in threads))
        for thread in threads:
            thread.join(timeout=300)
    finally:
        server.stop()

    # then every answer was a 2xx or a dropped connection (retried), never a 5xx ...
    print(
        "\nworker-killed: 1 worker killed reading a submit (retried: 201); then under "
        f"{RATERS} concurrent raters {len(killed)} killed, {sum(tally.statuses.values())} "
        f"requests, statuses {dict(tally.statuses)} (0 = dropped, retried), "
        f"{tally.dropped_submits} of them submits, answered on retry "
        f"{dict(tally.retried_submit_answers)}"
    )
    assert set(tally.statuses) <= {DROPPED, 200, 201}, tally.statuses
    assert len(finals) == RATERS * TASKS_EACH
    assert {reply.status for reply in finals} <= {200, 201}
    # ... a 200 only for a submit whose first try was stored before its worker died
    assert all(reply.body["replayed"] == (reply.status == 200) for reply in finals)
    assert 1 <= len(killed) <= MAX_KILLS
    # and each rater's judgments are stored exactly once: one per task claimed, none lost
    stored = Counter(Judgment.objects.values_list("rater__username", flat=True))
    assert stored == {f"steady{i}": TASKS_EACH + (i == 0) for i in range(RATERS)}
    assert Judgment.objects.values("assignment").distinct().count() == RATERS * TASKS_EACH + 1
    judged = sorted(reply.body["judgment_id"] for reply in finals)
    assert len(set(judged)) == len(judged)
