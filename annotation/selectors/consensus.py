"""Consensus pairs: per task, a Bradley-Terry fit over its judgments, then one row per pair
of responses in different consensus tiers."""

from __future__ import annotations

import math
from collections.abc import Iterator, Sequence
from dataclasses import replace
from datetime import datetime

from annotation.models import RankingTask, Response
from annotation.selectors.preferences import PreferenceFilter, PreferenceRow, preferences_matching
from annotation.selectors.safety import treat_fit_rows


def iter_consensus_rows(
    filters: PreferenceFilter, tasks_per_chunk: int = 2000
) -> Iterator[PreferenceRow]:
    """Consensus pairs instead of every judgment: per task, a Bradley-Terry fit over all the
    matching judgments (ties included), then one row per pair of responses in different
    consensus tiers, the better one as chosen. `margin` is the fitted log-odds; rater and
    judgment ids are 0 and `source` is "consensus". The filter's unsafe treatment applies to
    each judgment's pairs before the fit."""
    matching = preferences_matching(replace(filters, include_ties=True))
    task_ids = list(matching.order_by("task_id").values_list("task_id", flat=True).distinct())
    for start in range(0, len(task_ids), tasks_per_chunk):
        chunk = task_ids[start : start + tasks_per_chunk]
        stored = matching.filter(task_id__in=chunk).values_list(*BT_FLAG_COLUMNS)
        yield from consensus_rows_of(treat_fit_rows(stored, filters.unsafe))


# What a Bradley-Terry fit needs of each preference, and the judgment's response flags, which
# the unsafe treatment reads (annotation.selectors.safety.treat_fit_rows).
BT_COLUMNS = ("task_id", "chosen_id", "rejected_id", "is_tie", "judgment__submitted_at")
BT_FLAG_COLUMNS = (*BT_COLUMNS, "judgment__response_flags")
BTRow = tuple[int, int, int, bool, datetime]


def consensus_rows_of(rows: Sequence[BTRow]) -> Iterator[PreferenceRow]:
    """Consensus pairs of the tasks in `rows`, which must hold every preference of each task
    that is to count."""
    from annotation.quality.consensus import bradley_terry, consensus_pairs

    if not rows:
        return
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
