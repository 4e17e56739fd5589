"""Runs on several processes through the real worker path: with TRAINING_PROCESSES=2 the
worker starts reward, DPO and PPO stages under torchrun (gloo on this CPU), each process takes
half of every batch, and the run ends once with one model version. Reward and DPO see the same
batches in the same order as on one process, so their results agree with the one-process run;
PPO samples a separate stream per process, so it is checked for completing, not for equality."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import torch
from safetensors.torch import load_file

from annotation.services.importing import import_file
from tests.factories import make_campaign
from training.models import ModelVersion, RunStatus, TrainingRun
from training.services import RunRequest, create_run
from training.worker.job import execute_run
from training.worker.runner import failure_message, pipeline_command

pytestmark = [pytest.mark.slow, pytest.mark.django_db]

# What the two runs may differ by: the order of floating-point sums across two processes.
WEIGHT_ATOL = 1e-4
LOSS_REL = 1e-3


def campaign_with_pairs(pairs: int) -> Any:
    campaign = make_campaign(responses_per_task=2, overlap=1)
    rows = [
        {
            "prompt": f"Say something kind ({i})",
            "chosen": f"You did well today, friend {i}.",
            "rejected": "No." if i % 2 else "Whatever, go away and stop asking.",
        }
        for i in range(pairs)
    ]
    data = "\n".join(json.dumps(row) for row in rows).encode()
    assert import_file(actor=None, campaign=campaign, data=data, filename="pairs.jsonl").is_ok
    return campaign


def pairs_request(kind: str, model: Path, campaign: Any, **hyperparameters: Any) -> RunRequest:
    """A reward or DPO run on all of the campaign's pairs."""
    return RunRequest(
        kind=kind,
        base=str(model),
        campaign=campaign,
        dataset={"mode": "all"},
        hyperparameters=hyperparameters,
    )


def run_on(processes: int, settings: Any, request: RunRequest) -> TrainingRun:
    settings.TRAINING_PROCESSES = processes
    run = create_run(request=request, actor=None)
    assert execute_run(run.pk) == "succeeded", TrainingRun.objects.get(pk=run.pk).log_tail
    run.refresh_from_db()
    return run


def progress_lines(run: TrainingRun) -> list[dict[str, Any]]:
    """The run's progress.jsonl, as the worker streamed it."""
    text = (Path(run.artifact_dir) / "progress.jsonl").read_text()
    return [json.loads(line) for line in text.splitlines()]


def weights(run: TrainingRun) -> dict[str, torch.Tensor]:
    version = ModelVersion.objects.get(produced_by=run)
    return load_file(str(next(Path(version.artifact_path).glob("*.safetensors"))))


def assert_same_weights(one: TrainingRun, two: TrainingRun) -> None:
    first, second = weights(one), weights(two)
    assert first.keys() == second.keys()
    worst = max(float((first[k] - second[k]).abs().max()) for k in first)
    assert worst < WEIGHT_ATOL, worst


@pytest.fixture
def worker_settings(settings: Any, tmp_path: Path) -> Any:
    settings.TRAINING_ARTIFACTS_DIR = tmp_path / "artifacts"
    settings.TRAINING_POLL_S = 0.2
    return settings


def test_the_launcher_is_torchrun_only_for_stages_that_split_batches(settings: Any) -> None:
    settings.TRAINING_PROCESSES = 2
    assert pipeline_command("reward", ["--x"])[1:5] == [
        "-m",
        "torch.distributed.run",
        "--standalone",
        "--nproc_per_node=2",
    ]
    assert pipeline_command("generate", ["--x"])[1:4] == ["-m", "training.pipeline", "generate"]
    settings.TRAINING_PROCESSES = 1
    assert pipeline_command("ppo", [])[1:4] == ["-m", "training.pipeline", "ppo"]


def test_a_reward_run_on_two_processes_equals_the_one_process_run(
    tiny_model: Path, worker_settings: Any
) -> None:
    campaign = campaign_with_pairs(20)
    request = pairs_request(
        "reward", tiny_model, campaign, epochs=2.0, batch_size=4, max_length=128, learning_rate=1e-3
    )
    one, two = run_on(1, worker_settings, request), run_on(2, worker_settings, request)
    assert (one.result["processes"], two.result["processes"]) == (1, 2)
    batches_per_epoch = -(-one.result["train_pairs"] // 4)
    assert two.result["optimizer_steps"] == one.result["optimizer_steps"] == 2 * batches_per_epoch
    assert two.result["train_loss"] == pytest.approx(one.result["train_loss"], rel=LOSS_REL)
    for name in ("validation_accuracy", "validation_pairs"):
        assert two.result[name] == pytest.approx(one.result[name], abs=1e-6), name
    assert_same_weights(one, two)
    # One process wrote the progress: the same lines as the one-process run, none twice.
    one_lines, two_lines = (progress_lines(run) for run in (one, two))
    assert [(x["event"], x["step"]) for x in two_lines] == [
        (x["event"], x["step"]) for x in one_lines
    ]
    assert ModelVersion.objects.filter(produced_by=two).count() == 1


def test_a_dpo_run_on_two_processes_equals_the_one_process_run(
    tiny_model: Path, worker_settings: Any
) -> None:
    campaign = campaign_with_pairs(16)
    request = pairs_request(
        "dpo", tiny_model, campaign, epochs=1.0, batch_size=4, max_length=128,
        learning_rate=1e-4, watch_prompts=0,
    )  # fmt: skip
    one, two = run_on(1, worker_settings, request), run_on(2, worker_settings, request)
    assert (one.result["processes"], two.result["processes"]) == (1, 2)
    assert two.result["train_loss"] == pytest.approx(one.result["train_loss"], rel=LOSS_REL)
    assert_same_weights(one, two)


def test_a_batch_that_does_not_split_over_the_processes_fails_the_run_clearly(
    tiny_model: Path, worker_settings: Any
) -> None:
    worker_settings.TRAINING_PROCESSES = 2
    request = pairs_request(
        "reward", tiny_model, campaign_with_pairs(8), batch_size=3, max_length=128
    )
    run = create_run(request=request, actor=None)
    assert execute_run(run.pk) == "failed"
    run.refresh_from_db()
    assert run.status == RunStatus.FAILED
    assert run.error.startswith("Preparing inputs: batch_size 3 does not split evenly over the 2")
    assert not ModelVersion.objects.filter(produced_by=run).exists()


def test_an_input_error_in_the_processes_is_the_runs_one_line_error(
    tiny_model: Path, worker_settings: Any
) -> None:
    """torchrun exits 1 whatever its processes said; the worker finds their own status."""
    worker_settings.TRAINING_PROCESSES = 2
    request = pairs_request(
        "reward", tiny_model, campaign_with_pairs(8), batch_size=2, max_length=16
    )
    run = create_run(request=request, actor=None)
    assert execute_run(run.pk) == "failed"
    run.refresh_from_db()
    assert run.error.startswith("pair 1 is "), run.error
    assert run.error.endswith("more than the context of 16: shorten it or raise --max-length")


def test_a_ppo_run_on_two_processes_ends_once_with_one_version(
    tiny_model: Path, worker_settings: Any
) -> None:
    path = str(tiny_model)
    reward = ModelVersion.objects.create(name="r", kind="reward", base=path, artifact_path=path)
    request = RunRequest(
        kind="ppo",
        base=path,
        reward_version=reward,
        campaign=campaign_with_pairs(6),
        hyperparameters={
            "steps": 2, "batch_size": 2, "minibatch_size": 2, "max_new_tokens": 6,
            "watch_prompts": 0, "checkpoint_every": 1,
        },
    )  # fmt: skip
    run = run_on(2, worker_settings, request)
    assert run.result["processes"] == 2
    assert run.result["steps"] == 2
    assert ModelVersion.objects.filter(produced_by=run, kind="policy").count() == 1
    assert run.attempts == 1


def torchrun_report(root_cause: int, other: int) -> str:
    """The end of torchrun's output when a process failed: the others it stopped, then the
    first failure (the root cause)."""
    entry = "  rank      : {rank} (local_rank: {rank})\n  exitcode  : {code} (pid: 4{rank})\n"
    return (
        "training.pipeline FAILED\n" + "-" * 60 + "\nFailures:\n[1]:\n"
        + entry.format(rank=0, code=other)
        + "-" * 60 + "\nRoot Cause (first observed failure):\n[0]:\n"
        + entry.format(rank=1, code=root_cause) + "=" * 60 + "\n"
    )  # fmt: skip


def test_under_torchrun_the_failed_processs_own_status_counts() -> None:
    tail = "error: pair 1 is 40 tokens long\nerror: pair 1 is 40 tokens long\n"
    assert failure_message(1, tail + torchrun_report(2, -15)) == "pair 1 is 40 tokens long"
    killed = failure_message(1, torchrun_report(-9, -15))
    assert killed.startswith("The pipeline was killed by signal 9 SIGKILL (out of memory?)")
    crash = failure_message(1, "RuntimeError: boom\n" + torchrun_report(1, -15))
    assert crash.startswith("The pipeline exited with status 1:")
