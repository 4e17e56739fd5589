"""An LLM judge run through the worker (the stage as a real subprocess, the tiny model for
SmolLM2): it judges a campaign's pairs in both orders, stores every verdict and the sure,
order-consistent ones as pre-labels (source judge), and the quality report scores it like a
rater against the raters' majority. And the clear errors around it."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from rest_framework.test import APIClient

from annotation.models import JudgeVerdict, LabelSource, ModelLabel, RankingTask, Response
from annotation.services.importing import import_file
from common.errors import InvalidInput
from common.roles import Role
from tests.factories import make_campaign, make_task, make_user, setup_campaign
from tests.training.test_selectors_dataset import judge
from tests.training.test_worker_chain import tiny_smollm2
from training.models import TrainingRun
from training.services import RunRequest, create_run
from training.worker.job import execute_run

__all__ = ["tiny_smollm2"]

pytestmark = [pytest.mark.slow, pytest.mark.django_db]


def _judge_run(campaign: Any, **asked: Any) -> TrainingRun:
    hyperparameters = {"prelabel_margin": 0.0, "max_answer_tokens": 16, "batch_size": 4}
    return create_run(
        request=RunRequest(
            kind="judge", campaign=campaign, hyperparameters=hyperparameters, **asked
        ),
        actor=None,
    )


def _judged_campaign() -> tuple[Any, Any]:
    """Two raters agree on three pairwise tasks (the lower id wins); a fourth task nobody has
    judged yet (returned with the campaign)."""
    raters = [make_user(), make_user()]
    campaign, _ = setup_campaign(raters, tasks=3, responses_per_task=2, overlap=2)
    for rater in raters:
        for _ in range(3):
            judge(rater, prefer_first=True)
    return campaign, make_task(campaign)


def test_a_judge_run_stores_both_orders_pre_labels_and_a_row_in_the_quality_report(
    tiny_smollm2: None,
    tmp_path: Path,
    settings: Any,
    client_for: Callable[..., APIClient],
) -> None:
    settings.TRAINING_ARTIFACTS_DIR = tmp_path / "artifacts"
    settings.TRAINING_POLL_S = 0.2
    campaign, unjudged = _judged_campaign()

    run = _judge_run(campaign)
    assert execute_run(run.pk) == "succeeded"
    run.refresh_from_db()
    folder = Path(settings.TRAINING_ARTIFACTS_DIR) / "runs" / str(run.pk)
    written = [json.loads(line) for line in (folder / "verdicts.jsonl").open()]
    verdicts = JudgeVerdict.objects.filter(campaign=campaign)
    assert verdicts.count() == len(written) == 4 == run.result["verdicts_stored"]
    for row in written:
        stored = verdicts.get(first_id=row["first_id"], second_id=row["second_id"])
        assert (stored.first_shown_first, stored.first_shown_second) == (
            row["first_shown_first"],
            row["first_shown_second"],
        )
        assert (stored.judge, stored.run_id) == ("smollm2", run.pk)
    consistent = [v for v in verdicts if v.consistent]
    assert run.result["consistent"] == len(consistent)
    # Margin 0: every order-consistent verdict is a pre-label, for the answer it picked.
    labels = ModelLabel.objects.filter(campaign=campaign, source=LabelSource.JUDGE)
    assert labels.count() == len(consistent) == run.result["prelabels"]
    for verdict in consistent:
        winner = verdict.first_id if verdict.log_odds > 0 else verdict.second_id
        assert labels.filter(chosen_id=winner).exists()

    # Scored like a rater: its three verdicts on pairs people decided count.
    report = client_for(Role.ADMIN).get(f"/api/v1/campaigns/{campaign.pk}/quality/").json()
    (row,) = report["judges"]
    assert (row["judge"], row["verdicts"]) == ("smollm2", 4)
    assert row["order_consistency"]["n"] == 4
    assert row["position_bias"]["n"] == 8
    decided = [v for v in verdicts if v.first_id not in unjudged.response_ids]
    assert len(decided) == 3
    assert row["debiased_agreement"]["n"] == 3
    agree = [v for v in decided if v.log_odds > 0]  # the raters chose the lower id
    assert row["debiased_agreement"]["value"] == pytest.approx(len(agree) / 3)

    # A second run of the same judge replaces its verdicts, not adds to them.
    again = _judge_run(campaign)
    assert execute_run(again.pk) == "succeeded"
    assert JudgeVerdict.objects.filter(campaign=campaign).count() == 4
    assert set(verdicts.values_list("run_id", flat=True)) == {again.pk}
    assert labels.count() == len(consistent)


def test_a_judge_that_cannot_load_fails_the_run_and_stores_nothing(
    tmp_path: Path, settings: Any
) -> None:
    settings.TRAINING_ARTIFACTS_DIR = tmp_path / "artifacts"
    settings.TRAINING_POLL_S = 0.2
    campaign, _ = _judged_campaign()
    run = _judge_run(campaign, base=str(tmp_path / "no-such-judge"))
    assert execute_run(run.pk) == "failed"
    run.refresh_from_db()
    assert "no-such-judge does not exist" in run.error
    assert not JudgeVerdict.objects.exists()
    assert not ModelLabel.objects.exists()


def test_a_judge_run_needs_a_campaign_with_pairs(tmp_path: Path, settings: Any) -> None:
    settings.TRAINING_ARTIFACTS_DIR = tmp_path / "artifacts"
    with pytest.raises(InvalidInput) as refused:
        create_run(request=RunRequest(kind="judge"), actor=None)
    errors = refused.value.errors
    assert isinstance(errors, dict)
    assert "campaign_id" in errors
    empty, _ = setup_campaign([make_user()], tasks=0)
    run = _judge_run(empty)
    assert execute_run(run.pk) == "failed"
    run.refresh_from_db()
    assert "Nothing to judge" in run.error


def _judge_routed_campaign(judge_model: str = "smollm2") -> Any:
    campaign = make_campaign(
        judgment_mode="pairwise",
        responses_per_task=2,
        overlap=1,
        routing="judge",
        routing_confidence=0.0,  # every order-consistent task is pre-labelled
        judge_model=judge_model,
    )
    rows = [{"prompt": f"Hi ({i})"} for i in range(3)]
    data = "\n".join(json.dumps(row) for row in rows).encode()
    assert import_file(actor=None, campaign=campaign, data=data, filename="p.jsonl").is_ok
    return campaign


def _generate(campaign: Any) -> TrainingRun:
    hyperparameters = {"k": 4, "prompts": 3, "max_new_tokens": 6, "temperature": 1.5}
    return create_run(
        request=RunRequest(kind="generate", campaign=campaign, hyperparameters=hyperparameters),
        actor=None,
    )


def test_a_judge_routed_round_pre_labels_the_consistent_tasks_and_sends_the_rest_to_raters(
    tiny_smollm2: None, tmp_path: Path, settings: Any
) -> None:
    settings.TRAINING_ARTIFACTS_DIR = tmp_path / "artifacts"
    settings.TRAINING_POLL_S = 0.2
    campaign = _judge_routed_campaign()
    run = _generate(campaign)
    assert execute_run(run.pk) == "succeeded"
    run.refresh_from_db()
    folder = Path(settings.TRAINING_ARTIFACTS_DIR) / "runs" / str(run.pk)
    rows = [json.loads(line) for line in (folder / "generated.jsonl").open()]
    assert all(row["judge"] == "smollm2" for row in rows)
    # Each stored pair's route follows the verdict the stage wrote for it.
    verdicts = JudgeVerdict.objects.filter(campaign=campaign)
    tasks = {frozenset(t.response_ids) for t in RankingTask.objects.filter(campaign=campaign)}
    labels = ModelLabel.objects.filter(campaign=campaign, source=LabelSource.JUDGE)
    labelled = {frozenset((label.chosen_id, label.rejected_id)) for label in labels}
    assert verdicts.count() == len(tasks) + len(labelled) > 0
    for verdict in verdicts:
        pair = frozenset((verdict.first_id, verdict.second_id))
        assert (pair in labelled) == verdict.consistent
        assert (pair in tasks) == (not verdict.consistent)
    assert run.result["routing_judge"] == "smollm2"
    assert run.result["model_labelled_tasks"] == len(labelled)
    assert run.result["tasks_created"] == len(tasks)
    judged = {
        (
            row["responses"][v["first"]]["text"].strip(),
            row["responses"][v["second"]]["text"].strip(),
        )
        for row in rows
        for v in row["verdicts"]
    }
    stored_texts = {
        (verdict.first.text, verdict.second.text)
        for verdict in verdicts.select_related("first", "second")
    }
    assert all(pair in judged or pair[::-1] in judged for pair in stored_texts)


def test_a_judge_that_cannot_load_fails_the_round_and_stores_no_answer(
    tiny_smollm2: None, tmp_path: Path, settings: Any
) -> None:
    settings.TRAINING_ARTIFACTS_DIR = tmp_path / "artifacts"
    settings.TRAINING_POLL_S = 0.2
    campaign = _judge_routed_campaign(judge_model=str(tmp_path / "no-such-judge"))
    run = _generate(campaign)
    assert execute_run(run.pk) == "failed"
    run.refresh_from_db()
    assert "no-such-judge does not exist" in run.error
    assert not Response.objects.filter(metadata__generated_batch=f"training-run-{run.pk}").exists()
    assert not JudgeVerdict.objects.exists()
