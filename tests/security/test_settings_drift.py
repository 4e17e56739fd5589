"""A campaign's settings cannot drift from its tasks: a new overlap applies to the open tasks
(never below the judgments a task has; a task that now has enough is complete, as a submit
would leave it), and the judgment mode and K cannot change once the campaign has tasks."""

from __future__ import annotations

import pytest

from annotation.models import Campaign, Judgment, RankingTask
from common.roles import Role
from tests.annotation.admin_api.helpers import API, Client, ClientFor, audit_log, rate
from tests.factories import make_campaign, setup_campaign

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin(client_for: ClientFor) -> Client:
    return client_for(Role.ADMIN, username="admin-amy")


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
