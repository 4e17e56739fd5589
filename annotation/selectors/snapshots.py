"""A training run's data, frozen: `freeze_snapshot` turns a `PreferenceFilter` into the sorted
list of matching preference ids and their hash, and `iter_snapshot_rows` reads exactly those
back, either as they are or as Bradley-Terry consensus pairs, however the data changed since."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, replace
from itertools import groupby
from typing import Literal

from annotation.models import ModelLabel, Preference
from annotation.selectors.consensus import BT_FLAG_COLUMNS, BTRow, consensus_rows_of
from annotation.selectors.preferences import (
    ROW_COLUMNS,
    PreferenceFilter,
    PreferenceRow,
    preferences_matching,
    treated_rows,
)
from annotation.selectors.safety import BTFlagRow, UnsafeTreatment, treat_fit_rows

SnapshotMode = Literal["all", "consensus"]
_ID_CHUNK = 2000  # ids per IN (...) query: well under SQLite's bound-parameter limit


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
    where the Bradley-Terry fit uses them, or where the unsafe treatment may turn them into
    preferences. The treatment itself applies when the snapshot is read (iter_snapshot_rows),
    so the pairs a run trains on can be fewer than the ids frozen here."""
    matching = preferences_matching(replace(filters, include_ties=mode == "consensus"))
    ids = tuple(sorted(set(matching.values_list("id", flat=True))))
    return Snapshot(preference_ids=ids, hash=snapshot_hash(ids))


def freeze_model_labels(filters: PreferenceFilter) -> tuple[int, ...]:
    """The ids of the model labels (annotation/routing.py) in the filter's campaigns (every
    campaign when it names none) and time window, by when they were made, sorted. The
    filters about raters and judgments do not apply: a model label has neither."""
    labels = ModelLabel.objects.all()
    if filters.campaign_ids:
        labels = labels.filter(campaign_id__in=filters.campaign_ids)
    if filters.since is not None:
        labels = labels.filter(created_at__gte=filters.since)
    if filters.until is not None:
        labels = labels.filter(created_at__lt=filters.until)
    return tuple(sorted(labels.values_list("id", flat=True)))


def with_model_labels(snapshot: Snapshot, label_ids: Sequence[int]) -> str:
    """The hash of a snapshot that holds model labels too (the plain hash when none)."""
    if not label_ids:
        return snapshot.hash
    text = f"{snapshot.hash}|model:{snapshot_hash(label_ids)}"
    return hashlib.sha256(text.encode("ascii")).hexdigest()


def iter_model_label_rows(label_ids: Sequence[int]) -> Iterator[PreferenceRow]:
    """The frozen model labels that still exist, as pairs of source "model": no judgment, no
    rater, no flags and no margin (a model's reward margin is not a rater's strength)."""
    columns = ("id", "campaign_id", "prompt__conversation", "chosen__text", "rejected__text")
    for chunk in _chunks(sorted(label_ids)):
        labels = ModelLabel.objects.filter(pk__in=chunk).order_by("id")
        for values in labels.values_list(
            *columns, "source", "created_at", "chosen_id", "rejected_id"
        ):
            label_id, campaign_id, conversation, chosen, rejected, source, at, one, two = values
            yield PreferenceRow(
                preference_id=label_id,
                judgment_id=0,
                task_id=0,
                campaign_id=campaign_id,
                rater_id=0,
                conversation=conversation,
                chosen=chosen,
                rejected=rejected,
                margin=0.0,
                is_tie=False,
                source=source,
                submitted_at=at,
                chosen_id=one,
                rejected_id=two,
            )


def _chunks(ids: Sequence[int]) -> Iterator[Sequence[int]]:
    for start in range(0, len(ids), _ID_CHUNK):
        yield ids[start : start + _ID_CHUNK]


def _stored_rows(ids: Sequence[int]) -> Iterator[PreferenceRow]:
    for chunk in _chunks(ids):
        rows = Preference.objects.filter(pk__in=chunk).order_by("id")
        for values in rows.values_list(*ROW_COLUMNS):
            yield PreferenceRow(*values)


def iter_snapshot_rows(
    preference_ids: Sequence[int], *, mode: SnapshotMode, unsafe: UnsafeTreatment = "ignore"
) -> Iterator[PreferenceRow]:
    """Exactly the snapshot's preferences that still exist, after the unsafe treatment: "all"
    yields each strict pair in id order; "consensus" yields the Bradley-Terry consensus pairs
    fitted over those preferences alone."""
    ids = sorted(preference_ids)
    if mode == "all":
        yield from treated_rows(_stored_rows(ids), unsafe=unsafe, include_ties=False)
        return
    if mode != "consensus":
        raise ValueError(f"unknown snapshot mode {mode!r}")
    stored: list[BTFlagRow] = []
    for chunk in _chunks(ids):
        stored.extend(Preference.objects.filter(pk__in=chunk).values_list(*BT_FLAG_COLUMNS))
    fit_rows: list[BTRow] = treat_fit_rows(stored, unsafe)
    fit_rows.sort(key=lambda row: row[0])
    batch: list[BTRow] = []
    for _, task_rows in groupby(fit_rows, key=lambda row: row[0]):
        batch.extend(task_rows)  # a task's preferences are always fitted together
        if len(batch) >= _ID_CHUNK * 4:
            yield from consensus_rows_of(batch)
            batch = []
    if batch:
        yield from consensus_rows_of(batch)


def has_training_pairs(
    preference_ids: Sequence[int], *, mode: SnapshotMode, unsafe: UnsafeTreatment = "ignore"
) -> bool:
    """Whether reading the snapshot gives anything to train on: after the unsafe treatment a
    snapshot of ties, or of pairs the treatment drops, can be empty though its ids are not.
    (Consensus mode asks only for one strict pair left to fit: exact would mean the fit.)"""
    if not preference_ids:
        return False
    if mode == "all":
        return next(iter_snapshot_rows(preference_ids, mode="all", unsafe=unsafe), None) is not None
    if unsafe == "ignore":
        return True
    stored: list[BTFlagRow] = []
    for chunk in _chunks(sorted(preference_ids)):
        stored.extend(Preference.objects.filter(pk__in=chunk).values_list(*BT_FLAG_COLUMNS))
    return any(not is_tie for _, _, _, is_tie, _ in treat_fit_rows(stored, unsafe))
