"""Reward model: the loss matches the reference, and a tiny model learns a synthetic rule."""

from __future__ import annotations

import json
import random
from pathlib import Path
from typing import Any

import pytest
import torch
from safetensors.torch import load_file

from training.pipeline.data import PreferencePair, ranking_pairs, split_by_prompt
from training.pipeline.errors import PipelineError
from training.pipeline.probe import fit_linear_head, initialise_head_by_probe
from training.pipeline.reward import (
    BucketedRewardTrainer,
    RewardTrainingConfig,
    bradley_terry_loss,
    expected_calibration_error,
    train_reward_model,
)

WORDS = (
    "river",
    "stone",
    "cloud",
    "maple",
    "quiet",
    "amber",
    "lantern",
    "copper",
    "meadow",
    "harbor",
    "violet",
    "signal",
)


def keyword_pairs(count: int, seed: int) -> list[PreferencePair]:
    """The response containing "banana" always wins; everything else is random words."""
    rng = random.Random(seed)
    pairs = []
    for index in range(count):
        words = [rng.choice(WORDS) for _ in range(rng.randint(3, 9))]
        other = [rng.choice(WORDS) for _ in range(len(words))]
        spot = rng.randrange(len(words))
        chosen = " ".join([*words[:spot], "banana", *words[spot:]])
        pairs.append(
            PreferencePair(
                [{"role": "user", "content": f"Say something, {index}"}], chosen, " ".join(other)
            )
        )
    return pairs


def test_reference_loss_is_the_bradley_terry_negative_log_likelihood() -> None:
    chosen, rejected = torch.tensor([2.0, 0.0, -1.0]), torch.tensor([0.0, 0.0, 1.0])
    expected = -torch.log(torch.sigmoid(torch.tensor([2.0, 0.0, -2.0]))).mean()
    assert torch.isclose(bradley_terry_loss(chosen, rejected), expected)
    with_margin = -torch.log(torch.sigmoid(torch.tensor([1.0, -1.0, -3.0]))).mean()
    assert torch.isclose(bradley_terry_loss(chosen, rejected, torch.ones(3)), with_margin)


def test_trl_trainer_loss_equals_the_reference_loss(tiny_model: Path, tmp_path: Path) -> None:
    from datasets import Dataset
    from trl import RewardConfig

    from training.pipeline.data import encode_pairs
    from training.pipeline.model_loading import load_reward_model, load_tokenizer

    tokenizer = load_tokenizer(tiny_model, padding_side="right")
    model = load_reward_model(tiny_model, tokenizer)
    rows = encode_pairs(tokenizer, keyword_pairs(4, seed=1), 512)
    for row, margin in zip(rows, [0.0, 1.0, 2.0, 3.0], strict=True):
        row["margin"] = margin
    trainer = BucketedRewardTrainer(
        model=model,
        args=RewardConfig(output_dir=str(tmp_path), report_to=[], use_cpu=True, bf16=False),
        train_dataset=Dataset.from_list(rows),
        processing_class=tokenizer,
    )
    batch = trainer.data_collator(rows)

    trl_loss = trainer.compute_loss(model, dict(batch))

    rewards = model(input_ids=batch["input_ids"], attention_mask=batch["attention_mask"]).logits
    chosen, rejected = rewards.squeeze(-1).chunk(2)
    assert torch.allclose(
        trl_loss, bradley_terry_loss(chosen, rejected, batch["margin"]), atol=1e-6
    )


def test_reward_model_learns_the_keyword_rule(tiny_model: Path, tmp_path: Path) -> None:
    pairs = keyword_pairs(240, seed=2)
    config = RewardTrainingConfig(
        base=str(tiny_model),
        out=tmp_path,
        epochs=4,
        learning_rate=3e-3,
        batch_size=8,
        validation_fraction=0.25,
        seed=0,
    )

    metrics = train_reward_model(config, pairs)

    assert metrics["validation_pairs"] == 60
    assert metrics["validation_accuracy"] >= 0.9
    # beside its interval and baselines: here the chosen answer is always one word longer, so
    # "longer wins" is as good; on pairs of similar length the keyword still carries it
    low, high = metrics["validation_accuracy_ci_low"], metrics["validation_accuracy_ci_high"]
    assert 0.75 < low < metrics["validation_accuracy"] <= high <= 1.0
    assert metrics["validation_longer_wins_accuracy"] == 1.0
    assert metrics["validation_shorter_wins_accuracy"] == 0.0
    assert metrics["validation_length_matched_pairs"] >= 20
    assert metrics["validation_length_matched_accuracy"] >= 0.85
    assert (tmp_path / "model" / "model.safetensors").is_file()
    saved = json.loads((tmp_path / "metrics.json").read_text())
    assert saved["validation_accuracy"] == metrics["validation_accuracy"]
    events = [json.loads(line) for line in (tmp_path / "progress.jsonl").read_text().splitlines()]
    assert events[-1]["event"] == "validation"


def test_linear_head_fits_raw_features_of_any_scale() -> None:
    """The probe standardises features to choose its penalty, then returns weights for the raw
    features: one feature 1,000 times larger than the others changes nothing."""
    generator = torch.Generator().manual_seed(0)
    features = torch.randn(400, 8, generator=generator)
    truth = torch.randn(8, generator=generator)
    differences = features * torch.sign(features @ truth).unsqueeze(1)  # chosen - rejected
    differences[:, 3] *= 1000.0

    weights, figures = fit_linear_head(differences[:300])

    assert figures["probe_cv_accuracy"] >= 0.95
    assert float((differences[300:] @ weights > 0).float().mean()) >= 0.95
    unscaled = weights.clone()
    unscaled[3] *= 1000.0
    assert float(torch.cosine_similarity(unscaled, truth, dim=0)) > 0.9


def test_a_probe_fitted_head_ranks_before_fine_tuning_moves_it(
    tiny_model: Path, tmp_path: Path
) -> None:
    """Linear probe, then fine-tune: at a learning rate too small for a random head to learn
    the rule in one epoch, the probe-initialised head already has it."""
    pairs = keyword_pairs(240, seed=2)

    def train(head_init: str) -> dict[str, float]:
        config = RewardTrainingConfig(
            base=str(tiny_model),
            out=tmp_path / head_init,
            epochs=1,
            learning_rate=1e-5,
            batch_size=8,
            validation_fraction=0.25,
            seed=0,
            head_init=head_init,
        )
        return train_reward_model(config, pairs)

    probed, random_head = train("probe"), train("random")

    assert probed["probe_cv_accuracy"] >= 0.9
    assert probed["probe_used"] == 1.0
    assert probed["validation_accuracy"] >= 0.9
    assert random_head["validation_accuracy"] < 0.8
    assert "probe_cv_accuracy" not in random_head


def test_a_probe_with_no_signal_leaves_the_random_head(tiny_model: Path) -> None:
    """When the frozen features cannot tell the sides apart (here: identical texts), the probe
    is no better than chance and the head stays as it was."""
    from training.pipeline.model_loading import load_reward_model, load_tokenizer

    tokenizer = load_tokenizer(tiny_model, padding_side="right")
    model = load_reward_model(tiny_model, tokenizer)
    head: Any = model.score
    before = head.weight.detach().clone()
    rows = [{"chosen_ids": [5, 6, 7 + i], "rejected_ids": [5, 6, 7 + i]} for i in range(20)]

    figures = initialise_head_by_probe(model, rows, bf16=False)

    assert figures["probe_used"] == 0.0
    assert figures["probe_cv_accuracy"] <= 0.5
    assert torch.equal(head.weight, before)


def test_an_unknown_head_initialisation_is_a_clear_error(tiny_model: Path, tmp_path: Path) -> None:
    from training.pipeline.errors import PipelineError

    config = RewardTrainingConfig(base=str(tiny_model), out=tmp_path, head_init="zeros")
    with pytest.raises(PipelineError, match="head_init must be 'random' or 'probe'"):
        train_reward_model(config, keyword_pairs(20, seed=1))


def test_ranking_expands_to_all_pairs_with_tier_margins() -> None:
    prompt = [{"role": "user", "content": "q"}]
    pairs = ranking_pairs(prompt, ["a", "b", "c", "d"], [[2], [0, 3], [1]])
    assert {(p.chosen, p.rejected, p.margin) for p in pairs} == {
        ("c", "a", 1.0),
        ("c", "d", 1.0),
        ("c", "b", 2.0),
        ("a", "b", 1.0),
        ("d", "b", 1.0),
    }


def test_split_keeps_each_prompt_on_one_side() -> None:
    prompt = [{"role": "user", "content": "shared"}]
    pairs = [PreferencePair(prompt, f"a{i}", f"b{i}") for i in range(5)] + keyword_pairs(20, 3)
    train, validation = split_by_prompt(pairs, 0.3, seed=0)
    assert {p.prompt_key for p in train}.isdisjoint({p.prompt_key for p in validation})
    assert len(train) + len(validation) == 25


def test_pairs_a_model_labelled_always_train_and_are_never_validated_on() -> None:
    people = keyword_pairs(20, 3)
    labelled = [
        PreferencePair(p.prompt, p.chosen + " (m)", p.rejected, from_model=True) for p in people
    ]
    train, validation = split_by_prompt(people + labelled, 0.5, seed=0)
    assert validation  # half of the people's prompts
    assert not any(p.from_model for p in validation)
    assert sum(p.from_model for p in train) == len(labelled)
    assert split_by_prompt(people, 0.5, seed=0)[1] == validation  # the people's split as before


def test_calibration_error_is_zero_when_probabilities_match_frequencies() -> None:
    probabilities = torch.tensor([0.25] * 4 + [0.75] * 4)
    outcomes = torch.tensor([1, 0, 0, 0, 1, 1, 1, 0])
    assert expected_calibration_error(probabilities, outcomes) == pytest.approx(0.0)
    assert expected_calibration_error(
        torch.tensor([0.9, 0.9]), torch.tensor([0, 0])
    ) == pytest.approx(0.9)


def test_a_lora_reward_model_learns_the_rule_and_is_saved_merged(
    tiny_model: Path, tmp_path: Path
) -> None:
    """`lora`: an adapter on every linear layer and the whole score head train; the saved
    model is an ordinary sequence classifier (merged), whose trunk moved from the base."""
    config = RewardTrainingConfig(
        base=str(tiny_model),
        out=tmp_path,
        epochs=4,
        learning_rate=1e-2,
        batch_size=8,
        validation_fraction=0.25,
        lora=True,
        lora_rank=8,
        seed=0,
    )

    metrics = train_reward_model(config, keyword_pairs(240, seed=2))

    assert metrics["validation_accuracy"] >= 0.9
    saved = load_file(tmp_path / "model" / "model.safetensors")
    base = load_file(tiny_model / "model.safetensors")
    assert not any("lora" in name for name in saved)  # merged, not an adapter
    assert "score.weight" in saved
    name = "model.layers.0.self_attn.q_proj.weight"
    assert saved[name].shape == base[name].shape
    assert not torch.allclose(saved[name], base[name])  # the adapter's update, merged in
    assert torch.equal(saved["model.embed_tokens.weight"], base["model.embed_tokens.weight"])


def test_lora_is_refused_where_the_weights_are_sharded(tiny_model: Path, tmp_path: Path) -> None:
    config = RewardTrainingConfig(
        base=str(tiny_model), out=tmp_path, lora=True, strategy="deepspeed-zero3"
    )
    with pytest.raises(PipelineError, match="lora cannot run under deepspeed-zero3"):
        train_reward_model(config, keyword_pairs(16, seed=2))
