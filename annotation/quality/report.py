"""The campaign quality report: agreement, consensus, per-rater quality and bias, with pools
and self-reported groups. Pure array code over one campaign's preference pairs.

Conventions (stated in docs/quality.md too):
- A *unit* for pairwise agreement is one unordered response pair; its value for a rater is
  +1 when the lower response id won, -1 when it lost, 0 for a tie.
- Each test is run once per rater that has at least `min_judgments` judgments, and the
  p-values of one test are Holm-corrected across raters, so each test holds its family-wise
  error rate at `test_level`.
- Pairs of one K-way judgment are not independent, so tests count judgments, not pairs.
"""

from __future__ import annotations

import math
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from typing import Any

import numpy as np
from scipy import stats as sps

from annotation.quality.consensus import bradley_terry
from annotation.quality.estimate import Estimate
from annotation.quality.logistic import logistic_fit_grouped
from annotation.quality.metrics import (
    fleiss_kappa,
    kendalls_w,
    krippendorff_alpha,
    percent_agreement,
)
from annotation.quality.stats import binomial_test, binomial_test_many, holm
from annotation.ranking import pair_relations


@dataclass(frozen=True)
class PairArrays:
    """One row per preference pair (of human, non-repeat judgments), as flat arrays."""

    judgment: np.ndarray
    rater: np.ndarray
    task: np.ndarray
    chosen: np.ndarray
    rejected: np.ndarray
    is_tie: np.ndarray  # bool
    chosen_first: np.ndarray  # 1 shown first, 0 shown second, -1 unknown
    is_gold: np.ndarray  # bool, per the pair's task
    time_ms: np.ndarray  # the judgment's time (client-measured, else server); -1 unknown
    submitted_at: np.ndarray  # seconds since the epoch
    chosen_length: np.ndarray  # characters
    rejected_length: np.ndarray


@dataclass(frozen=True)
class RaterInfo:
    ids: list[int]
    names: dict[int, str]
    statuses: dict[int, str]
    pools: dict[int, list[str]]
    demographics: dict[int, dict[str, Any]]  # consented only


@dataclass(frozen=True)
class CampaignData:
    pairs: PairArrays
    gold: dict[int, list[list[int]]]  # gold task id -> expected tiers of response ids
    repeats: dict[int, tuple[int, int, int]]  # rater -> (repeats, agreeing pairs, pairs)
    raters: RaterInfo
    reading_floor_ms_per_char: float = 15.0
    gold_threshold: float | None = None
    gold_min_items: int = 10


@dataclass(frozen=True)
class ReportSettings:
    test_level: float = 0.05  # family-wise, per test, Holm across raters
    min_judgments: int = 20  # fewer: listed, not tested
    outlier_margin: float = 0.10  # leave-one-out agreement this far below the median is an outlier
    fast_share_allowed: float = 0.10  # share of too-fast judgments tolerated
    straight_line_share: float = 0.90  # pairwise: modal position share tolerated
    min_group_raters: int = 5  # smaller pools or groups are not compared
    n_boot: int = 200
    seed: int = 0


@dataclass
class _RaterTests:
    """Per-rater test results for one test: statistics and p-values (NaN: not tested)."""

    p_value: np.ndarray
    p_adjusted: np.ndarray = field(default_factory=lambda: np.zeros(0))
    flagged: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=bool))


_Z95 = 1.959963984540054


def _estimate(k: float, n: float) -> dict[str, Any]:
    """A share with its 95 % Wilson interval (the same formula as stats.wilson_interval,
    inlined: the report makes thousands of these)."""
    if n <= 0:
        return {"value": None, "ci_low": None, "ci_high": None, "n": 0}
    k, n = float(min(k, n)), float(n)
    share = k / n
    z2 = _Z95 * _Z95
    centre = (share + z2 / (2 * n)) / (1 + z2 / n)
    half = _Z95 * math.sqrt(share * (1 - share) / n + z2 / (4 * n * n)) / (1 + z2 / n)
    return {  # clamped: at k = 0 or k = n rounding would put the bound a hair past the share
        "value": share,
        "ci_low": min(max(0.0, centre - half), share),
        "ci_high": max(min(1.0, centre + half), share),
        "n": int(n),
    }


def _clean(value: float | None) -> float | None:
    return None if value is None or not math.isfinite(value) else float(value)


def _with_test(base: dict[str, Any], tests: _RaterTests, index: int) -> dict[str, Any]:
    p = tests.p_value[index]
    return {
        **base,
        "p_value": _clean(p),
        "p_adjusted": _clean(tests.p_adjusted[index]),
        "flagged": bool(tests.flagged[index]),
    }


def _holm_flags(p_values: np.ndarray, level: float) -> _RaterTests:
    tested = np.isfinite(p_values)
    adjusted = np.full(p_values.shape, np.nan)
    if tested.any():
        adjusted[tested] = holm(p_values[tested])
    flagged = np.zeros(p_values.shape, dtype=bool)
    flagged[tested] = adjusted[tested] < level
    return _RaterTests(p_values, adjusted, flagged)


def _normal_sf(z: np.ndarray) -> np.ndarray:
    return np.asarray(sps.norm.sf(z), dtype=np.float64)


def _pair_key(first: np.ndarray, second: np.ndarray) -> np.ndarray:
    """One int64 per (first, second) pair of non-negative ids."""
    base = int(second.max(initial=0)) + 1
    return first.astype(np.int64) * base + second.astype(np.int64)


def _factorize(keys: np.ndarray) -> np.ndarray:
    """Dense 0..n-1 codes for the distinct keys."""
    return _codes(keys)[1]


def _codes(keys: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(distinct keys ascending, each key's code, the first row of each code). Non-negative
    integer keys below a few times the row count (database ids) are coded with a bincount
    instead of a sort: a million rows in milliseconds."""
    keys = np.asarray(keys, dtype=np.int64)
    if keys.size == 0:
        empty = np.zeros(0, dtype=np.int64)
        return empty, empty, empty
    if keys.min() >= 0 and keys.max() < 4 * keys.size + 1024:
        present = np.bincount(keys) > 0
        distinct = np.flatnonzero(present)
        code_of = np.cumsum(present) - 1
        codes = code_of[keys]
    else:
        unique = np.unique(keys, return_inverse=True)
        distinct, codes = unique[0], unique[1].reshape(-1)
    first = np.full(distinct.size, keys.size, dtype=np.int64)
    np.minimum.at(first, codes, np.arange(keys.size))
    return distinct, codes.astype(np.int64), first


class _Campaign:
    """Indexes shared by every part of the report."""

    def __init__(self, data: CampaignData) -> None:
        pairs = data.pairs
        self.data = data
        self.p = pairs
        judgment_ids, self.j_of_pair, first = _codes(pairs.judgment)
        self.n_judgments = judgment_ids.size
        self.rater_ids, self.r_of_pair, _ = _codes(pairs.rater)
        self.n_raters = self.rater_ids.size
        self.r_of_j = self.r_of_pair[first] if first.size else np.zeros(0, dtype=np.int64)
        self.gold_j = pairs.is_gold[first]
        self.time_j = pairs.time_ms[first]
        self.at_j = pairs.submitted_at[first]
        self.task_j = pairs.task[first]
        pair_count = np.bincount(self.j_of_pair, minlength=self.n_judgments)
        self.k_of_j = np.rint((1 + np.sqrt(1 + 8 * pair_count)) / 2).astype(np.int64)
        shown = pairs.chosen_length + pairs.rejected_length
        # Each response of a K-way judgment appears in K-1 of its pairs.
        self.chars_j = np.bincount(self.j_of_pair, weights=shown, minlength=self.n_judgments) / (
            np.maximum(self.k_of_j - 1, 1)
        )
        self.judgments_r = np.bincount(self.r_of_j, minlength=self.n_raters)
        self.low = np.minimum(pairs.chosen, pairs.rejected)
        self.high = np.maximum(pairs.chosen, pairs.rejected)
        self.value = np.where(pairs.is_tie, 0, np.where(pairs.chosen == self.low, 1, -1)).astype(
            np.int8
        )
        self.regular = ~pairs.is_gold
        self.unit = _factorize(_pair_key(self.low, self.high))
        # The other raters' verdict on each pair, from regular (non-gold) ratings: the sum of
        # their values and how many they are (what leave-one-out and the length fit compare to).
        value = self.value.astype(np.float64)
        n_units = int(self.unit.max()) + 1 if self.unit.size else 0
        unit_sum = np.bincount(
            self.unit[self.regular], weights=value[self.regular], minlength=n_units
        )
        unit_count = np.bincount(self.unit[self.regular], minlength=n_units)
        self.others_sum = unit_sum[self.unit] - value
        self.others_count = unit_count[self.unit] - 1

    def rater_sum(self, values: np.ndarray, mask: np.ndarray | None = None) -> np.ndarray:
        """Sum a per-judgment array by rater."""
        index = self.r_of_j if mask is None else self.r_of_j[mask]
        weights = values if mask is None else values[mask]
        return np.bincount(index, weights=weights, minlength=self.n_raters)


def _leave_one_out(c: _Campaign, settings: ReportSettings) -> tuple[np.ndarray, ...]:
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


def _position(c: _Campaign) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
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
    c: _Campaign, settings: ReportSettings
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
    # Campaign level: one fit over everyone, on at most 200,000 pairs drawn with a fixed seed
    # (the slope's standard error is already tiny there; the full fit doubled this step).
    rows_used = np.arange(group.size)
    if rows_used.size > 200_000:
        rows_used = np.random.default_rng(settings.seed).choice(group.size, 200_000, replace=False)
    pooled = logistic_fit_grouped(
        np.zeros(rows_used.size, dtype=np.int64), x[rows_used], y[rows_used], n_groups=1
    )
    campaign = (
        float(pooled.coef[0, 2]) if pooled.defined[0] else float("nan"),
        float(pooled.se[0, 2]) if pooled.defined[0] else float("nan"),
    )
    return k_longer, n_longer, slope, se, p_two, np.array([reference, *campaign])


def _speed(c: _Campaign, floor_ms_per_char: float) -> tuple[np.ndarray, ...]:
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


def _straight_lining(c: _Campaign, position_sign: np.ndarray) -> tuple[np.ndarray, ...]:
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


def _gold(c: _Campaign) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
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


def _agreement(c: _Campaign, settings: ReportSettings) -> dict[str, Any]:
    regular = c.regular
    unit, value = c.unit[regular], c.value[regular]
    boot: dict[str, Any] = {"n_boot": settings.n_boot, "seed": settings.seed}
    result: dict[str, Any] = {
        "percent_agreement": percent_agreement(unit, value, **boot).as_dict(),
        "percent_agreement_no_ties": percent_agreement(
            unit, value, include_ties=False, **boot
        ).as_dict(),
        "alpha_pairwise": krippendorff_alpha(unit, value, level="ordinal", **boot).as_dict(),
        "fleiss_kappa": fleiss_kappa(unit, value, **boot).as_dict(),
    }
    # Ranks: the mid-rank of each response in each judgment (1 = best).
    j = c.j_of_pair[regular]
    chosen, rejected, tie = c.p.chosen[regular], c.p.rejected[regular], c.p.is_tie[regular]
    responses = np.concatenate([chosen, rejected])
    above = np.concatenate([np.where(tie, 0.5, 0.0), np.where(tie, 0.5, 1.0)])
    jj = np.concatenate([j, j])
    if responses.size and int(c.k_of_j.max()) > 2:
        keys, inverse = np.unique(_pair_key(jj, responses), return_inverse=True)
        inverse = inverse.reshape(-1)
        rank = 1.0 + np.bincount(inverse, weights=above, minlength=keys.size)
        base = int(responses.max()) + 1
        judgment_of, response_of = keys // base, keys % base
        task_of, rater_of = c.task_j[judgment_of], c.r_of_j[judgment_of]
        rank_units = _factorize(_pair_key(task_of, response_of))
        result["alpha_ranks"] = krippendorff_alpha(
            rank_units, rank, level="ordinal", **boot
        ).as_dict()
        multi = c.k_of_j[judgment_of] >= 3
        result["kendalls_w"] = (
            kendalls_w(
                task_of[multi], rater_of[multi], response_of[multi], rank[multi], **boot
            ).mean.as_dict()
            if multi.any()
            else None
        )
    else:  # pairwise only: ranks say nothing the pairwise outcome does not
        result["alpha_ranks"], result["kendalls_w"] = Estimate(None, None, None, 0).as_dict(), None
    return result


def _consensus(c: _Campaign) -> dict[str, Any]:
    regular = c.regular
    if not regular.any():
        return {"tasks": 0, "clear_top_share": None, "mean_top_probability": None}
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
    return {
        "tasks": int(groups.size),
        "mean_top_probability": _clean(float(np.mean(top))),
        # tasks whose best response beats the runner-up with probability >= 0.75: more than
        # a bare majority (2 of 3 raters give about 0.65, 3 of 3 about 0.9)
        "clear_top_share": _clean(float(np.mean(top >= 0.75))),
    }


def _over_time(c: _Campaign, settings: ReportSettings) -> list[dict[str, Any]]:
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
    n_units = int(unit.max()) + 1
    last = np.full(n_units, -np.inf)
    np.maximum.at(last, unit, at)
    last = np.where(np.isfinite(last), last, origin)  # units rated only on gold tasks
    bucket_u = ((last - origin) // width).astype(np.int64)
    bucket = bucket_u[unit]
    judgments = np.bincount(
        ((c.at_j[~c.gold_j] - origin) // width).astype(np.int64), minlength=bucket.max() + 1
    )
    series = []
    for b in np.unique(bucket):
        rows = bucket == b
        series.append(
            {
                "start": datetime.fromtimestamp(origin + b * width, tz=UTC).isoformat(),
                "judgments": int(judgments[b]) if b < judgments.size else 0,
                "percent_agreement": percent_agreement(
                    unit[rows], value[rows], n_boot=min(settings.n_boot, 100), seed=settings.seed
                ).as_dict(),
                "alpha_pairwise": krippendorff_alpha(
                    unit[rows],
                    value[rows],
                    level="ordinal",
                    n_boot=min(settings.n_boot, 100),
                    seed=settings.seed,
                ).as_dict(),
            }
        )
    return series


def _chi_square(successes: list[float], totals: list[float]) -> float | None:
    """p-value of a chi-square test that every group has the same rate (None if undefined)."""
    table = np.array([[s, t - s] for s, t in zip(successes, totals, strict=True) if t > 0])
    if table.shape[0] < 2 or (table.sum(axis=0) == 0).any():
        return None
    return _clean(float(sps.chi2_contingency(table, correction=False)[1]))


def build_report(data: CampaignData, settings: ReportSettings | None = None) -> dict[str, Any]:
    """The whole report as a JSON-ready dict."""
    settings = settings or ReportSettings()
    c = _Campaign(data)
    # The consensus fit is mostly numpy work that releases the GIL (sorts, batched solves):
    # it runs on the second core while this thread computes the rest.
    background = ThreadPoolExecutor(max_workers=1)
    consensus = background.submit(_consensus, c)
    level = settings.test_level
    enough = c.judgments_r >= settings.min_judgments

    _, loo_n, loo_sum, loo_p, loo_ref = _leave_one_out(c, settings)
    loo = _holm_flags(loo_p, level)

    pos_k, pos_n, position_sign, _ = _position(c)
    pos_p = np.where(enough, binomial_test_many(pos_k, pos_n, 0.5), np.nan)
    position = _holm_flags(pos_p, level)

    len_k, len_n, slope, slope_se, len_p, len_ref = _length(c, settings)
    length = _holm_flags(len_p, level)

    fast_k, fast_n, median_ms = _speed(c, data.reading_floor_ms_per_char)
    fast_p = np.where(
        enough & (fast_n > 0),
        sps.binom.sf(fast_k - 1, np.maximum(fast_n, 1).astype(int), settings.fast_share_allowed),
        np.nan,
    )
    speed = _holm_flags(fast_p, level)

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
    straight = _holm_flags(straight_p, level)

    gold_k, gold_n, gold_items = _gold(c)

    rows = []
    for index, rater_id in enumerate(c.rater_ids.tolist()):
        flags = [
            name
            for name, tests in (
                ("position_bias", position),
                ("length_bias", length),
                ("speed", speed),
                ("straight_lining", straight),
                ("outlier", loo),
            )
            if tests.flagged[index]
        ]
        gold_accuracy = _estimate(gold_k[index], gold_n[index])
        if (
            data.gold_threshold is not None
            and gold_items[index] >= data.gold_min_items
            and gold_accuracy["value"] is not None
            and gold_accuracy["value"] < data.gold_threshold
        ):
            flags.append("gold")
        repeats, same, compared = data.repeats.get(rater_id, (0, 0, 0))
        uses_pairs = n_pair[index] >= n_multi[index]
        rows.append(
            {
                "rater_id": rater_id,
                "username": data.raters.names.get(rater_id, str(rater_id)),
                "status": data.raters.statuses.get(rater_id, ""),
                "pools": data.raters.pools.get(rater_id, []),
                "judgments": int(c.judgments_r[index]),
                "tested": bool(enough[index]),
                "loo_agreement": _with_test(_estimate(loo_sum[index], loo_n[index]), loo, index),
                "gold_accuracy": {**gold_accuracy, "items": int(gold_items[index])},
                "median_time_ms": _clean(median_ms[index]),
                "fast_share": _with_test(_estimate(fast_k[index], fast_n[index]), speed, index),
                "straight_lining": _with_test(
                    _estimate(modal[index], n_pair[index])
                    if uses_pairs
                    else _estimate(k_multi[index], n_multi[index]),
                    straight,
                    index,
                ),
                "self_consistency": {**_estimate(same, compared), "repeats": repeats},
                "position_bias": _with_test(_estimate(pos_k[index], pos_n[index]), position, index),
                "length_bias": _with_test(
                    {
                        **_estimate(len_k[index], len_n[index]),
                        "slope": _clean(slope[index]),
                        "slope_se": _clean(slope_se[index]),
                    },
                    length,
                    index,
                ),
                "flags": flags,
            }
        )

    def pooled(members: np.ndarray) -> dict[str, Any]:
        return {
            "raters": int(members.sum()),
            "judgments": int(c.judgments_r[members].sum()),
            "loo_agreement": _estimate(loo_sum[members].sum(), loo_n[members].sum()),
            "position_bias": {
                **_estimate(pos_k[members].sum(), pos_n[members].sum()),
                "p_value": binomial_test(int(pos_k[members].sum()), int(pos_n[members].sum()), 0.5),
            },
            "length_bias": _estimate(len_k[members].sum(), len_n[members].sum()),
            "fast_share": _estimate(fast_k[members].sum(), fast_n[members].sum()),
            "flagged_raters": int(sum(bool(rows[i]["flags"]) for i in np.flatnonzero(members))),
        }

    def compare(groups: dict[str, np.ndarray]) -> dict[str, Any]:
        kept = {
            name: members
            for name, members in groups.items()
            if members.sum() >= settings.min_group_raters
        }
        return {
            "groups": [{"name": name, **pooled(m)} for name, m in sorted(kept.items())],
            "left_out": sorted(set(groups) - set(kept)),
            "loo_agreement_p_value": _chi_square(
                [loo_sum[m].sum() for m in kept.values()], [loo_n[m].sum() for m in kept.values()]
            ),
            "position_bias_p_value": _chi_square(
                [pos_k[m].sum() for m in kept.values()], [pos_n[m].sum() for m in kept.values()]
            ),
        }

    ids = c.rater_ids.tolist()
    pool_names = sorted({name for rid in ids for name in data.raters.pools.get(rid, [])})
    pools = {
        name: np.array([name in data.raters.pools.get(rid, []) for rid in ids], dtype=bool)
        for name in pool_names
    }
    demographic_keys = sorted({k for rid in ids for k in data.raters.demographics.get(rid, {})})
    groups = {}
    for key in demographic_keys:
        values = {str(data.raters.demographics.get(rid, {}).get(key)) for rid in ids}
        values.discard("None")
        groups[key] = compare(
            {
                value: np.array(
                    [str(data.raters.demographics.get(rid, {}).get(key)) == value for rid in ids],
                    dtype=bool,
                )
                for value in values
            }
        )

    consensus_figures = consensus.result()
    background.shutdown()
    everyone = np.ones(c.n_raters, dtype=bool)
    campaign_level = pooled(everyone) if c.n_raters else {}
    if c.n_raters:
        campaign_level["length_bias"].update(
            slope=_clean(float(len_ref[1])), slope_se=_clean(float(len_ref[2]))
        )
    return {
        "generated_at": datetime.now(tz=UTC).isoformat(),
        "judgments": int(c.n_judgments),
        "pairs": int(c.p.judgment.size),
        "raters": len(rows),
        "settings": {
            **asdict(settings),
            "reading_floor_ms_per_char": data.reading_floor_ms_per_char,
            "gold_threshold": data.gold_threshold,
            "gold_min_items": data.gold_min_items,
            "loo_reference": _clean(float(loo_ref)),
            "length_slope_reference": _clean(float(len_ref[0])),
        },
        "agreement": _agreement(c, settings),
        "consensus": consensus_figures,
        "over_time": _over_time(c, settings),
        "campaign": campaign_level,
        "pools": compare(pools),
        "demographics": groups,
        "rater_rows": rows,
        "flagged_raters": [row["rater_id"] for row in rows if row["flags"]],
    }
