"""GRPO and RLOO rounds (training/pipeline/critic_free.py) on a tiny policy, through the
command line the worker runs: a round killed after a checkpoint resumes from that step to the
same result, RLOO writes a policy, and bad input is a clear error."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file

from tests.training.test_ppo import ROOT, round_command, run_to_the_end, write_prompts
from training.pipeline.resume_points import trainer_checkpoint

ENV = {**os.environ, "TQDM_DISABLE": "1"}


def critic_free_command(method: str, model: Path, out: Path, steps: int) -> list[str]:
    flags = ["--batch-size", "2", "--group-size", "2", "--max-new-tokens", "6"]
    flags += ["--learning-rate", "1e-3", "--checkpoint-every", "2"]
    flags += ["--watch-prompts", "4", "--seed", "3"]
    return round_command(method, model, out, steps, flags)


def _kill_after_checkpoint_two(command: list[str], out: Path) -> None:
    process = subprocess.Popen(
        command,
        cwd=ROOT,
        env=ENV,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    deadline = time.monotonic() + 240
    while (trainer_checkpoint(out / "trainer") or Path("none")).name != "checkpoint-2":
        assert time.monotonic() < deadline
        assert process.poll() is None
        time.sleep(0.05)
    os.killpg(process.pid, signal.SIGKILL)
    process.wait()
    assert not (out / "policy").exists()  # it really died before finishing


def _steps(out: Path) -> list[int]:
    lines = (out / "progress.jsonl").read_text().splitlines()
    return [json.loads(line)["step"] for line in lines if json.loads(line)["event"] == "train"]


def test_a_grpo_round_killed_after_a_checkpoint_resumes_from_its_step(
    tiny_model: Path, tmp_path: Path
) -> None:
    write_prompts(tmp_path)
    straight, killed = tmp_path / "straight", tmp_path / "killed"
    run_to_the_end(critic_free_command("grpo", tiny_model, straight, 4), ENV)

    _kill_after_checkpoint_two(critic_free_command("grpo", tiny_model, killed, 4), killed)
    logged_before_kill = _steps(killed)
    run_to_the_end(critic_free_command("grpo", tiny_model, killed, 4), ENV)

    # The second attempt started at step 3: what it logged continues the first attempt's.
    assert _steps(killed)[len(logged_before_kill) :] == [3, 4]
    metrics = json.loads((killed / "metrics.json").read_text())
    assert metrics["resumed_from"] == "checkpoint-2"
    assert metrics["method"] == "grpo"
    straight_metrics = json.loads((straight / "metrics.json").read_text())
    assert [h["reward_mean"] for h in metrics["history"]] == pytest.approx(
        [h["reward_mean"] for h in straight_metrics["history"]], abs=1e-5
    )
    first = load_file(str(straight / "policy" / "model.safetensors"))
    second = load_file(str(killed / "policy" / "model.safetensors"))
    assert first.keys() == second.keys()
    assert all(torch.allclose(first[k], second[k], rtol=0, atol=1e-5) for k in first)
    base = load_file(str(tiny_model / "model.safetensors"))
    assert any(not torch.equal(first[k], base[k]) for k in base if k in first)


def test_an_rloo_round_writes_a_policy_with_its_curves_and_watch(
    tiny_model: Path, tmp_path: Path
) -> None:
    write_prompts(tmp_path)
    out = tmp_path / "rloo"
    run_to_the_end([*critic_free_command("rloo", tiny_model, out, 2), "--lora"], ENV)

    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["method"] == "rloo"
    assert metrics["steps"] == 2
    for name in ("reward_mean", "kl", "response_length", "policy_loss"):
        assert all(name in step for step in metrics["history"])
    for step in metrics["history"]:  # per answer, as PPO's: TRL's per-token KL x the length
        assert step["kl"] == pytest.approx(step["kl_per_token"] * step["response_length"])
    assert metrics["watch"]["kl_source"] == "samples"
    assert (out / "policy" / "model.safetensors").is_file()
    assert (out / "adapter" / "adapter_config.json").is_file()
    assert _steps(out) == [1, 2]


@pytest.mark.parametrize(
    ("prompts", "words"),
    [(0, "holds no prompts"), (1, "GRPO takes batch_size 2 prompts a step, but there are only 1")],
)
def test_a_round_with_too_few_prompts_is_a_clear_error(
    prompts: int, words: str, tiny_model: Path, tmp_path: Path
) -> None:
    """No prompts, or fewer than one step's batch (TRL's sampler would drop the partial batch
    and the round would "succeed" having trained nothing)."""
    rows = [json.dumps({"prompt": "Say hello."}) for _ in range(prompts)]
    (tmp_path / "prompts.jsonl").write_text("".join(row + "\n" for row in rows))
    finished = subprocess.run(
        critic_free_command("grpo", tiny_model, tmp_path / "out", 2),
        cwd=ROOT,
        env=ENV,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert finished.returncode == 2
    last = finished.stderr.strip().splitlines()[-1]
    assert last.startswith("error: ")
    assert words in last
    assert not (tmp_path / "out" / "policy").exists()


def test_the_newest_checkpoint_with_every_process_generators_is_the_resume_point(
    tmp_path: Path,
) -> None:
    trainer = tmp_path / "trainer"
    for step, ranks in ((2, (0, 1)), (4, (0, 1)), (6, (0,))):  # 6: rank 1 was cut short
        folder = trainer / f"checkpoint-{step}"
        folder.mkdir(parents=True)
        (folder / "trainer_state.json").write_text("{}")
        for rank in ranks:
            (folder / f"rng_state_{rank}.pth").write_bytes(b"")
    (trainer / "checkpoint-8").mkdir()  # no trainer state yet

    assert trainer_checkpoint(trainer, 2) == trainer / "checkpoint-4"
    assert trainer_checkpoint(trainer) == trainer / "checkpoint-6"
    # Written by two processes, resumed on three: the newest with a trainer state serves.
    assert trainer_checkpoint(trainer, 3) == trainer / "checkpoint-6"
