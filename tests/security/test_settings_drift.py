"""A campaign's settings cannot drift from its tasks: a new overlap applies to the open tasks
(never below the judgments a task has; a task that now has enough is complete, as a submit
would leave it), and the judgment mode and K cannot change once the campaign has tasks."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

import pytest
from django.db import connection, transaction

from annotation.models import Campaign, Judgment, Prompt, RankingTask
from annotation.services.campaigns import update_campaign
from annotation.services.generated import GeneratedAnswers, GeneratedBatch, add_generated_tasks
from tests.annotation.admin_api.helpers import (
    API,
    Client,
    ClientFor,
    audit_log,
    jsonl,
    rate,
    upload,
)
from tests.factories import make_campaign, setup_campaign

pytestmark = pytest.mark.django_db


def _tasks(campaign: Campaign) -> list[tuple[int, int, str]]:
    """(submitted, required, status) of each task, in id order."""
    return [
        (t.submitted_count, t.required_judgments, t.status)
        for t in RankingTask.objects.filter(campaign=campaign).order_by("id")
    ]


@pytest.fixture
def raters(client_for: ClientFor) -> list[Client]:
    return [client_for(username=f"rater-{n}") for n in range(3)]


@pytest.fixture
def judged(raters: list[Client]) -> Campaign:
    """Overlap 3, four tasks judged 3, 2, 1 and 0 times through the rater API (a rater is
    given the first open task they have not seen)."""
    campaign, _ = setup_campaign([r.user for r in raters], tasks=4, overlap=3)
    r1, r2, r3 = raters
    for n, rater in enumerate([r1, r2, r3, r1, r2, r1]):
        rate(rater, f"drift-key-{n}")
    assert _tasks(campaign) == [(3, 3, "complete"), (2, 3, "open"), (1, 3, "open"), (0, 3, "open")]
    return campaign


def test_lowering_the_overlap_applies_to_open_tasks_and_completes_those_with_enough(
    admin: Client, raters: list[Client], judged: Campaign
) -> None:
    # when
    response = admin.patch(f"{API}/campaigns/{judged.pk}/", {"overlap": 2})

    # then: the complete task keeps its 3; the one with 2 judgments is complete at 2
    assert response.status_code == 200, response.content
    assert (response.json()["overlap"], response.json()["complete_count"]) == (2, 2)
    assert _tasks(judged) == [
        (3, 3, "complete"),
        (2, 2, "complete"),
        (1, 2, "open"),
        (0, 2, "open"),
    ]
    assert audit_log(admin)[0]["details"] == {
        "fields": ["overlap"],
        "overlap": {"old": 3, "new": 2},
        "tasks_changed": 3,
    }

    # and: the next judgment completes the third task at the new overlap, as submit does
    rate(raters[2], "drift-key-after")
    assert _tasks(judged)[2] == (2, 2, "complete")
    assert Judgment.objects.filter(is_surplus=True).count() == 0


def test_raising_the_overlap_never_reopens_a_complete_task(admin: Client, judged: Campaign) -> None:
    # when
    response = admin.patch(f"{API}/campaigns/{judged.pk}/", {"overlap": 4})

    # then
    assert response.status_code == 200
    assert _tasks(judged) == [(3, 3, "complete"), (2, 4, "open"), (1, 4, "open"), (0, 4, "open")]
    assert audit_log(admin)[0]["details"]["tasks_changed"] == 3


def test_an_unchanged_overlap_changes_no_task(admin: Client, judged: Campaign) -> None:
    # when
    response = admin.patch(f"{API}/campaigns/{judged.pk}/", {"overlap": 3, "guidelines": "G"})

    # then
    assert response.status_code == 200
    assert _tasks(judged) == [(3, 3, "complete"), (2, 3, "open"), (1, 3, "open"), (0, 3, "open")]
    assert audit_log(admin)[0]["details"] == {"fields": ["guidelines", "overlap"]}


@pytest.mark.parametrize(
    ("change", "fields"),
    [
        (
            {"judgment_mode": "pairwise", "responses_per_task": 2},
            ["judgment_mode", "responses_per_task"],
        ),
        ({"responses_per_task": 3}, ["responses_per_task"]),
        ({"judgment_mode": "pairwise"}, None),  # refused already: pairwise needs K = 2
    ],
)
def test_mode_and_k_are_fixed_once_the_campaign_has_tasks(
    admin: Client, change: dict[str, object], fields: list[str] | None
) -> None:
    # given: a 4-response ranking campaign with a task
    campaign, _ = setup_campaign([], tasks=1, responses_per_task=4, overlap=3)
    before = audit_log(admin)

    # when
    response = admin.patch(f"{API}/campaigns/{campaign.pk}/", change)

    # then
    campaign.refresh_from_db()
    assert (campaign.judgment_mode, campaign.responses_per_task) == ("rank", 4)
    assert audit_log(admin) == before
    if fields is None:
        assert (response.status_code, response.json()["code"]) == (400, "pairwise_needs_two")
        return
    assert response.status_code == 409
    assert response.json()["code"] == "campaign_has_tasks"
    assert sorted(response.json()["errors"]) == fields


def test_mode_and_k_may_change_before_any_task_and_be_resent_unchanged_after(
    admin: Client,
) -> None:
    # given
    empty = make_campaign(responses_per_task=4)
    with_tasks, _ = setup_campaign([], tasks=1, responses_per_task=4)

    # when
    switched = admin.patch(
        f"{API}/campaigns/{empty.pk}/", {"judgment_mode": "pairwise", "responses_per_task": 2}
    )
    resent = admin.patch(
        f"{API}/campaigns/{with_tasks.pk}/",
        {"judgment_mode": "rank", "responses_per_task": 4, "guidelines": "Read carefully."},
    )

    # then
    assert switched.status_code == 200
    assert (switched.json()["judgment_mode"], switched.json()["responses_per_task"]) == (
        "pairwise",
        2,
    )
    assert resent.status_code == 200
    assert resent.json()["guidelines"] == "Read carefully."


def test_an_edit_saves_onto_the_row_as_it_is_not_the_copy_the_caller_loaded(
    admin: Client,
) -> None:
    # given: a copy of an empty campaign loaded before an admin switched it to pairwise
    campaign = make_campaign(responses_per_task=4, overlap=3)
    stale = Campaign.objects.get(pk=campaign.pk)
    switched = admin.patch(
        f"{API}/campaigns/{campaign.pk}/", {"judgment_mode": "pairwise", "responses_per_task": 2}
    )
    assert switched.status_code == 200

    # when: an edit of the overlap made through that copy
    update_campaign(actor=admin.user, campaign=stale, changes={"overlap": 5})

    # then: the switch is kept
    campaign.refresh_from_db()
    assert (campaign.judgment_mode, campaign.responses_per_task, campaign.overlap) == (
        "pairwise",
        2,
        5,
    )


# -- an import or generated tasks racing an edit ------------------------------------------------
#
# An edit holds the campaign's row lock (as update_campaign does) while the import or the
# generated batch starts with the campaign loaded before the edit; the edit commits only once
# the other is seen waiting on that lock, which is the moment the old code read stale settings.


class EditHoldingTheLock(threading.Thread):
    """Locks the campaign row, waits for `go`, then applies `changes` through update_campaign
    and commits: an edit that began just before the import reached the database."""

    def __init__(self, campaign_id: int, actor: Any, changes: dict[str, object]) -> None:
        super().__init__(daemon=True)
        self.campaign_id, self.actor, self.changes = campaign_id, actor, changes
        self.locked, self.go = threading.Event(), threading.Event()
        self.backend_pid = 0
        self.error: BaseException | None = None

    def run(self) -> None:
        try:
            with transaction.atomic():
                current = Campaign.objects.select_for_update().get(pk=self.campaign_id)
                with connection.cursor() as cursor:
                    cursor.execute("SELECT pg_backend_pid()")
                    self.backend_pid = cursor.fetchone()[0]
                self.locked.set()
                if not self.go.wait(60):
                    raise TimeoutError("never told to commit")
                update_campaign(actor=self.actor, campaign=current, changes=self.changes)
        except BaseException as error:  # reported by the test, not lost in the thread
            self.error = error
        finally:
            connection.close()


def _in_thread(work: Callable[[], object]) -> tuple[threading.Thread, dict[str, object]]:
    result: dict[str, object] = {}

    def run() -> None:
        try:
            result["value"] = work()
        except BaseException as error:
            result["error"] = error
        finally:
            connection.close()

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return thread, result


def _race(edit: EditHoldingTheLock, work: Callable[[], object]) -> object:
    """Runs `work` while `edit` holds the lock; commits the edit once `work` waits on it."""
    edit.start()
    assert edit.locked.wait(30), edit.error
    thread, result = _in_thread(work)
    waiting = 0
    for _ in range(600):  # a bound on the wait for the lock, not a timed assertion
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE %s = ANY(pg_blocking_pids(pid))",
                [edit.backend_pid],
            )
            waiting = cursor.fetchone()[0]
        if waiting or not thread.is_alive():
            break
        time.sleep(0.05)
    edit.go.set()
    edit.join(60)
    thread.join(60)
    assert waiting == 1, "the import never waited on the campaign's row lock"
    assert edit.error is None, edit.error
    assert "error" not in result, result.get("error")
    return result["value"]


def _four_responses(n: int) -> bytes:
    return jsonl(
        *({"prompt": f"q{i}", "responses": [f"a{i}", f"b{i}", f"c{i}", f"d{i}"]} for i in range(n))
    )


def _task_shapes(campaign: Campaign) -> list[tuple[int, int]]:
    """(responses, required judgments) of each task, in id order."""
    return [
        (len(t.response_ids), t.required_judgments)
        for t in RankingTask.objects.filter(campaign=campaign).order_by("id")
    ]


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_an_import_racing_a_switch_to_pairwise_is_refused_not_written(admin: Client) -> None:
    # given: an empty 4-response campaign, switched to pairwise while a 4-response import runs
    campaign = make_campaign(responses_per_task=4, overlap=3)
    changes: dict[str, object] = {"judgment_mode": "pairwise", "responses_per_task": 2}
    edit = EditHoldingTheLock(campaign.pk, admin.user, {**changes, "overlap": 5})

    # when
    response: Any = _race(
        edit, lambda: upload(admin, campaign.pk, "race.jsonl", _four_responses(2))
    )

    # then: the switch won; the import was checked against it and wrote nothing
    campaign.refresh_from_db()
    assert (campaign.judgment_mode, campaign.responses_per_task, campaign.overlap) == (
        "pairwise",
        2,
        5,
    )
    assert response.status_code == 400, response.content
    assert response.json()["code"] == "import_rejected"
    assert [e["reason"] for e in response.json()["errors"]] == [
        "a pairwise campaign needs exactly 2 responses"
    ] * 2
    assert _task_shapes(campaign) == []


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_an_import_racing_an_overlap_change_builds_its_tasks_to_the_new_overlap(
    admin: Client,
) -> None:
    # given: a campaign whose overlap goes from 3 to 5 while an import runs
    campaign = make_campaign(responses_per_task=4, overlap=3)
    edit = EditHoldingTheLock(campaign.pk, admin.user, {"overlap": 5})

    # when
    response: Any = _race(
        edit, lambda: upload(admin, campaign.pk, "race.jsonl", _four_responses(3))
    )

    # then
    assert response.status_code == 201, response.content
    assert _task_shapes(campaign) == [(4, 5)] * 3


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_generated_tasks_racing_an_edit_follow_the_edited_mode_k_and_overlap(
    admin: Client,
) -> None:
    # given: a 4-response campaign with a prompt and no tasks yet, switched to pairwise with
    # overlap 5 while a training run's answers (loaded with the old campaign) become tasks
    campaign = make_campaign(responses_per_task=4, overlap=3)
    prompt = Prompt.objects.create(
        campaign=campaign, conversation=[{"role": "user", "content": "q"}]
    )
    changes: dict[str, object] = {"judgment_mode": "pairwise", "responses_per_task": 2}
    edit = EditHoldingTheLock(campaign.pk, admin.user, {**changes, "overlap": 5})
    answers = [GeneratedAnswers(prompt.pk, ["one", "two", "three", "four"])]

    # when
    created = _race(
        edit,
        lambda: add_generated_tasks(
            campaign=campaign,
            answers=answers,
            generator="policy",
            generator_version_id=None,
            batch_key="race",
        ),
    )

    # then: pairs, each needing the new overlap
    assert isinstance(created, GeneratedBatch)
    assert created.tasks == 2
    assert _task_shapes(campaign) == [(2, 5), (2, 5)]
