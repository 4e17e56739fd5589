"""Policy rounds with and without LoRA (`make bench-rounds`): PPO, GRPO and RLOO on this
machine's CPU, each run once with full weights and once with a LoRA adapter on one shared base,
on the same prompts, reward model and seed. For each: seconds per step (the round's own step
times), the peak resident memory of the process (sampled from /proc every 0.2 s), and the
mean reward over the steps. The reward model is a reward run on synthetic pairs, trained
first (its quality does not matter here, only that every round scores with the same one).

    .venv/bin/python -m tests.benchmarks.bench_rounds [--model smollm2] [--steps 4]
        [--methods ppo,grpo,rloo]

Prints a table, then one JSON line.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
from pathlib import Path
from typing import Any

from tests.benchmarks.bench_processes import run_measured, stage_args, write_inputs

METHODS = ("ppo", "grpo", "rloo")


def round_args(method: str, folder: Path, out: Path, model: str, steps: int) -> list[str]:
    """Four answers per step in every method: PPO's batch of 4 prompts, or GRPO's and RLOO's
    2 prompts x a group of 2; 32 new tokens at most."""
    common = [
        *("--policy", model, "--reward", str(folder / "rm" / "model")),
        *("--prompts", str(folder / "prompts.jsonl"), "--out", str(out)),
        *("--steps", str(steps), "--max-new-tokens", "32", "--watch-prompts", "0"),
        *("--checkpoint-every", str(steps)),
    ]
    if method == "ppo":
        return ["ppo", *common, "--batch-size", "4", "--minibatch-size", "2"]
    return [method, *common, "--batch-size", "2", "--group-size", "2"]


def measure(method: str, folder: Path, model: str, steps: int, lora: bool) -> dict[str, Any]:
    out = folder / f"{method}-{'lora' if lora else 'full'}"
    command = [sys.executable, "-m", "training.pipeline"]
    command += round_args(method, folder, out, model, steps) + (["--lora"] if lora else [])
    if lora:  # LoRA wants a larger step than full weights; the same for every method
        command += ["--learning-rate", "1e-4"]
    wall, peak = run_measured(command)
    history = json.loads((out / "metrics.json").read_text())["history"]
    return {
        "method": method,
        "lora": lora,
        "s_per_step": sum(h["seconds"] for h in history) / len(history),
        "peak_rss_mib": peak,
        "reward_mean": sum(h["reward_mean"] for h in history) / len(history),
        "wall_s": wall,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="smollm2")
    parser.add_argument("--steps", type=int, default=4)
    parser.add_argument("--methods", default=",".join(METHODS))
    args = parser.parse_args()
    methods = [m for m in args.methods.split(",") if m]
    unknown = set(methods) - set(METHODS)
    if unknown:
        parser.error(f"unknown methods: {', '.join(sorted(unknown))}")
    os.environ.setdefault("TQDM_DISABLE", "1")
    rows = []
    with tempfile.TemporaryDirectory(prefix="bench-rounds-") as name:
        folder = Path(name)
        write_inputs(folder, 16)
        reward = [sys.executable, "-m", "training.pipeline"]
        run_measured(reward + stage_args("reward", folder, folder / "rm", args.model))
        for method in methods:
            for lora in (False, True):
                rows.append(measure(method, folder, args.model, args.steps, lora))
    print(f"{'method':8} {'weights':8} {'s/step':>8} {'peak MiB':>9} {'reward':>8}")
    for row in rows:
        weights = "LoRA" if row["lora"] else "full"
        print(
            f"{row['method']:8} {weights:8} {row['s_per_step']:8.2f} "
            f"{row['peak_rss_mib']:9.0f} {row['reward_mean']:8.3f}"
        )
    print(json.dumps({"model": args.model, "steps": args.steps, "rounds": rows}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
