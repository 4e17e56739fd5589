"""Reward model: a sequence-classification head on a base LM, trained with the Bradley–Terry
loss (optionally with a margin from graded strength) through TRL's RewardTrainer, with batches
bucketed by length so little compute goes to padding."""

from __future__ import annotations

import gc
import itertools
import math
import time
from collections.abc import Sequence
from dataclasses import asdict
from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F
from datasets import Dataset
from torch.utils.data import Sampler
from transformers import PreTrainedModel, PreTrainedTokenizerBase
from trl import RewardConfig, RewardTrainer

from training.pipeline.crossval import (
    cross_validate,
    cv_figures,
    cv_folds_wanted,
    write_predictions,
)
from training.pipeline.data import (
    PreferencePair,
    encode_exchange,
    encode_pairs,
    fold_by_prompt,
    length_buckets,
    split_by_prompt,
    validate_pairs,
)
from training.pipeline.ensemble import (
    EnsembleCollator,
    EnsembleLoss,
    bootstrap_counts,
    conservative,
    ensemble_figures,
)
from training.pipeline.errors import PipelineError
from training.pipeline.figures import honest_figures
from training.pipeline.length_slope import reward_length_slope
from training.pipeline.model_loading import load_reward_model, load_tokenizer, model_max_length
from training.pipeline.options import HEAD_INITS, RewardTrainingConfig
from training.pipeline.probe import initialise_head_by_probe, padded_batches
from training.pipeline.processes import is_main_process, per_process_batch, process_count
from training.pipeline.progress import ProgressCallback, ProgressLog, StepPlan, write_metrics
from training.pipeline.strategies import SHARDED_WEIGHTS, require_strategy, whole_model


def bradley_terry_loss(
    chosen: torch.Tensor, rejected: torch.Tensor, margin: torch.Tensor | None = None
) -> torch.Tensor:
    """Reference loss: -log σ(r_chosen - r_rejected - margin), averaged over pairs."""
    difference = chosen - rejected
    if margin is not None:
        difference = difference - margin
    return -F.logsigmoid(difference).mean()


def expected_calibration_error(
    probabilities: torch.Tensor, outcomes: torch.Tensor, bins: int = 10
) -> float:
    """Weighted gap between predicted probability and observed frequency, over equal-width bins."""
    edges = torch.linspace(0, 1, bins + 1)
    error = 0.0
    for low, high in itertools.pairwise(edges):
        inside = (
            (probabilities > low) & (probabilities <= high) if low > 0 else (probabilities <= high)
        )
        if inside.any():
            gap = probabilities[inside].mean() - outcomes[inside].float().mean()
            error += float(inside.float().mean() * gap.abs())
    return error


def preference_metrics(
    chosen: torch.Tensor, rejected: torch.Tensor, margin: torch.Tensor | None = None
) -> dict[str, float]:
    """Loss, accuracy, calibration (each pair seen both ways, so outcomes are not all 1) and
    the spread of rewards."""
    probability = torch.sigmoid(chosen - rejected)
    both_ways = torch.cat([probability, 1 - probability])
    outcomes = torch.cat([torch.ones_like(probability), torch.zeros_like(probability)])
    rewards = torch.cat([chosen, rejected])
    return {
        "loss": float(bradley_terry_loss(chosen, rejected, margin)),
        "accuracy": float((chosen > rejected).float().mean()),
        "calibration_error": expected_calibration_error(both_ways, outcomes),
        "reward_mean": float(rewards.mean()),
        "reward_std": float(rewards.std()) if rewards.numel() > 1 else 0.0,
        "pairs": float(chosen.numel()),
    }


@torch.no_grad()
def score(
    model: PreTrainedModel,
    tokenizer: PreTrainedTokenizerBase,
    sequences: Sequence[list[int]],
    batch_size: int = 16,
) -> torch.Tensor:
    """Rewards of token sequences (an ensemble's: its heads' mean), batched by length with
    right padding."""
    return score_heads(model, tokenizer, sequences, batch_size).mean(dim=-1)


@torch.no_grad()
def score_heads(
    model: PreTrainedModel,
    tokenizer: PreTrainedTokenizerBase,
    sequences: Sequence[list[int]],
    batch_size: int = 16,
) -> torch.Tensor:
    """(N, heads): every score head's reward (one column for a single reward model)."""
    model.eval()
    device = next(model.parameters()).device
    rewards = torch.empty(len(sequences), model.config.num_labels or 1)
    for batch, ids, mask in padded_batches(sequences, tokenizer.pad_token_id, batch_size, device):
        rewards[batch] = model(input_ids=ids, attention_mask=mask).logits.float().cpu()
    return rewards


def score_texts(
    model: PreTrainedModel,
    tokenizer: PreTrainedTokenizerBase,
    prompts: Sequence[list[dict[str, str]]],
    replies: Sequence[str],
    batch_size: int = 16,
    penalty: float = 0.0,
) -> torch.Tensor:
    """Rewards of replies to prompts, encoded with the reward model's own chat template; an
    ensemble's are its heads' mean minus `penalty` standard deviations (ensemble.py)."""
    return conservative(text_heads(model, tokenizer, prompts, replies, batch_size), penalty)


def text_heads(
    model: PreTrainedModel,
    tokenizer: PreTrainedTokenizerBase,
    prompts: Sequence[list[dict[str, str]]],
    replies: Sequence[str],
    batch_size: int = 16,
) -> torch.Tensor:
    """(N, heads): every head's reward of each reply."""
    sequences = [encode_exchange(tokenizer, p, r) for p, r in zip(prompts, replies, strict=True)]
    return score_heads(model, tokenizer, sequences, batch_size)


def evaluate_pairs(
    model: PreTrainedModel,
    tokenizer: PreTrainedTokenizerBase,
    pairs: Sequence[PreferencePair],
    batch_size: int = 16,
) -> dict[str, float]:
    prompts = [p.prompt for p in pairs]
    chosen_heads = text_heads(model, tokenizer, prompts, [p.chosen for p in pairs], batch_size)
    rejected_heads = text_heads(model, tokenizer, prompts, [p.rejected for p in pairs], batch_size)
    chosen, rejected = chosen_heads.mean(dim=-1), rejected_heads.mean(dim=-1)
    margins = torch.tensor([p.margin for p in pairs])
    scored = (chosen.tolist(), rejected.tolist())
    lengths = ([len(p.chosen) for p in pairs], [len(p.rejected) for p in pairs])
    keys = [p.prompt_key for p in pairs]
    ensemble = chosen_heads.shape[1] > 1
    return {
        **preference_metrics(chosen, rejected, margins),
        # accuracy again, ties counted as half, with its interval and baselines
        **honest_figures(*scored, *lengths, keys),
        # its lean to the longer answer, in the quality report's units (length_slope.py)
        **reward_length_slope(*scored, *lengths, keys),
        # an ensemble's heads: their own accuracy, their spread, and whether it tells apart
        **(ensemble_figures(chosen_heads, rejected_heads) if ensemble else {}),
    }


class _BatchOrder(Sampler[int]):
    """Yields indices so that consecutive runs of `batch_size` share a length bucket."""

    def __init__(self, lengths: Sequence[int], batch_size: int, seed: int) -> None:
        self.lengths, self.batch_size, self.seed, self.epoch = list(lengths), batch_size, seed, 0

    def __len__(self) -> int:
        return len(self.lengths)

    def __iter__(self):  # type: ignore[no-untyped-def]
        self.epoch += 1
        for batch in length_buckets(self.lengths, self.batch_size, self.seed + self.epoch):
            yield from batch


class BucketedRewardTrainer(RewardTrainer):
    """TRL's RewardTrainer with length-bucketed batches."""

    def _get_train_sampler(self, train_dataset: Any = None) -> Sampler[int]:
        dataset: Any = train_dataset if train_dataset is not None else self.train_dataset
        lengths = [
            max(len(c), len(r))
            for c, r in zip(dataset["chosen_ids"], dataset["rejected_ids"], strict=True)
        ]
        # Buckets of the whole batch: each process takes consecutive shares of it.
        batch = self.args.per_device_train_batch_size * self.args.world_size
        return _BatchOrder(lengths, batch, self.args.seed)


def _trainer_args(config: RewardTrainingConfig, steps_hint: int) -> RewardConfig:
    return RewardConfig(
        output_dir=str(config.out / "trainer"),
        num_train_epochs=config.epochs,
        learning_rate=config.learning_rate,
        per_device_train_batch_size=per_process_batch(config.batch_size),
        gradient_accumulation_steps=config.grad_accum,
        max_length=None,  # encode_pairs already refused over-long pairs, with their number
        bf16=config.bf16,
        gradient_checkpointing=config.gradient_checkpointing,
        seed=config.seed,
        data_seed=config.seed,
        weight_decay=config.weight_decay,
        warmup_steps=max(1, round(steps_hint * config.warmup_ratio)),
        lr_scheduler_type="linear",
        logging_steps=max(1, steps_hint // 50),
        save_strategy="no",
        report_to=[],
        optim="adamw_torch",
        dataloader_num_workers=0,
        use_cpu=not torch.cuda.is_available(),
        disable_tqdm=False,
        **config.extra,
    )


def _planned_steps(config: RewardTrainingConfig, pairs: int) -> int:
    """The steps that size the warm-up and the logging interval (and the `steps` figure)."""
    return math.ceil(pairs / (config.batch_size * config.grad_accum) * config.epochs)


def _trainer_steps(config: RewardTrainingConfig, pairs: int) -> int:
    """The optimiser steps the Trainer will count for `pairs` on one process (its own formula:
    whole batches, whole accumulations, then epochs), for the progress of trainings yet to
    start; a started training reports its own count. _planned_steps can be a step or two
    lower and stays as it was, so that no existing recipe's warm-up moves."""
    batches = math.ceil(pairs / config.batch_size)
    return math.ceil(config.epochs * max(1, math.ceil(batches / config.grad_accum)))


def _fresh_model(config: RewardTrainingConfig, tokenizer: PreTrainedTokenizerBase) -> Any:
    """The run's starting point, the same for every training of the run: the base with the
    head the seed draws."""
    torch.manual_seed(config.seed)
    # bf16 means autocast over fp32 master weights (RewardConfig.bf16), not bf16 weights.
    return load_reward_model(config.base, tokenizer, heads=config.ensemble)


def lora_reward_model(model: PreTrainedModel, rank: int) -> Any:
    """`model` with a trainable LoRA adapter on every linear layer but the score head, which
    trains whole (peft keeps a sequence classifier's head as a module to save)."""
    from peft import LoraConfig, get_peft_model

    adapter = LoraConfig(
        r=rank,
        lora_alpha=2 * rank,
        lora_dropout=0.0,
        target_modules="all-linear",
        task_type="SEQ_CLS",
    )
    model.enable_input_require_grads()  # gradient checkpointing: recomputed inputs need grads
    return get_peft_model(model, adapter)


def _release_memory() -> None:
    """Frees a finished training's model now (a Trainer holds reference cycles)."""
    gc.collect()
    if torch.cuda.is_available():
        torch.cuda.empty_cache()


def _fit(
    config: RewardTrainingConfig,
    model: Any,
    tokenizer: PreTrainedTokenizerBase,
    rows: list[dict[str, Any]],
    progress: ProgressCallback,
) -> tuple[Any, dict[str, Any]]:
    """The probe (when asked) and the fine-tuning of `model` on `rows`: the trained model and
    the training's figures."""
    probe = {}
    counts = None
    if config.ensemble > 1:  # each head's own bootstrap resample of the pairs (ensemble.py)
        counts = bootstrap_counts(len(rows), config.ensemble, config.seed)
        rows = [{**row, "bootstrap": c} for row, c in zip(rows, counts.tolist(), strict=True)]
    if config.head_init == "probe":
        probe = initialise_head_by_probe(model, rows, config.bf16, counts)
    if config.lora:  # after the probe: the fitted head is where the adapter's training starts
        model = lora_reward_model(model, config.lora_rank)
    steps = _planned_steps(config, len(rows))
    trainer_class: type = BucketedRewardTrainer if config.bucket_by_length else RewardTrainer
    ensemble: dict[str, Any] = {}
    if counts is not None:
        trainer_class = type(f"Ensemble{trainer_class.__name__}", (EnsembleLoss, trainer_class), {})
        ensemble["data_collator"] = EnsembleCollator(pad_token_id=int(tokenizer.pad_token_id))
    trainer = trainer_class(
        model=model,
        args=_trainer_args(config, steps),
        train_dataset=Dataset.from_list(rows),
        processing_class=tokenizer,
        callbacks=[progress],
        **ensemble,
    )
    started = time.perf_counter()
    require_strategy(config.strategy, trainer.accelerator)
    result = trainer.train()
    seconds = time.perf_counter() - started
    figures = {
        "train_loss": result.training_loss,
        "train_seconds": seconds,
        "pairs_per_second": len(rows) * config.epochs / seconds,
        "steps": steps,
        "optimizer_steps": trainer.state.global_step,
        **probe,
    }
    trained = whole_model(trainer, config.strategy)
    return (trained.merge_and_unload() if config.lora else trained), figures


def _cross_validate(
    config: RewardTrainingConfig,
    tokenizer: PreTrainedTokenizerBase,
    pairs: Sequence[PreferencePair],
    rows: list[dict[str, Any]],
    fold_of: list[int],
    log: ProgressLog,
    plan: StepPlan,
) -> dict[str, float]:
    """k-fold cross-validation by prompt (crossval.py): k models from the run's starting point
    with its hyperparameters, each scoring the fold it did not train on; the pooled figures,
    and every pair's out-of-fold scores in cv_predictions.jsonl."""

    def run_fold(fold: int, train: list[int], test: list[int]) -> tuple[list[float], list[float]]:
        progress = ProgressCallback(log, plan, prefix="cv_")
        model, _ = _fit(
            config, _fresh_model(config, tokenizer), tokenizer, [rows[i] for i in train], progress
        )
        chosen = score(model, tokenizer, [rows[i]["chosen_ids"] for i in test])
        rejected = score(model, tokenizer, [rows[i]["rejected_ids"] for i in test])
        del model
        _release_memory()
        return chosen.tolist(), rejected.tolist()

    def report(fold: int, figures: dict[str, float]) -> None:
        log.write("cv_fold", plan.done, plan.total, {"fold": fold, **figures})

    scores = cross_validate(fold_of, run_fold, report)
    if is_main_process():
        write_predictions(config.out / "cv_predictions.jsonl", pairs, scores)
    figures = cv_figures(pairs, scores)
    log.write("cv", plan.done, plan.total, {k.removeprefix("cv_"): v for k, v in figures.items()})
    return figures


def train_reward_model(
    config: RewardTrainingConfig, pairs: Sequence[PreferencePair]
) -> dict[str, Any]:
    """Train, evaluate on held-out prompts, save the model (safetensors) and metrics.json; with
    cv_folds, then estimate held-out accuracy by k-fold cross-validation over all the pairs."""
    if config.head_init not in HEAD_INITS:
        raise PipelineError(f"head_init must be 'random' or 'probe', not {config.head_init!r}")
    validate_pairs(pairs)
    folds = cv_folds_wanted(config.cv_folds)
    if folds and config.strategy in SHARDED_WEIGHTS:
        raise PipelineError(
            f"cv_folds cannot run under {config.strategy} (every process scores each fold's "
            "model alone): use ddp or deepspeed-zero2, or no cross-validation"
        )
    if config.lora and config.strategy in SHARDED_WEIGHTS:
        raise PipelineError(f"lora cannot run under {config.strategy}: use ddp or deepspeed-zero2")
    fold_of = fold_by_prompt(pairs, folds, config.seed) if folds else []
    train_pairs, validation_pairs = split_by_prompt(pairs, config.validation_fraction, config.seed)
    if not train_pairs:
        raise PipelineError("No training pairs left after the validation split")
    tokenizer = load_tokenizer(config.base, padding_side="right")
    model = _fresh_model(config, tokenizer)
    context = min(config.max_length, model_max_length(model))
    train_rows = encode_pairs(tokenizer, train_pairs, context)
    # Every pair is encoded before any training, so an over-long one stops the run at once.
    all_rows = encode_pairs(tokenizer, pairs, context) if folds else []
    fold_train_pairs = [len(fold_of) - fold_of.count(fold) for fold in range(folds)]
    plan = StepPlan([_trainer_steps(config, n) for n in [len(train_rows), *fold_train_pairs]])
    log = ProgressLog(config.out)
    model, fit = _fit(config, model, tokenizer, train_rows, ProgressCallback(log, plan))
    metrics: dict[str, Any] = {
        "train_pairs": len(train_pairs),
        "processes": process_count(),
        "validation_pairs": len(validation_pairs),
        **fit,
        "config": {k: str(v) if isinstance(v, Path) else v for k, v in asdict(config).items()},
    }
    if validation_pairs and is_main_process():
        validation = evaluate_pairs(model, tokenizer, validation_pairs)
        metrics.update({f"validation_{k}": v for k, v in validation.items()})
        log.write("validation", plan.done, plan.total, validation)
    if is_main_process():
        model.save_pretrained(config.out / "model", safe_serialization=True)
        tokenizer.save_pretrained(config.out / "model")
    if folds:
        del model
        _release_memory()  # one model in memory at a time
        metrics.update(_cross_validate(config, tokenizer, pairs, all_rows, fold_of, log, plan))
    write_metrics(config.out, metrics)
    return metrics
