"""DPO, generation and evaluation on tiny models, and bad input giving clear errors."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from training.pipeline.data import PreferencePair, encode_prompt, read_pairs
from training.pipeline.dpo import DPOTrainingConfig, margin_before_after, train_dpo
from training.pipeline.errors import PipelineError
from training.pipeline.evaluation import gold_win_rate, reward_model_accuracy, win_rate
from training.pipeline.generation import GenerationConfig, sample
from training.pipeline.model_loading import load_causal_lm, load_tokenizer, resolve_model
from training.pipeline.options import EvaluationConfig

ROOT = Path(__file__).resolve().parents[2]


def pairs(count: int = 8) -> list[PreferencePair]:
    return [
        PreferencePair(
            [{"role": "user", "content": f"Greet me ({i})"}], "Hello there, friend!", "Go away."
        )
        for i in range(count)
    ]


def test_dpo_raises_the_implicit_reward_margin(tiny_model: Path, tmp_path: Path) -> None:
    config = DPOTrainingConfig(
        base=str(tiny_model), out=tmp_path, epochs=3, learning_rate=5e-3, batch_size=4, beta=0.1
    )

    metrics = train_dpo(config, pairs())

    before, after = margin_before_after(str(tiny_model), tmp_path / "policy", pairs(), beta=0.1)
    assert before == pytest.approx(0.0, abs=1e-6)
    assert after > 0.5
    assert metrics["last_reward_margin"] > metrics["first_reward_margin"]


def test_dpo_with_lora_saves_a_merged_policy(tiny_model: Path, tmp_path: Path) -> None:
    config = DPOTrainingConfig(
        base=str(tiny_model),
        out=tmp_path,
        epochs=2,
        learning_rate=5e-3,
        batch_size=4,
        lora=True,
        lora_rank=4,
    )

    train_dpo(config, pairs())

    _, after = margin_before_after(str(tiny_model), tmp_path / "policy", pairs(), beta=0.1)
    assert after > 0.0
    assert not (tmp_path / "policy" / "adapter_config.json").exists()


def test_generation_returns_k_samples_with_token_counts(tiny_model: Path) -> None:
    prompts = [[{"role": "user", "content": "One"}], [{"role": "user", "content": "Two"}]]
    tokenizer = load_tokenizer(tiny_model)
    config = GenerationConfig(policy=str(tiny_model), k=3, max_new_tokens=5, batch_size=4)

    samples = sample(load_causal_lm(tiny_model), tokenizer, prompts, config)

    assert [s.prompt_index for s in samples] == [0, 0, 0, 1, 1, 1]
    assert all(1 <= s.completion_tokens <= 5 for s in samples)
    assert samples[0].prompt_tokens == len(encode_prompt(tokenizer, prompts[0]))


def test_win_rate_of_a_policy_against_itself_is_a_coin_flip_or_tie(tiny_model: Path) -> None:
    prompts = [[{"role": "user", "content": f"Q{i}"}] for i in range(6)]
    model = str(tiny_model)
    config = EvaluationConfig(policy=model, parent=model, reward=model, max_new_tokens=4)
    result = win_rate(config, prompts)
    assert result["win_rate"] == pytest.approx(0.5)  # same seed, same replies: every prompt ties
    assert result["n"] == 6


def test_gold_win_rate_uses_the_gold_function() -> None:
    prompts = [[{"role": "user", "content": "q"}]] * 4
    shorter_wins = lambda _p, a, b: 1.0 if len(a) < len(b) else 0.0 if len(a) > len(b) else 0.5  # noqa: E731
    result = gold_win_rate(["a", "aa", "a", "aaa"], ["bb", "b", "b", "b"], prompts, shorter_wins)
    assert result["win_rate"] == pytest.approx((1 + 0 + 0.5 + 0) / 4)
    # The outcomes' own spread: the tie counts half, so it adds less than a win or a loss would.
    spread = ((1 - 0.375) ** 2 + 0.375**2 + (0.5 - 0.375) ** 2 + 0.375**2) / 4
    assert result["stderr"] == pytest.approx((spread / 4) ** 0.5)
    assert result["n"] == 4


def test_gold_win_rate_without_ties_has_the_binomial_standard_error() -> None:
    prompts = [[{"role": "user", "content": "q"}]] * 5
    shorter_wins = lambda _p, a, b: 1.0 if len(a) < len(b) else 0.0  # noqa: E731
    result = gold_win_rate(
        ["a", "a", "a", "aa", "aa"], ["b" * 3] * 3 + ["b"] * 2, prompts, shorter_wins
    )
    assert result["win_rate"] == pytest.approx(0.6)
    assert result["stderr"] == pytest.approx((0.6 * 0.4 / 5) ** 0.5)


def test_reward_model_accuracy_reports_metrics(tiny_model: Path) -> None:
    metrics = reward_model_accuracy(str(tiny_model), pairs(4))
    assert set(metrics) >= {"accuracy", "loss", "calibration_error", "reward_mean", "reward_std"}
    assert metrics["accuracy"] in (0.0, 1.0)  # identical pairs: all right or all wrong


def test_bad_inputs_are_clear_errors(tiny_model: Path, tmp_path: Path) -> None:
    empty = tmp_path / "empty.jsonl"
    empty.write_text("")
    with pytest.raises(PipelineError, match="dataset is empty"):
        read_pairs(empty)
    same = tmp_path / "same.jsonl"
    same.write_text(json.dumps({"prompt": "p", "chosen": "x", "rejected": "x"}) + "\n")
    with pytest.raises(PipelineError, match="identical"):
        read_pairs(same)
    with pytest.raises(PipelineError, match="does not exist"):
        resolve_model(tmp_path / "no-such-model")
    long_prompt = [[{"role": "user", "content": "word " * 2000}]]
    with pytest.raises(PipelineError, match=r"prompt 1 is \d+ tokens"):
        sample(
            load_causal_lm(tiny_model),
            load_tokenizer(tiny_model),
            long_prompt,
            GenerationConfig(policy=str(tiny_model), k=1, max_new_tokens=8),
        )


def test_reward_refuses_a_pair_longer_than_the_context(tiny_model: Path, tmp_path: Path) -> None:
    from training.pipeline.reward import RewardTrainingConfig, train_reward_model

    long_pairs = [PreferencePair([{"role": "user", "content": "word " * 2000}], "a", "b")] * 4
    with pytest.raises(PipelineError, match="more than the context"):
        train_reward_model(
            RewardTrainingConfig(base=str(tiny_model), out=tmp_path, validation_fraction=0.0),
            long_pairs,
        )


def test_cli_reports_bad_input_in_one_line(tmp_path: Path) -> None:
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "training.pipeline",
            "reward",
            "--data",
            str(tmp_path / "none.jsonl"),
            "--base",
            str(tmp_path / "none"),
            "--out",
            str(tmp_path / "out"),
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 2
    assert result.stderr.strip() == f"error: No such data file: {tmp_path / 'none.jsonl'}"


def test_cli_runs_generation(tiny_model: Path, tmp_path: Path) -> None:
    prompts = tmp_path / "p.jsonl"
    prompts.write_text(json.dumps({"prompt": "Hi"}) + "\n")
    out = tmp_path / "gen.jsonl"
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "training.pipeline",
            "generate",
            "--policy",
            str(tiny_model),
            "--prompts",
            str(prompts),
            "--k",
            "2",
            "--max-new-tokens",
            "4",
            "--out",
            str(out),
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    [row] = [json.loads(line) for line in out.read_text().splitlines()]
    assert len(row["responses"]) == 2
    assert json.loads(result.stdout)["samples"] == 2
    progress = [json.loads(line) for line in (tmp_path / "progress.jsonl").read_text().splitlines()]
    assert [(p["event"], p["step"], p["total"]) for p in progress] == [("generate", 2, 2)]
    assert progress[0]["metrics"]["tokens_per_second"] > 0
