"""A policy round's KL counted from the lineage's base (training/pipeline/kl_reference.py): a
second-round policy (the tiny base with its weights moved) starts at KL 0 from its parent but
well above 0 from the base; `kl_from base` makes the steps' KL term count from the base, and
either way the watch reports the new policy's KL to the base."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import torch

from tests.training.test_ppo import starts_with_vowel
from tests.training.tiny_rounds import tiny_round_config
from training.pipeline.critic_free import train_critic_free
from training.pipeline.kl_reference import base_source, counts_from_base
from training.pipeline.model_loading import load_causal_lm
from training.pipeline.options import PPOConfig
from training.pipeline.ppo import PPOTrainer

PROMPTS = [[{"role": "user", "content": f"Question {n}?"}] for n in range(4)]


@pytest.fixture(scope="module")
def second_round(tiny_model: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The tiny base after a first round: every weight moved by noise five times its own scale."""
    target = tmp_path_factory.mktemp("models") / "second-round"
    shutil.copytree(tiny_model, target)
    model = load_causal_lm(tiny_model)
    generator = torch.Generator().manual_seed(7)
    with torch.no_grad():
        for parameter in model.parameters():
            noise = torch.randn(parameter.shape, generator=generator)
            parameter.add_(noise * 5 * parameter.std().clamp(min=1e-3))
    model.save_pretrained(target, safe_serialization=True)
    return target


def ppo_round(policy: Path, base: Path, out: Path, kl_from: str) -> PPOTrainer:
    config = tiny_round_config(
        "ppo",
        policy=str(policy),
        lineage_base=str(base),
        kl_from=kl_from,
        out=out,
        steps=1,
        seed=1,
    )
    return PPOTrainer(config, PROMPTS, reward_fn=starts_with_vowel)


def test_the_base_counts_only_when_it_is_another_model(
    tiny_model: Path, second_round: Path
) -> None:
    assert base_source(str(tiny_model), str(tiny_model)) is None
    assert base_source(str(tiny_model), None) is None
    assert base_source(str(second_round), str(tiny_model)) == str(tiny_model)
    first = PPOConfig(
        policy=str(tiny_model), lineage_base=str(tiny_model), kl_from="base", out=Path("unused")
    )
    assert not counts_from_base(first)  # a lineage's first round: the parent is the base


@pytest.mark.parametrize("kl_from", ["parent", "base"])
def test_ppo_counts_its_kl_from_the_model_kl_from_names(
    kl_from: str, tiny_model: Path, second_round: Path, tmp_path: Path
) -> None:
    trainer = ppo_round(second_round, tiny_model, tmp_path, kl_from)
    base = load_causal_lm(tiny_model).state_dict()
    reference = trainer.reference.state_dict()
    assert torch.equal(reference["lm_head.weight"], base["lm_head.weight"]) == (kl_from == "base")

    summary = trainer.train()

    first_step_kl = summary["history"][0]["kl"]
    watch = summary["watch"]
    assert watch["kl_from"] == kl_from
    assert watch["kl_to_base"] > 0.5  # the moved weights' drift, measured either way
    if kl_from == "parent":
        assert first_step_kl == pytest.approx(0.0, abs=1e-4)  # the policy is its reference
        assert watch["kl"] < watch["kl_to_base"]
    else:
        assert first_step_kl > 0.5  # the drift of the rounds before counts from the start


@pytest.mark.parametrize("kl_from", ["parent", "base"])
def test_grpo_counts_its_kl_from_the_model_kl_from_names(
    kl_from: str, tiny_model: Path, second_round: Path, tmp_path: Path
) -> None:
    config = tiny_round_config(
        "grpo",
        policy=str(second_round),
        reward=str(tiny_model),
        lineage_base=str(tiny_model),
        kl_from=kl_from,
        out=tmp_path,
        steps=1,
        seed=1,
    )

    summary = train_critic_free(config, PROMPTS)

    first_step_kl = summary["history"][0]["kl"]
    assert summary["watch"]["kl_from"] == kl_from
    assert summary["watch"]["kl_to_base"] > 0.5
    if kl_from == "parent":
        assert first_step_kl == pytest.approx(0.0, abs=1e-4)
    else:
        assert first_step_kl > 0.5
