"""GRPO and RLOO rounds on TRL's trainers: no value model. Each prompt is answered
`group_size` times; an answer's advantage is its reward against its group's (GRPO: minus the
group mean, over the group's spread; RLOO: minus the mean of the others), with a KL penalty
`kl_coef` to the frozen reference.

The reward is the campaign's reward model, called on the decoded answers (it may have its
own tokenizer, as in PPO); prompts go in as chat messages, so TRL applies the policy's chat
template. TRL writes checkpoints under out/trainer (checkpoint-N, every `checkpoint_every`
steps) and a run started again in the same folder resumes from the newest complete one, at
its step, with its optimizer and generator state. With `lora`, TRL wraps the policy in a
peft adapter and reads the reference with the adapter off; the result is merged as in PPO.

The step's figures go to progress.jsonl under PPO's names (reward_mean, kl, response_length,
...), so the dashboard draws the same curves for every policy round; TRL's other log entries
(per-length and clipping breakdowns) are left out."""

from __future__ import annotations

import math
import os
from collections.abc import Sequence
from dataclasses import asdict
from pathlib import Path
from typing import Any

import torch
from datasets import Dataset
from transformers import set_seed
from trl import GRPOConfig, GRPOTrainer, RLOOConfig, RLOOTrainer
from trl.trainer.utils import add_fused_lm_head, disable_dropout_in_model

from training.pipeline.data import Messages
from training.pipeline.errors import PipelineError
from training.pipeline.kl_reference import base_source, counts_from_base, frozen
from training.pipeline.model_loading import load_causal_lm, load_tokenizer, resolve_model
from training.pipeline.options import CriticFreeConfig
from training.pipeline.ppo_lora import AdapterOff, lora_config, save_lora_result
from training.pipeline.processes import is_main_process, per_process_batch, process_count
from training.pipeline.progress import ProgressCallback, ProgressLog, write_metrics
from training.pipeline.resume_points import trainer_checkpoint
from training.pipeline.round_watch import (
    RewardFn,
    guarded_watch,
    reward_model_fn,
    watch_ppo_round,
)
from training.pipeline.time_budget import TimeBudgetCallback

TRAINERS: dict[str, tuple[type, type]] = {
    "grpo": (GRPOConfig, GRPOTrainer),
    "rloo": (RLOOConfig, RLOOTrainer),
}

# The TRL log entries a step's curves show, under the names PPO's steps use where there is one.
KEPT = {
    "reward": "reward_mean",
    "reward_std": "reward_std",
    "kl": "kl",
    "completions/mean_length": "response_length",
    "completions/clipped_ratio": "clipped_ratio",
    "frac_reward_zero_std": "frac_reward_zero_std",
    "entropy": "entropy",
    "loss": "policy_loss",
    "grad_norm": "grad_norm",
    "step_time": "seconds",
}


def _device() -> torch.device:
    """This process's device: under torchrun, its own GPU (LOCAL_RANK), set before TRL does."""
    if torch.cuda.is_available():
        return torch.device("cuda", int(os.environ.get("LOCAL_RANK", "0")))
    return torch.device("cpu")


def trl_reward(score: RewardFn) -> Any:
    """A reward model's scoring as TRL calls a reward function: prompts and completions
    (chat messages) in, one float per completion out."""

    def reward_model(
        prompts: Sequence[Messages], completions: Sequence[Any], **_: Any
    ) -> list[float]:
        texts = [c[-1]["content"] if isinstance(c, list) else str(c) for c in completions]
        return [float(value) for value in score(prompts, texts)]

    return reward_model


class StepLog(ProgressCallback):
    """Each logged step into progress.jsonl, under PPO's names."""

    def step_metrics(self, logs: dict[str, Any]) -> dict[str, Any] | None:
        if "reward" not in logs:
            return None  # the end-of-training summary line
        return _renamed(logs)


def _number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _arguments(config: CriticFreeConfig) -> Any:
    config_class, _ = TRAINERS[config.method]
    # Each process answers its equal share of the step's prompts, group_size times each.
    prompts_here = per_process_batch(config.batch_size)
    return config_class(
        output_dir=str(config.out / "trainer"),
        max_steps=config.steps,
        per_device_train_batch_size=prompts_here * config.group_size,
        num_generations=config.group_size,
        max_completion_length=config.max_new_tokens,
        learning_rate=config.learning_rate,
        lr_scheduler_type="constant",
        beta=config.kl_coef,
        temperature=config.temperature,
        seed=config.seed,
        bf16=config.bf16,  # autocast over fp32 weights (an AdamW step of 1e-6 survives)
        use_cpu=not torch.cuda.is_available(),
        gradient_checkpointing=False,
        report_to=[],
        logging_steps=1,
        save_strategy="steps",
        save_steps=config.checkpoint_every,
        save_total_limit=2,  # the newest, and the one before in case a kill cut it short
        optim="adamw_torch",
        disable_tqdm=True,
        model_init_kwargs={"dtype": torch.float32},
    )


def train_critic_free(config: CriticFreeConfig, prompts: Sequence[Messages]) -> dict[str, Any]:
    """Run the round (resuming when out/trainer has a complete checkpoint), save the policy
    to out/policy, watch it against its parent and write metrics.json."""
    if not prompts:
        raise PipelineError(f"{config.method.upper()} needs at least one prompt")
    if not config.reward:
        raise PipelineError(f"{config.method.upper()} needs a reward model (--reward)")
    if len(prompts) < config.batch_size:  # TRL's sampler would drop the only, partial batch
        raise PipelineError(
            f"{config.method.upper()} takes batch_size {config.batch_size} prompts a step, but "
            f"there are only {len(prompts)}: lower batch_size or add prompts"
        )
    location = resolve_model(config.policy)
    tokenizer = load_tokenizer(location, padding_side="left")
    _, trainer_class = TRAINERS[config.method]
    steps = StepLog(ProgressLog(config.out))  # only the first process writes
    set_seed(config.seed)  # a reward folder without a trained head gets the same one each time
    score = reward_model_fn(config.reward, _device(), config.uncertainty_penalty)
    trainer = trainer_class(
        model=location,
        reward_funcs=trl_reward(score),
        args=_arguments(config),
        train_dataset=Dataset.from_list([{"prompt": list(p)} for p in prompts]),
        processing_class=tokenizer,
        peft_config=lora_config(config.lora_rank) if config.lora else None,
        callbacks=[steps, TimeBudgetCallback(config.max_seconds)],
    )
    if counts_from_base(config) and config.kl_coef > 0:
        _count_kl_from(trainer, str(config.lineage_base))
    resume = trainer_checkpoint(config.out / "trainer", process_count())
    trainer.train(resume_from_checkpoint=str(resume) if resume else None)
    if not is_main_process():
        return {}  # the first process saves, watches and reports for all
    return _finish(config, trainer, score, prompts, location, resume)


def _count_kl_from(trainer: Any, source: str) -> None:
    """Make `source` (the lineage's base) the trainer's KL reference, prepared as TRL prepares
    the one it loads itself: dropout off, TRL's chunked log-probability head at the round's
    temperature, wrapped for evaluation on this process's device. (TRL loads its reference
    from the policy, or reads the policy with the LoRA adapter off, and takes no other.)"""
    reference = load_causal_lm(source).eval().requires_grad_(False)
    if trainer.args.disable_dropout:
        disable_dropout_in_model(reference)
    cast = bool(getattr(trainer.args, "cast_lm_head_to_fp32", False))  # GRPO has it, RLOO not
    add_fused_lm_head(reference, temperature=trainer.temperature, cast_lm_head_to_fp32=cast)
    replaced = trainer.ref_model
    trainer.ref_model = trainer.accelerator.prepare_model(reference, evaluation_mode=True)
    # accelerate keeps every prepared model in its list: drop TRL's own, or it stays loaded.
    trainer.accelerator._models = [m for m in trainer.accelerator._models if m is not replaced]


def _finish(
    config: CriticFreeConfig,
    trainer: Any,
    score: RewardFn,
    prompts: Sequence[Messages],
    location: str,
    resumed_from: Path | None,
) -> dict[str, Any]:
    model = trainer.accelerator.unwrap_model(trainer.model).eval()
    tokenizer = trainer.processing_class
    device = next(model.parameters()).device
    state_history = _state_history(trainer)
    first, last = (state_history[0], state_history[-1]) if state_history else ({}, {})
    summary: dict[str, Any] = {
        "method": config.method,
        "steps": trainer.state.global_step,
        "processes": process_count(),
        "resumed_from": resumed_from.name if resumed_from else None,
        "final": last,
        "first": first,
        "reward_gain": last.get("reward_mean", math.nan) - first.get("reward_mean", math.nan),
        "history": state_history,
        "config": {k: str(v) if isinstance(v, Path) else v for k, v in asdict(config).items()},
    }
    if not config.lora:  # saved before the watch: a watch that fails cannot lose it
        model.save_pretrained(config.out / "policy", safe_serialization=True)
    tokenizer.save_pretrained(config.out / "policy")

    def watch() -> dict[str, Any]:
        # The parent and the lineage's base loaded afresh (TRL's reference has its
        # log-probability head swapped for TRL's), inside the watch, whose failure is reported.
        parent = AdapterOff(model) if config.lora else frozen(location, device)
        source = base_source(config.policy, config.lineage_base)
        return watch_ppo_round(
            policy=model,
            reference=parent,
            base=(lambda: frozen(str(source), device)) if source else None,
            tokenizer=tokenizer,
            reward_fn=score,
            prompts=prompts,
            config=config,
            history=summary["history"],
            drawn=set(range(len(prompts))),  # TRL's sampler: no prompt is known unseen
        )

    summary["watch"] = guarded_watch(watch)
    if config.lora:  # after the watch, which reads the adapter on and off
        save_lora_result(model, config.out)
        summary.update(lora_base=str(config.policy), adapter=str(config.out / "adapter"))
    write_metrics(config.out, summary)
    return summary


def _state_history(trainer: Any) -> list[dict[str, float]]:
    """Every step's figures under PPO's names, from the trainer's own log history (a resumed
    run's includes the steps before the kill)."""
    return [_renamed(entry) for entry in trainer.state.log_history if "reward" in entry]


def _renamed(logs: dict[str, Any]) -> dict[str, float]:
    """TRL's entries under PPO's names. TRL logs the KL per token (the mean over every answer
    token of the step); PPO's `kl`, its budget and the watch count it per answer, so it is
    scaled by the mean answer length here (exact for the step's mean), and kept per token as
    `kl_per_token`."""
    kept = {KEPT[k]: float(v) for k, v in logs.items() if k in KEPT and _number(v)}
    if "kl" in kept:
        kept["kl_per_token"] = kept["kl"]
        kept["kl"] = kept["kl"] * kept.get("response_length", 1.0)
    return kept
