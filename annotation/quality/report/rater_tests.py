"""The per-rater tests of the quality report, each run across all raters at once: leave-one-out
agreement (outliers), position bias, length bias, speed, straight-lining, and gold accuracy.
Each test's p-values are Holm-corrected across the raters it tested."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy import stats as sps

from annotation.quality.logistic import logistic_fit_grouped
from annotation.quality.report.indexes import CampaignIndex
from annotation.quality.report.inputs import CampaignData, ReportSettings
from annotation.quality.stats import binomial_test_many, holm
from annotation.ranking import pair_relations


@dataclass(frozen=True)
class RaterTest:
    """One test across raters: the share it reports (k of n per rater), each rater's p-value,
    Holm-adjusted p-value and flag (p-values NaN where the rater was not tested)."""

    k: np.ndarray
    n: np.ndarray
    p_value: np.ndarray
    p_adjusted: np.ndarray
    flagged: np.ndarray


@dataclass(frozen=True)
class RaterTests:
    """Every test across raters, and the per-rater figures that come with them."""

    tested: np.ndarray  # enough judgments to be tested
    outlier: RaterTest  # leave-one-out agreement
    position: RaterTest
    length: RaterTest
    speed: RaterTest
    straight_lining: RaterTest
    slope: np.ndarray
    slope_se: np.ndarray
    median_time_ms: np.ndarray
    gold_k: np.ndarray
    gold_n: np.ndarray
    gold_items: np.ndarray
    loo_reference: float
    length_reference: float
    campaign_slope: float
    campaign_slope_se: float


def run_rater_tests(c: CampaignIndex, data: CampaignData, settings: ReportSettings) -> RaterTests:
    """Every rater test, each Holm-corrected at the settings' test level."""
    level = settings.test_level
    enough = c.judgments_r >= settings.min_judgments
    _, loo_n, loo_sum, loo_p, loo_ref = _leave_one_out(c, settings)
    pos_k, pos_n, position_sign, _ = _position(c)
    pos_p = np.where(enough, binomial_test_many(pos_k, pos_n, 0.5), np.nan)
    len_k, len_n, slope, slope_se, len_p, len_ref = _length(c, settings)
    fast_k, fast_n, median_ms = _speed(c, data.reading_floor_ms_per_char)
    fast_p = np.where(
        enough & (fast_n > 0),
        sps.binom.sf(fast_k - 1, np.maximum(fast_n, 1).astype(int), settings.fast_share_allowed),
        np.nan,
    )
    gold_k, gold_n, gold_items = _gold(c)
    return RaterTests(
        tested=enough,
        outlier=_holm_flags(loo_sum, loo_n, loo_p, level),
        position=_holm_flags(pos_k, pos_n, pos_p, level),
        length=_holm_flags(len_k, len_n, len_p, level),
        speed=_holm_flags(fast_k, fast_n, fast_p, level),
        straight_lining=_straight_lining_test(c, position_sign, enough, settings),
        slope=slope,
        slope_se=slope_se,
        median_time_ms=median_ms,
        gold_k=gold_k,
        gold_n=gold_n,
        gold_items=gold_items,
        loo_reference=float(loo_ref),
        length_reference=float(len_ref[0]),
        campaign_slope=float(len_ref[1]),
        campaign_slope_se=float(len_ref[2]),
    )


def _straight_lining_test(
    c: CampaignIndex, position_sign: np.ndarray, enough: np.ndarray, settings: ReportSettings
) -> RaterTest:
    """Pairwise raters against the tolerated modal position share, the others against the
    chance of ranking in display order or reversed; the reported share follows the kind of
    judgment the rater made more of."""
    modal, n_pair, k_multi, n_multi, chance = _straight_lining(c, position_sign)
    straight_p = np.full(c.n_raters, np.nan)
    pair_test = enough & (n_pair > 0) & (n_pair >= n_multi)
    multi_test = enough & (n_multi > n_pair)
    straight_p[pair_test] = sps.binom.sf(
        modal[pair_test] - 1, n_pair[pair_test].astype(int), settings.straight_line_share
    )
    straight_p[multi_test] = sps.binom.sf(
        k_multi[multi_test] - 1, n_multi[multi_test].astype(int), chance[multi_test]
    )
    uses_pairs = n_pair >= n_multi
    k = np.where(uses_pairs, modal, k_multi)
    n = np.where(uses_pairs, n_pair, n_multi)
    return _holm_flags(k, n, straight_p, settings.test_level)


def _holm_flags(k: np.ndarray, n: np.ndarray, p_values: np.ndarray, level: float) -> RaterTest:
    tested = np.isfinite(p_values)
    adjusted = np.full(p_values.shape, np.nan)
    if tested.any():
        adjusted[tested] = holm(p_values[tested])
    flagged = np.zeros(p_values.shape, dtype=bool)
    flagged[tested] = adjusted[tested] < level
    return RaterTest(k, n, p_values, adjusted, flagged)


def _normal_sf(z: np.ndarray) -> np.ndarray:
    return np.asarray(sps.norm.sf(z), dtype=np.float64)


def _leave_one_out(c: CampaignIndex, settings: ReportSettings) -> tuple[np.ndarray, ...]:
    """Per rater: mean agreement of their judgments with the other raters' majority on each
    pair, judgments counted, and a one-sided z-test p-value for being an outlier (below the
    median rater by more than the margin; standard errors clustered by judgment)."""
    regular = c.regular
    value = c.value[regular].astype(np.float64)
    majority = np.sign(c.others_sum[regular])
    eligible = (c.others_count[regular] > 0) & (majority != 0)
    agree = (value == majority) & eligible
    j = c.j_of_pair[regular]
    per_j_n = np.bincount(j[eligible], minlength=c.n_judgments)
    per_j_agree = np.bincount(j[eligible], weights=agree[eligible], minlength=c.n_judgments)
    has = per_j_n > 0
    share_j = np.divide(per_j_agree, per_j_n, out=np.zeros(c.n_judgments), where=has)
    n_r = np.bincount(c.r_of_j[has], minlength=c.n_raters).astype(np.float64)
    sum_r = c.rater_sum(share_j, has)
    sq_r = c.rater_sum(share_j**2, has)
    mean_r = np.divide(sum_r, n_r, out=np.full(c.n_raters, np.nan), where=n_r > 0)
    var_r = (
        np.divide(sq_r, n_r, out=np.zeros(c.n_raters), where=n_r > 0) - np.nan_to_num(mean_r) ** 2
    )
    se_r = np.sqrt(np.maximum(var_r, 0) / np.maximum(n_r - 1, 1))
    enough = n_r >= settings.min_judgments
    reference = float(np.median(mean_r[enough])) if enough.any() else float("nan")
    bound = reference - settings.outlier_margin
    with np.errstate(divide="ignore", invalid="ignore"):
        z = (mean_r - bound) / se_r
    z = np.where(se_r > 0, z, np.where(mean_r < bound, -np.inf, np.inf))
    p = np.where(enough & np.isfinite(reference), 1 - _normal_sf(z), np.nan)
    return mean_r, n_r, sum_r, p, np.array(reference)


def _position(c: CampaignIndex) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Per judgment, the sign of (pairs won by the first-shown) - (pairs won by the second):
    under a random display order it is symmetric, so a sign test over judgments is exact.
    Returns per rater (k first, n decided) and per judgment sign, plus pair-level counts."""
    known = (c.p.chosen_first >= 0) & ~c.p.is_tie
    signed = np.where(known, 2 * c.p.chosen_first.astype(np.int64) - 1, 0)
    s_j = np.bincount(c.j_of_pair, weights=signed, minlength=c.n_judgments)
    k = c.rater_sum((s_j > 0).astype(np.float64))
    n = c.rater_sum((s_j != 0).astype(np.float64))
    return k, n, np.sign(s_j), known


def _length(
    c: CampaignIndex, settings: ReportSettings
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Per rater: how often the longer response won, and the slope of "this one is the
    longer" (+1 / -1) in a logistic fit of the rater's choice that also knows the other
    raters' verdict on the same pair (so preferring longer answers that others also prefer
    is not a bias): the log-odds shift towards the longer response. (The log length ratio as
    the covariate was tried first: it had a fifth of the power against raters who pick the
    longer one whatever the ratio.)"""
    p = c.p
    low_len = np.where(p.chosen == c.low, p.chosen_length, p.rejected_length).astype(float)
    high_len = np.where(p.chosen == c.low, p.rejected_length, p.chosen_length).astype(float)
    rows = c.regular & ~p.is_tie & (low_len != high_len)
    value = c.value.astype(np.float64)
    others = np.divide(
        c.others_sum,
        c.others_count,
        out=np.zeros(value.size),
        where=c.others_count > 0,
    )
    y = (value > 0)[rows].astype(np.float64)
    log_ratio = np.log(np.maximum(low_len, 1) / np.maximum(high_len, 1))[rows]
    longer = np.sign(log_ratio)
    x = np.column_stack([np.ones(int(rows.sum())), others[rows], longer])
    group = c.r_of_pair[rows]
    chose_longer = (y > 0) == (log_ratio > 0)
    k_longer = np.bincount(group, weights=chose_longer, minlength=c.n_raters)
    n_longer = np.bincount(group, minlength=c.n_raters).astype(np.float64)
    fit = logistic_fit_grouped(group, x, y, n_groups=c.n_raters)
    slope = np.where(fit.defined, fit.coef[:, 2], np.nan)
    se = np.where(fit.defined, fit.se[:, 2], np.nan)
    enough = (c.judgments_r >= settings.min_judgments) & fit.defined & np.isfinite(se) & (se > 0)
    reference = float(np.median(slope[enough])) if enough.any() else float("nan")
    with np.errstate(divide="ignore", invalid="ignore"):
        z = (slope - reference) / se
    p_two = np.where(enough, 2 * _normal_sf(np.abs(np.nan_to_num(z))), np.nan)
    campaign = _campaign_length_slope(x, y, settings.seed)
    return k_longer, n_longer, slope, se, p_two, np.array([reference, *campaign])


def _campaign_length_slope(x: np.ndarray, y: np.ndarray, seed: int) -> tuple[float, float]:
    """The length slope and its standard error of one fit over everyone, on at most 200,000
    pairs drawn with a fixed seed (the slope's standard error is already tiny there; the full
    fit doubled this step)."""
    rows_used = np.arange(y.size)
    if rows_used.size > 200_000:
        rows_used = np.random.default_rng(seed).choice(y.size, 200_000, replace=False)
    pooled = logistic_fit_grouped(
        np.zeros(rows_used.size, dtype=np.int64), x[rows_used], y[rows_used], n_groups=1
    )
    if not pooled.defined[0]:
        return float("nan"), float("nan")
    return float(pooled.coef[0, 2]), float(pooled.se[0, 2])


def _speed(c: CampaignIndex, floor_ms_per_char: float) -> tuple[np.ndarray, ...]:
    known = c.time_j >= 0
    fast = known & (c.time_j < floor_ms_per_char * c.chars_j)
    k = c.rater_sum(fast.astype(np.float64))
    n = c.rater_sum(known.astype(np.float64))
    median = np.full(c.n_raters, np.nan)
    if known.any():
        times_known = c.time_j[known]
        span = int(times_known.max()) + 1
        order = np.argsort(c.r_of_j[known] * span + times_known)  # one int64 sort, not lexsort
        raters, times = c.r_of_j[known][order], times_known[order]
        starts = np.searchsorted(raters, np.arange(c.n_raters))
        counts = np.bincount(raters, minlength=c.n_raters)
        has = counts > 0
        lo = starts + (counts - 1) // 2
        hi = starts + counts // 2
        median[has] = (times[lo[has]] + times[hi[has]]) / 2
    return k, n, median


def _straight_lining(c: CampaignIndex, position_sign: np.ndarray) -> tuple[np.ndarray, ...]:
    """Pairwise: the share of the rater's most-chosen position. K >= 3: the share of
    judgments ranked exactly in display order or exactly reversed, with chance 2/K!."""
    p = c.p
    known = p.chosen_first >= 0
    ties_j = np.bincount(c.j_of_pair, weights=p.is_tie, minlength=c.n_judgments)
    first_j = np.bincount(
        c.j_of_pair, weights=(p.chosen_first == 1) & known, minlength=c.n_judgments
    )
    pairs_j = np.bincount(c.j_of_pair, weights=known, minlength=c.n_judgments)
    pairwise = c.k_of_j == 2
    straight_k = (ties_j == 0) & (pairs_j > 0) & ((first_j == pairs_j) | (first_j == 0))
    decided = position_sign != 0
    k_first = c.rater_sum(((position_sign > 0) & pairwise).astype(float))
    n_pair = c.rater_sum((decided & pairwise).astype(float))
    modal = np.maximum(k_first, n_pair - k_first)
    k_multi = c.rater_sum((straight_k & ~pairwise).astype(float))
    n_multi = c.rater_sum((~pairwise & (pairs_j > 0)).astype(float))
    factorials = np.array([math.factorial(k) for k in range(21)], dtype=np.float64)
    chance = np.where(~pairwise, 2.0 / factorials[np.minimum(c.k_of_j, 20)], 1.0)
    chance_r = np.divide(
        c.rater_sum(chance, ~pairwise), n_multi, out=np.zeros(c.n_raters), where=n_multi > 0
    )
    return modal, n_pair, k_multi, n_multi, chance_r


def _gold(c: CampaignIndex) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per rater: gold pairs judged as the expected ranking says, pairs, gold judgments."""
    zero = np.zeros(c.n_raters)
    rows = np.flatnonzero(c.p.is_gold)
    if not c.data.gold or rows.size == 0:
        return zero, zero, zero
    expected = {
        (task, low, high): relation
        for task, tiers in c.data.gold.items()
        for (low, high), relation in pair_relations(tiers).items()
    }
    want = np.array(
        [
            expected.get(key, 9)
            for key in zip(
                c.p.task[rows].tolist(), c.low[rows].tolist(), c.high[rows].tolist(), strict=True
            )
        ],
        dtype=np.int64,
    )
    found = want != 9
    agree = found & (want == c.value[rows])
    raters = c.r_of_pair[rows]
    k = np.bincount(raters[found], weights=agree[found], minlength=c.n_raters)
    n = np.bincount(raters[found], minlength=c.n_raters).astype(float)
    items = c.rater_sum(c.gold_j.astype(float))
    return k, n, items
