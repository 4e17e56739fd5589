"""PPO: the pure pieces against hand-computed values, then whole rounds on a tiny policy."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file

from training.pipeline.data import Messages, encode_prompt
from training.pipeline.model_loading import load_causal_lm, load_tokenizer
from training.pipeline.options import PPOConfig
from training.pipeline.ppo import PPOTrainer, sequence_logprobs
from training.pipeline.ppo_maths import gae, position_ids, response_mask, token_rewards

ROOT = Path(__file__).resolve().parents[2]
PROMPTS = [[{"role": "user", "content": f"Write a word, please ({i})."}] for i in range(16)]


def test_mask_ends_at_the_first_eos_even_when_pad_is_eos() -> None:
    eos = 2  # SmolLM2: pad = eos, so everything after the end looks like more EOS tokens
    responses = torch.tensor([[5, 2, 2, 2], [5, 6, 7, 8], [2, 2, 2, 2], [5, 6, 2, 9]])
    assert response_mask(responses, eos).tolist() == [
        [1, 1, 0, 0],
        [1, 1, 1, 1],
        [1, 0, 0, 0],
        [1, 1, 1, 0],
    ]


def test_real_tokenizer_has_pad_equal_to_eos(tiny_model: Path) -> None:
    tokenizer = load_tokenizer(tiny_model)
    assert tokenizer.pad_token_id == tokenizer.eos_token_id


def test_position_ids_count_from_the_first_real_token() -> None:
    mask = torch.tensor([[0, 0, 1, 1, 1], [1, 1, 1, 1, 1]])
    assert position_ids(mask).tolist() == [[0, 0, 0, 1, 2], [0, 1, 2, 3, 4]]


def test_left_padding_does_not_change_log_probabilities(tiny_model: Path) -> None:
    tokenizer = load_tokenizer(tiny_model)
    model = load_causal_lm(tiny_model).eval()
    short = encode_prompt(tokenizer, [{"role": "user", "content": "hi"}])
    reply = [1000, 2000, 3000]
    alone = torch.tensor([short + reply])
    padded = torch.tensor([[tokenizer.pad_token_id] * 5 + short + reply])
    mask = torch.tensor([[0] * 5 + [1] * (len(short) + 3)])

    with torch.no_grad():
        expected, _ = sequence_logprobs(model, alone, torch.ones_like(alone), len(short), 1.0)
        got, _ = sequence_logprobs(model, padded, mask, len(short) + 5, 1.0)

    assert torch.allclose(got, expected, atol=1e-5)


def test_gae_matches_a_hand_computation() -> None:
    rewards = torch.tensor([[0.0, 0.0, 1.0, 0.0]])
    values = torch.tensor([[0.5, 0.25, 0.5, 9.0]])
    mask = torch.tensor([[1.0, 1.0, 1.0, 0.0]])

    advantages, returns = gae(rewards, values, mask, gamma=1.0, lam=0.5)

    # δ2 = 1 - 0.5 = 0.5; δ1 = 0 + 0.5 - 0.25 = 0.25; δ0 = 0 + 0.25 - 0.5 = -0.25
    # A2 = 0.5; A1 = 0.25 + 0.5·0.5 = 0.5; A0 = -0.25 + 0.5·0.5 = 0.0
    assert advantages.tolist() == [[0.0, 0.5, 0.5, 0.0]]
    assert returns.tolist() == [[0.5, 0.75, 1.0, 0.0]]


def test_token_rewards_put_the_score_on_the_last_real_token() -> None:
    logprobs = torch.tensor([[-1.0, -1.0, -1.0], [-1.0, -1.0, -1.0]])
    ref = torch.tensor([[-1.5, -1.0, -2.0], [-1.0, -1.0, -1.0]])
    mask = torch.tensor([[1.0, 1.0, 0.0], [1.0, 1.0, 1.0]])

    rewards, kl = token_rewards(torch.tensor([2.0, 3.0]), logprobs, ref, mask, beta=0.1)

    assert kl.tolist() == [[0.5, 0.0, 0.0], [0.0, 0.0, 0.0]]
    assert torch.allclose(rewards, torch.tensor([[-0.05, 2.0, 0.0], [0.0, 0.0, 3.0]]))


def starts_with_vowel(prompts: Sequence[Messages], replies: Sequence[str]) -> torch.Tensor:
    """A rule the first token decides, over multi-token replies: credit must flow back."""
    return torch.tensor([1.0 if r.strip()[:1].lower() in "aeiou" else 0.0 for r in replies])


def test_ppo_raises_the_rule_reward_within_the_kl_budget(
    peaked_policy: Path, tmp_path: Path
) -> None:
    prompts = [[{"role": "user", "content": "Hello"}], [{"role": "user", "content": "Hello!"}]]
    config = PPOConfig(
        policy=str(peaked_policy),
        out=tmp_path,
        steps=25,
        batch_size=16,
        minibatch_size=8,
        max_new_tokens=6,
        ppo_epochs=2,
        learning_rate=1e-4,
        value_learning_rate=1e-3,
        kl_coef=0.05,
        adaptive_kl=True,
        target_kl=3.0,
        checkpoint_every=100,
        seed=0,
    )

    summary = PPOTrainer(config, prompts, reward_fn=starts_with_vowel).train()

    history = summary["history"]
    start = sum(h["reward_mean"] for h in history[:5]) / 5
    end = sum(h["reward_mean"] for h in history[-5:]) / 5
    assert end > start + 0.3
    kl_budget = 2 * config.target_kl
    assert max(h["kl"] for h in history) < kl_budget
    for name in ("kl", "entropy", "clip_fraction", "approx_kl", "value_loss", "response_length"):
        assert all(name in h for h in history)


def round_command(
    stage: str, model: Path, out: Path, steps: int, flags: list[str], processes: int = 1
) -> list[str]:
    """A policy round's CLI as a worker runs it (the tiny model as policy and reward), with the
    stage's own `flags`; with several processes under torchrun (accelerate's own launcher needs
    MPI for several CPU processes)."""
    torchrun = [str(Path(sys.executable).parent / "torchrun"), "--standalone"]
    launcher = [*torchrun, f"--nproc_per_node={processes}"] if processes > 1 else [sys.executable]
    files = ["--policy", str(model), "--reward", str(model)]
    files += ["--prompts", str(out.parent / "prompts.jsonl"), "--out", str(out)]
    return [*launcher, "-m", "training.pipeline", stage, *files, "--steps", str(steps), *flags]


def ppo_command(model: Path, out: Path, steps: int, processes: int = 1) -> list[str]:
    flags = ["--batch-size", "4", "--minibatch-size", "2", "--max-new-tokens", "8"]
    flags += ["--learning-rate", "1e-3", "--value-learning-rate", "1e-3"]
    flags += ["--checkpoint-every", "2", "--seed", "3"]
    return round_command("ppo", model, out, steps, flags, processes)


def write_prompts(folder: Path) -> None:
    (folder / "prompts.jsonl").write_text(
        "\n".join(json.dumps({"prompt": p}) for p in PROMPTS) + "\n"
    )


def run_to_the_end(command: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    finished = subprocess.run(
        command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=300
    )
    assert finished.returncode == 0, finished.stderr[-3000:]
    return finished


def kill_after_second_checkpoint(command: list[str], out: Path, env: dict[str, str]) -> None:
    """SIGKILL the whole process group (launcher and every rank, as when a machine dies) as
    soon as checkpoint 2 is complete."""
    process = subprocess.Popen(
        command,
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    deadline = time.monotonic() + 240
    while not (out / "checkpoints" / "step-000002" / "state.json").exists():
        assert time.monotonic() < deadline
        assert process.poll() is None
        time.sleep(0.05)
    os.killpg(process.pid, signal.SIGKILL)
    process.wait()
    assert not (out / "policy").exists()  # it really died before finishing


def assert_same_run(straight: Path, resumed: Path, steps: int) -> None:
    """The resumed run samples exactly what the straight run sampled (same data position, RNG
    and weights at the checkpoint: identical rewards). Weights agree to ~1e-6, not bitwise:
    after resume the value model's gradients differ by ~1e-11 from the second update on
    (we traced it that far: parameters, buffers, optimizer state and inputs are identical)."""
    first = load_file(str(straight / "policy" / "model.safetensors"))
    second = load_file(str(resumed / "policy" / "model.safetensors"))
    assert first.keys() == second.keys()
    assert all(torch.allclose(first[name], second[name], rtol=0, atol=1e-5) for name in first)
    history = json.loads((straight / "metrics.json").read_text())["history"]
    resumed_history = json.loads((resumed / "metrics.json").read_text())["history"]
    assert len(history) == len(resumed_history) == steps
    for straight_step, resumed_step in zip(history, resumed_history, strict=True):
        assert resumed_step["reward_mean"] == pytest.approx(straight_step["reward_mean"], abs=1e-5)
        assert resumed_step["response_length"] == straight_step["response_length"]


def test_a_run_killed_after_a_checkpoint_resumes_to_the_same_weights(
    tiny_model: Path, tmp_path: Path
) -> None:
    write_prompts(tmp_path)
    env = {**os.environ, "TQDM_DISABLE": "1"}
    straight, killed = tmp_path / "straight", tmp_path / "killed"
    run_to_the_end(ppo_command(tiny_model, straight, 6), env)

    kill_after_second_checkpoint(ppo_command(tiny_model, killed, 6), killed, env)
    run_to_the_end(ppo_command(tiny_model, killed, 6), env)

    assert_same_run(straight, killed, 6)


def test_two_processes_share_each_batch_and_resume_to_the_same_weights(
    tiny_model: Path, tmp_path: Path
) -> None:
    """Under a multi-process launcher each process generates and trains on half of every
    batch; the gradients are averaged, the metrics are the whole batch's, one process writes,
    and a run killed after a checkpoint resumes every process's generator to finish exactly
    like the straight run."""
    write_prompts(tmp_path)
    env = {**os.environ, "TQDM_DISABLE": "1", "OMP_NUM_THREADS": "1"}
    straight, killed = tmp_path / "straight", tmp_path / "killed"
    finished = run_to_the_end(ppo_command(tiny_model, straight, 6, processes=2), env)
    assert finished.stdout.count('"processes": 2') == 1  # one report, from the first process
    summary = json.loads((straight / "metrics.json").read_text())
    assert summary["processes"] == 2
    assert [h["sequences"] for h in summary["history"]] == [4.0] * 6  # the whole batch of 4
    assert len((straight / "progress.jsonl").read_text().splitlines()) == 6  # written once
    generators = load_file(str(straight / "checkpoints" / "step-000006" / "rng.safetensors"))
    assert {"0.torch_cpu", "1.torch_cpu"} <= generators.keys()
    assert not torch.equal(generators["0.torch_cpu"], generators["1.torch_cpu"])

    kill_after_second_checkpoint(ppo_command(tiny_model, killed, 6, processes=2), killed, env)
    run_to_the_end(ppo_command(tiny_model, killed, 6, processes=2), env)

    assert_same_run(straight, killed, 6)


def test_a_batch_that_does_not_split_over_the_processes_is_a_clear_error(
    tiny_model: Path, tmp_path: Path
) -> None:
    (tmp_path / "prompts.jsonl").write_text(json.dumps({"prompt": PROMPTS[0]}) + "\n")
    command = ppo_command(tiny_model, tmp_path / "out", 2, processes=2)
    command[command.index("--batch-size") + 1] = "3"
    env = {**os.environ, "TQDM_DISABLE": "1", "OMP_NUM_THREADS": "1"}
    result = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    assert result.returncode != 0
    assert "error: batch_size 3 does not split evenly over 2 processes" in result.stderr


def test_ppo_without_prompts_or_reward_is_a_clear_error(tiny_model: Path, tmp_path: Path) -> None:
    from training.pipeline.errors import PipelineError

    with pytest.raises(PipelineError, match="at least one prompt"):
        PPOTrainer(PPOConfig(policy=str(tiny_model), out=tmp_path), [], reward_fn=starts_with_vowel)
    with pytest.raises(PipelineError, match="reward model"):
        PPOTrainer(PPOConfig(policy=str(tiny_model), out=tmp_path), PROMPTS)
