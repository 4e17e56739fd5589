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
import math
from typing import Any

import numpy as np
from django.db import transaction
from django.utils import timezone

from annotation.arena import head_to_head
from annotation.models import Campaign, CampaignStatus
from annotation.selectors.arena import head_to_head_outcomes
from annotation.services.arena import set_arena_focus
from annotation.services.audit import record_audit_event
from common.errors import ServiceError
from training.models import (
    GATE_MIN_COMPARISONS,
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

# The gate looks at the comparisons once per this many (and at its budget): the fewest it
# can promote on, and what its budget may not be below.
GATE_LOOK_EVERY = GATE_MIN_COMPARISONS
GATE_ALPHA = 0.025  # the one-sided chance of promoting a policy no better than its parent


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
        "min_comparisons": GATE_LOOK_EVERY,
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


def gate_confidence(max_comparisons: int) -> float:
    """The two-sided confidence of each look's interval: the gate looks at most once per
    GATE_LOOK_EVERY comparisons, so its one-sided false-promotion rate (2.5 %) is split
    evenly over those looks (Bonferroni), which keeps it at 2.5 % however often the beat
    asks."""
    looks = math.ceil(max_comparisons / GATE_LOOK_EVERY)
    return 1 - 2 * GATE_ALPHA / looks


def _figures(detail: dict[str, Any], outcomes: np.ndarray) -> dict[str, Any]:
    """The gate's figures at its latest look: the first multiple of GATE_LOOK_EVERY
    comparisons (or the whole budget) that people have reached."""
    budget = int(detail["max_comparisons"])
    n = int(outcomes.size)
    looked_at = budget if n >= budget else (n // GATE_LOOK_EVERY) * GATE_LOOK_EVERY
    figures = head_to_head(outcomes[:looked_at], confidence=gate_confidence(budget))
    return {
        "comparisons": n,
        "looked_at": looked_at,
        "confidence": round(gate_confidence(budget), 6),
        "wins": figures.wins,
        "win_probability": figures.win_probability if looked_at else None,
        "low": figures.low if looked_at else None,
        "high": figures.high if looked_at else None,
    }


def _verdict(detail: dict[str, Any], arena_problem: str | None) -> tuple[str, str] | None:
    """Promoted or held, and why; None while the gate still waits."""
    looked_at, low = detail["looked_at"], detail["low"]
    if looked_at and low is not None and low > 0.5:
        return Promotion.PROMOTED, (
            f"people preferred it to {detail['rival']}: win probability "
            f"{detail['win_probability']:.2f} ({low:.2f}-{detail['high']:.2f}) over "
            f"{looked_at} comparisons"
        )
    if looked_at >= detail["max_comparisons"]:
        return Promotion.HELD, (
            f"after {looked_at} comparisons with {detail['rival']} the lower end of its win "
            f"probability ({low:.2f}) did not pass 0.5"
        )
    if arena_problem:
        return Promotion.HELD, arena_problem
    return None


def _arena_problem(detail: dict[str, Any]) -> str | None:
    """Why the arena will never give this gate its comparisons, if it will not."""
    arena = Campaign.objects.filter(pk=detail.get("arena_campaign_id") or 0).first()
    if arena is None:
        return "its arena campaign no longer exists"
    if arena.status == CampaignStatus.ARCHIVED:
        return f"its arena {arena.name!r} was archived before people had compared enough"
    run = TrainingRun.objects.filter(pk=detail.get("arena_run_id") or 0).first()
    if run is None or run.status in (RunStatus.FAILED, RunStatus.CANCELLED):
        return "its arena answers were never written (the arena run did not succeed)"
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
        if not {"arena_campaign_id", "rival", "max_comparisons"} <= set(detail):
            # Registered pending but no gate was opened (its chain could not continue).
            return _close(version, detail, Promotion.HELD, "no arena comparison was ever set up")
        outcomes = head_to_head_outcomes(
            campaign_id=detail["arena_campaign_id"], a=version.name, b=detail["rival"]
        )
        detail |= _figures(detail, outcomes)
        verdict = _verdict(detail, _arena_problem(detail))
        if verdict is None:
            ModelVersion.objects.filter(pk=version.pk).update(promotion_detail=detail)
            return None
        return _close(version, detail, *verdict)


def _close(
    version: ModelVersion, detail: dict[str, Any], outcome: str, reason: str
) -> ModelVersion:
    """Records the gate's decision (audited), stops the arena asking for the pair, and goes
    on with the chain: the generation from the campaign's current policy."""
    detail |= {"reason": reason, "decided_at": timezone.now().isoformat()}
    version.promotion, version.promotion_detail = outcome, detail
    version.save(update_fields=["promotion", "promotion_detail"])
    if detail.get("arena_campaign_id") and detail.get("rival"):
        pair = (version.name, detail["rival"])
        set_arena_focus(campaign_id=detail["arena_campaign_id"], pair=pair, waiting=False)
    promoted = outcome == Promotion.PROMOTED
    record_audit_event(
        actor=None,
        action=f"model_version.{'promote' if promoted else 'hold'}",
        target=version,
        details={k: detail.get(k) for k in ("comparisons", "win_probability", "low", "high")}
        | {"reason": reason},
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
    """Every pending gate's figures brought up to date; the versions decided this time. One
    gate's failure is logged and leaves the others (and the beat's schedules) alone."""
    pending = ModelVersion.objects.filter(promotion=Promotion.PENDING).values_list("pk", flat=True)
    decided = []
    for version_id in list(pending):
        try:
            version = _decide(version_id)
        except Exception:
            logger.exception("The promotion gate of version %s could not decide", version_id)
            continue
        if version is not None:
            decided.append(version)
    return decided
