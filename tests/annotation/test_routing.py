"""Uncertainty routing: which of a generation round's tasks people judge and which the reward
model labels (annotation/routing.py, annotation/services/generated.py)."""

from __future__ import annotations

import math
from typing import Any

import pytest

from annotation.models import (
    Campaign,
    Judgment,
    ModelLabel,
    Preference,
    Prompt,
    RankingTask,
    Response,
)
from annotation.routing import (
    confident,
    model_pairs,
    pair_confidence,
    pair_information,
    task_confidence,
    task_information,
    to_raters,
)
from annotation.services.generated import (
    GeneratedAnswers,
    GeneratedBatch,
    Labeller,
    add_generated_tasks,
)
from tests.factories import make_campaign


def test_pair_confidence_is_the_mean_margin_in_head_standard_deviations() -> None:
    # margins 1, 2, 3: mean 2, sample std 1
    assert pair_confidence([1.0, 2.0, 3.0], [0.0, 0.0, 0.0]) == pytest.approx(2.0)
    assert pair_confidence([0.0, 0.0, 0.0], [1.0, 2.0, 3.0]) == pytest.approx(2.0)  # either side
    assert pair_confidence([1.0, -1.0], [0.0, 0.0]) == 0.0  # heads cancel out
    assert math.isinf(pair_confidence([1.0, 1.0], [0.0, 0.0]))  # exact agreement


def test_a_task_is_as_confident_as_its_least_confident_pair() -> None:
    answers = [[5.0, 5.1, 4.9], [0.0, 0.1, -0.1], [0.3, -0.1, 0.1]]
    weakest = pair_confidence(answers[1], answers[2])
    assert task_confidence(answers) == pytest.approx(weakest)
    pairs = model_pairs(answers)
    assert [(p.chosen, p.rejected) for p in pairs] == [(0, 1), (0, 2), (2, 1)]
    assert all(p.margin >= 0 for p in pairs)


def test_to_raters_takes_the_least_confident_below_the_threshold_within_the_budget() -> None:
    tasks = {1: [(0, 0.5), (1, 3.0), (2, 0.1), (3, 1.0)], 2: [(4, 5.0)]}
    assert to_raters(tasks, threshold=2.0, per_prompt=0) == {0, 2, 3}
    assert to_raters(tasks, threshold=2.0, per_prompt=2) == {2, 0}
    assert to_raters(tasks, threshold=0.0, per_prompt=0) == set()  # nothing is below zero
    assert confident(tasks, threshold=2.0) == {1, 4}
    # Given what each task's labels would tell, the most informative go first instead.
    information = {0: 0.1, 1: 0.0, 2: 0.05, 3: 0.3, 4: 0.0}
    assert to_raters(tasks, threshold=2.0, per_prompt=2, information=information) == {3, 0}


def test_a_label_tells_most_where_the_heads_disagree_and_nothing_on_an_agreed_coin_toss() -> None:
    coin_toss = pair_information([0.0, 0.0, 0.0], [0.0, 0.0, 0.0])
    sure = pair_information([4.0, 4.0, 4.0], [0.0, 0.0, 0.0])
    disputed = pair_information([3.0, -3.0, 3.0], [0.0, 0.0, 0.0])
    assert coin_toss == pytest.approx(0.0, abs=1e-9)
    assert sure == pytest.approx(0.0, abs=1e-9)
    assert disputed > 0.3
    # The agreed coin toss is the least confident pair there is, and the least informative.
    assert pair_confidence([0.0, 0.0, 0.0], [0.0, 0.0, 0.0]) == 0.0
    answers = [[3.0, -3.0, 3.0], [0.0, 0.0, 0.0], [0.1, 0.1, 0.1]]
    assert task_information(answers) == pytest.approx(
        pair_information(answers[0], answers[1])
        + pair_information(answers[0], answers[2])
        + pair_information(answers[1], answers[2])
    )


REWARD = Labeller("reward", None)


def _add(
    campaign: Campaign,
    answers: list[GeneratedAnswers],
    labeller: Labeller = REWARD,
    batch_key: str = "k",
    generator: str = "p",
) -> GeneratedBatch:
    return add_generated_tasks(
        campaign=campaign,
        answers=answers,
        generator=generator,
        generator_version_id=None,
        batch_key=batch_key,
        labeller=labeller,
    )


def _heads(mean: float, spread: float) -> list[float]:
    return [mean - spread, mean, mean + spread]


@pytest.mark.django_db
def test_generated_pairs_split_between_raters_and_model_labels() -> None:
    campaign = make_campaign(
        judgment_mode="pairwise",
        responses_per_task=2,
        overlap=2,
        routing="uncertainty",
        routing_confidence=2.0,
        human_tasks_per_prompt=1,
    )
    prompt = Prompt.objects.create(
        campaign=campaign, conversation=[{"role": "user", "content": "q"}]
    )
    # Pairs (a, b), (c, d), (e, f): c vs d is clear (confidence 20); a vs b (0.2) and e vs f
    # (0.5) are uncertain, and the heads disagree more on e vs f (margins 0.5, -0.5, -1.5
    # against -0.4, 0.1, 0.6), so its label tells them more: it takes the budget of one human
    # task per prompt, and a vs b gets neither people nor the model.
    texts = ["a", "b", "c", "d", "e", "f"]
    heads = [
        _heads(0.1, 0.5), _heads(0.0, 0.0),
        _heads(2.0, 0.1), _heads(0.0, 0.0),
        _heads(0.0, 0.0), _heads(0.5, 1.0),
    ]  # fmt: skip
    answers = [GeneratedAnswers(prompt.pk, texts, heads)]
    labeller = Labeller("reward-v3", 42)

    batch = _add(campaign, answers, labeller=labeller, batch_key="round-1", generator="policy-v2")
    again = _add(campaign, answers, labeller=labeller, batch_key="round-1", generator="policy-v2")

    assert (batch.tasks, batch.model_tasks, batch.model_labels, batch.over_budget) == (1, 1, 1, 1)
    assert again.tasks == again.model_labels == 0  # a repeat adds nothing
    task = RankingTask.objects.get(campaign=campaign)
    shown = set(Response.objects.filter(pk__in=task.response_ids).values_list("text", flat=True))
    assert shown == {"e", "f"}  # the most informative uncertain pair goes to people
    assert pair_information(heads[4], heads[5]) > pair_information(heads[0], heads[1])
    labels = {
        (label.chosen.text, label.rejected.text): label
        for label in ModelLabel.objects.select_related("chosen", "rejected")
    }
    assert set(labels) == {("c", "d")}  # the confident pair, higher mean reward chosen
    assert labels[("c", "d")].confidence == pytest.approx(20.0)
    assert labels[("c", "d")].margin == pytest.approx(2.0)
    assert Response.objects.filter(prompt=prompt).count() == 6  # a and b are kept all the same
    assert {
        (label.source, label.labeller, label.labeller_version_id) for label in labels.values()
    } == {("model", "reward-v3", 42)}
    # never a human judgment
    assert Judgment.objects.count() == Preference.objects.count() == 0


@pytest.mark.django_db
def test_a_rank_campaign_routes_whole_rankings_by_their_least_confident_pair() -> None:
    campaign = make_campaign(responses_per_task=3, overlap=1, routing="uncertainty")
    prompt = Prompt.objects.create(
        campaign=campaign, conversation=[{"role": "user", "content": "q"}]
    )
    sure = [_heads(3.0, 0.1), _heads(1.5, 0.1), _heads(0.0, 0.1)]  # every pair 15 s.d. apart
    torn = [_heads(3.0, 0.1), _heads(1.5, 0.1), _heads(1.4, 0.5)]  # one pair a toss-up
    answers = [GeneratedAnswers(prompt.pk, ["a", "b", "c", "d", "e", "f"], sure + torn)]
    batch = _add(campaign, answers)
    assert (batch.tasks, batch.model_tasks, batch.model_labels) == (1, 1, 3)
    task = RankingTask.objects.get(campaign=campaign)
    assert sorted(
        Response.objects.filter(pk__in=task.response_ids).values_list("text", flat=True)
    ) == ["d", "e", "f"]
    pairs = set(ModelLabel.objects.values_list("chosen__text", "rejected__text"))
    assert pairs == {("a", "b"), ("a", "c"), ("b", "c")}


@pytest.mark.django_db
def test_a_campaign_that_does_not_route_sends_every_task_to_raters() -> None:
    campaign = make_campaign(judgment_mode="pairwise", responses_per_task=2, overlap=1)
    prompt = Prompt.objects.create(
        campaign=campaign, conversation=[{"role": "user", "content": "q"}]
    )
    answers = [
        GeneratedAnswers(prompt.pk, ["a", "b", "c", "d"], [_heads(9, 0.1)] * 2 + [_heads(0, 0)] * 2)
    ]
    batch = _add(campaign, answers)
    assert (batch.tasks, batch.model_labels) == (2, 0)
    assert not ModelLabel.objects.exists()


@pytest.mark.django_db
def test_routing_settings_through_the_admin_api_with_the_model_label_count(admin: Any) -> None:
    created = admin.post(
        "/api/v1/campaigns/",
        {"name": "Routed", "judgment_mode": "pairwise", "responses_per_task": 2},
        format="json",
    ).json()
    assert (created["routing"], created["routing_confidence"]) == ("everything", 2.0)
    url = f"/api/v1/campaigns/{created['id']}/"
    bad = admin.patch(url, {"routing_confidence": -1, "routing": "sometimes"}, format="json")
    assert bad.status_code == 400
    assert set(bad.json()["errors"]) == {"routing_confidence", "routing"}
    changed = admin.patch(
        url, {"routing": "uncertainty", "human_tasks_per_prompt": 1}, format="json"
    ).json()
    assert (changed["routing"], changed["human_tasks_per_prompt"]) == ("uncertainty", 1)

    campaign = Campaign.objects.get(pk=created["id"])
    prompt = Prompt.objects.create(
        campaign=campaign, conversation=[{"role": "user", "content": "q"}]
    )
    answers = [
        GeneratedAnswers(prompt.pk, ["a", "b", "c", "d"], [_heads(5, 0.1), _heads(0, 0.1)] * 2)
    ]
    batch = _add(campaign, answers)
    assert (batch.tasks, batch.model_labels) == (0, 2)  # both pairs are confident
    listed = admin.get("/api/v1/campaigns/").json()["results"]
    row = next(r for r in listed if r["id"] == campaign.pk)
    assert (row["model_label_count"], row["task_count"]) == (2, 0)
