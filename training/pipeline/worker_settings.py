"""The worker's own settings per run kind: what it prepares before the stage starts (how many
prompts or pairs it writes). Never a stage's command-line option."""

from __future__ import annotations

from dataclasses import dataclass

from training.pipeline.declarations import worker_setting


@dataclass(kw_only=True)
class PPOWorkerSettings:
    prompts: int = worker_setting(
        64, "How many of the campaign's prompts the round samples from.", minimum=1, maximum=100000
    )


@dataclass(kw_only=True)
class GenerationWorkerSettings:
    prompts: int = worker_setting(
        20, "How many of the campaign's prompts to answer.", minimum=1, maximum=100000
    )


@dataclass(kw_only=True)
class ArenaWorkerSettings:
    prompts: int = worker_setting(
        50, "How many of the arena's prompts each model answers.", minimum=1, maximum=100000
    )


@dataclass(kw_only=True)
class EvaluationWorkerSettings:
    prompts: int = worker_setting(
        16, "How many of the campaign's prompts both policies answer.", minimum=1, maximum=10000
    )


@dataclass(kw_only=True)
class JudgeWorkerSettings:
    pairs: int = worker_setting(
        200,
        "How many of the campaign's pairs the judge reads (those people judged come first).",
        minimum=1,
        maximum=100000,
    )
