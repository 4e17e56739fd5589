"""Reads that are reused or cross an app boundary. `training` reads annotation data only
through here, as frozen dataclasses.

Training datasets: `freeze_snapshot` turns a `PreferenceFilter` into the sorted list of
matching preference ids and their hash, and `iter_snapshot_rows` reads exactly those back,
either as they are or as Bradley-Terry consensus pairs, however the data changed since.

Rater quality (`PreferenceFilter.min_rater_quality`) is a rater's leave-one-out agreement in
the campaign the preference belongs to, as the quality report computes it: the share of the
rater's regular (non-gold) pairs on which they agree with the majority of the other raters of
that pair, pairs without a majority left out. A rater the report has no figure for (nobody
else judged the same pairs, or only imported judgments) does not meet any minimum.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from itertools import groupby
from typing import Any, Literal

from django.db.models import Q, QuerySet

from annotation.models import (
    Campaign,
    Judgment,
    Preference,
    Prompt,
    RankingTask,
    RaterStatus,
    Response,
)

SnapshotMode = Literal["all", "consensus"]
_ID_CHUNK = 2000  # ids per IN (...) query: well under SQLite's bound-parameter limit


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


def preferences_matching(filters: PreferenceFilter) -> QuerySet[Preference]:
    queryset = Preference.objects.all()
    if not filters.include_ties:
        queryset = queryset.filter(is_tie=False)
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
    if filters.min_rater_quality is not None:
        queryset = queryset.filter(_quality_condition(queryset, filters.min_rater_quality))
    return queryset.order_by("id")


def raters_meeting_quality(*, campaign_id: int, minimum: float) -> set[int]:
    """Ids of the raters whose leave-one-out agreement in the campaign is at least `minimum`
    (from the cached quality report)."""
    from annotation.services.quality import quality_report

    report = quality_report(Campaign.objects.get(pk=campaign_id))
    return {
        int(row["rater_id"])
        for row in report["rater_rows"]
        if row["loo_agreement"]["value"] is not None and row["loo_agreement"]["value"] >= minimum
    }


def _quality_condition(queryset: QuerySet[Preference], minimum: float) -> Q:
    campaign_ids = set(queryset.values_list("task__campaign_id", flat=True).distinct())
    condition = Q(pk__in=[])
    for campaign_id in sorted(campaign_ids):
        raters = raters_meeting_quality(campaign_id=campaign_id, minimum=minimum)
        condition |= Q(task__campaign_id=campaign_id, judgment__rater_id__in=raters)
    return condition


# PreferenceRow's fields, in order, as ORM paths.
_ROW_COLUMNS = (
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
)


def iter_preference_rows(
    filters: PreferenceFilter, chunk_size: int = 2000
) -> Iterator[PreferenceRow]:
    """Stream matching preference pairs with their texts, oldest first, in bounded memory."""
    rows = preferences_matching(filters).values_list(*_ROW_COLUMNS)
    for values in rows.iterator(chunk_size):
        yield PreferenceRow(*values)


def iter_consensus_rows(
    filters: PreferenceFilter, tasks_per_chunk: int = 2000
) -> Iterator[PreferenceRow]:
    """Consensus pairs instead of every judgment: per task, a Bradley-Terry fit over all the
    matching judgments (ties included), then one row per pair of responses in different
    consensus tiers, the better one as chosen. `margin` is the fitted log-odds; rater and
    judgment ids are 0 and `source` is "consensus"."""
    matching = preferences_matching(replace(filters, include_ties=True))
    task_ids = list(matching.order_by("task_id").values_list("task_id", flat=True).distinct())
    for start in range(0, len(task_ids), tasks_per_chunk):
        chunk = task_ids[start : start + tasks_per_chunk]
        yield from _consensus_rows(
            list(matching.filter(task_id__in=chunk).values_list(*_BT_COLUMNS))
        )


# What a Bradley-Terry fit needs of each preference.
_BT_COLUMNS = ("task_id", "chosen_id", "rejected_id", "is_tie", "judgment__submitted_at")
_BTRow = tuple[int, int, int, bool, datetime]


def _consensus_rows(rows: Sequence[_BTRow]) -> Iterator[PreferenceRow]:
    """Consensus pairs of the tasks in `rows`, which must hold every preference of each task
    that is to count."""
    from annotation.quality.consensus import bradley_terry, consensus_pairs

    items: dict[int, list[int]] = {}
    latest: dict[int, datetime] = {}
    for task_id, chosen, rejected, _, at in rows:
        known = items.setdefault(task_id, [])
        known.extend(r for r in (chosen, rejected) if r not in known)
        latest[task_id] = max(latest.get(task_id, at), at)
    order = list(items)
    group_of = {task_id: index for index, task_id in enumerate(order)}
    fit = bradley_terry(
        [group_of[row[0]] for row in rows],
        [items[row[0]].index(row[1]) for row in rows],
        [items[row[0]].index(row[2]) for row in rows],
        [0.5 if row[3] else 1.0 for row in rows],
        n_items_per_group=[len(items[task_id]) for task_id in order],
    )
    pairs = consensus_pairs(fit)
    response_ids = {r for ids in items.values() for r in ids}
    texts = dict(Response.objects.filter(pk__in=response_ids).values_list("id", "text"))
    tasks = {
        task_id: (campaign_id, conversation)
        for task_id, campaign_id, conversation in RankingTask.objects.filter(
            pk__in=order
        ).values_list("id", "campaign_id", "prompt__conversation")
    }
    for group, better, worse, probability in zip(
        pairs.group.tolist(),
        pairs.better.tolist(),
        pairs.worse.tolist(),
        pairs.probability.tolist(),
        strict=True,
    ):
        task_id = order[group]
        campaign_id, conversation = tasks[task_id]
        probability = min(probability, 1 - 1e-12)
        yield PreferenceRow(
            preference_id=0,
            judgment_id=0,
            task_id=task_id,
            campaign_id=campaign_id,
            rater_id=0,
            conversation=conversation,
            chosen=texts[items[task_id][better]],
            rejected=texts[items[task_id][worse]],
            margin=round(math.log(probability / (1 - probability)), 4),
            is_tie=False,
            source="consensus",
            submitted_at=latest[task_id],
        )


@dataclass(frozen=True)
class Snapshot:
    """The preferences a training run uses, frozen: sorted ids and their hash."""

    preference_ids: tuple[int, ...]
    hash: str

    @property
    def size(self) -> int:
        return len(self.preference_ids)


def snapshot_hash(preference_ids: Iterable[int]) -> str:
    """Hex sha256 of the sorted ids written in decimal and joined by commas."""
    text = ",".join(str(i) for i in sorted(preference_ids))
    return hashlib.sha256(text.encode("ascii")).hexdigest()


def freeze_snapshot(filters: PreferenceFilter, *, mode: SnapshotMode) -> Snapshot:
    """The ids of the preferences matching `filters` now; ties only count in consensus mode,
    where the Bradley-Terry fit uses them."""
    matching = preferences_matching(replace(filters, include_ties=mode == "consensus"))
    ids = tuple(sorted(set(matching.values_list("id", flat=True))))
    return Snapshot(preference_ids=ids, hash=snapshot_hash(ids))


def _chunks(ids: Sequence[int]) -> Iterator[Sequence[int]]:
    for start in range(0, len(ids), _ID_CHUNK):
        yield ids[start : start + _ID_CHUNK]


def iter_snapshot_rows(
    preference_ids: Sequence[int], *, mode: SnapshotMode
) -> Iterator[PreferenceRow]:
    """Exactly the snapshot's preferences that still exist: "all" yields each in id order;
    "consensus" yields the Bradley-Terry consensus pairs fitted over those preferences alone."""
    ids = sorted(preference_ids)
    if mode == "all":
        for chunk in _chunks(ids):
            rows = Preference.objects.filter(pk__in=chunk).order_by("id")
            for values in rows.values_list(*_ROW_COLUMNS):
                yield PreferenceRow(*values)
        return
    if mode != "consensus":
        raise ValueError(f"unknown snapshot mode {mode!r}")
    fit_rows: list[_BTRow] = []
    for chunk in _chunks(ids):
        fit_rows.extend(Preference.objects.filter(pk__in=chunk).values_list(*_BT_COLUMNS))
    fit_rows.sort(key=lambda row: row[0])
    batch: list[_BTRow] = []
    for _, task_rows in groupby(fit_rows, key=lambda row: row[0]):
        batch.extend(task_rows)  # a task's preferences are always fitted together
        if len(batch) >= _ID_CHUNK * 4:
            yield from _consensus_rows(batch)
            batch = []
    if batch:
        yield from _consensus_rows(batch)


@dataclass(frozen=True)
class AgreementFigures:
    """A campaign's human agreement on regular (non-gold) pairs: percent agreement and
    Krippendorff's ordinal alpha, with `n` the pairs rated by two or more raters."""

    percent: float | None
    alpha: float | None
    n: int


def campaign_agreement(*, campaign_id: int) -> AgreementFigures:
    """The agreement figures of the campaign's (cached) quality report."""
    from annotation.services.quality import quality_report

    agreement = quality_report(Campaign.objects.get(pk=campaign_id))["agreement"]
    percent: dict[str, Any] = agreement["percent_agreement"]
    return AgreementFigures(
        percent=percent["value"], alpha=agreement["alpha_pairwise"]["value"], n=int(percent["n"])
    )


@dataclass(frozen=True)
class PromptRow:
    prompt_id: int
    conversation: list[dict[str, str]]


def campaign_prompts(*, campaign_id: int, limit: int) -> list[PromptRow]:
    """Up to `limit` of the campaign's prompts, oldest first (the same ones each round, so
    successive policies answer the same questions)."""
    rows = Prompt.objects.filter(campaign_id=campaign_id).order_by("id")[:limit]
    return [PromptRow(*values) for values in rows.values_list("id", "conversation")]


def count_campaign_judgments(*, campaign_id: int) -> int:
    """Judgments in the campaign that can become training data: not on gold tasks, not
    repeats (a schedule's trigger counts these)."""
    return Judgment.objects.filter(
        task__campaign_id=campaign_id, task__is_gold=False, is_repeat=False
    ).count()
