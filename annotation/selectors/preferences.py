"""Which preferences match a `PreferenceFilter`, and their rows with texts for export.

Rater quality (`PreferenceFilter.min_rater_quality`) is a rater's leave-one-out agreement in
the campaign the preference belongs to, as the quality report computes it: the share of the
rater's regular (non-gold) pairs on which they agree with the majority of the other raters of
that pair, pairs without a majority left out. A rater the report has no figure for (nobody
else judged the same pairs, or only imported judgments) does not meet any minimum.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from django.db.models import Q, QuerySet

from annotation.models import Campaign, Preference, RaterStatus
from annotation.selectors.safety import HAS_UNSAFE, UnsafeTreatment, treat_rows

ALL_BAD = "all_bad"  # the judgment flag (annotation.models.FLAG_CHOICES)


@dataclass(frozen=True)
class PreferenceFilter:
    campaign_ids: tuple[int, ...] = ()
    since: datetime | None = None  # judgments submitted at or after
    until: datetime | None = None  # judgments submitted before
    rater_ids: tuple[int, ...] = ()
    pool_ids: tuple[int, ...] = ()
    include_ties: bool = False
    # See the module docstring; None: no minimum.
    min_rater_quality: float | None = None
    exclude_paused: bool = False
    exclude_gold: bool = False
    exclude_repeats: bool = False
    # Judgments flagged "all responses are bad": their ranking orders answers the rater
    # rejected as a whole, so it says nothing about which is good.
    exclude_all_bad: bool = False
    # What a response flagged unsafe does to its judgment's pairs (annotation.selectors.safety).
    unsafe: UnsafeTreatment = "ignore"


@dataclass(frozen=True)
class PreferenceRow:
    preference_id: int
    judgment_id: int
    task_id: int
    campaign_id: int
    rater_id: int
    conversation: list[dict[str, str]]
    chosen: str
    rejected: str
    margin: float
    is_tie: bool
    source: str
    submitted_at: datetime
    # The judgment's flags and rationale (none for a consensus pair, which has no one judgment).
    flags: Sequence[str] = ()
    rationale: str = ""
    # The judgment's flags on single responses (response id as text -> names), and the ids of
    # the two sides, which they refer to.
    response_flags: Mapping[str, Sequence[str]] = field(default_factory=dict)
    chosen_id: int = 0
    rejected_id: int = 0

    @property
    def chosen_flags(self) -> list[str]:
        return list(self.response_flags.get(str(self.chosen_id), ()))

    @property
    def rejected_flags(self) -> list[str]:
        return list(self.response_flags.get(str(self.rejected_id), ()))


def preferences_matching(filters: PreferenceFilter) -> QuerySet[Preference]:
    queryset = Preference.objects.all()
    if not filters.include_ties:
        keep = Q(is_tie=False)
        if filters.unsafe in ("below", "safety"):
            keep |= HAS_UNSAFE  # a tie beside an unsafe response may become a preference
        queryset = queryset.filter(keep)
    if filters.unsafe == "safety":
        queryset = queryset.filter(HAS_UNSAFE)
    if filters.campaign_ids:
        queryset = queryset.filter(task__campaign_id__in=filters.campaign_ids)
    if filters.since:
        queryset = queryset.filter(judgment__submitted_at__gte=filters.since)
    if filters.until:
        queryset = queryset.filter(judgment__submitted_at__lt=filters.until)
    if filters.rater_ids:
        queryset = queryset.filter(judgment__rater_id__in=filters.rater_ids)
    if filters.pool_ids:
        queryset = queryset.filter(judgment__rater__rater_pools__in=filters.pool_ids).distinct()
    if filters.exclude_paused:
        queryset = queryset.exclude(judgment__rater__rater_profile__status=RaterStatus.PAUSED)
    if filters.exclude_gold:
        queryset = queryset.filter(task__is_gold=False)
    if filters.exclude_repeats:
        queryset = queryset.filter(judgment__is_repeat=False)
    if filters.exclude_all_bad:
        # flags is a JSON list of names; its text holds the quoted name (every backend)
        queryset = queryset.exclude(judgment__flags__icontains=f'"{ALL_BAD}"')
    if filters.min_rater_quality is not None:
        queryset = queryset.filter(_quality_condition(queryset, filters.min_rater_quality))
    return queryset.order_by("id")


def raters_meeting_quality(*, campaign_id: int, minimum: float) -> set[int]:
    """Ids of the raters whose leave-one-out agreement in the campaign is at least `minimum`
    (from the cached quality report)."""
    from annotation.selectors.quality import campaign_quality_report

    report = campaign_quality_report(campaign=Campaign.objects.get(pk=campaign_id))
    return {
        row.rater_id
        for row in report.rater_rows
        if row.loo_agreement.value is not None and row.loo_agreement.value >= minimum
    }


def _quality_condition(queryset: QuerySet[Preference], minimum: float) -> Q:
    campaign_ids = set(queryset.values_list("task__campaign_id", flat=True).distinct())
    condition = Q(pk__in=[])
    for campaign_id in sorted(campaign_ids):
        raters = raters_meeting_quality(campaign_id=campaign_id, minimum=minimum)
        condition |= Q(task__campaign_id=campaign_id, judgment__rater_id__in=raters)
    return condition


# PreferenceRow's fields, in order, as ORM paths.
ROW_COLUMNS = (
    "id",
    "judgment_id",
    "task_id",
    "task__campaign_id",
    "judgment__rater_id",
    "task__prompt__conversation",
    "chosen__text",
    "rejected__text",
    "margin",
    "is_tie",
    "judgment__source",
    "judgment__submitted_at",
    "judgment__flags",
    "judgment__rationale",
    "judgment__response_flags",
    "chosen_id",
    "rejected_id",
)


def treated_rows(
    rows: Iterator[PreferenceRow], *, unsafe: UnsafeTreatment, include_ties: bool
) -> Iterator[PreferenceRow]:
    """Rows after the unsafe treatment, ties left out unless asked for."""
    for row in treat_rows(rows, unsafe):
        if include_ties or not row.is_tie:
            yield row


def iter_preference_rows(
    filters: PreferenceFilter, chunk_size: int = 2000
) -> Iterator[PreferenceRow]:
    """Stream matching preference pairs with their texts, oldest first, in bounded memory,
    after the filter's unsafe treatment."""
    rows = preferences_matching(filters).values_list(*ROW_COLUMNS)
    stored = (PreferenceRow(*values) for values in rows.iterator(chunk_size))
    yield from treated_rows(stored, unsafe=filters.unsafe, include_ties=filters.include_ties)
