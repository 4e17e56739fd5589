"""Identical responses to one prompt (different models often give the same answer) merge on
import into one response that records every generator: the task has fewer responses, the
report counts the merges, gold tiers follow, and a prompt left with one response is a row
error that writes nothing."""

from __future__ import annotations

import pytest

from annotation.models import JudgmentMode, Prompt, RankingTask, Response
from common.roles import Role
from tests.annotation.admin_api.helpers import (
    Client,
    ClientFor,
    jsonl,
    rate,
    row_counts,
    upload,
)
from tests.factories import make_campaign, make_pool

pytestmark = pytest.mark.django_db

SAME = "Use a set, then sort it back into the original order."


def texts_and_generators(task: RankingTask) -> list[tuple[str, str, dict[str, object]]]:
    by_id = Response.objects.in_bulk(task.response_ids)
    return [(by_id[i].text, by_id[i].generator, by_id[i].metadata) for i in task.response_ids]


def test_identical_responses_merge_and_keep_every_generator(
    admin: Client, client_for: ClientFor
) -> None:
    # given a prompt answered by four models, two of them with the same text
    campaign = make_campaign(overlap=1)
    rows = jsonl(
        {
            "prompt": "How do I deduplicate a list?",
            "responses": [
                {"text": SAME, "generator": "model-a"},
                {"text": "Loop and keep a seen set.", "generator": "model-b"},
                {"text": SAME, "generator": "model-c"},
                {"text": "Use dict.fromkeys(items).", "generator": "model-d"},
            ],
        },
        {"prompt": "Plain", "responses": ["x", "y"]},
    )

    # when
    response = upload(admin, campaign.pk, "outputs.jsonl", rows)

    # then one response holds the repeated text, naming both of its models
    assert response.status_code == 201, response.json()
    assert response.json() | {"errors": None} == {
        "prompts": 2,
        "responses": 5,
        "tasks": 2,
        "judgments": 0,
        "merged_responses": 1,
        "errors": None,
    }
    first, plain = RankingTask.objects.order_by("id")
    assert texts_and_generators(first) == [
        (SAME, "model-a", {"generators": ["model-a", "model-c"]}),
        ("Loop and keep a seen set.", "model-b", {}),
        ("Use dict.fromkeys(items).", "model-d", {}),
    ]
    assert len(plain.response_ids) == 2
    # and a rater ranks the three distinct answers
    rater = client_for(Role.ANNOTATOR)
    make_pool(campaigns=[campaign], members=[rater.user])
    shown = rate(rater, "merged-1", [["A"], ["B"], ["C"]])
    assert sorted(shown.values()) == sorted(t for t, _, _ in texts_and_generators(first))


def test_gold_tiers_follow_the_merge_and_a_pairwise_campaign_takes_the_two_left(
    admin: Client,
) -> None:
    ranking = make_campaign()
    pairwise = make_campaign(responses_per_task=2, judgment_mode=JudgmentMode.PAIRWISE)

    gold = upload(
        admin,
        ranking.pk,
        "gold.jsonl",
        jsonl({"prompt": "Q", "responses": ["good", "bad", "good"], "gold_ranking": [[1, 3], [2]]}),
    )
    pair = upload(
        admin, pairwise.pk, "pair.csv", b"prompt,response_1,response_2,response_3\nQ,a,b,a\n"
    )

    assert (gold.status_code, gold.json()["merged_responses"]) == (201, 1)
    task = RankingTask.objects.get(campaign=ranking)
    good, bad = task.response_ids
    assert (task.is_gold, task.gold_ranking) == (True, [[good], [bad]])
    assert (pair.status_code, pair.json()["merged_responses"]) == (201, 1)
    assert [t for t, _, _ in texts_and_generators(RankingTask.objects.get(campaign=pairwise))] == [
        "a",
        "b",
    ]


def test_a_prompt_left_with_one_response_is_a_row_error_and_nothing_is_written(
    admin: Client,
) -> None:
    campaign = make_campaign()
    before = row_counts()

    response = upload(
        admin,
        campaign.pk,
        "p.jsonl",
        jsonl(
            {"prompt": "Fine", "responses": ["a", "b"]},
            {"prompt": "Echo", "responses": [SAME, SAME]},
        ),
    )

    assert response.status_code == 400
    assert response.json()["errors"] == [
        {"line": 2, "reason": "all 2 responses are identical: a prompt needs 2 different ones"}
    ]
    assert row_counts() == before
    assert not Prompt.objects.filter(campaign=campaign).exists()
