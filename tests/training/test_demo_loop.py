"""`make demo-loop` on a tiny model: every stage runs through the app as a TrainingRun, the
dashboard's records are all there, and the last line is the JSON the issue asks for."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command

from annotation.models import RankingTask, Response
from training.models import ModelVersion, RunMetric, RunStatus, TrainingRun

pytestmark = [pytest.mark.django_db, pytest.mark.slow]


def test_demo_loop_runs_every_stage_through_the_app(
    tiny_model: Path, tmp_path: Path, settings: Any
) -> None:
    settings.TRAINING_ARTIFACTS_DIR = tmp_path / "artifacts"
    settings.TRAINING_POLL_S = 0.2
    out = io.StringIO()
    call_command(
        "demo_loop",
        "--name=tiny loop",
        f"--base={tiny_model}",
        "--prompts=4",
        "--heldout=2",
        "--k=2",
        "--raters=3",
        "--max-new-tokens=6",
        "--rm-epochs=1",
        "--ppo-steps=2",
        "--ppo-batch=2",
        "--eval-samples=2",
        stdout=out,
        stderr=io.StringIO(),
    )
    summary = json.loads(out.getvalue().strip().splitlines()[-1])

    runs = list(TrainingRun.objects.order_by("id").values_list("kind", "status"))
    assert runs == [
        ("generate", RunStatus.SUCCEEDED),
        ("reward", RunStatus.SUCCEEDED),
        ("ppo", RunStatus.SUCCEEDED),
        ("generate", RunStatus.SUCCEEDED),
        ("evaluate", RunStatus.SUCCEEDED),
    ]
    policy = ModelVersion.objects.get(kind="policy")
    assert policy.parent is not None
    assert policy.parent.name == f"base:{tiny_model}"
    assert policy.metrics["gold_comparisons"] == 2 * 2
    # Two rounds of tasks: 4 prompts x 2 answers from the base, then from the new policy.
    generated = Response.objects.filter(generator_version_id=policy.pk).count()
    assert RankingTask.objects.filter(campaign__name="tiny loop").count() == 8
    assert 0 < generated <= 4 * 2
    assert RunMetric.objects.filter(run__kind="ppo", name="train/kl").count() == 2
    evaluation = TrainingRun.objects.get(kind="evaluate")
    assert len(evaluation.result["samples"]) == 2
    assert set(summary) >= {"rm_val_accuracy", "gold_win_rate", "kl", "wall_s"}
    assert 0.0 <= summary["gold_win_rate"] <= 1.0
    assert summary["kl"] == RunMetric.objects.get(run__kind="ppo", name="train/kl", step=2).value
    assert (
        summary["rm_val_accuracy"]
        == ModelVersion.objects.get(kind="reward").metrics["validation_accuracy"]
    )
