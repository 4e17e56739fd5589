"""Training datasets from annotation data: each filter, the frozen snapshot and its hash, and
reading a snapshot back exactly (as pairs, or as consensus over those pairs alone)."""

from __future__ import annotations

import hashlib
from dataclasses import replace
from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone

from annotation.models import Judgment, Preference, RaterProfile, RaterStatus
from annotation.ranking import labels_for
from annotation.selectors.campaigns import (
    campaign_agreement,
    campaign_prompts,
    count_campaign_judgments,
)
from annotation.selectors.consensus import iter_consensus_rows
from annotation.selectors.preferences import (
    PreferenceFilter,
    preferences_matching,
    raters_meeting_quality,
)
from annotation.selectors.snapshots import freeze_snapshot, iter_snapshot_rows
from annotation.services.assignments import claim_next_assignment
from annotation.services.judgments import Submission, submit_judgment
from tests.factories import make_pool, make_user, setup_campaign

pytestmark = pytest.mark.django_db


def judge(rater: Any, *, prefer_first: bool) -> Judgment:
    """Claim the rater's next task and rank its canonical first response best (or last)."""
    assignment = claim_next_assignment(rater=rater)
    assert assignment is not None
    ordered = list(assignment.task.response_ids)
    if not prefer_first:
        ordered.reverse()
    labels = labels_for(len(assignment.display_order))
    ranking = [[labels[assignment.display_order.index(r)]] for r in ordered]
    return submit_judgment(
        rater=rater,
        assignment_id=assignment.pk,
        submission=Submission(ranking=ranking, idempotency_key=f"k-{assignment.pk}-000000"),
    ).judgment


def pairwise_campaign(raters: list[Any], tasks: int = 3) -> Any:
    campaign, _ = setup_campaign(raters, tasks=tasks, responses_per_task=2, overlap=len(raters))
    return campaign


def ids_of(filters: PreferenceFilter) -> list[int]:
    return list(preferences_matching(filters).values_list("id", flat=True))


def test_snapshot_is_sorted_ids_and_their_sha256() -> None:
    raters = [make_user() for _ in range(2)]
    campaign = pairwise_campaign(raters, tasks=2)
    for rater in raters:
        judge(rater, prefer_first=True)
        judge(rater, prefer_first=True)
    snapshot = freeze_snapshot(PreferenceFilter(campaign_ids=(campaign.pk,)), mode="all")
    expected = sorted(Preference.objects.values_list("id", flat=True))
    assert list(snapshot.preference_ids) == expected
    assert snapshot.size == 4
    text = ",".join(map(str, expected)).encode()
    assert snapshot.hash == hashlib.sha256(text).hexdigest()


def test_filters_campaign_dates_pools_paused_and_gold() -> None:
    raters = [make_user() for _ in range(3)]
    campaign = pairwise_campaign(raters, tasks=2)
    other = pairwise_campaign(raters, tasks=1)
    by_rater = {r.pk: [judge(r, prefer_first=True), judge(r, prefer_first=True)] for r in raters}
    judge(raters[0], prefer_first=True)  # the other campaign's task
    everything = PreferenceFilter(campaign_ids=(campaign.pk,))
    assert len(ids_of(everything)) == 6
    assert len(ids_of(PreferenceFilter(campaign_ids=(other.pk,)))) == 1

    old = by_rater[raters[0].pk][0]
    Judgment.objects.filter(pk=old.pk).update(submitted_at=timezone.now() - timedelta(days=10))
    since = PreferenceFilter(campaign_ids=(campaign.pk,), since=timezone.now() - timedelta(days=1))
    assert old.pk not in set(preferences_matching(since).values_list("judgment_id", flat=True))
    assert len(ids_of(since)) == 5
    until = PreferenceFilter(campaign_ids=(campaign.pk,), until=timezone.now() - timedelta(days=1))
    assert list(preferences_matching(until).values_list("judgment_id", flat=True)) == [old.pk]

    pool = make_pool(members=[raters[1]], campaigns=[campaign])
    pooled = preferences_matching(
        PreferenceFilter(campaign_ids=(campaign.pk,), pool_ids=(pool.pk,))
    )
    assert set(pooled.values_list("judgment__rater_id", flat=True)) == {raters[1].pk}

    RaterProfile.objects.filter(user=raters[2]).update(status=RaterStatus.PAUSED)
    active = preferences_matching(replace(everything, exclude_paused=True))
    assert set(active.values_list("judgment__rater_id", flat=True)) == {raters[0].pk, raters[1].pk}

    gold_task = by_rater[raters[0].pk][1].task
    gold_task.is_gold = True
    gold_task.save()
    regular = preferences_matching(replace(everything, exclude_gold=True))
    assert gold_task.pk not in set(regular.values_list("task_id", flat=True))
    assert regular.count() == 3


def test_minimum_rater_quality_keeps_raters_who_agree_with_the_others() -> None:
    # Three raters agree on every pair, the fourth always disagrees: leave-one-out agreement
    # is 1.0 for the three (the others' majority is theirs) and 0.0 for the fourth.
    raters = [make_user() for _ in range(4)]
    campaign = pairwise_campaign(raters, tasks=3)
    for rater in raters:
        for _ in range(3):
            judge(rater, prefer_first=rater is not raters[3])
    assert raters_meeting_quality(campaign_id=campaign.pk, minimum=0.5) == {
        r.pk for r in raters[:3]
    }
    kept = preferences_matching(
        PreferenceFilter(campaign_ids=(campaign.pk,), min_rater_quality=0.5)
    )
    assert set(kept.values_list("judgment__rater_id", flat=True)) == {r.pk for r in raters[:3]}
    assert kept.count() == 9
    perfect = PreferenceFilter(campaign_ids=(campaign.pk,), min_rater_quality=1.0)
    assert preferences_matching(perfect).count() == 9
    agreement = campaign_agreement(campaign_id=campaign.pk)
    assert agreement.n == 3
    assert agreement.percent == pytest.approx(0.5)  # 3 of the 6 rater pairs per unit agree


def test_snapshot_rows_are_exactly_the_frozen_preferences() -> None:
    raters = [make_user() for _ in range(3)]
    campaign = pairwise_campaign(raters, tasks=2)
    for rater in raters[:2]:
        judge(rater, prefer_first=True)
    filters = PreferenceFilter(campaign_ids=(campaign.pk,))
    snapshot = freeze_snapshot(filters, mode="all")
    consensus_then = list(iter_consensus_rows(filters))
    judge(raters[2], prefer_first=False)  # after the freeze: not in the snapshot
    judge(raters[0], prefer_first=False)

    rows = list(iter_snapshot_rows(snapshot.preference_ids, mode="all"))
    assert [row.preference_id for row in rows] == list(snapshot.preference_ids)
    first = Preference.objects.select_related("chosen", "rejected").get(pk=rows[0].preference_id)
    assert (rows[0].chosen, rows[0].rejected) == (first.chosen.text, first.rejected.text)

    frozen = freeze_snapshot(filters, mode="consensus")
    assert frozen.size == 4  # the later judgments count in a new snapshot
    consensus_now = list(iter_snapshot_rows(snapshot.preference_ids, mode="consensus"))
    assert [(r.task_id, r.chosen, r.rejected, r.margin) for r in consensus_now] == [
        (r.task_id, r.chosen, r.rejected, r.margin) for r in consensus_then
    ]
    assert all(row.source == "consensus" for row in consensus_now)


def test_ties_are_frozen_only_for_consensus() -> None:
    raters = [make_user() for _ in range(2)]
    campaign = pairwise_campaign(raters, tasks=1)
    assignment = claim_next_assignment(rater=raters[0])
    assert assignment is not None
    submit_judgment(
        rater=raters[0],
        assignment_id=assignment.pk,
        submission=Submission(ranking=[["A", "B"]], idempotency_key="tie-000000"),
    )
    judge(raters[1], prefer_first=True)
    filters = PreferenceFilter(campaign_ids=(campaign.pk,))
    assert freeze_snapshot(filters, mode="all").size == 1
    assert freeze_snapshot(filters, mode="consensus").size == 2


def test_prompts_and_judgment_count_for_schedules() -> None:
    raters = [make_user() for _ in range(2)]
    campaign = pairwise_campaign(raters, tasks=3)
    prompts = campaign_prompts(campaign_id=campaign.pk, limit=2)
    assert [p.prompt_id for p in prompts] == list(
        campaign.prompts.order_by("id").values_list("id", flat=True)[:2]
    )
    assert prompts[0].conversation == campaign.prompts.order_by("id")[0].conversation
    first = judge(raters[0], prefer_first=True)
    judge(raters[1], prefer_first=True)
    assert count_campaign_judgments(campaign_id=campaign.pk) == 2
    first.task.is_gold = True
    first.task.save()
    assert (
        count_campaign_judgments(campaign_id=campaign.pk)
        == 2 - Judgment.objects.filter(task=first.task).count()
    )
