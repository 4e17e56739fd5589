"""Uncertainty routing through the worker (the pipeline as a real subprocess, tiny models for
SmolLM2): a generation round of a routing campaign scores every answer under the newest
reward ensemble's heads; the uncertain task per prompt whose label tells the heads most goes
to raters, the confident ones are stored as model labels. And the clear errors around it."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from annotation.models import Judgment, ModelLabel, RankingTask, Response
from annotation.routing import task_information
from annotation.services.generated import (
    GeneratedAnswers,
    Labeller,
    _task_groups,
    add_generated_tasks,
)
from annotation.services.importing import import_file
from common.errors import InvalidInput
from tests.factories import make_campaign
from tests.training.test_worker_chain import tiny_smollm2
from training.models import ModelVersion, TrainingRun
from training.pipeline.errors import PipelineError
from training.pipeline.generation import Sample, routing_heads
from training.services import RunRequest, create_run
from training.worker.inputs import prepare_inputs
from training.worker.job import execute_run

__all__ = ["tiny_smollm2"]

pytestmark = [pytest.mark.slow, pytest.mark.django_db]


def _generate(campaign: Any, **asked: Any) -> TrainingRun:
    hyperparameters = {"k": 6, "prompts": 3, "max_new_tokens": 6, "temperature": 1.5}
    return create_run(
        request=RunRequest(
            kind="generate", campaign=campaign, hyperparameters=hyperparameters, **asked
        ),
        actor=None,
    )


def _scored_groups(settings: Any, run: TrainingRun) -> dict[int, list[Any]]:
    """Each prompt's task groups as the stage scored them (generated.jsonl, in prompts.jsonl's
    order), with their answers' head scores."""
    folder = Path(settings.TRAINING_ARTIFACTS_DIR) / "runs" / str(run.pk)
    prompt_ids = [json.loads(line)["prompt_id"] for line in (folder / "prompts.jsonl").open()]
    rows = [json.loads(line)["responses"] for line in (folder / "generated.jsonl").open()]
    assert all(len(r["heads"]) == 3 for row in rows for r in row)
    return {
        prompt_id: _task_groups([r["text"] for r in row], 2, [r["heads"] for r in row])
        for prompt_id, row in zip(prompt_ids, rows, strict=True)
    }


def _assert_raters_got_the_most_informative(groups: dict[int, list[Any]], tasks: Any) -> None:
    """Each prompt's one task for raters is the group whose label tells the heads most."""
    assert tasks.count() == len(groups)
    for task in tasks:
        texts = set(
            Response.objects.filter(pk__in=task.response_ids).values_list("text", flat=True)
        )
        information = {
            frozenset(t for t, _ in group): task_information([h for _, h in group])
            for group in groups[task.prompt_id]
        }
        assert information[frozenset(texts)] == max(information.values())


def _train_ensemble(campaign: Any) -> ModelVersion:
    reward_run = create_run(
        request=RunRequest(
            kind="reward",
            campaign=campaign,
            dataset={"mode": "all"},
            hyperparameters={"ensemble": 3, "epochs": 1.0, "batch_size": 4, "max_length": 128},
        ),
        actor=None,
    )
    assert execute_run(reward_run.pk) == "succeeded"
    return ModelVersion.objects.get(kind="reward")


def _run(run: TrainingRun) -> dict[str, Any]:
    assert execute_run(run.pk) == "succeeded"
    run.refresh_from_db()
    return dict(run.result)


def test_a_routing_campaign_sends_the_least_confident_task_per_prompt_to_raters(
    tiny_smollm2: None, tmp_path: Path, settings: Any
) -> None:
    settings.TRAINING_ARTIFACTS_DIR = tmp_path / "artifacts"
    settings.TRAINING_POLL_S = 0.2
    campaign = make_campaign(
        judgment_mode="pairwise",
        responses_per_task=2,
        overlap=1,
        routing="uncertainty",
        routing_confidence=1e6,  # every task counts as uncertain: the budget decides
        human_tasks_per_prompt=1,
    )
    rows = [
        {"prompt": f"Hi ({i})", "chosen": f"Hello, friend {i}!", "rejected": "No."}
        for i in range(8)
    ]
    data = "\n".join(json.dumps(row) for row in rows).encode()
    assert import_file(actor=None, campaign=campaign, data=data, filename="p.jsonl").is_ok

    # No reward model yet: every task goes to raters, and the run says why.
    first = _generate(campaign)
    assert first.reward_version is None
    result = _run(first)
    assert (result["model_labels"], result["over_budget_tasks"]) == (0, 0)
    assert result["routing_note"].startswith("No reward model for this campaign yet")
    before = set(RankingTask.objects.values_list("pk", flat=True))

    ensemble = _train_ensemble(campaign)
    second = _generate(campaign)
    assert second.reward_version == ensemble  # the campaign's newest ensemble, picked for it
    result = _run(second)
    groups = _scored_groups(settings, second)
    new_tasks = RankingTask.objects.exclude(pk__in=before)
    assert result["tasks_created"] == new_tasks.count() == 3  # one per prompt: the budget
    total = sum(len(g) for g in groups.values())
    assert (result["model_labels"], result["over_budget_tasks"]) == (0, total - 3)
    _assert_raters_got_the_most_informative(groups, new_tasks)

    # At a threshold of 0 every task is confident: the model labels them all, people none.
    campaign.routing_confidence = 0.0
    campaign.save()
    before = set(RankingTask.objects.values_list("pk", flat=True))
    result = _run(_generate(campaign))
    labels = ModelLabel.objects.filter(campaign=campaign)
    assert RankingTask.objects.exclude(pk__in=before).count() == result["tasks_created"] == 0
    assert result["model_labels"] == labels.count() == result["model_labelled_tasks"] > 0
    assert {(label.source, label.labeller) for label in labels} == {("model", ensemble.name)}
    assert Judgment.objects.count() == len(rows)  # the imported ones: a label is no judgment


def test_routing_errors_are_clear(tiny_model: Path, tmp_path: Path) -> None:
    single = ModelVersion.objects.create(name="rm-one-head", kind="reward", artifact_path="x")
    plain = make_campaign(judgment_mode="pairwise", responses_per_task=2)
    with pytest.raises(InvalidInput, match="routes by uncertainty"):
        _generate(plain, reward_version=single)
    routing = make_campaign(judgment_mode="pairwise", responses_per_task=2, routing="uncertainty")
    with pytest.raises(InvalidInput) as refused:
        _generate(routing, reward_version=single)
    assert "ensemble" in str(refused.value.errors)
    assert not TrainingRun.objects.exists()  # nothing half-written
    # The stage itself refuses a one-head model (a causal LM here) before scoring anything.
    sample = Sample(0, "hi", 3, 1, True)
    with pytest.raises(PipelineError, match="one score head"):
        routing_heads(str(tiny_model), [[{"role": "user", "content": "q"}]], [sample])


def test_model_labels_are_training_data_only_when_the_dataset_asks(tmp_path: Path) -> None:
    campaign = make_campaign(judgment_mode="pairwise", responses_per_task=2, routing="uncertainty")
    rows = [{"prompt": "Greet me", "chosen": "Hello!", "rejected": "No."}]
    data = json.dumps(rows[0]).encode()
    assert import_file(actor=None, campaign=campaign, data=data, filename="p.jsonl").is_ok
    prompt = campaign.prompts.get()
    confident = [[4.0, 4.1, 3.9], [0.0, 0.1, -0.1]]
    add_generated_tasks(
        campaign=campaign,
        answers=[GeneratedAnswers(prompt.pk, ["Hi there!", "Go away."], confident)],
        generator="policy",
        generator_version_id=None,
        batch_key="round",
        labeller=Labeller("rm", None),
    )
    written = {}
    for include in (False, True):
        run = create_run(
            request=RunRequest(
                kind="reward", campaign=campaign, dataset={"mode": "all", "model_labels": include}
            ),
            actor=None,
        )
        prepare_inputs(run, tmp_path / str(include))
        lines = (tmp_path / str(include) / "data.jsonl").read_text().splitlines()
        written[include] = [(r["chosen"], r["source"]) for r in map(json.loads, lines)]
        assert run.snapshot_size == len(lines)
    assert written[False] == [("Hello!", "imported")]
    assert written[True] == [("Hello!", "imported"), ("Hi there!", "model")]
    hashes = set(TrainingRun.objects.values_list("snapshot_hash", flat=True))
    assert len(hashes) == 2  # the labels are part of what the snapshot's hash names
