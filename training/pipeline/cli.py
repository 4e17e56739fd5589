"""Command line for each stage, for ML engineers by hand and for workers as a subprocess:

    python -m training.pipeline prepare smollm2
    python -m training.pipeline reward --data pairs.jsonl --base smollm2 --out DIR
    python -m training.pipeline ppo --policy smollm2 --reward DIR/model --prompts p.jsonl --out DIR
    python -m training.pipeline dpo --data pairs.jsonl --base smollm2 --out DIR [--lora]
    python -m training.pipeline generate --policy DIR --prompts p.jsonl --k 4 --out gen.jsonl
    python -m training.pipeline evaluate-reward --reward DIR/model --data pairs.jsonl
    python -m training.pipeline evaluate-policy --policy A --parent B --reward R --prompts p.jsonl
    python -m training.pipeline judge --judge smollm2 --data pairs.jsonl --out DIR
    python -m training.pipeline gpu-check           (each stage briefly on a GPU; exit 3: none)

Each writes progress lines (progress.jsonl) and a JSON metrics file in its output folder.
Errors in the input are one line on stderr and exit status 2. `reward`, `dpo` (HF Trainer) and
`ppo` (each process takes a share of every batch) also run on several processes:
`accelerate launch -m training.pipeline ...` on GPUs, `torchrun --nproc_per_node N -m
training.pipeline ...` on CPUs. Only the first process prints the result.

The flags are not written here: each is a field of the stage's config dataclass in
training/pipeline/options.py, with its default and help, so the app and the dashboard offer
the same options with the same defaults.
"""

from __future__ import annotations

import argparse
import ctypes
import json
import os
import signal
import sys
from collections.abc import Callable, Sequence
from dataclasses import MISSING
from pathlib import Path
from typing import Any

from training.pipeline.declarations import Option, Stage
from training.pipeline.errors import PipelineError
from training.pipeline.options import STAGES, cli_options
from training.pipeline.processes import leave_process_group

# A stage's work given its config and the parsed command line (for the files it reads).
Runner = Callable[[Any, argparse.Namespace], dict[str, Any]]


def _reward(config: Any, args: argparse.Namespace) -> dict[str, Any]:
    from training.pipeline.data import read_pairs
    from training.pipeline.reward import train_reward_model

    return train_reward_model(config, read_pairs(args.data))


def _ppo(config: Any, args: argparse.Namespace) -> dict[str, Any]:
    from training.pipeline.data import read_prompts
    from training.pipeline.ppo import PPOTrainer

    summary = PPOTrainer(config, read_prompts(args.prompts)).train()
    return {k: v for k, v in summary.items() if k != "history"}


def _dpo(config: Any, args: argparse.Namespace) -> dict[str, Any]:
    from training.pipeline.data import read_pairs
    from training.pipeline.dpo import train_dpo

    return train_dpo(config, read_pairs(args.data))


def _critic_free(config: Any, args: argparse.Namespace) -> dict[str, Any]:
    from training.pipeline.critic_free import train_critic_free
    from training.pipeline.data import read_prompts

    summary = train_critic_free(config, read_prompts(args.prompts))
    return {k: v for k, v in summary.items() if k != "history"}


def _generate(config: Any, args: argparse.Namespace) -> dict[str, Any]:
    from training.pipeline.data import read_prompts
    from training.pipeline.generation import generate_to_file

    return generate_to_file(config, read_prompts(args.prompts), args.out)


def _evaluate_reward(config: Any, args: argparse.Namespace) -> dict[str, Any]:
    from training.pipeline.data import read_pairs
    from training.pipeline.evaluation import reward_model_accuracy

    return reward_model_accuracy(config.reward, read_pairs(args.data))


def _evaluate_policy(config: Any, args: argparse.Namespace) -> dict[str, Any]:
    from training.pipeline.data import read_prompts
    from training.pipeline.evaluation import win_rate

    return win_rate(config, read_prompts(args.prompts))


def _judge(config: Any, args: argparse.Namespace) -> dict[str, Any]:
    from training.pipeline.judge import judge_to_folder, read_judge_pairs

    args.out.mkdir(parents=True, exist_ok=True)
    return judge_to_folder(config, read_judge_pairs(args.data), args.out)


def _prepare(args: argparse.Namespace) -> dict[str, Any]:
    from training.pipeline.model_loading import resolve_model

    return {"model": args.model, "path": resolve_model(args.model)}


RUNNERS: dict[str, Runner] = {
    "reward": _reward,
    "ppo": _ppo,
    "dpo": _dpo,
    "grpo": _critic_free,
    "rloo": _critic_free,
    "generate": _generate,
    "evaluate-reward": _evaluate_reward,
    "evaluate-policy": _evaluate_policy,
    "judge": _judge,
}


def add_option(parser: argparse.ArgumentParser, option: Option) -> None:
    """One declared field as a flag: `batch_size` is `--batch-size`; a boolean that is off by
    default is the bare flag, one that is on by default is turned off with `--no-...`."""
    if option.type is bool:
        if option.default is True:
            flag = "--no-" + option.flag.removeprefix("--")
            parser.add_argument(flag, dest=option.name, action="store_false", help=option.help)
        else:
            parser.add_argument(option.flag, action="store_true", help=option.help)
        return
    default = None if option.default is MISSING else option.default
    parser.add_argument(
        option.flag,
        type=option.type,
        default=default,
        required=option.required,
        choices=option.choices,
        help=option.help + ("" if option.required else " (default: %(default)s)"),
    )


def _config_from(stage: Stage, args: argparse.Namespace) -> Any:
    return stage.config(**{o.name: getattr(args, o.name) for o in cli_options(stage)})


def _gpu_check(args: argparse.Namespace) -> int:
    from training.pipeline.gpu_check import run

    return run(args)


def _add_gpu_check(stages: Any) -> None:
    parser = stages.add_parser(
        "gpu-check", help="each stage briefly on the GPU: speeds and peak memory, one JSON line"
    )
    default = " (default: %(default)s)"
    parser.add_argument("--model", default="smollm2", help="model to measure" + default)
    parser.add_argument("--pairs", type=int, default=64, help="synthetic pairs" + default)
    parser.add_argument("--ppo-steps", type=int, default=3, help="PPO steps" + default)
    parser.add_argument(
        "--peak-tflops", type=float, default=None, help="the GPU's bf16 peak, for an unlisted GPU"
    )
    parser.add_argument(
        "--allow-cpu", action="store_true", help="run on the CPU when there is no GPU (tests)"
    )
    parser.set_defaults(command=_gpu_check)


def _add_stage(stages: Any, stage: Stage) -> None:
    parser = stages.add_parser(stage.command, help=stage.help)
    for file in stage.files:
        parser.add_argument(f"--{file.name}", type=Path, required=file.required, help=file.help)
    for option in cli_options(stage):
        add_option(parser, option)
    runner = RUNNERS[stage.command]
    parser.set_defaults(run=lambda args: runner(_config_from(stage, args), args))


def build_parser() -> argparse.ArgumentParser:
    """Every stage's flags, read from its config's declaration (training/pipeline/options.py)."""
    parser = argparse.ArgumentParser(
        prog="python -m training.pipeline", description="RLHF Studio training stages"
    )
    stages = parser.add_subparsers(dest="stage", required=True)
    prepare = stages.add_parser("prepare", help="convert and cache a model (smollm2)")
    prepare.add_argument("model", nargs="?", default="smollm2")
    prepare.set_defaults(run=_prepare, out=None)
    for stage in STAGES:
        _add_stage(stages, stage)
    _add_gpu_check(stages)
    return parser


PR_SET_PDEATHSIG = 1


def die_with_parent() -> None:
    """Ask Linux to SIGKILL this process when its parent dies (elsewhere a no-op)."""
    if not sys.platform.startswith("linux"):
        return
    parent = os.getppid()
    ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    if os.getppid() != parent:  # the parent was gone before the request took effect
        os._exit(1)


def die_with_launcher() -> None:
    """Under torchrun each process is the launcher's child; the worker kills only the launcher
    when it dies (kill -9 takes the launcher with it through PR_SET_PDEATHSIG), so each
    process asks the same for itself: no process trains on as an orphan beside the retry."""
    if "LOCAL_RANK" in os.environ:
        die_with_parent()


def main(argv: Sequence[str] | None = None) -> int:
    die_with_launcher()
    args = build_parser().parse_args(argv)
    if getattr(args, "command", None) is not None:
        return int(args.command(args))  # a command that reports on its own (gpu-check)
    run: Callable[[argparse.Namespace], dict[str, Any]] = args.run
    try:
        result = run(args)
    except PipelineError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    # Only after success: a rank that failed may have peers still waiting in a collective,
    # and taking an NCCL group down under them can hang instead of exiting with the error.
    leave_process_group()
    if os.environ.get("RANK", "0") != "0":
        return 0  # under a multi-process launcher, the first process reports for all
    text = json.dumps(result, indent=2, default=str)
    if args.out is not None and args.stage in ("evaluate-reward", "evaluate-policy", "judge"):
        args.out.mkdir(parents=True, exist_ok=True)
        (args.out / "metrics.json").write_text(text + "\n")
    print(text)
    return 0
