"""Leases: claiming the next task, skipping, expiring. The overlap cap and the claim are one
atomic decision, made under the task's row lock (SELECT ... FOR UPDATE SKIP LOCKED)."""

from __future__ import annotations

import json
import random
from datetime import datetime, timedelta
from typing import Any

from django.contrib.auth.models import User
from django.db import connection, transaction
from django.db.models import Exists, OuterRef
from django.utils import timezone

from annotation.models import (
    Assignment,
    AssignmentStatus,
    Campaign,
    CampaignStatus,
    Prompt,
    RankingTask,
    RaterProfile,
    RaterStatus,
    TaskStatus,
)
from annotation.selectors.assignments import live_leases
from annotation.services.profiles import ensure_profile
from common.errors import Conflict, NotAllowed, NotFound

# How many locked-but-full candidates to step over before giving up; a candidate is only
# full here when a concurrent claim filled it between the scan and the lock.
MAX_CLAIM_ATTEMPTS = 8
_shuffler = random.SystemRandom()


def _lock_rater(rater: User) -> None:
    """Lock the rater's profile: one rater's claims and a pause are serialized."""
    locked = RaterProfile.objects.select_for_update().filter(user=rater).values_list("status")
    status = locked.first() or locked.filter(pk=ensure_profile(rater).pk).first()
    if status is not None and status[0] == RaterStatus.PAUSED:
        raise NotAllowed("Your account is paused; ask an admin.", code="rater_paused")


def _allowed_campaigns(rater: User) -> dict[int, Campaign]:
    """The active campaigns the rater's pools allow, by id."""
    campaigns = (
        Campaign.objects.filter(pools__members=rater, status=CampaignStatus.ACTIVE)
        .distinct()
        .order_by("id")
    )
    return {campaign.pk: campaign for campaign in campaigns}


def _own_live_lease(rater: User, now: datetime, allowed: list[int]) -> Assignment | None:
    return (
        live_leases(now)
        .filter(rater=rater, task__campaign_id__in=allowed)  # withdrawn campaigns are not offered
        .select_related("task__campaign", "task__prompt")
        .order_by("leased_at")
        .first()
    )


def _tables() -> dict[str, str]:
    return {"task": RankingTask._meta.db_table, "assignment": Assignment._meta.db_table}


# The first open task of one campaign, never seen by this rater, whose submitted judgments plus
# live leases are below the overlap; locked, skipping locked rows. One campaign per query, so
# the walk follows the open_task_by_campaign index in id order and stops at the first match
# whatever the planner's statistics say (a query over all the rater's campaigns at once was
# planned as a scan of every open task, and became seconds per claim inside one long
# transaction whose rows the statistics had not seen). Plain SQL: building it with the ORM
# cost more than running it (profiled).
_CANDIDATE_SQL = """
SELECT t.id, t.response_ids, t.submitted_count, t.required_judgments, t.prompt_id
FROM {task} t
WHERE t.campaign_id = %s AND t.status = 'open' AND NOT t.is_gold
  AND t.submitted_count < t.required_judgments
  AND NOT EXISTS (
    SELECT 1 FROM {assignment} mine
    WHERE mine.task_id = t.id AND mine.rater_id = %s AND NOT mine.is_repeat)
  AND t.submitted_count + (
    SELECT COUNT(*) FROM {assignment} live
    WHERE live.task_id = t.id AND live.status = 'leased' AND live.expires_at > %s
  ) < t.required_judgments
  {skip}
ORDER BY t.id
LIMIT 1
{lock}
"""
_LIVE_COUNT_SQL = """
SELECT COUNT(*) FROM {assignment}
WHERE task_id = %s AND status = 'leased' AND expires_at > %s
"""


def _json(value: object) -> Any:
    return json.loads(value) if isinstance(value, str) else value


def _first_open_task(
    campaign_id: int, rater: User, now: Any, skip_ids: list[int], *, lock: bool
) -> tuple[Any, ...] | None:
    """The campaign's first candidate row; with `lock`, the first one nobody else holds,
    locked until the claim commits."""
    skip = f"AND t.id NOT IN ({', '.join(['%s'] * len(skip_ids))})" if skip_ids else ""
    locking = lock and connection.features.has_select_for_update_skip_locked
    sql = _CANDIDATE_SQL.format(
        skip=skip, lock="FOR UPDATE OF t SKIP LOCKED" if locking else "", **_tables()
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [campaign_id, rater.pk, now, *skip_ids])
        row: tuple[Any, ...] | None = cursor.fetchone()
    return row


def _by_oldest_candidate(
    rater: User, allowed: dict[int, Campaign], now: Any, skip_ids: list[int]
) -> list[Campaign]:
    """The rater's campaigns that have a candidate, the one with the oldest first (looked at
    without locking: only the row finally taken is locked, so no other rater is kept from a
    task this claim passes over). One campaign needs no look."""
    if len(allowed) == 1:
        return list(allowed.values())
    firsts = [
        (row[0], campaign)
        for campaign in allowed.values()
        if (row := _first_open_task(campaign.pk, rater, now, skip_ids, lock=False)) is not None
    ]
    return [campaign for _, campaign in sorted(firsts, key=lambda first: first[0])]


def _lock_candidate(
    rater: User, allowed: dict[int, Campaign], now: Any, skip_ids: list[int]
) -> RankingTask | None:
    """Lock the next candidate task: in the campaign whose oldest candidate is the oldest, the
    first one no concurrent claim holds (else the next campaign's); it comes with its campaign
    and prompt attached."""
    for campaign in _by_oldest_candidate(rater, allowed, now, skip_ids):
        row = _first_open_task(campaign.pk, rater, now, skip_ids, lock=True)
        if row is not None:
            break
    else:
        return None
    task_id, response_ids, submitted, required, prompt_id = row
    task = RankingTask(
        id=task_id,
        campaign_id=campaign.pk,
        prompt_id=prompt_id,
        response_ids=_json(response_ids),
        submitted_count=submitted,
        required_judgments=required,
        status=TaskStatus.OPEN,
    )
    task.campaign = campaign
    task.prompt = Prompt.objects.only("id", "conversation", "campaign_id").get(pk=prompt_id)
    return task


def _has_free_slot(task: RankingTask, now: Any) -> bool:
    # A new statement, so under READ COMMITTED it sees every claim committed before our lock.
    with connection.cursor() as cursor:
        cursor.execute(_LIVE_COUNT_SQL.format(**_tables()), [task.pk, now])
        (live,) = cursor.fetchone()
    return bool(task.submitted_count + live < task.required_judgments)


def _new_assignment(
    task: RankingTask,
    rater: User,
    now: datetime,
    *,
    order: list[int] | None = None,
    is_repeat: bool = False,
) -> Assignment:
    if order is None:
        order = list(task.response_ids)
        _shuffler.shuffle(order)
    return Assignment.objects.create(
        task=task,
        rater=rater,
        display_order=order,
        leased_at=now,
        expires_at=now + timedelta(seconds=task.campaign.lease_ttl_s),
        is_repeat=is_repeat,
    )


def _gold_due(campaign: Campaign, rater: User) -> bool:
    """Onboarding first (a new rater's first N tasks are gold), then the campaign's rate."""
    if campaign.onboarding_gold:
        mine = Assignment.objects.filter(
            rater=rater, task__campaign=campaign, is_repeat=False
        ).exclude(status=AssignmentStatus.SKIPPED)
        gold = mine.filter(task__is_gold=True).count()
        if gold < campaign.onboarding_gold and gold == mine.count():
            return True
    return _shuffler.random() < campaign.gold_rate


def _gold_task(campaign: Campaign, rater: User) -> RankingTask | None:
    """A random gold task of the campaign this rater has not seen. Gold tasks never fill, so
    no row lock is needed; the rater's profile lock serializes their own claims."""
    task = (
        RankingTask.objects.filter(campaign=campaign, is_gold=True)
        .exclude(assignments__rater=rater)
        .select_related("prompt")
        .order_by("?")
        .first()
    )
    if task is not None:
        task.campaign = campaign
    return task


def _repeat_of(campaign: Campaign, rater: User) -> Assignment | None:
    """A random task the rater judged in this campaign and was not yet shown again."""
    return (
        Assignment.objects.filter(
            rater=rater,
            task__campaign=campaign,
            task__is_gold=False,
            status=AssignmentStatus.SUBMITTED,
            is_repeat=False,
        )
        .exclude(
            Exists(Assignment.objects.filter(task=OuterRef("task"), rater=rater, is_repeat=True))
        )
        .select_related("task__prompt")
        .order_by("?")
        .first()
    )


def _mixed_in(campaign: Campaign, rater: User, now: datetime) -> Assignment | None:
    """A gold task or a repeat in place of the regular candidate, at the campaign's rates.
    Both look to the rater like any other task."""
    if (campaign.onboarding_gold or campaign.gold_rate) and _gold_due(campaign, rater):
        gold = _gold_task(campaign, rater)
        if gold is not None:
            return _new_assignment(gold, rater, now)
    if campaign.repeat_rate and _shuffler.random() < campaign.repeat_rate:
        original = _repeat_of(campaign, rater)
        if original is not None:
            task = original.task
            task.campaign = campaign
            swapped = list(reversed(original.display_order))
            return _new_assignment(task, rater, now, order=swapped, is_repeat=True)
    return None


def claim_next_assignment(*, rater: User) -> Assignment | None:
    """The rater's own live lease if any, else a newly claimed one below the overlap cap;
    None when no task is left for them. The assignment comes with its task's campaign and
    prompt loaded."""
    with transaction.atomic():
        _lock_rater(rater)
        now = timezone.now()
        allowed = _allowed_campaigns(rater)
        own = _own_live_lease(rater, now, list(allowed))
        if own is not None:
            return own
        db_now = connection.ops.adapt_datetimefield_value(now)
        stepped_over: list[int] = []
        for _ in range(MAX_CLAIM_ATTEMPTS):
            task = _lock_candidate(rater, allowed, db_now, stepped_over)
            if task is None:
                return None
            if _has_free_slot(task, db_now):
                mixed = _mixed_in(task.campaign, rater, now)
                return mixed or _new_assignment(task, rater, now)
            stepped_over.append(task.pk)
        return None


def lock_own_assignment(*, rater: User, assignment_id: int) -> Assignment:
    """Lock one of the rater's assignments; anything else is reported as not found."""
    assignment = (
        Assignment.objects.select_for_update()
        .filter(pk=assignment_id, rater=rater)
        .select_related("task")
        .first()
    )
    if assignment is None:
        raise NotFound("No such assignment.", code="assignment_not_found")
    return assignment


def skip_assignment(*, rater: User, assignment_id: int, reason: str = "") -> Assignment:
    """Release the rater's lease; the task is never offered to them again."""
    with transaction.atomic():
        assignment = lock_own_assignment(rater=rater, assignment_id=assignment_id)
        if assignment.status == AssignmentStatus.SUBMITTED:
            raise Conflict("This task was already submitted.", code="already_submitted")
        if assignment.status == AssignmentStatus.SKIPPED:
            return assignment
        assignment.status = AssignmentStatus.SKIPPED
        assignment.skip_reason = reason[:500]
        assignment.finished_at = timezone.now()
        assignment.save(update_fields=["status", "skip_reason", "finished_at"])
        return assignment


def release_leases(*, rater: User) -> int:
    """Release every live lease of a rater (on pause); returns how many."""
    return Assignment.objects.filter(rater=rater, status=AssignmentStatus.LEASED).update(
        status=AssignmentStatus.RELEASED, finished_at=timezone.now()
    )


def expire_stale_leases(*, now: datetime | None = None) -> int:
    """Mark leases past their expiry as expired (they already stopped counting)."""
    moment = now or timezone.now()
    return Assignment.objects.filter(status=AssignmentStatus.LEASED, expires_at__lte=moment).update(
        status=AssignmentStatus.EXPIRED
    )
