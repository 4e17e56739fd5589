"""A run's strategy through the real worker path: DeepSpeed ZeRO-2 and ZeRO-3 on two CPU
processes (gloo; optimiser state and gradients sharded, and under ZeRO-3 the weights too) train
reward and DPO runs to the one-process DDP result; a strategy the worker does not allow, or one
accelerate did not set up, fails the run with a clear error instead of training some other way;
PPO offers no strategy."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any
from unittest.mock import ANY

import pytest

from common.errors import InvalidInput
from tests.training.test_worker_processes import (
    LOSS_REL,
    assert_same_weights,
    campaign_with_pairs,
    pairs_request,
    run_on,
)
from training.hyperparameters import resolve_hyperparameters
from training.models import ModelVersion, RunStatus
from training.services import create_run
from training.worker.job import execute_run

pytest.importorskip("deepspeed", reason="the deepspeed-zero2 strategy needs deepspeed")

pytestmark = [pytest.mark.slow, pytest.mark.django_db]


@pytest.fixture
def worker_settings(settings: Any, tmp_path: Path) -> Any:
    settings.TRAINING_ARTIFACTS_DIR = tmp_path / "artifacts"
    settings.TRAINING_POLL_S = 0.2
    settings.TRAINING_STRATEGY = ["ddp", "deepspeed-zero2", "deepspeed-zero3"]
    return settings


@pytest.mark.parametrize(
    ("kind", "strategy"),
    [
        ("reward", "deepspeed-zero2"),
        ("dpo", "deepspeed-zero2"),
        ("reward", "deepspeed-zero3"),
        ("dpo", "deepspeed-zero3"),
    ],
)
def test_deepspeed_on_two_processes_trains_to_the_one_process_ddp_result(
    kind: str, strategy: str, tiny_model: Path, worker_settings: Any
) -> None:
    """ZeRO-3 shards the weights too: what is saved must be the gathered whole model."""
    campaign = campaign_with_pairs(20 if kind == "reward" else 16)
    common: dict[str, Any] = {"epochs": 1.0, "batch_size": 4, "max_length": 128}
    extra = {"learning_rate": 1e-3} if kind == "reward" else {"learning_rate": 1e-4}
    if kind == "dpo":
        extra["watch_prompts"] = 0
    ddp = run_on(1, worker_settings, pairs_request(kind, tiny_model, campaign, **common, **extra))
    zero_request = pairs_request(kind, tiny_model, campaign, **common, **extra, strategy=strategy)
    zero2 = run_on(2, worker_settings, zero_request)

    assert zero2.result["processes"] == 2
    assert zero2.result["train_loss"] == pytest.approx(ddp.result["train_loss"], rel=LOSS_REL)
    assert_same_weights(ddp, zero2)  # whole weights saved, not a shard
    assert ModelVersion.objects.filter(produced_by=zero2).count() == 1
    assert "DeepSpeed" in (Path(zero2.artifact_dir) / "pipeline.log").read_text()


def test_a_strategy_the_worker_does_not_allow_fails_the_run_before_it_starts(
    tiny_model: Path, worker_settings: Any
) -> None:
    worker_settings.TRAINING_STRATEGY = ["ddp"]
    request = pairs_request(
        "reward", tiny_model, campaign_with_pairs(8), batch_size=2, strategy="deepspeed-zero2"
    )
    run = create_run(request=request, actor=None)
    assert execute_run(run.pk) == "failed"
    run.refresh_from_db()
    assert run.status == RunStatus.FAILED
    assert run.error.startswith(
        "Preparing inputs: This run asks for the deepspeed-zero2 strategy, which this worker "
        "does not allow (it allows ddp: its TRAINING_STRATEGY)."
    )
    assert not (Path(run.artifact_dir) / "progress.jsonl").exists()


def test_a_strategy_accelerate_did_not_set_up_stops_the_stage_instead_of_training_as_ddp(
    tiny_model: Path, tmp_path: Path
) -> None:
    """The pipeline asked for ZeRO-2 without the launcher's environment: accelerate would
    quietly train plain DDP, so the stage refuses (exit 2, the run's one-line error)."""
    data = tmp_path / "pairs.jsonl"
    data.write_text(
        '{"prompt": "Hi", "chosen": "Hello, friend!", "rejected": "No."}\n'
        '{"prompt": "Yo", "chosen": "Hello there!", "rejected": "Go."}\n'
    )
    command = [
        *(sys.executable, "-m", "training.pipeline", "reward", "--data", str(data)),
        *("--base", str(tiny_model), "--out", str(tmp_path / "out"), "--batch-size", "1"),
        *("--validation-fraction", "0", "--strategy", "deepspeed-zero2"),
    ]
    done = subprocess.run(command, capture_output=True, text=True, timeout=300, check=False)
    assert done.returncode == 2, done.stderr[-2000:]
    assert done.stderr.strip().splitlines()[-1] == (
        "error: strategy deepspeed-zero2 was asked for, but accelerate set up NO (is the "
        "deepspeed package installed, and did the worker set the environment?)"
    )
    assert not (tmp_path / "out" / "model").exists()


def test_ppo_offers_no_strategy_and_an_unknown_strategy_is_refused() -> None:
    with pytest.raises(InvalidInput) as ppo:
        resolve_hyperparameters(kind="ppo", overrides={"strategy": "deepspeed-zero2"})
    assert ppo.value.errors == {
        "hyperparameters": {"strategy": ["Unknown hyperparameter for this kind."]}
    }
    with pytest.raises(InvalidInput) as unknown:
        resolve_hyperparameters(kind="reward", overrides={"strategy": "fsdp"})
    assert unknown.value.errors == {"hyperparameters": {"strategy": [ANY]}}


def test_cross_validation_under_zero3_is_refused_with_the_reason(
    tiny_model: Path, worker_settings: Any
) -> None:
    request = pairs_request(
        "reward", tiny_model, campaign_with_pairs(8), cv_folds=2, strategy="deepspeed-zero3"
    )
    run = create_run(request=request, actor=None)
    assert execute_run(run.pk) == "failed"
    run.refresh_from_db()
    assert run.error.startswith("cv_folds cannot run under deepspeed-zero3 (every process scores")
    assert not ModelVersion.objects.filter(produced_by=run).exists()


def test_zero2_on_one_process_runs_under_torchrun(tiny_model: Path, worker_settings: Any) -> None:
    """DeepSpeed needs the process group torchrun sets up, even for one process."""
    request = pairs_request(
        "reward", tiny_model, campaign_with_pairs(8), batch_size=2, strategy="deepspeed-zero2"
    )
    run = run_on(1, worker_settings, request)
    assert run.result["processes"] == 1
    assert ModelVersion.objects.filter(produced_by=run).count() == 1
