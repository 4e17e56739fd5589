"""A reward model whose tokenizer differs from the policy's: every policy round scores the
decoded answers, re-encoded with the reward model's own tokenizer and chat template (PPO's
value model then starts from the policy, not from the reward model)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tests.training.tiny_rounds import tiny_round_config
from training.pipeline.critic_free import train_critic_free
from training.pipeline.model_loading import load_tokenizer, same_tokenizer, write_tiny_model
from training.pipeline.options import PPOConfig
from training.pipeline.ppo import PPOTrainer

PROMPTS = [[{"role": "user", "content": f"Question {n}?"}] for n in range(4)]


@pytest.fixture(scope="module")
def foreign_reward(tiny_model: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A tiny reward model whose vocabulary has tokens the policy's lacks."""
    folder = tmp_path_factory.mktemp("tokenizers") / "extended"
    shutil.copytree(tiny_model, folder)  # a model folder, its tokenizer then extended
    tokenizer = load_tokenizer(tiny_model)
    tokenizer.add_tokens(["<reward-only-1>", "<reward-only-2>"])
    tokenizer.save_pretrained(folder)
    return write_tiny_model(tmp_path_factory.mktemp("models") / "foreign", tokenizer_from=folder)


@pytest.mark.parametrize("method", ["ppo", "grpo", "rloo"])
def test_a_round_scores_with_a_reward_model_of_another_tokenizer(
    method: str, tiny_model: Path, foreign_reward: Path, tmp_path: Path
) -> None:
    assert not same_tokenizer(tiny_model, foreign_reward)
    config = tiny_round_config(
        method, policy=str(tiny_model), reward=str(foreign_reward), out=tmp_path, steps=2
    )
    if isinstance(config, PPOConfig):
        summary = PPOTrainer(config, PROMPTS).train()
    else:
        summary = train_critic_free(config, PROMPTS)

    assert summary["steps"] == 2
    assert all("reward_mean" in step for step in summary["history"])
    assert summary["watch"]["reward_gain"] is not None  # both policies scored by it
    assert (tmp_path / "policy" / "model.safetensors").is_file()
