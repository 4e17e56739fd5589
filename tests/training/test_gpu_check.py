"""`python -m training.pipeline gpu-check`: without CUDA it says so and exits 3; with
`--allow-cpu` the same code measures every stage on a tiny model and prints one JSON line."""

from __future__ import annotations

import json
import math
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from training.pipeline.gpu_check import peak_tflops, synthetic_pairs

ROOT = Path(__file__).resolve().parents[2]


def run_check(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "training.pipeline", "gpu-check", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
    )


@pytest.mark.skipif(torch.cuda.is_available(), reason="this machine has a GPU")
def test_without_cuda_it_says_so_and_exits_3() -> None:
    result = run_check()
    assert result.returncode == 3
    assert "no CUDA device" in result.stderr
    assert result.stdout == ""


def test_on_the_cpu_every_stage_reports_its_figures(tiny_model: Path) -> None:
    result = run_check(
        "--allow-cpu", "--model", str(tiny_model), "--pairs", "16", "--ppo-steps", "2"
    )
    assert result.returncode == 0, result.stderr[-2000:]
    (line,) = result.stdout.strip().splitlines()  # one JSON line, nothing else
    figures = json.loads(line)
    for key in (
        "reward_pairs_per_second",
        "reward_tokens_per_second",
        "reward_peak_memory_gib",
        "dpo_steps_per_second",
        "ppo_seconds_per_step",
        "ppo_generation_tokens_per_second",
        "generation_tokens_per_second",
        "reward_tflops",
    ):
        assert figures[key] > 0, key
        assert math.isfinite(figures[key]), key
    assert figures["parameters"] > 0
    # No peak is known for a CPU, so no utilisation is claimed.
    assert figures["device"] == "cpu"
    assert figures["reward_mfu"] is None
    assert figures["bf16"] is False


def test_a_model_that_does_not_exist_is_one_error_line(tmp_path: Path) -> None:
    result = run_check("--allow-cpu", "--model", str(tmp_path / "missing"))
    assert result.returncode == 2
    assert result.stderr.strip().splitlines()[-1].startswith("error: ")
    assert "does not exist" in result.stderr


def test_peak_and_data() -> None:
    assert peak_tflops("NVIDIA H200", None) == 989.0
    assert peak_tflops("NVIDIA A100-SXM4-80GB", None) == 312.0
    assert peak_tflops("NVIDIA H100 PCIe", None) == 756.0
    assert peak_tflops("NVIDIA L40", None) == 181.0
    assert peak_tflops("NVIDIA L4", None) == 121.0
    assert peak_tflops("Some New GPU", None) is None
    assert peak_tflops("Some New GPU", 100.0) == 100.0
    pairs = synthetic_pairs(20)
    assert len({p.prompt_key for p in pairs}) == 20  # one prompt per pair: splits stay honest
    assert all(len(p.rejected) > len(p.chosen) for p in pairs)
