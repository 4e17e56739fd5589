"""Submitting a judgment: validated against what was shown, stored with its preference pairs
in one transaction, idempotent per rater key, and never dropped for arriving late."""

from __future__ import annotations

from dataclasses import dataclass, field

from django.contrib.auth.models import User
from django.db import IntegrityError, connection, transaction
from django.db.models import F
from django.utils import timezone

from annotation.models import (
    FLAG_CHOICES,
    RESPONSE_FLAG_CHOICES,
    STRENGTH_MARGIN,
    Assignment,
    AssignmentStatus,
    Judgment,
    JudgmentMode,
    Preference,
    RankingTask,
    RaterStatus,
    Strength,
)
from annotation.ranking import RankingError, implied_pairs, labels_for, parse_tiers
from annotation.services.arena import top_up_arena_after_commit
from annotation.services.gold import apply_pause_rule
from common.errors import Conflict, InvalidInput, NotAllowed, NotFound

MAX_CLIENT_TIME_MS = 24 * 3600 * 1000


@dataclass(frozen=True)
class Submission:
    """What a rater sends for one assignment."""

    ranking: object
    idempotency_key: str
    strength: str = ""
    flags: list[str] = field(default_factory=list)
    # Flags on single responses, by the label the rater saw ("A": ["unsafe"]).
    response_flags: dict[str, list[str]] = field(default_factory=dict)
    rationale: str = ""
    client_time_ms: int | None = None


@dataclass(frozen=True)
class SubmitResult:
    judgment: Judgment
    replayed: bool


def _position_tiers(assignment: Assignment, ranking: object) -> list[list[int]]:
    labels = labels_for(len(assignment.display_order))
    try:
        return parse_tiers(ranking, labels)
    except RankingError as error:
        raise InvalidInput(error.detail, code=error.code) from error


def _check_strength(mode: str, tiers: list[list[int]], strength: str) -> None:
    if mode != JudgmentMode.PAIRWISE:
        if strength:
            raise InvalidInput(
                "Strength is only for pairwise campaigns.", code="strength_unexpected"
            )
        return
    if strength not in Strength.values:
        raise InvalidInput(
            f"Pairwise judgments need a strength: one of {', '.join(Strength.values)}.",
            code="strength_required",
        )
    is_tie = len(tiers) == 1
    if is_tie != (strength == Strength.ABOUT_SAME):
        raise InvalidInput(
            "A tie must have strength about_same, and about_same must be a tie.",
            code="strength_mismatch",
        )


def _check_extras(submission: Submission) -> None:
    unknown = [flag for flag in submission.flags if flag not in FLAG_CHOICES]
    if unknown:
        raise InvalidInput(f"Unknown flags: {', '.join(map(str, unknown))}.", code="unknown_flag")
    for label, names in submission.response_flags.items():
        unknown = [flag for flag in names if flag not in RESPONSE_FLAG_CHOICES]
        if unknown:
            raise InvalidInput(
                f"Unknown flags on response {label}: {', '.join(map(str, unknown))}; "
                f"a response may be flagged {', '.join(RESPONSE_FLAG_CHOICES)}.",
                code="unknown_flag",
            )
    client_ms = submission.client_time_ms
    if client_ms is not None and not 0 <= client_ms <= MAX_CLIENT_TIME_MS:
        raise InvalidInput("client_time_ms must be between 0 and one day.", code="bad_client_time")


@dataclass(frozen=True)
class _Locked:
    """The locked assignment, with what submitting needs from its campaign and rater."""

    assignment: Assignment
    judgment_mode: str
    rater_status: str | None
    is_gold: bool
    arena_id: int | None  # the task's campaign when it is an arena


def _lock(rater: User, assignment_id: int) -> _Locked:
    row = (
        Assignment.objects.select_for_update(of=("self",))
        .filter(pk=assignment_id, rater=rater)
        .annotate(
            mode=F("task__campaign__judgment_mode"),
            rater_status=F("rater__rater_profile__status"),
            is_gold=F("task__is_gold"),
            is_arena=F("task__campaign__is_arena"),
            campaign_id=F("task__campaign_id"),
        )
        .first()
    )
    if row is None:
        raise NotFound("No such assignment.", code="assignment_not_found")
    arena_id = row.campaign_id if row.is_arena else None
    return _Locked(row, row.mode, row.rater_status, row.is_gold, arena_id)


def _replay(assignment: Assignment, key: str) -> Judgment:
    """A submitted assignment: the same key is a replay, another key a second submission."""
    previous = Judgment.objects.get(assignment=assignment)
    if previous.idempotency_key != key:
        raise Conflict("This task was already submitted.", code="already_submitted")
    return previous


def _response_flags(assignment: Assignment, by_label: dict[str, list[str]]) -> dict[str, list[str]]:
    """The rater's per-response flags keyed by response id (as text), empty lists left out."""
    labels = labels_for(len(assignment.display_order))
    unknown = sorted(label for label in by_label if label not in labels)
    if unknown:
        raise InvalidInput(
            f"Flags name responses this task does not have: {', '.join(unknown)}; "
            f"its responses are {', '.join(labels)}.",
            code="unknown_response_label",
        )
    order = assignment.display_order
    return {
        str(order[labels.index(label)]): sorted(set(names))
        for label, names in sorted(by_label.items())
        if names
    }


def _check_submittable(locked: _Locked) -> None:
    if locked.assignment.status == AssignmentStatus.SKIPPED:
        raise Conflict("This task was skipped.", code="assignment_skipped")
    if locked.rater_status == RaterStatus.PAUSED:
        raise NotAllowed("Your account is paused; ask an admin.", code="rater_paused")


def _write_preferences(
    judgment: Judgment, assignment: Assignment, tiers: list[list[int]], mode: str, strength: str
) -> None:
    order = assignment.display_order
    preferences = []
    for pair in implied_pairs(tiers):
        margin = (
            STRENGTH_MARGIN[Strength(strength)]
            if mode == JudgmentMode.PAIRWISE
            else float(pair.tier_gap)
        )
        preferences.append(
            Preference(
                judgment=judgment,
                task_id=assignment.task_id,
                chosen_id=order[pair.better],
                rejected_id=order[pair.worse],
                is_tie=pair.is_tie,
                margin=0.0 if pair.is_tie else margin,
                chosen_shown_first=pair.better < pair.worse,
            )
        )
    Preference.objects.bulk_create(preferences)


_COUNT_SQL = """
UPDATE {task} SET submitted_count = submitted_count + 1,
  status = CASE WHEN submitted_count + 1 >= required_judgments THEN 'complete' ELSE status END
WHERE id = %s AND submitted_count < required_judgments
"""


def _count_towards_task(task_id: int) -> bool:
    """Count this judgment if the task is not full (one conditional UPDATE, which holds the
    task's row lock until commit, so counts are exact); False means surplus."""
    with connection.cursor() as cursor:
        cursor.execute(_COUNT_SQL.format(task=RankingTask._meta.db_table), [task_id])
        return bool(cursor.rowcount == 1)


def _key_used_elsewhere(rater: User, assignment_id: int, key: str) -> bool:
    return (
        Judgment.objects.filter(rater=rater, idempotency_key=key)
        .exclude(assignment_id=assignment_id)
        .exists()
    )


def submit_judgment(*, rater: User, assignment_id: int, submission: Submission) -> SubmitResult:
    """Store the judgment and its preferences atomically. A retry with the same key returns
    the first result and writes nothing; a late submission is kept (surplus if the task
    is full)."""
    _check_extras(submission)
    try:
        with transaction.atomic():
            locked = _lock(rater, assignment_id)
            if locked.assignment.status == AssignmentStatus.SUBMITTED:
                return SubmitResult(_replay(locked.assignment, submission.idempotency_key), True)
            return SubmitResult(_store(rater, locked, submission), replayed=False)
    except IntegrityError as error:
        # The whole transaction rolled back; say which rule the database enforced.
        if _key_used_elsewhere(rater, assignment_id, submission.idempotency_key):
            raise Conflict(
                "This idempotency key was already used for another task.",
                code="idempotency_key_reused",
            ) from error
        raise Conflict(
            "This submission conflicts with one already stored.", code="duplicate_submission"
        ) from error


def _store(rater: User, locked: _Locked, submission: Submission) -> Judgment:
    _check_submittable(locked)
    assignment, mode = locked.assignment, locked.judgment_mode
    tiers = _position_tiers(assignment, submission.ranking)
    _check_strength(mode, tiers, submission.strength)
    response_flags = _response_flags(assignment, submission.response_flags)
    now = timezone.now()
    was_late = not assignment.is_live(now)
    # Gold tasks never fill and repeats are a second look: neither counts towards the task.
    counted = (
        True if assignment.is_repeat or locked.is_gold else _count_towards_task(assignment.task_id)
    )
    order = assignment.display_order
    judgment = Judgment.objects.create(
        assignment=assignment,
        task_id=assignment.task_id,
        rater=rater,
        ranking=[[order[position] for position in tier] for tier in tiers],
        strength=submission.strength,
        flags=sorted(set(submission.flags)),
        response_flags=response_flags,
        rationale=submission.rationale,
        idempotency_key=submission.idempotency_key,
        is_surplus=not counted,
        was_late=was_late,
        server_time_ms=int((now - assignment.leased_at).total_seconds() * 1000),
        client_time_ms=submission.client_time_ms,
        submitted_at=now,
        is_repeat=assignment.is_repeat,
    )
    if not assignment.is_repeat:  # a repeat is measured against the first look, not trained on
        _write_preferences(judgment, assignment, tiers, mode, submission.strength)
    Assignment.objects.filter(pk=assignment.pk).update(
        status=AssignmentStatus.SUBMITTED, finished_at=now
    )
    if locked.is_gold and not assignment.is_repeat:
        apply_pause_rule(rater=rater, task_id=assignment.task_id)
    if locked.arena_id is not None:  # the arena's next task, chosen with this outcome in
        top_up_arena_after_commit(locked.arena_id)
    return judgment
