"""Judge routing: after a generation round an LLM judge's verdicts in both orders decide which
new tasks people judge; the sure, order-consistent ones are pre-labelled (source judge) and
every verdict is kept to score the judge (annotation/routing.py, services/generated.py)."""

from __future__ import annotations

import math
from typing import Any

import pytest

from annotation.models import JudgeVerdict, LabelSource, ModelLabel, Prompt, RankingTask, Response
from annotation.routing import judge_label, judge_task_confidence, swapped, verdict_confidence
from annotation.services.generated import GeneratedAnswers, Labeller, add_generated_tasks
from tests.factories import make_campaign

JUDGE = Labeller("smollm2", None)


def test_a_verdict_is_as_sure_as_its_less_sure_order_and_never_when_the_orders_disagree() -> None:
    assert verdict_confidence((2.0, 0.5)) == 0.5
    assert verdict_confidence((-3.0, -1.0)) == 1.0
    assert verdict_confidence((2.0, -2.0)) == -math.inf  # position decided it
    assert verdict_confidence(None) == -math.inf  # not judged
    assert judge_task_confidence([(2.0, 1.0), (3.0, 3.0)]) == 1.0
    assert swapped((2.0, 0.5)) == (-0.5, -2.0)
    label = judge_label(0, 1, (-2.0, -1.0))
    assert (label.chosen, label.rejected, label.margin, label.confidence) == (1, 0, 1.5, 1.0)


@pytest.mark.django_db
def test_sure_consistent_tasks_are_pre_labelled_and_the_rest_go_to_raters() -> None:
    campaign = make_campaign(
        judgment_mode="pairwise", responses_per_task=2, routing="judge", routing_confidence=1.0
    )
    prompt = Prompt.objects.create(
        campaign=campaign, conversation=[{"role": "user", "content": "q"}]
    )
    texts = ["a", "b", "c", "d", "e", "f"]
    verdicts = {
        ("a", "b"): (2.0, 1.5),  # sure both ways that a is better: pre-labelled
        ("d", "c"): (1.0, -1.0),  # the orders disagree: to raters
        ("e", "f"): (0.4, 0.3),  # consistent but not sure enough: to raters
    }
    batch = add_generated_tasks(
        campaign=campaign,
        answers=[GeneratedAnswers(prompt.pk, texts, None, verdicts)],
        generator="policy",
        generator_version_id=None,
        batch_key="round-1",
        labeller=JUDGE,
    )
    assert (batch.tasks, batch.model_tasks, batch.model_labels, batch.over_budget) == (2, 1, 1, 0)
    ids = {r.text: r.pk for r in Response.objects.filter(prompt=prompt)}
    tasks = {frozenset(t.response_ids) for t in RankingTask.objects.filter(campaign=campaign)}
    assert tasks == {frozenset((ids["c"], ids["d"])), frozenset((ids["e"], ids["f"]))}
    label = ModelLabel.objects.get(campaign=campaign)
    assert (label.source, label.labeller) == (LabelSource.JUDGE, "smollm2")
    assert (label.chosen_id, label.rejected_id) == (ids["a"], ids["b"])
    assert (label.margin, label.confidence) == (1.75, 1.5)
    # Every verdict is kept, read for the lower response id first.
    stored = {
        (v.first_id, v.second_id): (v.first_shown_first, v.first_shown_second)
        for v in JudgeVerdict.objects.filter(campaign=campaign)
    }
    assert stored == {
        (ids["a"], ids["b"]): (2.0, 1.5),
        (ids["c"], ids["d"]): (1.0, -1.0),  # asked as (d, c): (1.0, -1.0) read back swapped
        (ids["e"], ids["f"]): (0.4, 0.3),
    }


@pytest.mark.django_db
def test_the_human_budget_applies_and_unjudged_answers_go_to_raters() -> None:
    campaign = make_campaign(
        judgment_mode="pairwise",
        responses_per_task=2,
        routing="judge",
        routing_confidence=1.0,
        human_tasks_per_prompt=1,
    )
    prompt = Prompt.objects.create(
        campaign=campaign, conversation=[{"role": "user", "content": "q"}]
    )
    verdicts = {("a", "b"): (0.2, 0.2), ("c", "d"): (1.0, -1.0)}
    batch = add_generated_tasks(
        campaign=campaign,
        answers=[GeneratedAnswers(prompt.pk, ["a", "b", "c", "d"], None, verdicts)],
        generator="policy",
        generator_version_id=None,
        batch_key="round-1",
        labeller=JUDGE,
    )
    # The inconsistent task is the least sure: it goes to raters; the other is over budget.
    assert (batch.tasks, batch.model_tasks, batch.over_budget) == (1, 0, 1)
    (task,) = RankingTask.objects.filter(campaign=campaign)
    texts = set(Response.objects.filter(pk__in=task.response_ids).values_list("text", flat=True))
    assert texts == {"c", "d"}
    # A round whose answers were not judged sends everything to raters.
    unjudged = add_generated_tasks(
        campaign=campaign,
        answers=[GeneratedAnswers(prompt.pk, ["g", "h"])],
        generator="policy",
        generator_version_id=None,
        batch_key="round-2",
        labeller=JUDGE,
    )
    assert (unjudged.tasks, unjudged.model_tasks) == (1, 0)


@pytest.mark.django_db
def test_judge_routing_through_the_admin_api(admin: Any) -> None:
    created = admin.post(
        "/api/v1/campaigns/",
        {"name": "Judged", "judgment_mode": "pairwise", "responses_per_task": 2},
        format="json",
    ).json()
    assert created["judge_model"] == "smollm2"
    url = f"/api/v1/campaigns/{created['id']}/"
    bad = admin.patch(url, {"routing": "judge", "judge_model": " "}, format="json")
    assert bad.status_code == 400
    assert set(bad.json()["errors"]) == {"judge_model"}
    changed = admin.patch(
        url,
        {"routing": "judge", "judge_model": "HuggingFaceTB/SmolLM2-360M-Instruct"},
        format="json",
    ).json()
    assert (changed["routing"], changed["judge_model"]) == (
        "judge",
        "HuggingFaceTB/SmolLM2-360M-Instruct",
    )
