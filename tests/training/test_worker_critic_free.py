"""GRPO and RLOO rounds through the real worker path: created like any run, run by the worker
(one process, and two under torchrun), streamed into the run's metrics, registered as a policy
version whose parent is the round's starting policy."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.training.test_worker_processes import campaign_with_pairs, run_on
from training.models import ModelVersion, RunMetric
from training.services import RunRequest

pytestmark = [pytest.mark.slow, pytest.mark.django_db]

SMALL = {
    "steps": 2, "batch_size": 2, "group_size": 2, "max_new_tokens": 6, "watch_prompts": 2,
    "checkpoint_every": 1, "learning_rate": 1e-3,
}  # fmt: skip


@pytest.fixture
def worker_settings(settings: Any, tmp_path: Path) -> Any:
    settings.TRAINING_ARTIFACTS_DIR = tmp_path / "artifacts"
    settings.TRAINING_POLL_S = 0.2
    return settings


def _round(kind: str, model: Path) -> RunRequest:
    path = str(model)
    reward = ModelVersion.objects.create(name="r", kind="reward", base=path, artifact_path=path)
    parent = ModelVersion.objects.create(name="p", kind="policy", base=path, artifact_path=path)
    return RunRequest(
        kind=kind,
        parent_version=parent,
        reward_version=reward,
        campaign=campaign_with_pairs(6),
        hyperparameters=SMALL,
    )


@pytest.mark.parametrize("kind", ["grpo", "rloo"])
def test_a_round_runs_through_the_worker_into_a_policy_version(
    kind: str, tiny_model: Path, worker_settings: Any
) -> None:
    request = _round(kind, tiny_model)
    run = run_on(1, worker_settings, request)

    assert run.result["method"] == kind
    assert run.result["steps"] == 2
    version = ModelVersion.objects.get(produced_by=run)
    assert version.kind == "policy"
    assert version.parent == request.parent_version
    assert (Path(version.artifact_path) / "model.safetensors").is_file()
    assert version.metrics["watch_kl_source"] == "samples"  # the watch ran on both policies
    curves = set(RunMetric.objects.filter(run=run).values_list("name", flat=True))
    assert {"train/reward_mean", "train/kl", "train/response_length"} <= curves
    steps = RunMetric.objects.filter(run=run, name="train/reward_mean")
    assert sorted(steps.values_list("step", flat=True)) == [1, 2]
    assert run.last_checkpoint.endswith("checkpoint-2")


def test_an_rloo_round_on_two_processes_ends_once_with_one_version(
    tiny_model: Path, worker_settings: Any
) -> None:
    run = run_on(2, worker_settings, _round("rloo", tiny_model))

    assert run.result["processes"] == 2
    assert ModelVersion.objects.filter(produced_by=run, kind="policy").count() == 1
    assert run.attempts == 1
