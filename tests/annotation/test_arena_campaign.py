"""The private arena as people use it: models' answers imported under their names, blind
pairwise tasks chosen by the arena (never built from the import), raters who never see a
model's name, a leaderboard over the HTTP API, and the clear errors around it."""

from __future__ import annotations

import json
import math
import random
from collections import Counter
from typing import Any

import pytest

from annotation.arena import N_BOOT
from annotation.models import Assignment, Campaign, Judgment, RankingTask, Response
from annotation.services import arena as arena_services
from annotation.services.arena import ARENA_OPEN_TASKS, set_arena_focus, top_up_arena
from annotation.services.importing import import_file
from common.roles import Role
from tests.factories import make_campaign, make_pool

pytestmark = pytest.mark.django_db
NEXT = "/api/v1/assignments/next/"
CANARY = "CANARY-model-7f3a9c"
# Simulated quality: P(a's answer beats b's) = sigmoid(quality[a] - quality[b]).
QUALITY = {"model-strong": 1.2, "model-middle": 0.0, CANARY: -1.2}


def arena(**fields: Any) -> Campaign:
    return make_campaign(
        is_arena=True, judgment_mode="pairwise", responses_per_task=2, overlap=1, **fields
    )


def import_answers(campaign: Campaign, models: list[str], prompts: int = 12) -> Any:
    """Every model's answer to each prompt, in one file; a model's answer never names it (the
    canary's are longer, so a test can tell they were shown)."""
    rows = [
        {
            "prompt": f"Question {i}: how do tides work?",
            "responses": [
                {
                    "text": f"Answer {m} to question {i}" + " in detail" * (name == CANARY),
                    "generator": name,
                }
                for m, name in enumerate(models)
            ],
        }
        for i in range(prompts)
    ]
    data = "\n".join(json.dumps(row) for row in rows).encode()
    return import_file(actor=None, campaign=campaign, data=data, filename="answers.jsonl")


def task_models(task: RankingTask) -> list[str]:
    names = dict(Response.objects.filter(pk__in=task.response_ids).values_list("pk", "generator"))
    return [names[pk] for pk in task.response_ids]


def test_an_import_into_an_arena_stores_answers_and_the_arena_opens_blind_pairs() -> None:
    campaign = arena()

    report = import_answers(campaign, list(QUALITY))

    assert report.is_ok, report.errors
    assert (report.prompts, report.responses) == (12, 36)
    tasks = list(RankingTask.objects.filter(campaign=campaign))
    assert report.tasks == len(tasks) == ARENA_OPEN_TASKS
    pairs = [frozenset(task_models(t)) for t in tasks]
    assert all(len(p) == 2 for p in pairs)  # always two different models
    # Before any comparison every pair of models is asked in turn.
    assert set(Counter(pairs).values()) == {ARENA_OPEN_TASKS // 3}
    assert len({t.prompt_id for t in tasks}) == len(tasks)  # spread over prompts


def test_each_models_answers_may_come_in_a_file_of_its_own() -> None:
    campaign = arena()
    for name in ("model-one", "model-two"):
        rows = [
            {
                "prompt": f"Question {i}",
                "responses": [{"text": f"{i} by {name[-3:]}", "generator": name}],
            }
            for i in range(4)
        ]
        data = "\n".join(json.dumps(row) for row in rows).encode()
        report = import_file(actor=None, campaign=campaign, data=data, filename=f"{name}.jsonl")
        assert report.is_ok, report.errors

    assert campaign.prompts.count() == 4  # the second file answered the first file's prompts
    tasks = list(RankingTask.objects.filter(campaign=campaign))
    assert len(tasks) == ARENA_OPEN_TASKS
    assert {t.prompt_id for t in tasks} == set(campaign.prompts.values_list("pk", flat=True))
    assert all(sorted(task_models(t)) == ["model-one", "model-two"] for t in tasks)


def test_arena_imports_refuse_unnamed_answers_and_preference_pairs() -> None:
    campaign = arena()
    rows = [
        {"prompt": "Hi", "responses": ["an answer from nobody knows whom"]},
        {"prompt": "Hi", "chosen": "Hello!", "rejected": "No."},
    ]
    data = "\n".join(json.dumps(row) for row in rows).encode()

    report = import_file(actor=None, campaign=campaign, data=data, filename="bad.jsonl")

    assert [(e.line, e.reason) for e in report.errors] == [
        (
            1,
            "responses[0] names no generator: an arena answer needs the name of the model "
            "that wrote it",
        ),
        (2, "an arena takes answers, not chosen/rejected pairs"),
    ]
    assert not Response.objects.filter(prompt__campaign=campaign).exists()  # nothing written


def test_an_arena_must_be_pairwise(admin: Any) -> None:
    reply = admin.post(
        "/api/v1/campaigns/",
        {
            "name": "ranked arena",
            "is_arena": True,
            "judgment_mode": "rank",
            "responses_per_task": 4,
        },
        format="json",
    )

    assert reply.status_code == 400
    assert "pairwise" in reply.json()["errors"]["is_arena"][0]
    assert not Campaign.objects.filter(name="ranked arena").exists()


def test_raters_never_see_a_model_name(client_for: Any) -> None:
    rater = client_for()
    campaign = arena()
    make_pool(members=[rater.user], campaigns=[campaign])
    import_answers(campaign, list(QUALITY))

    seen = []
    for n in range(ARENA_OPEN_TASKS):
        reply = rater.post(NEXT)
        assert reply.status_code == 200
        seen.append(reply.content.decode())
        body = reply.json()
        submitted = rater.post(
            f"/api/v1/assignments/{body['id']}/submit/",
            {
                "ranking": [["A"], ["B"]],
                "strength": "better",
                "idempotency_key": f"key-canary-{n:04d}",
            },
            format="json",
        )
        assert submitted.status_code == 201
        seen.append(submitted.content.decode())
    seen.append(rater.get("/api/v1/me/stats/").content.decode())
    seen.append(rater.get("/api/v1/me/").content.decode())

    canary_answers = Response.objects.filter(generator=CANARY).count()
    assert canary_answers == 12
    assert any("in detail" in page for page in seen)  # the canary's answers were shown ...
    assert all(CANARY not in page and "model-" not in page for page in seen)  # ... unnamed


def _simulated_rater_session(
    rater: Any, rng: random.Random, judgments: int, on_commit: Any
) -> None:
    """A rater who prefers answers by the models' hidden quality, through the API (each
    submission's after-commit work, the arena's next task, run as a real commit would)."""
    for n in range(judgments):
        reply = rater.post(NEXT)
        if reply.status_code != 200:
            return
        body = reply.json()
        order = Assignment.objects.get(pk=body["id"]).display_order
        names = dict(Response.objects.filter(pk__in=order).values_list("pk", "generator"))
        a, b = (QUALITY.get(names[pk], 0.0) for pk in order)
        a_wins = rng.random() < 1 / (1 + math.exp(b - a))
        ranking = [["A"], ["B"]] if a_wins else [["B"], ["A"]]
        with on_commit(execute=True):
            submitted = rater.post(
                f"/api/v1/assignments/{body['id']}/submit/",
                {"ranking": ranking, "strength": "better", "idempotency_key": f"key-sim-{n:04d}"},
                format="json",
            )
        assert submitted.status_code == 201


def test_the_leaderboard_orders_the_models_and_new_tasks_follow_the_judgments(
    client_for: Any, django_capture_on_commit_callbacks: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    raters = [client_for() for _ in range(3)]
    campaign = arena()
    make_pool(members=[r.user for r in raters], campaigns=[campaign])
    import_answers(campaign, list(QUALITY), prompts=30)
    rng = random.Random(7)

    for rater in raters:
        _simulated_rater_session(rater, rng, 60, django_capture_on_commit_callbacks)

    judged = Judgment.objects.filter(task__campaign=campaign).count()
    assert judged == 180  # the arena kept opening tasks as judgments came in
    open_tasks = RankingTask.objects.filter(campaign=campaign, status="open").count()
    assert open_tasks == ARENA_OPEN_TASKS
    engineer = client_for(Role.ML_ENGINEER)
    reply = engineer.get(f"/api/v1/campaigns/{campaign.pk}/arena/")
    assert reply.status_code == 200
    body = reply.json()
    assert body["plain"]["comparisons"] == 180
    assert [s["model"] for s in body["plain"]["standings"]] == list(QUALITY)
    for standing in body["plain"]["standings"]:
        assert standing["low"] <= standing["score"] <= standing["high"]
    # Every model was asked about (every pair twice at first); then active choice spends
    # most on the close calls.
    assert all(s["comparisons"] >= 4 for s in body["plain"]["standings"])
    controlled = body["length_controlled"]
    assert controlled["length_controlled"] is True
    assert controlled["length_coefficient"] is not None
    assert len(body["next_pair"]) == 2
    assert set(body["next_pair"]) <= set(QUALITY)
    assert body["min_tasks"] >= 1
    assert body["plain"]["tasks"] == 180  # one rater a task here
    assert body["plain"]["resamples"] == N_BOOT  # a bootstrap of the tasks

    # Past the bootstrap's limit the intervals are the fit's own, and still rank and cover.
    monkeypatch.setattr(arena_services, "LEADERBOARD_BOOTSTRAP_MAX", 100)
    large = engineer.get(f"/api/v1/campaigns/{campaign.pk}/arena/").json()["plain"]
    assert large["resamples"] == 0
    assert [s["model"] for s in large["standings"]] == list(QUALITY)
    assert all(s["low"] < s["score"] < s["high"] for s in large["standings"])


def test_a_gate_pair_is_asked_before_any_other() -> None:
    campaign = arena()
    import_answers(campaign, list(QUALITY))
    RankingTask.objects.filter(campaign=campaign).update(status="complete")

    set_arena_focus(campaign_id=campaign.pk, pair=("model-middle", CANARY), waiting=True)
    created = top_up_arena(campaign_id=campaign.pk)

    new = RankingTask.objects.filter(campaign=campaign, status="open")
    assert created == new.count() == ARENA_OPEN_TASKS
    assert {frozenset(task_models(t)) for t in new} == {frozenset(("model-middle", CANARY))}
    set_arena_focus(campaign_id=campaign.pk, pair=("model-middle", CANARY), waiting=False)
    assert Campaign.objects.get(pk=campaign.pk).arena_focus == []


@pytest.mark.parametrize(
    ("models", "code"), [([], "arena_needs_two_models"), (["only-model"], "arena_needs_two_models")]
)
def test_an_arena_with_fewer_than_two_models_is_a_clear_400(
    admin: Any, models: list[str], code: str
) -> None:
    campaign = arena()
    if models:
        import_answers(campaign, models, prompts=2)

    reply = admin.get(f"/api/v1/campaigns/{campaign.pk}/arena/")

    assert reply.status_code == 400
    assert reply.json()["code"] == code
    assert "at least two models" in reply.json()["detail"]
    assert not RankingTask.objects.filter(campaign=campaign).exists()


def test_a_campaign_that_is_not_an_arena_has_no_leaderboard(admin: Any) -> None:
    campaign = make_campaign()

    reply = admin.get(f"/api/v1/campaigns/{campaign.pk}/arena/")

    assert reply.status_code == 400
    assert reply.json()["code"] == "not_an_arena"
    assert admin.get("/api/v1/campaigns/999999/arena/").status_code == 404


def test_raters_cannot_read_the_leaderboard(client_for: Any) -> None:
    campaign = arena()
    import_answers(campaign, list(QUALITY), prompts=2)

    assert client_for().get(f"/api/v1/campaigns/{campaign.pk}/arena/").status_code == 403


def _one_model_file(campaign: Campaign, name: str, prompts: range, text: str = "") -> None:
    rows = [
        {
            "prompt": f"Question {i}",
            "responses": [{"text": text or f"{i}: {name[-1]}", "generator": name}],
        }
        for i in prompts
    ]
    data = "\n".join(json.dumps(row) for row in rows).encode()
    report = import_file(actor=None, campaign=campaign, data=data, filename=f"{name}.jsonl")
    assert report.is_ok, report.errors


def test_models_with_no_prompt_in_common_are_never_the_pair_asked(
    client_for: Any, django_capture_on_commit_callbacks: Any
) -> None:
    campaign = arena()
    rater = client_for()
    make_pool(members=[rater.user], campaigns=[campaign])
    _one_model_file(campaign, "model-a", range(4))
    _one_model_file(campaign, "model-b", range(4))
    _one_model_file(campaign, "model-c", range(10, 14))  # answered other prompts only

    _simulated_rater_session(rater, random.Random(3), 12, django_capture_on_commit_callbacks)

    pairs = {frozenset(task_models(t)) for t in RankingTask.objects.filter(campaign=campaign)}
    assert pairs == {frozenset(("model-a", "model-b"))}
    assert RankingTask.objects.filter(campaign=campaign, status="open").count() == ARENA_OPEN_TASKS


def test_two_models_giving_the_same_answer_keep_an_answer_each() -> None:
    campaign = arena()
    row = {
        "prompt": "Say yes",
        "responses": [
            {"text": "Yes.", "generator": "model-a"},
            {"text": "Yes.", "generator": "model-b"},
        ],
    }

    report = import_file(
        actor=None, campaign=campaign, data=json.dumps(row).encode(), filename="same.jsonl"
    )

    assert report.is_ok, report.errors
    answers = Response.objects.filter(prompt__campaign=campaign)
    assert sorted(answers.values_list("generator", flat=True)) == ["model-a", "model-b"]
