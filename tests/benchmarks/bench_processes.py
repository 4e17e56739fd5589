"""One process against two (`make bench-processes`): the reward, DPO and PPO stages on this
machine's CPU, each run once on one process and once under torchrun on two (gloo), with the
same data, seed and global batch. For each: seconds per optimiser step (the stage's own
training time over its steps), whether the two runs agree (the largest weight difference of the
saved models; PPO samples a separate stream per process, so its weights are not expected to
agree and its mean reward is shown instead), and the peak resident memory of the largest
process (sampled from /proc every 0.2 s).

    .venv/bin/python -m tests.benchmarks.bench_processes [--model smollm2] [--pairs 32]
        [--strategy deepspeed-zero2]   (the two-process runs under that strategy; reward and
                                        DPO only, against one-process DDP)

Prints a table, then one JSON line.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import torch
from safetensors.torch import load_file

from training.pipeline.gpu_check import synthetic_pairs, synthetic_prompts
from training.pipeline.strategies import STRATEGIES, launch_environment

ROOT = Path(__file__).resolve().parents[2]


def _tree(pid: int) -> list[int]:
    """The process and all its descendants, from /proc."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                parent = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            children.setdefault(parent, []).append(int(entry.name))
    found, pending = [], [pid]
    while pending:
        current = pending.pop()
        found.append(current)
        pending.extend(children.get(current, []))
    return found


def _rss_mib(pid: int) -> float:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


def _is_stage(pid: int) -> bool:
    """A pipeline process (a rank, or the one process), not the launcher."""
    try:
        command = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return False
    return b"training.pipeline" in command and b"torch.distributed.run" not in command


def run_measured(command: list[str], env: dict[str, str] | None = None) -> tuple[float, float]:
    """Wall seconds and the largest single process's peak RSS (MiB) over the command's tree."""
    process = subprocess.Popen(
        command, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env
    )
    peak = [0.0]

    def sample() -> None:
        while process.poll() is None:
            for pid in _tree(process.pid):
                if _is_stage(pid):
                    peak[0] = max(peak[0], _rss_mib(pid))
            time.sleep(0.2)

    sampler = threading.Thread(target=sample, daemon=True)
    started = time.perf_counter()
    sampler.start()
    _, err = process.communicate()
    seconds = time.perf_counter() - started
    sampler.join()
    if process.returncode != 0:
        raise SystemExit(f"{' '.join(command)} failed:\n{err.decode()[-3000:]}")
    return seconds, peak[0]


def launcher(processes: int) -> list[str]:
    if processes == 1:
        return [sys.executable, "-m", "training.pipeline"]
    return [
        *(sys.executable, "-m", "torch.distributed.run", "--standalone"),
        *(f"--nproc_per_node={processes}", "-m", "training.pipeline"),
    ]


def write_inputs(folder: Path, pairs: int) -> None:
    with (folder / "pairs.jsonl").open("w") as handle:
        for pair in synthetic_pairs(pairs):
            row = {"prompt": pair.prompt, "chosen": pair.chosen, "rejected": pair.rejected}
            handle.write(json.dumps(row) + "\n")
    with (folder / "prompts.jsonl").open("w") as handle:
        for prompt in synthetic_prompts(16):
            handle.write(json.dumps({"prompt": prompt}) + "\n")


def stage_args(stage: str, folder: Path, out: Path, model: str) -> list[str]:
    if stage == "reward":
        return [
            *("reward", "--data", str(folder / "pairs.jsonl"), "--base", model),
            *("--out", str(out), "--batch-size", "8", "--validation-fraction", "0"),
        ]
    if stage == "dpo":
        return [
            *("dpo", "--data", str(folder / "pairs.jsonl"), "--base", model, "--out", str(out)),
            *("--batch-size", "4", "--watch-prompts", "0"),
        ]
    return [
        *("ppo", "--policy", model, "--reward", str(folder / "rm" / "model")),
        *("--prompts", str(folder / "prompts.jsonl"), "--out", str(out), "--steps", "4"),
        *("--batch-size", "4", "--minibatch-size", "2", "--max-new-tokens", "32"),
        *("--watch-prompts", "0", "--checkpoint-every", "4"),
    ]


def weights_of(folder: Path) -> dict[str, torch.Tensor]:
    return load_file(str(next(folder.glob("*.safetensors"))))


def figures_of(stage: str, out: Path) -> dict[str, Any]:
    metrics = json.loads((out / "metrics.json").read_text())
    if stage == "ppo":
        history = metrics["history"]
        return {
            "s_per_step": sum(h["seconds"] for h in history) / len(history),
            "reward_mean": sum(h["reward_mean"] for h in history) / len(history),
        }
    return {"s_per_step": metrics["train_seconds"] / max(1, metrics.get("steps") or 1)}


def measure(stage: str, folder: Path, model: str, strategy: str = "ddp") -> dict[str, Any]:
    """One process under DDP, two under `strategy`."""
    row: dict[str, Any] = {"stage": stage, "strategy_2": strategy}
    outs = {}
    for processes in (1, 2):
        out = folder / f"{stage}-{processes}"
        command = [*launcher(processes), *stage_args(stage, folder, out, model)]
        env = None
        if processes == 2 and strategy != "ddp":
            command += ["--strategy", strategy]
            env = {**os.environ, **launch_environment(strategy)}
        wall, peak = run_measured(command, env)
        figures = figures_of(stage, out)
        row[f"s_per_step_{processes}"] = figures["s_per_step"]
        row[f"peak_rss_mib_{processes}"] = peak
        row[f"wall_s_{processes}"] = wall
        if "reward_mean" in figures:
            row[f"reward_mean_{processes}"] = figures["reward_mean"]
        outs[processes] = out / ("model" if stage == "reward" else "policy")
    if stage != "ppo":
        one, two = weights_of(outs[1]), weights_of(outs[2])
        row["max_weight_difference"] = max(float((one[k] - two[k]).abs().max()) for k in one)
    return row


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="smollm2")
    parser.add_argument("--pairs", type=int, default=32)
    parser.add_argument("--strategy", default="ddp", choices=STRATEGIES)
    args = parser.parse_args()
    os.environ.setdefault("TQDM_DISABLE", "1")
    with tempfile.TemporaryDirectory(prefix="bench-processes-") as name:
        folder = Path(name)
        write_inputs(folder, args.pairs)
        rows = [measure("reward", folder, args.model, args.strategy)]
        (folder / "rm").symlink_to(folder / "reward-1")
        rows.append(measure("dpo", folder, args.model, args.strategy))
        if args.strategy == "ddp":  # PPO runs under ddp only
            rows.append(measure("ppo", folder, args.model))
    header = ("stage", "s/step 1", "s/step 2", "peak MiB 1", "peak MiB 2")
    print(f"{header[0]:8} {header[1]:>9} {header[2]:>9} {header[3]:>11} {header[4]:>11}  agree")
    for row in rows:
        agree = (
            f"max |dw| {row['max_weight_difference']:.1e}"
            if "max_weight_difference" in row
            else f"reward {row['reward_mean_1']:.3f} vs {row['reward_mean_2']:.3f}"
        )
        print(
            f"{row['stage']:8} {row['s_per_step_1']:9.2f} {row['s_per_step_2']:9.2f} "
            f"{row['peak_rss_mib_1']:11.0f} {row['peak_rss_mib_2']:11.0f}  {agree}"
        )
    summary = {"model": args.model, "strategy": args.strategy, "cpus": os.cpu_count()}
    print(json.dumps({**summary, "stages": rows}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
