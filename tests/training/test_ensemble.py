"""A reward-model ensemble on one trunk (training/pipeline/ensemble.py): heads trained on their
own bootstrap resamples learn the rule, disagree where the data leaves room, are saved and
loaded with their count, and give policy rounds a conservative reward (the mean minus a
multiple of their spread)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import torch

from tests.training.test_reward import keyword_pairs
from tests.training.tiny_rounds import tiny_round_config
from training.pipeline.critic_free import train_critic_free
from training.pipeline.ensemble import bootstrap_counts, conservative, ensemble_figures
from training.pipeline.errors import PipelineError
from training.pipeline.model_loading import load_reward_model, load_tokenizer, reward_heads
from training.pipeline.options import RewardTrainingConfig
from training.pipeline.ppo import PPOTrainer
from training.pipeline.probe import fit_linear_head
from training.pipeline.reward import text_heads, train_reward_model
from training.pipeline.round_watch import reward_model_fn

HEADS = 4
PROMPTS = [[{"role": "user", "content": f"Question {n}?"}] for n in range(4)]


def test_each_head_resamples_every_pair_about_once() -> None:
    counts = bootstrap_counts(20_000, 3, seed=5)
    assert counts.shape == (20_000, 3)
    assert torch.equal(counts, bootstrap_counts(20_000, 3, seed=5))
    assert counts.mean().item() == pytest.approx(1.0, abs=0.02)
    assert (counts == 0).float().mean().item() == pytest.approx(0.368, abs=0.02)  # e^-1 left out
    assert not torch.equal(counts[:, 0], counts[:, 1])


def test_the_conservative_score_is_the_mean_less_a_multiple_of_the_spread() -> None:
    heads = torch.tensor([[1.0, 3.0], [2.0, 2.0]])
    assert conservative(heads, 0.0).tolist() == [2.0, 2.0]
    assert conservative(heads, 1.0).tolist() == pytest.approx([2.0 - 2**0.5, 2.0])
    assert conservative(torch.tensor([[5.0]]), 3.0).tolist() == [5.0]  # one head: no spread


def test_the_figures_split_the_pairs_by_how_much_the_heads_agree() -> None:
    # Pairs 0-1: every head right by a wide margin; pairs 2-3: heads split, the mean wrong.
    chosen = torch.tensor([[2.0, 2.1], [3.0, 3.0], [1.0, -1.2], [0.5, -0.9]])
    rejected = torch.zeros(4, 2)

    figures = ensemble_figures(chosen, rejected)

    assert figures["ensemble_heads"] == 2
    assert figures["ensemble_head_accuracy"] == 0.75
    assert figures["ensemble_confident_half_accuracy"] == 1.0
    assert figures["ensemble_uncertain_half_accuracy"] == 0.0


@pytest.fixture(scope="module")
def ensemble(tiny_model: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("ensemble")
    config = RewardTrainingConfig(
        base=str(tiny_model),
        out=out,
        epochs=4,
        learning_rate=3e-3,
        batch_size=8,
        validation_fraction=0.25,
        ensemble=HEADS,
        seed=0,
    )
    train_reward_model(config, keyword_pairs(240, seed=2))
    return out


def test_an_ensemble_learns_the_rule_with_heads_that_differ(ensemble: Path) -> None:
    metrics = json.loads((ensemble / "metrics.json").read_text())
    model_dir = ensemble / "model"

    assert reward_heads(model_dir) == HEADS
    assert metrics["validation_accuracy"] >= 0.9  # the heads' mean
    assert metrics["validation_ensemble_heads"] == HEADS
    assert metrics["validation_ensemble_head_accuracy"] >= 0.85
    assert metrics["validation_ensemble_spread"] > 0
    tokenizer = load_tokenizer(model_dir)
    model: Any = load_reward_model(model_dir, tokenizer)
    weights = model.score.weight
    assert weights.shape[0] == HEADS
    assert not torch.allclose(weights[0], weights[1])  # trained on different resamples
    scores = text_heads(model, tokenizer, PROMPTS, ["banana river", "stone cloud"] * 2)
    assert scores.shape == (4, HEADS)


def test_a_policy_round_may_take_the_conservative_reward(ensemble: Path) -> None:
    model_dir = str(ensemble / "model")
    replies = ["banana river", "stone cloud", "maple quiet amber", "banana"]
    mean = reward_model_fn(model_dir)(PROMPTS, replies)
    careful = reward_model_fn(model_dir, uncertainty_penalty=2.0)(PROMPTS, replies)
    tokenizer = load_tokenizer(model_dir)
    spread = text_heads(load_reward_model(model_dir, tokenizer), tokenizer, PROMPTS, replies)
    assert torch.allclose(careful, mean - 2.0 * spread.std(dim=-1), atol=1e-5)
    assert (careful < mean).all()


def test_a_penalty_on_a_single_reward_model_is_a_clear_error(tiny_model: Path) -> None:
    with pytest.raises(PipelineError, match="uncertainty_penalty needs an ensemble reward model"):
        reward_model_fn(str(tiny_model), uncertainty_penalty=1.0)


def test_a_pair_a_resample_leaves_out_does_not_move_the_probe() -> None:
    generator = torch.Generator().manual_seed(0)
    differences = torch.randn(60, 5, generator=generator) + 0.3
    outlier = torch.full((1, 5), -40.0)
    counts = torch.cat([torch.ones(60), torch.zeros(1)])

    weighted, _ = fit_linear_head(torch.cat([differences, outlier]), (0.1,), counts=counts)
    without, _ = fit_linear_head(differences, (0.1,))

    assert torch.allclose(weighted, without, atol=1e-4)


def test_ppo_and_grpo_train_against_an_ensemble(
    ensemble: Path, tiny_model: Path, tmp_path: Path
) -> None:
    common: dict[str, Any] = {
        "policy": str(tiny_model),
        "reward": str(ensemble / "model"),
        "steps": 2,
        "uncertainty_penalty": 1.0,
    }

    ppo = PPOTrainer(tiny_round_config("ppo", **common, out=tmp_path / "ppo"), PROMPTS)
    # The value model starts from the reward model (same tokenizer) with the heads' mean as
    # its one head, and its checkpoint keeps one head.
    assert ppo.value.head.weight.shape[0] == 1
    assert ppo.train()["steps"] == 2
    (checkpoint,) = (tmp_path / "ppo" / "checkpoints").iterdir()
    assert reward_heads(checkpoint / "value") == 1
    grpo = train_critic_free(tiny_round_config("grpo", **common, out=tmp_path / "grpo"), PROMPTS)
    assert grpo["steps"] == 2
