"""The campaign's own figures: agreement (pairwise and over rankings), consensus per task, and
agreement over time."""

from __future__ import annotations

import math
from datetime import UTC, datetime
from typing import Any

import numpy as np

from annotation.quality.consensus import bradley_terry
from annotation.quality.estimate import Estimate, finite_or_none
from annotation.quality.metrics import (
    fleiss_kappa,
    kendalls_w,
    krippendorff_alpha,
    percent_agreement,
)
from annotation.quality.report.figures import Agreement, Consensus, OverTimePoint
from annotation.quality.report.indexes import CampaignIndex, factorize, pair_key
from annotation.quality.report.inputs import ReportSettings


def agreement(c: CampaignIndex, settings: ReportSettings) -> Agreement:
    """Agreement over the regular (non-gold) pairs, and over ranks when some judgments rank
    three or more responses."""
    regular = c.regular
    unit, value = c.unit[regular], c.value[regular]
    boot: dict[str, Any] = {"n_boot": settings.n_boot, "seed": settings.seed}
    alpha_ranks, w = _rank_agreement(c, boot)
    return Agreement(
        percent_agreement=percent_agreement(unit, value, **boot),
        percent_agreement_no_ties=percent_agreement(unit, value, include_ties=False, **boot),
        alpha_pairwise=krippendorff_alpha(unit, value, level="ordinal", **boot),
        fleiss_kappa=fleiss_kappa(unit, value, **boot),
        alpha_ranks=alpha_ranks,
        kendalls_w=w,
        consensus_agreement=consensus_agreement(c),
    )


def consensus_agreement(c: CampaignIndex) -> Estimate:
    """How often a rater's decided verdict on a pair matches the majority of the *other*
    raters of that pair, when theirs is decided too (leave-one-out, no ties on either side):
    the human figure to set beside a reward model's accuracy on held-out consensus pairs.
    Pooled over ratings, with a 95 % interval whose standard error is clustered by task (the
    pairs of one ranking, and the raters of one pair, are not independent); n is the ratings
    compared.

    With three raters a pair split 2 to 1 counts once, as the dissenter's miss: each majority
    rater meets a tie among the other two and is left out. So at overlap 3 the figure sits below
    a single rater's accuracy, and a reward model scored against the whole panel's consensus
    can legitimately exceed it (docs/quality.md)."""
    regular = c.regular
    value = c.value[regular]
    majority = np.sign(c.others_sum[regular])
    compared = (value != 0) & (c.others_count[regular] > 0) & (majority != 0)
    n = int(compared.sum())
    if n == 0:
        return Estimate.undefined()
    _, task = np.unique(c.p.task[regular][compared], return_inverse=True)
    agree = (value[compared] == majority[compared]).astype(np.float64)
    a_t = np.bincount(task, weights=agree)
    n_t = np.bincount(task).astype(np.float64)
    share = float(agree.sum()) / n
    clusters = n_t.size
    if clusters < 2:
        return Estimate(share, None, None, n)
    residual = a_t - share * n_t
    se = math.sqrt(clusters / (clusters - 1) * float(np.sum(residual**2))) / n
    return Estimate(share, max(0.0, share - 1.96 * se), min(1.0, share + 1.96 * se), n)


def _rank_agreement(c: CampaignIndex, boot: dict[str, Any]) -> tuple[Estimate, Estimate | None]:
    """Krippendorff's alpha over the mid-rank of each response in each judgment (1 = best),
    and Kendall's W over the judgments of three or more responses."""
    regular = c.regular
    j = c.j_of_pair[regular]
    chosen, rejected, tie = c.p.chosen[regular], c.p.rejected[regular], c.p.is_tie[regular]
    responses = np.concatenate([chosen, rejected])
    if not responses.size or int(c.k_of_j.max()) <= 2:
        # pairwise only: ranks say nothing the pairwise outcome does not
        return Estimate(None, None, None, 0), None
    above = np.concatenate([np.where(tie, 0.5, 0.0), np.where(tie, 0.5, 1.0)])
    jj = np.concatenate([j, j])
    keys, inverse = np.unique(pair_key(jj, responses), return_inverse=True)
    inverse = inverse.reshape(-1)
    rank = 1.0 + np.bincount(inverse, weights=above, minlength=keys.size)
    base = int(responses.max()) + 1
    judgment_of, response_of = keys // base, keys % base
    task_of, rater_of = c.task_j[judgment_of], c.r_of_j[judgment_of]
    rank_units = factorize(pair_key(task_of, response_of))
    alpha = krippendorff_alpha(rank_units, rank, level="ordinal", **boot)
    multi = c.k_of_j[judgment_of] >= 3
    if not multi.any():
        return alpha, None
    w = kendalls_w(task_of[multi], rater_of[multi], response_of[multi], rank[multi], **boot)
    return alpha, w.mean


def consensus(c: CampaignIndex) -> Consensus:
    """Bradley-Terry per task: how clearly each task's best response beats its runner-up."""
    regular = c.regular
    if not regular.any():
        return Consensus(tasks=0, mean_top_probability=None, clear_top_share=None)
    task = c.p.task[regular]
    chosen, rejected, tie = c.p.chosen[regular], c.p.rejected[regular], c.p.is_tie[regular]
    groups, group = np.unique(task, return_inverse=True)
    both = np.concatenate([chosen, rejected])
    base = int(both.max()) + 1
    items, item_index = np.unique(
        np.concatenate([group, group]).astype(np.int64) * base + both, return_inverse=True
    )
    item_group = items // base
    starts = np.searchsorted(item_group, np.arange(groups.size))
    local = np.arange(items.size) - starts[item_group]
    local_of = local[item_index.reshape(-1)]
    a, b = local_of[: task.size], local_of[task.size :]
    sizes = np.bincount(item_group, minlength=groups.size)
    fit = bradley_terry(group, a, b, np.where(tie, 0.5, 1.0), n_items_per_group=sizes)
    # The fitted probability that each task's best response beats its runner-up.
    top = 1.0 / (1.0 + np.exp(-fit.top_gap))
    return Consensus(
        tasks=int(groups.size),
        mean_top_probability=finite_or_none(float(np.mean(top))),
        # tasks whose best response beats the runner-up with probability >= 0.75: more than
        # a bare majority (2 of 3 raters give about 0.65, 3 of 3 about 0.9)
        clear_top_share=finite_or_none(float(np.mean(top >= 0.75))),
    )


def over_time(c: CampaignIndex, settings: ReportSettings) -> list[OverTimePoint]:
    """Agreement per day (per week when the campaign spans more than 90 days), over the
    units whose last rating fell in that period."""
    regular = c.regular
    if not regular.any():
        return []
    at = c.p.submitted_at[regular]
    unit, value = c.unit[regular], c.value[regular]
    span_days = (at.max() - at.min()) / 86400
    width = 7 * 86400 if span_days > 90 else 86400
    origin = math.floor(at.min() / width) * width
    last = np.full(int(unit.max()) + 1, -np.inf)
    np.maximum.at(last, unit, at)
    last = np.where(np.isfinite(last), last, origin)  # units rated only on gold tasks
    bucket = ((last - origin) // width).astype(np.int64)[unit]
    judgments = np.bincount(
        ((c.at_j[~c.gold_j] - origin) // width).astype(np.int64), minlength=bucket.max() + 1
    )
    boot: dict[str, Any] = {"n_boot": min(settings.n_boot, 100), "seed": settings.seed}
    return [
        OverTimePoint(
            start=datetime.fromtimestamp(origin + b * width, tz=UTC).isoformat(),
            judgments=int(judgments[b]) if b < judgments.size else 0,
            percent_agreement=percent_agreement(unit[rows], value[rows], **boot),
            alpha_pairwise=krippendorff_alpha(unit[rows], value[rows], level="ordinal", **boot),
        )
        for b in np.unique(bucket)
        for rows in [bucket == b]
    ]
