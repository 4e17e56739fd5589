"""A round's wall-clock budget (`max_seconds`, training/pipeline/time_budget.py): PPO, GRPO and
DPO asked for far more steps than a one-second budget allows stop after the step that crosses
it, save their policy and report the steps they took; 0 is no limit."""

from __future__ import annotations

import json
from pathlib import Path

from tests.training.test_dpo_generation_evaluation import pairs
from tests.training.test_ppo import starts_with_vowel
from tests.training.tiny_rounds import tiny_round_config
from training.pipeline.critic_free import train_critic_free
from training.pipeline.dpo import train_dpo
from training.pipeline.options import DPOTrainingConfig
from training.pipeline.ppo import PPOTrainer
from training.pipeline.time_budget import TimeBudget

PROMPTS = [[{"role": "user", "content": f"Question {n}?"}] for n in range(4)]
MANY = 10_000
OVER_BUDGET = {"steps": MANY, "checkpoint_every": MANY, "max_seconds": 1}


def progress_steps(out: Path) -> list[int]:
    lines = (out / "progress.jsonl").read_text().splitlines()
    return [json.loads(line)["step"] for line in lines if json.loads(line)["event"] == "train"]


def test_no_budget_is_never_spent() -> None:
    assert not TimeBudget(0).over()
    assert TimeBudget(1e-9).over()


def test_ppo_stops_when_its_time_is_spent_and_saves_the_last_step(
    tiny_model: Path, tmp_path: Path
) -> None:
    config = tiny_round_config(
        "ppo", policy=str(tiny_model), out=tmp_path, **OVER_BUDGET, watch_prompts=2
    )

    summary = PPOTrainer(config, PROMPTS, reward_fn=starts_with_vowel).train()

    assert 1 <= summary["steps"] < MANY
    assert progress_steps(tmp_path) == list(range(1, summary["steps"] + 1))
    assert (tmp_path / "checkpoints" / f"step-{summary['steps']:06d}").is_dir()
    assert (tmp_path / "policy" / "model.safetensors").is_file()
    assert summary["watch"]["prompts"] == 2


def test_a_ppo_round_resumed_after_its_budget_was_spent_trains_no_further(
    tiny_model: Path, tmp_path: Path
) -> None:
    config = tiny_round_config(
        "ppo", policy=str(tiny_model), out=tmp_path, **OVER_BUDGET, watch_prompts=0
    )
    first = PPOTrainer(config, PROMPTS, reward_fn=starts_with_vowel).train()

    # As if killed during the watch: started again in the same folder, it resumes from the
    # checkpoint of its last step, whose logged step times already spent the budget.
    again = PPOTrainer(config, PROMPTS, reward_fn=starts_with_vowel).train()

    assert again["steps"] == first["steps"]
    assert progress_steps(tmp_path) == list(range(1, first["steps"] + 1))


def test_grpo_stops_when_its_time_is_spent(tiny_model: Path, tmp_path: Path) -> None:
    config = tiny_round_config(
        "grpo", policy=str(tiny_model), reward=str(tiny_model), out=tmp_path, **OVER_BUDGET
    )

    summary = train_critic_free(config, PROMPTS)

    assert 1 <= summary["steps"] < MANY
    assert len(summary["history"]) == summary["steps"]
    assert (tmp_path / "policy" / "model.safetensors").is_file()


def test_dpo_stops_when_its_time_is_spent(tiny_model: Path, tmp_path: Path) -> None:
    config = DPOTrainingConfig(
        base=str(tiny_model), out=tmp_path, epochs=MANY, batch_size=4, max_seconds=1
    )

    train_dpo(config, pairs())

    assert 1 <= len(progress_steps(tmp_path)) < MANY * 2
    assert (tmp_path / "policy" / "model.safetensors").is_file()
