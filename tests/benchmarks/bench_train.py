"""Training benchmarks (`make bench-train`, or `--quick` for a few minutes), on this machine's
CPU with the embedded SmolLM2-135M-Instruct:

1. reward-model held-out accuracy on real human preferences (Anthropic HH harmless, read from
   ../shared/data through the project's own importer; 80/20 split by line, seed 1234);
2. reward-model training throughput, pairs/s: ours (length-bucketed batches) against TRL's
   RewardTrainer used directly on the same pairs with the same settings;
3. PPO: seconds per step and generated tokens/s at batch 8 x 64 new tokens.

Prints a table, then one JSON line with the figures.
"""

from __future__ import annotations

import argparse
import gzip
import json
import random
import resource
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import torch

from annotation.import_parser import parse_import
from training.pipeline.data import PreferencePair, encode_pairs
from training.pipeline.figures import HONEST
from training.pipeline.model_loading import load_reward_model, load_tokenizer, resolve_model
from training.pipeline.options import HEAD_INITS, PPOConfig, RewardTrainingConfig
from training.pipeline.ppo import PPOTrainer
from training.pipeline.reward import evaluate_pairs, train_reward_model

HH = Path(__file__).resolve().parents[3] / "shared" / "data" / "hh-harmless-dev.jsonl.gz"
SPLIT_SEED = 1234


def peak_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def hh_split(
    limit_train: int | None, limit_test: int | None
) -> tuple[list[PreferencePair], list[PreferencePair], int]:
    """Parse the HH file with the importer, then split 80/20 by line number with a fixed seed."""
    if not HH.is_file():
        sys.exit(f"missing {HH}: the benchmark needs ../shared/data beside the repository")
    parsed = parse_import(gzip.decompress(HH.read_bytes()), "jsonl")
    by_line = {
        r.line: PreferencePair(r.conversation, r.chosen, r.rejected) for r in parsed.preferences
    }
    lines = sorted(by_line)
    random.Random(SPLIT_SEED).shuffle(lines)
    cut = round(len(lines) * 0.8)
    train = [by_line[n] for n in lines[:cut]][:limit_train]
    test = [by_line[n] for n in lines[cut:]][:limit_test]
    return train, test, len(parsed.errors)


def reward_config(
    out: Path,
    bf16: bool,
    epochs: float = 1.0,
    learning_rate: float = 2e-5,
    head_init: str = "random",
    ensemble: int = 1,
) -> RewardTrainingConfig:
    """The reward-model settings every stage of this benchmark shares. Activations are
    checkpointed: without it a bucket of 8 pairs near 1,000 tokens each peaked at 17.6 GiB."""
    return RewardTrainingConfig(
        base="smollm2",
        out=out,
        epochs=epochs,
        learning_rate=learning_rate,
        max_length=1536,  # one HH pair is 1,025 tokens with the chat template
        validation_fraction=0.0,
        seed=0,
        bf16=bf16,
        gradient_checkpointing=True,
        head_init=head_init,
        ensemble=ensemble,
    )


def reward_accuracy(
    train: list[PreferencePair],
    test: list[PreferencePair],
    out: Path,
    bf16: bool,
    epochs: float = 1.0,
    learning_rate: float = 2e-5,
    head_init: str = "probe",
    ensemble: int = 1,
) -> dict[str, Any]:
    started = time.perf_counter()
    config = reward_config(out, bf16, epochs, learning_rate, head_init, ensemble)
    metrics = train_reward_model(config, train)
    tokenizer = load_tokenizer(out / "model", padding_side="right")
    model = load_reward_model(out / "model", tokenizer)
    held_out = evaluate_pairs(model, tokenizer, test)
    return {
        **{key: held_out[key] for key in HONEST if key in held_out},
        "calibration_error": held_out["calibration_error"],
        "ensemble": {k: v for k, v in held_out.items() if k.startswith("ensemble_")},
        "train_pairs_per_s": metrics["pairs_per_second"],
        "probe": {k: v for k, v in metrics.items() if k.startswith("probe_")},
        "wall_s": time.perf_counter() - started,
        "model": str(out / "model"),
    }


def trl_direct_pairs_per_s(pairs: list[PreferencePair], bf16: bool, out: Path) -> float:
    """TRL's RewardTrainer as its documentation uses it: conversational rows, its own
    tokenisation and collator, default (random) batch order."""
    from datasets import Dataset
    from trl import RewardConfig, RewardTrainer

    rows = [
        {
            "prompt": p.prompt,
            "chosen": [{"role": "assistant", "content": p.chosen}],
            "rejected": [{"role": "assistant", "content": p.rejected}],
        }
        for p in pairs
    ]
    location = resolve_model("smollm2")
    tokenizer = load_tokenizer(location, padding_side="right")
    args = RewardConfig(
        output_dir=str(out),
        num_train_epochs=1,
        per_device_train_batch_size=8,
        learning_rate=2e-5,
        bf16=bf16,
        gradient_checkpointing=True,  # as ours: same settings on both sides
        max_length=1536,  # one HH pair is 1,025 tokens with the chat template
        report_to=[],
        save_strategy="no",
        use_cpu=True,
        optim="adamw_torch",
        seed=0,
        disable_tqdm=True,
    )
    trainer = RewardTrainer(
        model=location, args=args, train_dataset=Dataset.from_list(rows), processing_class=tokenizer
    )
    result = trainer.train()
    trained = len(trainer.train_dataset)  # type: ignore[arg-type]
    return float(trained / result.metrics["train_runtime"])


def ours_pairs_per_s(pairs: list[PreferencePair], bf16: bool, out: Path) -> float:
    return float(train_reward_model(reward_config(out, bf16), pairs)["pairs_per_second"])


def ppo_speed(
    reward_model: str, steps: int, batch: int, new_tokens: int, bf16: bool, out: Path
) -> dict[str, float]:
    prompts = [
        [{"role": "user", "content": text}]
        for text in (
            "How do I boil an egg?",
            "Name three rivers in Europe.",
            "What is a prime number?",
            "Give me a tip for sleeping better.",
            "Explain what a reward model is.",
            "Write a haiku about rain.",
            "How do vaccines work?",
            "What should I pack for a hike?",
        )
    ]
    config = PPOConfig(
        policy="smollm2",
        reward=reward_model,
        out=out,
        steps=steps,
        batch_size=batch,
        minibatch_size=max(1, batch // 2),
        max_new_tokens=new_tokens,
        checkpoint_every=10_000,
        bf16=bf16,
    )
    summary = PPOTrainer(config, prompts).train()
    timed = summary["history"][1:] or summary["history"]  # the first step warms caches up
    return {
        "s_per_step": sum(h["seconds"] for h in timed) / len(timed),
        "tokens_per_s": sum(h["generation_tokens_per_second"] for h in timed) / len(timed),
        "response_length": sum(h["response_length"] for h in timed) / len(timed),
    }


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true", help="reduced sizes: a few minutes")
    parser.add_argument("--fp32", action="store_true", help="no bf16 autocast")
    parser.add_argument("--epochs", type=float, default=1.0, help="reward-model epochs")
    parser.add_argument(
        "--learning-rate", type=float, default=2e-5, help="reward-model learning rate"
    )
    parser.add_argument(
        "--head-init",
        choices=HEAD_INITS,
        default="probe",
        help="reward-model head: linear probe first (default) or random",
    )
    parser.add_argument(
        "--only-reward", action="store_true", help="only the held-out accuracy (for sweeps)"
    )
    parser.add_argument(
        "--ensemble", type=int, default=1, help="reward-model score heads (ensemble.py)"
    )
    return parser.parse_args()


def honest_fields(reward: dict[str, Any]) -> dict[str, Any]:
    """The JSON line's reward-model figures: accuracy with its interval and baselines."""
    matched = reward.get("length_matched_accuracy")
    return {
        "rm_heldout_accuracy": round(reward["accuracy"], 4),
        "rm_heldout_ci": [round(reward[f"accuracy_ci_{end}"], 4) for end in ("low", "high")],
        "longer_wins_accuracy": round(reward["longer_wins_accuracy"], 4),
        "shorter_wins_accuracy": round(reward["shorter_wins_accuracy"], 4),
        "length_matched_accuracy": None if matched is None else round(matched, 4),
        "length_matched_pairs": int(reward["length_matched_pairs"]),
    }


def reward_lines(reward: dict[str, Any]) -> list[str]:
    """The reward model's held-out accuracy beside chance and the length rules."""
    matched = reward.get("length_matched_accuracy")
    return [
        f"  reward model held-out accuracy   {reward['accuracy']:.3f} "
        f"(95 % interval {reward['accuracy_ci_low']:.3f}-{reward['accuracy_ci_high']:.3f}; "
        f"calibration error {reward['calibration_error']:.3f})",
        f"    baselines on the same pairs: chance 0.500, longer wins "
        f"{reward['longer_wins_accuracy']:.3f}, shorter wins {reward['shorter_wins_accuracy']:.3f}",
        f"    on length-matched pairs (within 20 %, n={int(reward['length_matched_pairs'])}): "
        + ("none" if matched is None else f"{matched:.3f}"),
    ]


def reward_only_figures(args: argparse.Namespace, reward: dict[str, Any]) -> dict[str, Any]:
    return {
        **honest_fields(reward),
        "epochs": args.epochs,
        "learning_rate": args.learning_rate,
        "calibration_error": round(reward["calibration_error"], 4),
        "head_init": args.head_init,
        **reward["probe"],
        **reward["ensemble"],
        "wall_s": round(reward["wall_s"]),
        "peak_mib": round(peak_mib()),
    }


def report_lines(
    mode: str, bf16: bool, sizes: tuple[int, int, int], figures: dict[str, Any]
) -> list[str]:
    """The printed table; `sizes` are the train, held-out and refused pair counts."""
    train, test, bad_rows = sizes
    reward, ppo, ours, trl = figures["reward"], figures["ppo"], figures["ours"], figures["trl"]
    lengths = figures["lengths"]
    return [
        f"\nTraining benchmarks ({mode}, bf16 autocast: {bf16}), {torch.get_num_threads()} threads",
        f"  HH harmless: {train} train / {test} held-out pairs "
        f"(80/20 by line, seed {SPLIT_SEED}; the importer refused {bad_rows} rows)",
        *reward_lines(reward),
        f"  linear probe before fine-tuning  {reward['probe']}",
        f"  reward model training wall time  {reward['wall_s']:.0f} s "
        f"({reward['train_pairs_per_s']:.2f} pairs/s)",
        f"  throughput on {len(lengths)} pairs "
        f"(mean {sum(lengths) / len(lengths):.0f}, max {max(lengths)} tokens):",
        f"    ours (bucketed)   {ours:.2f} pairs/s",
        f"    TRL directly      {trl:.2f} pairs/s   -> {ours / trl:.2f}x",
        f"  PPO batch 8 x 64 new tokens: {ppo['s_per_step']:.1f} s/step, "
        f"{ppo['tokens_per_s']:.1f} generated tokens/s (mean reply {ppo['response_length']:.0f})",
        f"  peak memory {peak_mib():.0f} MiB",
    ]


def summary_figures(figures: dict[str, Any]) -> dict[str, Any]:
    return {
        **honest_fields(figures["reward"]),
        "rm_pairs_per_s": round(figures["ours"], 3),
        "trl_pairs_per_s": round(figures["trl"], 3),
        "ppo_s_per_step": round(figures["ppo"]["s_per_step"], 2),
        "ppo_tokens_per_s": round(figures["ppo"]["tokens_per_s"], 1),
        "peak_mib": round(peak_mib()),
    }


def main() -> None:
    args = parse_args()
    bf16 = not args.fp32
    torch.set_num_threads(max(1, torch.get_num_threads()))
    train, test, bad_rows = hh_split(160 if args.quick else None, 80 if args.quick else None)
    throughput_pairs = train[: 48 if args.quick else 160]
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        reward = reward_accuracy(
            train,
            test,
            root / "rm",
            bf16,
            args.epochs,
            args.learning_rate,
            args.head_init,
            args.ensemble,
        )
        if args.only_reward:
            print(json.dumps(reward_only_figures(args, reward)))
            return
        figures = {
            "reward": reward,
            "ours": ours_pairs_per_s(throughput_pairs, bf16, root / "ours"),
            "trl": trl_direct_pairs_per_s(throughput_pairs, bf16, root / "trl"),
            "ppo": ppo_speed(reward["model"], 3 if args.quick else 4, 8, 64, bf16, root / "ppo"),
        }
    tokenizer = load_tokenizer("smollm2", padding_side="right")
    figures["lengths"] = [
        max(len(r["chosen_ids"]), len(r["rejected_ids"]))
        for r in encode_pairs(tokenizer, throughput_pairs, 4096)
    ]
    mode = "quick" if args.quick else "full"
    print("\n".join(report_lines(mode, bf16, (len(train), len(test), bad_rows), figures)))
    print(json.dumps(summary_figures(figures)))


if __name__ == "__main__":
    main()
