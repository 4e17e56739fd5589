"""A PPO round written here, on `accelerate`: policy, frozen reference, value model, and a
frozen reward model that may use its own tokenizer (replies are decoded and re-encoded).

Per-token KL penalty (fixed or adaptive β), GAE, clipped surrogate and value losses (their
maths in ppo_maths.py, the options in options.py), optional reward whitening, response masks
cut at the first EOS (SmolLM2's pad token *is* its EOS, so `!= pad` would hide the real end),
position ids from the attention mask under left padding, and atomic checkpoints that resume
to the same weights as an uninterrupted run.

Under `accelerate launch` with N processes each process generates, scores and trains on its
own 1/N of every batch; gradients are averaged across processes (DDP), advantages are whitened
with the statistics of the whole batch and every metric is the whole batch's, so β and the
logged curves do not depend on N."""

from __future__ import annotations

import math
import random
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import torch
from accelerate import Accelerator
from accelerate.utils import gather_object
from torch import nn
from tqdm.auto import tqdm

from training.pipeline.checkpoint import (
    latest_checkpoint,
    optimizer_from_files,
    optimizer_to_files,
    read_state,
    rng_from_files,
    rng_snapshot,
    write_checkpoint,
)
from training.pipeline.data import Messages, encode_prompt
from training.pipeline.errors import PipelineError
from training.pipeline.kl_reference import reference_model, watch_models
from training.pipeline.logprobs import sequence_logprobs
from training.pipeline.model_loading import (
    load_causal_lm,
    load_reward_model,
    load_tokenizer,
    same_tokenizer,
)
from training.pipeline.options import PPOConfig
from training.pipeline.ppo_lora import AdapterOff, TrunkValue, lora_models, save_lora_result
from training.pipeline.ppo_maths import (
    AdaptiveKL,
    drawn_prompt_indices,
    gae,
    masked_mean,
    masked_whiten,
    policy_loss,
    position_ids,
    response_mask,
    token_rewards,
    value_loss,
)
from training.pipeline.progress import ProgressLog, write_metrics
from training.pipeline.round_watch import (
    drawn_prompts,
    guarded_watch,
    reward_model_fn,
    watch_ppo_round,
)
from training.pipeline.time_budget import TimeBudget
from training.pipeline.value_model import ValueModel

RewardFn = Callable[[Sequence[Messages], Sequence[str]], torch.Tensor]


# ---- the trainer ---------------------------------------------------------------------------


@dataclass
class Rollout:
    sequences: torch.Tensor
    attention_mask: torch.Tensor
    mask: torch.Tensor
    logprobs: torch.Tensor
    values: torch.Tensor
    advantages: torch.Tensor
    returns: torch.Tensor
    scores: torch.Tensor
    kl: torch.Tensor
    prompt_width: int
    check_scores: torch.Tensor | None = None  # the second reward model's, when there is one


class PPOTrainer:
    def __init__(
        self, config: PPOConfig, prompts: Sequence[Messages], reward_fn: RewardFn | None = None
    ) -> None:
        if not prompts:
            raise PipelineError("PPO needs at least one prompt")
        if reward_fn is None and config.reward is None:
            raise PipelineError("PPO needs a reward model (--reward) or a reward function")
        self.config, self.prompts = config, list(prompts)
        self.accelerator = Accelerator(
            mixed_precision="bf16" if config.bf16 else "no", cpu=not torch.cuda.is_available()
        )
        self.processes, self.rank = self.accelerator.num_processes, self.accelerator.process_index
        for name in ("batch_size", "minibatch_size"):
            if getattr(config, name) % self.processes:
                raise PipelineError(
                    f"{name} {getattr(config, name)} does not split evenly over "
                    f"{self.processes} processes"
                )
        # Each process samples with its own generator; process 0 alone is the old single run.
        torch.manual_seed(config.seed + self.rank)
        random.seed(config.seed + self.rank)
        self.tokenizer = load_tokenizer(config.policy, padding_side="left")
        self.eos_id = int(self.tokenizer.eos_token_id)
        self.step, self.beta = 0, config.kl_coef
        self.generate_seconds = 0.0
        self.kl_control = AdaptiveKL(config.kl_coef, config.target_kl, config.kl_horizon)
        self.log = ProgressLog(config.out) if self.accelerator.is_main_process else None
        self.history: list[dict[str, float]] = []
        self._load_models(reward_fn)

    def _load_models(self, reward_fn: RewardFn | None) -> None:
        config, device = self.config, self.accelerator.device
        resume = latest_checkpoint(config.out / "checkpoints")
        # The reward models first: a folder without a trained head gets a random one, the
        # same in a resumed run only if nothing before it drew from the generator differently.
        self.reward_fn = reward_fn or reward_model_fn(
            config.reward or "", device, config.uncertainty_penalty
        )
        # The second reward model scores every step's answers too (the over-optimisation
        # curve), loaded once and kept for the watch at the end.
        self.check_fn = (
            reward_model_fn(config.check_reward, device) if config.check_reward else None
        )
        self.policy: Any
        self.reference: Any  # a PreTrainedModel, or ppo_lora.AdapterOff
        self.value: ValueModel | TrunkValue
        self.adapter_off: AdapterOff | None = None
        if config.lora:  # one base in memory (ppo_lora.py)
            self.policy, self.adapter_off, self.value = lora_models(
                config.policy, config.lora_rank, resume
            )
        else:
            self.policy = load_causal_lm(resume / "policy" if resume else config.policy)
        self.reference = reference_model(config, device, self.adapter_off)  # kl_reference.py
        if not config.lora:
            self.value = self._value_model(resume)
        self.optimizer = torch.optim.AdamW(
            [
                {
                    "params": [p for p in self.policy.parameters() if p.requires_grad],
                    "lr": config.learning_rate,
                },
                {"params": self.value.parameters(), "lr": config.value_learning_rate},
            ],
            eps=1e-5,
        )
        self.policy, self.value, self.optimizer = self.accelerator.prepare(
            self.policy, self.value, self.optimizer
        )
        if resume:
            self._restore(resume)

    def _value_model(self, resume: Path | None) -> ValueModel:
        value_source = resume / "value" if resume else self._value_source()
        value = ValueModel(load_reward_model(value_source, self.tokenizer))
        if not resume and value_source == self.config.policy:
            # A fresh head on the policy: start at zero so early advantages are the scores
            # themselves, not a random head's noise.
            nn.init.zeros_(value.head.weight)
        return value

    def _value_source(self) -> str:
        """The reward model when it reads the policy's tokens, else the policy itself."""
        reward = self.config.reward
        if reward and same_tokenizer(reward, self.config.policy):
            return reward
        return self.config.policy

    # -- rollout --

    def _batch_prompts(self) -> list[Messages]:
        """Prompts for this step (ppo_maths.drawn_prompt_indices: resumable, seeded)."""
        size, count = self.config.batch_size, len(self.prompts)
        drawn = drawn_prompt_indices(self.step, size, count, self.config.seed)
        return [self.prompts[index] for index in drawn]

    def _local_prompts(self) -> list[Messages]:
        """This process's contiguous share of the step's batch."""
        share = self.config.batch_size // self.processes
        return self._batch_prompts()[self.rank * share : (self.rank + 1) * share]

    def _total(self, value: torch.Tensor) -> torch.Tensor:
        """Sum over every process (the value itself in a single process)."""
        if self.processes == 1:
            return value
        return self.accelerator.reduce(value.contiguous(), reduction="sum")

    def _whole_batch(self, value: torch.Tensor) -> torch.Tensor:
        """Every process's rows, in process order."""
        if self.processes == 1:
            return value
        return self.accelerator.gather(value.contiguous())

    def _encode(self, prompts: Sequence[Messages]) -> tuple[torch.Tensor, torch.Tensor]:
        encoded = [encode_prompt(self.tokenizer, p) for p in prompts]
        width = max(len(ids) for ids in encoded)
        ids = torch.full((len(encoded), width), self.tokenizer.pad_token_id, dtype=torch.long)
        mask = torch.zeros_like(ids)
        for row, tokens in enumerate(encoded):
            ids[row, width - len(tokens) :] = torch.tensor(tokens)
            mask[row, width - len(tokens) :] = 1
        device = self.accelerator.device
        return ids.to(device), mask.to(device)

    @torch.no_grad()
    def rollout(self, prompts: Sequence[Messages]) -> Rollout:
        config = self.config
        prompt_ids, prompt_mask = self._encode(prompts)
        width = prompt_ids.shape[1]
        policy = self.accelerator.unwrap_model(self.policy).eval()
        generate_started = time.perf_counter()
        sequences = policy.generate(
            input_ids=prompt_ids,
            attention_mask=prompt_mask,
            do_sample=True,
            top_k=0,
            top_p=1.0,
            temperature=config.temperature,
            max_new_tokens=config.max_new_tokens,
            pad_token_id=self.tokenizer.pad_token_id,
            eos_token_id=self.eos_id,
        )
        self.generate_seconds = time.perf_counter() - generate_started
        responses = sequences[:, width:]
        mask = response_mask(responses, self.eos_id)
        responses = responses.masked_fill(mask == 0, self.tokenizer.pad_token_id)
        sequences = torch.cat([prompt_ids, responses], dim=1)
        attention = torch.cat([prompt_mask, mask], dim=1)
        logprobs, _ = sequence_logprobs(policy, sequences, attention, width, config.temperature)
        ref_logprobs, _ = sequence_logprobs(
            self.reference, sequences, attention, width, config.temperature
        )
        values = self.value(sequences, attention, position_ids(attention))[:, width - 1 : -1]
        texts = self.tokenizer.batch_decode(responses, skip_special_tokens=True)
        scores = self.reward_fn(prompts, texts).to(sequences.device).float()
        check = (
            self.check_fn(prompts, texts).to(sequences.device).float() if self.check_fn else None
        )
        rewards, kl = token_rewards(scores, logprobs, ref_logprobs, mask.float(), self.beta)
        if config.whiten_rewards:
            rewards = masked_whiten(rewards, mask.float(), shift_mean=False, total=self._total)
        advantages, returns = gae(rewards, values, mask.float(), config.gamma, config.lam)
        advantages = masked_whiten(advantages, mask.float(), total=self._total)
        return Rollout(
            sequences,
            attention,
            mask.float(),
            logprobs,
            values * mask,
            advantages,
            returns,
            scores,
            kl,
            width,
            check,
        )

    # -- optimisation --

    def _update(self, batch: Rollout) -> dict[str, float]:
        config, policy = self.config, self.policy
        policy.train()
        self.value.train()
        stats: dict[str, list[float]] = {
            "policy_loss": [],
            "value_loss": [],
            "clip_fraction": [],
            "approx_kl": [],
            "entropy": [],
        }
        generator = torch.Generator().manual_seed(config.seed * 7919 + self.step)
        share = config.minibatch_size // self.processes
        for _ in range(config.ppo_epochs):
            order = torch.randperm(batch.sequences.shape[0], generator=generator)
            for start in range(0, len(order), share):
                rows = order[start : start + share].to(batch.sequences.device)
                self._minibatch(batch, rows, stats)
        means = torch.tensor([sum(v) / len(v) for v in stats.values()], dtype=torch.float64)
        means = self._total(means.to(self.accelerator.device)).cpu() / self.processes
        return {name: float(value) for name, value in zip(stats, means, strict=True)}

    def _minibatch(self, batch: Rollout, rows: torch.Tensor, stats: dict[str, list[float]]) -> None:
        config, width = self.config, batch.prompt_width
        sequences, attention, mask = (
            batch.sequences[rows],
            batch.attention_mask[rows],
            batch.mask[rows],
        )
        with self.accelerator.autocast():
            new_logprobs, entropy = sequence_logprobs(
                self.policy, sequences, attention, width, config.temperature
            )
            new_values = self.value(sequences, attention, position_ids(attention))[
                :, width - 1 : -1
            ]
        pg_loss, clip_fraction, approx_kl = policy_loss(
            new_logprobs, batch.logprobs[rows], batch.advantages[rows], mask, config.clip_range
        )
        vf_loss = value_loss(
            new_values, batch.values[rows], batch.returns[rows], mask, config.clip_range_value
        )
        self.optimizer.zero_grad()
        self.accelerator.backward(pg_loss + config.value_coef * vf_loss)
        self.accelerator.clip_grad_norm_(
            [p for group in self.optimizer.param_groups for p in group["params"]],
            config.max_grad_norm,
        )
        self.optimizer.step()
        for name, value in (
            ("policy_loss", pg_loss),
            ("value_loss", vf_loss),
            ("clip_fraction", clip_fraction),
            ("approx_kl", approx_kl),
            ("entropy", masked_mean(entropy.detach(), mask)),
        ):
            stats[name].append(float(value.detach()))

    def train_step(self) -> dict[str, float]:
        started = time.perf_counter()
        batch = self.rollout(self._local_prompts())
        metrics = self._update(batch)
        scores = self._whole_batch(batch.scores)
        lengths = self._whole_batch(batch.mask.sum(dim=1))
        kl_per_sequence = float(self._whole_batch(batch.kl.sum(dim=1)).mean())
        if self.config.adaptive_kl:
            self.kl_control.update(kl_per_sequence, self.config.batch_size)
            self.beta = self.kl_control.beta
        seconds = time.perf_counter() - started
        generated = float(lengths.sum())
        # Processes generate side by side: the slowest one's generation time is the batch's.
        generate_seconds = float(self._whole_batch(torch.tensor([self.generate_seconds])).max())
        metrics.update(
            {
                "reward_mean": float(scores.mean()),
                "reward_std": float(scores.std()),
                "kl": kl_per_sequence,
                "beta": self.beta,
                "response_length": float(lengths.mean()),
                "sequences": float(len(scores)),
                "seconds": seconds,
                "tokens_per_second": generated / seconds,
                "generation_tokens_per_second": generated / max(generate_seconds, 1e-9),
            }
        )
        if batch.check_scores is not None:
            metrics["check_reward_mean"] = float(self._whole_batch(batch.check_scores).mean())
        self.step += 1
        return metrics

    # -- checkpoints --

    def _write_parts(self, folder: Path) -> None:
        self.accelerator.unwrap_model(self.policy).save_pretrained(folder / "policy")
        self.tokenizer.save_pretrained(folder / "policy")
        value = self.accelerator.unwrap_model(self.value)
        if isinstance(value, TrunkValue):
            value.save(folder / "value")
        else:
            value.classifier.save_pretrained(folder / "value")
        self.tokenizer.save_pretrained(folder / "value")
        optimizer_to_files(self.optimizer, folder)

    def save_checkpoint(self) -> Path:
        """Every process hands its generators to the main one, which writes the checkpoint
        (the weights and optimizer state are the same on all of them)."""
        folder = self.config.out / "checkpoints" / f"step-{self.step:06d}"
        snapshots = gather_object([rng_snapshot()])  # in process order; as is in one process
        if self.accelerator.is_main_process:
            state = {
                "beta": self.beta,
                "history": self.history,
                "data_position": self.step,
                "processes": self.processes,
                "config": {k: str(v) for k, v in asdict(self.config).items()},
            }
            folder = write_checkpoint(
                self.config.out / "checkpoints", self.step, self._write_parts, state, snapshots
            )
        self.accelerator.wait_for_everyone()
        return folder

    def _restore(self, folder: Path) -> None:
        state = read_state(folder)
        optimizer_from_files(self.optimizer, folder)
        if not rng_from_files(folder, state, self.rank):
            # Written by fewer processes: this one had no generator yet; seed it by step.
            seed = self.config.seed + self.rank * 1_000_003 + int(state["step"])
            torch.manual_seed(seed)
            random.seed(seed)
        self.step, self.beta = int(state["step"]), float(state["beta"])
        self.kl_control.beta = self.beta
        self.history = list(state["history"])

    def train(self) -> dict[str, Any]:
        """Run until `steps`, checkpointing every `checkpoint_every` steps; resumes from the
        latest checkpoint in `out/checkpoints` if there is one."""
        config = self.config
        bar = tqdm(
            total=config.steps,
            initial=self.step,
            desc="PPO",
            unit="step",
            disable=not self.accelerator.is_main_process,
        )
        spent = sum(step.get("seconds", 0.0) for step in self.history)  # before a resume
        budget = TimeBudget(config.max_seconds, spent)
        while self.step < config.steps and not (self.history and budget.over()):
            metrics = self.train_step()
            self.history.append(metrics)
            if self.log is not None:
                self.log.write("train", self.step, config.steps, metrics)
            bar.update(1)
            bar.set_postfix(reward=f"{metrics['reward_mean']:.3f}", kl=f"{metrics['kl']:.3f}")
            last = self.step == config.steps or budget.over()
            if self.step % config.checkpoint_every == 0 or last:
                self.save_checkpoint()
            if last:
                break
        bar.close()
        return self.finish()

    def _check_in_step(self) -> None:
        """Every process must end with the same policy; a difference means the gradient
        averaging broke, and the saved weights would be one process's alone."""
        if self.processes == 1:
            return
        policy = self.accelerator.unwrap_model(self.policy)
        checksum = torch.stack([p.detach().double().sum() for p in policy.parameters()]).sum()
        sums = self._whole_batch(checksum.reshape(1).to(self.accelerator.device))
        if not torch.allclose(sums, sums[0].expand_as(sums), rtol=1e-9, atol=0.0):
            raise PipelineError(f"the processes' policies diverged: checksums {sums.tolist()}")

    def finish(self) -> dict[str, Any]:
        out = self.config.out
        self._check_in_step()
        policy = self.accelerator.unwrap_model(self.policy)
        if self.accelerator.is_main_process and not self.config.lora:
            policy.save_pretrained(out / "policy")
        last = self.history[-1] if self.history else {}
        first = self.history[0] if self.history else {}
        summary = {
            "steps": self.step,
            "processes": self.processes,
            "final": last,
            "first": first,
            "reward_gain": last.get("reward_mean", math.nan) - first.get("reward_mean", math.nan),
            "history": self.history,
        }
        if self.accelerator.is_main_process:
            summary["watch"] = guarded_watch(self._watch)
            if self.config.lora:  # after the watch, which reads the adapter on and off
                save_lora_result(policy, out)
                summary.update(lora_base=str(self.config.policy), adapter=str(out / "adapter"))
            self.tokenizer.save_pretrained(out / "policy")
            write_metrics(out, summary)
        self.accelerator.wait_for_everyone()
        return summary

    def _watch(self) -> dict[str, Any]:
        """The reward-hacking watch (round_watch.py): the new policy against its parent."""
        config = self.config
        parent, base = watch_models(
            self.config, self.reference, self.accelerator.device, self.adapter_off
        )
        return watch_ppo_round(
            policy=self.accelerator.unwrap_model(self.policy),
            reference=parent,
            base=base,
            tokenizer=self.tokenizer,
            reward_fn=self.reward_fn,
            prompts=self.prompts,
            config=self.config,
            history=self.history,
            check_fn=self.check_fn,
            # the prompts the steps taken drew (fewer than `steps` under a time budget)
            drawn=drawn_prompts(self.step, config.batch_size, len(self.prompts), config.seed),
        )
