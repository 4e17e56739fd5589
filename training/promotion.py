"""The promotion gate: a schedule with an arena campaign makes each new policy earn its place.

The policy round registers its version as pending. The chain's next run (arena answers) has
the new policy and its parent (the campaign's current policy when the round began, or the base
model) answer the arena's prompts, and the arena asks people to compare those two before any
other pair. Every beat, `decide_promotions` reads their direct comparisons: once there are at
least MIN_GATE_COMPARISONS and the lower end of the new policy's 95 % win-probability interval
is above 0.5, it is promoted (it becomes the campaign's current policy); once the schedule's
gate_max_comparisons are spent without that, it is kept but not promoted. Either way the figures
stay on the version (promotion_detail) and the chain goes on: the current policy, whichever it
now is, writes the campaign's next candidates.
"""

from __future__ import annotations

import logging
from typing import Any

from django.db import transaction
from django.utils import timezone

from annotation.arena import head_to_head
from annotation.models import Campaign
from annotation.selectors.arena import head_to_head_outcomes
from annotation.services.arena import set_arena_focus
from annotation.services.audit import record_audit_event
from common.errors import ServiceError
from training.models import (
    FINISHED_STATUSES,
    ModelVersion,
    Promotion,
    RunKind,
    RunStatus,
    TrainingRun,
    TrainingSchedule,
    VersionKind,
)
from training.services import RunRequest, create_run

logger = logging.getLogger(__name__)

# A gate never decides "better" on fewer direct comparisons than this.
MIN_GATE_COMPARISONS = 10


def current_policy(campaign: Campaign | None) -> ModelVersion | None:
    """The policy that writes the campaign's next candidates: its newest policy that no gate
    is holding back (ungated, or promoted)."""
    if campaign is None:
        return None
    return ModelVersion.objects.filter(
        kind=VersionKind.POLICY,
        campaign=campaign,
        promotion__in=(Promotion.UNGATED, Promotion.PROMOTED),
    ).first()


def open_gate(*, version: ModelVersion, rival: ModelVersion, arena_run: TrainingRun) -> None:
    """The gate's record on the version, and the arena told to ask for this pair first."""
    schedule = arena_run.schedule
    assert arena_run.campaign is not None  # an arena run always names its arena
    detail = {
        "arena_campaign_id": arena_run.campaign_id,
        "arena_campaign": arena_run.campaign.name,
        "arena_run_id": arena_run.pk,
        "rival": rival.name,
        "rival_version_id": rival.pk,
        "max_comparisons": schedule.gate_max_comparisons if schedule else 100,
        "min_comparisons": MIN_GATE_COMPARISONS,
        "comparisons": 0,
        "wins": 0.0,
        "win_probability": None,
        "low": None,
        "high": None,
        "decided_at": None,
        "reason": "",
    }
    ModelVersion.objects.filter(pk=version.pk).update(
        promotion=Promotion.PENDING, promotion_detail=detail
    )
    set_arena_focus(
        campaign_id=arena_run.campaign.pk, pair=(version.name, rival.name), waiting=True
    )


def _verdict(detail: dict[str, Any], arena_status: str | None) -> tuple[str, str] | None:
    """Promoted or held, and why; None while the gate still waits."""
    n, low = detail["comparisons"], detail["low"]
    if n >= MIN_GATE_COMPARISONS and low is not None and low > 0.5:
        return Promotion.PROMOTED, (
            f"people preferred it to {detail['rival']}: win probability "
            f"{detail['win_probability']:.2f} ({low:.2f}-{detail['high']:.2f}) over {n} comparisons"
        )
    if n >= detail["max_comparisons"]:
        return Promotion.HELD, (
            f"after {n} comparisons with {detail['rival']} the lower end of its win probability "
            f"({low:.2f}) did not pass 0.5"
        )
    if arena_status in (RunStatus.FAILED, RunStatus.CANCELLED) or arena_status is None:
        return (
            Promotion.HELD,
            "its arena answers were never written (the arena run did not succeed)",
        )
    return None


def _next_generation(version: ModelVersion) -> TrainingRun | None:
    """The chain's generation after the gate: the campaign's current policy answers."""
    produced_by = version.produced_by
    schedule: TrainingSchedule | None = produced_by.schedule if produced_by else None
    if schedule is None:
        return None
    overrides = {
        "prompts": schedule.generate_prompts,
        "k": schedule.responses_per_prompt,
        **(schedule.hyperparameters or {}).get(RunKind.GENERATE, {}),
    }
    request = RunRequest(
        kind=RunKind.GENERATE,
        campaign=schedule.campaign,
        parent_version=current_policy(schedule.campaign),
        hyperparameters=overrides,
        schedule=schedule,
    )
    return create_run(request=request, actor=None, idempotency_key=f"gate-{version.pk}")


def _decide(version_id: int) -> ModelVersion | None:
    """Updates one pending version's figures; returns it when the gate decided."""
    with transaction.atomic():
        version = (
            ModelVersion.objects.select_for_update()
            .filter(pk=version_id, promotion=Promotion.PENDING)
            .first()
        )
        if version is None:
            return None
        detail = dict(version.promotion_detail)
        arena_id = detail.get("arena_campaign_id")
        if arena_id is not None:
            outcomes = head_to_head_outcomes(
                campaign_id=arena_id, a=version.name, b=detail["rival"]
            )
            figures = head_to_head(outcomes)
            detail |= {
                "comparisons": figures.comparisons,
                "wins": figures.wins,
                "win_probability": figures.win_probability,
                "low": figures.low,
                "high": figures.high,
            }
        arena_run = TrainingRun.objects.filter(pk=detail.get("arena_run_id") or 0).first()
        status = arena_run.status if arena_run is not None else None
        if status is not None and status not in FINISHED_STATUSES:
            status = RunStatus.RUNNING  # still answering: not a reason to decide
        verdict = _verdict(detail, status) if detail else (Promotion.HELD, "no gate record")
        if verdict is None:
            ModelVersion.objects.filter(pk=version.pk).update(promotion_detail=detail)
            return None
        version.promotion, detail["reason"] = verdict
        detail["decided_at"] = timezone.now().isoformat()
        version.promotion_detail = detail
        version.save(update_fields=["promotion", "promotion_detail"])
        if arena_id is not None:
            set_arena_focus(
                campaign_id=arena_id, pair=(version.name, detail["rival"]), waiting=False
            )
        promoted = version.promotion == Promotion.PROMOTED
        record_audit_event(
            actor=None,
            action=f"model_version.{'promote' if promoted else 'hold'}",
            target=version,
            details={k: detail[k] for k in ("comparisons", "win_probability", "low", "high")},
        )
        try:
            run = _next_generation(version)
        except ServiceError as error:
            logger.warning("Gate of version %s: no generation started: %s", version.pk, error)
            run = None
        if run is not None:
            detail["generation_run_id"] = run.pk
            ModelVersion.objects.filter(pk=version.pk).update(promotion_detail=detail)
    return version


def decide_promotions() -> list[ModelVersion]:
    """Every pending gate's figures brought up to date; the versions decided this time."""
    pending = ModelVersion.objects.filter(promotion=Promotion.PENDING).values_list("pk", flat=True)
    decided = []
    for version_id in list(pending):
        version = _decide(version_id)
        if version is not None:
            decided.append(version)
    return decided
