"""The core promise under real concurrency, on real Postgres with real threads: no task is
judged by more raters than its overlap, no rater judges a task twice, nothing submitted is
lost, and a replayed submit writes nothing."""

from __future__ import annotations

import functools
import random
import threading
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from django.db import connection
from django.db.models import Count
from rest_framework.test import APIClient

from annotation.models import Assignment, AssignmentStatus, Judgment, Preference, RankingTask
from tests.factories import make_user, setup_campaign

pytestmark = [pytest.mark.postgres, pytest.mark.slow, pytest.mark.django_db(transaction=True)]


def in_thread(work: Callable[[], Any]) -> Callable[[], Any]:
    """Run `work` with its own database connection, closed afterwards."""

    def run() -> Any:
        try:
            return work()
        finally:
            connection.close()

    return run


def rate_until_dry(user: Any, seed: int) -> tuple[list[int], int, int]:
    """One rater's loop: next, submit, and replay the submit; skip one task in ten. Returns
    the stored judgment ids, the replays answered with the same judgment, and the skips."""
    client = APIClient()
    client.force_authenticate(user=user)
    rng = random.Random(seed)
    stored: list[int] = []
    replays_ok = skips = 0
    while True:
        reply = client.post("/api/v1/assignments/next/")
        if reply.status_code == 204:
            return stored, replays_ok, skips
        assert reply.status_code == 200, reply.content
        assignment = reply.json()
        if rng.random() < 0.1:
            assert client.post(f"/api/v1/assignments/{assignment['id']}/skip/").status_code == 200
            skips += 1
            continue
        labels = [r["label"] for r in assignment["responses"]]
        rng.shuffle(labels)
        body = {
            "ranking": [[label] for label in labels],
            "idempotency_key": f"key-u{user.pk}-a{assignment['id']}",
        }
        url = f"/api/v1/assignments/{assignment['id']}/submit/"
        first = client.post(url, body, format="json")
        assert first.status_code == 201, first.content
        stored.append(first.json()["judgment_id"])
        replay = client.post(url, body, format="json")
        replays_ok += replay.status_code == 200 and replay.json()["judgment_id"] == stored[-1]


def test_forty_raters_fill_two_hundred_tasks_exactly_to_overlap() -> None:
    raters = [make_user() for _ in range(40)]
    _, tasks = setup_campaign(raters, tasks=200, overlap=3)

    # A rater who is told "nothing left" while another still holds a lease stops; if that
    # lease is then skipped its slot reopens with nobody left to take it. Real raters come
    # back later; here every rater comes back for another round until a round stores nothing.
    results: list[tuple[list[int], int, int]] = []
    for round_number in range(10):
        with ThreadPoolExecutor(max_workers=40) as pool:
            futures = [
                pool.submit(in_thread(functools.partial(rate_until_dry, user, seed)))
                for seed, user in enumerate(raters, start=round_number * 100)
            ]
            this_round = [future.result() for future in futures]
        results += this_round
        if not any(ids or skips for ids, _, skips in this_round):
            break

    stored = [judgment_id for ids, _, _ in results for judgment_id in ids]
    assert sum(replays for _, replays, _ in results) == len(stored)
    assert len(stored) == len(set(stored)) == Judgment.objects.count()
    assert set(Judgment.objects.values_list("id", flat=True)) == set(stored)
    assert Preference.objects.count() == 6 * len(stored)
    per_task = Counter(Judgment.objects.filter(is_surplus=False).values_list("task_id", flat=True))
    assert per_task == dict.fromkeys((t.pk for t in tasks), 3)
    assert not Judgment.objects.filter(is_surplus=True).exists()
    assert set(RankingTask.objects.values_list("submitted_count", "status")) == {(3, "complete")}
    twice = Judgment.objects.values("task", "rater").annotate(n=Count("id")).filter(n__gt=1)
    assert not twice.exists()
    assert not Assignment.objects.filter(status=AssignmentStatus.LEASED).exists()


def test_concurrent_replays_of_one_submit_store_one_judgment() -> None:
    user = make_user()
    setup_campaign([user], tasks=1)
    client = APIClient()
    client.force_authenticate(user=user)
    assignment = client.post("/api/v1/assignments/next/").json()
    body = {"ranking": [["A"], ["B"], ["C"], ["D"]], "idempotency_key": "same-key-everywhere"}
    barrier = threading.Barrier(8)

    def send() -> tuple[int, int]:
        own = APIClient()
        own.force_authenticate(user=user)
        barrier.wait()
        reply = own.post(f"/api/v1/assignments/{assignment['id']}/submit/", body, format="json")
        return reply.status_code, reply.json()["judgment_id"]

    with ThreadPoolExecutor(max_workers=8) as pool:
        replies = [f.result() for f in [pool.submit(in_thread(send)) for _ in range(8)]]

    assert sorted(status for status, _ in replies) == [200] * 7 + [201]
    assert len({judgment_id for _, judgment_id in replies}) == 1
    assert Judgment.objects.count() == 1


def test_one_rater_in_two_tabs_holds_one_lease() -> None:
    user = make_user()
    setup_campaign([user], tasks=5)
    barrier = threading.Barrier(6)

    def claim() -> int:
        client = APIClient()
        client.force_authenticate(user=user)
        barrier.wait()
        return client.post("/api/v1/assignments/next/").json()["id"]

    with ThreadPoolExecutor(max_workers=6) as pool:
        ids = [f.result() for f in [pool.submit(in_thread(claim)) for _ in range(6)]]

    assert len(set(ids)) == 1
    assert Assignment.objects.count() == 1
