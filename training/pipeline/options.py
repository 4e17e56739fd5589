"""Every stage's options, declared once: the config dataclasses the stages take, whose fields
carry their default here and their help, minimum, maximum and choices as field metadata (the
way TRL's config dataclasses carry help). The command line (cli.py), the app's validation
(training/hyperparameters.py) and the dashboard's form (through GET /api/v1/training/options/)
are all read from these declarations, so a default or a range lives in one place.

Each field has a scope, saying who sets it:
- `input`: a model or folder the worker (or a person at the command line) names;
- `hyperparameter`: a command-line option the app validates and the dashboard offers;
- `pipeline`: a command-line option the app does not offer (an engineer's switch);
- `internal`: a constant of the method, on neither;
- `worker`: the app's own setting, never a command-line option (how many prompts it writes).
The helpers that set a scope, and `Option`, which reads one back, are in declarations.py.
Torch-free and Django-free: the web app imports it."""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from training.pipeline.declarations import (
    FileArgument,
    Option,
    Stage,
    hyperparameter,
    internal,
    model_input,
    options_of,
    pipeline_switch,
)
from training.pipeline.strategies import STRATEGIES
from training.pipeline.worker_settings import ArenaWorkerSettings as ArenaSettings
from training.pipeline.worker_settings import (
    EvaluationWorkerSettings,
    GenerationWorkerSettings,
    JudgeWorkerSettings,
    PPOWorkerSettings,
)

HEAD_INITS = ("random", "probe")
KL_FROM = ("parent", "base")  # what a policy round's KL counts from (kl_reference.py)
MAX_CV_FOLDS = 10
MAX_ENSEMBLE_HEADS = 16


def _seed() -> Any:
    return hyperparameter(0, "Random seed.", minimum=0, maximum=2**31 - 1)


def _bf16() -> Any:
    return hyperparameter(False, "bfloat16 weights and compute (GPUs that support it).")


def _strategy() -> Any:
    return hyperparameter(
        "ddp",
        "How several processes share the model: ddp (each holds all of it), deepspeed-zero2 "
        "(optimiser state and gradients sharded over them: less memory each) or "
        "deepspeed-zero3 (the weights sharded too: least memory). The worker must allow it "
        "(its TRAINING_STRATEGY).",
        choices=STRATEGIES,
    )


def _out() -> Any:
    return model_input("Output folder.")


def _check_reward() -> Any:
    return model_input(
        "A second reward model for the reward-hacking watch: the new policy's win rate over "
        "its parent under it, beside the round's own reward.",
        default=None,
    )


def _watch_prompts() -> Any:
    return hyperparameter(
        16,
        "Prompts the new policy and its parent both answer at the end of the round, for the "
        "reward-hacking watch (length drift, KL, a second reward model); 0: none.",
        minimum=0,
        maximum=1024,
    )


def _round_steps(what: str) -> Any:
    return hyperparameter(
        10, f"{what} steps (each samples one batch of prompts).", minimum=1, maximum=100000
    )


def _prompts_per_step() -> Any:
    return hyperparameter(4, "Prompts per step.", minimum=1, maximum=1024)


def _answer_tokens() -> Any:
    return hyperparameter(48, "Longest sampled response, in tokens.", minimum=1, maximum=4096)


def _sampling_temperature() -> Any:
    return hyperparameter(1.0, "Sampling temperature.", minimum=0.01, maximum=10.0)


def _checkpoint_every() -> Any:
    return hyperparameter(
        5, "Steps between checkpoints (resume points).", minimum=1, maximum=100000
    )


def _uncertainty_penalty() -> Any:
    return hyperparameter(
        0.0,
        "With an ensemble reward model: the reward is the heads' mean minus this many of their "
        "standard deviations, a conservative score against over-optimisation (0: the mean).",
        minimum=0.0,
        maximum=10.0,
    )


def _max_seconds() -> Any:
    return hyperparameter(
        0,
        "Wall-clock budget: stop after the first step that ends this many seconds into the "
        "training, then save and watch as usual (0: no limit; to compare methods at equal time).",
        minimum=0,
        maximum=10**7,
    )


def _lineage_base() -> Any:
    return model_input(
        "The base model the round's lineage started from: the watch measures the new "
        "policy's KL to it (drift over rounds), and with kl_from base the KL term counts from "
        "it. Default: the starting policy is the base.",
        default=None,
    )


def _kl_from() -> Any:
    return hyperparameter(
        "parent",
        "What the KL term and its budget count from: parent (this round's starting policy) or "
        "base (the lineage's base model, so one budget holds over all rounds).",
        choices=KL_FROM,
    )


@dataclass(kw_only=True)
class RewardTrainingConfig:
    base: str = model_input(
        "Base model: a Hugging Face id, a folder, or smollm2.", default="smollm2"
    )
    out: Path = _out()  # noqa: RUF009 (a dataclasses.field, as every helper here returns)
    epochs: float = hyperparameter(
        1.0, "Passes over the training pairs.", minimum=0.01, maximum=100
    )
    learning_rate: float = hyperparameter(1e-5, "Learning rate.", minimum=1e-9, maximum=1e-2)
    batch_size: int = hyperparameter(8, "Pairs per optimiser step.", minimum=1, maximum=1024)
    grad_accum: int = hyperparameter(1, "Gradient accumulation steps.", minimum=1, maximum=1024)
    max_length: int = hyperparameter(
        512, "Longest prompt plus response, in tokens.", minimum=16, maximum=32768
    )
    validation_fraction: float = hyperparameter(
        0.2, "Share of prompts held out for validation.", minimum=0.0, maximum=0.9
    )
    gradient_checkpointing: bool = hyperparameter(False, "Recompute activations to save memory.")
    head_init: str = hyperparameter(
        "random",
        "How the score head starts. probe: fitted on the frozen model's features first (a "
        "linear probe), then fine-tuned; more accurate on small, noisy data; one extra pass.",
        choices=HEAD_INITS,
    )
    cv_folds: int = hyperparameter(
        0,
        "k-fold cross-validation by prompt, for small data sets: k more models trained the "
        "same way, each scored on the prompts it did not see, their pooled figures cv_* (2 to "
        "10; 0 or 1: off).",
        minimum=0,
        maximum=MAX_CV_FOLDS,
    )
    lora: bool = hyperparameter(
        False,
        "Train a LoRA adapter and the score head instead of all weights (less memory; wants a "
        "learning rate about 10x the full-weight one); the saved model is merged.",
    )
    ensemble: int = hyperparameter(
        1,
        "Score heads on one shared trunk, each trained on its own bootstrap resample of the "
        "pairs: a pair's reward is their mean, their spread its uncertainty (1: one head).",
        minimum=1,
        maximum=MAX_ENSEMBLE_HEADS,
    )
    strategy: str = _strategy()
    seed: int = _seed()
    bf16: bool = _bf16()
    bucket_by_length: bool = pipeline_switch(
        True, "Batches of similar lengths (less padding); off: random batches, as TRL makes them."
    )
    weight_decay: float = internal(0.0)
    warmup_ratio: float = internal(0.05)
    lora_rank: int = internal(16)
    extra: dict[str, Any] = internal(default_factory=dict)  # noqa: RUF009


@dataclass(kw_only=True)
class PPOConfig:
    policy: str = model_input(
        "Policy to start from (also the KL reference under kl_from parent).",
        default="smollm2",
    )
    reward: str | None = model_input("Reward model folder.", default=None, cli_required=True)
    check_reward: str | None = _check_reward()
    lineage_base: str | None = _lineage_base()
    out: Path = model_input("Output folder; a run started again in it resumes.")  # noqa: RUF009
    steps: int = _round_steps("PPO")
    batch_size: int = _prompts_per_step()
    minibatch_size: int = hyperparameter(4, "Samples per gradient step.", minimum=1, maximum=1024)
    ppo_epochs: int = hyperparameter(2, "Passes over each batch.", minimum=1, maximum=64)
    max_new_tokens: int = _answer_tokens()
    learning_rate: float = hyperparameter(1e-6, "Policy learning rate.", minimum=1e-9, maximum=1e-2)
    value_learning_rate: float = hyperparameter(
        1e-5, "Value head learning rate.", minimum=1e-9, maximum=1e-2
    )
    kl_coef: float = hyperparameter(
        0.05, "Initial KL penalty coefficient (beta).", minimum=0.0, maximum=10.0
    )
    kl_from: str = _kl_from()
    uncertainty_penalty: float = _uncertainty_penalty()
    target_kl: float = hyperparameter(
        6.0,
        "KL budget per sequence, in nats: beta adapts to keep KL near it.",
        minimum=0.01,
        maximum=1000,
    )
    temperature: float = _sampling_temperature()
    whiten_rewards: bool = hyperparameter(False, "Normalise rewards within each batch.")
    checkpoint_every: int = _checkpoint_every()
    max_seconds: int = _max_seconds()
    watch_prompts: int = _watch_prompts()
    seed: int = _seed()
    bf16: bool = _bf16()
    adaptive_kl: bool = pipeline_switch(
        True, "Adapt beta toward --target-kl; off: beta stays at --kl-coef."
    )
    lora: bool = hyperparameter(
        False,
        "Train a LoRA adapter on one shared base: the reference is the base with the adapter "
        "off, the value head reads the policy's trunk (far less memory; wants a learning rate "
        "10-100x the full-weight one).",
    )
    lora_rank: int = internal(16)
    kl_horizon: int = internal(10_000)
    clip_range: float = internal(0.2)
    clip_range_value: float = internal(0.2)
    value_coef: float = internal(0.5)
    gamma: float = internal(1.0)
    lam: float = internal(0.95)
    max_grad_norm: float = internal(1.0)


@dataclass(kw_only=True)
class CriticFreeConfig:
    """A GRPO or RLOO round (TRL's trainers): each prompt answered `group_size` times, each
    answer's advantage its reward against the group's (no value model)."""

    policy: str = model_input(
        "Policy to start from (also the KL reference under kl_from parent).",
        default="smollm2",
    )
    reward: str | None = model_input("Reward model folder.", default=None, cli_required=True)
    check_reward: str | None = _check_reward()
    lineage_base: str | None = _lineage_base()
    out: Path = model_input("Output folder; a run started again in it resumes.")  # noqa: RUF009
    steps: int = _round_steps("Optimiser")
    batch_size: int = _prompts_per_step()
    group_size: int = hyperparameter(
        4,
        "Answers sampled per prompt; each is scored against its group's others.",
        minimum=2,
        maximum=256,
    )
    max_new_tokens: int = _answer_tokens()
    learning_rate: float = hyperparameter(1e-6, "Learning rate.", minimum=1e-9, maximum=1e-2)
    kl_coef: float = hyperparameter(
        0.05, "KL penalty coefficient (beta) to the reference.", minimum=0.0, maximum=10.0
    )
    kl_from: str = _kl_from()
    uncertainty_penalty: float = _uncertainty_penalty()
    target_kl: float = hyperparameter(
        6.0,
        "KL budget per sequence, in nats, that the round's watch warns above (beta is fixed).",
        minimum=0.01,
        maximum=1000,
    )
    temperature: float = _sampling_temperature()
    checkpoint_every: int = _checkpoint_every()
    max_seconds: int = _max_seconds()
    lora: bool = hyperparameter(
        False,
        "Train a LoRA adapter; the reference is the base with the adapter off (far less "
        "memory; wants a learning rate 10-100x the full-weight one).",
    )
    watch_prompts: int = _watch_prompts()
    seed: int = _seed()
    bf16: bool = _bf16()
    lora_rank: int = internal(16)
    method: str = internal("grpo")


@dataclass(kw_only=True)
class GRPORoundConfig(CriticFreeConfig):
    method: str = internal("grpo")


@dataclass(kw_only=True)
class RLOORoundConfig(CriticFreeConfig):
    method: str = internal("rloo")


@dataclass(kw_only=True)
class DPOTrainingConfig:
    base: str = model_input("Policy to start from (also the reference).", default="smollm2")
    check_reward: str | None = _check_reward()
    lineage_base: str | None = _lineage_base()
    out: Path = _out()  # noqa: RUF009 (a dataclasses.field, as every helper here returns)
    epochs: float = hyperparameter(
        1.0, "Passes over the training pairs.", minimum=0.01, maximum=100
    )
    learning_rate: float = hyperparameter(5e-7, "Learning rate.", minimum=1e-9, maximum=1e-2)
    batch_size: int = hyperparameter(4, "Pairs per optimiser step.", minimum=1, maximum=1024)
    beta: float = hyperparameter(
        0.1,
        "DPO temperature: how far the policy may move from its reference.",
        minimum=0.001,
        maximum=10,
    )
    max_length: int = hyperparameter(
        512, "Longest prompt plus response, in tokens.", minimum=16, maximum=32768
    )
    lora: bool = hyperparameter(False, "Train LoRA adapters instead of all weights (less memory).")
    max_seconds: int = _max_seconds()
    watch_prompts: int = _watch_prompts()
    strategy: str = _strategy()
    seed: int = _seed()
    bf16: bool = _bf16()
    lora_rank: int = internal(16)


@dataclass(kw_only=True)
class GenerationConfig:
    policy: str = model_input("Policy that answers.", default="smollm2")
    k: int = hyperparameter(
        4, "Responses per prompt (the new ranking tasks' K).", minimum=2, maximum=16
    )
    max_new_tokens: int = hyperparameter(
        48, "Longest response, in tokens.", minimum=1, maximum=4096
    )
    temperature: float = hyperparameter(0.8, "Sampling temperature.", minimum=0.01, maximum=10.0)
    batch_size: int = hyperparameter(8, "Prompts per generation batch.", minimum=1, maximum=1024)
    seed: int = _seed()
    bf16: bool = _bf16()
    routing_reward: str | None = model_input(
        "Reward-model ensemble that scores every answer under each head, for the campaign's "
        "uncertainty routing (the worker passes the campaign's newest). Default: none.",
        default=None,
    )
    judge: str | None = model_input(
        "LLM judge that compares every two answers of a prompt in both orders, for the "
        "campaign's judge routing (the worker passes the campaign's judge model). Default: none.",
        default=None,
    )
    rival: str | None = model_input(
        "A second policy that answers the same prompts (arena answers: a new policy and the "
        "parent its promotion gate compares it with). Default: none.",
        default=None,
    )
    top_p: float = internal(0.95)


@dataclass(kw_only=True)
class EvaluationConfig:
    policy: str = model_input("Policy whose replies are judged.")
    parent: str = model_input("Policy it is compared with.")
    reward: str = model_input("Reward model that scores both.")
    max_new_tokens: int = hyperparameter(
        48, "Longest response, in tokens.", minimum=1, maximum=4096
    )
    samples: int = hyperparameter(
        20, "Prompts whose replies are kept side by side.", minimum=0, maximum=10000
    )
    seed: int = _seed()
    bf16: bool = _bf16()


@dataclass(kw_only=True)
class JudgeConfig:
    judge: str = model_input("Causal LM that judges (any the worker can load).", default="smollm2")
    max_answer_tokens: int = hyperparameter(
        256, "Each answer is cut to this many tokens before judging.", minimum=8, maximum=8192
    )
    prelabel_margin: float = hyperparameter(
        1.0,
        "An order-consistent verdict becomes a pre-label when both orders' log-odds reach this.",
        minimum=0.0,
        maximum=100.0,
    )
    batch_size: int = hyperparameter(8, "Pairs per forward pass.", minimum=1, maximum=1024)
    bf16: bool = _bf16()


@dataclass(kw_only=True)
class RewardAccuracyConfig:
    reward: str = model_input("Reward model folder.")


_PAIRS = FileArgument("data", "Preference pairs, JSONL.")
_PROMPTS = FileArgument("prompts", "Prompts, JSONL.")
_METRICS_OUT = FileArgument("out", "Folder for metrics.json (else stdout only).", required=False)

STAGES: tuple[Stage, ...] = (
    Stage(
        "reward",
        "train a reward model on preference pairs",
        RewardTrainingConfig,
        (_PAIRS,),
        "reward",
    ),
    Stage(
        "ppo", "run a PPO round", PPOConfig, (_PROMPTS,), "ppo", worker_settings=PPOWorkerSettings
    ),
    Stage("dpo", "DPO on preference pairs (TRL)", DPOTrainingConfig, (_PAIRS,), "dpo"),
    Stage(
        "grpo",
        "run a GRPO round (TRL)",
        GRPORoundConfig,
        (_PROMPTS,),
        "grpo",
        worker_settings=PPOWorkerSettings,
    ),
    Stage(
        "rloo",
        "run an RLOO round (TRL)",
        RLOORoundConfig,
        (_PROMPTS,),
        "rloo",
        worker_settings=PPOWorkerSettings,
    ),
    Stage(
        "generate",
        "sample K responses per prompt",
        GenerationConfig,
        (_PROMPTS, FileArgument("out", "The JSONL file to write.")),
        "generate",
        worker_settings=GenerationWorkerSettings,
    ),
    Stage(
        "evaluate-reward",
        "reward-model accuracy on pairs",
        RewardAccuracyConfig,
        (_PAIRS, _METRICS_OUT),
    ),
    Stage(
        "evaluate-policy",
        "win rate over a parent policy",
        EvaluationConfig,
        (_PROMPTS, _METRICS_OUT),
        "evaluate",
        worker_settings=EvaluationWorkerSettings,
    ),
    Stage(
        "judge",
        "an LLM judge's verdicts on pairs, each asked in both orders",
        JudgeConfig,
        (_PAIRS, FileArgument("out", "Folder for verdicts.jsonl and metrics.json.")),
        "judge",
        worker_settings=JudgeWorkerSettings,
    ),
)

RUN_KINDS: dict[str, Stage] = {stage.kind: stage for stage in STAGES if stage.kind is not None}
# Arena answers: a generation whose answers enter an arena campaign (the worker's settings differ).
RUN_KINDS["arena"] = replace(RUN_KINDS["generate"], kind="arena", worker_settings=ArenaSettings)


def cli_options(stage: Stage) -> list[Option]:
    """What the stage's command line takes from its config (files aside)."""
    return [
        o for o in options_of(stage.config) if o.scope in ("input", "hyperparameter", "pipeline")
    ]


def run_kind_options(kind: str) -> list[Option]:
    """What the app takes for a run kind: the worker's settings, then the hyperparameters."""
    stage = RUN_KINDS[kind]
    settings = options_of(stage.worker_settings) if stage.worker_settings else []
    return settings + [o for o in options_of(stage.config) if o.scope == "hyperparameter"]
