"""`make demo-loop` on a tiny model: every stage runs through the app as a TrainingRun, the
dashboard's records are all there, the last line is the JSON the issue asks for, and the new
policy really beats its parent under the gold preference the raters followed."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from annotation.models import RankingTask, Response
from training.models import ModelVersion, RunMetric, RunStatus, TrainingRun

pytestmark = [pytest.mark.django_db, pytest.mark.slow]

PROMPTS, HELDOUT, K, EVAL_SAMPLES, PPO_STEPS = 16, 8, 4, 8, 8
# What the loop must win by: a gold win rate over the parent of at least this, and more than
# three standard errors above a coin flip. With this recipe it measured 0.80 to 0.83 (± 0.03)
# over six runs (the new policy answers in one word, its parent in 2.9 on average; runs differ
# a little because the rater API shuffles the answers it shows); with one PPO step instead of
# eight 0.64, with a learning rate of 1e-9 0.50 (both policies give the same answers).
GOLD_WIN_RATE_AT_LEAST = 0.65


def run_loop(
    base: Path,
    reward_base: Path,
    *,
    name: str,
    ppo_steps: int,
    method: str = "ppo",
    dpo_epochs: float = 1.0,
    command: str = "demo_loop",
    extra: tuple[str, ...] = (),
) -> dict[str, Any]:
    """The demo loop (or `command`, which takes its options) on tiny models, with a recipe
    that learns conciseness in a few steps; returns its JSON summary."""
    out = io.StringIO()
    call_command(
        command,
        f"--name={name}",
        f"--base={base}",
        f"--reward-base={reward_base}",
        "--gold=concise",
        f"--prompts={PROMPTS}",
        f"--heldout={HELDOUT}",
        f"--k={K}",
        "--raters=3",
        "--max-new-tokens=8",
        "--rm-epochs=2",
        "--rm-learning-rate=1e-3",
        "--rm-batch=32",
        f"--ppo-steps={ppo_steps}",
        "--ppo-batch=16",
        "--ppo-minibatch=16",
        "--ppo-learning-rate=2.5e-4",
        f"--eval-samples={EVAL_SAMPLES}",
        f"--method={method}",
        "--dpo-learning-rate=1e-4",
        f"--dpo-epochs={dpo_epochs}",
        *extra,
        stdout=out,
        stderr=io.StringIO(),
    )
    return dict(json.loads(out.getvalue().strip().splitlines()[-1]))


def test_demo_loop_runs_every_stage_and_the_new_policy_beats_its_parent(
    stopping_policy: Path, tiny_model: Path, tmp_path: Path, settings: Any
) -> None:
    settings.TRAINING_ARTIFACTS_DIR = tmp_path / "artifacts"
    settings.TRAINING_POLL_S = 0.2

    summary = run_loop(stopping_policy, tiny_model, name="tiny loop", ppo_steps=PPO_STEPS)

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
    assert policy.parent.name == f"base:{stopping_policy}"
    assert policy.metrics["gold_comparisons"] == HELDOUT * EVAL_SAMPLES
    # Two rounds of tasks: one per prompt from the base's answers, then from the new policy's,
    # whose one-word answers often repeat (a repeat is not shown twice, a prompt left with one
    # answer gets no task).
    generated = set(
        Response.objects.filter(generator_version_id=policy.pk).values_list("id", flat=True)
    )
    tasks = list(RankingTask.objects.filter(campaign__name="tiny loop"))
    second_round = [task for task in tasks if set(task.response_ids) <= generated]
    assert len(tasks) - len(second_round) == PROMPTS
    assert 1 <= len(second_round) <= PROMPTS
    assert 0 < len(generated) <= PROMPTS * K
    assert RunMetric.objects.filter(run__kind="ppo", name="train/kl").count() == PPO_STEPS
    evaluation = TrainingRun.objects.get(kind="evaluate")
    assert len(evaluation.result["samples"]) == HELDOUT
    assert set(summary) >= {"rm_val_accuracy", "gold_win_rate", "gold_stderr", "kl", "wall_s"}
    last_kl = RunMetric.objects.get(run__kind="ppo", name="train/kl", step=PPO_STEPS).value
    assert summary["kl"] == last_kl
    assert (
        summary["rm_val_accuracy"]
        == ModelVersion.objects.get(kind="reward").metrics["validation_accuracy"]
    )
    # The point of the loop: judged by the raters' own gold preference (the more concise
    # answer that still answers) on prompts it never trained on, the new policy wins.
    assert summary["gold"] == "concise"
    assert summary["gold_win_rate"] >= GOLD_WIN_RATE_AT_LEAST
    assert summary["gold_win_rate"] - 3 * summary["gold_stderr"] > 0.5
    assert summary["mean_words_policy"] < summary["mean_words_parent"]
    assert policy.metrics["gold_win_rate"] == summary["gold_win_rate"]
    assert policy.metrics["gold_stderr"] == summary["gold_stderr"]


def test_the_loop_runs_the_policy_round_it_is_given(
    stopping_policy: Path, tiny_model: Path, tmp_path: Path, settings: Any
) -> None:
    """`--method`: the loop's policy round is the one named (here DPO on the raters' pairs;
    a GRPO round from the same loop runs in the comparison test below, so it is not run a
    second time here), and its JSON line names it. Whether it beats its parent is what the
    measured comparison reports (docs/training.md), not asserted here."""
    method = "dpo"
    settings.TRAINING_ARTIFACTS_DIR = tmp_path / "artifacts"
    settings.TRAINING_POLL_S = 0.2

    summary = run_loop(
        stopping_policy, tiny_model, name="method loop", ppo_steps=2, method=method, dpo_epochs=0.1
    )

    kinds = list(TrainingRun.objects.order_by("id").values_list("kind", flat=True))
    assert kinds == ["generate", "reward", method, "generate", "evaluate"]
    assert set(TrainingRun.objects.values_list("status", flat=True)) == {RunStatus.SUCCEEDED}
    assert summary["method"] == method
    assert method in summary["stage_wall_s"]
    policy = ModelVersion.objects.get(kind="policy")
    assert policy.produced_by is not None
    assert policy.produced_by.kind == method
    assert policy.parent is not None
    assert policy.parent.name == f"base:{stopping_policy}"
    assert policy.metrics["gold_comparisons"] == HELDOUT * EVAL_SAMPLES
    assert 0.0 <= summary["gold_win_rate"] <= 1.0
    assert not RunMetric.objects.filter(run__kind=method, name="train/kl").exists()  # no KL curve


def test_the_methods_compared_share_the_reward_model_and_the_time_budget(
    stopping_policy: Path, tiny_model: Path, tmp_path: Path, settings: Any
) -> None:
    """`compare_methods` (make bench-methods): stages 1-4 once, then each method's round from
    the same base for the same wall clock (asked for far more steps than fit), each with its
    gold win rate, KL from the base, answer length and time."""
    settings.TRAINING_ARTIFACTS_DIR = tmp_path / "artifacts"
    settings.TRAINING_POLL_S = 0.2

    summary = run_loop(
        stopping_policy,
        tiny_model,
        name="compared",
        ppo_steps=1000,
        dpo_epochs=50,
        command="compare_methods",
        extra=("--methods=grpo,dpo", "--round-seconds=2"),
    )

    kinds = list(TrainingRun.objects.order_by("id").values_list("kind", flat=True))
    assert kinds == ["generate", "reward", "grpo", "dpo"]
    assert set(TrainingRun.objects.values_list("status", flat=True)) == {RunStatus.SUCCEEDED}
    reward = ModelVersion.objects.get(kind="reward")
    assert TrainingRun.objects.get(kind="grpo").reward_version == reward
    for version in ModelVersion.objects.filter(kind="policy"):
        assert version.parent is not None
        assert version.parent.name == f"base:{stopping_policy}"
    assert list(summary["methods"]) == ["grpo", "dpo"]
    for method, figures in summary["methods"].items():
        assert 1 <= figures["steps"] < 1000, method  # the budget stopped it
        assert figures["gold_comparisons"] == HELDOUT * EVAL_SAMPLES
        assert 0.0 <= figures["gold_win_rate"] <= 1.0
        assert figures["kl_to_base"] is not None  # the watch, its parent being the base
        assert figures["mean_words_parent"] == summary["methods"]["grpo"]["mean_words_parent"]
    assert summary["methods"]["dpo"]["kl_last_step"] is None  # DPO logs no KL curve


def test_the_methods_compared_must_be_known() -> None:
    with pytest.raises(CommandError, match="--methods takes some of ppo, grpo, rloo, dpo"):
        call_command("compare_methods", "--methods=ppo,sft", stdout=io.StringIO())
