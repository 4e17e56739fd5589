"""A DPO round's watch: what applies without a reward model or a KL budget (length drift, KL
from the reference estimated on samples, a second reward model), and how a run names its
second reward model to the stage."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.training.watch_models import length_reward_model
from training.models import ModelVersion, RunKind, TrainingRun
from training.pipeline.cli import build_parser
from training.pipeline.data import PreferencePair
from training.pipeline.dpo import train_dpo
from training.pipeline.options import DPOTrainingConfig
from training.worker.inputs import stage_arguments


def test_a_dpo_round_watches_length_kl_and_a_second_reward_model(
    tiny_model: Path, tmp_path: Path
) -> None:
    judge = length_reward_model(tiny_model, tmp_path / "verbosity", scale=20.0)
    pairs = [
        PreferencePair([{"role": "user", "content": f"Q{i}?"}], "Yes.", "No, not at all.")
        for i in range(6)
    ]
    config = DPOTrainingConfig(
        base=str(tiny_model),
        out=tmp_path / "dpo",
        epochs=2,
        learning_rate=5e-3,
        batch_size=4,
        check_reward=str(judge),
        watch_prompts=4,
    )

    metrics = train_dpo(config, pairs)

    watch = metrics["watch"]
    assert (watch["prompts"], watch["held_out_prompts"]) == (4, 0)  # DPO trains on them all
    assert (watch["kl_budget"], watch["kl_source"], watch["reward_kl"]) == (None, "samples", [])
    assert watch["kl"] > 0  # the policy moved from its reference
    assert watch["reward_gain"] == metrics["last_reward_margin"] - metrics["first_reward_margin"]
    assert 0 <= watch["check_win_rate"] <= 1
    assert "proxy_win_rate" not in watch  # no reward model of its own
    assert "kl_over_budget" not in [w["code"] for w in watch["warnings"]]
    saved = json.loads((tmp_path / "dpo" / "metrics.json").read_text())
    assert saved["watch"] == watch


@pytest.mark.django_db
def test_a_policy_rounds_second_reward_model_reaches_its_stage(tmp_path: Path) -> None:
    judge = ModelVersion.objects.create(name="j", kind="reward", base="x", artifact_path="/m/j")
    reward = ModelVersion.objects.create(name="r", kind="reward", base="x", artifact_path="/m/r")
    dpo = TrainingRun(kind=RunKind.DPO, base="/m/base", check_reward_version=judge)
    ppo = TrainingRun(kind=RunKind.PPO, reward_version=reward, check_reward_version=judge)

    for run in (dpo, ppo):
        arguments = stage_arguments(run, tmp_path)
        assert arguments[-2:] == ["--check-reward", "/m/j"]
        parsed = build_parser().parse_args([run.kind, *arguments])
        assert parsed.check_reward == "/m/j"
