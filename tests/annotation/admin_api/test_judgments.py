"""The admin's judgment list."""

from __future__ import annotations

from typing import Any

from annotation.models import Judgment, Response
from tests.annotation.admin_api.helpers import (
    API,
    Client,
    ClientFor,
    rate,
)
from tests.factories import setup_campaign


def test_judgments_list_filters_by_campaign(admin: Client, client_for: ClientFor) -> None:
    # given: one judgment in each of two campaigns
    rater = client_for(username="erin")
    first, _ = setup_campaign([rater.user], tasks=1, overlap=1)
    second, _ = setup_campaign([rater.user], tasks=1, overlap=1)
    rate(rater, "judged-1")
    rate(rater, "judged-2")
    judgment_first = Judgment.objects.get(task__campaign=first)

    # when
    everything = admin.get(f"{API}/judgments/").json()
    only_first = admin.get(f"{API}/judgments/", {"campaign": first.pk}).json()
    nonsense = admin.get(f"{API}/judgments/", {"campaign": "abc"}).json()
    detail = admin.get(f"{API}/judgments/{judgment_first.pk}/")

    # then
    assert [j["campaign_id"] for j in everything["results"]] == [second.pk, first.pk]
    assert [j["id"] for j in only_first["results"]] == [judgment_first.pk]
    assert nonsense["count"] == 0
    body = detail.json()
    assert set(body) == {
        "id",
        "flagged_responses",
        "task_id",
        "campaign_id",
        "assignment_id",
        "rater_id",
        "rater_username",
        "ranking",
        "strength",
        "flags",
        "rationale",
        "is_surplus",
        "was_late",
        "source",
        "server_time_ms",
        "client_time_ms",
        "submitted_at",
    }
    assert (body["campaign_id"], body["rater_username"], body["source"], body["was_late"]) == (
        first.pk,
        "erin",
        "human",
        False,
    )
    assert sorted(pk for tier in body["ranking"] for pk in tier) == sorted(
        judgment_first.task.response_ids
    )


def test_annotated_keeps_the_judgments_with_a_flag_or_a_rationale(
    admin: Client, client_for: ClientFor
) -> None:
    # given four judgments: plain, flagged as a set, explained, one response flagged
    raters = [client_for() for _ in range(4)]
    campaign, _ = setup_campaign([r.user for r in raters], tasks=1, overlap=4)
    extras: list[dict[str, Any]] = [
        {},
        {"flags": ["all_bad"]},
        {"rationale": "B is wrong about 1969"},
        {"response_flags": {"C": ["unsafe", "factually_wrong"]}},
    ]
    for n, (rater, extra) in enumerate(zip(raters, extras, strict=True)):
        task = rater.post(f"{API}/assignments/next/").json()
        body = {
            "ranking": [["A"], ["B"], ["C"], ["D"]],
            "idempotency_key": f"annotated-{n}",
            **extra,
        }
        submitted = rater.post(f"{API}/assignments/{task['id']}/submit/", body, format="json")
        assert submitted.status_code == 201, submitted.json()

    # when
    listed = admin.get(f"{API}/judgments/", {"campaign": campaign.pk, "annotated": "true"}).json()

    # then newest first, the plain one left out; the flagged response named with its text
    assert [(j["flags"], j["rationale"]) for j in listed["results"]] == [
        ([], ""),
        ([], "B is wrong about 1969"),
        (["all_bad"], ""),
    ]
    last = Judgment.objects.get(rater=raters[3].user)
    flagged = last.assignment.display_order[2]  # C in that rater's order
    assert listed["results"][0]["flagged_responses"] == [
        {
            "response_id": flagged,
            "flags": ["factually_wrong", "unsafe"],
            "excerpt": Response.objects.get(pk=flagged).text[:160],
        }
    ]
    assert [j["flagged_responses"] for j in listed["results"][1:]] == [[], []]
    assert admin.get(f"{API}/judgments/", {"campaign": campaign.pk}).json()["count"] == 4
