"""Training workflows: start and cancel runs, keep retraining schedules, fire them, register
model versions, and build the chain a schedule starts (reward model -> PPO or DPO ->
generation). Every training write goes through here, each with its audit event in the same
transaction; the worker only claims, reports on and finishes runs (training.worker)."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from functools import partial
from typing import Any

from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from annotation.models import Campaign
from annotation.selectors.campaigns import count_campaign_judgments
from annotation.selectors.snapshots import (
    freeze_model_labels,
    freeze_snapshot,
    has_training_pairs,
    with_model_labels,
)
from annotation.services.audit import record_audit_event
from common.errors import Conflict, InvalidInput, ServiceError
from training import dispatch
from training.cron import cron_due, parse_cron
from training.datasets import dataset_filter, normalize_dataset
from training.hyperparameters import resolve_hyperparameters
from training.models import GATE_MIN_COMPARISONS as GATE_MIN
from training.models import (
    POLICY_KINDS,
    REWARD_DRIVEN_KINDS,
    ModelVersion,
    RunKind,
    RunStatus,
    TrainingRun,
    TrainingSchedule,
    VersionKind,
)
from training.registry import DEFAULT_BASE
from training.registry import register_base_version as register_base_version
from training.routing import routing_reward
from training.worker.ray_backend import stop_run_jobs

logger = logging.getLogger(__name__)

# Kinds that train on preferences, so freeze a dataset snapshot.
DATA_KINDS = (RunKind.REWARD, RunKind.DPO)
_POLICY_VERSIONS = (VersionKind.POLICY, VersionKind.REFERENCE)
_REWARD = (VersionKind.REWARD,)
_PROMPT_KINDS = (*REWARD_DRIVEN_KINDS, RunKind.EVALUATE)  # they read a campaign's prompts


@dataclass(frozen=True)
class RunRequest:
    """What a caller asks for; create_run checks it against the kind and fills the rest."""

    kind: str
    base: str = ""
    parent_version: ModelVersion | None = None
    reward_version: ModelVersion | None = None
    compare_version: ModelVersion | None = None
    check_reward_version: ModelVersion | None = None  # PPO, DPO: the watch's second judge
    campaign: Campaign | None = None
    dataset: Mapping[str, Any] = field(default_factory=dict)
    hyperparameters: Mapping[str, Any] = field(default_factory=dict)
    schedule: TrainingSchedule | None = None
    follow_up: tuple[str, ...] = ()


def _check_version(
    errors: dict[str, list[str]], name: str, version: ModelVersion | None, kinds: tuple[str, ...]
) -> None:
    if version is not None and version.kind not in kinds:
        errors[name] = [
            f"Version {version.pk} is a {version.kind} model; need {' or '.join(kinds)}."
        ]


def _prompt_campaign(request: RunRequest) -> Campaign | None:
    """Where PPO and evaluation take prompts: the campaign asked for, else the models'."""
    if request.campaign is not None:
        return request.campaign
    for version in (request.parent_version, request.compare_version, request.reward_version):
        if version is not None and version.campaign is not None:
            return version.campaign
    return None


def _required(request: RunRequest) -> dict[str, list[str]]:
    """Kind-specific requirements, as field errors."""
    errors: dict[str, list[str]] = {}
    parent_kinds = (VersionKind.REWARD,) if request.kind == RunKind.REWARD else _POLICY_VERSIONS
    _check_version(errors, "parent_version_id", request.parent_version, parent_kinds)
    _check_version(errors, "reward_version_id", request.reward_version, _REWARD)
    _check_version(errors, "check_reward_version_id", request.check_reward_version, _REWARD)
    _check_version(errors, "compare_version_id", request.compare_version, _POLICY_VERSIONS)
    needs = {
        **dict.fromkeys(REWARD_DRIVEN_KINDS, ("reward_version_id",)),
        RunKind.EVALUATE: ("reward_version_id", "parent_version_id", "compare_version_id"),
    }.get(RunKind(request.kind), ())
    for name in needs:
        if getattr(request, name.removesuffix("_id")) is None:
            errors.setdefault(name, [f"{request.kind} runs need this."])
    if request.check_reward_version and request.kind not in POLICY_KINDS:
        errors["check_reward_version_id"] = ["Only policy rounds use a second reward model."]
    elif request.check_reward_version and request.check_reward_version == request.reward_version:
        errors["check_reward_version_id"] = ["The second reward model must be another model."]
    if request.kind == RunKind.GENERATE and request.campaign is None:
        errors["campaign_id"] = ["A generation run needs the campaign that receives its tasks."]
    if request.kind == RunKind.ARENA and not (request.campaign and request.campaign.is_arena):
        errors["campaign_id"] = ["Arena answers go to an arena campaign: name one."]
    if request.kind == RunKind.GENERATE and request.campaign and request.campaign.is_arena:
        errors["campaign_id"] = ["An arena takes models' answers through an arena-answers run."]
    rival = request.compare_version
    if request.kind == RunKind.ARENA and rival is not None and rival == request.parent_version:
        errors["compare_version_id"] = ["The rival must be another policy."]
    if request.kind == RunKind.JUDGE and request.campaign is None:
        errors["campaign_id"] = ["A judge run needs the campaign whose pairs it judges."]
    if request.kind in _PROMPT_KINDS and _prompt_campaign(request) is None:
        errors["campaign_id"] = ["Say which campaign's prompts to use."]
    return errors


def _build_run(*, request: RunRequest, actor: User | None, idempotency_key: str) -> TrainingRun:
    """The run the request describes, checked and with defaults filled, not yet saved."""
    if request.kind not in RunKind.values:
        raise InvalidInput(f"Unknown run kind {request.kind!r}.", errors={"kind": ["Unknown."]})
    errors = _required(request)
    if errors:
        raise InvalidInput("The run is missing something its kind needs.", errors=errors)
    campaign = (
        _prompt_campaign(request) if request.kind in _PROMPT_KINDS else None
    ) or request.campaign
    dataset: dict[str, Any] = {}
    if request.kind in DATA_KINDS:
        dataset = normalize_dataset(dataset=request.dataset, campaign=campaign)
        if campaign is None and len(dataset["campaign_ids"]) == 1:
            campaign = Campaign.objects.get(pk=dataset["campaign_ids"][0])
    parent = request.parent_version
    reward = request.reward_version
    if request.kind == RunKind.GENERATE:
        reward = routing_reward(campaign=campaign, asked=reward)
    return TrainingRun(
        kind=request.kind,
        base=request.base or (parent.base if parent else DEFAULT_BASE),
        parent_version=parent,
        reward_version=reward,
        compare_version=request.compare_version,
        check_reward_version=request.check_reward_version,
        campaign=campaign,
        schedule=request.schedule,
        follow_up=list(request.follow_up),
        dataset=dataset,
        config=resolve_hyperparameters(kind=request.kind, overrides=request.hyperparameters),
        idempotency_key=idempotency_key,
        created_by=actor,
    )


def _fingerprint(run: TrainingRun) -> tuple[Any, ...]:
    """What makes two requests the same request (for idempotency-key replays). A generation
    run's reward model is left out: the server picks the campaign's newest ensemble, which a
    retry may find changed."""
    return (
        run.kind,
        run.base,
        run.parent_version_id,
        run.reward_version_id if run.kind != RunKind.GENERATE else None,
        run.compare_version_id,
        run.check_reward_version_id,
        run.campaign_id,
        run.schedule_id,
        list(run.follow_up),
        run.dataset,
        run.config,
    )


def _replayed(existing: TrainingRun, asked: TrainingRun) -> TrainingRun:
    if _fingerprint(existing) != _fingerprint(asked):
        raise Conflict(
            "This idempotency key was already used for a different run.",
            code="idempotency_key_reused",
        )
    return existing


def _freeze(run: TrainingRun) -> None:
    if run.kind not in DATA_KINDS:
        return
    mode, unsafe = run.dataset["mode"], run.dataset.get("unsafe", "ignore")
    filters = dataset_filter(run.dataset)
    snapshot = freeze_snapshot(filters, mode=mode)
    labels = freeze_model_labels(filters) if run.dataset.get("model_labels") else ()
    if not labels and not has_training_pairs(snapshot.preference_ids, mode=mode, unsafe=unsafe):
        raise InvalidInput(
            "No preferences match this dataset's filters; nothing to train on.",
            code="empty_dataset",
        )
    run.snapshot_preference_ids = list(snapshot.preference_ids)
    run.snapshot_model_label_ids = list(labels)
    run.snapshot_hash = with_model_labels(snapshot, labels)
    run.snapshot_size = snapshot.size + len(labels)


def create_or_replay_run(
    *, request: RunRequest, actor: User | None, idempotency_key: str = ""
) -> tuple[TrainingRun, bool]:
    """A new queued run with its data snapshot frozen, sent to a worker after commit, and
    True; or, for an idempotency key already used by the same request, that run and False
    (another request under the key is a Conflict)."""
    run = _build_run(request=request, actor=actor, idempotency_key=idempotency_key)
    existing = _run_with_key(idempotency_key)
    if existing is not None:
        return _replayed(existing, run), False
    _freeze(run)
    try:
        with transaction.atomic():
            run.save()
            _record_run_created(run, actor)
    except IntegrityError:
        existing = _run_with_key(idempotency_key)
        if existing is None:
            raise
        return _replayed(existing, run), False
    # robust: if the broker is down the row stays queued and the reconciler sends it later.
    dispatch.send_run_on_commit(run_id=run.pk, robust=True)
    return run, True


def _record_run_created(run: TrainingRun, actor: User | None) -> None:
    """Who started the run, on what; a schedule's or a chain's run says so in its key."""
    record_audit_event(
        actor=actor,
        action="training_run.create",
        target=run,
        details={
            "kind": run.kind,
            "idempotency_key": run.idempotency_key,
            "base": run.base,
            "campaign": run.campaign.name if run.campaign else None,
            "schedule_id": run.schedule_id,
            "snapshot_size": run.snapshot_size,
            "hyperparameters": run.config,
        },
    )


def create_run(
    *, request: RunRequest, actor: User | None, idempotency_key: str = ""
) -> TrainingRun:
    """create_or_replay_run without saying whether the run is new."""
    return create_or_replay_run(request=request, actor=actor, idempotency_key=idempotency_key)[0]


def _run_with_key(idempotency_key: str) -> TrainingRun | None:
    if not idempotency_key:
        return None
    return TrainingRun.objects.filter(idempotency_key=idempotency_key).first()


def cancel_run(*, run: TrainingRun, actor: User | None = None) -> TrainingRun:
    """A queued run is cancelled at once; a running one is marked for its worker to stop;
    a finished one is a Conflict. Conditional updates, so a worker's claim cannot interleave."""
    with transaction.atomic():
        queued = TrainingRun.objects.filter(pk=run.pk, status=RunStatus.QUEUED)
        was = RunStatus.QUEUED
        if not queued.update(
            status=RunStatus.CANCELLED, cancel_requested=True, finished_at=timezone.now()
        ):
            was = RunStatus.RUNNING
            running = TrainingRun.objects.filter(pk=run.pk, status=RunStatus.RUNNING)
            if not running.update(cancel_requested=True):
                raise Conflict(f"Run {run.pk} has already finished.", code="run_finished")
        elif run.attempts:  # a re-queued run's last job may still run on the Ray cluster
            transaction.on_commit(partial(stop_run_jobs, run.pk, run.created_at, run.attempts))
        run.refresh_from_db()
        record_audit_event(
            actor=actor, action="training_run.cancel", target=run, details={"was": was}
        )
    return run


# Schedules ----------------------------------------------------------------------------------

SCHEDULE_FIELDS = (
    "enabled",
    "every_n_judgments",
    "cron",
    "policy_kind",
    "generate_prompts",
    "responses_per_prompt",
    "dataset",
    "hyperparameters",
    "check_reward_version",
    "arena_campaign",
    "gate_max_comparisons",
)


def _schedule_hyperparameters(schedule: TrainingSchedule) -> dict[str, list[str]]:
    errors: dict[str, list[str]] = {}
    for kind, overrides in (schedule.hyperparameters or {}).items():
        if kind not in (RunKind.REWARD, schedule.policy_kind, RunKind.GENERATE, RunKind.ARENA):
            errors[kind] = ["The schedule starts no run of this kind."]
            continue
        try:
            resolve_hyperparameters(kind=kind, overrides=overrides)
        except InvalidInput as error:
            errors[kind] = [f"{name}: {problems[0]}" for name, problems in _flat(error).items()]
    return errors


def _flat(error: InvalidInput) -> dict[str, list[str]]:
    errors = error.errors if isinstance(error.errors, dict) else {}
    inner = errors.get("hyperparameters", {})
    return inner if isinstance(inner, dict) else {}


def _validate_schedule(schedule: TrainingSchedule) -> None:
    errors: dict[str, Any] = {}
    if schedule.cron:
        try:
            parse_cron(schedule.cron)
        except InvalidInput as error:
            errors["cron"] = [error.detail]
    if schedule.every_n_judgments is None and not schedule.cron:
        errors["every_n_judgments"] = ["Give every_n_judgments, a cron, or both."]
    _check_version(errors, "check_reward_version_id", schedule.check_reward_version, _REWARD)
    if schedule.arena_campaign is not None and not schedule.arena_campaign.is_arena:
        errors["arena_campaign_id"] = ["The promotion gate needs an arena campaign."]
    if schedule.arena_campaign is not None and schedule.gate_max_comparisons < GATE_MIN:
        errors["gate_max_comparisons"] = [f"A gate needs at least {GATE_MIN} comparisons."]
    if schedule.campaign.is_arena:
        errors["campaign_id"] = ["An arena is not trained on: schedule its ranking campaign."]
    if not isinstance(schedule.hyperparameters, dict):
        errors["hyperparameters"] = ["Must be an object of overrides per run kind."]
    elif problems := _schedule_hyperparameters(schedule):
        errors["hyperparameters"] = problems
    if errors:
        raise InvalidInput(
            "The schedule has invalid fields.", code="invalid_schedule", errors=errors
        )
    schedule.dataset = normalize_dataset(dataset=schedule.dataset, campaign=schedule.campaign)
    try:
        schedule.full_clean(exclude=["campaign"])
    except ValidationError as error:
        raise InvalidInput(
            "The schedule has invalid fields.", code="invalid_schedule", errors=error.message_dict
        ) from None


def _record_schedule(
    schedule: TrainingSchedule, actor: User | None, action: str, fields: Mapping[str, Any]
) -> None:
    record_audit_event(
        actor=actor,
        action=action,
        target=schedule,
        details={"campaign": schedule.campaign.name, "fields": sorted(fields)},
    )


def create_schedule(
    *, campaign: Campaign, values: Mapping[str, Any], actor: User | None = None
) -> TrainingSchedule:
    """The campaign's one schedule, validated, audited; it counts judgments from now on. A
    second schedule for the campaign is a Conflict."""
    if TrainingSchedule.objects.filter(campaign=campaign).exists():
        raise Conflict(f"Campaign {campaign.pk} already has a schedule.", code="schedule_exists")
    schedule = TrainingSchedule(campaign=campaign, **_known(values))
    _validate_schedule(schedule)
    schedule.judgments_at_last_fire = count_campaign_judgments(campaign_id=campaign.pk)
    try:
        with transaction.atomic():
            schedule.save()
            _record_schedule(schedule, actor, "training_schedule.create", values)
    except IntegrityError:
        raise Conflict(
            f"Campaign {campaign.pk} already has a schedule.", code="schedule_exists"
        ) from None
    return schedule


def update_schedule(
    *, schedule: TrainingSchedule, changes: Mapping[str, Any], actor: User | None = None
) -> TrainingSchedule:
    """The schedule with `changes` applied, validated as a whole, audited."""
    for name, value in _known(changes).items():
        setattr(schedule, name, value)
    _validate_schedule(schedule)
    with transaction.atomic():
        schedule.save()
        _record_schedule(schedule, actor, "training_schedule.update", changes)
    return schedule


def delete_schedule(*, schedule: TrainingSchedule, actor: User | None = None) -> None:
    """Removes the schedule, audited; the runs it started stay, no longer linked to it."""
    with transaction.atomic():
        _record_schedule(schedule, actor, "training_schedule.delete", {})
        schedule.delete()


def _known(values: Mapping[str, Any]) -> dict[str, Any]:
    unknown = sorted(set(values) - set(SCHEDULE_FIELDS))
    if unknown:
        raise InvalidInput(
            "Unknown schedule fields.", errors={name: ["Unknown field."] for name in unknown}
        )
    return dict(values)


def judgments_since_last_fire(schedule: TrainingSchedule) -> int:
    total = count_campaign_judgments(campaign_id=schedule.campaign_id)
    return max(total - schedule.judgments_at_last_fire, 0)


def _is_busy(schedule: TrainingSchedule) -> bool:
    """A chain the schedule started is still queued or running, or its policy still waits on
    its promotion gate: the next fire waits for it."""
    if schedule.runs.filter(status__in=(RunStatus.QUEUED, RunStatus.RUNNING)).exists():
        return True
    return ModelVersion.objects.filter(produced_by__schedule=schedule, promotion="pending").exists()


def _is_due(schedule: TrainingSchedule, *, judgments: int, now: datetime) -> bool:
    every = schedule.every_n_judgments
    by_count = every is not None and judgments - schedule.judgments_at_last_fire >= every
    since = schedule.last_fired_at or schedule.created_at
    return (by_count or cron_due(schedule.cron, since=since, now=now)) and not _is_busy(schedule)


def _fire(schedule: TrainingSchedule, *, judgments: int, now: datetime) -> TrainingRun | None:
    """Moves the watermark with a conditional update (so of two beats only one fires) and
    starts the reward run of the chain."""
    with transaction.atomic():
        claimed = TrainingSchedule.objects.filter(
            pk=schedule.pk,
            judgments_at_last_fire=schedule.judgments_at_last_fire,
            last_fired_at=schedule.last_fired_at,
        ).update(judgments_at_last_fire=judgments, last_fired_at=now)
        if not claimed:
            return None
        request = RunRequest(
            kind=RunKind.REWARD,
            campaign=schedule.campaign,
            dataset=schedule.dataset,
            hyperparameters=schedule.hyperparameters.get(RunKind.REWARD, {}),
            schedule=schedule,
            # With a promotion gate, the chain stops at the arena: the gate's decision starts
            # the generation (training/promotion.py).
            follow_up=(
                schedule.policy_kind,
                RunKind.ARENA.value if schedule.arena_campaign_id else RunKind.GENERATE.value,
            ),
        )
        key = f"schedule-{schedule.pk}-{judgments}-{now:%Y%m%dT%H%M%S}"
        try:
            return create_run(request=request, actor=None, idempotency_key=key)
        except ServiceError as error:
            # The watermark still moves: a schedule whose data is empty must not retry every beat.
            logger.warning("Schedule %s fired but started no run: %s", schedule.pk, error.detail)
            return None


def fire_due_schedules(*, now: datetime) -> list[TrainingRun]:
    """A reward run (chained to PPO or DPO, then generation) for every enabled schedule that
    is due: N new judgments since its last fire, or its cron time passed. Each fire happens
    once however many beats run at the same time."""
    fired = []
    for schedule in TrainingSchedule.objects.filter(enabled=True).select_related("campaign"):
        judgments = count_campaign_judgments(campaign_id=schedule.campaign_id)
        if _is_due(schedule, judgments=judgments, now=now):
            run = _fire(schedule, judgments=judgments, now=now)
            if run is not None:
                fired.append(run)
    return fired
