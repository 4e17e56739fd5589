"""The chain a schedule starts: after a run succeeds, the next stage it named (reward -> a
policy round -> generation), built from the versions that run produced."""

from __future__ import annotations

from typing import Any

from common.errors import InvalidInput
from training.models import (
    POLICY_KINDS,
    REWARD_DRIVEN_KINDS,
    ModelVersion,
    RunKind,
    RunStatus,
    TrainingRun,
    VersionKind,
)
from training.promotion import current_policy, open_gate
from training.registry import lineage_base, register_base_version
from training.services import RunRequest, create_run


def _produced(finished: TrainingRun, kind: str) -> ModelVersion | None:
    return finished.produced_versions.filter(kind=kind).order_by("-created_at", "-id").first()


def _follow_up_request(finished: TrainingRun, kind: str, rest: tuple[str, ...]) -> RunRequest:
    schedule = finished.schedule
    overrides: dict[str, Any] = dict((schedule.hyperparameters if schedule else {}).get(kind, {}))
    common: dict[str, Any] = {
        "campaign": finished.campaign,
        "schedule": schedule,
        "follow_up": rest,
    }
    if kind in POLICY_KINDS:
        reward = _produced(finished, VersionKind.REWARD) if kind in REWARD_DRIVEN_KINDS else None
        return RunRequest(
            kind=kind,
            parent_version=current_policy(finished.campaign),
            reward_version=reward,
            check_reward_version=schedule.check_reward_version if schedule else None,
            dataset=finished.dataset,
            hyperparameters=overrides,
            **common,
        )
    if kind == RunKind.ARENA:
        return RunRequest(
            kind=kind,
            parent_version=_produced(finished, VersionKind.POLICY),
            compare_version=_rival(finished),
            hyperparameters=overrides,
            campaign=schedule.arena_campaign if schedule else None,
            schedule=schedule,
            follow_up=rest,
        )
    if kind == RunKind.GENERATE:
        if schedule is not None:
            overrides = {
                "prompts": schedule.generate_prompts,
                "k": schedule.responses_per_prompt,
                **overrides,
            }
        policy = _produced(finished, VersionKind.POLICY) or finished.parent_version
        return RunRequest(kind=kind, parent_version=policy, hyperparameters=overrides, **common)
    raise InvalidInput(f"A chain cannot continue with a {kind!r} run.", code="invalid_follow_up")


def create_follow_up_run(*, finished: TrainingRun) -> TrainingRun | None:
    """The next stage of a succeeded run's chain (reward -> PPO, GRPO, RLOO or DPO ->
    generation), using
    the versions that run produced; None when the chain ends here. `finished` is the run as
    its row records it (the worker reads it back after recording the success). Calling it
    again for the same finished run returns the same run."""
    if finished.status != RunStatus.SUCCEEDED or not finished.follow_up:
        return None
    key = f"follow-up-{finished.pk}"
    existing = TrainingRun.objects.filter(idempotency_key=key).first()
    if existing is not None:
        return existing
    kind, *rest = finished.follow_up
    request = _follow_up_request(finished, kind, tuple(rest))
    run = create_run(request=request, actor=finished.created_by, idempotency_key=key)
    if kind == RunKind.ARENA and request.parent_version and request.compare_version:
        open_gate(version=request.parent_version, rival=request.compare_version, arena_run=run)
    return run


def _rival(finished: TrainingRun) -> ModelVersion:
    """What a gated policy must beat: the policy its round started from, or the base model."""
    if finished.parent_version is not None:
        return finished.parent_version
    return register_base_version(base=lineage_base(finished))
