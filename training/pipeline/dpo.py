"""DPO through TRL's DPOTrainer. The model is passed by path, so TRL loads the frozen reference
from the same path (it cannot reload an in-memory model); LoRA through peft spares memory."""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import asdict
from pathlib import Path
from typing import Any

import torch
from datasets import Dataset
from transformers import PreTrainedModel, PreTrainedTokenizerBase
from trl import DPOConfig, DPOTrainer

from training.pipeline.data import PreferencePair, encode_exchange, encode_prompt, validate_pairs
from training.pipeline.errors import PipelineError
from training.pipeline.model_loading import load_causal_lm, load_tokenizer, resolve_model
from training.pipeline.options import DPOTrainingConfig
from training.pipeline.processes import is_main_process, per_process_batch, process_count
from training.pipeline.progress import ProgressCallback, ProgressLog, write_metrics
from training.pipeline.round_watch import guarded_watch, watch_dpo_round
from training.pipeline.strategies import require_strategy, whole_model
from training.pipeline.time_budget import TimeBudgetCallback


def _rows(pairs: Sequence[PreferencePair]) -> list[dict[str, Any]]:
    return [
        {
            "prompt": p.prompt,
            "chosen": [{"role": "assistant", "content": p.chosen}],
            "rejected": [{"role": "assistant", "content": p.rejected}],
        }
        for p in pairs
    ]


@torch.no_grad()
def reply_logprob(
    model: PreTrainedModel,
    tokenizer: PreTrainedTokenizerBase,
    pair_prompt: list[dict[str, str]],
    reply: str,
) -> float:
    """Sum of log-probabilities of the reply's tokens after the prompt."""
    prompt_ids = encode_prompt(tokenizer, pair_prompt)
    full = encode_exchange(tokenizer, pair_prompt, reply)
    ids = torch.tensor([full])
    logits = model(input_ids=ids).logits[0, len(prompt_ids) - 1 : -1].float()
    targets = ids[0, len(prompt_ids) :]
    return float(torch.log_softmax(logits, -1).gather(-1, targets.unsqueeze(-1)).sum())


def implicit_reward_margin(
    policy: PreTrainedModel,
    reference: PreTrainedModel,
    tokenizer: PreTrainedTokenizerBase,
    pairs: Sequence[PreferencePair],
    beta: float,
) -> float:
    """Mean β·[(log π(c) − log π_ref(c)) − (log π(r) − log π_ref(r))] over the pairs."""
    policy.eval()
    total = 0.0
    for pair in pairs:
        chosen = reply_logprob(policy, tokenizer, pair.prompt, pair.chosen) - reply_logprob(
            reference, tokenizer, pair.prompt, pair.chosen
        )
        rejected = reply_logprob(policy, tokenizer, pair.prompt, pair.rejected) - reply_logprob(
            reference, tokenizer, pair.prompt, pair.rejected
        )
        total += beta * (chosen - rejected)
    return total / len(pairs)


def _peft_config(config: DPOTrainingConfig) -> Any:
    if not config.lora:
        return None
    from peft import LoraConfig

    return LoraConfig(
        r=config.lora_rank,
        lora_alpha=2 * config.lora_rank,
        lora_dropout=0.0,
        target_modules="all-linear",
        task_type="CAUSAL_LM",
    )


def _watch(
    model: PreTrainedModel,
    base: str,
    tokenizer: PreTrainedTokenizerBase,
    pairs: Sequence[PreferencePair],
    config: DPOTrainingConfig,
    logged: Sequence[dict[str, float]],
) -> dict[str, Any]:
    """The round's reward-hacking watch; the implicit reward margin's rise over the round
    stands in for a proxy reward's."""
    margins = [entry["rewards/margins"] for entry in logged]
    gain = margins[-1] - margins[0] if margins else None
    return watch_dpo_round(
        policy=model, base=base, tokenizer=tokenizer, pairs=pairs, config=config, reward_gain=gain
    )


def train_dpo(config: DPOTrainingConfig, pairs: Sequence[PreferencePair]) -> dict[str, Any]:
    """Train with DPO, save the policy (LoRA merged) as safetensors, and write metrics.json."""
    validate_pairs(pairs)
    location = resolve_model(config.base)
    tokenizer = load_tokenizer(location, padding_side="left")
    args = DPOConfig(
        output_dir=str(config.out / "trainer"),
        num_train_epochs=config.epochs,
        learning_rate=config.learning_rate,
        per_device_train_batch_size=per_process_batch(config.batch_size),
        beta=config.beta,
        max_length=config.max_length,
        bf16=config.bf16,
        seed=config.seed,
        gradient_checkpointing=False,
        save_strategy="no",
        report_to=[],
        logging_steps=1,
        use_cpu=not torch.cuda.is_available(),
        optim="adamw_torch",
        model_init_kwargs={"dtype": torch.bfloat16 if config.bf16 else torch.float32},
    )
    log = ProgressLog(config.out)
    trainer = DPOTrainer(
        model=location,
        args=args,
        train_dataset=Dataset.from_list(_rows(pairs)),
        processing_class=tokenizer,
        peft_config=_peft_config(config),
        callbacks=[ProgressCallback(log), TimeBudgetCallback(config.max_seconds)],
    )
    if len(trainer.train_dataset) == 0:  # type: ignore[arg-type]
        raise PipelineError("Every pair was longer than --max-length; nothing to train on")
    require_strategy(config.strategy, trainer.accelerator)
    started = time.perf_counter()
    result = trainer.train()
    model: Any = whole_model(trainer, config.strategy)
    if config.lora:
        model = model.merge_and_unload()
    if not is_main_process():
        return {}  # the first process saves, watches and reports for all
    model.save_pretrained(config.out / "policy", safe_serialization=True)
    tokenizer.save_pretrained(config.out / "policy")
    logged = [entry for entry in trainer.state.log_history if "rewards/margins" in entry]
    metrics = {
        "train_loss": result.training_loss,
        "pairs": len(pairs),
        "processes": process_count(),
        "steps": trainer.state.global_step,
        "train_seconds": time.perf_counter() - started,
        "first_reward_margin": logged[0]["rewards/margins"] if logged else None,
        "last_reward_margin": logged[-1]["rewards/margins"] if logged else None,
        "config": {k: str(v) if isinstance(v, Path) else v for k, v in asdict(config).items()},
        "watch": guarded_watch(lambda: _watch(model, location, tokenizer, pairs, config, logged)),
    }
    write_metrics(config.out, metrics)
    return metrics


def margin_before_after(
    base: str, trained: Path, pairs: Sequence[PreferencePair], beta: float
) -> tuple[float, float]:
    """The implicit reward margin of the base against itself (0) and of the trained policy."""
    tokenizer = load_tokenizer(base)
    reference = load_causal_lm(base)
    return (
        implicit_reward_margin(reference, reference, tokenizer, pairs, beta),
        implicit_reward_margin(load_causal_lm(trained), reference, tokenizer, pairs, beta),
    )
