"""Command line for each stage, for ML engineers by hand and for workers as a subprocess:

    python -m training.pipeline prepare smollm2
    python -m training.pipeline reward --data pairs.jsonl --base smollm2 --out DIR
    python -m training.pipeline ppo --policy smollm2 --reward DIR/model --prompts p.jsonl --out DIR
    python -m training.pipeline dpo --data pairs.jsonl --base smollm2 --out DIR [--lora]
    python -m training.pipeline generate --policy DIR --prompts p.jsonl --k 4 --out gen.jsonl
    python -m training.pipeline evaluate-reward --reward DIR/model --data pairs.jsonl
    python -m training.pipeline evaluate-policy --policy A --parent B --reward R --prompts p.jsonl

Each writes progress lines (progress.jsonl) and a JSON metrics file in its output folder.
Errors in the input are one line on stderr and exit status 2. `reward`, `dpo` (HF Trainer) and
`ppo` (each process takes a share of every batch) also run on several processes:
`accelerate launch -m training.pipeline ...` on GPUs, `torchrun --nproc_per_node N -m
training.pipeline ...` on CPUs. Only the first process prints the result.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from training.pipeline.errors import PipelineError


def _reward(args: argparse.Namespace) -> dict[str, Any]:
    from training.pipeline.data import read_pairs
    from training.pipeline.reward import RewardTrainingConfig, train_reward_model

    config = RewardTrainingConfig(
        base=args.base,
        out=args.out,
        epochs=args.epochs,
        learning_rate=args.lr,
        batch_size=args.batch_size,
        grad_accum=args.grad_accum,
        max_length=args.max_length,
        validation_fraction=args.validation_fraction,
        seed=args.seed,
        bf16=args.bf16,
        gradient_checkpointing=args.gradient_checkpointing,
        bucket_by_length=not args.no_bucketing,
        head_init="probe" if args.probe_head else "random",
    )
    return train_reward_model(config, read_pairs(args.data))


def _ppo(args: argparse.Namespace) -> dict[str, Any]:
    from training.pipeline.data import read_prompts
    from training.pipeline.ppo import PPOConfig, PPOTrainer

    config = PPOConfig(
        policy=args.policy,
        reward=args.reward,
        out=args.out,
        steps=args.steps,
        batch_size=args.batch_size,
        max_new_tokens=args.max_new_tokens,
        ppo_epochs=args.ppo_epochs,
        minibatch_size=args.minibatch_size,
        learning_rate=args.lr,
        value_learning_rate=args.value_lr,
        kl_coef=args.kl_coef,
        adaptive_kl=args.target_kl is not None,
        target_kl=args.target_kl or 6.0,
        checkpoint_every=args.checkpoint_every,
        seed=args.seed,
        bf16=args.bf16,
        temperature=args.temperature,
        whiten_rewards=args.whiten_rewards,
    )
    summary = PPOTrainer(config, read_prompts(args.prompts)).train()
    return {k: v for k, v in summary.items() if k != "history"}


def _dpo(args: argparse.Namespace) -> dict[str, Any]:
    from training.pipeline.data import read_pairs
    from training.pipeline.dpo import DPOTrainingConfig, train_dpo

    config = DPOTrainingConfig(
        base=args.base,
        out=args.out,
        epochs=args.epochs,
        learning_rate=args.lr,
        batch_size=args.batch_size,
        beta=args.beta,
        lora=args.lora,
        seed=args.seed,
        bf16=args.bf16,
        max_length=args.max_length,
    )
    return train_dpo(config, read_pairs(args.data))


def _generate(args: argparse.Namespace) -> dict[str, Any]:
    from training.pipeline.data import read_prompts
    from training.pipeline.generation import GenerationConfig, generate_to_file

    config = GenerationConfig(
        policy=args.policy,
        k=args.k,
        max_new_tokens=args.max_new_tokens,
        temperature=args.temperature,
        batch_size=args.batch_size,
        seed=args.seed,
    )
    return generate_to_file(config, read_prompts(args.prompts), args.out)


def _evaluate_reward(args: argparse.Namespace) -> dict[str, Any]:
    from training.pipeline.data import read_pairs
    from training.pipeline.evaluation import reward_model_accuracy

    return reward_model_accuracy(args.reward, read_pairs(args.data))


def _evaluate_policy(args: argparse.Namespace) -> dict[str, Any]:
    from training.pipeline.data import read_prompts
    from training.pipeline.evaluation import win_rate

    return win_rate(
        args.policy,
        args.parent,
        args.reward,
        read_prompts(args.prompts),
        max_new_tokens=args.max_new_tokens,
        seed=args.seed,
        samples=args.samples,
    )


def _prepare(args: argparse.Namespace) -> dict[str, Any]:
    from training.pipeline.model_loading import resolve_model

    return {"model": args.model, "path": resolve_model(args.model)}


def _common(parser: argparse.ArgumentParser, out_required: bool = True) -> None:
    parser.add_argument("--out", type=Path, required=out_required, help="Output folder")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--bf16", action="store_true", help="bfloat16 weights and compute")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m training.pipeline", description="RLHF Studio training stages"
    )
    stages = parser.add_subparsers(dest="stage", required=True)

    prepare = stages.add_parser("prepare", help="convert and cache a model (smollm2)")
    prepare.add_argument("model", nargs="?", default="smollm2")
    prepare.set_defaults(run=_prepare, out=None)

    reward = stages.add_parser("reward", help="train a reward model on preference pairs")
    reward.add_argument("--data", type=Path, required=True)
    reward.add_argument("--base", default="smollm2")
    reward.add_argument("--epochs", type=float, default=1.0)
    reward.add_argument("--lr", type=float, default=1e-5)
    reward.add_argument("--batch-size", type=int, default=8)
    reward.add_argument("--grad-accum", type=int, default=1)
    reward.add_argument("--max-length", type=int, default=1024)
    reward.add_argument("--validation-fraction", type=float, default=0.2)
    reward.add_argument("--gradient-checkpointing", action="store_true")
    reward.add_argument("--no-bucketing", action="store_true", help="random batches (TRL default)")
    reward.add_argument(
        "--probe-head",
        action="store_true",
        help="fit the head on the frozen model's features first (linear probe), then fine-tune",
    )
    _common(reward)
    reward.set_defaults(run=_reward)

    ppo = stages.add_parser("ppo", help="run a PPO round")
    ppo.add_argument("--policy", default="smollm2")
    ppo.add_argument("--reward", required=True, help="reward model folder")
    ppo.add_argument("--prompts", type=Path, required=True)
    ppo.add_argument("--steps", type=int, default=20)
    ppo.add_argument("--batch-size", type=int, default=8)
    ppo.add_argument("--minibatch-size", type=int, default=4)
    ppo.add_argument("--ppo-epochs", type=int, default=2)
    ppo.add_argument("--max-new-tokens", type=int, default=64)
    ppo.add_argument("--lr", type=float, default=1e-6)
    ppo.add_argument("--value-lr", type=float, default=1e-5)
    ppo.add_argument("--kl-coef", type=float, default=0.05)
    ppo.add_argument("--target-kl", type=float, help="KL budget per sequence: adaptive β")
    ppo.add_argument("--temperature", type=float, default=1.0)
    ppo.add_argument("--whiten-rewards", action="store_true")
    ppo.add_argument("--checkpoint-every", type=int, default=10)
    _common(ppo)
    ppo.set_defaults(run=_ppo)

    dpo = stages.add_parser("dpo", help="DPO on preference pairs (TRL)")
    dpo.add_argument("--data", type=Path, required=True)
    dpo.add_argument("--base", default="smollm2")
    dpo.add_argument("--epochs", type=float, default=1.0)
    dpo.add_argument("--lr", type=float, default=5e-7)
    dpo.add_argument("--batch-size", type=int, default=4)
    dpo.add_argument("--beta", type=float, default=0.1)
    dpo.add_argument("--max-length", type=int, default=1024)
    dpo.add_argument("--lora", action="store_true", help="train LoRA adapters (less memory)")
    _common(dpo)
    dpo.set_defaults(run=_dpo)

    generate = stages.add_parser("generate", help="sample K responses per prompt")
    generate.add_argument("--policy", default="smollm2")
    generate.add_argument("--prompts", type=Path, required=True)
    generate.add_argument("--k", type=int, default=4)
    generate.add_argument("--max-new-tokens", type=int, default=256)
    generate.add_argument("--temperature", type=float, default=0.8)
    generate.add_argument("--batch-size", type=int, default=8)
    _common(generate)
    generate.set_defaults(run=_generate)

    evaluate_reward = stages.add_parser("evaluate-reward", help="reward-model accuracy on pairs")
    evaluate_reward.add_argument("--reward", required=True)
    evaluate_reward.add_argument("--data", type=Path, required=True)
    _common(evaluate_reward, out_required=False)
    evaluate_reward.set_defaults(run=_evaluate_reward)

    evaluate_policy = stages.add_parser("evaluate-policy", help="win rate over a parent policy")
    evaluate_policy.add_argument("--policy", required=True)
    evaluate_policy.add_argument("--parent", required=True)
    evaluate_policy.add_argument("--reward", required=True)
    evaluate_policy.add_argument("--prompts", type=Path, required=True)
    evaluate_policy.add_argument("--max-new-tokens", type=int, default=128)
    evaluate_policy.add_argument(
        "--samples", type=int, default=20, help="prompts whose replies are kept side by side"
    )
    _common(evaluate_policy, out_required=False)
    evaluate_policy.set_defaults(run=_evaluate_policy)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    run: Callable[[argparse.Namespace], dict[str, Any]] = args.run
    try:
        result = run(args)
    except PipelineError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    if os.environ.get("RANK", "0") != "0":
        return 0  # under a multi-process launcher, the first process reports for all
    text = json.dumps(result, indent=2, default=str)
    if args.out is not None and args.stage in ("evaluate-reward", "evaluate-policy"):
        args.out.mkdir(parents=True, exist_ok=True)
        (args.out / "metrics.json").write_text(text + "\n")
    print(text)
    return 0
